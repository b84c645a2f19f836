//! Streaming chat completions with audio output: OpenAI's `/v1/chat/completions`
//! and DashScope's compatible mode (Qwen-Omni), the two "omni" HTTP dialects.
//!
//! This is the protocol core of the toolkit's earlier agent stages: a text
//! stream to feed a TTS engine (stage 1), or a model that answers in audio
//! (stage 2). Layers, one job each:
//!
//! - [`request`] and [`chunk`]: wire types shared by the client and the mock
//!   (request body, `chat.completion.chunk`, `chat.completion`, error envelope);
//! - [`dialect`]: how the two services differ, as data, and the outgoing
//!   rewrites each needs;
//! - [`sse`] (shared with HTTP TTS): a sans-IO SSE parser; [`decode`]: chunks to [`ChatEvent`]s
//!   (with [`tool_calls`] and [`audio_stream`] assembling fragments);
//! - [`client`]: the `reqwest` transport, with receive timestamps for
//!   time-to-first-delta.
//!
//! Protocol reference: OpenAI's chat completions API with audio output
//! (<https://platform.openai.com/docs/guides/audio>) and DashScope's
//! OpenAI-compatible mode for Qwen-Omni, which follows it.

pub mod audio_stream;
pub mod chunk;
pub mod client;
pub mod decode;
pub mod dialect;
pub mod error;
pub mod event;
pub mod request;
pub use crate::sse;
pub mod tool_calls;

pub use chunk::{ApiError, ChatChunk, ChatCompletion, ChatUsage, ErrorBody, FinishReason};
pub use client::{ChatAnswer, ChatClient, ChatClientBuilder, ChatStream};
pub use decode::{ChatDecoder, ChatStreamDecoder};
pub use dialect::{ChatCapabilities, ChatDialect, TranscriptField};
pub use error::ChatError;
pub use event::{AudioInfo, ChatEvent, TimedChatEvent};
pub use request::{
    AudioOutput, ChatRequest, Content, ContentPart, Message, Role, Tool, ToolCall, ToolChoice,
};
