//! Grading any server that claims a protocol: `conform --target URL --dialect ID`.
//!
//! The bundled suite's cassette cases are client scripts ([`crate::scenario`])
//! plus checks on what comes back ([`crate::catalogue`]). Against our mock they
//! replay the bundled cassettes; here the same scripts drive the same adapter
//! against a *target*: another mock, a gateway that re-exposes a provider, or
//! the provider itself. Only the cases of the target's dialect run.
//!
//! The grading is the one our mocks get, except where a case reads what only
//! our mock scripts — each case says so as data ([`crate::catalogue::OnTarget`]):
//! a case that needs a scripted fault, limit or mode is not run
//! (UNIMPLEMENTED, with the reason), and a check on scripted content (the
//! words our recogniser hears, the tool our responder calls, the exact
//! reviewed snapshot) is informational: the case is INFORMATIONAL when only
//! such a check differs, and FAILED only when the protocol itself is broken.
//!
//! The parts: [`Target`] (where, which dialect, which key), [`key`] (where the
//! key comes from: an environment variable, never the command line), and
//! [`grade`] (running and grading one case). [`jobs`] turns the selected cases
//! into [`Job`]s for the one scheduler every source of cases uses.

pub mod grade;
pub mod key;

use crate::catalogue::Case;
use crate::drive::{ApiKey, Endpoints};
use crate::family::RunOptions;
use crate::schedule::Job;
use understudy_adapters::registry::{self, DialectKind, LookupError};
use understudy_adapters::DialectSpec;

/// How many cases run against a target at once unless told otherwise: a few,
/// so that a real provider's rate limits are not the thing being measured.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Why a target cannot be graded.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The dialect id is not in the registry.
    #[error(transparent)]
    Dialect(#[from] LookupError),
    /// The dialect is not a realtime session dialect the suite has cases for.
    #[error(
        "`{id}` is not a realtime session dialect with conformance cases; use one of: {valid}"
    )]
    NoCases {
        /// The dialect asked for.
        id: String,
        /// The dialects that have cases.
        valid: String,
    },
    /// The URL is not a WebSocket (or HTTP) URL.
    #[error("target URL `{url}` must start with ws://, wss://, http:// or https://")]
    Url {
        /// The URL given.
        url: String,
    },
    /// The key's environment variable is not set.
    #[error(transparent)]
    Key(#[from] key::KeyError),
}

/// A server to grade: where it is, the dialect it claims and the key it gets.
#[derive(Debug, Clone)]
pub struct Target {
    /// The dialect it claims to speak.
    pub dialect: &'static DialectSpec,
    /// Where sessions connect (the key is inside, redacted when printed).
    pub endpoints: Endpoints,
    /// Name the bundled cassette each case was recorded as (`?cassette=` or
    /// `X-Understudy-Cassette`, the dialect's way), so that a replaying mock
    /// plays the right one; anything else ignores it.
    pub cassette_hint: bool,
}

impl Target {
    /// The target at `url` speaking the dialect `dialect_id`, sent `key`.
    ///
    /// A URL with no path (`wss://api.openai.com`, `ws://127.0.0.1:8765`) is
    /// an origin: each dialect's registry path is appended to it, as for our
    /// mock. A URL with a path is the dialect's base URL as given (a gateway
    /// at `wss://gw.example/openai/v1`). `http(s)://` is read as `ws(s)://`.
    pub fn new(url: &str, dialect_id: &str, key: Option<ApiKey>) -> Result<Self, TargetError> {
        let dialect = registry::dialect(dialect_id)?;
        if dialect.kind != DialectKind::RealtimeSession || !has_cases(dialect) {
            return Err(TargetError::NoCases {
                id: dialect_id.to_owned(),
                valid: dialects_with_cases().join(", "),
            });
        }
        let (origin, base_url) = split_url(url)?;
        Ok(Target {
            dialect,
            endpoints: Endpoints {
                origin,
                base_url,
                api_key: key,
            },
            cassette_hint: true,
        })
    }
}

/// Splits a target URL into its WebSocket origin and, when it has a path,
/// the whole base URL.
fn split_url(url: &str) -> Result<(String, Option<String>), TargetError> {
    let bad = || TargetError::Url {
        url: url.to_owned(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(bad()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(bad());
    }
    let origin = format!("{scheme}://{authority}");
    let path = path.trim_end_matches('/');
    let base_url = (!path.is_empty()).then(|| format!("{origin}{path}"));
    Ok((origin, base_url))
}

/// Whether the catalogue has cases for `dialect`.
fn has_cases(dialect: &DialectSpec) -> bool {
    crate::cases().is_ok_and(|cases| cases.iter().any(|c| c.scenario.dialect.id == dialect.id))
}

/// The realtime dialects the catalogue has cases for, in registry order.
pub fn dialects_with_cases() -> Vec<&'static str> {
    registry::realtime_dialects()
        .filter(|d| has_cases(d))
        .map(|d| d.id)
        .collect()
}

/// One job per case of the target's dialect that `options` selects, in
/// catalogue order.
pub fn jobs<'a>(cases: &'a [Case], target: &'a Target, options: &'a RunOptions) -> Vec<Job<'a>> {
    cases
        .iter()
        .filter(|case| case.scenario.dialect.id == target.dialect.id)
        .filter(|case| options.selects(&case.id))
        .map(|case| {
            Job::new(
                case.id.clone(),
                case.description,
                grade::run_on_target(case, target),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{jobs, split_url, Target, TargetError};
    use crate::family::RunOptions;

    #[test]
    fn a_url_without_a_path_is_an_origin_and_one_with_a_path_is_the_base_url() {
        assert_eq!(
            split_url("http://127.0.0.1:8765").unwrap(),
            ("ws://127.0.0.1:8765".into(), None)
        );
        assert_eq!(
            split_url("wss://api.openai.com/").unwrap(),
            ("wss://api.openai.com".into(), None)
        );
        assert_eq!(
            split_url("https://gw.example/openai/v1/").unwrap(),
            (
                "wss://gw.example".into(),
                Some("wss://gw.example/openai/v1".into())
            )
        );
        for bad in ["ftp://x", "127.0.0.1:8765", "ws://", "ws:///v1"] {
            assert!(
                matches!(split_url(bad), Err(TargetError::Url { .. })),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn a_dialect_without_cases_is_refused_with_the_ones_that_have_some() {
        let error = Target::new("ws://127.0.0.1:1", "openai-speech", None).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, TargetError::NoCases { .. }), "{text}");
        assert!(
            text.contains("openai-ga") && text.contains("gemini-live"),
            "{text}"
        );
        let unknown = Target::new("ws://127.0.0.1:1", "no-such-dialect", None).unwrap_err();
        assert!(matches!(unknown, TargetError::Dialect(_)), "{unknown}");
    }

    #[test]
    fn only_the_dialects_cases_that_the_filter_selects_become_jobs() {
        let cases = crate::cases().expect("the bundled catalogue");
        let target = Target::new("ws://127.0.0.1:1", "gemini-live", None).unwrap();
        let all = RunOptions::default();
        let ids: Vec<String> = jobs(&cases, &target, &all)
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert!(!ids.is_empty());
        assert!(ids.iter().all(|id| id.starts_with("gemini.")), "{ids:?}");
        let some = RunOptions {
            filter: Some("tool".into()),
            ..RunOptions::default()
        };
        let ids: Vec<String> = jobs(&cases, &target, &some)
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(
            ids,
            [
                "gemini.tool.round-trip",
                "gemini.tool.cancelled",
                "gemini.38.tool.non-blocking",
                "gemini.38.tool.scheduling-interrupt",
                "gemini.38.tool.scheduling-silent",
                "gemini.38.tool.blocking-cancelled"
            ]
        );
    }
}
