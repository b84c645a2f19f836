//! Plain HTTP exchanges (speech, chat, generateContent): the request is read
//! whole and forwarded; the response is streamed back chunk by chunk as it
//! arrives, each chunk recorded with its arrival time.

use crate::capture::{Capture, Payload};
use crate::endpoint;
use crate::headers::{
    body_of, copy_relayed, forwarded_request_headers, is_textual, recorded_headers,
};
use crate::shared::Shared;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use understudy_adapters::error_text::error_chain;
use understudy_fixtures::{ChunkData, Direction, HttpBody, HttpChunk, HttpRequest, HttpResponse};

/// Largest request body forwarded (TTS and chat requests are far smaller).
const MAX_REQUEST_BYTES: usize = 64 << 20;

/// Handles one HTTP exchange.
pub(crate) async fn proxy(
    shared: Arc<Shared>,
    parts: Parts,
    body: Body,
    start: Instant,
) -> Response {
    let path = crate::headers::path_and_query(&parts);
    let shown_path = shared.scrubber.path(&path);
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(path = %shown_path, %error, "request body not forwarded");
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("understudy record: the request body could not be read (limit {MAX_REQUEST_BYTES} bytes): {error}\n"),
            )
                .into_response();
        }
    };
    let forwarded = forwarded_request_headers(&parts.headers);
    let request_body = body_of(&parts.headers, &bytes);
    let json = match &request_body {
        Some(HttpBody::Json(json)) => Some(json),
        _ => None,
    };
    let endpoint = endpoint::http(shared.provider, &path, json);
    let request = HttpRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: recorded_headers(&forwarded),
        body: request_body,
    };
    let capture = Capture::begin(&shared, endpoint, request, start);
    let target = shared.upstream.target(&path, false);
    let sent = shared
        .upstream
        .http()
        .request(parts.method.clone(), &target)
        .headers(forwarded)
        .body(bytes)
        .send()
        .await;
    let upstream = match sent {
        Ok(response) => response,
        Err(error) => {
            // Without the URL: its query may carry a key.
            let error = error.without_url();
            let reason = format!(
                "cannot reach the upstream {}{shown_path}: {}",
                shared.upstream.host(),
                error_chain(&error)
            );
            tracing::warn!("{}", shared.scrubber.text(&reason));
            capture.incomplete(reason.clone());
            return (
                StatusCode::BAD_GATEWAY,
                format!("understudy record: {reason}\n"),
            )
                .into_response();
        }
    };
    let headers_at = Instant::now();
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(relay_body(upstream, capture, headers_at, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    copy_relayed(&headers, response.headers_mut());
    response
}

/// Streams the upstream body to the client, recording each chunk; records the
/// response when the body ends (or breaks).
async fn relay_body(
    upstream: reqwest::Response,
    capture: Capture,
    headers_at: Instant,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let status = upstream.status().as_u16();
    let headers = upstream.headers().clone();
    let textual = is_textual(&headers);
    let mut chunks: Vec<(Instant, Bytes)> = Vec::new();
    let mut body = upstream.bytes_stream();
    while let Some(piece) = body.next().await {
        let at = Instant::now();
        match piece {
            Ok(bytes) => {
                chunks.push((at, bytes.clone()));
                if tx.send(Ok(bytes)).await.is_err() {
                    capture.incomplete("the client went away before the response body ended");
                    break;
                }
                capture.forwarded(at.elapsed());
            }
            Err(error) => {
                let error = error.without_url();
                capture.incomplete(format!(
                    "the upstream response body broke off: {}",
                    error_chain(&error)
                ));
                // End the client's body with an error too, so it sees the break.
                let _ = tx
                    .send(Err(std::io::Error::other("upstream body broke off")))
                    .await;
                break;
            }
        }
    }
    let whole: Vec<u8> = chunks.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let streamed = chunks.len() > 1
        && headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| !ct.contains("json"));
    let (body, recorded_chunks) = if streamed {
        let pieces = chunks
            .iter()
            .map(|(at, bytes)| HttpChunk {
                t_us: capture.micros(*at),
                data: match std::str::from_utf8(bytes) {
                    Ok(text) if textual => ChunkData::Text(text.to_owned()),
                    _ => ChunkData::Bytes(bytes.to_vec()),
                },
            })
            .collect();
        (None, pieces)
    } else {
        (body_of(&headers, &whole), Vec::new())
    };
    capture
        .frame(
            headers_at,
            Direction::ServerToClient,
            Payload::Response(HttpResponse {
                status,
                headers: recorded_headers(&headers),
                body,
                chunks: recorded_chunks,
            }),
        )
        .await;
}
