//! The socket's own manners (RFC 6455): closes answered, invalid UTF-8
//! closed with 1007, an oversized frame answered and closed with 1009.

use crate::support::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use understudy_agents::deploy::DeployServer;

#[path = "../../../mock-providers/tests/support/raw_frame.rs"]
mod raw_frame;

/// Reads to the server's close frame: the JSON events before it and the close.
async fn to_close(socket: &mut Socket) -> (Vec<Value>, u16, String) {
    let mut events = Vec::new();
    loop {
        let message = timeout(WAIT, socket.next())
            .await
            .expect("a frame within the deadline")
            .expect("a close frame, not the end of the stream")
            .expect("a readable frame");
        match message {
            Message::Text(text) => events.push(serde_json::from_str(text.as_str()).unwrap()),
            Message::Close(Some(frame)) => {
                return (events, u16::from(frame.code), frame.reason.to_string())
            }
            Message::Close(None) => return (events, 1005, String::new()),
            _ => continue,
        }
    }
}

/// A fresh connection still gets a session and an answer.
async fn still_serves(server: &DeployServer, user: &str) {
    let mut socket = open(server, user, "again").await;
    create(&mut socket, Some("openai")).await;
    send(
        &mut socket,
        json!({"type": "client_text_append", "text": "Still there?"}),
    )
    .await;
    assert_eq!(
        next_answer(&mut socket).await.said,
        "You said: Still there?"
    );
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_close() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    for with_session in [false, true] {
        let mut socket = open(&server, "lou", &format!("s{with_session}")).await;
        if with_session {
            create(&mut socket, Some("openai")).await;
        }
        socket
            .send(Message::Close(Some(
                tokio_tungstenite::tungstenite::protocol::CloseFrame {
                    code: 1000.into(),
                    reason: "bye".into(),
                },
            )))
            .await
            .unwrap();
        let (_, code, _) = to_close(&mut socket).await;
        assert_eq!(code, 1000, "the close is echoed (session: {with_session})");
    }
    timeout(WAIT, async {
        while !server.sessions().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the closed socket's session ends");
    server.shutdown().await;
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_is_closed_with_1007() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "max", "s").await;
    create(&mut socket, Some("openai")).await;
    let payload = b"{\"type\":\"client_text_append\",\"text\":\"\xc3\x28\"}";
    raw_frame::write_raw_frame(
        socket.get_mut(),
        raw_frame::TEXT,
        payload.len() as u64,
        payload,
    )
    .await;
    let (_, code, reason) = to_close(&mut socket).await;
    assert_eq!(code, 1007, "{reason}");
    assert!(reason.contains("UTF-8"), "{reason}");
    still_serves(&server, "max").await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_frame_above_the_socket_limit_gets_a_server_error_and_close_1009() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "ned", "s").await;
    create(&mut socket, Some("openai")).await;
    // axum's frame limit is 16 MiB: announce one byte more, send a few.
    raw_frame::write_raw_frame(
        socket.get_mut(),
        raw_frame::TEXT,
        (16 << 20) + 1,
        b"{\"type\":\"client_audio_append\"",
    )
    .await;
    let (events, code, reason) = to_close(&mut socket).await;
    let errors: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "server_error")
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    server_error(errors[0], "message_too_large");
    assert_eq!(code, 1009, "{reason}");
    still_serves(&server, "ned").await;
    server.shutdown().await;
}
