//! The normalised chat stream: what an agent consumes, whichever provider.
//!
//! Text comes in two kinds, so that an agent never has to know where a
//! provider puts it: [`ChatEvent::TextDelta`] is text to *read or speak*
//! (a text answer; a stage-1 agent feeds it to TTS), and
//! [`ChatEvent::TranscriptDelta`] is the text of audio the model is speaking
//! itself (an omni answer; a stage-2 agent plays [`ChatEvent::AudioDelta`] and
//! shows the transcript). OpenAI sends the latter in `delta.audio.transcript`,
//! DashScope in `delta.content`; the decoder routes both.

use super::chunk::FinishReason;
use crate::audio::{AudioFormat, Pcm};
use crate::event::Usage;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One normalised event of a chat-completions stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The first chunk arrived: the completion's id, model and creation time.
    Started {
        /// Completion id (`chatcmpl-…`).
        completion_id: Option<String>,
        /// The resolved model.
        model: Option<String>,
        /// Unix seconds.
        created: Option<i64>,
    },
    /// A fragment of a text answer (no audio accompanies it).
    TextDelta {
        /// Choice number.
        choice: u32,
        /// The fragment.
        text: String,
    },
    /// A fragment of what the model is saying in its audio answer.
    TranscriptDelta {
        /// Choice number.
        choice: u32,
        /// The fragment.
        text: String,
    },
    /// Audio of the answer: whole PCM16 samples (a split sample is carried to the next delta).
    AudioDelta {
        /// Choice number.
        choice: u32,
        /// PCM16 little-endian mono samples.
        pcm: Pcm,
        /// Their format.
        format: AudioFormat,
    },
    /// A fragment of a refusal (OpenAI).
    RefusalDelta {
        /// Choice number.
        choice: u32,
        /// The fragment.
        text: String,
    },
    /// A fragment of thinking text (DashScope `reasoning_content`).
    ReasoningDelta {
        /// Choice number.
        choice: u32,
        /// The fragment.
        text: String,
    },
    /// A fragment of a tool call, as it streams.
    ToolCallDelta {
        /// Choice number.
        choice: u32,
        /// The call's position (the wire key of its fragments).
        index: u32,
        /// Call id, once known.
        call_id: Option<String>,
        /// Function name, once known.
        name: Option<String>,
        /// This fragment's piece of the arguments (may be empty on the first fragment).
        arguments_delta: String,
    },
    /// A complete tool call, assembled from its fragments (at `finish_reason`
    /// or at the end of the stream). `arguments` is the concatenated JSON
    /// text; it is not guaranteed to be valid JSON.
    ToolCall {
        /// Choice number.
        choice: u32,
        /// The call's position.
        index: u32,
        /// Call id (empty if the provider never sent one).
        call_id: String,
        /// Function name (empty if the provider never sent one).
        name: String,
        /// Arguments as JSON text.
        arguments: String,
    },
    /// A choice finished (more chunks — audio expiry, usage — may follow).
    Finished {
        /// Choice number.
        choice: u32,
        /// Why.
        reason: FinishReason,
    },
    /// The stream is over (`[DONE]`, or the end of a stream that had finished).
    Done {
        /// Choice 0's finish reason (the first one seen when there is no choice 0).
        finish_reason: Option<FinishReason>,
        /// Token usage, when the stream carried it.
        usage: Option<Usage>,
        /// The spoken answer's id and expiry, when there was audio.
        audio: Option<AudioInfo>,
    },
}

/// Identity of a spoken answer, for referring to it in later turns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// The first non-empty `delta.audio.id`.
    pub id: Option<String>,
    /// The last `delta.audio.expires_at` (unix seconds).
    pub expires_at: Option<i64>,
}

impl ChatEvent {
    /// The text of a text, transcript, refusal or reasoning delta.
    pub fn text(&self) -> Option<&str> {
        match self {
            ChatEvent::TextDelta { text, .. }
            | ChatEvent::TranscriptDelta { text, .. }
            | ChatEvent::RefusalDelta { text, .. }
            | ChatEvent::ReasoningDelta { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is the first sign of the answer's content (text, transcript,
    /// audio or a tool call): what time-to-first-delta measures.
    pub fn is_content(&self) -> bool {
        matches!(
            self,
            ChatEvent::TextDelta { .. }
                | ChatEvent::TranscriptDelta { .. }
                | ChatEvent::AudioDelta { .. }
                | ChatEvent::RefusalDelta { .. }
                | ChatEvent::ToolCallDelta { .. }
        )
    }
}

/// An event and when the adapter received the bytes that completed it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedChatEvent {
    /// The event.
    pub event: ChatEvent,
    /// Receive time of the network chunk it was decoded from.
    pub received_at: Instant,
}
