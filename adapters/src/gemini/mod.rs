//! Google Gemini Live (`BidiGenerateContent`): wire types, the sans-IO codec,
//! capabilities and a connect helper. Reference: the Live API
//! (<https://ai.google.dev/api/live>).

pub mod codec;
pub mod resume;
pub mod usage;
pub mod wire;

pub use codec::{Decoder, Encoder, GeminiCodec, DIALECT};
pub use resume::ResumingSession;

use crate::capabilities::{Capabilities, SessionLimits};
use crate::client::{ClientError, FrameTap, RealtimeClient};

/// Input audio rate (other rates are declared in the MIME type and resampled by the service).
pub const INPUT_RATE: u32 = 16_000;
/// Output audio rate.
pub const OUTPUT_RATE: u32 = 24_000;
/// The hosted endpoint's base URL.
pub const DEFAULT_BASE_URL: &str = "wss://generativelanguage.googleapis.com";

/// What Gemini Live supports.
///
/// No commit or clear (turns end by activity detection or `activityEnd`), no
/// "respond now" (the service answers on its own), cancellation by user
/// activity, resumption by handle. Audio-only sessions last about 15 minutes
/// without context compression; each connection about 10 (then `goAway`).
pub fn capabilities() -> Capabilities {
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

/// Where and how to open a Gemini Live session.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Base URL (`wss://generativelanguage.googleapis.com`, or a mock's `ws://…`).
    pub base_url: String,
    /// API key, sent as `x-goog-api-key`.
    pub api_key: Option<String>,
    /// Model without the `models/` prefix.
    pub model: String,
    /// Extra headers (a replaying mock reads `x-understudy-cassette`).
    pub headers: Vec<(String, String)>,
    /// Which certificate authorities a `wss://` URL is checked against.
    pub trust: crate::tls::TlsTrust,
}

impl ConnectOptions {
    /// Options for `model` at `base_url` (the registry's Gemini Live entry
    /// speaks API version `v1beta`).
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ConnectOptions {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            headers: Vec::new(),
            trust: crate::tls::TlsTrust::System,
        }
    }

    /// Sets the certificate authorities trusted for `wss://` (default: the system's).
    pub fn trust(mut self, trust: crate::tls::TlsTrust) -> Self {
        self.trust = trust;
        self
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same options in the registry's uniform shape.
    pub fn uniform(&self) -> crate::registry::ConnectOptions {
        let mut options = crate::registry::ConnectOptions::new(
            &crate::registry::table::GEMINI_LIVE,
            &self.base_url,
            &self.model,
        )
        .trust(self.trust.clone());
        options.api_key = self.api_key.clone();
        options.headers = self.headers.clone();
        options
    }

    /// The full session URL.
    pub fn url(&self) -> String {
        self.uniform().full_url()
    }

    /// The WebSocket handshake request.
    pub fn request(&self) -> Result<http::Request<()>, ClientError> {
        self.uniform().request()
    }
}

/// Opens a Gemini Live session, optionally logging raw frames to `tap`.
/// The first input sent must be the session configuration (`setup`).
pub async fn connect(
    options: &ConnectOptions,
    tap: Option<FrameTap>,
) -> Result<RealtimeClient, ClientError> {
    connect_with_codec(options, tap, GeminiCodec::new(&options.model)).await
}

/// Like [`connect`], decoding with `codec` (a resumed session's, whose ids
/// continue the conversation's).
pub async fn connect_with_codec(
    options: &ConnectOptions,
    tap: Option<FrameTap>,
    codec: GeminiCodec,
) -> Result<RealtimeClient, ClientError> {
    RealtimeClient::connect_trusting(options.request()?, Box::new(codec), tap, &options.trust).await
}
