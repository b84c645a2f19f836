//! Where the recorder forwards to, and the clients that get there.

use crate::error::RecorderError;
use std::sync::Arc;
use understudy_adapters::tls::TlsTrust;
use url::Url;

/// The upstream provider (or mock) every exchange is forwarded to.
#[derive(Clone)]
pub(crate) struct Upstream {
    /// `http` or `https` form of the base URL, without query or credentials.
    base: Url,
    tls: Arc<rustls::ClientConfig>,
    http: reqwest::Client,
}

impl Upstream {
    /// Parses `url` (`http`, `https`, `ws` or `wss`) and prepares clients that
    /// trust `trust`.
    pub(crate) fn new(url: &str, trust: &TlsTrust) -> Result<Self, RecorderError> {
        let mut base = Url::parse(url).map_err(|e| RecorderError::Upstream {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        let scheme = match base.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            other => {
                return Err(RecorderError::Upstream {
                    url: redact_url(url),
                    reason: format!("scheme {other:?} (expected http, https, ws or wss)"),
                })
            }
        };
        if base.host_str().is_none() {
            return Err(RecorderError::Upstream {
                url: redact_url(url),
                reason: "no host".into(),
            });
        }
        // Infallible for http(s) ↔ ws(s) on a URL with a host.
        let _ = base.set_scheme(scheme);
        let _ = base.set_username("");
        let _ = base.set_password(None);
        base.set_query(None);
        base.set_fragment(None);
        let tls = trust.client_config()?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(RecorderError::HttpClient)?;
        Ok(Upstream { base, tls, http })
    }

    /// `scheme://host[:port]`: what a cassette header's `upstream` says.
    pub(crate) fn host(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// The full upstream URL for a request's path and query; WebSocket
    /// schemes when `websocket`.
    pub(crate) fn target(&self, path_and_query: &str, websocket: bool) -> String {
        let prefix = self.base.path().trim_end_matches('/');
        let origin = self.host();
        let origin = if websocket {
            origin
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1)
        } else {
            origin
        };
        format!("{origin}{prefix}{path_and_query}")
    }

    /// The TLS configuration for `wss://` upstreams.
    pub(crate) fn tls(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.tls)
    }

    /// The HTTP client for plain exchanges.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// A URL fit for an error message: no query, no credentials.
fn redact_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
