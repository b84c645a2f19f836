//! Client → server events of the OpenAI Realtime API (both dialects).

pub use super::common::{ItemRef, Opaque};
use super::objects::{Item, ResponseParams, Session};
use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

crate::tagged_union! {
    /// Every event a client may send, by wire `type`.
    pub enum ClientEvent {
        /// Configure the session.
        SessionUpdate(SessionUpdate) = "session.update",
        /// Append base64 audio to the input buffer.
        InputAudioBufferAppend(InputAudioBufferAppend) = "input_audio_buffer.append",
        /// Commit the input buffer as a user item.
        InputAudioBufferCommit(Opaque) = "input_audio_buffer.commit",
        /// Discard the input buffer.
        InputAudioBufferClear(Opaque) = "input_audio_buffer.clear",
        /// Add an item to the conversation.
        ConversationItemCreate(ConversationItemCreate) = "conversation.item.create",
        /// Ask for an item (with audio).
        ConversationItemRetrieve(ItemRef) = "conversation.item.retrieve",
        /// Truncate an assistant item's audio.
        ConversationItemTruncate(ConversationItemTruncate) = "conversation.item.truncate",
        /// Delete an item.
        ConversationItemDelete(ItemRef) = "conversation.item.delete",
        /// Start a response.
        ResponseCreate(ResponseCreate) = "response.create",
        /// Cancel the response in progress.
        ResponseCancel(ResponseCancel) = "response.cancel",
        /// Clear the output audio buffer (WebRTC/SIP only).
        OutputAudioBufferClear(Opaque) = "output_audio_buffer.clear",
        /// Configure a transcription session (beta only).
        TranscriptionSessionUpdate(TranscriptionSessionUpdate) = "transcription_session.update",
    }
}

impl ClientEvent {
    /// The client-supplied `event_id`, echoed by the server in errors.
    pub fn event_id(&self) -> Option<&str> {
        let id = match self {
            ClientEvent::SessionUpdate(e) => &e.event_id,
            ClientEvent::InputAudioBufferAppend(e) => &e.event_id,
            ClientEvent::InputAudioBufferCommit(e)
            | ClientEvent::InputAudioBufferClear(e)
            | ClientEvent::OutputAudioBufferClear(e) => &e.event_id,
            ClientEvent::ConversationItemCreate(e) => &e.event_id,
            ClientEvent::ConversationItemRetrieve(e) | ClientEvent::ConversationItemDelete(e) => {
                &e.event_id
            }
            ClientEvent::ConversationItemTruncate(e) => &e.event_id,
            ClientEvent::ResponseCreate(e) => &e.event_id,
            ClientEvent::ResponseCancel(e) => &e.event_id,
            ClientEvent::TranscriptionSessionUpdate(e) => &e.event_id,
            ClientEvent::Unknown(map) => {
                return map.get("event_id").and_then(Value::as_str);
            }
        };
        id.as_deref()
    }
}

/// `session.update`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionUpdate {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// The session fields to change (GA: must include `type`).
    pub session: Box<Session>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_audio_buffer.append`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct InputAudioBufferAppend {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// Base64 audio in the session's input format.
    pub audio: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ConversationItemCreate {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// Insert after this item (`root` = at the start).
    pub previous_item_id: Option<String>,
    /// The item.
    pub item: Item,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.truncate`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ConversationItemTruncate {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// The assistant item.
    pub item_id: String,
    /// The content part (0 for audio).
    pub content_index: u32,
    /// Audio to keep, in ms.
    pub audio_end_ms: u64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseCreate {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// Per-response overrides.
    pub response: Option<ResponseParams>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.cancel`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseCancel {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// The response to cancel (default: the one in progress).
    pub response_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `transcription_session.update` (beta).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TranscriptionSessionUpdate {
    /// Optional client event id.
    pub event_id: Option<String>,
    /// The transcription session (kept as JSON).
    pub session: Value,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(
    SessionUpdate,
    InputAudioBufferAppend,
    ConversationItemCreate,
    ConversationItemTruncate,
    ResponseCreate,
    ResponseCancel,
    TranscriptionSessionUpdate,
);
