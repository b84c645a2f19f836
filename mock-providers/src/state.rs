//! What every route shares: the running mock's state, and how a request says
//! who it is and what it wants.
//!
//! One [`AppState`] is cloned into every handler (axum's `State`): the
//! configuration, the journal, the session counter, the Gemini resumption
//! store and the stored GPT-Live sessions. Around it sit the request readings that every family needs and that
//! must agree between them:
//!
//! - **who**: [`authorised`] applies the [`Auth`] policy to a key; the key
//!   comes from [`bearer`] (`Authorization: Bearer …`, OpenAI and DashScope),
//!   [`subprotocol_key`] (browsers: `openai-insecure-api-key.<key>`), or a list
//!   of [`KeySource`]s tried in order (Google's several places, see
//!   [`GEMINI_LIVE_KEY`] and [`GEMINI_HTTP_KEY`]);
//! - **what**: [`wanted_cassette`] reads the cassette a client asked the
//!   replay engine for (`?cassette=` or `X-Understudy-Cassette`), and
//!   [`query_map`] reads a query string the way every route reads it.

use crate::config::{Auth, MockConfig};
use crate::gemini::respond::ResumptionStore;
use crate::journal::Journal;
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Shared state of one running mock, cloned into every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    /// How the mock was configured.
    pub(crate) config: Arc<MockConfig>,
    /// What every session sent and was answered.
    pub(crate) journal: Journal,
    /// Realtime sessions started so far (numbers sessions, seeds responders).
    pub(crate) sessions: Arc<AtomicU64>,
    /// Gemini conversations kept for resumption across connections.
    pub(crate) resumption: ResumptionStore,
    /// GPT-Live sessions kept (`store: true`) for forks.
    pub(crate) live_store: crate::openai_live::LiveStore,
    /// Running GPT-Live sessions sidebands may attach to.
    pub(crate) live_hub: crate::openai_live::LiveHub,
    /// One slot per live realtime session (`--max-sessions`).
    pub(crate) slots: understudy_adapters::serve_limits::SessionSlots,
}

impl AppState {
    /// Fresh state for a mock configured with `config`, journalling into `journal`.
    pub(crate) fn new(config: MockConfig, journal: Journal) -> Self {
        AppState {
            slots: understudy_adapters::serve_limits::SessionSlots::new(config.max_sessions),
            config: Arc::new(config),
            journal,
            sessions: Arc::new(AtomicU64::new(0)),
            resumption: Default::default(),
            live_store: crate::openai_live::LiveStore::with_caps(Default::default()),
            live_hub: Default::default(),
        }
    }

    /// The next realtime session's number (1, 2, …).
    pub(crate) fn next_session(&self) -> u64 {
        self.sessions.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether the configured auth policy lets `key` in.
    pub(crate) fn lets_in(&self, key: Option<String>) -> bool {
        authorised(&self.config.auth, key)
    }
}

/// Whether the `auth` policy lets `key` in.
pub(crate) fn authorised(auth: &Auth, key: Option<String>) -> bool {
    match auth {
        Auth::Open => true,
        Auth::AnyKey => key.is_some_and(|k| !k.is_empty()),
        Auth::Keys(keys) => key.is_some_and(|k| keys.contains(&k)),
    }
}

/// The `Authorization: Bearer` key (either case of `Bearer`), trimmed, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|k| k.trim().to_owned())
}

/// Browser clients pass the key as a subprotocol `openai-insecure-api-key.<key>`.
pub(crate) fn subprotocol_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("sec-websocket-protocol")?.to_str().ok()?;
    value
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("openai-insecure-api-key."))
        .map(str::to_owned)
}

/// One place a key may come in, for the providers that accept several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// A header whose whole value is the key.
    Header(&'static str),
    /// A query parameter.
    Query(&'static str),
    /// `Authorization: <scheme><key>` (the scheme with its trailing space, as sent).
    Authorization(&'static str),
}

/// Where Gemini Live takes its key from, in order: `x-goog-api-key`, `?key=`,
/// `?access_token=` and `Authorization: Token …` (ephemeral tokens).
pub(crate) const GEMINI_LIVE_KEY: &[KeySource] = &[
    KeySource::Header("x-goog-api-key"),
    KeySource::Query("key"),
    KeySource::Query("access_token"),
    KeySource::Authorization("Token "),
];

/// Where Gemini's HTTP API takes its key from, in order: `x-goog-api-key`,
/// `?key=` and `Authorization: Bearer …`.
pub(crate) const GEMINI_HTTP_KEY: &[KeySource] = &[
    KeySource::Header("x-goog-api-key"),
    KeySource::Query("key"),
    KeySource::Authorization("Bearer "),
];

/// The first key found in `sources`, tried in order.
pub(crate) fn key_from(
    sources: &[KeySource],
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    sources.iter().find_map(|source| match source {
        KeySource::Header(name) => header(name).map(str::to_owned),
        KeySource::Query(name) => query.get(*name).cloned(),
        KeySource::Authorization(scheme) => header(header::AUTHORIZATION.as_str())
            .and_then(|v| v.strip_prefix(scheme))
            .map(str::to_owned),
    })
}

/// The cassette a client asked for: `?cassette=` or `X-Understudy-Cassette`.
pub(crate) fn wanted_cassette<'a>(
    query: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
) -> Option<&'a str> {
    query.get("cassette").map(String::as_str).or_else(|| {
        headers
            .get("x-understudy-cassette")
            .and_then(|v| v.to_str().ok())
    })
}

/// A query string as name → value (the last of a repeated name wins).
pub(crate) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn auth_policies() {
        assert!(authorised(&Auth::Open, None));
        assert!(!authorised(&Auth::AnyKey, None));
        assert!(!authorised(&Auth::AnyKey, Some(String::new())));
        assert!(authorised(&Auth::AnyKey, Some("k".into())));
        let keys = Auth::Keys(vec!["a".into()]);
        assert!(authorised(&keys, Some("a".into())));
        assert!(!authorised(&keys, Some("b".into())));
    }

    #[test]
    fn bearer_takes_either_case_and_trims() {
        let h = headers(&[("authorization", "bearer  sk-1 ")]);
        assert_eq!(bearer(&h).as_deref(), Some("sk-1"));
        assert_eq!(bearer(&headers(&[("authorization", "Token x")])), None);
        let h = headers(&[(
            "sec-websocket-protocol",
            "realtime, openai-insecure-api-key.sk-2",
        )]);
        assert_eq!(subprotocol_key(&h).as_deref(), Some("sk-2"));
    }

    #[test]
    fn gemini_keys_are_tried_in_order() {
        let query: HashMap<String, String> = [("key".to_owned(), "q".to_owned())].into();
        let h = headers(&[("x-goog-api-key", "h"), ("authorization", "Token t")]);
        assert_eq!(key_from(GEMINI_LIVE_KEY, &h, &query).as_deref(), Some("h"));
        let h = headers(&[("authorization", "Token t")]);
        assert_eq!(key_from(GEMINI_LIVE_KEY, &h, &query).as_deref(), Some("q"));
        let none = HashMap::new();
        assert_eq!(key_from(GEMINI_LIVE_KEY, &h, &none).as_deref(), Some("t"));
        // The HTTP API takes a bearer token, not `Token`.
        assert_eq!(key_from(GEMINI_HTTP_KEY, &h, &none), None);
        let h = headers(&[("authorization", "Bearer b")]);
        assert_eq!(key_from(GEMINI_HTTP_KEY, &h, &none).as_deref(), Some("b"));
    }

    #[test]
    fn cassette_from_query_before_header() {
        let h = headers(&[("x-understudy-cassette", "from-header")]);
        let query = query_map(Some("cassette=from%2Dquery&x=1"));
        assert_eq!(wanted_cassette(&query, &h), Some("from-query"));
        assert_eq!(wanted_cassette(&HashMap::new(), &h), Some("from-header"));
    }
}
