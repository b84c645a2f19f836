//! Chat completions over HTTP: `POST …/chat/completions`, streamed as SSE (or
//! one JSON body), in the OpenAI dialect and DashScope's compatible mode.
//!
//! Any path ending in `/chat/completions` is served; a path under
//! `/compatible-mode/` speaks DashScope, anything else OpenAI. The *respond*
//! engine's answer comes from the realtime responders' rule (see
//! [`conversation`]), audio from the bundled voice. The *replay* engine plays
//! the chat cassette of the request's dialect (see [`replay`]) with its
//! recorded SSE chunks at their recorded offsets, so the recorded time to
//! first token and first audio is reproduced (divided by the speed); without
//! a cassette of the dialect the respond engine answers, and the journal says
//! so. The bundled chat cassettes are made from the respond engine
//! ([`cassettes`]).
//!
//! Per-request switches (headers):
//! - `X-Understudy-First-Token-Ms: N` — delay before the first content chunk
//!   (default: the responder's `first_audio_ms`, divided by the speed);
//! - `X-Understudy-Fault: midstream-error | truncate | rate-limit` — §10.9
//!   (under replay only `rate-limit`: a recording plays as recorded);
//! - `X-Understudy-Cassette: NAME` or `?cassette=NAME` — the cassette to
//!   replay (a name that is not loaded is refused with a 400).
//!
//! Every request is journalled as a session of dialect `openai-chat` or
//! `dashscope-chat`: the request (audio summarised), each event sent, and errors.

pub mod answer;
#[cfg(test)]
pub(crate) mod cassettes;
pub mod conversation;
pub mod errors;
pub mod replay;
pub mod validate;

use crate::config::EngineConfig;
use crate::http::plan::{self, JournalCtx};
#[cfg(test)]
use crate::http::plan::{Piece, Planned};
use crate::journal::{EntryKind, JournalEntry};
use crate::limits::ErrorShape;
use crate::server::Mount;
use crate::state::{bearer, query_map, AppState};
use crate::ResponderConfig;
use answer::{ChatFault, Identity, Pacing, Planner, Scheduled};
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use conversation::Conversation;
use errors::ChatFailure;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use understudy_adapters::chat::ChatDialect;

/// Whether a path is the chat-completions endpoint (any prefix); the
/// adapters' registry owns the path shape.
pub use understudy_adapters::registry::recognise::is_chat_path;

/// The dialect a chat path speaks.
pub fn dialect_for_path(path: &str) -> ChatDialect {
    if path.contains("/compatible-mode/") {
        ChatDialect::DashScope
    } else {
        ChatDialect::OpenAi
    }
}

/// Where the chat-completions handler is mounted (errors in OpenAI's shape,
/// which DashScope's compatible mode also uses).
const ROUTE: Mount = Mount::new("/__understudy/mount/chat/completions", ErrorShape::OpenAi);

/// The route serving `path`, if it is a chat-completions path (any method:
/// only `POST` is answered, anything else gets the provider's 405).
pub(crate) fn claim(_method: &Method, path: &str) -> Option<&'static Mount> {
    is_chat_path(path).then_some(&ROUTE)
}

/// The family's route, at the path [`claim`] mounts requests on.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(ROUTE.path, any(handle))
}

/// Answers a request to `…/chat/completions` (the path as the client sent it).
async fn handle(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let path = uri.path().to_owned();
    let dialect = dialect_for_path(&path);
    if request.method() != Method::POST {
        let failure = ChatFailure::bad_request(
            dialect,
            format!(
                "Invalid method for URL ({} {path}): use POST.",
                request.method()
            ),
            None,
            None,
        );
        return failure_response(StatusCode::METHOD_NOT_ALLOWED, failure);
    }
    let (parts, body) = request.into_parts();
    let query = query_map(parts.uri.query());
    match axum::body::to_bytes(body, state.config.socket_limit()).await {
        Ok(body) => {
            let incoming = replay::Request {
                path: &path,
                headers: &parts.headers,
                query: &query,
            };
            serve(state, dialect, incoming, body).await
        }
        Err(_) => {
            let failure = ChatFailure::bad_request(
                dialect,
                "The request body is too large or could not be read.",
                None,
                None,
            );
            failure_response(StatusCode::PAYLOAD_TOO_LARGE, failure)
        }
    }
}

async fn serve(
    state: AppState,
    dialect: ChatDialect,
    incoming: replay::Request<'_>,
    body: Bytes,
) -> Response {
    let received = Instant::now();
    let headers = incoming.headers;
    let model = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("model").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let journal = state.journal.clone();
    let engine = state.config.engine.name();
    let session = journal.open(dialect.name(), &model, engine);
    let record = |kind: EntryKind, label: &str, detail: String| {
        journal.record(
            session,
            JournalEntry {
                t_ms: received.elapsed().as_millis() as u64,
                kind,
                label: label.to_owned(),
                detail,
            },
        );
    };
    record(
        EntryKind::Client,
        "chat.completions",
        summarise(&String::from_utf8_lossy(&body)),
    );
    let refuse = |failure: ChatFailure| {
        tracing::debug!(dialect = dialect.name(), status = %failure.status, message = %failure.body.error.message, "chat request refused");
        record(
            EntryKind::Server,
            "error",
            serde_json::to_string(&failure.body).unwrap_or_default(),
        );
        journal.close(session);
        failure_response(failure.status, failure)
    };
    let key = bearer(headers);
    if !state.lets_in(key.clone()) {
        return refuse(ChatFailure::unauthorised(
            dialect,
            key.as_deref().filter(|k| !k.is_empty()),
        ));
    }
    let request = match validate::validate(dialect, &body) {
        Ok(request) => request,
        Err(failure) => return refuse(failure),
    };
    let asked = headers
        .get("x-understudy-fault")
        .and_then(|v| v.to_str().ok());
    let fault = asked.and_then(ChatFault::parse);
    if let (Some(name), None) = (asked, fault) {
        // An unknown fault name is refused, never silently ignored.
        let message = format!(
            "X-Understudy-Fault: unknown fault `{}` (expected {})",
            name.trim(),
            ChatFault::NAMES.join(", ")
        );
        return refuse(ChatFailure::bad_request(
            dialect,
            message,
            None,
            Some("unknown_fault"),
        ));
    }
    if fault == Some(ChatFault::RateLimit) {
        return refuse(ChatFailure::rate_limited(dialect, &request.model));
    }
    let conversation = match Conversation::read(dialect, &request) {
        Ok(conversation) => conversation,
        Err(failure) => return refuse(failure),
    };
    if let EngineConfig::Replay(library) = &state.config.engine {
        let ctx = JournalCtx {
            journal: journal.clone(),
            session,
            started: received.into(),
        };
        if let Some(fault) = fault {
            ctx.record(
                EntryKind::Note,
                "fault",
                format!("{fault:?} is not applied under replay: the recording plays as recorded"),
            );
        }
        let replayed = replay::answer(library, dialect, incoming, &body, state.config.speed, &ctx);
        if let Some(planned) = replayed {
            return plan::play(planned, ctx);
        }
    }
    let decision = answer::decide_answer(&conversation);
    record(EntryKind::Note, "decision", format!("{decision:?}"));
    let planner = Planner {
        dialect,
        request: &request,
        identity: Identity::mint(dialect, crate::session::rand_suffix(), unix_now()),
        pacing: pacing(&state, headers),
    };
    if !request.is_streaming() {
        return match planner.completion(&decision) {
            Ok(completion) => {
                let text = serde_json::to_string(&completion).unwrap_or_default();
                record(EntryKind::Server, "chat.completion", summarise(&text));
                journal.close(session);
                ([(header::CONTENT_TYPE, "application/json")], text).into_response()
            }
            Err(failure) => refuse(failure),
        };
    }
    let events = planner.stream(&decision, fault);
    stream_response(&state, session, received, events)
}

/// Sends the planned events at their offsets, one flushed write each, then
/// ends the body (clients that read to EOF after `[DONE]` must not hang).
fn stream_response(
    state: &AppState,
    session: u64,
    received: Instant,
    events: Vec<Scheduled>,
) -> Response {
    let journal = state.journal.clone();
    let stream = futures_util::stream::unfold(
        (events.into_iter(), journal),
        move |(mut events, journal)| async move {
            let Some(event) = events.next() else {
                journal.close(session);
                return None;
            };
            tokio::time::sleep_until((received + event.at).into()).await;
            let label = event_label(&event.data);
            journal.record(
                session,
                JournalEntry {
                    t_ms: received.elapsed().as_millis() as u64,
                    kind: EntryKind::Server,
                    label: label.to_owned(),
                    detail: summarise(&event.data),
                },
            );
            let bytes = Bytes::from(format!("data: {}\n\n", event.data));
            Some((Ok::<_, std::convert::Infallible>(bytes), (events, journal)))
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

fn pacing(state: &AppState, headers: &HeaderMap) -> Pacing {
    let first_token = headers
        .get("x-understudy-first-token-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|v| Duration::from_millis(v.min(600_000)));
    let config = match &state.config.engine {
        EngineConfig::Respond(config) => config,
        EngineConfig::Replay(_) => {
            // Without a cassette of the dialect: the bundled voice, default pacing.
            static FALLBACK: OnceLock<ResponderConfig> = OnceLock::new();
            FALLBACK.get_or_init(|| {
                ResponderConfig::with_voice(
                    crate::bundled_voice().unwrap_or_else(|_| Vec::new().into()),
                )
            })
        }
    };
    pacing_for(config, state.config.speed, first_token)
}

/// The respond engine's pacing with `config` at `speed`; `first_token`
/// overrides the delay before the first content chunk (not divided by speed).
pub fn pacing_for(config: &ResponderConfig, speed: f64, first_token: Option<Duration>) -> Pacing {
    let speed = if speed > 0.0 { speed } else { 1.0 };
    let ms = |ms: f64| Duration::from_secs_f64((ms / speed).max(0.0) / 1000.0);
    let chunk_ms = config.chunk_ms.max(10);
    Pacing {
        first_token: first_token.unwrap_or_else(|| ms(config.first_audio_ms as f64)),
        text_step: ms(40.0 * config.pace),
        audio_step: ms(chunk_ms as f64 * config.pace),
        chunk_ms,
        voice: config.voice.clone(),
    }
}

/// Planned events as an SSE body for [`plan::play`]: one `data:` event per
/// piece, each after the gap since the one before (the bundled-cassette
/// writer's; the live path streams as it plans).
#[cfg(test)]
pub fn sse_plan(events: &[Scheduled]) -> Planned {
    let mut previous = Duration::ZERO;
    let pieces = events
        .iter()
        .map(|event| {
            let after = event.at.saturating_sub(previous);
            previous = previous.max(event.at);
            Piece {
                after,
                bytes: Bytes::from(format!("data: {}\n\n", event.data)),
                label: event_label(&event.data).to_owned(),
                detail: summarise(&event.data),
            }
        })
        .collect();
    Planned {
        status: StatusCode::OK,
        headers: vec![
            ("content-type", "text/event-stream; charset=utf-8".into()),
            ("cache-control", "no-cache".into()),
        ],
        pieces,
        cut_short: false,
    }
}

/// The journal label of one SSE event's data.
fn event_label(data: &str) -> &'static str {
    if data == "[DONE]" {
        "[DONE]"
    } else if data.starts_with("{\"error\"") {
        "error"
    } else {
        "chat.completion.chunk"
    }
}

fn failure_response(status: StatusCode, failure: ChatFailure) -> Response {
    let mut response = (status, axum::Json(&failure.body)).into_response();
    for (name, value) in &failure.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A request or event for the journal: long strings (audio) replaced by their length.
fn summarise(text: &str) -> String {
    fn shorten(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if s.len() > 256 => {
                *s = format!("<{} chars>", s.len());
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(shorten),
            serde_json::Value::Object(map) => map.values_mut().for_each(shorten),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            shorten(&mut value);
            value.to_string()
        }
        Err(_) => text.chars().take(512).collect(),
    }
}

#[cfg(test)]
mod tests;
