//! DashScope Qwen-Omni realtime: wire types, the sans-IO codec, capabilities
//! and a connect helper. Reference: Alibaba Cloud Model Studio's Qwen-Omni
//! realtime API (the `qwen-omni-realtime` WebSocket interface).

pub mod codec;
pub mod tts;
pub mod wire;

pub use codec::{DashScopeCodec, Decoder, Encoder, FormatNames, DIALECT};

use crate::capabilities::{Capabilities, SessionLimits};
use crate::client::{ClientError, FrameTap, RealtimeClient};

/// Input audio rate: PCM16 mono at 16 kHz.
pub const INPUT_RATE: u32 = 16_000;
/// Output audio rate: PCM16 mono at 24 kHz.
pub const OUTPUT_RATE: u32 = 24_000;
/// The hosted endpoint (China region).
pub const DEFAULT_URL: &str = "wss://dashscope.aliyuncs.com/api-ws/v1/realtime";

/// What Qwen-Omni realtime supports for `model`.
///
/// Text input is declared unsupported: the protocol notes list
/// `conversation.item.create` text turns as unconfirmed per model, and the
/// reference agent framework treats the dialect as audio-only. Function calling
/// exists only on the 3.5 family.
pub fn capabilities_for(model: &str) -> Capabilities {
    Capabilities {
        dialect: codec::DIALECT.to_owned(),
        text_input: false,
        image_input: true,
        truncation: false,
        server_vad: true,
        manual_turns: true,
        tool_calls: model.contains("3.5"),
        response_after_tool_result: true,
        resumption: false,
        end_handshake: true,
        vad_events: true,
        session_updates: true,
        tool_call_deltas: true,
        input_sample_rate: INPUT_RATE,
        output_sample_rate: OUTPUT_RATE,
        limits: SessionLimits {
            session_secs: Some(120 * 60),
            connection_secs: None,
            context_tokens: None,
            // `expires_at` in `session.created`, as in OpenAI's beta shape.
            announces_expiry: true,
            warns_before_close: false,
        },
    }
}

/// Where and how to open a Qwen-Omni session.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Endpoint without a query string (the model is appended as `?model=`).
    pub url: String,
    /// API key, sent as `Authorization: Bearer`.
    pub api_key: Option<String>,
    /// Model (`qwen3-omni-flash-realtime`, `qwen3.5-omni-plus-realtime`, …).
    pub model: String,
    /// Optional `X-DashScope-WorkSpace`.
    pub workspace: Option<String>,
    /// Extra query parameters (a replaying mock reads `cassette`).
    pub extra_query: Vec<(String, String)>,
    /// Which certificate authorities a `wss://` URL is checked against.
    pub trust: crate::tls::TlsTrust,
}

impl ConnectOptions {
    /// Options for `model` at `url`.
    pub fn new(url: impl Into<String>, model: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            api_key: None,
            model: model.into(),
            workspace: None,
            extra_query: Vec::new(),
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

    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_query.push((key.into(), value.into()));
        self
    }

    /// The same options in the registry's uniform shape.
    pub fn uniform(&self) -> crate::registry::ConnectOptions {
        let mut options = crate::registry::ConnectOptions::new(
            &crate::registry::table::DASHSCOPE_OMNI,
            &self.url,
            &self.model,
        )
        .trust(self.trust.clone());
        options.api_key = self.api_key.clone();
        options.query = self.extra_query.clone();
        if let Some(workspace) = &self.workspace {
            options = options.header("x-dashscope-workspace", workspace);
        }
        options
    }

    /// The full session URL.
    pub fn full_url(&self) -> String {
        self.uniform().full_url()
    }

    /// The WebSocket handshake request.
    pub fn request(&self) -> Result<http::Request<()>, ClientError> {
        self.uniform().request()
    }
}

/// Opens a Qwen-Omni session, optionally logging raw frames to `tap`.
pub async fn connect(
    options: &ConnectOptions,
    tap: Option<FrameTap>,
) -> Result<RealtimeClient, ClientError> {
    crate::registry::connect_with_tap(&options.uniform(), tap).await
}
