//! The journal over HTTP: `GET /__understudy/journal` (paged),
//! `DELETE /__understudy/journal` (clear), `GET /__understudy/journal/stats`,
//! and the session list `GET /__understudy/sessions` (`?since=` to tail) with
//! one session at `GET /__understudy/sessions/{id}` (`?since=` milliseconds),
//! plus the inspector's data routes ([`crate::inspector`]: the live stream, a
//! session's audio and its cassette) behind the same key check, and the
//! inspector page, which holds no data, in front of it.
//!
//! Under `--require-auth`/`--api-key` every one of them wants a key the way
//! the provider routes do (`Authorization: Bearer`, Google's
//! `x-goog-api-key` or `?key=`): the journal holds instructions, user text and
//! transcripts. A read renders its JSON on a blocking thread after copying
//! the entries out, so it never holds the journal's lock nor a session's
//! worker.

use crate::journal::{Journal, JournalMode, ReadError};
use crate::state::{self, AppState, KeySource};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// Sessions per page unless `?limit=` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// Most sessions one page returns, whatever `?limit=` says.
pub(crate) const MAX_LIMIT: usize = 1_000;

/// Where the journal routes take a key from, after `Authorization: Bearer`.
const KEY_SOURCES: &[KeySource] = &[
    KeySource::Header("x-goog-api-key"),
    KeySource::Header("api-key"),
    KeySource::Query("key"),
];

/// The journal's routes, each behind the key check.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/__understudy/journal", get(read).delete(clear))
        .route("/__understudy/journal/stats", get(stats))
        .route("/__understudy/sessions", get(sessions))
        .route("/__understudy/sessions/{id}", get(session))
        .merge(crate::inspector::data_routes())
        .layer(axum::middleware::from_fn_with_state(state, guard))
        .merge(crate::inspector::page_routes())
}

/// Refuses a request without an accepted key when the mock requires one, and
/// every request when the journal is off.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let query = state::query_map(request.uri().query());
    let key = state::bearer(request.headers())
        .or_else(|| state::key_from(KEY_SOURCES, request.headers(), &query));
    if !state.lets_in(key) {
        tracing::warn!(path = %request.uri().path(), "journal read refused: no accepted key");
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {
                "message": "The journal needs an API key: send `Authorization: Bearer <key>` (or `x-goog-api-key`).",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
                "param": null,
            }})),
        )
            .into_response();
    }
    if state.journal.mode() == JournalMode::Off {
        return (
            StatusCode::NOT_FOUND,
            "the journal is off (serve --journal summary or full to keep one)",
        )
            .into_response();
    }
    next.run(request).await
}

/// A `?offset=&limit=` page, or the reason it cannot be read.
fn paging(query: Option<&str>) -> Result<(usize, usize), String> {
    let query = state::query_map(query);
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(value) => value
            .parse::<usize>()
            .map_err(|_| format!("`{name}` must be a whole number, not `{value}`")),
    };
    Ok((
        number("offset", 0)?,
        number("limit", DEFAULT_LIMIT)?.min(MAX_LIMIT),
    ))
}

async fn read(State(state): State<AppState>, request: Request) -> Response {
    let (offset, limit) = match paging(request.uri().query()) {
        Ok(page) => page,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let rendered = state
        .journal
        .read(
            move |journal| (journal.stats(), journal.copy_page(offset, limit)),
            |(stats, page)| serde_json::to_vec(&page.render()).map(|body| (body, stats)),
        )
        .await;
    let (body, stats) = match rendered {
        Ok(Ok(done)) => done,
        Ok(Err(error)) => {
            tracing::error!(%error, "the journal could not be serialised");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Err(refused) => return unread(refused),
    };
    let mut response = ([("content-type", "application/json")], body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-understudy-journal-sessions", stats.sessions as u64),
        ("x-understudy-journal-evicted", stats.evicted_sessions),
        ("x-understudy-journal-offset", offset as u64),
        ("x-understudy-journal-limit", limit as u64),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    response
}

/// A whole-number query parameter, `default` when absent.
fn number(query: Option<&str>, name: &str, default: u64) -> Result<u64, String> {
    match state::query_map(query).get(name) {
        None => Ok(default),
        Some(value) => value
            .parse::<u64>()
            .map_err(|_| format!("`{name}` must be a whole number, not `{value}`")),
    }
}

/// `GET /__understudy/sessions?since=&offset=&limit=`: one line per kept
/// session numbered above `since` (tail with the last number seen), with the
/// journal's counters.
async fn sessions(State(state): State<AppState>, request: Request) -> Response {
    let query = request.uri().query();
    let read = paging(query).and_then(|page| Ok((page, number(query, "since", 0)?)));
    let ((offset, limit), since) = match read {
        Ok(read) => read,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let rendered = state
        .journal
        .read(
            move |journal| (journal.stats(), journal.copy_list(since, offset, limit)),
            move |(stats, list)| {
                let body = json!({
                    "sessions": list.render(),
                    "kept": stats.sessions,
                    "evicted_sessions": stats.evicted_sessions,
                    "dropped_entries": stats.dropped_entries,
                    "caps": stats.caps,
                    "mode": stats.mode,
                    "offset": offset,
                    "limit": limit,
                });
                (body.to_string(), stats)
            },
        )
        .await;
    let (body, stats) = match rendered {
        Ok(done) => done,
        Err(refused) => return unread(refused),
    };
    let mut response = ([("content-type", "application/json")], body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-understudy-journal-sessions", stats.sessions as u64),
        ("x-understudy-journal-evicted", stats.evicted_sessions),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    response
}

/// `GET /__understudy/sessions/{id}?since=`: one session's entries (with
/// their times), from `since` milliseconds on.
async fn session(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    request: Request,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return (
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not a session number"),
        )
            .into_response();
    };
    let since = match number(request.uri().query(), "since", 0) {
        Ok(since) => since,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let rendered = state
        .journal
        .read(
            move |journal| journal.copy_session(id, since),
            |copy| copy.map(|s| serde_json::to_vec(&s.render())),
        )
        .await;
    match rendered {
        Ok(Some(Ok(body))) => ([("content-type", "application/json")], body).into_response(),
        Ok(Some(Err(error))) => {
            tracing::error!(%error, "a session could not be serialised");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            format!("session {id} is not in the journal (never opened, evicted or cleared)"),
        )
            .into_response(),
        Err(refused) => unread(refused),
    }
}

/// The answer to a read the journal's reader did not run: 503 with a JSON
/// error saying why (`journal_busy`, `journal_read_timeout`,
/// `journal_stopped`), and a `Retry-After` when retrying soon may work.
pub(crate) fn unread(refused: ReadError) -> Response {
    let (code, retry) = match refused {
        ReadError::Busy => ("journal_busy", true),
        ReadError::TimedOut(_) => ("journal_read_timeout", true),
        ReadError::Stopped => ("journal_stopped", false),
    };
    unavailable(&refused.to_string(), code, retry)
}

/// A 503 with the journal's JSON error shape (the provider routes' shape:
/// `{"error": {"message", "type", "code"}}`) and, if `retry`, `Retry-After: 1`.
pub(crate) fn unavailable(message: &str, code: &str, retry: bool) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": {
            "message": message,
            "type": "service_unavailable",
            "code": code,
        }})),
    )
        .into_response();
    if retry {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    response
}

// Both take the journal's locks: on its copy thread, not on the inspector's
// low-priority runtime (see `journal::reader`).
async fn clear(State(state): State<AppState>) -> Response {
    match state.journal.locked(Journal::clear).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => unread(refused),
    }
}

async fn stats(State(state): State<AppState>) -> Response {
    match state.journal.locked(Journal::stats).await {
        Ok(stats) => Json(stats).into_response(),
        Err(refused) => unread(refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_caps_and_refuses_garbage() {
        assert_eq!(paging(None), Ok((0, DEFAULT_LIMIT)));
        assert_eq!(paging(Some("offset=5&limit=2")), Ok((5, 2)));
        assert_eq!(paging(Some("limit=999999")), Ok((0, MAX_LIMIT)));
        assert!(paging(Some("limit=ten")).unwrap_err().contains("limit"));
    }

    async fn json_of(response: Response) -> serde_json::Value {
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        serde_json::from_slice(&body).expect("JSON")
    }

    #[tokio::test]
    async fn refused_reads_are_503_with_a_json_error_saying_why() {
        let timed_out = unread(ReadError::TimedOut(std::time::Duration::from_millis(20)));
        assert_eq!(timed_out.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(timed_out.headers()["retry-after"], "1");
        let body = json_of(timed_out).await;
        assert_eq!(body["error"]["code"], "journal_read_timeout");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("20 ms")));
        let busy = unread(ReadError::Busy);
        assert_eq!(busy.headers()["retry-after"], "1");
        assert_eq!(json_of(busy).await["error"]["code"], "journal_busy");
        let stopped = unread(ReadError::Stopped);
        assert!(stopped.headers().get("retry-after").is_none());
        assert_eq!(json_of(stopped).await["error"]["code"], "journal_stopped");
    }
}

#[cfg(test)]
mod http_tests;
