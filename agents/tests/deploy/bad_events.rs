//! Errors: bad events get error events and everything keeps working;
//! camera frames are taken under both payload keys.

use crate::support::*;
use futures_util::SinkExt;
use serde_json::json;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use understudy_adapters::Pcm;
use understudy_mock::EntryKind;

#[tokio::test]
async fn bad_events_get_error_events_and_everything_keeps_working() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "eve", "s").await;

    // Before the session exists.
    send(
        &mut socket,
        json!({"type": "client_text_append", "session_id": "s", "text": "hi"}),
    )
    .await;
    let error = recv(&mut socket).await;
    server_error(&error, "session_not_created");
    assert_eq!(error["event_type"], "client_text_append");
    assert_eq!(error["error_type"], "invalid_request_error");
    send(&mut socket, json!({"type": "client_audio_commit"})).await;
    server_error(&recv(&mut socket).await, "session_not_created");

    // Unknown, malformed, untyped, binary.
    send(
        &mut socket,
        json!({"type": "client_dance", "session_id": "s"}),
    )
    .await;
    let error = recv(&mut socket).await;
    server_error(&error, "unknown_event");
    assert_eq!(error["event_type"], "client_dance");
    send_raw(&mut socket, "{\"type\": \"client_text_append\", ").await;
    server_error(&recv(&mut socket).await, "malformed_json");
    send_raw(&mut socket, "[1, 2]").await;
    server_error(&recv(&mut socket).await, "missing_type");
    socket
        .send(Message::Binary(vec![0u8; 8].into()))
        .await
        .unwrap();
    server_error(&recv(&mut socket).await, "binary_frame");
    // A bad payload for session creation.
    send(
        &mut socket,
        json!({"type": "client_session_create", "config": "openai"}),
    )
    .await;
    server_error(&recv(&mut socket).await, "invalid_payload");
    assert!(server.sessions().is_empty());

    // Now a session; the same mistakes again do not hurt it.
    create(&mut socket, Some("openai")).await;
    send(&mut socket, json!({"type": "client_text_append"})).await;
    let error = recv(&mut socket).await;
    server_error(&error, "invalid_payload");
    assert!(
        error["message"].as_str().unwrap().contains("text"),
        "{error}"
    );
    send(
        &mut socket,
        json!({"type": "client_audio_append", "audio": "not base64!"}),
    )
    .await;
    server_error(&recv(&mut socket).await, "invalid_payload");
    send(
        &mut socket,
        json!({"type": "client_audio_append", "audio": "AAAA", "format": {"type": "audio/opus", "rate": 48000}}),
    )
    .await;
    server_error(&recv(&mut socket).await, "invalid_payload");
    // One byte: PCM16 needs an even count.
    send(
        &mut socket,
        json!({"type": "client_audio_append", "audio": "AA=="}),
    )
    .await;
    server_error(&recv(&mut socket).await, "invalid_payload");
    send(&mut socket, json!({"type": "client_what"})).await;
    server_error(&recv(&mut socket).await, "unknown_event");
    send_raw(&mut socket, "not json").await;
    server_error(&recv(&mut socket).await, "malformed_json");
    send(
        &mut socket,
        json!({"type": "client_session_create", "config": {}}),
    )
    .await;
    server_error(&recv(&mut socket).await, "session_exists");
    send(
        &mut socket,
        json!({"type": "client_tool_result", "id": "c1", "name": "f", "output": "x"}),
    )
    .await;
    server_error(&recv(&mut socket).await, "unsupported_event");

    // The session still answers.
    send(
        &mut socket,
        json!({"type": "client_text_append", "session_id": "s", "text": "Still there?"}),
    )
    .await;
    assert_eq!(
        next_answer(&mut socket).await.said,
        "You said: Still there?"
    );

    // The same path on a second socket is refused while the first is live;
    // other paths are unaffected.
    let mut twin = open(&server, "eve", "s").await;
    send(
        &mut twin,
        json!({"type": "client_session_create", "config": {}}),
    )
    .await;
    server_error(&recv(&mut twin).await, "session_active");
    let mut other = open(&server, "eve", "s2").await;
    create(&mut other, None).await;
    assert_eq!(server.sessions().len(), 2);

    // The front end leaving ends its session.
    drop(socket);
    timeout(WAIT, async {
        while server.sessions().len() != 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the dropped socket's session ends");
    create(&mut twin, None).await;
    server.shutdown().await;
}

#[tokio::test]
async fn camera_frames_are_taken_under_both_payload_keys() {
    // The schema says `image`; AgentScope's front end sends `data`.
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "frank", "s").await;
    create(&mut socket, Some("openai")).await;
    let jpeg = Pcm(vec![
        0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F',
    ])
    .to_base64();
    for key in ["image", "data"] {
        send(
            &mut socket,
            json!({"type": "client_image_append", "session_id": "s", key: jpeg,
                   "format": {"type": "image/jpeg"}}),
        )
        .await;
    }
    // Both reached the provider; nothing came back as an error.
    send(
        &mut socket,
        json!({"type": "client_text_append", "text": "What do you see?"}),
    )
    .await;
    let answer = next_answer(&mut socket).await;
    assert!(
        !answer
            .events
            .iter()
            .any(|e| e["type"] == "server_error" || e["type"] == "agent_error"),
        "{:?}",
        types(&answer.events)
    );
    let images = mock.journal()[0]
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Client && e.detail.contains("input_image"))
        .count();
    assert_eq!(images, 2, "both frames went to the model");
    server.shutdown().await;
}
