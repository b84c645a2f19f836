//! Serde types for DashScope Qwen-Audio-Realtime.
//!
//! Qwen-Audio shares Qwen-Omni's framing and most of its payloads (session
//! object, response object, deltas, items, errors): those are the same Rust
//! types as [`crate::dashscope::wire`], so the two dialects cannot drift apart
//! where the service agrees with itself. What is Qwen-Audio's own is typed
//! here: the input-transcription delta with `text` (settled) and `stash`
//! (provisional), `speech_stopped.reason` (`turn_invalid`: a smart-turn turn
//! withdrawn), the ambient transcription events (speech the model heard but
//! was not addressed by), the voiceprint registration progress events, and
//! item retrieve/delete. Its event sets differ too: no `session.finish`, no
//! images, no truncation.
//!
//! The Qwen-Audio-only session fields (`max_history_turns`,
//! `enable_speech_emotion`, `turn_detection.voiceprint_audio_urls`) travel in
//! the shared session's `extra` maps and are read and written through
//! [`SessionFields`] and [`voiceprint_urls`].
//!
//! Unknown event types deserialise to `Unknown`; unknown fields land in each
//! struct's `extra` map.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

pub use crate::dashscope::wire::{
    AudioAppend, BufferCommitted, ContentDelta, ContentPartEvent, ContentRef, ErrorEvent,
    FunctionCallArgumentsDelta, FunctionCallArgumentsDone, FunctionDef,
    InputTranscriptionCompleted, InputTranscriptionFailed, Item, ItemCreate, ItemEvent, ItemRef,
    Opaque, OutputItemEvent, Response, ResponseCancel, ResponseCreate, ResponseEvent, Session,
    SessionEvent, SessionUpdate, SpeechStarted, TextDone, Tool, TranscriptDone, TurnDetection,
    Usage,
};

/// The `speech_stopped.reason` of a smart-turn turn the service withdrew.
pub const TURN_INVALID: &str = "turn_invalid";

/// `input_audio_buffer.speech_stopped`, with Qwen-Audio's `reason`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SpeechStopped {
    /// Server event id.
    pub event_id: Option<String>,
    /// Offset into appended audio, ms.
    pub audio_end_ms: u64,
    /// The user item.
    pub item_id: String,
    /// smart_turn only: `turn_invalid` when the turn is withdrawn (no
    /// inference follows); absent for valid turns.
    pub reason: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.input_audio_transcription.delta` and
/// `conversation.item.ambient_audio_transcription.delta`: the settled `text`
/// and the provisional `stash` (OpenAI's `delta` is accepted too).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TranscriptionDelta {
    /// Server event id.
    pub event_id: Option<String>,
    /// The user item (for ambient speech a throw-away id, not in the conversation).
    pub item_id: String,
    /// The content part.
    pub content_index: Option<u32>,
    /// Settled text.
    pub text: Option<String>,
    /// Provisional tail, which may still change.
    pub stash: Option<String>,
    /// OpenAI's spelling (peers read ambient deltas from it).
    pub delta: Option<String>,
    /// Unmodelled fields (emotion and language, names unconfirmed).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation.item.ambient_audio_transcription.completed`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AmbientCompleted {
    /// Server event id.
    pub event_id: Option<String>,
    /// Throw-away id: the speech never enters the conversation.
    pub item_id: String,
    /// The content part.
    pub content_index: Option<u32>,
    /// What was heard.
    pub transcript: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `voiceprint_audio_list.in_progress` / `.completed` / `.failed`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct VoiceprintEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The registration task (`vp_…`).
    pub item_id: String,
    /// Why it failed (`.failed` only).
    pub reason: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The Qwen-Audio-only fields of a session, kept in [`Session::extra`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionFields {
    /// How many past Q/A turns the model considers (1–50, default 20).
    pub max_history_turns: Option<u32>,
    /// Speech emotion (accepted by the service; meaning unconfirmed).
    pub enable_speech_emotion: Option<bool>,
}

impl SessionFields {
    /// The fields as `session` carries them (invalid values read as absent).
    pub fn of(session: &Session) -> Self {
        SessionFields {
            max_history_turns: session
                .extra
                .get("max_history_turns")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            enable_speech_emotion: session
                .extra
                .get("enable_speech_emotion")
                .and_then(Value::as_bool),
        }
    }

    /// Writes the fields that are set into `session`.
    pub fn apply(&self, session: &mut Session) {
        if let Some(turns) = self.max_history_turns {
            session
                .extra
                .insert("max_history_turns".into(), Value::from(turns));
        }
        if let Some(emotion) = self.enable_speech_emotion {
            session
                .extra
                .insert("enable_speech_emotion".into(), Value::from(emotion));
        }
    }
}

/// The key of the voiceprint URLs inside a smart-turn `turn_detection`.
pub const VOICEPRINT_URLS: &str = "voiceprint_audio_urls";

/// The voiceprint URLs of a `turn_detection` (smart_turn only), if it has any.
/// `None` also when the field is not a list of strings.
pub fn voiceprint_urls(detection: &TurnDetection) -> Option<Vec<String>> {
    detection
        .extra
        .get(VOICEPRINT_URLS)?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

crate::tagged_union! {
    /// Every event a Qwen-Audio-Realtime client may send. There is no
    /// `session.finish` (the client closes the socket), no image append and
    /// no truncation.
    pub enum ClientEvent {
        /// Configure the session (voice and voiceprints: first update only).
        SessionUpdate(SessionUpdate) = "session.update",
        /// Append 16 kHz audio.
        InputAudioBufferAppend(AudioAppend) = "input_audio_buffer.append",
        /// Commit buffered audio (push-to-talk only; ignored in VAD modes).
        InputAudioBufferCommit(Opaque) = "input_audio_buffer.commit",
        /// Discard buffered audio (push-to-talk only; ignored in VAD modes).
        InputAudioBufferClear(Opaque) = "input_audio_buffer.clear",
        /// Add an item: a text turn, history, a tool call or its output.
        ConversationItemCreate(ItemCreate) = "conversation.item.create",
        /// Read an item back (audio as its transcript).
        ConversationItemRetrieve(ItemRef) = "conversation.item.retrieve",
        /// Remove an item.
        ConversationItemDelete(ItemRef) = "conversation.item.delete",
        /// Ask for a response (only modality and voice overrides).
        ResponseCreate(ResponseCreate) = "response.create",
        /// Stop the response in progress.
        ResponseCancel(ResponseCancel) = "response.cancel",
    }
}

crate::dashscope::core::dashscope_server_events! {
    /// Every event a Qwen-Audio-Realtime server may send: the DashScope
    /// family's shared events (`dashscope::core::events`; `speech_stopped`
    /// with its `reason`, the user-transcript delta with `text` and `stash`)
    /// and its own.
    pub enum ServerEvent {
        speech_stopped: SpeechStopped,
        transcription_delta: TranscriptionDelta,
        /// An item was deleted.
        ConversationItemDeleted(ItemRef) = "conversation.item.deleted",
        /// An item read back.
        ConversationItemRetrieved(ItemEvent) = "conversation.item.retrieved",
        /// Ambient speech so far (smart_turn): never a turn, never a reply.
        AmbientTranscriptionDelta(TranscriptionDelta) = "conversation.item.ambient_audio_transcription.delta",
        /// Ambient speech, whole (smart_turn).
        AmbientTranscriptionCompleted(AmbientCompleted) = "conversation.item.ambient_audio_transcription.completed",
        /// Voiceprint registration started (before `session.updated`).
        VoiceprintInProgress(VoiceprintEvent) = "voiceprint_audio_list.in_progress",
        /// Voiceprint registration finished.
        VoiceprintCompleted(VoiceprintEvent) = "voiceprint_audio_list.completed",
        /// Voiceprint registration failed (the conversation goes on).
        VoiceprintFailed(VoiceprintEvent) = "voiceprint_audio_list.failed",
    }
}

crate::lossless!(
    SpeechStopped,
    TranscriptionDelta,
    AmbientCompleted,
    VoiceprintEvent,
);
