//! The GPT-Live mock over real sockets with a raw client: the lifecycle,
//! the service's errors for bad input (the server keeps serving), a spoken
//! turn, client and Responses delegation, barge-in, mute, fixtures, forks,
//! the sideband refusal, auth and expiry.

mod support;

use serde_json::{json, Value};
use support::{assert_expires_at, raw_connect, unix_now, Frame};
use understudy_mock::{EntryKind, LiveSettings, MockServer, ResponderConfig};

#[path = "live/client.rs"]
mod client;
use client::{audio_of, LiveClient};

async fn server_with(settings: LiveSettings) -> MockServer {
    let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config.live = Box::new(settings);
    MockServer::builder().respond(config).start().await.unwrap()
}

/// Voiced chunks only, so a test reads what matters.
fn quiet() -> LiveSettings {
    LiveSettings {
        idle_track: false,
        ..LiveSettings::default()
    }
}

fn start(extra: Value) -> Value {
    let mut session = json!({"model": "gpt-live-1", "instructions": "Be brief."});
    if let (Some(s), Some(e)) = (session.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"type": "session.start", "event_id": "c1", "session": session})
}

#[tokio::test]
async fn bad_input_gets_the_services_errors_and_the_server_keeps_serving() {
    let server = server_with(quiet()).await;
    // A command before session.start: refused, then the socket is closed.
    let mut early = LiveClient::connect(&server).await;
    early
        .send(json!({"type": "session.input_audio.append", "event_id": "a0", "audio": "AAAA"}))
        .await;
    let error = early.next_json().await;
    assert_eq!(error["type"], "error");
    assert!(error["event_id"].as_str().unwrap().starts_with("event_"));
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "session_not_started");
    assert_eq!(error["client_event_id"], "a0");
    assert_eq!(early.next_close().await, 1008);

    // An unknown config field: refused by name, no session.started; the
    // socket stays open and a corrected start is served.
    let mut client = LiveClient::connect(&server).await;
    let mut bad = start(json!({"audio": {"output": {"voice": "marin", "speed": 1.2}}}));
    bad["event_id"] = json!("bad1");
    client.send(bad).await;
    let error = client.next_json().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["code"], "unknown_parameter");
    assert_eq!(error["error"]["param"], "session.audio.output.speed");
    assert_eq!(error["error"]["client_event_id"], "bad1");
    assert_eq!(error["client_event_id"], "bad1");
    client.send(start(json!({}))).await;
    let started = client.next_json().await;
    assert_eq!(started["type"], "session.started", "{started}");
    assert_eq!(started["client_event_id"], "c1");

    // An oversize commentary (501 tokens): refused with the configured code.
    let content = "word ".repeat(501);
    client
        .send(json!({"type": "session.commentary.append", "event_id": "big", "content": content, "delegation_id": null}))
        .await;
    let error = client.next_json().await;
    assert_eq!(error["error"]["code"], "string_above_max_length");
    assert_eq!(error["error"]["param"], "content");
    assert_eq!(error["client_event_id"], "big");
    // Realtime vocabulary is not GPT-Live's: the error lists the commands.
    client
        .send(json!({"type": "input_audio_buffer.commit"}))
        .await;
    let error = client.next_json().await;
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'session.commentary.append'"));
    // response.* under client delegation.
    client
        .send(json!({"type": "response.create", "event_id": "r1"}))
        .await;
    let error = client.next_json().await;
    assert_eq!(
        error["error"]["message"],
        "response.create requires Responses delegation."
    );
    assert_eq!(error["client_event_id"], "r1");
    client
        .send(json!({"type": "session.close", "event_id": "c9"}))
        .await;
    let closed = client.next_json().await;
    assert_eq!(closed["type"], "session.closed");
    assert_eq!(closed["reason"], "close_requested");
    assert_eq!(closed["client_event_id"], "c9");
    assert_eq!(client.next_close().await, 1000);

    // The server still serves a new session, and journalled the errors.
    let mut again = LiveClient::connect(&server).await;
    again.send(start(json!({}))).await;
    assert_eq!(again.next_json().await["type"], "session.started");
    let journal = server.journal();
    assert!(journal.iter().all(|s| s.dialect == "openai-live"));
    assert!(journal[1].find(EntryKind::Client, "invalid").count() >= 2);
}

#[tokio::test]
async fn a_spoken_turn_is_transcribed_and_answered_on_a_continuous_track() {
    let server = server_with(LiveSettings::default()).await;
    let mut client = LiveClient::connect(&server).await;
    let before = unix_now();
    client.send(start(json!({}))).await;
    let started = client.next_json().await;
    let session = &started["session"];
    assert!(session["id"].as_str().unwrap().starts_with("live_mock_"));
    assert_eq!(session["status"], "active");
    assert_eq!(
        session["audio"],
        json!({"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}})
    );
    assert_eq!(session["delegation"], json!({"type": "client"}));
    assert_eq!(session["input"], json!([]));
    assert_expires_at(&session["expires_at"], before, 3600.0);

    let speech = audio_of("user-weather-24k.wav");
    let streamed_ms = client.stream_with_silence(&speech, 4000).await;
    let frames = client.drain().await;
    let input: String = text_of(&frames, "session.input_transcript.delta");
    assert_eq!(input, "What is the weather like in Paris today?");
    let output: String = text_of(&frames, "session.output_transcript.delta");
    assert!(output.contains("weather"), "{output}");
    // Every input fragment's end precedes the reply's first fragment.
    let last_input_end = frames_of(&frames, "session.input_transcript.delta")
        .map(|f| f["end_ms"].as_u64().unwrap())
        .max()
        .unwrap();
    let first_output = frames_of(&frames, "session.output_transcript.delta")
        .next()
        .unwrap();
    assert!(first_output["start_ms"].as_u64().unwrap() >= last_input_end + 500);
    assert!(first_output.get("event_id").is_some());
    // One 100 ms delta per 100 ms of timeline, voiced and silent, no event ids.
    let deltas: Vec<&Value> = frames_of(&frames, "session.output_audio.delta").collect();
    assert_eq!(deltas.len() as u64, streamed_ms / 100);
    assert!(deltas.iter().all(|d| d.get("event_id").is_none()));
    let voiced = deltas.iter().filter(|d| client::loud(d)).count();
    assert!(
        voiced >= 10 && voiced < deltas.len() / 2,
        "{voiced} of {}",
        deltas.len()
    );
    // No Realtime-style turn events.
    assert!(frames
        .iter()
        .all(|f| !f["type"].as_str().unwrap().starts_with("response.")));
    client.send(json!({"type": "session.close"})).await;
    let closed = client.next_json_of("session.closed").await;
    assert_eq!(closed["usage"]["seconds"], streamed_ms / 1000);
}

#[tokio::test]
async fn client_delegation_round_trip() {
    let server = server_with(quiet()).await;
    let mut client = LiveClient::connect(&server).await;
    client.send(start(json!({}))).await;
    client.next_json().await;
    client
        .stream_with_silence(&audio_of("user-order-24k.wav"), 3000)
        .await;
    let frames = client.drain().await;
    let delegation = frames_of(&frames, "session.delegation.created")
        .next()
        .expect("a delegation")
        .clone();
    assert_eq!(delegation["delegation"]["type"], "delegation");
    assert_eq!(delegation["delegation"]["target"], "client");
    let id = delegation["delegation"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("item_"));
    let last_input = frames_of(&frames, "session.input_transcript.delta")
        .last()
        .unwrap();
    assert_eq!(delegation["offset_ms"], last_input["end_ms"]);
    assert_eq!(
        text_of(&frames, "session.output_transcript.delta"),
        "Okay, checking now."
    );

    client
        .send(json!({"type": "session.commentary.append", "event_id": "res1", "content": "Order A17 shipped yesterday.", "delegation_id": id}))
        .await;
    client.stream_with_silence(&[], 3000).await;
    let frames = client.drain().await;
    let ack = frames_of(&frames, "session.commentary.appended")
        .next()
        .expect("an ack")
        .clone();
    assert_eq!(ack["client_event_id"], "res1");
    assert_eq!(ack["start_ms"], ack["end_ms"]);
    assert_eq!(
        text_of(&frames, "session.output_transcript.delta"),
        "Order A17 shipped yesterday."
    );
    assert!(frames_of(&frames, "session.output_audio.delta").count() >= 10);
}

#[tokio::test]
async fn barge_in_stops_the_voice_and_its_transcript_where_it_stopped() {
    let server = server_with(quiet()).await;
    let mut client = LiveClient::connect(&server).await;
    client.send(start(json!({}))).await;
    client.next_json().await;
    // A long answer: commentary spoken in full unless interrupted.
    let long = "This is a long answer that goes on and on about the weather in Paris and Berlin and many other places.";
    client.stream_with_silence(&[], 200).await;
    client
        .send(json!({"type": "session.commentary.append", "content": long, "delegation_id": null}))
        .await;
    client.stream_with_silence(&[], 1000).await;
    client
        .stream_with_silence(&audio_of("user-interrupt-24k.wav"), 2500)
        .await;
    let frames = client.drain().await;
    let said = text_of(&frames, "session.output_transcript.delta");
    assert!(said.starts_with("This is"), "{said}");
    assert!(!said.contains(long), "the answer was cut: {said}");
    assert!(
        said.contains("You said: Wait, stop."),
        "the interruption is answered: {said}"
    );
    let journal = server.journal();
    assert!(journal[0].find(EntryKind::Note, "barge_in").count() == 1);
}

/// GPT-Live transcribes the user as they speak, a few hundred ms behind:
/// the first fragments arrive while the utterance is still going (a client
/// infers a barge-in from them), each no earlier than its `end_ms` plus the
/// lag, and the rest follow as the timeline reaches them.
#[tokio::test]
async fn input_fragments_arrive_while_the_user_is_still_speaking() {
    let server = server_with(quiet()).await;
    let mut client = LiveClient::connect(&server).await;
    client.send(start(json!({}))).await;
    client.next_json().await;
    let speech = audio_of("user-interrupt-24k.wav");
    // The first two seconds of a 4.4 s utterance: nobody has stopped talking.
    let streamed = client.stream_with_silence(&speech[..48 * 2000], 0).await;
    let frames = client.drain().await;
    let early: Vec<&Value> = frames_of(&frames, "session.input_transcript.delta").collect();
    assert!(!early.is_empty(), "no fragment while the user speaks");
    assert_eq!(early[0]["delta"], "Wait,");
    for fragment in &early {
        let end = fragment["end_ms"].as_u64().unwrap();
        assert!(end + 300 <= streamed, "{fragment} released early");
    }
    assert!(frames_of(&frames, "session.output_transcript.delta")
        .next()
        .is_none());
    client.stream_with_silence(&speech[48 * 2000..], 1500).await;
    let frames = client.drain().await;
    let rest: String = frames_of(&frames, "session.input_transcript.delta")
        .map(|f| f["delta"].as_str().unwrap())
        .collect();
    let early: String = early.iter().map(|f| f["delta"].as_str().unwrap()).collect();
    assert_eq!(
        early + &rest,
        "Wait, stop. Actually, tell me about Berlin instead.",
        "every word once, in order"
    );
    assert!(text_of(&frames, "session.output_transcript.delta").starts_with("You said: Wait"));
}

#[tokio::test]
async fn responses_delegation_calls_a_function_and_waits_for_its_output() {
    let server = server_with(quiet()).await;
    let mut client = LiveClient::connect(&server).await;
    let tool = json!({"type": "function", "name": "get_weather", "parameters": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}});
    client
        .send(start(json!({"delegation": {"type": "responses", "responses": {"model": "gpt-5", "tools": [tool]}}})))
        .await;
    client.next_json().await;
    client
        .stream_with_silence(&audio_of("user-weather-24k.wav"), 2000)
        .await;
    let frames = client.drain().await;
    let created = frames_of(&frames, "session.delegation.created")
        .next()
        .expect("delegated")
        .clone();
    assert_eq!(created["delegation"]["target"], "responses");
    let nested: Vec<&Value> = frames_of(&frames, "response.event").collect();
    let kinds: Vec<&str> = nested
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(
        nested[0]["event"]["response"]["id"],
        created["delegation"]["response_id"]
    );
    let call = &nested[1]["event"]["item"];
    assert_eq!(
        (call["name"].as_str(), call["arguments"].as_str()),
        (Some("get_weather"), Some(r#"{"city":"Paris"}"#))
    );
    // A delegation id is refused under Responses delegation; response.create
    // before the output names what is missing.
    client
        .send(json!({"type": "session.thinking.append", "content": "x", "delegation_id": created["delegation"]["id"]}))
        .await;
    assert_eq!(
        client.next_json_of("error").await["error"]["param"],
        "delegation_id"
    );
    client.send(json!({"type": "response.create"})).await;
    let missing = client.next_json_of("error").await;
    assert!(missing["error"]["message"]
        .as_str()
        .unwrap()
        .contains(call["call_id"].as_str().unwrap()));
    client
        .send(json!({"type": "response.item.create", "item": {"type": "function_call_output", "call_id": call["call_id"], "output": "{\"forecast\":\"sunny\"}"}}))
        .await;
    client.send(json!({"type": "response.create"})).await;
    client.stream_with_silence(&[], 3000).await;
    let frames = client.drain().await;
    let nested: Vec<&Value> = frames_of(&frames, "response.event").collect();
    assert_eq!(nested.len(), 3);
    assert_eq!(nested[1]["event"]["item"]["type"], "message");
    assert!(text_of(&frames, "session.output_transcript.delta").contains("sunny"));
}

#[tokio::test]
async fn mute_fixture_and_pending_appends_at_close() {
    let server = server_with(quiet()).await;
    let mut client = LiveClient::connect(&server).await;
    client.send(start(json!({}))).await;
    client.next_json().await;
    client
        .send(json!({"type": "session.input_audio.mute", "event_id": "m1"}))
        .await;
    assert_eq!(
        client.next_json().await["type"],
        "session.input_audio.muted"
    );
    let t_ms = client
        .stream_with_silence(&audio_of("user-weather-24k.wav"), 1500)
        .await;
    let frames = client.drain().await;
    assert_eq!(
        frames_of(&frames, "session.input_transcript.delta").count(),
        0,
        "muted speech is not heard"
    );
    client
        .send(json!({"type": "session.input_audio.unmute"}))
        .await;
    assert_eq!(
        client.next_json().await["type"],
        "session.input_audio.unmuted"
    );
    // A 500 ms fixture: playing, an append during it refused, played after.
    let clip: Vec<u8> = std::iter::repeat_n(3000i16.to_le_bytes(), 12_000)
        .flatten()
        .collect();
    let clip = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, clip);
    client
        .send(json!({"type": "session.output_audio.fixture.play", "audio": clip}))
        .await;
    assert_eq!(
        client.next_json().await["type"],
        "session.output_audio.fixture.playing"
    );
    client
        .send(json!({"type": "session.thinking.append", "content": "x", "delegation_id": null}))
        .await;
    assert_eq!(client.next_json().await["error"]["code"], "fixture_active");
    client.stream_with_silence(&[], 700).await;
    let frames = client.drain().await;
    assert_eq!(
        frames_of(&frames, "session.output_audio.fixture.played").count(),
        1
    );
    // The clip from t_ms to t_ms + 500 on the track: five chunks, six when it
    // starts inside one.
    let chunks = if t_ms % 100 == 0 { 5 } else { 6 };
    assert_eq!(
        frames_of(&frames, "session.output_audio.delta").count(),
        chunks,
        "the clip on the track"
    );
    // An append still waiting for the timeline fails at close.
    client.send(json!({"type": "session.instructions.append", "event_id": "i1", "content": "Be kind.", "delegation_id": null})).await;
    client.send(json!({"type": "session.close"})).await;
    let error = client.next_json().await;
    assert_eq!(
        (
            error["error"]["code"].as_str(),
            error["client_event_id"].as_str()
        ),
        (Some("context_injection_incomplete"), Some("i1"))
    );
    assert_eq!(client.next_json().await["type"], "session.closed");
}

#[tokio::test]
async fn stored_sessions_fork_and_sidebands_are_refused() {
    let server = server_with(quiet()).await;
    let mut client = LiveClient::connect(&server).await;
    client.send(start(json!({"store": true}))).await;
    let started = client.next_json().await;
    let id = started["session"]["id"].as_str().unwrap().to_owned();
    client.send(json!({"type": "session.close"})).await;
    client.next_json_of("session.closed").await;

    let base = server.openai_live_url();
    let mut fork = LiveClient::connect_to(&format!("{base}/{id}/fork")).await;
    fork.send(json!({"type": "session.start", "session": {}}))
        .await;
    let forked = fork.next_json().await;
    assert_eq!(forked["type"], "session.started", "{forked}");
    assert_ne!(forked["session"]["id"], started["session"]["id"]);
    assert_eq!(forked["session"]["instructions"], "Be brief.");
    fork.send(json!({"type": "session.start", "session": {"model": "gpt-live-1"}}))
        .await;
    assert_eq!(fork.next_json().await["error"]["param"], "session.model");

    let mut missing = LiveClient::connect_to(&format!("{base}/live_nope/fork")).await;
    assert_eq!(
        missing.next_json().await["error"]["code"],
        "session_not_found"
    );
    assert_eq!(missing.next_close().await, 1008);
    let mut sideband =
        LiveClient::connect_to(&format!("{base}/{id}/attach?graceful_close=true")).await;
    assert_eq!(
        sideband.next_json().await["error"]["code"],
        "sideband_not_supported"
    );
    assert_eq!(sideband.next_close().await, 1008);
}

#[tokio::test]
async fn a_bad_key_is_refused_and_a_limited_session_expires() {
    let voice = understudy_mock::bundled_voice().unwrap();
    let mut config = ResponderConfig::with_voice(voice);
    config.session_limit = Some(std::time::Duration::from_millis(300));
    let server = MockServer::builder()
        .respond(config)
        .require_auth(vec!["sk-good".into()])
        .start()
        .await
        .unwrap();
    let mut socket = raw_connect(
        &server.openai_live_url(),
        &[("authorization", "Bearer sk-bad")],
    )
    .await;
    let Frame::Json(error) = support::next_frame(&mut socket).await else {
        panic!()
    };
    assert_eq!(error["error"]["code"], "invalid_api_key");
    assert!(matches!(
        support::next_frame(&mut socket).await,
        Frame::Close(3000, _)
    ));

    let mut client = LiveClient::connect_with_key(&server, "sk-good").await;
    let before = unix_now();
    client.send(start(json!({}))).await;
    let started = client.next_json().await;
    assert_expires_at(&started["session"]["expires_at"], before, 0.3);
    let closed = client.next_json_of("session.closed").await;
    assert_eq!(closed["reason"], "expired");
    assert_eq!(client.next_close().await, 1000);
}

fn frames_of<'a>(frames: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    frames.iter().filter(move |f| f["type"] == kind)
}

fn text_of(frames: &[Value], kind: &str) -> String {
    frames_of(frames, kind)
        .map(|f| f["delta"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn set_up_faults_on_demand_answer_session_start() {
    let server = server_with(quiet()).await;
    let url = server.openai_live_url();
    let connect = |fault: &'static str| {
        let url = url.clone();
        async move {
            let socket = raw_connect(
                &url,
                &[
                    ("authorization", "Bearer sk-test"),
                    ("x-understudy-fault", fault),
                ],
            )
            .await;
            LiveClient::from_socket(socket)
        }
    };
    // setup-error: a server_error instead of session.started; a retry starts.
    let mut client = connect("setup-error").await;
    client.send(start(json!({}))).await;
    let error = client.next_json().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "server_error");
    assert_eq!(error["client_event_id"], "c1");
    client.send(start(json!({}))).await;
    assert_eq!(client.next_json().await["type"], "session.started");
    // setup-close: close 1011 instead.
    let mut client = connect("setup-close").await;
    client.send(start(json!({}))).await;
    assert_eq!(client.next_close().await, 1011);
    // An unknown fault name is refused at the upgrade, naming the known ones.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("x-understudy-fault", "nonsense".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("setup-error"), "{body}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

#[tokio::test]
async fn a_replaying_mock_without_a_live_cassette_refuses_in_the_live_shape() {
    let server = MockServer::builder()
        .engine(understudy_mock::EngineConfig::Replay(
            understudy_mock::ReplayLibrary::default(),
        ))
        .start()
        .await
        .unwrap();
    let mut client = LiveClient::connect(&server).await;
    let error = client.next_json().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["code"], "no_cassette");
    assert!(error["error"].get("event_id").is_none(), "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("openai-live"));
    assert_eq!(client.next_close().await, 1011);
}

#[tokio::test]
async fn a_session_without_audio_expires_when_the_idle_expiry_is_on() {
    let server = server_with(LiveSettings {
        idle_expiry: Some(std::time::Duration::from_millis(300)),
        ..quiet()
    })
    .await;
    let mut client = LiveClient::connect(&server).await;
    client.send(start(json!({}))).await;
    client.next_json().await;
    // Audio keeps it alive; silence from the client ends it.
    for _ in 0..4 {
        client.stream_with_silence(&[], 100).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let last_audio = std::time::Instant::now();
    assert!(client.ready().iter().all(|f| f["type"] != "session.closed"));
    let closed = client.next_json_of("session.closed").await;
    assert!(last_audio.elapsed() >= std::time::Duration::from_millis(100));
    assert_eq!(closed["reason"], "expired");
    assert_eq!(client.next_close().await, 1000);
}

#[tokio::test]
async fn the_session_format_is_used_both_ways() {
    let server = server_with(quiet()).await;
    // PCM16 at 16 kHz: the 16 kHz utterance is heard, the answer is 3,200-byte chunks.
    let mut client = LiveClient::connect(&server).await;
    client
        .send(start(
            json!({"audio": {"format": {"type": "audio/pcm", "rate": 16000}}}),
        ))
        .await;
    let started = client.next_json().await;
    assert_eq!(
        started["session"]["audio"]["format"],
        json!({"type": "audio/pcm", "rate": 16000})
    );
    let wav = understudy_fixtures::bundled::audio("user-weather-16k.wav").unwrap();
    let (speech, rate) = understudy_fixtures::wav::read_pcm16(wav).unwrap();
    assert_eq!(rate, 16_000);
    let mut audio = speech;
    audio.extend(vec![0u8; 32 * 4000]);
    for frame in audio.chunks(640) {
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, frame);
        client
            .send(json!({"type": "session.input_audio.append", "audio": encoded}))
            .await;
    }
    let frames = client.drain().await;
    assert_eq!(
        text_of(&frames, "session.input_transcript.delta"),
        "What is the weather like in Paris today?"
    );
    let deltas: Vec<&Value> = frames_of(&frames, "session.output_audio.delta").collect();
    assert!(deltas.len() >= 10);
    for delta in deltas {
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            delta["delta"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(bytes.len(), 3200);
    }

    // G.711 µ-law at 8 kHz: 800-byte chunks of companded speech.
    let mut client = LiveClient::connect(&server).await;
    client
        .send(start(json!({"audio": {"format": {"type": "audio/pcmu"}}})))
        .await;
    let started = client.next_json().await;
    assert_eq!(
        started["session"]["audio"]["format"],
        json!({"type": "audio/pcmu", "rate": 8000})
    );
    client
        .send(json!({"type": "session.commentary.append", "content": "Hello there.", "delegation_id": null}))
        .await;
    let silence = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0xFFu8; 160]);
    for _ in 0..150 {
        client
            .send(json!({"type": "session.input_audio.append", "audio": silence}))
            .await;
    }
    let frames = client.drain().await;
    assert_eq!(
        text_of(&frames, "session.output_transcript.delta"),
        "Hello there."
    );
    let chunks: Vec<Vec<u8>> = frames_of(&frames, "session.output_audio.delta")
        .map(|d| {
            base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                d["delta"].as_str().unwrap(),
            )
            .unwrap()
        })
        .collect();
    assert!(chunks.len() >= 10 && chunks.iter().all(|c| c.len() == 800));
    // Voiced µ-law is not the all-0xFF of digital silence.
    assert!(chunks
        .iter()
        .any(|c| c.iter().any(|b| *b != 0xFF && *b != 0x7F)));
}

#[tokio::test]
async fn commands_before_the_start_can_be_queued_and_applied_after_it() {
    let server = server_with(LiveSettings {
        queue_before_start: true,
        ..quiet()
    })
    .await;
    let mut client = LiveClient::connect(&server).await;
    client
        .send(json!({"type": "session.input_audio.mute", "event_id": "m1"}))
        .await;
    client.send(start(json!({}))).await;
    let started = client.next_json().await;
    assert_eq!(started["type"], "session.started");
    let muted = client.next_json().await;
    assert_eq!(muted["type"], "session.input_audio.muted");
    assert_eq!(muted["client_event_id"], "m1");
}

#[tokio::test]
async fn an_allowed_sideband_mirrors_the_session_and_its_commands_reach_it() {
    let server = server_with(LiveSettings {
        attach: understudy_mock::AttachPolicy::Observe,
        ..quiet()
    })
    .await;
    let mut primary = LiveClient::connect(&server).await;
    primary.send(start(json!({}))).await;
    let started = primary.next_json().await;
    let id = started["session"]["id"].as_str().unwrap().to_owned();
    let base = server.openai_live_url();
    let mut sideband =
        LiveClient::connect_to(&format!("{base}/{id}/attach?graceful_close=true")).await;
    let replayed = sideband.next_json().await;
    assert_eq!(replayed["type"], "session.started");
    assert_eq!(replayed["session"]["id"], id.as_str());

    // The sideband cannot start or speak; it is told so in the service's shape.
    sideband.send(start(json!({}))).await;
    assert_eq!(sideband.next_json().await["error"]["param"], "type");

    primary
        .stream_with_silence(&audio_of("user-weather-24k.wav"), 3000)
        .await;
    let seen = primary.drain().await;
    let mirrored = sideband.drain().await;
    // Everything the primary got with an event id, the sideband got too.
    let ids = |frames: &[Value]| -> Vec<String> {
        frames
            .iter()
            .filter_map(|f| f["event_id"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(ids(&seen), ids(&mirrored));
    assert!(frames_of(&mirrored, "session.input_audio.append").count() > 50);
    assert!(frames_of(&mirrored, "session.input_audio.append").all(|f| f.get("event_id").is_none()));
    let deltas: Vec<&Value> = frames_of(&mirrored, "session.output_audio.delta").collect();
    assert_eq!(
        deltas.len(),
        frames_of(&seen, "session.output_audio.delta").count()
    );
    assert!(deltas
        .iter()
        .all(|d| d["end_ms"].as_u64().unwrap() == d["start_ms"].as_u64().unwrap() + 100));

    // A sideband command reaches the session: both see the answer.
    sideband
        .send(json!({"type": "session.input_audio.mute", "event_id": "sb1"}))
        .await;
    let muted = primary.next_json_of("session.input_audio.muted").await;
    assert_eq!(muted["client_event_id"], "sb1");
    assert_eq!(
        sideband.next_json_of("session.input_audio.muted").await["event_id"],
        muted["event_id"]
    );
    sideband.send(json!({"type": "session.close"})).await;
    assert_eq!(
        primary.next_json_of("session.closed").await["reason"],
        "close_requested"
    );
    assert_eq!(primary.next_close().await, 1000);
    assert_eq!(
        sideband.next_json_of("session.closed").await["type"],
        "session.closed"
    );
    assert_eq!(sideband.next_close().await, 1000);
    // An id that is not running is refused.
    let mut stray = LiveClient::connect_to(&format!("{base}/{id}/attach")).await;
    assert_eq!(
        stray.next_json().await["error"]["code"],
        "session_not_found"
    );
}

/// Reads `sideband` up to its close while pinging `primary` every 100 ms
/// (so only the sideband is quiet), and `sideband` too for its first
/// `ping_sideband_for`; fails after 10 s without a close.
async fn close_while_the_primary_talks(
    sideband: &mut support::Socket,
    primary: &mut support::Socket,
    ping_sideband_for: std::time::Duration,
) -> (u16, String) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let began = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sideband was not closed within 10 s"
        );
        tokio::select! {
            frame = support::next_frame(sideband) => {
                if let Frame::Close(code, reason) = frame {
                    return (code, reason);
                }
            }
            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                primary.send(Message::Ping(vec![1].into())).await.unwrap();
                if began.elapsed() < ping_sideband_for {
                    sideband.send(Message::Ping(vec![2].into())).await.unwrap();
                }
            }
        }
    }
}

#[tokio::test]
async fn a_quiet_sideband_is_closed_by_the_first_frame_then_the_idle_timeout() {
    use futures_util::SinkExt;
    use std::time::{Duration, Instant};
    use tokio_tungstenite::tungstenite::Message;
    let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config.live = Box::new(LiveSettings {
        attach: understudy_mock::AttachPolicy::Observe,
        ..quiet()
    });
    let server = MockServer::builder()
        .respond(config)
        .timeouts(understudy_mock::ServeTimeouts {
            first_frame: Some(Duration::from_millis(400)),
            idle: Some(Duration::from_millis(400)),
            ..Default::default()
        })
        .timeout_close(4000)
        .start()
        .await
        .unwrap();
    let base = server.openai_live_url();
    let mut primary = raw_connect(&base, &[("authorization", "Bearer k")]).await;
    primary
        .send(Message::Text(start(json!({})).to_string().into()))
        .await
        .unwrap();
    let Frame::Json(started) = support::next_frame(&mut primary).await else {
        panic!("the primary was closed")
    };
    let id = started["session"]["id"].as_str().unwrap().to_owned();
    let attach = format!("{base}/{id}/attach");

    // Never a frame: closed after the first-frame timeout.
    let mut silent = raw_connect(&attach, &[("authorization", "Bearer k")]).await;
    let Frame::Json(replayed) = support::next_frame(&mut silent).await else {
        panic!("the sideband was closed at once")
    };
    assert_eq!(replayed["type"], "session.started");
    let began = Instant::now();
    let (code, reason) =
        close_while_the_primary_talks(&mut silent, &mut primary, Duration::ZERO).await;
    assert_eq!(code, 4000, "{reason}");
    assert_eq!(reason, "no client frame within 400ms of connecting");
    assert!(began.elapsed() >= Duration::from_millis(250));

    // Frames keep a sideband open past the idle timeout; silence ends it.
    let mut talker = raw_connect(&attach, &[("authorization", "Bearer k")]).await;
    let began = Instant::now();
    let (code, reason) =
        close_while_the_primary_talks(&mut talker, &mut primary, Duration::from_millis(900)).await;
    assert_eq!(code, 4000, "{reason}");
    assert_eq!(reason, "idle timeout: no client frame for 400ms");
    assert!(began.elapsed() >= Duration::from_millis(900));

    // The session itself was not ended by its sidebands' timeouts.
    let mut again = raw_connect(&attach, &[("authorization", "Bearer k")]).await;
    let Frame::Json(replayed) = support::next_frame(&mut again).await else {
        panic!("the session is gone")
    };
    assert_eq!(replayed["type"], "session.started");
    let journal = server.journal();
    let sidebands = journal
        .iter()
        .filter(|s| s.entries.iter().any(|e| e.label == "timeout"))
        .count();
    assert!(sidebands >= 2, "the timeouts are journalled");
}
