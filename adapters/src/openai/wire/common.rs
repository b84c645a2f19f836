//! Event payloads that both directions share.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// An event with no fields this crate models beyond `event_id`
/// (`input_audio_buffer.commit`, `input_audio_buffer.cleared`, MCP events, …).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Opaque {
    /// Event id (always present on server events, optional on client events).
    pub event_id: Option<String>,
    /// Every other field, verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An event that names one conversation item (`conversation.item.retrieve`,
/// `conversation.item.delete`, `conversation.item.deleted`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ItemRef {
    /// Event id.
    pub event_id: Option<String>,
    /// The item.
    pub item_id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(Opaque, ItemRef,);
