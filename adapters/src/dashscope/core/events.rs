//! The server events every DashScope realtime dialect sends, declared once.
//!
//! `dashscope_server_events!` writes a
//! dialect's `ServerEvent` enum (through [`tagged_union!`](crate::tagged_union))
//! from the shared list plus the dialect's own events, and a `shared()`
//! method that views a shared event as a [`SharedEvent`], which
//! the core decoder normalises. Two shared events differ in
//! payload between the dialects (`speech_stopped`, the input-transcription
//! delta): the dialect names their types and decodes them itself.

use crate::dashscope::wire::{ResponseEvent, SessionEvent};
use crate::openai::wire::common::Opaque;
use crate::openai::wire::server::{
    BufferCommitted, ContentDelta, ContentPartEvent, ContentRef, ErrorEvent,
    FunctionCallArgumentsDelta, FunctionCallArgumentsDone, InputTranscriptionCompleted,
    InputTranscriptionFailed, ItemEvent, OutputItemEvent, SpeechStarted, TextDone, TranscriptDone,
};

/// A server event both DashScope realtime dialects send with the same
/// payload, borrowed from the dialect's own `ServerEvent`.
#[derive(Debug, Clone, Copy)]
pub enum SharedEvent<'e> {
    /// `error`.
    Error(&'e ErrorEvent),
    /// `session.created`.
    SessionCreated(&'e SessionEvent),
    /// `session.updated`.
    SessionUpdated(&'e SessionEvent),
    /// `input_audio_buffer.speech_started`.
    SpeechStarted(&'e SpeechStarted),
    /// `input_audio_buffer.committed`.
    Committed(&'e BufferCommitted),
    /// `input_audio_buffer.cleared`.
    Cleared(&'e Opaque),
    /// `conversation.item.created`.
    ItemCreated(&'e ItemEvent),
    /// `conversation.item.input_audio_transcription.completed`.
    TranscriptionCompleted(&'e InputTranscriptionCompleted),
    /// `conversation.item.input_audio_transcription.failed`.
    TranscriptionFailed(&'e InputTranscriptionFailed),
    /// `response.created`.
    ResponseCreated(&'e ResponseEvent),
    /// `response.done`.
    ResponseDone(&'e ResponseEvent),
    /// `response.output_item.added` / `.done`.
    OutputItem(&'e OutputItemEvent),
    /// `response.content_part.added` / `.done`.
    ContentPart(&'e ContentPartEvent),
    /// `response.text.delta`.
    TextDelta(&'e ContentDelta),
    /// `response.text.done`.
    TextDone(&'e TextDone),
    /// `response.audio.delta`.
    AudioDelta(&'e ContentDelta),
    /// `response.audio.done`.
    AudioDone(&'e ContentRef),
    /// `response.audio_transcript.delta`.
    TranscriptDelta(&'e ContentDelta),
    /// `response.audio_transcript.done`.
    TranscriptDone(&'e TranscriptDone),
    /// `response.function_call_arguments.delta`.
    ToolDelta(&'e FunctionCallArgumentsDelta),
    /// `response.function_call_arguments.done`.
    ToolDone(&'e FunctionCallArgumentsDone),
}

/// Declares a DashScope realtime dialect's `ServerEvent`: the shared events
/// (in Qwen-Omni's order), then the dialect's own, as a
/// [`tagged_union!`](crate::tagged_union) with a `shared()` view.
///
/// `speech_stopped` and `transcription_delta` name the payload types of the
/// two shared events whose shape is the dialect's own; `shared()` returns
/// `None` for them and for the dialect's own events.
macro_rules! dashscope_server_events {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            speech_stopped: $stopped:ty,
            transcription_delta: $delta:ty,
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) = $tag:literal, )*
        }
    ) => {
        $crate::tagged_union! {
            $(#[$meta])*
            pub enum $name {
                /// An error.
                Error($crate::openai::wire::server::ErrorEvent) = "error",
                /// First frame of every session.
                SessionCreated($crate::dashscope::wire::SessionEvent) = "session.created",
                /// Answer to `session.update`.
                SessionUpdated($crate::dashscope::wire::SessionEvent) = "session.updated",
                /// VAD: speech started.
                SpeechStarted($crate::openai::wire::server::SpeechStarted) = "input_audio_buffer.speech_started",
                /// VAD: speech stopped.
                SpeechStopped($stopped) = "input_audio_buffer.speech_stopped",
                /// Buffer committed as a user item.
                InputAudioBufferCommitted($crate::openai::wire::server::BufferCommitted) = "input_audio_buffer.committed",
                /// Buffer cleared.
                InputAudioBufferCleared($crate::openai::wire::common::Opaque) = "input_audio_buffer.cleared",
                /// An item was created.
                ConversationItemCreated($crate::openai::wire::server::ItemEvent) = "conversation.item.created",
                /// Piece of a user transcript.
                InputTranscriptionDelta($delta) = "conversation.item.input_audio_transcription.delta",
                /// Whole user transcript.
                InputTranscriptionCompleted($crate::openai::wire::server::InputTranscriptionCompleted) = "conversation.item.input_audio_transcription.completed",
                /// User transcription failed.
                InputTranscriptionFailed($crate::openai::wire::server::InputTranscriptionFailed) = "conversation.item.input_audio_transcription.failed",
                /// A response started.
                ResponseCreated($crate::dashscope::wire::ResponseEvent) = "response.created",
                /// A response ended.
                ResponseDone($crate::dashscope::wire::ResponseEvent) = "response.done",
                /// An output item started.
                ResponseOutputItemAdded($crate::openai::wire::server::OutputItemEvent) = "response.output_item.added",
                /// An output item ended.
                ResponseOutputItemDone($crate::openai::wire::server::OutputItemEvent) = "response.output_item.done",
                /// A content part started.
                ResponseContentPartAdded($crate::openai::wire::server::ContentPartEvent) = "response.content_part.added",
                /// A content part ended.
                ResponseContentPartDone($crate::openai::wire::server::ContentPartEvent) = "response.content_part.done",
                /// Text delta (text-only modality).
                ResponseTextDelta($crate::openai::wire::server::ContentDelta) = "response.text.delta",
                /// Text done.
                ResponseTextDone($crate::openai::wire::server::TextDone) = "response.text.done",
                /// Audio delta (base64 PCM 24 kHz).
                ResponseAudioDelta($crate::openai::wire::server::ContentDelta) = "response.audio.delta",
                /// Audio done.
                ResponseAudioDone($crate::openai::wire::server::ContentRef) = "response.audio.done",
                /// Transcript delta of the spoken answer.
                ResponseAudioTranscriptDelta($crate::openai::wire::server::ContentDelta) = "response.audio_transcript.delta",
                /// Transcript of the spoken answer.
                ResponseAudioTranscriptDone($crate::openai::wire::server::TranscriptDone) = "response.audio_transcript.done",
                /// Function-call arguments fragment (models with tools).
                FunctionCallArgumentsDelta($crate::openai::wire::server::FunctionCallArgumentsDelta) = "response.function_call_arguments.delta",
                /// Function call complete (models with tools).
                FunctionCallArgumentsDone($crate::openai::wire::server::FunctionCallArgumentsDone) = "response.function_call_arguments.done",
                $( $(#[$vmeta])* $variant($payload) = $tag, )*
            }
        }

        impl $name {
            /// This event as one the DashScope family shares, or `None` for
            /// the dialect's own events (and its `speech_stopped` and
            /// transcription delta), which the dialect decodes itself.
            pub fn shared(&self) -> Option<$crate::dashscope::core::SharedEvent<'_>> {
                use $crate::dashscope::core::SharedEvent as E;
                Some(match self {
                    $name::Error(e) => E::Error(e),
                    $name::SessionCreated(e) => E::SessionCreated(e),
                    $name::SessionUpdated(e) => E::SessionUpdated(e),
                    $name::SpeechStarted(e) => E::SpeechStarted(e),
                    $name::InputAudioBufferCommitted(e) => E::Committed(e),
                    $name::InputAudioBufferCleared(e) => E::Cleared(e),
                    $name::ConversationItemCreated(e) => E::ItemCreated(e),
                    $name::InputTranscriptionCompleted(e) => E::TranscriptionCompleted(e),
                    $name::InputTranscriptionFailed(e) => E::TranscriptionFailed(e),
                    $name::ResponseCreated(e) => E::ResponseCreated(e),
                    $name::ResponseDone(e) => E::ResponseDone(e),
                    $name::ResponseOutputItemAdded(e) | $name::ResponseOutputItemDone(e) => E::OutputItem(e),
                    $name::ResponseContentPartAdded(e) | $name::ResponseContentPartDone(e) => E::ContentPart(e),
                    $name::ResponseTextDelta(e) => E::TextDelta(e),
                    $name::ResponseTextDone(e) => E::TextDone(e),
                    $name::ResponseAudioDelta(e) => E::AudioDelta(e),
                    $name::ResponseAudioDone(e) => E::AudioDone(e),
                    $name::ResponseAudioTranscriptDelta(e) => E::TranscriptDelta(e),
                    $name::ResponseAudioTranscriptDone(e) => E::TranscriptDone(e),
                    $name::FunctionCallArgumentsDelta(e) => E::ToolDelta(e),
                    $name::FunctionCallArgumentsDone(e) => E::ToolDone(e),
                    _ => return None,
                })
            }
        }
    };
}
pub(crate) use dashscope_server_events;
