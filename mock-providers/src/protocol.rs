//! What a provider dialect must tell the session loop: how to parse and check
//! a client frame, how it answers bad input, and what the replay engine needs
//! to know about each event.
//!
//! The session loop (`session.rs`) and the replay engine (`replay/`) are
//! written once against [`Protocol`]; each provider module implements it.

use crate::timeline::Outgoing;
use serde_json::{Map, Value};

/// A client frame the server refuses, and how it says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Provider error code (`invalid_event`, `invalid_value`,
    /// `missing_required_parameter`, `unknown_parameter`, `invalid_type`,
    /// `message_too_large`, …).
    pub code: &'static str,
    /// Human-readable message in the provider's style.
    pub message: String,
    /// Dotted path of the offending parameter.
    pub param: Option<String>,
    /// The client's `event_id`, when it could be read.
    pub event_id: Option<String>,
}

impl FrameError {
    /// A rejection with a code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        FrameError {
            code,
            message: message.into(),
            param: None,
            event_id: None,
        }
    }

    /// Names the offending parameter.
    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }
}

/// What the replay engine needs to know about a valid client event.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSummary {
    /// The event's `type`.
    pub event_type: String,
    /// Fields it is matched on besides its type (never ids or audio).
    pub key: Value,
    /// Milliseconds of audio it carries, for audio appends.
    pub audio_ms: Option<f64>,
}

/// One provider dialect as the session loop sees it.
pub trait Protocol: Send + Sync + 'static {
    /// The dialect's parsed client event.
    type Event: Send + Sync + 'static;
    /// Dialect name (`openai-ga`, `dashscope-omni`, …) for journals and cassettes.
    fn name(&self) -> &str;
    /// Parses and checks one text frame.
    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<Self::Event, FrameError>;
    /// What the replay engine matches the event on.
    fn summarise(&self, event: &Self::Event) -> FrameSummary;
    /// How the provider answers a refused frame: an `error` event on an open
    /// socket (OpenAI, DashScope), or a close with a code and reason (Gemini).
    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing>;
    /// The kind of a server message, for the journal and replay anchoring:
    /// its `type` where messages have one.
    fn kind_of(&self, message: &Value) -> String {
        message
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
    /// How a server message kind bears on a response in progress, for replay
    /// anchoring (OpenAI family: `response.created` starts, `response.done`
    /// ends, VAD speech events interrupt).
    fn response_marker(&self, kind: &str) -> Option<ResponseMarker> {
        match kind {
            "response.created" => Some(ResponseMarker::Start),
            "response.done" => Some(ResponseMarker::End),
            "input_audio_buffer.speech_started" | "input_audio_buffer.speech_stopped" => {
                Some(ResponseMarker::Speech)
            }
            _ => None,
        }
    }
    /// Whether a client event continues a response in progress, so the output
    /// after it waits for it (Gemini's `toolResponse`: the turn goes on once
    /// the tool result arrives).
    fn continues_response(&self, _client_type: &str) -> bool {
        false
    }
    /// A close a server message promises after a delay (Gemini's `goAway`
    /// closes the connection when `timeLeft` is up). Replay sends it when a
    /// recording ends before the promised close, because the recording client
    /// left first; a client that stays is then closed on as the service would.
    fn announced_close(&self, _message: &Value) -> Option<(std::time::Duration, Outgoing)> {
        None
    }
    /// Whether the session's clock is the client's input audio (GPT-Live:
    /// the service advances its timeline only as audio arrives, and answers
    /// at positions on it). Replay then sends a server frame that is not an
    /// answer when the live client's audio reaches the point the recording
    /// client's had reached, not after the wall-clock time that passed in the
    /// recording: a client that streams at another pace (or sends another
    /// amount of silence while it waits) hears each frame at the same place
    /// in its own audio as the recording client did.
    fn input_clocked(&self) -> bool {
        false
    }
    /// Whether binary frames carrying UTF-8 JSON are accepted like text.
    fn binary_json(&self) -> bool {
        false
    }
    /// What the provider sends after the upgrade when the key is bad (empty if
    /// it refuses at the HTTP upgrade instead).
    fn auth_failure(&self) -> Vec<Outgoing>;
    /// The client event type a server event type answers, if it answers one.
    /// Replay anchors answers to the event they answer even when the recording
    /// client sent more before the answer arrived (pipelining), so a client
    /// that waits for each answer is not left waiting.
    fn answers(&self, server_type: &str) -> Option<&'static str> {
        openai_family_answer(server_type)
    }
}

/// Which client event each server event answers, for the OpenAI-style
/// protocols (OpenAI GA and beta, DashScope Qwen-Omni).
pub fn openai_family_answer(server_type: &str) -> Option<&'static str> {
    Some(match server_type {
        "session.updated" => "session.update",
        "transcription_session.updated" => "transcription_session.update",
        "input_audio_buffer.committed" => "input_audio_buffer.commit",
        "input_audio_buffer.cleared" => "input_audio_buffer.clear",
        "conversation.item.added" | "conversation.item.created" => "conversation.item.create",
        "conversation.item.truncated" => "conversation.item.truncate",
        "conversation.item.deleted" => "conversation.item.delete",
        "conversation.item.retrieved" => "conversation.item.retrieve",
        "response.created" => "response.create",
        "session.finished" => "session.finish",
        _ => return None,
    })
}

/// What a server message means for the response in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMarker {
    /// A response starts (if none is in progress).
    Start,
    /// The response ends.
    End,
    /// User speech: caused by audio, and it interrupts a response in progress.
    Speech,
}

/// The checks every JSON-event dialect shares: size, JSON, an object, a string
/// `type` among `known` types. Returns the object; errors carry the `event_id`.
pub fn check_envelope(
    text: &str,
    max_frame_bytes: usize,
    known: &[&str],
) -> Result<(String, Map<String, Value>), FrameError> {
    if text.len() > max_frame_bytes {
        return Err(FrameError::new(
            "message_too_large",
            format!(
                "The event is {} bytes, which is more than the maximum of {max_frame_bytes} bytes.",
                text.len()
            ),
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        FrameError::new(
            "invalid_event",
            format!("The event is not valid JSON: {e}."),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(FrameError::new(
            "invalid_event",
            "The event must be a JSON object.",
        ));
    };
    let event_id = map
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let with_id = |mut e: FrameError| {
        e.event_id = event_id.clone();
        e
    };
    let event_type = match map.get("type") {
        None => {
            return Err(with_id(FrameError::new(
                "invalid_event",
                "The 'type' field is missing.",
            )))
        }
        Some(Value::String(t)) => t.clone(),
        Some(_) => {
            return Err(with_id(
                FrameError::new(
                    "invalid_type",
                    "Invalid type for 'type': expected a string.",
                )
                .param("type"),
            ))
        }
    };
    if !known.contains(&event_type.as_str()) {
        let supported = known
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(with_id(
            FrameError::new(
                "invalid_value",
                format!("Invalid value: '{event_type}'. Supported values are: {supported}."),
            )
            .param("type"),
        ));
    }
    Ok((event_type, map))
}

/// Turns a serde error on a known event into the provider-style rejection:
/// a missing field is `missing_required_parameter`, anything else `invalid_value`.
pub fn serde_rejection(error: &serde_json::Error) -> FrameError {
    let text = error.to_string();
    if let Some(field) = text
        .split("missing field `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
    {
        return FrameError::new(
            "missing_required_parameter",
            format!("Missing required parameter: '{field}'."),
        )
        .param(field.to_owned());
    }
    FrameError::new("invalid_value", format!("Invalid event: {text}."))
}

/// Milliseconds of PCM16 in a base64 string at `rate`, without decoding it.
pub fn base64_pcm16_ms(encoded: &str, rate: u32) -> f64 {
    let padding = encoded.bytes().rev().take_while(|b| *b == b'=').count();
    let bytes = (encoded.len() / 4 * 3).saturating_sub(padding);
    (bytes / 2) as f64 * 1000.0 / f64::from(rate.max(1))
}

/// What the replay summary of an OpenAI-family client event reads (OpenAI
/// GA/beta and DashScope Qwen-Omni have their own event enums with the same
/// events): its type, the item a `conversation.item.create` adds, the audio
/// an `input_audio_buffer.append` carries.
pub trait OpenAiFamilyEvent {
    /// The event's `type`.
    fn family_event_type(&self) -> &str;
    /// `(item.type, item.role)` of the item a `conversation.item.create` adds.
    fn created_item(&self) -> Option<(&str, Option<&str>)>;
    /// The base64 PCM16 an `input_audio_buffer.append` carries.
    fn appended_audio(&self) -> Option<&str>;
}

/// Both event enums name these events and their fields alike, so one body
/// serves both.
macro_rules! openai_family_event {
    ($($event:ty),*) => {$(
        impl OpenAiFamilyEvent for $event {
            fn family_event_type(&self) -> &str {
                self.event_type()
            }

            fn created_item(&self) -> Option<(&str, Option<&str>)> {
                match self {
                    Self::ConversationItemCreate(create) => {
                        Some((create.item.kind.as_str(), create.item.role.as_deref()))
                    }
                    _ => None,
                }
            }

            fn appended_audio(&self) -> Option<&str> {
                match self {
                    Self::InputAudioBufferAppend(append) => Some(append.audio.as_str()),
                    _ => None,
                }
            }
        }
    )*};
}

openai_family_event!(
    understudy_adapters::openai::wire::ClientEvent,
    understudy_adapters::dashscope::wire::ClientEvent
);

/// The replay summary of an OpenAI-family event (OpenAI GA/beta, DashScope):
/// item creations are keyed by the item's type and role, audio appends carry
/// their length at the dialect's input `rate`.
pub fn summarise_openai_family(event: &impl OpenAiFamilyEvent, rate: u32) -> FrameSummary {
    FrameSummary {
        event_type: event.family_event_type().to_owned(),
        key: event.created_item().map_or(
            Value::Null,
            |(kind, role)| serde_json::json!({"item.type": kind, "item.role": role}),
        ),
        audio_ms: event.appended_audio().map(|a| base64_pcm16_ms(a, rate)),
    }
}
