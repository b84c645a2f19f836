//! OpenAI Realtime: wire types, the sans-IO codec and a connect helper.
//!
//! Both dialects are supported: GA (`response.output_audio.delta`) and beta
//! (`OpenAI-Beta: realtime=v1`, `response.audio.delta`). See
//! `shared/protocols/openai-realtime.md` for the protocol.

pub mod codec;
pub mod dialect;
pub(crate) mod family;
pub mod wire;

pub use codec::{Decoder, Encoder, OpenAiCodec};
pub use dialect::Dialect;

use crate::client::{ClientError, RealtimeClient};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

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

    /// The full session URL (`…/realtime?model=…`).
    pub fn url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("model", &self.model);
        for (key, value) in &self.extra_query {
            query.append_pair(key, value);
        }
        format!("{base}/realtime?{}", query.finish())
    }

    /// The WebSocket handshake request, with auth and dialect headers.
    pub fn request(&self) -> Result<http::Request<()>, ClientError> {
        let mut request = self
            .url()
            .into_client_request()
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let headers = request.headers_mut();
        if let Some(key) = &self.api_key {
            let value = http::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|e| ClientError::InvalidRequest(format!("API key: {e}")))?;
            headers.insert(http::header::AUTHORIZATION, value);
        }
        if self.dialect == Dialect::Beta {
            headers.insert(
                dialect::BETA_HEADER.0,
                http::HeaderValue::from_static(dialect::BETA_HEADER.1),
            );
        }
        Ok(request)
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
    RealtimeClient::connect_trusting(
        options.request()?,
        Box::new(OpenAiCodec::new(options.dialect)),
        tap,
        &options.trust,
    )
    .await
}
