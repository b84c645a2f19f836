//! Replay of HTTP TTS cassettes (`openai-speech`, `gemini-tts`).
//!
//! An HTTP cassette holds one exchange: an `http_request` frame from the client
//! and the `http_response` frame that answered it, its body either whole or as
//! `chunks` with their arrival times. Replay sends the recorded status, headers
//! and body pieces at their recorded offsets from the request (divided by the
//! mock's speed factor).
//!
//! Matching is lenient, like the realtime replay: the request must be valid for
//! the provider (the dialect validates it first) and agree with the recording on
//! the fields that shape the answer (OpenAI: `response_format`,
//! `stream_format`; Gemini: the method and `alt`). Other differences (the text,
//! the voice, the model) are noted in the journal as `replay.mismatch` and the
//! recording is played anyway; a disagreement on the answer's shape is refused
//! with a 400 in the provider's error shape whose message names the cassette.

use super::plan::{JournalCtx, Piece, Planned};
use super::{gemini, openai};
use crate::config::ReplayLibrary;
use crate::journal::EntryKind;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use understudy_adapters::tts::gemini_tts::wire::RpcError;
use understudy_adapters::tts::openai_speech::wire::ApiError;
use understudy_fixtures::{Cassette, ChunkData, FrameBody, HttpBody};

/// Whether `dialect` is one of the HTTP TTS dialects replayed here.
pub fn is_http_dialect(dialect: &str) -> bool {
    dialect == openai::DIALECT || dialect == gemini::DIALECT
}

/// Why a cassette cannot be replayed as an HTTP exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpScriptError {
    /// The cassette's dialect is not an HTTP TTS dialect.
    #[error("cassette `{name}`: dialect `{dialect}` is not an HTTP TTS dialect")]
    NotHttp {
        /// Cassette name.
        name: String,
        /// Its dialect.
        dialect: String,
    },
    /// No client `http_request` frame, or no `http_response` after it.
    #[error("cassette `{name}` has no {missing} frame")]
    Missing {
        /// Cassette name.
        name: String,
        /// Which frame.
        missing: &'static str,
    },
}

/// One recorded exchange, ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReplayScript {
    /// Cassette name (`openai/speech-pcm`).
    pub name: String,
    /// `openai-speech` or `gemini-tts`.
    pub dialect: String,
    /// The request path and query as recorded.
    pub path: String,
    /// The recorded request body, when it was JSON.
    pub request: Option<Value>,
    /// Status of the answer.
    pub status: u16,
    /// Headers to send back (hop-by-hop ones dropped).
    pub headers: Vec<(String, String)>,
    /// Body pieces with their offsets from the request.
    pub pieces: Vec<(Duration, Vec<u8>)>,
}

/// Headers that describe the recorded connection, not the answer.
const HOP_BY_HOP: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
];

fn body_bytes(body: &HttpBody) -> Vec<u8> {
    match body {
        HttpBody::Json(value) => value.to_string().into_bytes(),
        HttpBody::Text(text) => text.clone().into_bytes(),
        HttpBody::Bytes(bytes) => bytes.clone(),
    }
}

impl HttpReplayScript {
    /// Prepares `cassette` (named `name`).
    pub fn from_cassette(name: &str, cassette: &Cassette) -> Result<Self, HttpScriptError> {
        let dialect = cassette.header.dialect.clone();
        if !is_http_dialect(&dialect) {
            return Err(HttpScriptError::NotHttp {
                name: name.into(),
                dialect,
            });
        }
        let missing = |missing| HttpScriptError::Missing {
            name: name.into(),
            missing,
        };
        let (at, request) = cassette
            .frames
            .iter()
            .find_map(|f| match &f.body {
                FrameBody::HttpRequest(r) if f.is_client() => Some((f.t_us, r)),
                _ => None,
            })
            .ok_or_else(|| missing("http_request"))?;
        let (answered_at, response) = cassette
            .frames
            .iter()
            .filter(|f| f.t_us >= at)
            .find_map(|f| match &f.body {
                FrameBody::HttpResponse(r) if f.is_server() => Some((f.t_us, r)),
                _ => None,
            })
            .ok_or_else(|| missing("http_response"))?;
        let offset = |t: u64| Duration::from_micros(t.saturating_sub(at));
        let mut pieces = Vec::new();
        if let Some(body) = &response.body {
            pieces.push((offset(answered_at), body_bytes(body)));
        }
        for chunk in &response.chunks {
            let bytes = match &chunk.data {
                ChunkData::Text(text) => text.clone().into_bytes(),
                ChunkData::Bytes(bytes) => bytes.clone(),
            };
            pieces.push((offset(chunk.t_us), bytes));
        }
        Ok(HttpReplayScript {
            name: name.into(),
            dialect: cassette.header.dialect.clone(),
            path: request.path.clone(),
            request: match &request.body {
                Some(HttpBody::Json(value)) => Some(value.clone()),
                _ => None,
            },
            status: response.status,
            headers: response
                .headers
                .iter()
                .filter(|(n, _)| !HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(n)))
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
                .collect(),
            pieces,
        })
    }

    /// The recorded answer as a plan, at `speed`.
    pub fn plan(&self, speed: f64) -> Planned {
        let speed = if speed > 0.0 { speed } else { 1.0 };
        let mut previous = Duration::ZERO;
        let pieces = self
            .pieces
            .iter()
            .map(|(at, bytes)| {
                let after = at.saturating_sub(previous).div_f64(speed);
                previous = (*at).max(previous);
                Piece {
                    after,
                    bytes: Bytes::from(bytes.clone()),
                    label: "replay".into(),
                    detail: format!("{} bytes", bytes.len()),
                }
            })
            .collect();
        Planned {
            status: StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK),
            headers: self
                .headers
                .iter()
                .filter_map(|(n, v)| Some((static_header(n)?, v.clone())))
                .collect(),
            pieces,
            cut_short: false,
        }
    }
}

/// The answer headers a replay may send (the plan keeps `&'static` names).
fn static_header(name: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "content-type",
        "x-request-id",
        "openai-processing-ms",
        "openai-version",
        "openai-model",
        "x-gemini-service-tier",
        "server-timing",
        "vary",
        "cache-control",
        "retry-after",
        "retry-after-ms",
    ];
    KNOWN.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

/// The field of `value` at `key` as text (for comparisons and messages).
fn field(value: Option<&Value>, key: &str) -> Option<String> {
    value?.get(key).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A request as replay sees it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// `openai-speech` or `gemini-tts`.
    pub dialect: &'a str,
    /// The request path (no query).
    pub path: &'a str,
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// Its query parameters.
    pub query: &'a HashMap<String, String>,
    /// Its body.
    pub body: &'a [u8],
}

/// The recorded answer for a valid request, when a cassette of its dialect is
/// loaded (picked by `X-Understudy-Cassette` or `?cassette=`, else the first
/// one), played at `speed`. `None`: no cassette; answer with the respond engine.
pub fn answer(
    library: &ReplayLibrary,
    incoming: Incoming<'_>,
    speed: f64,
    ctx: &JournalCtx,
) -> Option<Planned> {
    let Incoming {
        dialect,
        path,
        headers,
        query,
        body,
    } = incoming;
    let wanted = query.get("cassette").map(String::as_str).or_else(|| {
        headers
            .get("x-understudy-cassette")
            .and_then(|v| v.to_str().ok())
    });
    let script = match library.select_http(wanted, dialect) {
        Ok(script) => script,
        Err(problem) => {
            ctx.record(
                EntryKind::Note,
                "replay.none",
                format!("{problem}; answering with the respond engine"),
            );
            return None;
        }
    };
    ctx.record(
        EntryKind::Note,
        "replay",
        format!("cassette {}", script.name),
    );
    let sent: Option<Value> = serde_json::from_slice(body).ok();
    let recorded = script.request.as_ref();
    let (shape, minor): (&[&str], &[&str]) = if dialect == openai::DIALECT {
        (
            &["response_format", "stream_format"],
            &["model", "voice", "input", "instructions", "speed"],
        )
    } else {
        (&[], &["contents", "generationConfig"])
    };
    for key in minor {
        let (was, is) = (field(recorded, key), field(sent.as_ref(), key));
        if was != is {
            ctx.record(
                EntryKind::Note,
                "replay.mismatch",
                format!("{key}: recorded {was:?}, sent {is:?} (replayed anyway)"),
            );
        }
    }
    let mismatch = shape
        .iter()
        .find(|key| field(recorded, key) != field(sent.as_ref(), key))
        .map(|key| {
            format!(
                "{key}: cassette `{}` recorded {:?}, the request asks for {:?}",
                script.name,
                field(recorded, key),
                field(sent.as_ref(), key)
            )
        })
        .or_else(|| {
            // Gemini: the method and `alt` decide the answer's shape.
            let method = |p: &str| p.rsplit_once(':').map(|(_, m)| m.to_owned());
            let recorded_method = method(&script.path);
            let now = format!(
                "{}{}",
                method(path).unwrap_or_default(),
                query
                    .get("alt")
                    .map(|a| format!("?alt={a}"))
                    .unwrap_or_default()
            );
            (dialect == gemini::DIALECT && recorded_method.as_deref() != Some(now.as_str())).then(
                || {
                    format!(
                        "method: cassette `{}` recorded `{}`, the request is `{now}`",
                        script.name,
                        recorded_method.unwrap_or_default()
                    )
                },
            )
        });
    if let Some(problem) = mismatch {
        ctx.record(EntryKind::Note, "replay.mismatch", problem.clone());
        let message = format!("understudy replay: {problem}");
        return Some(if dialect == openai::DIALECT {
            openai::refusal((
                StatusCode::BAD_REQUEST,
                ApiError::invalid_request(message, None, Some("replay_mismatch")),
            ))
        } else {
            gemini::refusal(RpcError::new(400, "INVALID_ARGUMENT", message))
        });
    }
    Some(script.plan(speed))
}
