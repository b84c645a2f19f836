//! How a mock server is configured: engine, auth, limits, speed.

use crate::http::replay::HttpReplayScript;
pub use crate::openai::retired::{BetaPolicy, BetaRefusal};
use crate::replay::ReplayScript;
use crate::ResponderConfig;
use std::sync::Arc;

/// Largest client frame accepted by default: the SDK documents 15 MiB per append.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 15 * 1024 * 1024;

/// Who may connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Anyone, with or without a key.
    Open,
    /// Any non-empty bearer key.
    AnyKey,
    /// Only these keys.
    Keys(Vec<String>),
}

/// Cassettes available to the replay engine.
#[derive(Debug, Clone, Default)]
pub struct ReplayLibrary {
    scripts: Vec<Arc<ReplayScript>>,
    /// Recorded HTTP exchanges (HTTP TTS, chat completions), kept apart from
    /// the session scripts.
    http: Vec<Arc<HttpReplayScript>>,
}

impl ReplayLibrary {
    /// A library of prepared scripts.
    pub fn new(scripts: Vec<ReplayScript>) -> Self {
        ReplayLibrary {
            scripts: scripts.into_iter().map(Arc::new).collect(),
            http: Vec::new(),
        }
    }

    /// The cassettes of `dialect`, in load order.
    pub fn of_dialect(&self, dialect: &str) -> Vec<Arc<ReplayScript>> {
        self.scripts
            .iter()
            .filter(|s| s.dialect == dialect)
            .cloned()
            .collect()
    }

    /// The library with these recorded HTTP exchanges as well.
    pub fn with_http(mut self, scripts: Vec<HttpReplayScript>) -> Self {
        self.http.extend(scripts.into_iter().map(Arc::new));
        self
    }

    /// Names of the cassettes, in load order (session cassettes, then HTTP ones).
    pub fn names(&self) -> Vec<&str> {
        self.scripts
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.http.iter().map(|s| s.name.as_str()))
            .collect()
    }

    /// The recorded HTTP exchanges of `dialect`, in load order.
    pub fn http_of_dialect(&self, dialect: &str) -> Vec<Arc<HttpReplayScript>> {
        self.http
            .iter()
            .filter(|s| s.dialect == dialect)
            .cloned()
            .collect()
    }

    /// Picks the HTTP exchange for a request: the one named (it must be of
    /// `dialect`), else the first of `dialect`.
    pub fn select_http(
        &self,
        name: Option<&str>,
        dialect: &str,
    ) -> Result<Arc<HttpReplayScript>, String> {
        let of_dialect = self.http.iter().filter(|s| s.dialect == dialect);
        let found = match name {
            Some(name) => of_dialect
                .clone()
                .find(|s| s.name == name || s.name.rsplit('/').next() == Some(name)),
            None => of_dialect.clone().next(),
        };
        found.cloned().ok_or_else(|| {
            format!(
                "no {dialect} cassette{} (loaded: {})",
                name.map(|n| format!(" named `{n}`")).unwrap_or_default(),
                of_dialect
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }

    /// Picks the cassette for a session: the one named (by `?cassette=` or the
    /// `X-Understudy-Cassette` header), else the first one of the session's dialect.
    pub fn select(&self, name: Option<&str>, dialect: &str) -> Result<Arc<ReplayScript>, String> {
        match name {
            Some(name) => self
                .scripts
                .iter()
                .find(|s| s.name == name || s.name.rsplit('/').next() == Some(name))
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "no cassette named `{name}` (loaded: {})",
                        self.names().join(", ")
                    )
                }),
            None => self
                .scripts
                .iter()
                .find(|s| s.dialect == dialect)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "no cassette for dialect {dialect} (loaded: {})",
                        self.names().join(", ")
                    )
                }),
        }
    }
}

/// Which engine answers sessions.
#[derive(Debug, Clone)]
pub enum EngineConfig {
    /// The protocol-faithful responder.
    Respond(ResponderConfig),
    /// Replay of recorded cassettes.
    Replay(ReplayLibrary),
}

/// Everything a running mock needs to know.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The engine.
    pub engine: EngineConfig,
    /// Who may connect.
    pub auth: Auth,
    /// Largest client frame accepted; larger ones get an `error` event.
    pub max_frame_bytes: usize,
    /// Timing factor: 2.0 plays everything twice as fast.
    pub speed: f64,
    /// Make every DashScope session's set-up fail this way (a client can also
    /// ask per connection with the `X-Understudy-Fault` header).
    pub setup_fault: Option<crate::dashscope::SetupFault>,
    /// Close each Gemini connection after this long, warning with `goAway`.
    pub connection_limit: Option<std::time::Duration>,
    /// What a session asking for the retired OpenAI Realtime beta gets
    /// (default: refused like the service; legacy keeps the old dialect).
    pub beta: BetaPolicy,
}
