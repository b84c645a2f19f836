//! Serde types for DashScope's Qwen-TTS realtime protocol.
//!
//! The envelope is Qwen-Omni's (OpenAI-beta flavoured, `type` + `event_id`),
//! so the response, item, content and error payloads are the same Rust types
//! as Omni's. What is TTS-only is typed here: the session (voice, `mode`,
//! `language_type`, `response_format`, `sample_rate`, …) and the text buffer
//! events. Unknown event types deserialise to `Unknown`; unknown fields land in
//! each struct's `extra` map.

use crate::dashscope::wire::{
    BufferCommitted, ContentDelta, ContentPartEvent, ContentRef, ErrorEvent, Opaque,
    OutputItemEvent, ResponseEvent,
};
use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// The WebSocket dialect name, as in cassette headers.
pub const DIALECT: &str = "dashscope-tts";

/// How the server decides when to synthesise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The server buffers text, cuts it where it sees fit and speaks each
    /// piece (the default).
    #[default]
    ServerCommit,
    /// Nothing is spoken until the client commits the buffer.
    Commit,
}

impl Mode {
    /// The wire name (`server_commit`, `commit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ServerCommit => "server_commit",
            Mode::Commit => "commit",
        }
    }

    /// The mode a wire name means, if it is one.
    pub fn from_wire(name: &str) -> Option<Mode> {
        [Mode::ServerCommit, Mode::Commit]
            .into_iter()
            .find(|mode| mode.as_str() == name)
    }
}

/// A Qwen-TTS session (`session.update`, `session.created`, `session.updated`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TtsSession {
    /// Server-assigned id (`sess_…`); the SDK reads it.
    pub id: Option<String>,
    /// `realtime.session`.
    pub object: Option<String>,
    /// Model serving the session.
    pub model: Option<String>,
    /// System voice (`Cherry`, `Ethan`, …) or a custom voice id.
    pub voice: Option<String>,
    /// `server_commit` (default) or `commit` (kept as sent: an unknown value
    /// survives a round trip; [`Mode::from_wire`] reads it).
    pub mode: Option<String>,
    /// `Auto` (default), `English`, `Chinese`, …
    pub language_type: Option<String>,
    /// `pcm` (default), `wav`, `mp3`, `opus`.
    pub response_format: Option<String>,
    /// Output rate: 8000, 16000, 24000 (default), 48000.
    pub sample_rate: Option<u32>,
    /// 0.5–2.0 (not on `qwen-tts-realtime`).
    pub speech_rate: Option<f64>,
    /// 0–100 (not on `qwen-tts-realtime`).
    pub volume: Option<f64>,
    /// 0.5–2.0 (not on `qwen-tts-realtime`).
    pub pitch_rate: Option<f64>,
    /// Unmodelled fields (`bit_rate`, `instructions`, `enable_tn`, …), verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.update`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionUpdate {
    /// Client event id (the SDK sends `event_<32 hex>`).
    pub event_id: Option<String>,
    /// The settings to change.
    pub session: Box<TtsSession>,
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
    /// The effective session.
    pub session: Box<TtsSession>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `input_text_buffer.append`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TextAppend {
    /// Client event id.
    pub event_id: Option<String>,
    /// Text to add to the buffer.
    pub text: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::tagged_union! {
    /// Every event a Qwen-TTS realtime client may send.
    pub enum TtsClientEvent {
        /// Configure the session (before synthesis starts).
        SessionUpdate(SessionUpdate) = "session.update",
        /// Add text to the buffer.
        InputTextBufferAppend(TextAppend) = "input_text_buffer.append",
        /// Speak what is buffered now.
        InputTextBufferCommit(Opaque) = "input_text_buffer.commit",
        /// Drop what is buffered.
        InputTextBufferClear(Opaque) = "input_text_buffer.clear",
        /// Stop the response in progress (sent by the SDK; not in the published list).
        ResponseCancel(Opaque) = "response.cancel",
        /// Speak what is left, confirm, close.
        SessionFinish(Opaque) = "session.finish",
    }
}

crate::tagged_union! {
    /// Every event a Qwen-TTS realtime server may send.
    pub enum TtsServerEvent {
        /// An error (the socket normally stays open).
        Error(ErrorEvent) = "error",
        /// First frame of every session.
        SessionCreated(SessionEvent) = "session.created",
        /// Answer to `session.update`.
        SessionUpdated(SessionEvent) = "session.updated",
        /// The buffer was committed.
        InputTextBufferCommitted(BufferCommitted) = "input_text_buffer.committed",
        /// The buffer was cleared.
        InputTextBufferCleared(Opaque) = "input_text_buffer.cleared",
        /// A response (one spoken piece) started.
        ResponseCreated(ResponseEvent) = "response.created",
        /// A response ended.
        ResponseDone(ResponseEvent) = "response.done",
        /// Its output item started.
        ResponseOutputItemAdded(OutputItemEvent) = "response.output_item.added",
        /// Its output item ended.
        ResponseOutputItemDone(OutputItemEvent) = "response.output_item.done",
        /// Its audio part started.
        ResponseContentPartAdded(ContentPartEvent) = "response.content_part.added",
        /// Its audio part ended.
        ResponseContentPartDone(ContentPartEvent) = "response.content_part.done",
        /// Audio, base64 in the negotiated format.
        ResponseAudioDelta(ContentDelta) = "response.audio.delta",
        /// The piece's audio is complete.
        ResponseAudioDone(ContentRef) = "response.audio.done",
        /// Answer to `session.finish`; the server closes next.
        SessionFinished(Opaque) = "session.finished",
    }
}

crate::lossless!(TtsSession, SessionUpdate, SessionEvent, TextAppend,);
