//! OpenAI Realtime: wire types, the sans-IO codec and its connect options.
//!
//! Both dialects are supported: GA (`response.output_audio.delta`) and beta
//! (`OpenAI-Beta: realtime=v1`, `response.audio.delta`). Reference: the
//! Realtime API (<https://platform.openai.com/docs/api-reference/realtime>).

pub mod codec;
pub mod dialect;
pub(crate) mod family;
pub mod wire;

pub use codec::{Decoder, Encoder, OpenAiCodec};
pub use dialect::Dialect;

use crate::registry::ConnectOptions;

/// Options for `model` at `base_url` (`wss://api.openai.com/v1`, a mock's
/// `ws://127.0.0.1:PORT/v1`; `/realtime` is appended) in `dialect`; connect
/// with [`registry::connect`](fn@crate::registry::connect).
pub fn connect_options(
    base_url: impl Into<String>,
    dialect: Dialect,
    model: impl Into<String>,
) -> ConnectOptions {
    ConnectOptions::new(dialect.spec(), base_url, model)
}
