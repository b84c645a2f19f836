//! DashScope Qwen-Audio-Realtime (`qwen-audio-3.x-realtime-*`): wire types,
//! the sans-IO codec, the model table, capabilities and connect options.
//!
//! It shares the URL path (`/api-ws/v1/realtime`), the framing and most
//! payloads with Qwen-Omni realtime ([`crate::dashscope`]), and is told apart
//! by the model name; what is its own — text turns, `smart_turn` turn
//! detection with voiceprints, ambient transcripts that never start a reply,
//! item management, no `session.finish` — is in this folder.

pub mod codec;
pub mod models;
pub mod wire;

pub use codec::{Decoder, Encoder, QwenAudioCodec};
pub use models::{family, AudioFamily, FAMILIES};

use crate::capabilities::Capabilities;
use crate::registry::ConnectOptions;

/// The dialect id cassettes, reports and capabilities use.
pub const DIALECT: &str = "dashscope-audio";
/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "qwen-audio-3.1-realtime-plus";
/// What a model name starts with to be served by this dialect (the SDK's v2
/// client picks its Qwen-Audio shape by the same prefix).
pub const MODEL_PREFIX: &str = "qwen-audio-";
/// The input-transcription model the service reports (not client-selectable).
pub const TRANSCRIPTION_MODEL: &str = "fun-asr";
/// Input audio rate: PCM16 mono at 16 kHz.
pub const INPUT_RATE: u32 = crate::dashscope::INPUT_RATE;
/// Output audio rate: PCM16 mono at 24 kHz.
pub const OUTPUT_RATE: u32 = crate::dashscope::OUTPUT_RATE;

/// Whether `model` is a Qwen-Audio-Realtime model (by its name's prefix).
pub fn is_audio_model(model: &str) -> bool {
    crate::registry::models::model_id(model).starts_with(MODEL_PREFIX)
}

/// What Qwen-Audio-Realtime supports for `model`: text turns, tools (with an
/// explicit `response.create` after each result), server VAD and
/// push-to-talk, no images, no truncation, no resumption, and no goodbye
/// handshake (the client just closes). The session length is not documented;
/// Qwen-Omni's 120 minutes is assumed (unconfirmed).
pub fn capabilities(model: &str) -> Capabilities {
    let _ = model; // every family is the same on these points (see `models`)
    crate::dashscope::core::capabilities(crate::dashscope::core::CapabilityRow {
        dialect: DIALECT,
        text_input: true,
        image_input: false,
        tool_calls: true,
        end_handshake: false,
        context_tokens: None,
        announces_expiry: false,
    })
}

/// Options for `model` at `url` (the whole endpoint, the model is appended as
/// `?model=`); connect with [`registry::connect`](fn@crate::registry::connect).
pub fn connect_options(url: impl Into<String>, model: impl Into<String>) -> ConnectOptions {
    ConnectOptions::new(&crate::registry::table::DASHSCOPE_AUDIO, url, model)
}
