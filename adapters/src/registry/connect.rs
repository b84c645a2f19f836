//! How a client connects to a dialect: the [`ConnectShape`] each registry
//! entry declares, and one [`ConnectOptions`] builder plus one [`connect`]
//! that serve every realtime dialect from it.
//!
//! The shape says what is appended to a base URL, where the model goes (a
//! query parameter, the setup frame, the body, the path), where the key goes
//! (`Authorization: Bearer`, a header such as `x-goog-api-key`, a query
//! parameter), where a replaying mock's cassette choice goes (`?cassette=` or
//! `X-Understudy-Cassette`) and which fixed headers select the dialect (the
//! OpenAI beta header). [`ConnectOptions`] holds what varies per use (URL,
//! model, key, trust, extra query and headers) and builds the handshake from
//! the shape, so no caller needs to know which provider it talks to.

use super::DialectSpec;
use crate::client::{ClientError, FrameTap, RealtimeClient};
use crate::codec::RealtimeCodec;
use crate::tls::TlsTrust;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Where a value goes on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A query parameter with this name.
    Query(&'static str),
    /// A header with this name.
    Header(&'static str),
}

/// Where the model goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelPlacement {
    /// A query parameter with this name.
    Query(&'static str),
    /// The session's first frame, at this JSON pointer (Gemini's
    /// `/setup/model`, GPT-Live's `/session/model` in `session.start`); the
    /// codec puts it there, and a recorder reads it back from there.
    SetupFrame(&'static str),
    /// The JSON request body's `model`.
    Body,
    /// The `{model}` placeholder of [`ConnectShape::path`].
    Path,
}

/// Where the API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPlacement {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// A header with this name.
    Header(&'static str),
    /// A query parameter with this name.
    Query(&'static str),
}

/// How a client reaches a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectShape {
    /// The hosted service's base URL.
    pub default_url: &'static str,
    /// What is appended to the base URL (`/realtime`; empty when the URL is
    /// the whole endpoint); `{model}` is replaced by the model.
    pub path: &'static str,
    /// Where the model goes.
    pub model: ModelPlacement,
    /// Where the API key goes.
    pub key: KeyPlacement,
    /// Where a replaying mock's cassette choice goes.
    pub cassette: Placement,
    /// Fixed headers that select the dialect.
    pub headers: &'static [(&'static str, &'static str)],
}

impl ModelPlacement {
    /// The model a session's first client frame names, for dialects that
    /// say it in-band ([`SetupFrame`](Self::SetupFrame)): the bare model id
    /// ([`model_id`](super::models::model_id): Gemini's `models/` prefix
    /// dropped). `None` for other placements or when the frame has none.
    pub fn in_first_frame(&self, frame: &serde_json::Value) -> Option<String> {
        let ModelPlacement::SetupFrame(pointer) = self else {
            return None;
        };
        let model = frame.pointer(pointer)?.as_str()?;
        let id = super::models::model_id(model);
        (!id.is_empty()).then(|| id.to_owned())
    }
}

impl ConnectShape {
    /// The dialect's base URL on another origin (scheme and authority, e.g. a
    /// mock's `ws://127.0.0.1:PORT`): the origin plus the path of
    /// [`default_url`](Self::default_url) (`/v1` for OpenAI, the whole
    /// `/api-ws/v1/realtime` for DashScope, nothing for Gemini).
    pub fn base_url_at(&self, origin: &str) -> String {
        let path = self
            .default_url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("");
        format!(
            "{}{}",
            origin.trim_end_matches('/'),
            path.trim_end_matches('/')
        )
    }
}

/// Where and how to open a session in one dialect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The dialect spoken.
    pub dialect: &'static DialectSpec,
    /// Base URL; the dialect's [`ConnectShape::path`] is appended
    /// (`wss://api.openai.com/v1`, a mock's `ws://127.0.0.1:PORT/v1`,
    /// DashScope's whole `…/api-ws/v1/realtime`).
    pub url: String,
    /// The model.
    pub model: String,
    /// The API key, placed where the dialect wants it; none sends none.
    pub api_key: Option<String>,
    /// Extra query parameters, sent as given (the SDKs' `extra_query`).
    pub query: Vec<(String, String)>,
    /// Extra headers (`X-DashScope-WorkSpace`, a cassette choice).
    pub headers: Vec<(String, String)>,
    /// Which certificate authorities a `wss://` URL is checked against.
    pub trust: TlsTrust,
}

impl ConnectOptions {
    /// Options for `model` at `url` in `dialect`, without a key, trusting the
    /// system's certificate authorities.
    pub fn new(
        dialect: &'static DialectSpec,
        url: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        ConnectOptions {
            dialect,
            url: url.into(),
            model: model.into(),
            api_key: None,
            query: Vec::new(),
            headers: Vec::new(),
            trust: TlsTrust::System,
        }
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the certificate authorities trusted for `wss://`.
    pub fn trust(mut self, trust: TlsTrust) -> Self {
        self.trust = trust;
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Asks a replaying mock for cassette `name`, where the dialect's clients
    /// put that choice (query parameter or header).
    pub fn cassette(self, name: impl Into<String>) -> Self {
        match self.dialect.connect.cassette {
            Placement::Query(key) => self.query(key, name),
            Placement::Header(header) => self.header(header, name),
        }
    }

    /// The full session URL.
    pub fn full_url(&self) -> String {
        let shape = &self.dialect.connect;
        let mut url = format!(
            "{}{}",
            self.url.trim_end_matches('/'),
            shape.path.replace("{model}", &self.model)
        );
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let ModelPlacement::Query(name) = shape.model {
            pairs.push((name, &self.model));
        }
        pairs.extend(self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let (KeyPlacement::Query(name), Some(key)) = (shape.key, &self.api_key) {
            pairs.push((name, key));
        }
        if !pairs.is_empty() {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in pairs {
                query.append_pair(key, value);
            }
            url.push('?');
            url.push_str(&query.finish());
        }
        url
    }

    /// The WebSocket handshake request: the URL, the dialect's fixed headers,
    /// the extra headers and the key.
    pub fn request(&self) -> Result<http::Request<()>, ClientError> {
        let mut request = self
            .full_url()
            .into_client_request()
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let headers = request.headers_mut();
        let fixed = self.dialect.connect.headers.iter().map(|(n, v)| (*n, *v));
        let extra = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        for (name, value) in fixed.chain(extra) {
            insert_header(headers, name, value)?;
        }
        if let Some(key) = &self.api_key {
            match self.dialect.connect.key {
                KeyPlacement::Bearer => {
                    let value = http::HeaderValue::from_str(&format!("Bearer {key}"))
                        .map_err(|e| ClientError::InvalidRequest(format!("API key: {e}")))?;
                    headers.insert(http::header::AUTHORIZATION, value);
                }
                KeyPlacement::Header(name) => insert_header(headers, name, key)?,
                KeyPlacement::Query(_) => {}
            }
        }
        Ok(request)
    }

    /// A fresh codec for this dialect and model.
    pub fn codec(&self) -> Result<Box<dyn RealtimeCodec>, ClientError> {
        self.dialect.codec(&self.model).ok_or_else(|| {
            ClientError::InvalidRequest(format!(
                "dialect {} has no realtime session codec",
                self.dialect.id
            ))
        })
    }
}

/// Sets header `name` to `value` on a handshake, refusing a name or value
/// HTTP cannot carry (every WebSocket handshake built from data goes through here).
pub fn insert_header(
    headers: &mut http::HeaderMap,
    name: &str,
    value: &str,
) -> Result<(), ClientError> {
    let header = http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|e| ClientError::InvalidRequest(format!("header {name}: {e}")))?;
    let value = http::HeaderValue::from_str(value)
        .map_err(|e| ClientError::InvalidRequest(format!("header value: {e}")))?;
    headers.insert(header, value);
    Ok(())
}

/// Opens a realtime session in the options' dialect.
pub async fn connect(options: &ConnectOptions) -> Result<RealtimeClient, ClientError> {
    connect_with_tap(options, None).await
}

/// Opens a realtime session in the options' dialect, logging every raw frame
/// to `tap`.
pub async fn connect_with_tap(
    options: &ConnectOptions,
    tap: Option<FrameTap>,
) -> Result<RealtimeClient, ClientError> {
    RealtimeClient::connect_trusting(options.request()?, options.codec()?, tap, &options.trust)
        .await
}
