//! The mock's side of the serving limits ([`understudy_adapters::serve_limits`]):
//! how each provider says "too slow" and "too many", and the listener that
//! times request heads.
//!
//! - A request whose head is late gets `408` before any route sees it
//!   (`GatedAccept`; a later head on a kept-alive connection is closed by
//!   `serve_limits::serve`); one whose body is late gets `408` in the shape
//!   of the provider the route speaks for ([`body_deadline`]), which the
//!   route's mount carries (`server::Mount`).
//! - A WebSocket upgrade past `--max-sessions` gets `429` with the
//!   provider's error body ([`over_capacity`]), from the handshake
//!   extractor, before anything is allocated for the session.
//! - A session whose client sends nothing in time is closed by the session
//!   loop (`session`) with [`MockConfig::timeout_close`](crate::config::MockConfig).

use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// Close code for a session closed by the first-frame or idle timeout,
/// unless configured otherwise. No provider documents one (unconfirmed in
/// every protocol file); 1001 ("going away") is what OpenAI sends when a
/// session hits its maximum duration and Gemini after `goAway`, the nearest
/// documented server-initiated ends.
pub const DEFAULT_TIMEOUT_CLOSE: u16 = 1001;

/// Whose error body a route answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    /// `{"error":{"message","type","param","code"}}` (OpenAI, and the
    /// OpenAI-compatible routes).
    OpenAi,
    /// `{"error":{"code":<status>,"message","status"}}` (Google).
    Gemini,
    /// `{"code","message","request_id"}` (DashScope).
    DashScope,
}

impl ErrorShape {
    /// The shape of the route a request was mounted on: the extension the
    /// mount step (`server::mount`) put there from the route's `Mount`;
    /// OpenAI's for the mock's own routes.
    pub(crate) fn of_request(extensions: &axum::http::Extensions) -> Self {
        extensions
            .get::<ErrorShape>()
            .copied()
            .unwrap_or(ErrorShape::OpenAi)
    }

    /// `status` with this provider's error body. `openai` is the OpenAI
    /// `(type, code)`, `google` the Google `status`, `dashscope` the
    /// DashScope `code`.
    fn answer(
        self,
        status: StatusCode,
        openai: (&str, &str),
        google: &str,
        dashscope: &str,
        message: String,
    ) -> Response {
        let body = match self {
            ErrorShape::OpenAi => json!({"error": {
                "message": message, "type": openai.0, "param": null, "code": openai.1}}),
            ErrorShape::Gemini => json!({"error": {
                "code": status.as_u16(), "message": message, "status": google}}),
            ErrorShape::DashScope => json!({
                "code": dashscope, "message": message,
                "request_id": format!("{:032x}", crate::session::rand_suffix())}),
        };
        (status, Json(body)).into_response()
    }
}

/// The `429` an upgrade past the session cap gets: OpenAI's rate-limit
/// error (`type: requests`, `code: rate_limit_exceeded`, as its HTTP APIs
/// send; at the realtime upgrade *unconfirmed*), Google's
/// `RESOURCE_EXHAUSTED`, DashScope's `Throttling.RateQuota`.
pub(crate) fn over_capacity(shape: ErrorShape, max: usize) -> Response {
    let message = format!(
        "Too many concurrent sessions: this server takes at most {max}. Please try again later."
    );
    shape.answer(
        StatusCode::TOO_MANY_REQUESTS,
        ("requests", "rate_limit_exceeded"),
        "RESOURCE_EXHAUSTED",
        "Throttling.RateQuota",
        message,
    )
}

/// Reads a request's body within the body timeout before the route runs;
/// late, `408` in the route's provider shape (OpenAI `request_timeout`,
/// Google `DEADLINE_EXCEEDED`, DashScope `RequestTimeOut`: the codes are
/// *unconfirmed*; the status is RFC 9110's). A body over the mock's socket
/// limit gets `413`. Requests without a body pass untouched.
pub(crate) async fn body_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limit) = state.config.timeouts.body else {
        return next.run(request).await;
    };
    if axum::body::HttpBody::size_hint(request.body()).upper() == Some(0) {
        return next.run(request).await;
    }
    let shape = ErrorShape::of_request(request.extensions());
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, state.config.socket_limit());
    match tokio::time::timeout(limit, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, "request body unreadable");
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body unreadable or too large",
            )
                .into_response()
        }
        Err(_) => {
            tracing::info!(?limit, path = %parts.uri.path(), "request body timed out: answered 408");
            shape.answer(
                StatusCode::REQUEST_TIMEOUT,
                ("invalid_request_error", "request_timeout"),
                "DEADLINE_EXCEEDED",
                "RequestTimeOut",
                format!("The request body did not arrive within {}.", seconds(limit)),
            )
        }
    }
}

/// `limit` as people write it (`30s`, `250ms`).
pub(crate) fn seconds(limit: Duration) -> String {
    understudy_adapters::serve_limits::written(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_takes_the_shape_its_mount_left() {
        let mut extensions = axum::http::Extensions::new();
        assert_eq!(ErrorShape::of_request(&extensions), ErrorShape::OpenAi);
        extensions.insert(ErrorShape::DashScope);
        assert_eq!(ErrorShape::of_request(&extensions), ErrorShape::DashScope);
    }

    #[test]
    fn seconds_read_as_written() {
        assert_eq!(seconds(Duration::from_secs(30)), "30s");
        assert_eq!(seconds(Duration::from_millis(250)), "250ms");
    }
}
