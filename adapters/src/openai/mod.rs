//! OpenAI Realtime: wire types, the sans-IO codec and a connect helper.
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

use crate::client::{ClientError, RealtimeClient};

/// Where and how to open an OpenAI Realtime session.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// WebSocket base URL up to the API version, e.g. `wss://api.openai.com/v1`
    /// or a mock's `ws://127.0.0.1:PORT/v1`; `/realtime` is appended.
    pub base_url: String,
    /// API key sent as `Authorization: Bearer`; none sends no header.
    pub api_key: Option<String>,
    /// Which dialect to speak.
    pub dialect: Dialect,
    /// Model to request.
    pub model: String,
    /// Extra query parameters, sent as given (the SDK's `extra_query`).
    pub extra_query: Vec<(String, String)>,
    /// Which certificate authorities a `wss://` URL is checked against.
    pub trust: crate::tls::TlsTrust,
}

impl ConnectOptions {
    /// Options for `model` at `base_url` in `dialect`, without a key.
    pub fn new(base_url: impl Into<String>, dialect: Dialect, model: impl Into<String>) -> Self {
        ConnectOptions {
            base_url: base_url.into(),
            api_key: None,
            dialect,
            model: model.into(),
            extra_query: Vec::new(),
            trust: crate::tls::TlsTrust::System,
        }
    }

    /// Adds a query parameter to the session URL.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_query.push((key.into(), value.into()));
        self
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

    /// The same options in the registry's uniform shape.
    pub fn uniform(&self) -> crate::registry::ConnectOptions {
        let mut options =
            crate::registry::ConnectOptions::new(self.dialect.spec(), &self.base_url, &self.model)
                .trust(self.trust.clone());
        options.api_key = self.api_key.clone();
        options.query = self.extra_query.clone();
        options
    }

    /// The full session URL (`…/realtime?model=…`).
    pub fn url(&self) -> String {
        self.uniform().full_url()
    }

    /// The WebSocket handshake request, with auth and dialect headers.
    pub fn request(&self) -> Result<http::Request<()>, ClientError> {
        self.uniform().request()
    }
}

/// Opens an OpenAI Realtime session.
pub async fn connect(options: &ConnectOptions) -> Result<RealtimeClient, ClientError> {
    connect_with_tap(options, None).await
}

/// Opens an OpenAI Realtime session, logging every raw frame to `tap`.
pub async fn connect_with_tap(
    options: &ConnectOptions,
    tap: Option<crate::client::FrameTap>,
) -> Result<RealtimeClient, ClientError> {
    crate::registry::connect_with_tap(&options.uniform(), tap).await
}
