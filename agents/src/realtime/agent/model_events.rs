//! What each model event means for the agent: [`react`] turns it into a
//! [`Reaction`] (session state for `connection`, answers forwarded to the
//! front end unless a barge-in cut them, user turns into the transcript,
//! calls for `tool_calls`, interruptions for `barge_in`), and the runner
//! carries that out.

use super::connection::acknowledges_setup;
use crate::realtime::events::AgentEvent;
use understudy_adapters::event::InteractionState;
use understudy_adapters::{Capabilities, ModelEvent, Pcm, ResponseStatus};

/// What one model event asks of the agent.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Reaction {
    /// Nothing (the event was only logged, or noted by the handover).
    Nothing,
    /// The provider opened or reconfigured the session.
    Session {
        /// The provider's session id, where this event carries one.
        session_id: Option<String>,
        /// When the provider will end the session (unix seconds).
        expires_at: Option<i64>,
        /// The event acknowledges the session configuration.
        acknowledged: bool,
    },
    /// The session is over, for this reason.
    Ended(String),
    /// The provider will close the connection in this many milliseconds.
    GoAway(Option<u64>),
    /// Tell the front end this, and nothing else.
    Emit(AgentEvent),
    /// The user started talking: tell the front end, hold the follow-up,
    /// and cut the agent off if `barge_in`.
    SpeechStarted {
        /// The user's item.
        item_id: String,
        /// Talking over the agent cuts it off.
        barge_in: bool,
    },
    /// The user's turn was committed: its transcript entry waits for text.
    InputCommitted(String),
    /// The user's turn was transcribed: into the transcript and to the
    /// front end.
    UserHeard {
        /// The user's item.
        item_id: String,
        /// What was heard.
        text: String,
    },
    /// A response started.
    ResponseStarted(String),
    /// Audio of an answer, for the front end unless the answer was cut.
    Audio {
        /// The response it belongs to.
        response_id: String,
        /// The item it belongs to.
        item_id: String,
        /// The samples.
        pcm: Pcm,
        /// Their rate.
        sample_rate: u32,
    },
    /// Part of the answer `response_id` for the front end (and, for its
    /// text, the transcript), unless that response was cut.
    Answer {
        /// The response it belongs to.
        response_id: String,
        /// What the front end hears.
        event: AgentEvent,
    },
    /// The model called a tool.
    ToolCall {
        /// The call's id.
        call_id: String,
        /// The tool.
        name: String,
        /// Its arguments (JSON).
        arguments: String,
    },
    /// The provider withdrew these calls.
    ToolCallsCancelled(Vec<String>),
    /// The model runs this call in the background (non-blocking): the
    /// conversation goes on while it runs.
    ToolCallInBackground(String),
    /// The model reported whether it is still working for the user.
    InteractionStatus(InteractionState),
    /// The provider cut the answer off (the user talked over it).
    Interrupted,
    /// A response ended.
    ResponseDone {
        /// The response.
        response_id: String,
        /// How it ended.
        status: ResponseStatus,
    },
    /// The provider counted usage: the context grew (to this many tokens,
    /// where it says).
    ContextGrown(Option<u64>),
}

/// What `event` asks of an agent whose session speaks with `caps` (and cuts
/// the agent off when the user talks over it if `barge_in`). Events with
/// nothing to do are logged here.
pub(super) fn react(event: ModelEvent, caps: &Capabilities, barge_in: bool) -> Reaction {
    let event_kind = event.kind();
    let acknowledged = acknowledges_setup(caps, &event);
    match event {
        ModelEvent::SessionCreated {
            session_id,
            expires_at,
            ..
        } => Reaction::Session {
            session_id: Some(session_id),
            expires_at,
            acknowledged,
        },
        ModelEvent::SessionUpdated { .. } => Reaction::Session {
            session_id: None,
            expires_at: None,
            acknowledged,
        },
        ModelEvent::SessionEnded { reason, close_code } => Reaction::Ended(match close_code {
            Some(code) => format!("{reason} (close {code})"),
            None => reason,
        }),
        ModelEvent::GoAway { time_left_ms } => Reaction::GoAway(time_left_ms),
        ModelEvent::ResumptionHandle { .. } => Reaction::Nothing, // noted by `handover`
        // Where turns are inferred, the user starting to talk over the
        // model may be a backchannel: the model decides, and the adapter's
        // inferred `Interrupted` says when it stopped.
        ModelEvent::SpeechStarted { item_id, .. } => Reaction::SpeechStarted {
            item_id,
            barge_in: barge_in && !caps.inferred_turns,
        },
        ModelEvent::SpeechStopped { item_id, .. } => {
            Reaction::Emit(AgentEvent::UserSpeechStopped { item_id })
        }
        ModelEvent::InputCommitted { item_id } => Reaction::InputCommitted(item_id),
        ModelEvent::InputCleared => Reaction::Nothing,
        ModelEvent::InputTranscriptDelta { item_id, delta } => {
            Reaction::Emit(AgentEvent::UserTranscriptDelta { item_id, delta })
        }
        ModelEvent::InputTranscriptDone {
            item_id,
            transcript,
        } => Reaction::UserHeard {
            item_id,
            text: transcript,
        },
        ModelEvent::InputTranscriptFailed { item_id, error } => {
            tracing::warn!(%item_id, %error, "the provider could not transcribe a user turn");
            Reaction::Nothing
        }
        ModelEvent::ResponseCreated { response_id } => Reaction::ResponseStarted(response_id),
        ModelEvent::AudioDelta {
            response_id,
            item_id,
            pcm,
            sample_rate,
        } => Reaction::Audio {
            response_id,
            item_id,
            pcm,
            sample_rate,
        },
        ModelEvent::AudioDone {
            response_id,
            item_id,
            ..
        } => Reaction::Answer {
            response_id: response_id.clone(),
            event: AgentEvent::AudioDone {
                response_id,
                item_id,
            },
        },
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
        } => Reaction::Answer {
            response_id: response_id.clone(),
            event: AgentEvent::TranscriptDelta {
                response_id,
                item_id,
                delta,
            },
        },
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
        } => Reaction::Answer {
            response_id: response_id.clone(),
            event: AgentEvent::TranscriptDone {
                response_id,
                item_id,
                text: transcript,
            },
        },
        ModelEvent::ToolCallDelta { .. } => Reaction::Nothing,
        ModelEvent::ToolCall {
            call_id,
            name,
            arguments,
            ..
        } => Reaction::ToolCall {
            call_id,
            name,
            arguments,
        },
        ModelEvent::ToolCallCancelled { call_ids } => Reaction::ToolCallsCancelled(call_ids),
        ModelEvent::Interrupted { .. } => Reaction::Interrupted,
        ModelEvent::Truncated {
            item_id,
            audio_end_ms,
        } => {
            tracing::debug!(%item_id, audio_end_ms, "the provider truncated an item");
            Reaction::Nothing
        }
        ModelEvent::ResponseDone {
            response_id,
            status,
            ..
        } => Reaction::ResponseDone {
            response_id,
            status,
        },
        ModelEvent::Usage { usage, .. } => Reaction::ContextGrown(context_tokens(&usage)),
        ModelEvent::PlaybackStarted { response_id }
        | ModelEvent::PlaybackStopped { response_id } => {
            // The provider plays the audio itself (WebRTC/SIP); this agent
            // streams audio over its own connection and has nothing to do.
            tracing::debug!(%response_id, "provider-side playback event");
            Reaction::Nothing
        }
        ModelEvent::Grounding { response_id, .. } => {
            tracing::debug!(?response_id, "the answer was grounded");
            Reaction::Nothing
        }
        ModelEvent::Error(info) => {
            tracing::warn!(code = %info.code, message = %info.message, "provider error");
            Reaction::Emit(AgentEvent::Error {
                code: info.code,
                message: info.message,
                fatal: info.fatal,
            })
        }
        ModelEvent::Unrecognized { provider_type } => {
            tracing::debug!(%provider_type, "unrecognised provider event");
            Reaction::Nothing
        }
        // GPT-Live's delegation, pause and billing reports. A client
        // delegation also arrives as a `ToolCall`, which the agent runs; these
        // carry what a tool call cannot say, which this agent does not use yet.
        ModelEvent::DelegationCreated {
            delegation_id,
            target,
            offset_ms,
            ..
        } => {
            tracing::debug!(%delegation_id, %target, offset_ms, "the model delegated work");
            Reaction::Nothing
        }
        ModelEvent::DelegationResult {
            delegation_id,
            status,
            ..
        } => {
            tracing::debug!(%delegation_id, ?status, "delegated work ended");
            Reaction::Nothing
        }
        ModelEvent::ToolCallNonBlocking { call_id, .. } => Reaction::ToolCallInBackground(call_id),
        ModelEvent::InteractionStatus { status, .. } => Reaction::InteractionStatus(status),
        // Gemini 3.8's reasoning (never spoken) and interim transcripts (the
        // settled one follows): reported by the adapter, not used by this agent.
        ModelEvent::ThoughtDelta { .. } | ModelEvent::InputTranscriptInterim { .. } => {
            tracing::debug!(kind = event_kind, "not used by this agent");
            Reaction::Nothing
        }
        ModelEvent::SessionPaused => {
            tracing::info!("the provider paused inference (idle)");
            Reaction::Nothing
        }
        ModelEvent::SessionResumed => {
            tracing::info!("the provider resumed inference");
            Reaction::Nothing
        }
        // Qwen-Audio's speech that is not a turn: ambient transcripts never
        // reach the conversation (and never cut the agent off), a withdrawn
        // turn gets no answer, and voiceprint progress is informational.
        ModelEvent::AmbientTranscript { item_id, done, .. } => {
            tracing::debug!(%item_id, done, "ambient speech (not a turn)");
            Reaction::Nothing
        }
        ModelEvent::TurnWithdrawn { item_id } => {
            tracing::debug!(%item_id, "the provider withdrew a user turn");
            Reaction::Nothing
        }
        ModelEvent::VoiceprintStatus {
            task_id,
            state,
            reason,
        } => {
            tracing::info!(%task_id, ?state, ?reason, "voiceprint registration");
            Reaction::Nothing
        }
        ModelEvent::SessionUsage {
            seconds,
            context_usage_ratio,
            final_report,
            ..
        } => {
            tracing::debug!(
                seconds,
                ?context_usage_ratio,
                final_report,
                "session time billed so far"
            );
            Reaction::Nothing
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

    /// A dialect that acknowledges configuration updates (OpenAI's).
    fn updating() -> Capabilities {
        let mut caps = understudy_adapters::gemini::capabilities();
        caps.session_updates = true;
        caps
    }

    #[test]
    fn the_session_events_carry_the_id_expiry_and_acknowledgement() {
        let created = ModelEvent::SessionCreated {
            session_id: "sess".into(),
            model: "m".into(),
            input_format: None,
            output_format: None,
            expires_at: Some(7),
        };
        assert_eq!(
            react(created, &updating(), true),
            Reaction::Session {
                session_id: Some("sess".into()),
                expires_at: Some(7),
                acknowledged: false,
            },
            "a dialect with updates acknowledges with SessionUpdated"
        );
        let updated = ModelEvent::SessionUpdated {
            input_format: None,
            output_format: None,
        };
        assert_eq!(
            react(updated, &updating(), true),
            Reaction::Session {
                session_id: None,
                expires_at: None,
                acknowledged: true,
            }
        );
    }

    #[test]
    fn an_ended_session_names_its_close_code() {
        let ended = ModelEvent::SessionEnded {
            reason: "bye".into(),
            close_code: Some(1000),
        };
        assert_eq!(
            react(ended, &updating(), true),
            Reaction::Ended("bye (close 1000)".into())
        );
    }

    #[test]
    fn speech_barges_in_only_where_configured() {
        let speech = || ModelEvent::SpeechStarted {
            item_id: "u1".into(),
            audio_start_ms: 0,
        };
        for barge_in in [true, false] {
            assert_eq!(
                react(speech(), &updating(), barge_in),
                Reaction::SpeechStarted {
                    item_id: "u1".into(),
                    barge_in,
                }
            );
        }
    }

    #[test]
    fn inferred_speech_never_cuts_the_agent_off_but_an_inferred_interruption_does() {
        let live = understudy_adapters::openai_live::capabilities("gpt-live-1");
        let speech = ModelEvent::SpeechStarted {
            item_id: "live_in_2".into(),
            audio_start_ms: 4_000,
        };
        assert_eq!(
            react(speech, &live, true),
            Reaction::SpeechStarted {
                item_id: "live_in_2".into(),
                barge_in: false,
            },
            "it may be a backchannel"
        );
        let interrupted = ModelEvent::Interrupted {
            response_id: Some("live_resp_1".into()),
        };
        assert_eq!(react(interrupted, &live, true), Reaction::Interrupted);
    }

    #[test]
    fn text_of_an_answer_is_gated_by_its_response() {
        let delta = ModelEvent::TextDelta {
            response_id: "r1".into(),
            item_id: "i1".into(),
            delta: "hi".into(),
            phase: None,
        };
        assert_eq!(
            react(delta, &updating(), true),
            Reaction::Answer {
                response_id: "r1".into(),
                event: AgentEvent::TranscriptDelta {
                    response_id: "r1".into(),
                    item_id: "i1".into(),
                    delta: "hi".into(),
                },
            }
        );
    }

    #[test]
    fn background_calls_and_interaction_status_reach_the_agent() {
        let background = ModelEvent::ToolCallNonBlocking {
            response_id: "r1".into(),
            call_id: "c1".into(),
        };
        assert_eq!(
            react(background, &updating(), true),
            Reaction::ToolCallInBackground("c1".into())
        );
        let status = ModelEvent::InteractionStatus {
            response_id: None,
            status: InteractionState::Idle,
        };
        assert_eq!(
            react(status, &updating(), true),
            Reaction::InteractionStatus(InteractionState::Idle)
        );
    }

    #[test]
    fn usage_is_the_contexts_growth() {
        let usage = ModelEvent::Usage {
            response_id: None,
            usage: Usage {
                total_tokens: Some(40),
                ..Usage::default()
            },
        };
        assert_eq!(
            react(usage, &updating(), true),
            Reaction::ContextGrown(Some(40))
        );
        assert_eq!(
            react(ModelEvent::InputCleared, &updating(), true),
            Reaction::Nothing
        );
    }

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
