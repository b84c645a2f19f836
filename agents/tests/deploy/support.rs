//! What the deployment tests share: a mock and a deployment server over
//! it, a WebSocket client speaking AgentScope's front-end vocabulary, and
//! readers for its events with generous deadlines.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};
use understudy_adapters::Pcm;
use understudy_agents::deploy::{DeployConfig, DeployServer, ProviderEndpoint, Providers};
use understudy_mock::{MockServer, ResponderConfig};

/// A provider from the adapters' registry.
pub fn named(name: &str) -> &'static understudy_adapters::ProviderSpec {
    understudy_adapters::registry::provider(name).unwrap()
}

pub const WEATHER_Q: &str = "What is the weather like in Paris today?";
pub const WAIT: Duration = Duration::from_secs(30);

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn mock(speed: f64) -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(speed)
        .start()
        .await
        .unwrap()
}

/// A deployment server whose three providers are `mock`, OpenAI by default.
pub async fn deploy(mock: &MockServer) -> DeployServer {
    let providers = Providers::new(named("openai"))
        .with(
            named("openai"),
            ProviderEndpoint::new(mock.openai_base_url()).api_key("sk-test"),
        )
        .with(
            named("dashscope"),
            ProviderEndpoint::new(mock.dashscope_url()).api_key("sk-test"),
        )
        .with(
            named("gemini"),
            ProviderEndpoint::new(mock.gemini_base_url()).api_key("k"),
        );
    DeployServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        DeployConfig::new(providers),
    )
    .await
    .unwrap()
}

pub async fn open(server: &DeployServer, user: &str, session: &str) -> Socket {
    let (socket, _) = connect_async(server.session_url(user, session))
        .await
        .unwrap();
    socket
}

pub async fn send(socket: &mut Socket, event: Value) {
    socket
        .send(Message::Text(event.to_string().into()))
        .await
        .unwrap();
}

pub async fn send_raw(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

/// The next JSON event; fails on a close or after the deadline.
pub async fn recv(socket: &mut Socket) -> Value {
    loop {
        let message = timeout(WAIT, socket.next())
            .await
            .expect("no event within the deadline")
            .expect("socket closed")
            .expect("socket error");
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Reads events until one of type `kind` (inclusive).
pub async fn until(socket: &mut Socket, kind: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let event = recv(socket).await;
        let done = event["type"] == kind;
        seen.push(event);
        if done {
            return seen;
        }
    }
}

pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// `client_session_create` → `server_session_created`, `agent_ready`.
pub async fn create(socket: &mut Socket, provider: Option<&str>) -> Vec<Value> {
    let mut config =
        json!({"instructions": "You are a helpful assistant.", "agent_name": "Friday"});
    if let Some(provider) = provider {
        config["model_provider"] = json!(provider);
    }
    send(
        socket,
        json!({"type": "client_session_create", "config": config}),
    )
    .await;
    let created = recv(socket).await;
    assert_eq!(created["type"], "server_session_created", "{created}");
    let ready = until(socket, "agent_ready").await;
    let ready = ready.last().unwrap().clone();
    assert_eq!(ready["agent_name"], "Friday", "{ready}");
    assert!(ready["agent_id"].as_str().is_some_and(|id| !id.is_empty()));
    vec![created, ready]
}

pub fn clip(name: &str) -> (Vec<u8>, u32) {
    understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
        .unwrap()
}

/// Sends a bundled clip and 1.2 s of silence as `client_audio_append` in
/// 100 ms chunks; `format` says the rate unless `labelled` is false.
pub async fn say(socket: &mut Socket, name: &str, labelled: bool) {
    let (mut pcm, rate) = clip(name);
    pcm.extend(vec![0u8; rate as usize / 1000 * 2 * 1_200]);
    for chunk in pcm.chunks(rate as usize / 10 * 2) {
        let mut event = json!({"type": "client_audio_append", "session_id": "s",
                               "audio": Pcm(chunk.to_vec()).to_base64()});
        if labelled {
            event["format"] = json!({"type": "audio/pcm", "rate": rate});
        }
        send(socket, event).await;
    }
}

/// What one answer said and how much audio it had, read up to its
/// `agent_response_done`.
pub struct Answer {
    pub events: Vec<Value>,
    pub said: String,
    pub audio_bytes: usize,
}

pub async fn next_answer(socket: &mut Socket) -> Answer {
    let events = until(socket, "agent_response_done").await;
    let mut said = String::new();
    let mut audio_bytes = 0;
    for event in &events {
        match event["type"].as_str().unwrap() {
            "agent_response_audio_transcript_delta" => {
                said.push_str(event["delta"].as_str().unwrap())
            }
            "agent_response_audio_delta" => {
                assert_eq!(
                    event["format"],
                    json!({"type": "audio/pcm", "rate": 24000}),
                    "{event}"
                );
                audio_bytes += Pcm::from_base64(event["delta"].as_str().unwrap())
                    .unwrap()
                    .0
                    .len();
            }
            _ => {}
        }
    }
    Answer {
        events,
        said,
        audio_bytes,
    }
}

pub async fn end(socket: &mut Socket) {
    send(
        socket,
        json!({"type": "client_session_end", "session_id": "s"}),
    )
    .await;
    let rest = until(socket, "server_session_ended").await;
    assert!(
        types(&rest).contains(&"agent_ended"),
        "agent_ended comes first: {:?}",
        types(&rest)
    );
}

pub fn server_error(event: &Value, code: &str) {
    assert_eq!(event["type"], "server_error", "{event}");
    assert_eq!(event["code"], code, "{event}");
    assert!(
        event["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{event}"
    );
}

/// Every event that arrives within `window` (none may be a close).
pub async fn quiet(socket: &mut Socket, window: Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Ok(next) = timeout(window, socket.next()).await {
        match next.expect("socket open").expect("no socket error") {
            Message::Text(text) => seen.push(serde_json::from_str(text.as_str()).unwrap()),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
    seen
}

pub fn errors(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["type"] == "agent_error" || e["type"] == "server_error")
        .collect()
}
