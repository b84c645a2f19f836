//! The serving limits on the mock: every timeout fires (with tiny values)
//! and the server keeps serving; a burst past `max_sessions` is refused with
//! each provider's `429`, and the slots come back when sessions end.

mod support;

use futures_util::SinkExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use support::{next_frame, raw_connect, Frame, Socket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use understudy_mock::{MockServer, ServeTimeouts};

const MS: fn(u64) -> Option<Duration> = |ms| Some(Duration::from_millis(ms));

async fn mock(timeouts: ServeTimeouts) -> MockServer {
    MockServer::builder()
        .timeouts(timeouts)
        .start()
        .await
        .unwrap()
}

fn openai_url(server: &MockServer) -> String {
    format!("{}/realtime?model=gpt-realtime", server.openai_base_url())
}

/// A new OpenAI session is served: `session.created` arrives.
async fn serves(server: &MockServer) {
    let mut socket = raw_connect(&openai_url(server), &[("authorization", "Bearer k")]).await;
    match next_frame(&mut socket).await {
        Frame::Json(first) => assert_eq!(first["type"], "session.created", "{first}"),
        Frame::Close(code, reason) => panic!("closed {code} {reason}"),
    }
}

/// Sends `request` as raw bytes and reads the answer: status and body (by
/// `content-length`), or what came before the server closed.
async fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    read_answer(&mut tcp).await
}

async fn read_answer(tcp: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .unwrap_or(0);
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length || n == 0 {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, body.to_owned());
            }
        }
        assert!(n > 0, "closed without an answer: {text:?}");
    }
}

#[tokio::test]
async fn a_head_that_never_ends_gets_408_and_the_server_goes_on() {
    let server = mock(ServeTimeouts {
        header: MS(150),
        ..ServeTimeouts::default()
    })
    .await;
    let started = std::time::Instant::now();
    let (status, body) = raw_http(
        server.address(),
        b"GET /__understudy/health HTTP/1.1\r\nhost: x",
    )
    .await;
    assert_eq!(status, 408, "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A silent connection too (nothing sent at all).
    let (status, _) = raw_http(server.address(), b"").await;
    assert_eq!(status, 408);
    serves(&server).await;
    let (status, body) = raw_http(
        server.address(),
        b"GET /__understudy/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

/// Serves one whole request on a kept-alive connection, then sends part of
/// a second head: the connection must be closed (hyper's header timeout
/// answers nothing) within a few seconds, not held.
async fn a_late_second_head_closes(addr: SocketAddr, path: &str) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let first = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    tcp.write_all(first.as_bytes()).await.unwrap();
    let (status, body) = read_answer(&mut tcp).await;
    assert_eq!(status, 200, "{path}: {body}");
    tcp.write_all(b"GET /__understudy/health HTTP/1.1\r\nhost:")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "{path}: the partial second head is still held"
    );
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

#[tokio::test]
async fn a_late_second_head_on_a_kept_alive_connection_is_closed() {
    let server = mock(ServeTimeouts {
        header: MS(150),
        ..ServeTimeouts::default()
    })
    .await;
    // On the main runtime, and on the inspector's (journal reads go there).
    a_late_second_head_closes(server.address(), "/__understudy/health").await;
    a_late_second_head_closes(server.address(), "/__understudy/sessions").await;
    serves(&server).await;
}

#[tokio::test]
async fn a_tls_head_that_never_ends_gets_408() {
    let server = MockServer::builder()
        .timeouts(ServeTimeouts {
            header: MS(150),
            ..ServeTimeouts::default()
        })
        .tls("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    // A handshake that never starts is dropped within the header timeout.
    let mut silent = TcpStream::connect(server.tls_address().unwrap())
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the silent TLS client is still held");
    serves(&server).await;
}

#[tokio::test]
async fn a_body_that_never_ends_gets_408_in_the_providers_shape() {
    let server = mock(ServeTimeouts {
        body: MS(150),
        ..ServeTimeouts::default()
    })
    .await;
    let openai = b"POST /v1/audio/speech HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\n\
content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"model\":";
    let (status, body) = raw_http(server.address(), openai).await;
    assert_eq!(status, 408, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("150ms"));

    let gemini = b"POST /v1beta/models/gemini-2.5-flash-preview-tts:generateContent HTTP/1.1\r\n\
host: x\r\nx-goog-api-key: k\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{";
    let (status, body) = raw_http(server.address(), gemini).await;
    assert_eq!(status, 408, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["status"], "DEADLINE_EXCEEDED", "{body}");
    assert_eq!(body["error"]["code"], 408, "{body}");

    // A whole body in time is served as before.
    let whole = json!({"model": "gpt-4o-mini-tts", "input": "hi", "voice": "alloy", "response_format": "pcm"}).to_string();
    let request = format!(
        "POST /v1/audio/speech HTTP/1.1\r\nhost: x\r\nauthorization: Bearer k\r\n\
content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{whole}",
        whole.len()
    );
    let (status, body) = raw_http(server.address(), request.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
}

/// Reads frames up to the close.
async fn close_of(socket: &mut Socket) -> (u16, String) {
    loop {
        if let Frame::Close(code, reason) = next_frame(socket).await {
            return (code, reason);
        }
    }
}

#[tokio::test]
async fn a_session_whose_client_never_speaks_is_closed_after_the_first_frame_timeout() {
    let server = mock(ServeTimeouts {
        first_frame: MS(200),
        ..ServeTimeouts::default()
    })
    .await;
    let mut socket = raw_connect(&openai_url(&server), &[("authorization", "Bearer k")]).await;
    let started = std::time::Instant::now();
    let (code, reason) = close_of(&mut socket).await;
    assert_eq!(code, 1001, "{reason}");
    assert_eq!(reason, "no client frame within 200ms of connecting");
    assert!(started.elapsed() >= Duration::from_millis(150));
    let journal = server.journal();
    assert!(journal[0].entries.iter().any(|e| e.label == "timeout"));
    serves(&server).await;
}

#[tokio::test]
async fn a_quiet_session_is_closed_after_the_idle_timeout_with_the_configured_code() {
    let server = MockServer::builder()
        .timeouts(ServeTimeouts {
            first_frame: MS(5_000),
            idle: MS(250),
            ..ServeTimeouts::default()
        })
        .timeout_close(4000)
        .start()
        .await
        .unwrap();
    let mut socket = raw_connect(&openai_url(&server), &[("authorization", "Bearer k")]).await;
    // Frames keep the session alive past the idle timeout...
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        socket.send(Message::Ping(vec![1].into())).await.unwrap();
    }
    // ... and silence ends it.
    let (code, reason) = close_of(&mut socket).await;
    assert_eq!(code, 4000, "{reason}");
    assert_eq!(reason, "idle timeout: no client frame for 250ms");
    serves(&server).await;
}

#[tokio::test]
async fn with_timeouts_off_a_quiet_session_stays_open() {
    let server = mock(ServeTimeouts::NONE).await;
    let mut socket = raw_connect(&openai_url(&server), &[("authorization", "Bearer k")]).await;
    let _created = next_frame(&mut socket).await;
    let quiet = tokio::time::timeout(Duration::from_millis(600), next_frame(&mut socket)).await;
    assert!(quiet.is_err(), "a frame or close came: {quiet:?}");
}

/// A raw WebSocket upgrade request for `path`.
fn upgrade(path: &str, key_header: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\n{key_header}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\
sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .into_bytes()
}

const GEMINI_PATH: &str =
    "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

#[tokio::test]
async fn a_burst_past_max_sessions_gets_each_providers_429_and_slots_come_back() {
    let server = MockServer::builder().max_sessions(2).start().await.unwrap();
    let url = openai_url(&server);
    let mut first = raw_connect(&url, &[("authorization", "Bearer k")]).await;
    let mut second = raw_connect(&url, &[("authorization", "Bearer k")]).await;
    for socket in [&mut first, &mut second] {
        assert!(matches!(next_frame(socket).await, Frame::Json(_)));
    }
    let addr = server.address();
    // A burst of refusals, concurrently, in every provider's shape.
    let burst = (0..12).map(|i| async move {
        let (path, key) = match i % 4 {
            0 => ("/v1/realtime?model=gpt-realtime", "authorization: Bearer k"),
            1 => ("/v1/live/sessions", "authorization: Bearer k"),
            2 => (
                "/api-ws/v1/realtime?model=qwen3-omni-flash-realtime",
                "authorization: Bearer k",
            ),
            _ => (GEMINI_PATH, "x-goog-api-key: k"),
        };
        (i % 4, raw_http(addr, &upgrade(path, key)).await)
    });
    for (kind, (status, body)) in futures_util::future::join_all(burst).await {
        assert_eq!(status, 429, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        match kind {
            0 | 1 => {
                assert_eq!(body["error"]["type"], "requests", "{body}");
                assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
                assert!(body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("at most 2"));
            }
            2 => {
                assert_eq!(body["code"], "Throttling.RateQuota", "{body}");
                assert_eq!(body["request_id"].as_str().unwrap().len(), 32, "{body}");
            }
            _ => {
                assert_eq!(body["error"]["code"], 429, "{body}");
                assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED", "{body}");
            }
        }
    }
    // The accepted sessions were not disturbed: a turn completes.
    let turn = [
        json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "hello"}]}}),
        json!({"type": "response.create"}),
    ];
    for event in &turn {
        first
            .send(Message::Text(event.to_string().into()))
            .await
            .unwrap();
    }
    loop {
        match next_frame(&mut first).await {
            Frame::Json(event) if event["type"] == "response.done" => break,
            Frame::Json(_) => {}
            Frame::Close(code, reason) => panic!("closed {code} {reason}"),
        }
    }
    // Refusals took no session number: the journal has the two sessions only.
    assert_eq!(server.journal().len(), 2);
    // Ending the sessions frees their slots.
    first.close(None).await.unwrap();
    second.close(None).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _) = raw_http(
            addr,
            &upgrade("/v1/realtime?model=gpt-realtime", "authorization: Bearer k"),
        )
        .await;
        if status == 101 {
            break;
        }
        assert_eq!(status, 429);
        assert!(
            tokio::time::Instant::now() < deadline,
            "slots never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    serves(&server).await;
}
