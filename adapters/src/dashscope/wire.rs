//! Serde types for the DashScope Qwen-Omni realtime protocol.
//!
//! The protocol is modelled on OpenAI's beta Realtime API but is its own
//! dialect: a flat session with sampling parameters and `pcm`/`pcm16`/`pcm24`
//! format names, Chat-Completions-shaped tools (`{type, function:{…}}`), image
//! frames (`input_image_buffer.append`), an explicit goodbye (`session.finish`
//! → `session.finished`) and usage spelled `input_tokens_details`. Those are
//! typed here. Event payloads that are field-for-field identical to OpenAI
//! beta's (deltas, VAD events, items, errors) are the same Rust types, so the
//! two cannot drift apart where the providers agree.
//!
//! Unknown event types deserialise to `Unknown`; unknown fields land in each
//! struct's `extra` map.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

pub use crate::openai::wire::common::{ItemRef, Opaque};
pub use crate::openai::wire::objects::{
    ContentPart, ErrorDetail, Item, StatusDetails, TokenDetails, TurnDetection,
};
pub use crate::openai::wire::server::{
    BufferCommitted, ContentDelta, ContentPartEvent, ContentRef, ErrorEvent,
    FunctionCallArgumentsDelta, FunctionCallArgumentsDone, InputTranscriptionCompleted,
    InputTranscriptionDelta, InputTranscriptionFailed, ItemEvent, OutputItemEvent, SpeechStarted,
    SpeechStopped, TextDone, TranscriptDone,
};

/// A Qwen-Omni session (`session.update`, `session.created`, `session.updated`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Session {
    /// Server-assigned id (`sess_…`); the SDK dereferences it.
    pub id: Option<String>,
    /// `realtime.session`.
    pub object: Option<String>,
    /// Model serving the session.
    pub model: Option<String>,
    /// `["text"]` or `["text","audio"]`; `["audio"]` alone is rejected.
    pub modalities: Option<Vec<String>>,
    /// Voice (`Cherry`, `Chelsie`, … per model family).
    pub voice: Option<String>,
    /// `pcm` or `pcm16` (16 kHz mono).
    pub input_audio_format: Option<String>,
    /// `pcm`, `pcm16` or `pcm24` (24 kHz mono).
    pub output_audio_format: Option<String>,
    /// System prompt.
    pub instructions: Option<String>,
    /// `{model}` (the SDK sends `{"model": null}`) or `null`.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub input_audio_transcription: Option<Option<Value>>,
    /// `server_vad` / `semantic_vad` object, or `null` for manual turns.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub turn_detection: Option<Option<TurnDetection>>,
    /// Tools, Chat-Completions shaped.
    pub tools: Option<Vec<Tool>>,
    /// `auto`.
    pub tool_choice: Option<Value>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Unmodelled fields (`top_p`, `top_k`, `max_tokens`, `seed`,
    /// `smooth_output`, `enable_search`, the newer nested `audio`, …), verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tool in the Chat-Completions shape DashScope uses.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Tool {
    /// `function`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The function.
    pub function: Option<FunctionDef>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The function inside a [`Tool`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct FunctionDef {
    /// Name the model calls it by.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// JSON Schema of its arguments.
    pub parameters: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token usage, DashScope spelling (`input_tokens_details`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Usage {
    /// Total tokens.
    pub total_tokens: Option<u64>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Input breakdown.
    pub input_tokens_details: Option<TokenDetails>,
    /// Output breakdown.
    pub output_tokens_details: Option<TokenDetails>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The response object of `response.created` / `response.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Response {
    /// Response id; the SDK dereferences it.
    pub id: Option<String>,
    /// `realtime.response`.
    pub object: Option<String>,
    /// Conversation id.
    pub conversation_id: Option<String>,
    /// `in_progress|completed|cancelled|failed|incomplete`.
    pub status: Option<String>,
    /// Why it ended.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub status_details: Option<Option<StatusDetails>>,
    /// Modalities of this response.
    pub modalities: Option<Vec<String>>,
    /// Voice.
    pub voice: Option<String>,
    /// Output format name.
    pub output_audio_format: Option<String>,
    /// Output items.
    pub output: Option<Vec<Item>>,
    /// Usage (on `response.done`).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub usage: Option<Option<Usage>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.update` (its `session` is optional on this dialect).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionUpdate {
    /// Client event id (the SDK always sends one).
    pub event_id: Option<String>,
    /// The fields to change.
    pub session: Option<Box<Session>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_audio_buffer.append`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioAppend {
    /// Client event id.
    pub event_id: Option<String>,
    /// Base64 PCM16 at 16 kHz.
    pub audio: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_image_buffer.append`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ImageAppend {
    /// Client event id.
    pub event_id: Option<String>,
    /// Base64 JPEG.
    pub image: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ItemCreate {
    /// Client event id.
    pub event_id: Option<String>,
    /// Insert after this item.
    pub previous_item_id: Option<String>,
    /// The item (a text message or a `function_call_output`).
    pub item: Box<Item>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseCreate {
    /// Client event id.
    pub event_id: Option<String>,
    /// Overrides (`instructions`, `modalities`; the SDK sends `{"instructions": null}`).
    pub response: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.cancel`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseCancel {
    /// Client event id.
    pub event_id: Option<String>,
    /// The response (default: the one in progress).
    pub response_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.created` / `session.updated`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The full effective session.
    pub session: Box<Session>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.created` / `response.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response: Box<Response>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::tagged_union! {
    /// Every event a Qwen-Omni client may send.
    pub enum ClientEvent {
        /// Configure the session.
        SessionUpdate(SessionUpdate) = "session.update",
        /// Append 16 kHz audio.
        InputAudioBufferAppend(AudioAppend) = "input_audio_buffer.append",
        /// Commit buffered audio (and images) as a user turn.
        InputAudioBufferCommit(Opaque) = "input_audio_buffer.commit",
        /// Discard buffered audio.
        InputAudioBufferClear(Opaque) = "input_audio_buffer.clear",
        /// Append a JPEG frame.
        InputImageBufferAppend(ImageAppend) = "input_image_buffer.append",
        /// Add an item (text turn, tool result).
        ConversationItemCreate(ItemCreate) = "conversation.item.create",
        /// Ask for a response (manual mode).
        ResponseCreate(ResponseCreate) = "response.create",
        /// Stop the response in progress.
        ResponseCancel(ResponseCancel) = "response.cancel",
        /// Finish the session: the server flushes, confirms and closes.
        SessionFinish(Opaque) = "session.finish",
    }
}

super::core::dashscope_server_events! {
    /// Every event a Qwen-Omni server may send: the family's shared events
    /// (`dashscope::core::events`) and the goodbye.
    pub enum ServerEvent {
        speech_stopped: SpeechStopped,
        transcription_delta: InputTranscriptionDelta,
        /// Answer to `session.finish`; the server closes next.
        SessionFinished(Opaque) = "session.finished",
    }
}

crate::lossless!(
    Session,
    Tool,
    FunctionDef,
    Usage,
    Response,
    SessionUpdate,
    AudioAppend,
    ImageAppend,
    ItemCreate,
    ResponseCreate,
    ResponseCancel,
    SessionEvent,
    ResponseEvent,
);
