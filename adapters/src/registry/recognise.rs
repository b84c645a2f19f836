//! Which dialect a request speaks, decided from its path, headers and query
//! the way the hosted services route it.
//!
//! Each [`DialectSpec`] says how its requests look ([`Recognition`]: a
//! [`PathShape`] plus a [`Condition`]). [`recognise_websocket`] and
//! [`recognise_http`] try every entry of the transport and keep the most
//! specific match: an entry with a condition beats one without (the OpenAI
//! beta header, the DashScope TTS model, the compatible-mode prefix), and a
//! longer path suffix beats a shorter one (`/api-ws/v1/realtime` beats
//! `/realtime`). The mock routes and the recorder classifies with the same
//! functions, so a recording replays on the route it came from.
//!
//! The path predicates ([`is_live_path`], [`gemini_rest_route`], …) are
//! public for servers that route on them directly.

use super::{dialects, DialectSpec};
use crate::openai::Dialect;

/// The shape of a dialect's request path (any prefix, trailing slash ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathShape {
    /// The path ends with this suffix.
    EndsWith(&'static str),
    /// Gemini Live: `…/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent[Constrained]`.
    GeminiLive,
    /// Gemini REST: `…/{version}/models/{model}:generateContent|streamGenerateContent`.
    GeminiRest,
    /// The path ends with one of these suffixes, where a `{id}` segment
    /// matches any one non-empty segment (GPT-Live's `/live/sessions`,
    /// `/live/sessions/{id}/fork`, `/live/sessions/{id}/attach`).
    EndsWithAny(&'static [&'static str]),
}

impl PathShape {
    /// Whether `path` (without query) has this shape.
    pub fn matches(self, path: &str) -> bool {
        match self {
            PathShape::EndsWith(suffix) => ends_with(path, suffix),
            PathShape::GeminiLive => is_live_path(path),
            PathShape::GeminiRest => gemini_rest_route(path).is_some(),
            PathShape::EndsWithAny(patterns) => patterns.iter().any(|p| ends_with_pattern(path, p)),
        }
    }

    /// How specific the shape is: a longer suffix is more specific; the
    /// Gemini shapes are exact.
    fn specificity(self) -> usize {
        match self {
            PathShape::EndsWith(suffix) => suffix.len(),
            PathShape::EndsWithAny(patterns) => patterns.iter().map(|p| p.len()).max().unwrap_or(0),
            PathShape::GeminiLive | PathShape::GeminiRest => usize::MAX,
        }
    }
}

/// What else a request must show, beyond its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Nothing: the path decides.
    Always,
    /// The client asked for the OpenAI beta interface: an `OpenAI-Beta:
    /// realtime=v1` header or the `openai-beta.realtime-v1` subprotocol.
    BetaRequested,
    /// The `model` query parameter contains every one of these substrings.
    ModelContains(&'static [&'static str]),
    /// The path contains this segment.
    PathContains(&'static str),
}

/// How a dialect's requests are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognition {
    /// The path shape.
    pub path: PathShape,
    /// The extra condition.
    pub when: Condition,
}

/// What a request shows, as recognition reads it.
struct Seen<'a> {
    path: &'a str,
    model: Option<String>,
    header: &'a dyn Fn(&str) -> Option<&'a str>,
}

impl Condition {
    fn holds(self, seen: &Seen<'_>) -> bool {
        match self {
            Condition::Always => true,
            Condition::BetaRequested => {
                let subprotocol = (seen.header)("sec-websocket-protocol")
                    .is_some_and(|v| v.contains("openai-beta.realtime-v1"));
                subprotocol
                    || Dialect::from_beta_header((seen.header)("openai-beta")) == Dialect::Beta
            }
            Condition::ModelContains(parts) => seen
                .model
                .as_deref()
                .is_some_and(|m| parts.iter().all(|p| m.contains(p))),
            Condition::PathContains(segment) => seen.path.contains(segment),
        }
    }
}

fn recognise(websocket: bool, seen: &Seen<'_>) -> Option<&'static DialectSpec> {
    dialects()
        .filter(|d| d.kind.is_websocket() == websocket)
        .filter(|d| d.recognition.path.matches(seen.path) && d.recognition.when.holds(seen))
        .max_by_key(|d| {
            (
                d.recognition.when != Condition::Always,
                d.recognition.path.specificity(),
            )
        })
}

/// The dialect a WebSocket upgrade asks for (`path_and_query` as requested,
/// with its headers), or `None` when no dialect has that path.
pub fn recognise_websocket(
    path_and_query: &str,
    headers: &http::HeaderMap,
) -> Option<&'static DialectSpec> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    recognise(
        true,
        &Seen {
            path: path_of(path_and_query),
            model: query_param(path_and_query, "model"),
            header: &header,
        },
    )
}

/// The dialect a plain HTTP request is for (from its path), or `None` when
/// no dialect has that path.
pub fn recognise_http(path_and_query: &str) -> Option<&'static DialectSpec> {
    recognise(
        false,
        &Seen {
            path: path_of(path_and_query),
            model: query_param(path_and_query, "model"),
            header: &|_| None,
        },
    )
}

/// The path part of `path_and_query`.
fn path_of(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or_default()
}

/// A query parameter of `path_and_query`, if present.
pub fn query_param(path_and_query: &str, name: &str) -> Option<String> {
    let (_, query) = path_and_query.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn ends_with(path: &str, suffix: &str) -> bool {
    let path = path.trim_end_matches('/');
    path == suffix || path.ends_with(suffix)
}

/// Whether `path` ends with `pattern`'s segments, `{id}` matching any one
/// non-empty segment (trailing slash ignored).
fn ends_with_pattern(path: &str, pattern: &str) -> bool {
    let mut path_segments = path.trim_end_matches('/').rsplit('/');
    pattern
        .trim_start_matches('/')
        .rsplit('/')
        .all(|want| match path_segments.next() {
            Some(got) if want == "{id}" => !got.is_empty(),
            Some(got) => got == want,
            None => false,
        })
}

/// Whether `path` is a GPT-Live WebSocket path: a new session, a fork or a
/// sideband attach (any prefix).
pub fn is_openai_live_path(path: &str) -> bool {
    super::table::OPENAI_LIVE_PATHS
        .iter()
        .any(|p| ends_with_pattern(path, p))
}

/// Whether a path is the chat-completions endpoint (any prefix).
pub fn is_chat_path(path: &str) -> bool {
    ends_with(path, "/chat/completions")
}

/// Whether `path` is OpenAI's speech endpoint (any prefix).
pub fn is_openai_speech_path(path: &str) -> bool {
    ends_with(path, "/audio/speech")
}

/// Whether a DashScope realtime model is a Qwen-TTS model (same path as
/// Qwen-Omni, other service).
pub fn is_dashscope_tts_model(model: &str) -> bool {
    super::table::DASHSCOPE_TTS_MODEL_PARTS
        .iter()
        .all(|part| model.contains(part))
}

/// Whether a request path is the Gemini Live endpoint: any API version, any
/// prefix, doubled slashes tolerated.
pub fn is_live_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let Some(method) = path.rsplit('/').next() else {
        return false;
    };
    method.starts_with("google.ai.generativelanguage.")
        && (method.ends_with(".GenerativeService.BidiGenerateContent")
            || method.ends_with(".GenerativeService.BidiGenerateContentConstrained"))
        && path.contains("/ws/")
}

/// A parsed Gemini REST path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiRestRoute {
    /// `v1`, `v1beta`, `v1alpha`.
    pub version: String,
    /// The model name (without `models/`).
    pub model: String,
    /// `streamGenerateContent` (else `generateContent`).
    pub streamed: bool,
}

/// Recognises `…/{version}/models/{model}:generateContent|streamGenerateContent`
/// (any prefix; duplicate slashes tolerated).
pub fn gemini_rest_route(path: &str) -> Option<GeminiRestRoute> {
    let path = path.trim_end_matches('/');
    let (head, method) = path.rsplit_once(':')?;
    let streamed = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return None,
    };
    let mut segments = head.rsplit('/').filter(|s| !s.is_empty());
    let model = segments.next()?;
    if segments.next()? != "models" {
        return None;
    }
    let version = segments.next()?;
    if !version.starts_with('v') || !version[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(GeminiRestRoute {
        version: version.to_owned(),
        model: model.to_owned(),
        streamed,
    })
}
