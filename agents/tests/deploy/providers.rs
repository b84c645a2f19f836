//! The provider per session: `model_provider` picks it; an unknown or
//! unconfigured one is refused and the socket lives on.

use crate::support::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio::time::timeout;
use understudy_agents::deploy::{DeployConfig, DeployServer, ProviderEndpoint, Providers};

#[tokio::test]
async fn model_provider_picks_the_provider_per_session() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let cases = [
        ("openai", "openai-ga", "user-weather-24k.wav"),
        ("dashscope", "dashscope", "user-weather-16k.wav"),
        ("gemini", "gemini", "user-weather-16k.wav"),
    ];
    for (n, (provider, dialect, clip)) in cases.into_iter().enumerate() {
        let mut socket = open(&server, "carol", provider).await;
        let opened = create(&mut socket, Some(provider)).await;
        assert_eq!(opened[0]["model_provider"], provider);
        // No `format`: 16 kHz is assumed (the front end's rate); OpenAI's clip
        // is labelled 24 kHz.
        say(&mut socket, clip, provider == "openai").await;
        let answer = next_answer(&mut socket).await;
        assert_eq!(answer.said, format!("You said: {WEATHER_Q}"), "{provider}");
        assert!(answer.audio_bytes >= 48_000, "{provider}");
        end(&mut socket).await;
        let journal = mock.journal();
        assert_eq!(journal.len(), n + 1, "one provider session per session");
        assert!(
            journal[n].dialect.starts_with(dialect),
            "{provider}: served by {}",
            journal[n].dialect
        );
    }
    // No provider named: the server's default (OpenAI here).
    let mut socket = open(&server, "carol", "default").await;
    let opened = create(&mut socket, None).await;
    assert_eq!(opened[0]["model_provider"], "openai");
    server.shutdown().await;
}

#[tokio::test]
async fn a_gpt_live_model_of_openai_is_served_by_gpt_live() {
    // `model_provider: openai` with a `gpt-live-*` model: the registry's
    // choice by model gives GPT-Live; the agent streams silence after the
    // clip (its clock runs on input audio) and the turn is answered.
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "erin", "live").await;
    send(
        &mut socket,
        json!({"type": "client_session_create", "config": {
            "instructions": "You are a helpful assistant.", "agent_name": "Friday",
            "model_provider": "openai", "model": "gpt-live-1"}}),
    )
    .await;
    let created = recv(&mut socket).await;
    assert_eq!(created["type"], "server_session_created", "{created}");
    assert_eq!(created["model_provider"], "openai", "{created}");
    until(&mut socket, "agent_ready").await;
    say(&mut socket, "user-weather-24k.wav", true).await;
    let answer = next_answer(&mut socket).await;
    assert_eq!(answer.said, format!("You said: {WEATHER_Q}"));
    assert!(answer.audio_bytes >= 48_000, "{}", answer.audio_bytes);
    end(&mut socket).await;
    let journal = mock.journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].dialect, "openai-live");
    let start = journal[0]
        .find(understudy_mock::EntryKind::Client, "session.start")
        .next()
        .expect("a GPT-Live session.start");
    assert!(
        start.detail.contains(r#""model":"gpt-live-1""#),
        "{}",
        start.detail
    );
    assert!(
        start.detail.contains("You are a helpful assistant."),
        "{}",
        start.detail
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_unknown_or_unconfigured_provider_is_refused_and_the_socket_lives_on() {
    let mock = mock(8.0).await;
    let providers = Providers::new(named("openai")).with(
        named("openai"),
        ProviderEndpoint::new(mock.openai_base_url()),
    );
    let server = DeployServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        DeployConfig::new(providers),
    )
    .await
    .unwrap();
    let mut socket = open(&server, "dave", "s").await;
    for provider in ["azure", "gemini"] {
        send(
            &mut socket,
            json!({"type": "client_session_create", "config": {"model_provider": provider}}),
        )
        .await;
        let error = recv(&mut socket).await;
        server_error(&error, "unknown_provider");
        assert_eq!(error["event_type"], "client_session_create");
    }
    assert!(mock.journal().is_empty(), "no provider session was opened");
    create(&mut socket, Some("openai")).await;
    // AgentScope's `/api/check-models`: which providers this server has.
    let body = http_get(server.address(), "/api/check-models").await;
    assert_eq!(
        body,
        json!({"openai": true, "dashscope": false, "gemini": false, "default": "openai"})
    );
    server.shutdown().await;
}

/// A bare HTTP/1.1 GET; returns the JSON body.
async fn http_get(addr: SocketAddr, path: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}
