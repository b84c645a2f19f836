//! Server → client events of the OpenAI Realtime API (both dialects).
//!
//! GA and beta names for the same event share a payload struct: for example
//! `response.output_audio.delta` (GA) and `response.audio.delta` (beta) are two
//! variants over [`ContentDelta`]. The variant keeps the name that was on the
//! wire, so a frame re-encodes exactly as it arrived.

pub use super::common::{ItemRef, Opaque};
use super::objects::{ErrorDetail, Item, RateLimit, Response, Session};
use crate::lossless::Extra;
use crate::openai::Dialect;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

crate::tagged_union! {
    /// Every event the server may send, by wire `type`.
    pub enum ServerEvent {
        /// An error; the socket stays open unless followed by a close.
        Error(ErrorEvent) = "error",
        /// First frame of every session.
        SessionCreated(SessionEvent) = "session.created",
        /// Answer to `session.update`.
        SessionUpdated(SessionEvent) = "session.updated",
        /// Beta: answer to `transcription_session.update`.
        TranscriptionSessionUpdated(Opaque) = "transcription_session.updated",
        /// Conversation created (may be omitted by servers).
        ConversationCreated(Opaque) = "conversation.created",
        /// GA: an item was added to the conversation.
        ConversationItemAdded(ItemEvent) = "conversation.item.added",
        /// GA: an item is final.
        ConversationItemDone(ItemEvent) = "conversation.item.done",
        /// Beta: an item was created.
        ConversationItemCreated(ItemEvent) = "conversation.item.created",
        /// Answer to `conversation.item.retrieve`.
        ConversationItemRetrieved(ItemEvent) = "conversation.item.retrieved",
        /// Answer to `conversation.item.truncate`.
        ConversationItemTruncated(ItemTruncated) = "conversation.item.truncated",
        /// Answer to `conversation.item.delete`.
        ConversationItemDeleted(ItemRef) = "conversation.item.deleted",
        /// Piece of a user-audio transcript.
        InputTranscriptionDelta(InputTranscriptionDelta) = "conversation.item.input_audio_transcription.delta",
        /// Whole user-audio transcript.
        InputTranscriptionCompleted(InputTranscriptionCompleted) = "conversation.item.input_audio_transcription.completed",
        /// User-audio transcription failed.
        InputTranscriptionFailed(InputTranscriptionFailed) = "conversation.item.input_audio_transcription.failed",
        /// GA: diarised transcript segment.
        InputTranscriptionSegment(Opaque) = "conversation.item.input_audio_transcription.segment",
        /// VAD: speech started.
        SpeechStarted(SpeechStarted) = "input_audio_buffer.speech_started",
        /// VAD: speech stopped.
        SpeechStopped(SpeechStopped) = "input_audio_buffer.speech_stopped",
        /// Input buffer committed as a user item.
        InputAudioBufferCommitted(BufferCommitted) = "input_audio_buffer.committed",
        /// Input buffer cleared.
        InputAudioBufferCleared(Opaque) = "input_audio_buffer.cleared",
        /// GA: idle timeout fired.
        InputAudioBufferTimeoutTriggered(Opaque) = "input_audio_buffer.timeout_triggered",
        /// GA: DTMF tone received (SIP).
        InputAudioBufferDtmfEventReceived(Opaque) = "input_audio_buffer.dtmf_event_received",
        /// WebRTC/SIP: output playback started.
        OutputAudioBufferStarted(OutputAudioBuffer) = "output_audio_buffer.started",
        /// WebRTC/SIP: output playback stopped.
        OutputAudioBufferStopped(OutputAudioBuffer) = "output_audio_buffer.stopped",
        /// WebRTC/SIP: output buffer cleared.
        OutputAudioBufferCleared(OutputAudioBuffer) = "output_audio_buffer.cleared",
        /// Remaining rate-limit budget.
        RateLimitsUpdated(RateLimitsUpdated) = "rate_limits.updated",
        /// A response started.
        ResponseCreated(ResponseEvent) = "response.created",
        /// A response ended.
        ResponseDone(ResponseEvent) = "response.done",
        /// An output item started.
        ResponseOutputItemAdded(OutputItemEvent) = "response.output_item.added",
        /// An output item ended.
        ResponseOutputItemDone(OutputItemEvent) = "response.output_item.done",
        /// A content part started.
        ResponseContentPartAdded(ContentPartEvent) = "response.content_part.added",
        /// A content part ended.
        ResponseContentPartDone(ContentPartEvent) = "response.content_part.done",
        /// GA: text delta.
        ResponseOutputTextDelta(ContentDelta) = "response.output_text.delta",
        /// Beta: text delta.
        ResponseTextDelta(ContentDelta) = "response.text.delta",
        /// GA: text done.
        ResponseOutputTextDone(TextDone) = "response.output_text.done",
        /// Beta: text done.
        ResponseTextDone(TextDone) = "response.text.done",
        /// GA: audio delta (base64).
        ResponseOutputAudioDelta(ContentDelta) = "response.output_audio.delta",
        /// Beta: audio delta (base64).
        ResponseAudioDelta(ContentDelta) = "response.audio.delta",
        /// GA: audio done.
        ResponseOutputAudioDone(ContentRef) = "response.output_audio.done",
        /// Beta: audio done.
        ResponseAudioDone(ContentRef) = "response.audio.done",
        /// GA: transcript delta of the model's audio.
        ResponseOutputAudioTranscriptDelta(ContentDelta) = "response.output_audio_transcript.delta",
        /// Beta: transcript delta of the model's audio.
        ResponseAudioTranscriptDelta(ContentDelta) = "response.audio_transcript.delta",
        /// GA: transcript of the model's audio.
        ResponseOutputAudioTranscriptDone(TranscriptDone) = "response.output_audio_transcript.done",
        /// Beta: transcript of the model's audio.
        ResponseAudioTranscriptDone(TranscriptDone) = "response.audio_transcript.done",
        /// Function-call arguments fragment.
        FunctionCallArgumentsDelta(FunctionCallArgumentsDelta) = "response.function_call_arguments.delta",
        /// Function call complete.
        FunctionCallArgumentsDone(FunctionCallArgumentsDone) = "response.function_call_arguments.done",
        /// GA: MCP tool listing in progress.
        McpListToolsInProgress(Opaque) = "mcp_list_tools.in_progress",
        /// GA: MCP tool listing done.
        McpListToolsCompleted(Opaque) = "mcp_list_tools.completed",
        /// GA: MCP tool listing failed.
        McpListToolsFailed(Opaque) = "mcp_list_tools.failed",
        /// GA: MCP call arguments fragment.
        McpCallArgumentsDelta(Opaque) = "response.mcp_call_arguments.delta",
        /// GA: MCP call arguments done.
        McpCallArgumentsDone(Opaque) = "response.mcp_call_arguments.done",
        /// GA: MCP call in progress.
        McpCallInProgress(Opaque) = "response.mcp_call.in_progress",
        /// GA: MCP call completed.
        McpCallCompleted(Opaque) = "response.mcp_call.completed",
        /// GA: MCP call failed.
        McpCallFailed(Opaque) = "response.mcp_call.failed",
    }
}

/// `error`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ErrorEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The error.
    pub error: ErrorDetail,
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

/// `conversation.item.added/done/created/retrieved`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ItemEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The item before this one.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub previous_item_id: Option<Option<String>>,
    /// The item.
    pub item: Item,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.truncated`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ItemTruncated {
    /// Server event id.
    pub event_id: Option<String>,
    /// The truncated item.
    pub item_id: String,
    /// The content part.
    pub content_index: u32,
    /// Audio kept, in ms.
    pub audio_end_ms: u64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.input_audio_transcription.delta`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct InputTranscriptionDelta {
    /// Server event id.
    pub event_id: Option<String>,
    /// The user item.
    pub item_id: String,
    /// The content part.
    pub content_index: Option<u32>,
    /// New text.
    pub delta: Option<String>,
    /// Unmodelled fields (`logprobs`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.input_audio_transcription.completed`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct InputTranscriptionCompleted {
    /// Server event id.
    pub event_id: Option<String>,
    /// The user item.
    pub item_id: String,
    /// The content part.
    pub content_index: u32,
    /// The transcript.
    pub transcript: String,
    /// Transcription usage (`tokens` or `duration` shaped).
    pub usage: Option<Value>,
    /// Unmodelled fields (`logprobs`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.input_audio_transcription.failed`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct InputTranscriptionFailed {
    /// Server event id.
    pub event_id: Option<String>,
    /// The user item.
    pub item_id: String,
    /// The content part.
    pub content_index: u32,
    /// What went wrong (`{type?, code?, message?, param?}`).
    pub error: Value,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_audio_buffer.speech_started`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SpeechStarted {
    /// Server event id.
    pub event_id: Option<String>,
    /// Offset into appended audio, ms.
    pub audio_start_ms: u64,
    /// Id the user item will get.
    pub item_id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_audio_buffer.speech_stopped`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SpeechStopped {
    /// Server event id.
    pub event_id: Option<String>,
    /// Offset into appended audio, ms.
    pub audio_end_ms: u64,
    /// Id the user item will get.
    pub item_id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_audio_buffer.committed`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct BufferCommitted {
    /// Server event id.
    pub event_id: Option<String>,
    /// The item before the new one.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub previous_item_id: Option<Option<String>>,
    /// The new user item.
    pub item_id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `output_audio_buffer.started` / `.stopped` / `.cleared` (WebRTC and SIP
/// sessions, whose audio goes out of band: the WebSocket sideband sees these
/// instead of audio deltas).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct OutputAudioBuffer {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response whose audio is playing.
    pub response_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `rate_limits.updated`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct RateLimitsUpdated {
    /// Server event id.
    pub event_id: Option<String>,
    /// Limits.
    pub rate_limits: Vec<RateLimit>,
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
    pub response: Response,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.output_item.added` / `.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct OutputItemEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// The item.
    pub item: Item,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.content_part.added` / `.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContentPartEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The output item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// Position in the item's content.
    pub content_index: u32,
    /// The part.
    pub part: super::objects::ContentPart,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response-scoped event with no payload (`*.audio.done`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContentRef {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The output item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// Position in the item's content.
    pub content_index: u32,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response-scoped delta (text, audio as base64, or transcript).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContentDelta {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The output item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// Position in the item's content.
    pub content_index: u32,
    /// The new text, or base64 audio.
    pub delta: String,
    /// Random padding the service adds so that a delta's length does not give
    /// its content away; meaningless to a client, kept so the frame re-encodes.
    pub obfuscation: Option<String>,
    /// Unmodelled fields (`logprobs`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.output_text.done` / `response.text.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TextDone {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The output item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// Position in the item's content.
    pub content_index: u32,
    /// The whole text.
    pub text: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.output_audio_transcript.done` / `response.audio_transcript.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TranscriptDone {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The output item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// Position in the item's content.
    pub content_index: u32,
    /// The whole transcript.
    pub transcript: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.function_call_arguments.delta`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct FunctionCallArgumentsDelta {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The function-call item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// The call id.
    pub call_id: String,
    /// Arguments fragment.
    pub delta: String,
    /// Length-hiding padding (see [`ContentDelta::obfuscation`]).
    pub obfuscation: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.function_call_arguments.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct FunctionCallArgumentsDone {
    /// Server event id.
    pub event_id: Option<String>,
    /// The response.
    pub response_id: String,
    /// The function-call item.
    pub item_id: String,
    /// Position in the response's output.
    pub output_index: u32,
    /// The call id.
    pub call_id: String,
    /// Function name (GA requires it; beta omits it).
    pub name: Option<String>,
    /// Complete arguments as JSON text.
    pub arguments: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The events whose wire names differ between GA and beta (protocol §6.1),
/// built for a given dialect. This is the one place the name table lives.
impl ServerEvent {
    /// `response.output_audio.delta` (GA) / `response.audio.delta` (beta).
    pub fn audio_delta(dialect: Dialect, delta: ContentDelta) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ResponseOutputAudioDelta(delta),
            Dialect::Beta => ServerEvent::ResponseAudioDelta(delta),
        }
    }

    /// `response.output_audio.done` (GA) / `response.audio.done` (beta).
    pub fn audio_done(dialect: Dialect, scope: ContentRef) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ResponseOutputAudioDone(scope),
            Dialect::Beta => ServerEvent::ResponseAudioDone(scope),
        }
    }

    /// `response.output_audio_transcript.delta` (GA) / `response.audio_transcript.delta` (beta).
    pub fn audio_transcript_delta(dialect: Dialect, delta: ContentDelta) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ResponseOutputAudioTranscriptDelta(delta),
            Dialect::Beta => ServerEvent::ResponseAudioTranscriptDelta(delta),
        }
    }

    /// `response.output_audio_transcript.done` (GA) / `response.audio_transcript.done` (beta).
    pub fn audio_transcript_done(dialect: Dialect, done: TranscriptDone) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ResponseOutputAudioTranscriptDone(done),
            Dialect::Beta => ServerEvent::ResponseAudioTranscriptDone(done),
        }
    }

    /// `response.output_text.delta` (GA) / `response.text.delta` (beta).
    pub fn text_delta(dialect: Dialect, delta: ContentDelta) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ResponseOutputTextDelta(delta),
            Dialect::Beta => ServerEvent::ResponseTextDelta(delta),
        }
    }

    /// `response.output_text.done` (GA) / `response.text.done` (beta).
    pub fn text_done(dialect: Dialect, done: TextDone) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ResponseOutputTextDone(done),
            Dialect::Beta => ServerEvent::ResponseTextDone(done),
        }
    }

    /// The acknowledgement of a new item: `conversation.item.added` (GA; a
    /// `conversation.item.done` follows once the item is final) or
    /// `conversation.item.created` (beta).
    pub fn item_added(dialect: Dialect, event: ItemEvent) -> Self {
        match dialect {
            Dialect::Ga => ServerEvent::ConversationItemAdded(event),
            Dialect::Beta => ServerEvent::ConversationItemCreated(event),
        }
    }
}

crate::lossless!(
    ErrorEvent,
    SessionEvent,
    ItemEvent,
    ItemTruncated,
    InputTranscriptionDelta,
    InputTranscriptionCompleted,
    InputTranscriptionFailed,
    SpeechStarted,
    SpeechStopped,
    BufferCommitted,
    OutputAudioBuffer,
    RateLimitsUpdated,
    ResponseEvent,
    OutputItemEvent,
    ContentPartEvent,
    ContentRef,
    ContentDelta,
    TextDone,
    TranscriptDone,
    FunctionCallArgumentsDelta,
    FunctionCallArgumentsDone,
);
