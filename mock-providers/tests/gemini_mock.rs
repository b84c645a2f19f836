//! The Gemini Live mock over real sockets, driven by the understudy Gemini
//! adapter: audio and text turns, tools, barge-in, close-code errors,
//! resumption across connections, goAway, binary frames.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{is_done, transcript, until};
use understudy_adapters::{gemini, registry};
use understudy_adapters::{
    ClientInput, ModelEvent, Pcm, RealtimeClient, ResponseStatus, SessionConfig, TapDirection,
    ToolSpec, TurnDetection, WireFrame,
};
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

const MODEL: &str = "gemini-live-2.5-flash-preview";

async fn server(speed: f64) -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(speed)
        .start()
        .await
        .unwrap()
}

async fn connect_model(server: &MockServer, model: &str) -> RealtimeClient {
    let options =
        gemini::connect_options(server.gemini_base_url(), model).api_key("understudy-test-key");
    registry::connect(&options).await.unwrap()
}

async fn set_up(client: &mut RealtimeClient, config: SessionConfig) -> Vec<ModelEvent> {
    client.send(&ClientInput::Session(config)).await.unwrap();
    until(client, |e| {
        matches!(
            e,
            ModelEvent::SessionCreated { .. } | ModelEvent::SessionEnded { .. }
        )
    })
    .await
}

fn spoken() -> SessionConfig {
    SessionConfig {
        input_transcription: Some("default".into()),
        turn_detection: Some(TurnDetection::server_vad()),
        ..Default::default()
    }
}

async fn say(client: &mut RealtimeClient, name: &str) {
    let (mut pcm, rate) =
        understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
            .unwrap();
    pcm.extend(vec![0u8; 32_000]);
    for chunk in pcm.chunks(3_200) {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(chunk.to_vec()),
                sample_rate: rate,
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_spoken_turn_is_transcribed_answered_and_leaves_a_resumption_handle() {
    let server = server(8.0).await;
    let tap = Arc::new(Mutex::new(Vec::new()));
    let options = gemini::connect_options(server.gemini_base_url(), MODEL).api_key("k");
    let mut client = registry::connect_with_tap(&options, Some(Arc::clone(&tap)))
        .await
        .unwrap();
    set_up(&mut client, spoken()).await;
    say(&mut client, "user-weather-16k.wav").await;
    let events = until(&mut client, is_done).await;
    assert!(events.iter().any(|e| matches!(e, ModelEvent::InputTranscriptDone { transcript, .. } if transcript == "What is the weather like in Paris today?")));
    assert!(events.iter().any(|e| matches!(
        e,
        ModelEvent::AudioDelta {
            sample_rate: 24_000,
            ..
        }
    )));
    assert_eq!(
        transcript(&events),
        "You said: What is the weather like in Paris today?"
    );
    assert!(matches!(
        events.last(),
        Some(ModelEvent::ResponseDone {
            status: ResponseStatus::Completed,
            ..
        })
    ));
    let after = until(&mut client, |e| {
        matches!(e, ModelEvent::ResumptionHandle { .. })
    })
    .await;
    assert!(after
        .iter()
        .any(|e| matches!(e, ModelEvent::Usage { usage: u, .. } if u.total_tokens.is_some())));
    assert!(matches!(
        after.last(),
        Some(ModelEvent::ResumptionHandle {
            handle: Some(_),
            resumable: true
        })
    ));
    let received = tap
        .lock()
        .unwrap()
        .iter()
        .filter(|f| f.direction == TapDirection::Received)
        .cloned()
        .collect::<Vec<_>>();
    assert!(
        received
            .iter()
            .all(|f| matches!(f.frame, WireFrame::Binary(_))),
        "the service sends JSON in binary frames"
    );
}

#[tokio::test]
async fn text_turns_and_tool_calls() {
    let server = server(8.0).await;
    let mut client = connect_model(&server, MODEL).await;
    let weather = ToolSpec {
        name: "get_weather".into(),
        description: "Weather for a city".into(),
        parameters: serde_json::json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        behavior: None,
    };
    set_up(
        &mut client,
        SessionConfig {
            tools: vec![weather],
            ..Default::default()
        },
    )
    .await;
    client
        .send(&ClientInput::Text {
            text: "Hello there".into(),
        })
        .await
        .unwrap();
    let events = until(&mut client, is_done).await;
    assert_eq!(transcript(&events), "You said: Hello there");
    client
        .send(&ClientInput::Text {
            text: "What is the weather in Paris?".into(),
        })
        .await
        .unwrap();
    let events = until(&mut client, |e| matches!(e, ModelEvent::ToolCall { .. })).await;
    let Some(ModelEvent::ToolCall {
        call_id,
        name,
        arguments,
        ..
    }) = events.last().cloned()
    else {
        unreachable!()
    };
    assert_eq!(
        (name.as_str(), arguments.as_str()),
        ("get_weather", r#"{"city":"Paris"}"#)
    );
    client
        .send(&ClientInput::ToolResult {
            call_id,
            name,
            output: r#"{"sky":"clear"}"#.into(),
            scheduling: None,
        })
        .await
        .unwrap();
    let events = until(&mut client, is_done).await;
    assert_eq!(transcript(&events), "Here is what I found: sky clear.");
}

#[tokio::test]
async fn user_speech_interrupts_the_answer() {
    let server = server(1.0).await;
    let mut client = connect_model(&server, MODEL).await;
    set_up(&mut client, spoken()).await;
    client
        .send(&ClientInput::Text {
            text: "Tell me a long story about the sea".into(),
        })
        .await
        .unwrap();
    until(&mut client, |e| matches!(e, ModelEvent::AudioDelta { .. })).await;
    say(&mut client, "user-interrupt-16k.wav").await;
    let events = until(&mut client, is_done).await;
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    assert!(kinds.contains(&"interrupted"), "{kinds:?}");
    assert!(matches!(
        events.last(),
        Some(ModelEvent::ResponseDone {
            status: ResponseStatus::Cancelled,
            ..
        })
    ));
    let next = until(&mut client, is_done).await;
    assert_eq!(
        transcript(&next),
        "You said: Wait, stop. Actually, tell me about Berlin instead."
    );
}

async fn closes_with(client: &mut RealtimeClient, code: u16) {
    let events = until(client, |e| matches!(e, ModelEvent::SessionEnded { .. })).await;
    assert!(
        matches!(events.last(), Some(ModelEvent::SessionEnded { close_code: Some(c), .. }) if *c == code),
        "expected close {code}, got {events:?}"
    );
    assert!(events.iter().any(|e| matches!(e, ModelEvent::Error(info) if info.code == format!("close_{code}") && info.fatal)));
}

#[tokio::test]
async fn errors_are_close_codes_as_on_the_service() {
    let server = server(8.0).await;
    // Anything before setup.
    let mut client = connect_model(&server, MODEL).await;
    client
        .send_frame(WireFrame::Text(r#"{"realtimeInput":{"text":"hi"}}"#.into()))
        .await
        .unwrap();
    closes_with(&mut client, 1007).await;
    // An unknown model.
    let mut client = connect_model(&server, "gpt-realtime").await;
    client
        .send(&ClientInput::Session(SessionConfig::default()))
        .await
        .unwrap();
    closes_with(&mut client, 1008).await;
    // Malformed JSON after setup.
    let mut client = connect_model(&server, MODEL).await;
    set_up(&mut client, SessionConfig::default()).await;
    client
        .send_frame(WireFrame::Text("{nope".into()))
        .await
        .unwrap();
    closes_with(&mut client, 1007).await;
    // A bad key, answered after setup.
    let guarded = MockServer::builder()
        .require_auth(vec!["good".into()])
        .start()
        .await
        .unwrap();
    let options = gemini::connect_options(guarded.gemini_base_url(), MODEL).api_key("bad");
    let mut client = registry::connect(&options).await.unwrap();
    client
        .send(&ClientInput::Session(SessionConfig::default()))
        .await
        .unwrap();
    closes_with(&mut client, 1007).await;
    // Every failure ended only its own session.
    let mut client = connect_model(&server, MODEL).await;
    assert!(matches!(
        set_up(&mut client, SessionConfig::default()).await.last(),
        Some(ModelEvent::SessionCreated { .. })
    ));
}

#[tokio::test]
async fn a_handle_resumes_the_conversation_on_a_new_connection() {
    let server = server(8.0).await;
    let mut first = connect_model(&server, MODEL).await;
    set_up(&mut first, SessionConfig::default()).await;
    first
        .send(&ClientInput::Text {
            text: "Remember Paris".into(),
        })
        .await
        .unwrap();
    until(&mut first, is_done).await;
    let handle = until(&mut first, |e| {
        matches!(e, ModelEvent::ResumptionHandle { .. })
    })
    .await;
    let Some(ModelEvent::ResumptionHandle {
        handle: Some(handle),
        ..
    }) = handle.last().cloned()
    else {
        unreachable!()
    };
    drop(first);
    let mut second = connect_model(&server, MODEL).await;
    second
        .send(&ClientInput::Resume {
            handle: handle.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(
        set_up(&mut second, SessionConfig::default()).await.last(),
        Some(ModelEvent::SessionCreated { .. })
    ));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let journal = server.journal();
    let resumed = journal
        .iter()
        .flat_map(|s| s.find(EntryKind::Note, "resumed"))
        .next()
        .expect("the second session resumed");
    assert!(
        resumed.detail.starts_with(&handle) && resumed.detail.contains("2 items"),
        "{}",
        resumed.detail
    );
    let mut third = connect_model(&server, MODEL).await;
    third
        .send(&ClientInput::Resume {
            handle: "no-such-handle".into(),
        })
        .await
        .unwrap();
    third
        .send(&ClientInput::Session(SessionConfig::default()))
        .await
        .unwrap();
    closes_with(&mut third, 1007).await;
}

#[tokio::test]
async fn a_connection_limit_sends_go_away_then_closes() {
    let server = MockServer::builder()
        .connection_limit(Duration::from_millis(600))
        .start()
        .await
        .unwrap();
    let mut client = connect_model(&server, MODEL).await;
    set_up(&mut client, SessionConfig::default()).await;
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    let go_away = events.iter().find_map(|e| match e {
        ModelEvent::GoAway { time_left_ms } => *time_left_ms,
        _ => None,
    });
    assert_eq!(go_away, Some(300), "warned with the time left");
    assert!(matches!(
        events.last(),
        Some(ModelEvent::SessionEnded {
            close_code: Some(1001),
            ..
        })
    ));
}

#[tokio::test]
async fn a_resuming_session_loses_no_turn_across_go_away() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(4.0)
        .connection_limit(Duration::from_millis(1_200))
        .start()
        .await
        .unwrap();
    let options = gemini::connect_options(server.gemini_base_url(), MODEL).api_key("k");
    let mut session = gemini::ResumingSession::connect(options, SessionConfig::default())
        .await
        .unwrap();
    let mut answers = Vec::new();
    for i in 0..6 {
        session
            .send(&ClientInput::Text {
                text: format!("turn {i}"),
            })
            .await
            .unwrap();
        let mut said = String::new();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), session.next_event())
                .await
                .unwrap()
                .unwrap();
            match event {
                ModelEvent::TranscriptDelta { delta, .. } => said.push_str(&delta),
                ModelEvent::ResponseDone {
                    status: ResponseStatus::Completed,
                    ..
                } => break,
                ModelEvent::SessionEnded { reason, .. } => {
                    panic!("session ended at turn {i}: {reason}")
                }
                _ => {}
            }
        }
        answers.push(said);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let expected: Vec<String> = (0..6).map(|i| format!("You said: turn {i}")).collect();
    assert_eq!(
        answers, expected,
        "every turn answered exactly once, in order"
    );
    assert!(
        session.reconnects() >= 1,
        "the conversation crossed at least one goAway"
    );
    let resumed = server
        .journal()
        .iter()
        .filter(|s| s.find(EntryKind::Note, "resumed").next().is_some())
        .count();
    assert_eq!(
        resumed as u32,
        session.reconnects(),
        "every new connection resumed the conversation"
    );
}

#[tokio::test]
async fn a_plain_client_loses_the_conversation_at_go_away() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(4.0)
        .connection_limit(Duration::from_millis(1_200))
        .start()
        .await
        .unwrap();
    let mut client = connect_model(&server, MODEL).await;
    set_up(&mut client, SessionConfig::default()).await;
    let mut answered = 0;
    'turns: for i in 0..6 {
        if client
            .send(&ClientInput::Text {
                text: format!("turn {i}"),
            })
            .await
            .is_err()
        {
            break;
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(5), client.next_event()).await {
                Ok(Some(ModelEvent::ResponseDone { .. })) => break,
                Ok(Some(ModelEvent::SessionEnded { .. })) | Ok(None) | Err(_) => break 'turns,
                Ok(Some(_)) => {}
            }
        }
        answered += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(
        answered < 6,
        "without resumption the session ends at the connection limit ({answered} answered)"
    );
}

/// The adapter speaks `wss://` (the real service's only scheme): it trusts the
/// mock's generated CA when told to, and refuses the same server otherwise.
#[tokio::test]
async fn the_adapter_connects_over_tls_trusting_only_the_given_ca() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .tls("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let tls_url = server.tls_url().unwrap().replacen("https://", "wss://", 1);
    let ca = server.ca_pem().unwrap().to_owned();

    let options = gemini::connect_options(&tls_url, MODEL)
        .api_key("understudy-test-key")
        .trust(understudy_adapters::TlsTrust::Only(ca));
    let mut client = registry::connect(&options).await.unwrap();
    let events = set_up(&mut client, SessionConfig::default()).await;
    assert!(
        matches!(events.last(), Some(ModelEvent::SessionCreated { .. })),
        "{events:?}"
    );
    client
        .send(&ClientInput::Text {
            text: "Hello over TLS".into(),
        })
        .await
        .unwrap();
    let turn = until(&mut client, is_done).await;
    assert_eq!(transcript(&turn), "You said: Hello over TLS");

    let untrusting = gemini::connect_options(&tls_url, MODEL)
        .api_key("understudy-test-key")
        .trust(understudy_adapters::TlsTrust::Only(
            rcgen::generate_simple_self_signed(vec!["elsewhere".into()])
                .unwrap()
                .cert
                .pem(),
        ));
    let error = registry::connect(&untrusting).await.unwrap_err();
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "the refusal names the certificate: {error}"
    );
}

#[tokio::test]
async fn a_question_is_answered_from_the_system_instruction() {
    let server = server(8.0).await;
    let mut client = connect_model(&server, MODEL).await;
    set_up(
        &mut client,
        SessionConfig {
            instructions: Some("Be brief. Remember that the city is Paris.".into()),
            ..Default::default()
        },
    )
    .await;
    client
        .send(&ClientInput::Text {
            text: "What did I say the city is?".into(),
        })
        .await
        .unwrap();
    let events = until(&mut client, is_done).await;
    assert_eq!(transcript(&events), "You said the city is Paris.");
}

#[tokio::test]
async fn a_session_limit_ends_the_connection_with_go_away_and_the_shorter_limit_wins() {
    use support::{next_frame, raw_connect, Frame};
    let short = Duration::from_millis(300);
    let long = Duration::from_secs(30);
    // (session limit, connection limit): each alone, and both either way round.
    for (session, connection) in [
        (Some(short), None),
        (Some(short), Some(long)),
        (Some(long), Some(short)),
    ] {
        let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
        config.session_limit = session;
        let mut builder = MockServer::builder().respond(config);
        if let Some(limit) = connection {
            builder = builder.connection_limit(limit);
        }
        let server = builder.start().await.unwrap();
        let url = format!(
            "{}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
            server.gemini_base_url()
        );
        let mut socket = raw_connect(&url, &[("x-goog-api-key", "test-key")]).await;
        let setup = serde_json::json!({"setup": {"model": format!("models/{MODEL}")}});
        futures_util::SinkExt::send(
            &mut socket,
            tokio_tungstenite::tungstenite::Message::Text(setup.to_string().into()),
        )
        .await
        .unwrap();
        let started = std::time::Instant::now();
        let case = format!("session {session:?}, connection {connection:?}");
        let Frame::Json(complete) = next_frame(&mut socket).await else {
            panic!("{case}: setupComplete first")
        };
        assert!(
            complete.get("setupComplete").is_some(),
            "{case}: {complete}"
        );
        let Frame::Json(go_away) = next_frame(&mut socket).await else {
            panic!("{case}: goAway before the close")
        };
        assert_eq!(go_away["goAway"]["timeLeft"], "0.15s", "{case}");
        match next_frame(&mut socket).await {
            Frame::Close(code, reason) => {
                assert_eq!(
                    (code, reason.as_str()),
                    (1001, "connection lifetime reached"),
                    "{case}"
                )
            }
            other => panic!("{case}: expected the close, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{case}: the shorter limit"
        );
    }
}
