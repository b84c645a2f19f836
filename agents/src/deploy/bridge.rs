//! One front-end connection: client events in, `AgentInput` calls out;
//! `AgentEvent`s in, server events out.
//!
//! The bridge owns at most one session at a time. It never fails: every
//! problem with a client event becomes a `server_error` event and the
//! connection (and the session, if there is one) carries on.

use super::error::ClientFault;
use super::registry::{Registration, SessionInfo};
use super::server::DeployConfig;
use super::wire::{
    AgentTag, AudioFormat, ClientEvent, ServerBody, ServerEvent, SessionCreateConfig, ToolResult,
    ToolUse,
};
use crate::realtime::{AgentConfig, AgentEvent, AgentInput, RealtimeAgent};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use understudy_adapters::Pcm;

/// The agent name used when `config.agent_name` is absent.
pub const DEFAULT_AGENT_NAME: &str = "Friday";

/// A live session on this connection.
struct Live {
    agent: RealtimeAgent,
    input: AgentInput,
    tag: AgentTag,
    /// The response the agent is answering in, for events that do not name
    /// it (tool calls).
    response_id: Option<String>,
    /// What the user has put in since their turn last ended.
    turn: TurnInput,
    _registration: Registration,
}

/// What the user has put in since their turn last ended, which decides what
/// `client_response_create` (and `client_audio_commit`) must still do.
///
/// AgentScope's front end ends a typed turn with `client_text_append` then
/// `client_response_create`. The agent already answers a text by itself, so
/// committing then would hit an empty audio buffer and a response that is
/// already running; after a text the request is satisfied, not repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TurnInput {
    /// Nothing since the last turn ended: a request commits (and the
    /// provider says what it thinks of an empty turn).
    #[default]
    Nothing,
    /// Audio waits in the provider's buffer: a request commits it.
    Audio,
    /// A text went to the agent, which is already answering it.
    Text,
    /// A text was refused (the dialect takes none): the turn has nothing to
    /// answer, so a request for it is a no-op.
    RefusedText,
}

impl TurnInput {
    /// Whether ending the turn must still commit and ask for an answer.
    fn needs_commit(self) -> bool {
        matches!(self, TurnInput::Nothing | TurnInput::Audio)
    }
}

/// One connection's state.
pub(crate) struct Bridge {
    user_id: String,
    session_id: String,
    config: Arc<DeployConfig>,
    live: Option<Live>,
}

impl Bridge {
    pub(crate) fn new(user_id: String, session_id: String, config: Arc<DeployConfig>) -> Self {
        Bridge {
            user_id,
            session_id,
            config,
            live: None,
        }
    }

    /// Handles one text frame from the front end; returns what to send back.
    pub(crate) async fn on_text(&mut self, text: &str) -> Vec<ServerEvent> {
        let (event, event_type) = match ClientEvent::parse(text) {
            Ok(parsed) => parsed,
            Err(error) => return vec![ClientFault::from(error).event()],
        };
        match self.on_event(event, &event_type).await {
            Ok(events) => events,
            Err(fault) => vec![fault.about(event_type).event()],
        }
    }

    async fn on_event(
        &mut self,
        event: ClientEvent,
        event_type: &str,
    ) -> Result<Vec<ServerEvent>, ClientFault> {
        if let ClientEvent::SessionCreate { config } = event {
            return self.create(config).await;
        }
        if event == ClientEvent::Unknown {
            return Err(ClientFault::new(
                "unknown_event",
                format!("`{event_type}` is not an event of this vocabulary"),
            ));
        }
        let Some(live) = &self.live else {
            return Err(ClientFault::new(
                "session_not_created",
                format!("`{event_type}` before `client_session_create`: send that first"),
            ));
        };
        // A failed send means the agent has stopped; its last events (and
        // then `server_session_ended`) are on their way.
        let stopped = |_| {
            ClientFault::new(
                "session_ended",
                "the session's agent has stopped; create a new session",
            )
        };
        let input = live.input.clone();
        let text_input = live.agent.capabilities().text_input;
        let dialect = live.agent.capabilities().dialect.clone();
        match event {
            ClientEvent::AudioAppend { audio, format, .. } => {
                let (pcm, rate) = self.decode_audio(&audio, format.as_ref())?;
                input.audio(pcm, rate).await.map_err(stopped)?;
                self.set_turn(TurnInput::Audio);
            }
            ClientEvent::TextAppend { text, .. } => {
                if !text_input {
                    // Refused here, once, rather than by the agent (an
                    // `agent_error`) and again by the provider on the commit
                    // a following `client_response_create` would send.
                    if live.turn == TurnInput::Nothing {
                        self.set_turn(TurnInput::RefusedText);
                    }
                    return Err(ClientFault::new(
                        "unsupported_input",
                        format!(
                            "{dialect} takes no text input: speak instead (`client_audio_append`); \
                             the text was not sent"
                        ),
                    ));
                }
                input.text(text).await.map_err(stopped)?;
                self.set_turn(TurnInput::Text);
            }
            ClientEvent::ImageAppend { image, format, .. } => {
                let bytes = Pcm::from_base64(&image).map_err(|e| {
                    ClientFault::new("invalid_payload", format!("`image` is not base64: {e}"))
                })?;
                input
                    .image(image_mime(format.as_ref()), bytes.0)
                    .await
                    .map_err(stopped)?;
            }
            ClientEvent::AudioCommit { .. } | ClientEvent::ResponseCreate { .. } => {
                let turn = self.set_turn(TurnInput::Nothing);
                if turn.needs_commit() {
                    input.commit().await.map_err(stopped)?
                }
            }
            ClientEvent::ResponseCancel { .. } => input.interrupt().await.map_err(stopped)?,
            ClientEvent::SessionEnd { .. } => {
                // `agent_ended` and `server_session_ended` follow from the agent.
                input.close().await.map_err(stopped)?
            }
            ClientEvent::ToolResult { .. } => {
                return Err(ClientFault::new(
                    "unsupported_event",
                    "tools run in this server's agent; front-end tool results are not taken",
                ))
            }
            ClientEvent::SessionCreate { .. } | ClientEvent::Unknown => unreachable!(),
        }
        Ok(Vec::new())
    }

    /// Records what the user's turn now holds; returns what it held.
    fn set_turn(&mut self, turn: TurnInput) -> TurnInput {
        match &mut self.live {
            Some(live) => std::mem::replace(&mut live.turn, turn),
            None => TurnInput::Nothing,
        }
    }

    fn decode_audio(
        &self,
        audio: &str,
        format: Option<&AudioFormat>,
    ) -> Result<(Vec<u8>, u32), ClientFault> {
        if let Some(kind) = format.and_then(|f| f.kind.as_deref()) {
            if !kind.to_ascii_lowercase().contains("pcm") {
                return Err(ClientFault::new(
                    "invalid_payload",
                    format!("audio format `{kind}` is not supported: send audio/pcm (PCM16 mono)"),
                ));
            }
        }
        let rate = format
            .and_then(|f| f.rate)
            .unwrap_or(self.config.default_input_rate);
        if !(8_000..=96_000).contains(&rate) {
            return Err(ClientFault::new(
                "invalid_payload",
                format!("audio rate {rate} Hz is out of range (8000 to 96000)"),
            ));
        }
        let pcm = Pcm::from_base64(audio)
            .map_err(|e| {
                ClientFault::new("invalid_payload", format!("`audio` is not base64: {e}"))
            })?
            .0;
        if pcm.len() % 2 != 0 {
            return Err(ClientFault::new(
                "invalid_payload",
                format!("`audio` is {} bytes: PCM16 needs an even count", pcm.len()),
            ));
        }
        Ok((pcm, rate))
    }

    async fn create(
        &mut self,
        config: SessionCreateConfig,
    ) -> Result<Vec<ServerEvent>, ClientFault> {
        if self.live.is_some() {
            return Err(ClientFault::new(
                "session_exists",
                "this connection already has a session; end it with `client_session_end` first",
            ));
        }
        let choice = self
            .config
            .providers
            .choose(config.model_provider.as_deref(), config.model.as_deref())?;
        let tag = AgentTag {
            agent_id: new_agent_id(),
            agent_name: config
                .agent_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_AGENT_NAME.into()),
        };
        let registration = self.config.registry.register(SessionInfo {
            user_id: self.user_id.clone(),
            session_id: self.session_id.clone(),
            agent_id: tag.agent_id.clone(),
            agent_name: tag.agent_name.clone(),
            provider: choice.provider,
            model: choice.model.clone(),
        })?;
        let mut agent_config: AgentConfig = self.config.agent.clone();
        agent_config.session = choice.session;
        agent_config.session.instructions = config
            .instructions
            .filter(|i| !i.trim().is_empty())
            .or_else(|| self.config.agent.session.instructions.clone());
        agent_config.session.voice = config
            .voice
            .or_else(|| self.config.agent.session.voice.clone());
        agent_config.output_sample_rate = Some(self.config.output_sample_rate);
        let started = tokio::time::timeout(
            self.config.connect_timeout,
            RealtimeAgent::start(choice.connector, agent_config, self.config.tools.clone()),
        )
        .await;
        let agent = match started {
            Ok(Ok(agent)) => agent,
            Ok(Err(error)) => {
                return Err(ClientFault::provider(
                    "provider_unavailable",
                    format!("{}: {error}", choice.provider),
                ))
            }
            Err(_) => {
                return Err(ClientFault::provider(
                    "provider_unavailable",
                    format!(
                        "{}: no connection within {:?}",
                        choice.provider, self.config.connect_timeout
                    ),
                ))
            }
        };
        tracing::info!(
            user = %self.user_id, session = %self.session_id, agent = %tag.agent_id,
            provider = %choice.provider, model = %choice.model, "session created"
        );
        self.live = Some(Live {
            input: agent.input(),
            agent,
            tag,
            response_id: None,
            turn: TurnInput::Nothing,
            _registration: registration,
        });
        Ok(vec![ServerEvent::server(
            ServerBody::ServerSessionCreated {
                session_id: self.session_id.clone(),
                model_provider: choice.provider.name.into(),
            },
        )])
    }

    /// The next event of the session's agent; pending while there is no
    /// session. `None` when the agent has stopped (the session is then gone).
    pub(crate) async fn next_agent_event(&mut self) -> Option<AgentEvent> {
        match &mut self.live {
            Some(live) => live.agent.next_event().await,
            None => std::future::pending().await,
        }
    }

    /// What the front end hears of one agent event; `None` (the agent has
    /// stopped) ends the session.
    pub(crate) fn on_agent_event(&mut self, event: Option<AgentEvent>) -> Vec<ServerEvent> {
        let Some(event) = event else {
            self.live = None;
            return vec![ServerEvent::server(ServerBody::ServerSessionEnded {
                session_id: self.session_id.clone(),
            })];
        };
        let Some(live) = &mut self.live else {
            return Vec::new();
        };
        translate(event, &mut live.response_id, self.config.output_sample_rate)
            .into_iter()
            .map(|body| ServerEvent {
                body,
                agent: Some(live.tag.clone()),
            })
            .collect()
    }

    /// The front end went away: stop the agent.
    pub(crate) async fn close(mut self) {
        if let Some(live) = self.live.take() {
            live.agent.close().await;
        }
    }

    /// The session on this connection, if any (for logs).
    pub(crate) fn has_session(&self) -> bool {
        self.live.is_some()
    }
}

fn image_mime(format: Option<&Value>) -> String {
    let named = match format {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => ["mime_type", "type", "media_type", "format"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str)),
        _ => None,
    };
    match named {
        Some(m) if m.contains('/') => m.to_owned(),
        Some(m) if !m.is_empty() => format!("image/{}", m.to_ascii_lowercase()),
        _ => "image/jpeg".into(),
    }
}

fn new_agent_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("agent_{nanos:08x}{n:04x}")
}

/// The vocabulary's rendering of one agent event (bodies only; the caller
/// tags them with the agent). `response_id` tracks the response in progress.
pub fn translate(
    event: AgentEvent,
    response_id: &mut Option<String>,
    output_rate: u32,
) -> Vec<ServerBody> {
    let body = match event {
        AgentEvent::SessionReady { .. } => ServerBody::AgentReady,
        AgentEvent::Disconnected { reason } => ServerBody::AgentError {
            error_type: "connection_error".into(),
            code: "disconnected".into(),
            message: reason,
        },
        AgentEvent::Reconnecting { attempt, delay_ms } => {
            ServerBody::AgentReconnecting { attempt, delay_ms }
        }
        AgentEvent::Reconnected {
            attempt, resumed, ..
        } => ServerBody::AgentReconnected { attempt, resumed },
        // The AgentScope vocabulary has no word for it; the front end sees
        // the session continue (SessionReady / Reconnected are translated).
        AgentEvent::SessionSwitched { .. } => return Vec::new(),
        // Nor for a call run in the background or the model's interaction
        // status (its tool calls and responses are translated as they come).
        AgentEvent::ToolCallInBackground { .. } | AgentEvent::InteractionStatus { .. } => {
            return Vec::new()
        }
        AgentEvent::InputDropped { audio_ms } => ServerBody::AgentError {
            error_type: "warning".into(),
            code: "input_dropped".into(),
            message: format!("{audio_ms} ms of user audio dropped while reconnecting"),
        },
        AgentEvent::Closed { reason } => ServerBody::AgentEnded { reason },
        AgentEvent::UserSpeechStarted { item_id } => ServerBody::AgentInputStarted {
            item_id,
            audio_start_ms: 0,
        },
        AgentEvent::UserSpeechStopped { item_id } => ServerBody::AgentInputDone {
            item_id,
            audio_end_ms: 0,
        },
        AgentEvent::UserTranscriptDelta { item_id, delta } => {
            ServerBody::AgentInputTranscriptionDelta { item_id, delta }
        }
        AgentEvent::UserTranscript { item_id, text } => ServerBody::AgentInputTranscriptionDone {
            item_id,
            transcript: text,
        },
        AgentEvent::ResponseStarted { response_id: id } => {
            *response_id = Some(id.clone());
            ServerBody::AgentResponseCreated { response_id: id }
        }
        AgentEvent::Audio {
            response_id,
            item_id,
            pcm,
            sample_rate,
        } => ServerBody::AgentResponseAudioDelta {
            response_id,
            item_id,
            delta: pcm,
            format: AudioFormat {
                kind: Some("audio/pcm".into()),
                rate: Some(if sample_rate == 0 {
                    output_rate
                } else {
                    sample_rate
                }),
            },
        },
        AgentEvent::AudioDone {
            response_id,
            item_id,
        } => ServerBody::AgentResponseAudioDone {
            response_id,
            item_id,
        },
        AgentEvent::TranscriptDelta {
            response_id,
            item_id,
            delta,
        } => ServerBody::AgentResponseAudioTranscriptDelta {
            response_id,
            item_id,
            delta,
        },
        AgentEvent::TranscriptDone {
            response_id,
            item_id,
            text,
        } => ServerBody::AgentResponseAudioTranscriptDone {
            response_id,
            item_id,
            transcript: text,
        },
        AgentEvent::ResponseDone {
            response_id: id,
            status,
        } => {
            if response_id.as_deref() == Some(id.as_str()) {
                *response_id = None;
            }
            let mut metadata = Map::new();
            metadata.insert(
                "status".into(),
                serde_json::to_value(status).unwrap_or(Value::Null),
            );
            ServerBody::AgentResponseDone {
                response_id: id,
                input_tokens: 0,
                output_tokens: 0,
                metadata,
            }
        }
        AgentEvent::Interrupted {
            response_id,
            item_id,
            played_ms,
        } => ServerBody::AgentInterrupted {
            response_id,
            item_id,
            played_ms,
        },
        AgentEvent::ToolCallStarted {
            call_id,
            name,
            arguments,
        } => ServerBody::AgentResponseToolUseDone {
            response_id: response_id.clone().unwrap_or_default(),
            item_id: call_id.clone(),
            tool_use: ToolUse {
                kind: "tool_use",
                id: call_id,
                name,
                input: serde_json::from_str::<Value>(&arguments)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| Value::Object(Map::new())),
                raw_input: arguments,
            },
        },
        AgentEvent::ToolCallFinished {
            call_id,
            name,
            output,
            is_error,
        } => ServerBody::AgentResponseToolResult {
            tool_result: ToolResult {
                kind: "tool_result",
                id: call_id,
                name,
                output,
                is_error,
            },
        },
        AgentEvent::ToolCallCancelled { call_id } => {
            ServerBody::AgentResponseToolCancelled { id: call_id }
        }
        AgentEvent::Error {
            code,
            message,
            fatal,
        } => ServerBody::AgentError {
            error_type: if fatal { "fatal_error" } else { "model_error" }.into(),
            code,
            message,
        },
    };
    vec![body]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use understudy_adapters::ResponseStatus;

    fn json_of(body: ServerBody) -> Value {
        serde_json::to_value(ServerEvent::server(body)).unwrap()
    }

    #[test]
    fn agent_events_become_the_vocabulary() {
        let mut current = None;
        let mut out = |e| {
            let mut bodies = translate(e, &mut current, 24_000);
            assert_eq!(bodies.len(), 1);
            json_of(bodies.remove(0))
        };
        assert_eq!(
            out(AgentEvent::SessionReady {
                session_id: Some("p".into()),
                connection: 1
            }),
            json!({"type": "agent_ready"})
        );
        assert_eq!(
            out(AgentEvent::ResponseStarted {
                response_id: "r1".into()
            }),
            json!({"type": "agent_response_created", "response_id": "r1"})
        );
        assert_eq!(
            out(AgentEvent::ToolCallStarted {
                call_id: "c".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            }),
            json!({"type": "agent_response_tool_use_done", "response_id": "r1", "item_id": "c",
                   "tool_use": {"type": "tool_use", "id": "c", "name": "get_weather",
                                "input": {"city": "Paris"}, "raw_input": "{\"city\":\"Paris\"}"}})
        );
        assert_eq!(
            out(AgentEvent::ResponseDone {
                response_id: "r1".into(),
                status: ResponseStatus::Cancelled
            }),
            json!({"type": "agent_response_done", "response_id": "r1", "input_tokens": 0,
                   "output_tokens": 0, "metadata": {"status": "cancelled"}})
        );
        assert_eq!(
            out(AgentEvent::UserTranscript {
                item_id: "u".into(),
                text: "hi".into()
            }),
            json!({"type": "agent_input_transcription_done", "item_id": "u", "transcript": "hi"})
        );
        assert_eq!(
            out(AgentEvent::Error {
                code: "unsupported_input".into(),
                message: "no text".into(),
                fatal: false
            }),
            json!({"type": "agent_error", "error_type": "model_error",
                   "code": "unsupported_input", "message": "no text"})
        );
    }

    #[test]
    fn image_formats_name_a_mime_type() {
        assert_eq!(image_mime(None), "image/jpeg");
        assert_eq!(image_mime(Some(&json!({"type": "image/png"}))), "image/png");
        assert_eq!(image_mime(Some(&json!({"format": "PNG"}))), "image/png");
        assert_eq!(image_mime(Some(&json!("image/webp"))), "image/webp");
    }
}
