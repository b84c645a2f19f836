//! The JSON vocabulary of AgentScope's realtime front end (its first voice
//! generation, AgentScope 1.0.x: the `client_*`, `server_*` and `agent_*`
//! events its example server and web page exchange) as serde types.
//!
//! Client events (`client_*`) come in as [`ClientEvent`]; anything whose
//! `type` is not in the table parses as [`ClientEvent::Unknown`] rather than
//! failing, so the bridge can answer it with an error and carry on.
//! [`ClientEvent::parse`] tells malformed JSON, a missing `type` and a bad
//! payload apart ([`WireError`]).
//!
//! Server events go out as [`ServerEvent`]: `server_*` events about the
//! session, `agent_*` events from the agent (which carry `agent_id` and
//! `agent_name`, as AgentScope's do), plus the few Understudy extensions
//! listed on [`ServerBody`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use understudy_adapters::Pcm;

/// The audio format object of the vocabulary (`AudioFormat{type, rate}`;
/// AgentScope allows extra fields and so do we).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioFormat {
    /// Media type, `audio/pcm` on this vocabulary.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Sample rate in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
}

/// `client_session_create`'s `config`. Only the three keys AgentScope's
/// example server reads are named; the rest are kept in `extra` (and
/// `voice` / `model` there are honoured).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SessionCreateConfig {
    /// System instructions for the agent.
    #[serde(default)]
    pub instructions: Option<String>,
    /// The agent's display name (echoed as `agent_name`).
    #[serde(default)]
    pub agent_name: Option<String>,
    /// `openai`, `dashscope` or `gemini`; none picks the server's default.
    #[serde(default)]
    pub model_provider: Option<String>,
    /// A voice name for the provider.
    #[serde(default)]
    pub voice: Option<String>,
    /// A model name overriding the provider's configured one; it may choose
    /// another of the provider's dialects (`gpt-live-1` → GPT-Live, by the
    /// registry's model prefixes).
    #[serde(default)]
    pub model: Option<String>,
    /// Every other key, ignored.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One event from the front end.
///
/// `session_id` is optional everywhere: AgentScope's schema has it on every
/// event after creation but its server never reads it, and neither do we
/// (the socket is the session).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    /// Must come first: opens the session and starts the agent.
    #[serde(rename = "client_session_create")]
    SessionCreate {
        /// The session's configuration.
        #[serde(default)]
        config: SessionCreateConfig,
    },
    /// Ends the session (the socket stays open for another).
    #[serde(rename = "client_session_end")]
    SessionEnd {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
    },
    /// Asks for an answer now (commits the user's turn).
    #[serde(rename = "client_response_create")]
    ResponseCreate {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
    },
    /// The stop button.
    #[serde(rename = "client_response_cancel")]
    ResponseCancel {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
    },
    /// A camera frame. The schema names the payload `image`; AgentScope's own
    /// front end sends it as `data` — both are accepted.
    #[serde(rename = "client_image_append")]
    ImageAppend {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
        /// Base64 image bytes.
        #[serde(alias = "data")]
        image: String,
        /// `{type|mime_type|format: "image/jpeg"…}`; JPEG when absent.
        #[serde(default)]
        format: Option<Value>,
    },
    /// A typed user message.
    #[serde(rename = "client_text_append")]
    TextAppend {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
        /// The text.
        text: String,
    },
    /// User audio: base64 PCM16 mono at `format.rate` (16 kHz when absent,
    /// what AgentScope's front end records).
    #[serde(rename = "client_audio_append")]
    AudioAppend {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
        /// Base64 PCM16 LE mono.
        audio: String,
        /// Its format.
        #[serde(default)]
        format: Option<AudioFormat>,
    },
    /// The user stopped talking (push-to-talk); answer now.
    #[serde(rename = "client_audio_commit")]
    AudioCommit {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
    },
    /// A front-end tool's result. Tools run in this server's agent, so this is
    /// refused with an error event (AgentScope drops it silently).
    #[serde(rename = "client_tool_result")]
    ToolResult {
        /// Ignored.
        #[serde(default)]
        session_id: Option<String>,
        /// The call.
        #[serde(default)]
        id: Option<String>,
        /// The tool.
        #[serde(default)]
        name: Option<String>,
        /// The output.
        #[serde(default)]
        output: Option<Value>,
    },
    /// Any other `type`.
    #[serde(other)]
    Unknown,
}

/// Why a text frame is not a usable client event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not JSON at all.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// JSON, but not an object with a string `type`.
    #[error("an event is a JSON object with a string `type`")]
    NotAnEvent,
    /// A known `type` with fields that do not fit it.
    #[error("bad `{event_type}` payload: {message}")]
    InvalidPayload {
        /// The event's type.
        event_type: String,
        /// What serde said.
        message: String,
    },
}

impl WireError {
    /// The `code` of the error event that answers it.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::Malformed(_) => "malformed_json",
            WireError::NotAnEvent => "missing_type",
            WireError::InvalidPayload { .. } => "invalid_payload",
        }
    }

    /// The event type concerned, where there was one.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            WireError::InvalidPayload { event_type, .. } => Some(event_type),
            _ => None,
        }
    }
}

impl ClientEvent {
    /// Parses one text frame. Returns the event and its `type` string (which
    /// names an [`ClientEvent::Unknown`]).
    pub fn parse(text: &str) -> Result<(ClientEvent, String), WireError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| WireError::Malformed(e.to_string()))?;
        let event_type = value
            .as_object()
            .and_then(|o| o.get("type"))
            .and_then(Value::as_str)
            .ok_or(WireError::NotAnEvent)?
            .to_owned();
        match serde_json::from_value(value) {
            Ok(event) => Ok((event, event_type)),
            Err(e) => Err(WireError::InvalidPayload {
                event_type,
                message: e.to_string(),
            }),
        }
    }
}

/// Who an `agent_*` event is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentTag {
    /// The agent's id (one per session).
    pub agent_id: String,
    /// The name the front end gave it.
    pub agent_name: String,
}

/// One event to the front end: a body, tagged with the agent for `agent_*`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerEvent {
    /// The event.
    #[serde(flatten)]
    pub body: ServerBody,
    /// Present on `agent_*` events.
    #[serde(flatten)]
    pub agent: Option<AgentTag>,
}

impl ServerEvent {
    /// A `server_*` event (no agent fields).
    pub fn server(body: ServerBody) -> Self {
        ServerEvent { body, agent: None }
    }

    /// The JSON text sent on the socket.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server events always serialise")
    }
}

/// A tool call as the vocabulary shows it (G1 `ToolUseBlock`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolUse {
    /// Always `tool_use`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The call id.
    pub id: String,
    /// The tool.
    pub name: String,
    /// The arguments, parsed (an empty object when they are not JSON).
    pub input: Value,
    /// The arguments as the model wrote them.
    pub raw_input: String,
}

/// A tool result as the vocabulary shows it (G1 `ToolResultBlock`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolResult {
    /// Always `tool_result`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The call id.
    pub id: String,
    /// The tool.
    pub name: String,
    /// What went back to the model.
    pub output: String,
    /// Whether it reports a failure (an Understudy addition).
    pub is_error: bool,
}

/// The events the server sends. Names and fields follow AgentScope's G1
/// `ServerEvents`; fields it did not have are marked as additions, and the
/// variants marked *extension* are Understudy's own (a front end that does
/// not know them can ignore them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerBody {
    /// The session exists and its agent is connected to the provider.
    ServerSessionCreated {
        /// The session (the `{session_id}` of the route).
        session_id: String,
        /// Which provider serves it (addition).
        model_provider: String,
    },
    /// The session ended.
    ServerSessionEnded {
        /// The session.
        session_id: String,
    },
    /// *Extension*: the server could not use a client event. The connection
    /// stays open and the session, if any, keeps working.
    ServerError {
        /// `invalid_request_error` for the client's mistakes, `server_error`
        /// for ours, `provider_error` when the provider could not be reached.
        error_type: String,
        /// `session_not_created`, `unknown_event`, `malformed_json`,
        /// `missing_type`, `invalid_payload`, `session_exists`,
        /// `session_active`, `unsupported_event`, `unknown_provider`,
        /// `provider_unavailable`, `binary_frame`.
        code: String,
        /// What happened, for a person.
        message: String,
        /// The client event's `type`, where it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        event_type: Option<String>,
    },
    /// The provider session is ready.
    AgentReady,
    /// The agent stopped.
    AgentEnded {
        /// Why (addition).
        reason: String,
    },
    /// A response started.
    AgentResponseCreated {
        /// The response.
        response_id: String,
    },
    /// A response ended.
    AgentResponseDone {
        /// The response.
        response_id: String,
        /// Not known to the agent layer: 0.
        input_tokens: u64,
        /// Not known to the agent layer: 0.
        output_tokens: u64,
        /// `status`: completed, cancelled, incomplete or failed.
        metadata: Map<String, Value>,
    },
    /// Audio to play.
    AgentResponseAudioDelta {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
        /// Base64 PCM16 mono.
        delta: Pcm,
        /// `{type: "audio/pcm", rate}`.
        format: AudioFormat,
    },
    /// The item's audio is complete.
    AgentResponseAudioDone {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
    },
    /// A piece of what the agent says.
    AgentResponseAudioTranscriptDelta {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
        /// The text.
        delta: String,
    },
    /// The item's transcript is complete.
    AgentResponseAudioTranscriptDone {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
        /// The whole text (addition).
        transcript: String,
    },
    /// The model called a tool (the agent runs it).
    AgentResponseToolUseDone {
        /// The response.
        response_id: String,
        /// The call id (the agent layer names items by call).
        item_id: String,
        /// The call.
        tool_use: ToolUse,
    },
    /// A tool finished; its result went to the model.
    AgentResponseToolResult {
        /// The result.
        tool_result: ToolResult,
    },
    /// *Extension*: the provider withdrew a tool call.
    AgentResponseToolCancelled {
        /// The call.
        id: String,
    },
    /// *Extension*: the user talked over the agent; stop playback.
    AgentInterrupted {
        /// The response cut short.
        #[serde(skip_serializing_if = "Option::is_none")]
        response_id: Option<String>,
        /// The item cut short.
        #[serde(skip_serializing_if = "Option::is_none")]
        item_id: Option<String>,
        /// How much of it was heard, in ms.
        #[serde(skip_serializing_if = "Option::is_none")]
        played_ms: Option<u64>,
    },
    /// A piece of the user's transcript.
    AgentInputTranscriptionDelta {
        /// The user item.
        item_id: String,
        /// The text.
        delta: String,
    },
    /// The user's turn, transcribed.
    AgentInputTranscriptionDone {
        /// The user item.
        item_id: String,
        /// What the user said.
        transcript: String,
    },
    /// The user started speaking.
    AgentInputStarted {
        /// The user item.
        item_id: String,
        /// Not known to the agent layer: 0.
        audio_start_ms: u64,
    },
    /// The user stopped speaking.
    AgentInputDone {
        /// The user item.
        item_id: String,
        /// Not known to the agent layer: 0.
        audio_end_ms: u64,
    },
    /// *Extension*: the provider connection was lost; the agent is trying
    /// again (input is buffered meanwhile).
    AgentReconnecting {
        /// Attempt, from 1.
        attempt: u32,
        /// Pause before it, in ms.
        delay_ms: u64,
    },
    /// *Extension*: the provider connection is back.
    AgentReconnected {
        /// Which attempt worked.
        attempt: u32,
        /// Whether the provider resumed the old conversation.
        resumed: bool,
    },
    /// Something went wrong in the agent or at the provider.
    AgentError {
        /// `model_error`, or `fatal_error` when the provider session is lost.
        error_type: String,
        /// The provider's or the agent's code.
        code: String,
        /// What happened.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_unknown_and_broken_events() {
        let (event, kind) = ClientEvent::parse(
            r#"{"type":"client_session_create","config":{"instructions":"hi","agent_name":"Friday","model_provider":"gemini","x":1}}"#,
        )
        .unwrap();
        assert_eq!(kind, "client_session_create");
        let ClientEvent::SessionCreate { config } = event else {
            panic!("{event:?}")
        };
        assert_eq!(config.model_provider.as_deref(), Some("gemini"));
        assert_eq!(config.extra.get("x"), Some(&json!(1)));

        let (event, kind) = ClientEvent::parse(r#"{"type":"client_dance","x":1}"#).unwrap();
        assert_eq!(
            (event, kind.as_str()),
            (ClientEvent::Unknown, "client_dance")
        );

        assert_eq!(
            ClientEvent::parse("{nope").unwrap_err().code(),
            "malformed_json"
        );
        assert_eq!(
            ClientEvent::parse("[1]").unwrap_err().code(),
            "missing_type"
        );
        assert_eq!(
            ClientEvent::parse(r#"{"type":7}"#).unwrap_err().code(),
            "missing_type"
        );
        let err = ClientEvent::parse(r#"{"type":"client_text_append"}"#).unwrap_err();
        assert_eq!(err.code(), "invalid_payload");
        assert_eq!(err.event_type(), Some("client_text_append"));
        assert!(err.to_string().contains("text"), "{err}");
    }

    #[test]
    fn image_payload_is_accepted_under_both_names() {
        for key in ["image", "data"] {
            let text = json!({"type": "client_image_append", "session_id": "s", key: "AAAA",
                              "format": {"type": "image/jpeg"}})
            .to_string();
            let (event, _) = ClientEvent::parse(&text).unwrap();
            assert!(
                matches!(&event, ClientEvent::ImageAppend { image, .. } if image == "AAAA"),
                "{key}: {event:?}"
            );
        }
    }

    #[test]
    fn agent_events_carry_the_agent() {
        let event = ServerEvent {
            body: ServerBody::AgentResponseAudioDelta {
                response_id: "r".into(),
                item_id: "i".into(),
                delta: Pcm(vec![1, 0]),
                format: AudioFormat {
                    kind: Some("audio/pcm".into()),
                    rate: Some(24_000),
                },
            },
            agent: Some(AgentTag {
                agent_id: "a1".into(),
                agent_name: "Friday".into(),
            }),
        };
        let value: Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(
            value,
            json!({"type": "agent_response_audio_delta", "response_id": "r", "item_id": "i",
                   "delta": "AQA=", "format": {"type": "audio/pcm", "rate": 24000},
                   "agent_id": "a1", "agent_name": "Friday"})
        );
        let ready = ServerEvent {
            body: ServerBody::AgentReady,
            agent: None,
        };
        assert_eq!(ready.to_json(), r#"{"type":"agent_ready"}"#);
    }
}
