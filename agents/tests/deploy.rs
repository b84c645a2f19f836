//! The deployment server over real sockets: a plain WebSocket client speaks
//! AgentScope's front-end vocabulary to it, and the server's agents talk to
//! the in-process mock providers.
//!
//! No assertion depends on how fast the machine is; every wait has a
//! generous deadline.

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
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

/// A provider from the adapters' registry.
fn named(name: &str) -> &'static understudy_adapters::ProviderSpec {
    understudy_adapters::registry::provider(name).unwrap()
}

const WEATHER_Q: &str = "What is the weather like in Paris today?";
const WAIT: Duration = Duration::from_secs(30);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn mock(speed: f64) -> MockServer {
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
async fn deploy(mock: &MockServer) -> DeployServer {
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

async fn open(server: &DeployServer, user: &str, session: &str) -> Socket {
    let (socket, _) = connect_async(server.session_url(user, session))
        .await
        .unwrap();
    socket
}

async fn send(socket: &mut Socket, event: Value) {
    socket
        .send(Message::Text(event.to_string().into()))
        .await
        .unwrap();
}

async fn send_raw(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

/// The next JSON event; fails on a close or after the deadline.
async fn recv(socket: &mut Socket) -> Value {
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
async fn until(socket: &mut Socket, kind: &str) -> Vec<Value> {
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

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// `client_session_create` → `server_session_created`, `agent_ready`.
async fn create(socket: &mut Socket, provider: Option<&str>) -> Vec<Value> {
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

fn clip(name: &str) -> (Vec<u8>, u32) {
    understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
        .unwrap()
}

/// Sends a bundled clip and 1.2 s of silence as `client_audio_append` in
/// 100 ms chunks; `format` says the rate unless `labelled` is false.
async fn say(socket: &mut Socket, name: &str, labelled: bool) {
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
struct Answer {
    events: Vec<Value>,
    said: String,
    audio_bytes: usize,
}

async fn next_answer(socket: &mut Socket) -> Answer {
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

async fn end(socket: &mut Socket) {
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

fn server_error(event: &Value, code: &str) {
    assert_eq!(event["type"], "server_error", "{event}");
    assert_eq!(event["code"], code, "{event}");
    assert!(
        event["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{event}"
    );
}

// ---- a spoken session ------------------------------------------------------------

#[tokio::test]
async fn a_front_end_speaks_and_hears_the_agent() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "alice", "s1").await;
    let opened = create(&mut socket, Some("openai")).await;
    assert_eq!(
        opened[0],
        json!({"type": "server_session_created", "session_id": "s1", "model_provider": "openai"})
    );
    assert_eq!(server.sessions().len(), 1);
    assert_eq!(server.sessions()[0].user_id, "alice");

    // OpenAI hears 24 kHz; the front end says so and no resampling happens.
    say(&mut socket, "user-weather-24k.wav", true).await;
    let answer = next_answer(&mut socket).await;
    assert_eq!(answer.said, format!("You said: {WEATHER_Q}"));
    assert!(
        answer.audio_bytes >= 48_000,
        "a second or more of 24 kHz audio, got {} bytes",
        answer.audio_bytes
    );
    let kinds = types(&answer.events);
    for kind in [
        "agent_input_started",
        "agent_response_created",
        "agent_response_audio_delta",
        "agent_response_audio_transcript_delta",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let done = answer.events.last().unwrap();
    assert_eq!(done["metadata"]["status"], "completed", "{done}");
    assert!(answer
        .events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("agent_"))
        .all(|e| e["agent_name"] == "Friday" && e["agent_id"] == opened[1]["agent_id"]));
    let transcript_done = answer
        .events
        .iter()
        .find(|e| e["type"] == "agent_response_audio_transcript_done")
        .expect("transcript done");
    assert_eq!(transcript_done["transcript"], answer.said.as_str());
    // The user's own words come back too (on OpenAI possibly after the answer).
    let user = match answer
        .events
        .iter()
        .find(|e| e["type"] == "agent_input_transcription_done")
    {
        Some(event) => event.clone(),
        None => until(&mut socket, "agent_input_transcription_done")
            .await
            .pop()
            .unwrap(),
    };
    assert_eq!(user["transcript"], WEATHER_Q);

    end(&mut socket).await;
    assert!(server.sessions().is_empty());
    // The socket outlives the session: a new one can be created on it.
    create(&mut socket, None).await;
    send(
        &mut socket,
        json!({"type": "client_text_append", "text": "Hello there"}),
    )
    .await;
    assert_eq!(next_answer(&mut socket).await.said, "You said: Hello there");
    drop(socket);
    server.shutdown().await;
}

#[tokio::test]
async fn the_rate_in_format_is_honoured() {
    // AgentScope's server ignored `format.rate` and forwarded the bytes as
    // they were. Here the agent resamples from the stated rate: 24 kHz audio
    // labelled as such reaches DashScope (16 kHz) at 16 kHz. The mock's
    // pitch check tells the two apart; the same clip unlabelled (assumed to
    // be the front end's 16 kHz) arrives unchanged and sounds too low.
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    for (n, labelled) in [true, false].into_iter().enumerate() {
        let mut socket = open(&server, "bob", &format!("s{n}")).await;
        create(&mut socket, Some("dashscope")).await;
        say(&mut socket, "user-weather-24k.wav", labelled).await;
        let answer = next_answer(&mut socket).await;
        assert!(!answer.said.is_empty() && answer.audio_bytes > 0);
        end(&mut socket).await;
        let journal = &mock.journal()[n];
        let notes: Vec<&str> = journal
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Note && e.label.starts_with("input_rate"))
            .map(|e| e.label.as_str())
            .collect();
        let expected = if labelled {
            "input_rate.ok"
        } else {
            "input_rate.suspicious"
        };
        assert_eq!(notes, [expected], "labelled: {labelled}");
    }
    server.shutdown().await;
}

// ---- provider per session -----------------------------------------------------

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

// ---- errors ------------------------------------------------------------------------

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

// ---- many sessions -------------------------------------------------------------------

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

// ---- stop button, unreachable provider -------------------------------------------

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

// ---- typed turns in AgentScope's vocabulary ---------------------------------------

/// Every event that arrives within `window` (none may be a close).
async fn quiet(socket: &mut Socket, window: Duration) -> Vec<Value> {
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

fn errors(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["type"] == "agent_error" || e["type"] == "server_error")
        .collect()
}

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

// ---- the socket's own manners (RFC 6455) -------------------------------------------

#[path = "../../mock-providers/tests/support/raw_frame.rs"]
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
