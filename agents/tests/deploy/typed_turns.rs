//! Typed turns in AgentScope's vocabulary: text then
//! `client_response_create` is one answer; text on a dialect without text
//! input is one server error.

use crate::support::*;
use serde_json::json;
use std::time::Duration;
use understudy_mock::EntryKind;

#[tokio::test]
async fn text_then_client_response_create_is_one_answer_and_no_error() {
    // AgentScope's front end ends a typed turn with `client_response_create`.
    // The text already asks for an answer: the request must not commit an
    // empty audio buffer or start a second response.
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "jon", "s").await;
    create(&mut socket, Some("openai")).await;
    for _ in 0..2 {
        send(
            &mut socket,
            json!({"type": "client_text_append", "session_id": "s", "text": "Hello there"}),
        )
        .await;
        send(
            &mut socket,
            json!({"type": "client_response_create", "session_id": "s"}),
        )
        .await;
        let answer = next_answer(&mut socket).await;
        assert_eq!(answer.said, "You said: Hello there");
        let mut events = answer.events;
        events.extend(quiet(&mut socket, Duration::from_millis(1500)).await);
        assert!(errors(&events).is_empty(), "{:?}", errors(&events));
        assert_eq!(
            types(&events)
                .iter()
                .filter(|t| **t == "agent_response_created")
                .count(),
            1,
            "{:?}",
            types(&events)
        );
    }
    let journal = &mock.journal()[0];
    assert_eq!(
        journal.find(EntryKind::Client, "response.create").count(),
        2
    );
    assert_eq!(
        journal
            .find(EntryKind::Client, "input_audio_buffer.commit")
            .count(),
        0
    );
    assert_eq!(journal.find(EntryKind::Server, "error").count(), 0);
    // A spoken turn ended the same way is still committed and answered.
    say(&mut socket, "user-weather-24k.wav", true).await;
    send(
        &mut socket,
        json!({"type": "client_response_create", "session_id": "s"}),
    )
    .await;
    let answer = next_answer(&mut socket).await;
    assert!(answer.said.starts_with("You said:"), "{}", answer.said);
    server.shutdown().await;
}

#[tokio::test]
async fn text_on_a_dialect_without_text_input_is_one_server_error_and_nothing_else() {
    // Qwen-Omni realtime takes no text (its capabilities say so): the text is
    // refused once, clearly, and the `client_response_create` that follows
    // has nothing to answer.
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "kim", "s").await;
    create(&mut socket, Some("dashscope")).await;
    send(
        &mut socket,
        json!({"type": "client_text_append", "session_id": "s", "text": "Hello there"}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "client_response_create", "session_id": "s"}),
    )
    .await;
    let events = quiet(&mut socket, Duration::from_millis(1500)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    server_error(&events[0], "unsupported_input");
    assert_eq!(events[0]["event_type"], "client_text_append");
    assert!(
        events[0]["message"].as_str().unwrap().contains("text"),
        "{}",
        events[0]
    );
    let journal = &mock.journal()[0];
    for sent in [
        "conversation.item.create",
        "input_audio_buffer.commit",
        "response.create",
    ] {
        assert_eq!(journal.find(EntryKind::Client, sent).count(), 0, "{sent}");
    }
    // The session still takes speech.
    say(&mut socket, "user-weather-16k.wav", false).await;
    assert_eq!(
        next_answer(&mut socket).await.said,
        format!("You said: {WEATHER_Q}")
    );
    server.shutdown().await;
}
