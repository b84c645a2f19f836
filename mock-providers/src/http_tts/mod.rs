//! HTTP text-to-speech in the mock: OpenAI `POST {prefix}/audio/speech` and
//! Gemini `POST /{version}/models/{model}:generateContent` /
//! `:streamGenerateContent`.
//!
//! The module claims a `POST` to one of these paths (any prefix; see
//! [`claim`]) and serves it from its [`routes`]; any other method goes on to
//! the other families. Each request is one journal session (dialect
//! `openai-speech` or `gemini-tts`): the request (text summarised), the
//! response head, every body piece with its time, and how the body ended.
//!
//! The *respond* engine answers with deterministic audio from [`synth`]. The
//! *replay* engine plays an HTTP cassette of the request's dialect when one is
//! loaded (see [`crate::http::replay`]; what must match is in [`replay`]); without one it answers with the respond engine and
//! the bundled voice, and says so in the journal.
//!
//! Per-request knobs, as headers: `X-Understudy-First-Audio-Ms` (delay before
//! the first audio byte), `X-Understudy-Fault` (`rate-limit`, `server-error`,
//! `drop-mid-stream`), `X-Understudy-Wav-Sizes: placeholder` (OpenAI `wav`),
//! `X-Understudy-Cassette` or `?cassette=` (replay).

#[cfg(test)]
pub(crate) mod cassettes;
pub mod gemini;
pub mod openai;
pub mod replay;
pub mod synth;

use crate::config::EngineConfig;
use crate::http::plan::{self, JournalCtx, Planned};
use crate::http::replay::{answer as replay_answer, Incoming};
use crate::journal::EntryKind;
use crate::limits::ErrorShape;
use crate::server::Mount;
use crate::state::{bearer, key_from, query_map, AppState, GEMINI_HTTP_KEY};
use crate::ResponderConfig;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;
use synth::Synth;
use understudy_adapters::tts::gemini_tts::wire::RpcError;
use understudy_adapters::tts::openai_speech::wire::ApiError;

/// A fault a client asked for with `X-Understudy-Fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429, the provider's rate-limit error.
    RateLimit,
    /// 500, the provider's internal error.
    ServerError,
    /// 200, then the connection drops half way through the body.
    DropMidStream,
}

impl Fault {
    /// The names [`parse`](Self::parse) takes, for messages that list them.
    pub const NAMES: [&'static str; 3] = ["rate-limit", "server-error", "drop-mid-stream"];

    /// Parses a header value.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "rate-limit" => Some(Fault::RateLimit),
            "server-error" => Some(Fault::ServerError),
            "drop-mid-stream" => Some(Fault::DropMidStream),
            _ => None,
        }
    }
}

/// Whether `path` is OpenAI's speech endpoint (any prefix); the adapters'
/// registry owns the path shape.
pub use understudy_adapters::registry::recognise::is_openai_speech_path;

/// Where OpenAI's speech handler is mounted (its errors in OpenAI's shape).
const OPENAI_SPEECH: Mount =
    Mount::new("/__understudy/mount/tts/openai-speech", ErrorShape::OpenAi);
/// Where Gemini's `generateContent` handler is mounted (Google's shape).
const GEMINI: Mount = Mount::new("/__understudy/mount/tts/gemini", ErrorShape::Gemini);

/// The route serving a request, if it is a `POST` to an HTTP TTS path (any
/// other method goes on to the other families).
pub(crate) fn claim(method: &Method, path: &str) -> Option<&'static Mount> {
    if method != Method::POST {
        None
    } else if is_openai_speech_path(path) {
        Some(&OPENAI_SPEECH)
    } else {
        gemini::route(path).map(|_| &GEMINI)
    }
}

/// The family's routes, at the paths [`claim`] mounts requests on.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(OPENAI_SPEECH.path, post(openai_speech))
        .route(GEMINI.path, post(gemini_generate))
}

/// A request as the TTS handlers read it: the path the client sent, its
/// query, headers, and the body (unless it was too large to read).
struct Received {
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::Error>,
}

impl Received {
    async fn read(state: &AppState, uri: &Uri, request: Request) -> Self {
        let (parts, body) = request.into_parts();
        Received {
            path: uri.path().to_owned(),
            query: query_map(parts.uri.query()),
            headers: parts.headers,
            body: axum::body::to_bytes(body, state.config.max_frame_bytes).await,
        }
    }
}

/// `POST …/audio/speech`.
async fn openai_speech(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let r = Received::read(&state, &uri, request).await;
    serve_openai(&state, &r.path, &r.headers, &r.query, r.body)
}

/// `POST …/{version}/models/{model}:generateContent` (or `:streamGenerateContent`).
async fn gemini_generate(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    // The mount claimed this path because it parses; the segment holds the model and method.
    let Some(route) = gemini::route(uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let r = Received::read(&state, &uri, request).await;
    serve_gemini(&state, route, &r.path, &r.headers, &r.query, r.body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The respond engine's voice and pacing for this mock (under the replay
/// engine: the bundled voice with the default pacing).
fn synth_for(state: &AppState, headers: &HeaderMap) -> Option<Synth> {
    let first_audio_ms =
        header(headers, "x-understudy-first-audio-ms").and_then(|v| v.parse().ok());
    let synth = match &state.config.engine {
        EngineConfig::Respond(config) => Synth::from_responder(config, state.config.speed),
        EngineConfig::Replay(_) => {
            static FALLBACK: OnceLock<Option<ResponderConfig>> = OnceLock::new();
            let config = FALLBACK
                .get_or_init(|| crate::bundled_voice().ok().map(ResponderConfig::with_voice))
                .as_ref()?;
            Synth::from_responder(config, state.config.speed)
        }
    };
    Some(synth.with_first_audio_ms(first_audio_ms))
}

fn request_id() -> String {
    format!(
        "req_{:024x}",
        crate::session::rand_suffix() ^ 0x5eed_0000_0000
    )
}

/// The request body as a journal line: JSON with long strings shortened.
fn summary(body: &[u8]) -> String {
    fn shorten(value: &mut Value) {
        match value {
            Value::String(s) if s.chars().count() > 120 => {
                let n = s.chars().count();
                *s = format!("{}… ({n} chars)", s.chars().take(120).collect::<String>());
            }
            Value::Array(items) => items.iter_mut().for_each(shorten),
            Value::Object(map) => map.values_mut().for_each(shorten),
            _ => {}
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            shorten(&mut value);
            value.to_string()
        }
        Err(_) => format!("{} bytes, not JSON", body.len()),
    }
}

fn serve_openai(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: Result<axum::body::Bytes, axum::Error>,
) -> Response {
    let model = body
        .as_ref()
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let engine = state.config.engine.name();
    let ctx = JournalCtx::open(&state.journal, openai::DIALECT, &model, engine);
    let Ok(body) = body else {
        ctx.record(EntryKind::Note, "http.refused", "body too large");
        let error = ApiError::invalid_request("Request body too large.", None, None);
        return plan::play(openai::refusal((StatusCode::PAYLOAD_TOO_LARGE, error)), ctx);
    };
    ctx.record(EntryKind::Client, format!("POST {path}"), summary(&body));
    let key = bearer(headers);
    if !state.lets_in(key.clone()) {
        ctx.record(EntryKind::Note, "auth", "key refused");
        return plan::play(openai::auth_failure(key.as_deref()), ctx);
    }
    if let Some(planned) = fault_answer(headers, &OPENAI_FAULTS) {
        ctx.record(EntryKind::Note, "fault", format!("{}", planned.status));
        return plan::play(planned, ctx);
    }
    let request = match openai::validate(&body) {
        Ok(request) => request,
        Err(refusal) => {
            ctx.record(EntryKind::Note, "http.refused", refusal.1.message.clone());
            return plan::play(openai::refusal(refusal), ctx);
        }
    };
    if let EngineConfig::Replay(library) = &state.config.engine {
        let speed = state.config.speed;
        let incoming = Incoming {
            dialect: openai::DIALECT,
            path,
            headers,
            query,
            body: &body,
        };
        let replayed = replay_answer(library, incoming, &replay::OPENAI, speed, &ctx);
        if let Some(planned) = replayed {
            return plan::play(planned, ctx);
        }
    }
    let Some(synth) = synth_for(state, headers) else {
        return plan::play(openai::refusal(server_error_openai()), ctx);
    };
    let options = openai::Options {
        placeholder_wav_sizes: header(headers, "x-understudy-wav-sizes") == Some("placeholder"),
        cut_short: header(headers, "x-understudy-fault").and_then(Fault::parse)
            == Some(Fault::DropMidStream),
    };
    if request.model.starts_with("tts-1") && request.instructions.is_some() {
        ctx.record(
            EntryKind::Note,
            "ignored",
            "instructions are not used by tts-1 models",
        );
    }
    plan::play(
        openai::answer(&request, &synth, options, &request_id()),
        ctx,
    )
}

fn serve_gemini(
    state: &AppState,
    route: gemini::Route,
    path: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: Result<axum::body::Bytes, axum::Error>,
) -> Response {
    let engine = state.config.engine.name();
    let ctx = JournalCtx::open(&state.journal, gemini::DIALECT, &route.model, engine);
    let method = if route.streamed {
        gemini::Method::Stream {
            sse: query.get("alt").map(String::as_str) == Some("sse"),
        }
    } else {
        gemini::Method::Generate
    };
    let Ok(body) = body else {
        ctx.record(EntryKind::Note, "http.refused", "body too large");
        return plan::play(
            gemini::refusal(RpcError::new(
                413,
                "INVALID_ARGUMENT",
                "Request payload size exceeds the limit.",
            )),
            ctx,
        );
    };
    let label = if route.streamed {
        "streamGenerateContent"
    } else {
        "generateContent"
    };
    ctx.record(EntryKind::Client, label, summary(&body));
    let key = key_from(GEMINI_HTTP_KEY, headers, query);
    if !state.lets_in(key.clone()) {
        ctx.record(EntryKind::Note, "auth", "key refused");
        return plan::play(gemini::auth_failure(key.as_deref()), ctx);
    }
    if let Some(planned) = fault_answer(headers, &GEMINI_FAULTS) {
        ctx.record(EntryKind::Note, "fault", format!("{}", planned.status));
        return plan::play(planned, ctx);
    }
    let call = match gemini::validate(&route, &body) {
        Ok(call) => call,
        Err(error) => {
            ctx.record(EntryKind::Note, "http.refused", error.message.clone());
            return plan::play(gemini::refusal(error), ctx);
        }
    };
    if let EngineConfig::Replay(library) = &state.config.engine {
        let speed = state.config.speed;
        let incoming = Incoming {
            dialect: gemini::DIALECT,
            path,
            headers,
            query,
            body: &body,
        };
        let replayed = replay_answer(library, incoming, &replay::GEMINI, speed, &ctx);
        if let Some(planned) = replayed {
            return plan::play(planned, ctx);
        }
    }
    let Some(synth) = synth_for(state, headers) else {
        return plan::play(
            gemini::refusal(RpcError::new(
                500,
                "INTERNAL",
                "An internal error has occurred.",
            )),
            ctx,
        );
    };
    let cut_short =
        header(headers, "x-understudy-fault").and_then(Fault::parse) == Some(Fault::DropMidStream);
    let id = request_id();
    plan::play(
        gemini::answer(&route, method, &call, &synth, cut_short, &id[4..]),
        ctx,
    )
}

/// How one HTTP TTS dialect answers the injected faults, in its own error
/// shape: data each dialect's handler passes to [`fault_answer`].
struct FaultAnswers {
    /// A 400 naming a fault the mock does not know.
    unknown: fn(String) -> Planned,
    /// The dialect's rate-limit refusal.
    rate_limit: fn() -> Planned,
    /// The dialect's internal-error refusal.
    server_error: fn() -> Planned,
}

/// OpenAI's `audio/speech` errors (`{"error": {...}}`, `retry-after-ms`).
const OPENAI_FAULTS: FaultAnswers = FaultAnswers {
    unknown: |message| {
        openai::refusal((
            StatusCode::BAD_REQUEST,
            ApiError::invalid_request(message, None, Some("unknown_fault")),
        ))
    },
    rate_limit: || {
        openai::refusal((
            StatusCode::TOO_MANY_REQUESTS,
            ApiError {
                message: "Rate limit reached for requests. Please try again in 20ms.".into(),
                kind: "requests".into(),
                param: None,
                code: Some("rate_limit_exceeded".into()),
            },
        ))
        .with_header("retry-after-ms", "20")
    },
    server_error: || openai::refusal(server_error_openai()),
};

/// Google's RPC errors (`{"error": {"code", "message", "status"}}`).
const GEMINI_FAULTS: FaultAnswers = FaultAnswers {
    unknown: |message| gemini::refusal(RpcError::new(400, "INVALID_ARGUMENT", message)),
    rate_limit: || {
        gemini::refusal(RpcError::new(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
        ))
    },
    server_error: || {
        gemini::refusal(RpcError::new(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ))
    },
};

fn server_error_openai() -> openai::Refusal {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiError {
            message: "The server had an error while processing your request. Sorry about that!"
                .into(),
            kind: "server_error".into(),
            param: None,
            code: None,
        },
    )
}

/// The error answer for a rate-limit or server-error fault, or a 400 for a
/// fault name the mock does not know (never silently ignored).
fn fault_answer(headers: &HeaderMap, answers: &FaultAnswers) -> Option<Planned> {
    let name = header(headers, "x-understudy-fault")?;
    let Some(fault) = Fault::parse(name) else {
        return Some((answers.unknown)(format!(
            "X-Understudy-Fault: unknown fault `{}` (expected {})",
            name.trim(),
            Fault::NAMES.join(", ")
        )));
    };
    match fault {
        Fault::DropMidStream => None,
        Fault::RateLimit => Some((answers.rate_limit)()),
        Fault::ServerError => Some((answers.server_error)()),
    }
}

#[cfg(test)]
mod tests;
