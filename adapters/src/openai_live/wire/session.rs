//! The GPT-Live session object in its three shapes: what `session.start`
//! asks for ([`SessionConfig`], also the fork overrides), what
//! `session.update` may change ([`SessionUpdateConfig`]) and what the server
//! resolved ([`SessionResource`], in `session.started`, `session.updated` and
//! `session.closed`).
//!
//! Enumerations the SDK types as literals (`delegation.type`, audio format
//! `type`, item roles) are kept as strings so that a value this crate does
//! not know survives a round trip; the real service validates them, and so
//! does the mock (it reads `extra` to name an unknown key the way the service
//! does, `param: "session.<key>"`).

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use serde_with::skip_serializing_none;

/// `session.start.session` (SDK `SessionConfig`; on a fork socket the SDK's
/// `ForkSessionConfig`, where every field is an optional override and
/// `model` is absent).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionConfig {
    /// The voice model (`gpt-live-1`, `gpt-live-1.1`); required on a primary
    /// socket, absent on a fork.
    pub model: Option<String>,
    /// Instructions; immutable after start.
    pub instructions: Option<String>,
    /// Audio format (both directions) and voice.
    pub audio: Option<SessionAudio>,
    /// Who does delegated work: `client` (default), `responses`, `decisions`.
    pub delegation: Option<Delegation>,
    /// Text-only history the session starts from.
    pub input: Option<Vec<InitialItem>>,
    /// Keep the session for forks and recording download.
    pub store: Option<bool>,
    /// End-user id for abuse monitoring.
    pub safety_identifier: Option<String>,
    /// Decision triggers (kept as JSON; this crate does not evaluate them).
    pub triggers: Option<Vec<Value>>,
    /// WebRTC data-channel settings (kept as JSON).
    pub client: Option<Value>,
    /// Unmodelled fields (the service rejects them; the mock names them).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.update.session` (SDK `SessionUpdateConfig`): only delegation
/// settings (same type as the session's, sparse) and triggers may change.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionUpdateConfig {
    /// Sparse delegation settings; omitted ones keep their value.
    pub delegation: Option<Delegation>,
    /// Omitted: keep; a list: replace; `[]`: disable.
    pub triggers: Option<Vec<Value>>,
    /// Unmodelled fields (immutable ones such as `instructions` land here,
    /// which is how the mock rejects them).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The resolved session (SDK `SessionResource`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionResource {
    /// Session id (`live_…`; opaque).
    pub id: String,
    /// When the session ends, unix seconds.
    pub expires_at: i64,
    /// The voice model.
    pub model: String,
    /// Always `active`, even in `session.closed`.
    pub status: String,
    /// Resolved instructions.
    pub instructions: Option<String>,
    /// Resolved audio format and voice.
    pub audio: Option<SessionAudio>,
    /// Resolved delegation.
    pub delegation: Option<Delegation>,
    /// Startup history.
    pub input: Option<Vec<InitialItem>>,
    /// Whether the session is stored.
    pub store: Option<bool>,
    /// End-user id.
    pub safety_identifier: Option<String>,
    /// Decision triggers.
    pub triggers: Option<Vec<Value>>,
    /// WebRTC data-channel settings.
    pub client: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.audio`: one format for both directions, and the voice.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionAudio {
    /// Wire audio format (primary WebSocket only).
    pub format: Option<AudioFormat>,
    /// Output settings (the voice).
    pub output: Option<AudioOutput>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{type:"audio/pcm", rate:16000|24000}`, `{type:"audio/pcmu"|"audio/pcma", rate:8000}`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioFormat {
    /// `audio/pcm`, `audio/pcmu` or `audio/pcma`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Samples per second.
    pub rate: Option<u32>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AudioFormat {
    /// The service's default: PCM16 at 24 kHz.
    pub fn pcm24k() -> Self {
        AudioFormat {
            kind: "audio/pcm".into(),
            rate: Some(24_000),
            extra: Extra::default(),
        }
    }

    /// The normalised format, or `None` for a type or rate the service does
    /// not offer.
    pub fn normalised(&self) -> Option<crate::audio::AudioFormat> {
        use crate::audio::AudioFormat as Norm;
        match (self.kind.as_str(), self.rate) {
            ("audio/pcm", Some(rate @ (16_000 | 24_000))) => Some(Norm::pcm16(rate)),
            ("audio/pcmu", Some(8_000)) => Some(Norm::G711_ULAW),
            ("audio/pcma", Some(8_000)) => Some(Norm::G711_ALAW),
            _ => None,
        }
    }
}

/// `session.audio.output`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioOutput {
    /// A built-in voice name, or `{id}` for a custom voice.
    pub voice: Option<Voice>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A voice: a built-in name (`marin`) or a custom voice object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Voice {
    /// A built-in voice name.
    Name(String),
    /// A custom voice `{id}`.
    Custom(CustomVoice),
}

/// A custom voice reference.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct CustomVoice {
    /// The custom voice id.
    pub id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `delegation`: one flat struct for every variant (`client`, `responses`,
/// `decisions`) and for the sparse update form, so that an unknown variant
/// is kept too.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Delegation {
    /// `client`, `responses` or `decisions`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Delay before the model's automatic "okay, checking" acknowledgement.
    pub acknowledgement_delay_ms: Option<u64>,
    /// The backend request settings (`responses` delegation; boxed, it is
    /// large).
    pub responses: Option<Box<ResponsesConfig>>,
    /// The Decisions settings (`decisions` delegation), kept as JSON.
    pub decisions: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Delegation {
    /// `{type:"client"}`: the application does delegated work.
    pub fn client() -> Self {
        Delegation {
            kind: "client".into(),
            ..Delegation::default()
        }
    }
}

/// `delegation.responses` (SDK `ResponsesDelegationConfig`; every field
/// optional in the update form).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponsesConfig {
    /// The backend model (required at start).
    pub model: Option<String>,
    /// Backend instructions.
    pub instructions: Option<String>,
    /// Backend tools: function tools come back to the client, hosted ones run
    /// server-side.
    pub tools: Option<Vec<ResponsesTool>>,
    /// Tool choice (a string or an object), kept as JSON.
    pub tool_choice: Option<Value>,
    /// Whether the backend may call tools in parallel.
    pub parallel_tool_calls: Option<bool>,
    /// Output token limit per backend response.
    pub max_output_tokens: Option<u64>,
    /// Reasoning settings, kept as JSON.
    pub reasoning: Option<Value>,
    /// Text settings (`verbosity`), kept as JSON.
    pub text: Option<Value>,
    /// Service tier.
    pub service_tier: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A backend tool. Function tools are modelled; every other kind
/// (`web_search`, `mcp`, `shell`, …) keeps its fields in `extra`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponsesTool {
    /// `function`, `web_search`, `mcp`, ….
    #[serde(rename = "type")]
    pub kind: String,
    /// Function name.
    pub name: Option<String>,
    /// Function description.
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    pub strict: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A startup history message (SDK `InitialItem`, told apart by `role`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct InitialItem {
    /// `developer`, `user` or `assistant`.
    pub role: String,
    /// Exactly one text part.
    pub content: Vec<TextPart>,
    /// `message`, where given.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Item id, where given.
    pub id: Option<String>,
    /// `completed` or `incomplete`, where given.
    pub status: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One text part of an [`InitialItem`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TextPart {
    /// `input_text` (developer, user), `text` or `output_text` (assistant).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The text.
    pub text: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Billable time (SDK `SessionUsage`): cumulative, so successive reports are
/// not summed. Numbers are kept as sent (`7` stays `7`, `7.5` stays `7.5`).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionUsage {
    /// Cumulative billable seconds.
    pub seconds: Number,
    /// Active seconds (WebRTC).
    pub active_seconds: Option<Number>,
    /// Paused seconds (WebRTC).
    pub paused_seconds: Option<Number>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SessionUsage {
    /// Usage of `seconds` whole seconds.
    pub fn seconds(seconds: u64) -> Self {
        SessionUsage {
            seconds: seconds.into(),
            active_seconds: None,
            paused_seconds: None,
            extra: Extra::default(),
        }
    }

    /// The cumulative billable seconds as a float.
    pub fn seconds_f64(&self) -> f64 {
        self.seconds.as_f64().unwrap_or(0.0)
    }
}

/// `context_window` of `session.usage.updated`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContextWindow {
    /// Active context over the model's limit (drops after compaction).
    pub usage_ratio: Number,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(
    SessionConfig,
    SessionUpdateConfig,
    SessionResource,
    SessionAudio,
    AudioFormat,
    AudioOutput,
    CustomVoice,
    Delegation,
    ResponsesConfig,
    ResponsesTool,
    InitialItem,
    TextPart,
    SessionUsage,
    ContextWindow,
);
