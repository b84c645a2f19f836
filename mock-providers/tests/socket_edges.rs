//! Frames the WebSocket layer itself refuses, on every realtime route of the
//! mock: a text frame that is not UTF-8 is closed with 1007, a frame above the
//! socket's limit gets the dialect's oversize answer and a close (RFC 6455),
//! never a silent drop; and the server goes on serving new sessions.

#[path = "support/raw_frame.rs"]
mod raw_frame;
mod support;

use futures_util::SinkExt;
use raw_frame::{write_raw_frame, TEXT};
use serde_json::json;
use support::{next_frame, raw_connect, Frame, Socket};
use tokio_tungstenite::tungstenite::Message;
use understudy_mock::MockServer;

/// The socket limit of the mock's routes: four times the frame limit, at
/// least 64 MiB.
const SOCKET_LIMIT: u64 = 64 << 20;

/// A realtime route: its URL, headers, and the first frame a healthy session
/// shows (`None`: the client speaks first).
struct Route {
    name: &'static str,
    url: String,
    headers: Vec<(&'static str, &'static str)>,
}

fn routes(server: &MockServer) -> Vec<Route> {
    vec![
        Route {
            name: "openai",
            url: format!("{}/realtime?model=gpt-realtime", server.openai_base_url()),
            headers: vec![("authorization", "Bearer sk-test")],
        },
        Route {
            name: "dashscope-omni",
            url: format!("{}?model=qwen3-omni-flash-realtime", server.dashscope_url()),
            headers: vec![("authorization", "Bearer sk-test")],
        },
        Route {
            name: "dashscope-tts",
            url: format!("{}?model=qwen3-tts-flash-realtime", server.dashscope_url()),
            headers: vec![("authorization", "Bearer sk-test")],
        },
        Route {
            name: "gemini",
            url: format!(
                "{}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
                server.gemini_base_url()
            ),
            headers: vec![("x-goog-api-key", "test-key")],
        },
    ]
}

/// Every JSON frame up to the close, and the close.
async fn to_close(socket: &mut Socket) -> (Vec<serde_json::Value>, u16, String) {
    let mut events = Vec::new();
    loop {
        match next_frame(socket).await {
            Frame::Json(event) => events.push(event),
            Frame::Close(code, reason) => return (events, code, reason),
        }
    }
}

/// A new session on `route` is served: its first answer arrives.
async fn serves(route: &Route) {
    let mut socket = raw_connect(&route.url, &route.headers).await;
    if route.name == "gemini" {
        let setup = json!({"setup": {"model": "models/gemini-live-2.5-flash-preview"}});
        socket
            .send(Message::Text(setup.to_string().into()))
            .await
            .unwrap();
    }
    match next_frame(&mut socket).await {
        Frame::Json(first) => assert!(
            first["type"] == "session.created" || first.get("setupComplete").is_some(),
            "{}: {first}",
            route.name
        ),
        Frame::Close(code, reason) => panic!("{}: closed {code} {reason}", route.name),
    }
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_is_closed_with_1007_on_every_route() {
    let server = MockServer::builder().start().await.unwrap();
    for route in routes(&server) {
        let mut socket = raw_connect(&route.url, &route.headers).await;
        let payload = b"{\"type\":\"\xff\xfe\"}";
        write_raw_frame(socket.get_mut(), TEXT, payload.len() as u64, payload).await;
        let (_, code, reason) = to_close(&mut socket).await;
        assert_eq!(code, 1007, "{}: {reason}", route.name);
        assert!(reason.contains("UTF-8"), "{}: {reason}", route.name);
        serves(&route).await;
    }
}

#[tokio::test]
async fn a_frame_above_the_socket_limit_gets_the_providers_answer_and_a_close() {
    let server = MockServer::builder().start().await.unwrap();
    for route in routes(&server) {
        let mut socket = raw_connect(&route.url, &route.headers).await;
        write_raw_frame(socket.get_mut(), TEXT, SOCKET_LIMIT + 1, b"{\"type\":").await;
        let (events, code, reason) = to_close(&mut socket).await;
        let errors: Vec<_> = events.iter().filter(|e| e["type"] == "error").collect();
        if route.name == "gemini" {
            // Gemini has no error event: its close says it.
            assert_eq!(code, 1007, "{reason}");
            assert!(reason.contains("maximum"), "{reason}");
        } else {
            assert_eq!(errors.len(), 1, "{}: {events:?}", route.name);
            assert_eq!(
                errors[0]["error"]["code"], "message_too_large",
                "{}",
                route.name
            );
            assert_eq!(code, 1009, "{}: {reason}", route.name);
        }
        serves(&route).await;
    }
}
