//! Synthesized HTTP cassettes: a planned answer written as a cassette, the
//! reverse of [`super::replay`]. The bundled HTTP cassettes are made this way
//! (by the ignored writer tests), so it is compiled for tests only.

use super::plan::Planned;
use serde_json::Value;
use understudy_fixtures::{
    Cassette, ChunkData, Direction, Frame, FrameBody, Header, Headers, HttpBody, HttpChunk,
    HttpRequest, HttpResponse,
};

/// When a synthesized cassette's response head arrives after the request, in
/// microseconds.
const HEAD_AFTER_US: u64 = 1_000;

/// A synthesized cassette holding one request (`POST path`, JSON `body`) and
/// the planned answer to it: the head at 1 ms, each body piece at its planned
/// time after that. `text_chunks` writes the pieces as text (SSE), else as
/// bytes. [`HttpReplayScript::from_cassette`] reads it back.
pub fn exchange_cassette(
    header: Header,
    path: &str,
    request_headers: &[(&str, &str)],
    body: Value,
    planned: &Planned,
    text_chunks: bool,
) -> Cassette {
    let mut headers = Headers::new();
    for (name, value) in request_headers {
        headers.append(*name, *value);
    }
    let mut cassette = Cassette::new(header);
    cassette.frames.push(Frame::new(
        0,
        Direction::ClientToServer,
        FrameBody::HttpRequest(HttpRequest {
            method: "POST".into(),
            path: path.into(),
            headers,
            body: Some(HttpBody::Json(body)),
        }),
    ));
    let mut response_headers = Headers::new();
    for (name, value) in &planned.headers {
        response_headers.append(*name, value.clone());
    }
    response_headers.append("transfer-encoding", "chunked");
    let mut t_us = HEAD_AFTER_US;
    let chunks = planned
        .pieces
        .iter()
        .map(|piece| {
            t_us += piece.after.as_micros() as u64;
            let data = if text_chunks {
                ChunkData::Text(String::from_utf8_lossy(&piece.bytes).into_owned())
            } else {
                ChunkData::Bytes(piece.bytes.to_vec())
            };
            HttpChunk { t_us, data }
        })
        .collect();
    cassette.frames.push(Frame::new(
        HEAD_AFTER_US,
        Direction::ServerToClient,
        FrameBody::HttpResponse(HttpResponse {
            status: planned.status.as_u16(),
            headers: response_headers,
            body: None,
            chunks,
        }),
    ));
    cassette
}
