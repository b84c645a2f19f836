//! Google Gemini Live (`BidiGenerateContent`): wire types, the sans-IO codec,
//! capabilities and its connect options. Reference: the Live API
//! (<https://ai.google.dev/api/live>).

pub mod codec;
pub mod models;
pub mod resume;
pub mod usage;
pub mod wire;

pub use codec::{Decoder, Encoder, GeminiCodec, DIALECT};
pub use resume::ResumingSession;

use crate::capabilities::{Capabilities, SessionLimits};
use crate::client::{ClientError, FrameTap, RealtimeClient};
use crate::registry::ConnectOptions;

/// Input audio rate (other rates are declared in the MIME type and resampled by the service).
pub const INPUT_RATE: u32 = 16_000;
/// Output audio rate.
pub const OUTPUT_RATE: u32 = 24_000;
/// The hosted endpoint's base URL.
pub const DEFAULT_BASE_URL: &str = "wss://generativelanguage.googleapis.com";

/// What Gemini Live supports, for a model without a row of its own (the
/// fallback row of [`models::GEMINI_MODELS`]; see [`capabilities_for`]).
///
/// No commit or clear (turns end by activity detection or `activityEnd`), no
/// "respond now" (the service answers on its own), cancellation by user
/// activity, resumption by handle. Audio-only sessions last about 15 minutes
/// without context compression; each connection about 10 (then `goAway`).
pub fn capabilities() -> Capabilities {
    capabilities_for("")
}

/// What Gemini Live supports with `model`: [`capabilities`], plus what the
/// model's row in [`models::GEMINI_MODELS`] says about background tool calls,
/// result scheduling and interaction status.
pub fn capabilities_for(model: &str) -> Capabilities {
    let row = models::model_family(model);
    Capabilities {
        dialect: codec::DIALECT.to_owned(),
        text_input: true,
        image_input: true,
        truncation: false,
        server_vad: true,
        manual_turns: true,
        tool_calls: true,
        response_after_tool_result: false,
        resumption: true,
        end_handshake: false,
        vad_events: false,
        session_updates: false,
        tool_call_deltas: false,
        inferred_turns: false,
        delegated_tools: false,
        continuous_input: false,
        tool_calls_non_blocking: row.tool_behavior_default == models::ToolBehavior::NonBlocking,
        tool_result_scheduling: row.scheduling,
        interaction_status: row.emits_interaction_status,
        input_sample_rate: INPUT_RATE,
        output_sample_rate: OUTPUT_RATE,
        limits: SessionLimits {
            session_secs: Some(15 * 60),
            connection_secs: Some(10 * 60),
            context_tokens: None,
            announces_expiry: false,
            warns_before_close: true,
        },
    }
}

/// Options for `model` (without the `models/` prefix) at `base_url`
/// (`wss://generativelanguage.googleapis.com`, or a mock's `ws://…`) in
/// Gemini Live; connect with [`registry::connect`](fn@crate::registry::connect)
/// (the first input sent must be the session configuration, `setup`).
pub fn connect_options(base_url: impl Into<String>, model: impl Into<String>) -> ConnectOptions {
    ConnectOptions::new(&crate::registry::table::GEMINI_LIVE, base_url, model)
}

/// Opens a Gemini Live session decoding with `codec` (a resumed session's,
/// whose ids continue the conversation's), optionally logging raw frames to
/// `tap`.
pub async fn connect_with_codec(
    options: &ConnectOptions,
    tap: Option<FrameTap>,
    codec: GeminiCodec,
) -> Result<RealtimeClient, ClientError> {
    RealtimeClient::connect_trusting(options.request()?, Box::new(codec), tap, &options.trust).await
}
