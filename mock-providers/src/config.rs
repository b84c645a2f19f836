//! How a mock server is configured: engine, auth, limits, speed.

use crate::http::replay::HttpReplayScript;
pub use crate::openai::retired::{BetaPolicy, BetaRefusal};
use crate::replay::ReplayScript;
use crate::ResponderConfig;
use std::sync::Arc;

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
    pub(crate) fn of_dialect(&self, dialect: &str) -> Vec<Arc<ReplayScript>> {
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
    pub(crate) fn http_of_dialect(&self, dialect: &str) -> Vec<Arc<HttpReplayScript>> {
        self.http
            .iter()
            .filter(|s| s.dialect == dialect)
            .cloned()
            .collect()
    }

    /// Picks the HTTP exchange for a request: the one named (it must be of
    /// `dialect`), else the first of `dialect`.
    pub(crate) fn select_http(
        &self,
        name: Option<&str>,
        dialect: &str,
    ) -> Result<Arc<HttpReplayScript>, NoCassette> {
        let of_dialect = self.http.iter().filter(|s| s.dialect == dialect);
        let found = match name {
            Some(name) => of_dialect.clone().find(|s| answers_to(&s.name, name)),
            None => of_dialect.clone().next(),
        };
        found.cloned().ok_or_else(|| NoCassette::Http {
            dialect: dialect.to_owned(),
            name: name.map(str::to_owned),
            loaded: of_dialect.map(|s| s.name.clone()).collect(),
        })
    }

    /// Picks the cassette for a session: the one named (by `?cassette=` or the
    /// `X-Understudy-Cassette` header), else the first one of the session's dialect.
    pub(crate) fn select(
        &self,
        name: Option<&str>,
        dialect: &str,
    ) -> Result<Arc<ReplayScript>, NoCassette> {
        let loaded = || self.names().into_iter().map(str::to_owned).collect();
        match name {
            Some(name) => self
                .scripts
                .iter()
                .find(|s| answers_to(&s.name, name))
                .cloned()
                .ok_or_else(|| NoCassette::Named {
                    name: name.to_owned(),
                    suggestion: understudy_fixtures::suggest::closest(name, self.names())
                        .map(str::to_owned),
                    loaded: loaded(),
                }),
            None => self
                .scripts
                .iter()
                .find(|s| s.dialect == dialect)
                .cloned()
                .ok_or_else(|| NoCassette::ForDialect {
                    dialect: dialect.to_owned(),
                    loaded: loaded(),
                }),
        }
    }
}

/// Whether a cassette called `cassette` answers to `name`: its whole name, or
/// its last path segment.
fn answers_to(cassette: &str, name: &str) -> bool {
    cassette == name || cassette.rsplit('/').next() == Some(name)
}

/// The replay engine has no cassette for a request; the text is what the
/// client is shown (and [`NoCassette::suggestion`] what a typo was likely
/// meant to be).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NoCassette {
    /// No session cassette has the name asked for.
    #[error(
        "no cassette named `{name}`{} (loaded: {})",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(),
        loaded.join(", ")
    )]
    Named {
        /// The name asked for.
        name: String,
        /// The nearest loaded name, when `name` looks like a typo of it.
        suggestion: Option<String>,
        /// Every cassette loaded, in load order.
        loaded: Vec<String>,
    },
    /// No session cassette is of the session's dialect.
    #[error("no cassette for dialect {dialect} (loaded: {})", loaded.join(", "))]
    ForDialect {
        /// The session's dialect.
        dialect: String,
        /// Every cassette loaded, in load order.
        loaded: Vec<String>,
    },
    /// No HTTP cassette of the request's dialect (with the name asked for).
    #[error(
        "no {dialect} cassette{} (loaded: {})",
        name.as_ref().map(|n| format!(" named `{n}`")).unwrap_or_default(),
        loaded.join(", ")
    )]
    Http {
        /// The request's dialect.
        dialect: String,
        /// The name asked for, if any.
        name: Option<String>,
        /// The HTTP cassettes of the dialect, in load order.
        loaded: Vec<String>,
    },
}

impl NoCassette {
    /// The loaded cassette a misspelt name most likely meant.
    pub(crate) fn suggestion(&self) -> Option<&str> {
        match self {
            NoCassette::Named { suggestion, .. } => suggestion.as_deref(),
            NoCassette::ForDialect { .. } | NoCassette::Http { .. } => None,
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

impl EngineConfig {
    /// The engine's name in journals: `respond` or `replay`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            EngineConfig::Respond(_) => "respond",
            EngineConfig::Replay(_) => "replay",
        }
    }
}

/// Everything a running mock needs to know.
#[derive(Debug, Clone)]
pub(crate) struct MockConfig {
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
    /// How long a client may take (head, body, first frame, between frames).
    pub timeouts: understudy_adapters::serve_limits::ServeTimeouts,
    /// Close code for a session ended by the first-frame or idle timeout
    /// (unconfirmed for every provider; default
    /// [`crate::limits::DEFAULT_TIMEOUT_CLOSE`]).
    pub timeout_close: u16,
    /// Most realtime sessions at once; past it upgrades get `429`.
    pub max_sessions: usize,
}

impl MockConfig {
    /// The largest message the transport itself reads (a WebSocket frame, an
    /// HTTP body): four times the frame limit, at least 64 MiB, so that an
    /// oversized event gets the provider's error instead of a dropped connection.
    pub(crate) fn socket_limit(&self) -> usize {
        self.max_frame_bytes.saturating_mul(4).max(64 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_limit_is_four_frames_at_least_64_mib() {
        let config = |max_frame_bytes| MockConfig {
            engine: EngineConfig::Replay(ReplayLibrary::default()),
            auth: Auth::Open,
            max_frame_bytes,
            speed: 1.0,
            setup_fault: None,
            connection_limit: None,
            beta: BetaPolicy::default(),
            timeouts: Default::default(),
            timeout_close: crate::limits::DEFAULT_TIMEOUT_CLOSE,
            max_sessions: 1,
        };
        assert_eq!(config(1024).socket_limit(), 64 << 20);
        assert_eq!(config(32 << 20).socket_limit(), 128 << 20);
        assert_eq!(config(usize::MAX).socket_limit(), usize::MAX);
    }

    #[test]
    fn no_cassette_reads_as_before() {
        let library = ReplayLibrary::default();
        let named = library.select(Some("x"), "openai-ga").unwrap_err();
        assert_eq!(named.to_string(), "no cassette named `x` (loaded: )");
        let none = library.select(None, "openai-ga").unwrap_err();
        assert_eq!(
            none.to_string(),
            "no cassette for dialect openai-ga (loaded: )"
        );
        let http = library.select_http(Some("y"), "gemini-tts").unwrap_err();
        assert_eq!(
            http.to_string(),
            "no gemini-tts cassette named `y` (loaded: )"
        );
        let http = library.select_http(None, "gemini-tts").unwrap_err();
        assert_eq!(http.to_string(), "no gemini-tts cassette (loaded: )");
    }
}
