//! What each model event means for the agent: session state for
//! `connection`, answers forwarded to the front end (except those a barge-in
//! cut), user turns into the transcript, calls for `tool_calls`, and
//! interruptions for `barge_in`.

use super::barge_in::Trigger;
use super::connection::acknowledges_setup;
use super::runner::Runner;
use crate::realtime::events::AgentEvent;
use tokio::time::Instant;
use understudy_adapters::{ModelEvent, TimedEvent};

impl Runner {
    /// Handles one event of the model session; `received_at` (when its frame
    /// arrived) is what latency figures are measured to.
    pub(super) async fn on_model_event(&mut self, timed: TimedEvent) {
        let TimedEvent {
            event, received_at, ..
        } = timed;
        // New handles and answered turns, for a later resumption.
        self.handover.on_event(&event);
        match event {
            ModelEvent::SessionCreated { .. } | ModelEvent::SessionUpdated { .. } => {
                let acknowledged = acknowledges_setup(&self.caps, &event);
                if let ModelEvent::SessionCreated {
                    session_id,
                    expires_at,
                    ..
                } = event
                {
                    self.conn.session_id = Some(session_id);
                    if let Some(expires_at) = expires_at {
                        self.on_expiry_announced(expires_at);
                    }
                }
                if acknowledged && !self.conn.ready {
                    self.on_ready(Instant::from_std(received_at)).await;
                }
            }
            ModelEvent::SessionEnded { reason, close_code } => {
                let reason = match close_code {
                    Some(code) => format!("{reason} (close {code})"),
                    None => reason,
                };
                self.on_session_ended(reason).await;
            }
            ModelEvent::GoAway { time_left_ms } => self.on_go_away(time_left_ms),
            ModelEvent::ResumptionHandle { .. } => {} // noted by `handover` above
            ModelEvent::SpeechStarted { item_id, .. } => {
                self.emit(AgentEvent::UserSpeechStarted { item_id });
                self.calls.block_follow_up();
                if self.config.barge_in {
                    self.barge_in(Trigger::Speech).await;
                }
            }
            ModelEvent::SpeechStopped { item_id, .. } => {
                self.emit(AgentEvent::UserSpeechStopped { item_id });
            }
            ModelEvent::InputCommitted { item_id } => self.transcript().user_pending(&item_id),
            ModelEvent::InputCleared => {}
            ModelEvent::InputTranscriptDelta { item_id, delta } => {
                self.emit(AgentEvent::UserTranscriptDelta { item_id, delta });
            }
            ModelEvent::InputTranscriptDone {
                item_id,
                transcript,
            } => {
                self.transcript().user_heard(&item_id, &transcript);
                self.emit(AgentEvent::UserTranscript {
                    item_id,
                    text: transcript,
                });
            }
            ModelEvent::InputTranscriptFailed { item_id, error } => {
                tracing::warn!(%item_id, %error, "the provider could not transcribe a user turn");
            }
            ModelEvent::ResponseCreated { response_id } => {
                self.answers.started(&response_id);
                self.emit(AgentEvent::ResponseStarted { response_id });
            }
            ModelEvent::AudioDelta {
                response_id,
                item_id,
                pcm,
                sample_rate,
            } => self.on_audio(response_id, item_id, pcm, sample_rate),
            ModelEvent::AudioDone {
                response_id,
                item_id,
                ..
            } => {
                if !self.answers.suppressed(&response_id) {
                    self.emit(AgentEvent::AudioDone {
                        response_id,
                        item_id,
                    });
                }
            }
            ModelEvent::TranscriptDelta {
                response_id,
                item_id,
                delta,
                ..
            }
            | ModelEvent::TextDelta {
                response_id,
                item_id,
                delta,
                ..
            } => {
                if self.answers.suppressed(&response_id) {
                    return;
                }
                let at = self.answers.delivered_ms(&item_id);
                self.transcript()
                    .agent_delta(&response_id, &item_id, &delta, at);
                self.emit(AgentEvent::TranscriptDelta {
                    response_id,
                    item_id,
                    delta,
                });
            }
            ModelEvent::TranscriptDone {
                response_id,
                item_id,
                transcript,
                ..
            }
            | ModelEvent::TextDone {
                response_id,
                item_id,
                text: transcript,
                ..
            } => {
                if self.answers.suppressed(&response_id) {
                    return;
                }
                self.transcript()
                    .agent_done(&response_id, &item_id, &transcript);
                self.emit(AgentEvent::TranscriptDone {
                    response_id,
                    item_id,
                    text: transcript,
                });
            }
            ModelEvent::ToolCallDelta { .. } => {}
            ModelEvent::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => self.on_tool_call(call_id, name, arguments),
            ModelEvent::ToolCallCancelled { call_ids } => self.on_tool_calls_cancelled(call_ids),
            ModelEvent::Interrupted { .. } => self.barge_in(Trigger::Provider).await,
            ModelEvent::Truncated {
                item_id,
                audio_end_ms,
            } => {
                tracing::debug!(%item_id, audio_end_ms, "the provider truncated an item");
            }
            ModelEvent::ResponseDone {
                response_id,
                status,
                ..
            } => {
                self.answers.done(&response_id);
                self.emit(AgentEvent::ResponseDone {
                    response_id,
                    status,
                });
                // The response's usage, if counted, follows as its own event.
                self.on_context_grown(None);
                self.maybe_follow_up().await;
            }
            ModelEvent::Usage { usage, .. } => self.on_context_grown(context_tokens(&usage)),
            ModelEvent::PlaybackStarted { response_id }
            | ModelEvent::PlaybackStopped { response_id } => {
                // The provider plays the audio itself (WebRTC/SIP); this agent
                // streams audio over its own connection and has nothing to do.
                tracing::debug!(%response_id, "provider-side playback event");
            }
            ModelEvent::Grounding { response_id, .. } => {
                tracing::debug!(?response_id, "the answer was grounded");
            }
            ModelEvent::Error(info) => {
                tracing::warn!(code = %info.code, message = %info.message, "provider error");
                self.emit(AgentEvent::Error {
                    code: info.code,
                    message: info.message,
                    fatal: info.fatal,
                });
            }
            ModelEvent::Unrecognized { provider_type } => {
                tracing::debug!(%provider_type, "unrecognised provider event");
            }
        }
    }
}

/// How big the context was, by a usage report: every response's input is the
/// whole conversation so far, plus what it added.
fn context_tokens(usage: &understudy_adapters::Usage) -> Option<u64> {
    usage
        .total_tokens
        .or(match (usage.input_tokens, usage.output_tokens) {
            (None, None) => None,
            (input, output) => Some(input.unwrap_or(0) + output.unwrap_or(0)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::Usage;

    #[test]
    fn the_context_is_the_total_else_input_plus_output() {
        let total = Usage {
            input_tokens: Some(10),
            output_tokens: Some(5),
            total_tokens: Some(40),
            ..Usage::default()
        };
        assert_eq!(context_tokens(&total), Some(40));
        let parts = Usage {
            input_tokens: Some(10),
            output_tokens: None,
            ..Usage::default()
        };
        assert_eq!(context_tokens(&parts), Some(10));
        assert_eq!(context_tokens(&Usage::default()), None, "nothing counted");
    }
}
