//! Which headers cross the proxy, and how headers and bodies are recorded.

use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;
use understudy_fixtures::{Headers, HttpBody};

/// Headers that describe one hop, not the exchange (RFC 9110 §7.6.1), plus
/// the WebSocket handshake headers the upstream client makes afresh.
const PER_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
];

/// The path and query of a request, as the client sent them.
pub(crate) fn path_and_query(parts: &axum::http::request::Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned())
}

/// Client request headers as forwarded upstream.
///
/// `accept-encoding` is dropped so that the upstream answers uncompressed and
/// the cassette stays readable; every other end-to-end header passes unchanged.
pub(crate) fn forwarded_request_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if PER_HOP.contains(&name.as_str()) || name == "accept-encoding" {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Upstream response headers as relayed to the client.
fn relayed_headers(
    headers: &HeaderMap,
) -> impl Iterator<Item = (&HeaderName, &axum::http::HeaderValue)> {
    headers
        .iter()
        .filter(|(name, _)| !PER_HOP.contains(&name.as_str()))
}

/// Headers in cassette form (values that are not text are kept lossily).
pub(crate) fn recorded_headers(headers: &HeaderMap) -> Headers {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// An upstream answer passed to the client as it was.
pub(crate) fn relayed_response(status: StatusCode, headers: &HeaderMap, body: Bytes) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    for (name, value) in relayed_headers(headers) {
        response.headers_mut().append(name.clone(), value.clone());
    }
    response
}

/// The response headers of a streamed relay (everything but per-hop headers).
pub(crate) fn copy_relayed(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in relayed_headers(from) {
        to.append(name.clone(), value.clone());
    }
}

/// Whether a content type is text a human can read in a cassette.
pub(crate) fn is_textual(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("event-stream")
}

/// A whole body in cassette form: parsed JSON, text, or bytes; `None` when empty.
pub(crate) fn body_of(headers: &HeaderMap, bytes: &[u8]) -> Option<HttpBody> {
    if bytes.is_empty() {
        return None;
    }
    if let Ok(json) = serde_json::from_slice::<Value>(bytes) {
        if json.is_object() || json.is_array() {
            return Some(HttpBody::Json(json));
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if is_textual(headers) => Some(HttpBody::Text(text.to_owned())),
        _ => Some(HttpBody::Bytes(bytes.to_vec())),
    }
}
