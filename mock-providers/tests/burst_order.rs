//! Frames due at the same instant are written together and flushed once
//! (`session.rs`): over a real socket they must still arrive whole, every
//! one of them, in the order the engine gave them — for a burst larger than
//! the socket's write buffer too.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use understudy_fixtures::{Cassette, Direction, Frame, Header, Origin};
use understudy_mock::MockServer;

const NAME: &str = "burst";
const MODEL: &str = "gpt-realtime";

/// A session whose one turn is answered by `deltas` audio deltas (each
/// numbered in its `event_id`) and `response.done`, all due at once.
fn burst(deltas: usize, delta_chars: usize) -> Cassette {
    let mut cassette = Cassette::new(
        Header::new("openai", "openai-ga", MODEL, Origin::Synthesized)
            .with_description("burst_order test: one response, every frame due at once"),
    );
    let s2c = |value| Frame::text_json(1_000, Direction::ServerToClient, value);
    cassette.frames.push(Frame::text_json(
        0,
        Direction::ServerToClient,
        json!({"type":"session.created","event_id":"event_0","session":{"type":"realtime","object":"realtime.session","id":"sess_burst","model":MODEL}}),
    ));
    cassette.frames.push(Frame::text_json(
        1_000,
        Direction::ClientToServer,
        json!({"type":"response.create"}),
    ));
    cassette.frames.push(s2c(json!({"type":"response.created","event_id":"event_created","response":{"object":"realtime.response","id":"resp_1","status":"in_progress","output":[]}})));
    let audio = "QUJD".repeat(delta_chars / 4);
    for i in 0..deltas {
        cassette.frames.push(s2c(json!({
            "type":"response.output_audio.delta",
            "event_id":format!("event_d{i}"),
            "response_id":"resp_1",
            "item_id":"item_1",
            "output_index":0,
            "content_index":0,
            "delta":audio,
        })));
    }
    cassette.frames.push(s2c(json!({"type":"response.done","event_id":"event_done","response":{"object":"realtime.response","id":"resp_1","status":"completed","output":[]}})));
    cassette
}

/// Plays the burst cassette once and returns the `event_id`s received after
/// `response.create`, up to `response.done`.
async fn received(deltas: usize, delta_chars: usize) -> Vec<String> {
    let server = MockServer::builder()
        .replay(&[(NAME.to_owned(), burst(deltas, delta_chars))])
        .expect("a replay script")
        .start()
        .await
        .expect("the mock starts");
    let url = format!(
        "{}/realtime?model={MODEL}&cassette={NAME}",
        server.openai_base_url()
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    let mut ids = Vec::new();
    let mut greeted = false;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a frame within 20 s")
            .expect("the session goes on")
            .expect("no socket error");
        let Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(text.as_str()).expect("whole JSON frames");
        if !greeted {
            assert_eq!(value["type"], "session.created");
            greeted = true;
            socket
                .send(Message::Text(r#"{"type":"response.create"}"#.into()))
                .await
                .expect("sent");
            continue;
        }
        ids.push(value["event_id"].as_str().unwrap_or("?").to_owned());
        if value["type"] == "response.done" {
            return ids;
        }
    }
}

fn expected(deltas: usize) -> Vec<String> {
    std::iter::once("event_created".to_owned())
        .chain((0..deltas).map(|i| format!("event_d{i}")))
        .chain(std::iter::once("event_done".to_owned()))
        .collect()
}

#[tokio::test]
async fn a_burst_of_small_frames_arrives_whole_and_in_order() {
    assert_eq!(received(300, 64).await, expected(300));
}

#[tokio::test]
async fn a_burst_larger_than_the_write_buffer_arrives_whole_and_in_order() {
    // 400 frames of ~4 KiB: 1.6 MiB, far past tungstenite's 128 KiB buffer.
    assert_eq!(received(400, 4_096).await, expected(400));
}
