//! DashScope Qwen-Omni realtime: wire types, the sans-IO codec, capabilities
//! and its connect options. Reference: Alibaba Cloud Model Studio's Qwen-Omni
//! realtime API (the `qwen-omni-realtime` WebSocket interface).

pub mod codec;
pub mod core;
pub mod models;
pub mod tts;
pub mod wire;

pub use codec::{DashScopeCodec, Decoder, Encoder, FormatNames, DIALECT};

use crate::capabilities::Capabilities;
use crate::registry::ConnectOptions;

/// Input audio rate: PCM16 mono at 16 kHz.
pub const INPUT_RATE: u32 = 16_000;
/// Output audio rate: PCM16 mono at 24 kHz.
pub const OUTPUT_RATE: u32 = 24_000;
/// The hosted endpoint (China region).
pub const DEFAULT_URL: &str = "wss://dashscope.aliyuncs.com/api-ws/v1/realtime";

/// What Qwen-Omni realtime supports for `model`, from its row in the model
/// table ([`models::family`]).
///
/// Text input is declared unsupported on every row: the protocol notes list
/// `conversation.item.create` text turns as unconfirmed (refused outright on
/// 3.8), and the reference agent framework treats the dialect as audio-only.
/// Function calling exists from qwen3.5-omni on; `session.finish` is
/// acknowledged except on qwen3.8-omni. Every model allows one response at a
/// time and takes tool results only as `function_call_output` items followed
/// by `response.create` (`response_after_tool_result`).
pub fn capabilities_for(model: &str) -> Capabilities {
    let family = models::family(model);
    core::capabilities(core::CapabilityRow {
        dialect: codec::DIALECT,
        text_input: family.text_input,
        image_input: true,
        tool_calls: family.tools,
        end_handshake: family.finish_ack,
        context_tokens: family.history.tokens,
        // `expires_at` in `session.created`, as in OpenAI's beta shape.
        announces_expiry: true,
    })
}

/// Options for `model` at `url` (the whole endpoint,
/// `wss://dashscope.aliyuncs.com/api-ws/v1/realtime` or a mock's; the model
/// is appended as `?model=`) in Qwen-Omni realtime; connect with
/// [`registry::connect`](fn@crate::registry::connect). A workspace is
/// `.header("X-DashScope-WorkSpace", id)`.
pub fn connect_options(url: impl Into<String>, model: impl Into<String>) -> ConnectOptions {
    ConnectOptions::new(&crate::registry::table::DASHSCOPE_OMNI, url, model)
}
