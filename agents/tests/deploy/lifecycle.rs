//! Many sessions at once, the stop button, an unreachable provider and
//! shutdown.

use crate::support::*;
use futures_util::StreamExt;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use understudy_agents::deploy::{DeployConfig, DeployServer, ProviderEndpoint, Providers};
use understudy_mock::EntryKind;

#[tokio::test]
async fn fifty_sessions_at_once_each_complete_a_turn() {
    let mock = mock(20.0).await;
    let server = deploy(&mock).await;
    let url = server.url();
    let runs = (0..50).map(|n| {
        let url = url.clone();
        async move {
            let (mut socket, _) = connect_async(format!("{url}/ws/user{n}/session{n}"))
                .await
                .unwrap();
            create(&mut socket, Some("openai")).await;
            let text = format!("Session number {n}");
            send(
                &mut socket,
                json!({"type": "client_text_append", "text": text}),
            )
            .await;
            let answer = next_answer(&mut socket).await;
            assert_eq!(answer.said, format!("You said: {text}"), "session {n}");
            assert!(answer.audio_bytes > 0, "session {n}");
            end(&mut socket).await;
            n
        }
    });
    let done = timeout(
        Duration::from_secs(180),
        futures_util::future::join_all(runs),
    )
    .await
    .expect("fifty sessions finish");
    assert_eq!(done, (0..50).collect::<Vec<_>>());
    assert_eq!(server.registry().created(), 50);
    assert!(server.sessions().is_empty());
    let journal = mock.journal();
    assert_eq!(journal.len(), 50, "one provider connection per session");
    server.shutdown().await;
}

#[tokio::test]
async fn client_response_cancel_stops_the_answer() {
    // AgentScope's agent ignored `client_response_cancel`; here it is the
    // stop button. Speed 1: the answer is still playing when the cancel lands.
    let mock = mock(1.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "gina", "s").await;
    create(&mut socket, Some("openai")).await;
    send(
        &mut socket,
        json!({"type": "client_text_append", "text": "Tell me a long story about the sea and the ships"}),
    )
    .await;
    until(&mut socket, "agent_response_audio_delta").await;
    send(
        &mut socket,
        json!({"type": "client_response_cancel", "session_id": "s"}),
    )
    .await;
    let events = until(&mut socket, "agent_response_done").await;
    let kinds = types(&events);
    assert!(kinds.contains(&"agent_interrupted"), "{kinds:?}");
    assert_eq!(
        events.last().unwrap()["metadata"]["status"],
        "cancelled",
        "{kinds:?}"
    );
    assert!(
        !kinds.contains(&"agent_error") && !kinds.contains(&"server_error"),
        "{kinds:?}"
    );
    assert_eq!(
        mock.journal()[0]
            .find(EntryKind::Client, "response.cancel")
            .count(),
        1
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_provider_is_an_error_event_not_a_dead_socket() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mock = mock(8.0).await;
    let providers = Providers::new(named("openai"))
        .with(
            named("openai"),
            ProviderEndpoint::new(format!("ws://{closed}/v1")),
        )
        .with(
            named("gemini"),
            ProviderEndpoint::new(mock.gemini_base_url()),
        );
    let server = DeployServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        DeployConfig::new(providers),
    )
    .await
    .unwrap();
    let mut socket = open(&server, "hal", "s").await;
    send(
        &mut socket,
        json!({"type": "client_session_create", "config": {"model_provider": "openai"}}),
    )
    .await;
    let error = recv(&mut socket).await;
    server_error(&error, "provider_unavailable");
    assert_eq!(error["error_type"], "provider_error");
    assert!(server.sessions().is_empty());
    create(&mut socket, Some("gemini")).await;
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_live_sessions_and_their_provider_connections() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let registry = server.registry().clone();
    let mut sockets = Vec::new();
    for (n, provider) in ["openai", "dashscope", "gemini"].into_iter().enumerate() {
        let mut socket = open(&server, "ivy", &format!("s{n}")).await;
        create(&mut socket, Some(provider)).await;
        sockets.push(socket);
    }
    assert_eq!(registry.len(), 3);
    server.shutdown().await;
    for mut socket in sockets {
        // The server closes the socket (a close frame, or the stream ends).
        loop {
            match timeout(WAIT, socket.next()).await.expect("closed in time") {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            }
        }
    }
    timeout(WAIT, async {
        while !registry.is_empty() || !mock.journal().iter().all(|j| j.closed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("sessions and provider connections end");
    assert_eq!(mock.journal().len(), 3);
}
