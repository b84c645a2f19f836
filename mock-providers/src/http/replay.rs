//! Replay of HTTP cassettes, for every HTTP route of the mock (`openai-speech`,
//! `gemini-tts`, `openai-chat`, `dashscope-chat`).
//!
//! An HTTP cassette holds one exchange: an `http_request` frame from the client
//! and the `http_response` frame that answered it, its body either whole or as
//! `chunks` with their arrival times. Replay sends the recorded status, headers
//! and body pieces at their recorded offsets from the request (divided by the
//! mock's speed factor), through the same transport as the respond engines
//! ([`super::plan::play`]).
//!
//! Matching is lenient, like the realtime replay: the request must be valid for
//! the provider (the route validates it first) and agree with the recording on
//! the aspects that shape the answer; each route declares them in a
//! [`Matching`] (HTTP TTS: `response_format`, `stream_format`, Gemini's method
//! and `alt`; chat: `stream`, audio output). Other differences (the text, the
//! voice, the model, the messages) are noted in the journal as
//! `replay.mismatch` and the recording is played anyway; a disagreement on the
//! answer's shape is refused with a 400 in the provider's error shape whose
//! message names the cassette.
//!

use super::plan::{JournalCtx, Piece, Planned};
use crate::config::ReplayLibrary;
use crate::journal::EntryKind;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use understudy_adapters::chat::ChatDialect;
use understudy_fixtures::{Cassette, ChunkData, FrameBody, HttpBody};

/// Whether `dialect` is one of the HTTP dialects replayed here (HTTP TTS and
/// chat completions); other cassettes are realtime sessions.
pub fn is_http_dialect(dialect: &str) -> bool {
    dialect == crate::http_tts::openai::DIALECT
        || dialect == crate::http_tts::gemini::DIALECT
        || dialect == ChatDialect::OpenAi.name()
        || dialect == ChatDialect::DashScope.name()
}

/// Why a cassette cannot be replayed as an HTTP exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpScriptError {
    /// The cassette's dialect is not an HTTP dialect.
    #[error("cassette `{name}`: dialect `{dialect}` is not an HTTP dialect")]
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
    /// `openai-speech`, `gemini-tts`, `openai-chat` or `dashscope-chat`.
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

    /// The recorded path (without query) and query parameters.
    pub fn recorded_path(&self) -> (&str, HashMap<String, String>) {
        match self.path.split_once('?') {
            Some((path, query)) => (
                path,
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect(),
            ),
            None => (self.path.as_str(), HashMap::new()),
        }
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

/// A request as replay sees it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Its dialect (`openai-speech`, `openai-chat`, …).
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

/// One request, sent or recorded, as the matching rules read it.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The path, without the query.
    pub path: &'a str,
    /// The query parameters.
    pub query: &'a HashMap<String, String>,
    /// The body, when it is JSON.
    pub body: Option<&'a Value>,
}

/// One thing a request and its recording are compared on.
#[derive(Debug, Clone, Copy)]
pub enum Aspect {
    /// A top-level field of the JSON body, compared as JSON.
    Field(&'static str),
    /// A value read from the request (absent fields given their defaults, say).
    Derived(&'static str, fn(&RequestView<'_>) -> Option<String>),
}

impl Aspect {
    /// Its name in journal entries and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Aspect::Field(name) | Aspect::Derived(name, _) => name,
        }
    }

    /// Its value in `request`.
    pub fn of(&self, request: &RequestView<'_>) -> Option<String> {
        match self {
            Aspect::Field(key) => request.body?.get(*key).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            Aspect::Derived(_, read) => read(request),
        }
    }
}

/// What to do when a request names a cassette that is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownName {
    /// Answer with the respond engine (and say why in the journal).
    RespondEngine,
    /// Refuse the request with a 400 naming the cassettes that are loaded.
    Refuse,
}

/// How a route matches requests against its recordings: data, not code.
#[derive(Debug, Clone, Copy)]
pub struct Matching {
    /// Aspects that decide the answer's shape: a difference is refused.
    pub shape: &'static [Aspect],
    /// Aspects noted as `replay.mismatch` when they differ; played anyway.
    pub minor: &'static [Aspect],
    /// The provider's 400 for `dialect`, with this message and error code.
    pub refuse: fn(dialect: &str, message: String, code: &'static str) -> Planned,
    /// A request naming a cassette that is not loaded.
    pub unknown_name: UnknownName,
}

/// Values quoted in journal entries and messages: long ones (messages with
/// audio in them) shortened.
fn quoted(value: &Option<String>) -> String {
    match value {
        None => "nothing".into(),
        Some(text) if text.chars().count() > 160 => format!(
            "{:?}… ({} chars)",
            text.chars().take(160).collect::<String>(),
            text.chars().count()
        ),
        Some(text) => format!("{text:?}"),
    }
}

/// The recorded answer for a valid request, when a cassette of its dialect is
/// loaded (picked by `X-Understudy-Cassette` or `?cassette=`, else the first
/// one), played at `speed`. `None`: no cassette; answer with the respond engine.
pub fn answer(
    library: &ReplayLibrary,
    incoming: Incoming<'_>,
    matching: &Matching,
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
    let wanted = crate::state::wanted_cassette(query, headers);
    let sent_body: Option<Value> = serde_json::from_slice(body).ok();
    let sent = RequestView {
        path,
        query,
        body: sent_body.as_ref(),
    };
    // Unnamed, the exchange that fits the request best plays (a recording of
    // several exchanges replays each one to its own request).
    let best = match wanted {
        Some(_) => None,
        None => best_fit(&library.http_of_dialect(dialect), &sent, matching),
    };
    let selected = match best {
        Some(script) => Ok(script),
        None => library.select_http(wanted, dialect),
    };
    let script = match selected {
        Ok(script) => script,
        Err(problem) if wanted.is_some() && matching.unknown_name == UnknownName::Refuse => {
            ctx.record(EntryKind::Note, "replay.none", problem.to_string());
            return Some((matching.refuse)(
                dialect,
                format!("understudy replay: {problem}"),
                "replay_cassette_not_found",
            ));
        }
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
    let (recorded_path, recorded_query) = script.recorded_path();
    let recorded = RequestView {
        path: recorded_path,
        query: &recorded_query,
        body: script.request.as_ref(),
    };
    for aspect in matching.minor {
        let (was, is) = (aspect.of(&recorded), aspect.of(&sent));
        if was != is {
            ctx.record(
                EntryKind::Note,
                "replay.mismatch",
                format!(
                    "{}: recorded {}, sent {} (replayed anyway)",
                    aspect.name(),
                    quoted(&was),
                    quoted(&is)
                ),
            );
        }
    }
    let mismatch = matching.shape.iter().find_map(|aspect| {
        let (was, is) = (aspect.of(&recorded), aspect.of(&sent));
        (was != is).then(|| {
            format!(
                "{}: cassette `{}` recorded {}, the request asks for {}",
                aspect.name(),
                script.name,
                quoted(&was),
                quoted(&is)
            )
        })
    });
    if let Some(problem) = mismatch {
        ctx.record(EntryKind::Note, "replay.mismatch", problem.clone());
        let message = format!("understudy replay: {problem}");
        return Some((matching.refuse)(dialect, message, "replay_mismatch"));
    }
    Some(script.plan(speed))
}

/// Of several recorded exchanges, the first that agrees with `sent` on every
/// shape aspect and on the most minor ones; `None` when none agrees on shape.
fn best_fit(
    scripts: &[Arc<HttpReplayScript>],
    sent: &RequestView<'_>,
    matching: &Matching,
) -> Option<Arc<HttpReplayScript>> {
    let mut best: Option<(usize, &Arc<HttpReplayScript>)> = None;
    for script in scripts {
        let (path, query) = script.recorded_path();
        let recorded = RequestView {
            path,
            query: &query,
            body: script.request.as_ref(),
        };
        let agrees = |aspect: &Aspect| aspect.of(&recorded) == aspect.of(sent);
        if !matching.shape.iter().all(agrees) {
            continue;
        }
        let minor = matching.minor.iter().filter(|a| agrees(a)).count();
        if best.is_none_or(|(score, _)| minor > score) {
            best = Some((minor, script));
        }
    }
    best.map(|(_, script)| Arc::clone(script))
}
