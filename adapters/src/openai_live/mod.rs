//! OpenAI GPT-Live (`/v1/live/sessions`): wire types, the sans-IO codec and
//! its capabilities.
//!
//! GPT-Live is OpenAI's full-duplex voice protocol. It is not a dialect of
//! the Realtime API: different URL, first frame (`session.start`), event
//! vocabulary and tool model (delegation), so it lives in its own folder
//! rather than in [`openai`](crate::openai), whose GA/beta wire types and
//! [`openai::Dialect`](crate::openai::Dialect) switch share nothing with it.
//! The provider is the same (`openai` in the registry). Reference: the
//! official Python SDK's `types/live` (openai 3.57.0) and the protocol notes
//! (`openai-gpt-live.md`).

pub mod codec;
pub mod decoder;
pub mod encoder;
pub mod settings;
mod turns;
pub mod wire;

pub use codec::LiveCodec;
pub use decoder::Decoder;
pub use encoder::Encoder;
pub use settings::{DelegationMode, LiveSettings, ResultPlacement};

use crate::capabilities::{Capabilities, SessionLimits};
use crate::registry::ConnectOptions;

/// The dialect id cassettes, journals and the registry use.
pub const DIALECT: &str = "openai-live";

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "gpt-live-1";

/// Options for `model` at `base_url` (`wss://api.openai.com/v1`, a mock's
/// `ws://127.0.0.1:PORT/v1`; `/live/sessions` is appended, with no query:
/// the model goes in `session.start`); connect with
/// [`registry::connect`](fn@crate::registry::connect).
pub fn connect_options(base_url: impl Into<String>, model: impl Into<String>) -> ConnectOptions {
    ConnectOptions::new(&crate::registry::table::OPENAI_LIVE, base_url, model)
}

/// What GPT-Live supports (the same for every `gpt-live-*` model), with the
/// default settings (client delegation).
///
/// Honest about what it lacks: no user text turn, no images, no truncation,
/// no manual turns or VAD settings (turn-taking is the model's), no
/// `response.create` for the voice model, no resumption, no argument
/// streaming, no VAD events (turns are inferred), and instructions, voice
/// and format are fixed at start (`session.update` only changes
/// delegation settings, so it does not count as taking configuration
/// changes). Its clock is the input audio (`continuous_input`): a client
/// streams continuously, silence included.
pub fn capabilities(_model: &str) -> Capabilities {
    Capabilities {
        dialect: DIALECT.to_owned(),
        text_input: false,
        image_input: false,
        truncation: false,
        server_vad: true,
        manual_turns: false,
        tool_calls: true,
        response_after_tool_result: false,
        resumption: false,
        end_handshake: true,
        vad_events: false,
        session_updates: false,
        tool_call_deltas: false,
        inferred_turns: true,
        delegated_tools: true,
        continuous_input: true,
        tool_calls_non_blocking: false,
        tool_result_scheduling: false,
        interaction_status: false,
        input_sample_rate: 24_000,
        output_sample_rate: 24_000,
        limits: SessionLimits {
            // The maximum duration is unconfirmed; `expires_at` says it.
            session_secs: None,
            connection_secs: None,
            context_tokens: None,
            announces_expiry: true,
            warns_before_close: false,
        },
    }
}
