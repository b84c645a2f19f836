//! The OpenAI mock over real sockets, driven by the understudy adapter:
//! turns in both dialects, tools, barge-in, bad input, auth, disconnects.

mod support;

use std::time::Duration;
use support::{is_done, transcript, until};
use understudy_adapters::openai::{self, Dialect};
use understudy_adapters::registry;
use understudy_adapters::{
    ClientInput, ModelEvent, Pcm, RealtimeClient, ResponseOptions, ResponseStatus, SessionConfig,
    ToolSpec, TurnDetection, WireFrame,
};
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

/// These tests exercise both dialects, so the retired beta is served on
/// purpose (legacy); its refusal is tested in `openai_clients.rs`.
async fn fast_server() -> MockServer {
    let voice = understudy_mock::bundled_voice().unwrap();
    MockServer::builder()
        .respond(ResponderConfig::with_voice(voice))
        .legacy_beta()
        .speed(8.0)
        .start()
        .await
        .unwrap()
}

async fn connect(server: &MockServer, dialect: Dialect) -> RealtimeClient {
    let options = openai::connect_options(server.openai_base_url(), dialect, "gpt-realtime")
        .api_key("sk-test");
    registry::connect(&options).await.unwrap()
}

fn user_audio(name: &str) -> Vec<u8> {
    let wav = understudy_fixtures::bundled::audio(name).unwrap();
    let (pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).unwrap();
    assert_eq!(rate, 24_000);
    pcm
}

/// Sends a user text and asks for a response.
async fn ask(client: &mut RealtimeClient, text: &str) {
    client
        .send(&ClientInput::Text { text: text.into() })
        .await
        .unwrap();
    client
        .send(&ClientInput::CreateResponse(ResponseOptions::default()))
        .await
        .unwrap();
}

async fn text_turn(client: &mut RealtimeClient, text: &str) -> Vec<ModelEvent> {
    ask(client, text).await;
    until(client, is_done).await
}

/// A respond-engine mock at real-time pace (long enough to talk over), with
/// the legacy beta (a test below keeps a beta client connected).
async fn real_time_server() -> MockServer {
    let voice = understudy_mock::bundled_voice().unwrap();
    MockServer::builder()
        .respond(ResponderConfig::with_voice(voice))
        .legacy_beta()
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn text_turn_in_both_dialects_gives_audio_and_a_matching_transcript() {
    let server = fast_server().await;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let mut client = connect(&server, dialect).await;
        let first = until(&mut client, |e| {
            matches!(e, ModelEvent::SessionCreated { .. })
        })
        .await;
        assert_eq!(first.len(), 1, "session.created must be the first event");
        client
            .send(&ClientInput::Session(SessionConfig {
                instructions: Some("Be brief.".into()),
                ..Default::default()
            }))
            .await
            .unwrap();
        until(&mut client, |e| {
            matches!(e, ModelEvent::SessionUpdated { .. })
        })
        .await;
        let events = text_turn(&mut client, "Hello understudy").await;
        let audio: usize = events
            .iter()
            .map(|e| match e {
                ModelEvent::AudioDelta {
                    pcm, sample_rate, ..
                } => {
                    assert_eq!(*sample_rate, 24_000);
                    pcm.len()
                }
                _ => 0,
            })
            .sum();
        assert!(
            audio >= 48_000,
            "{dialect}: at least a second of audio, got {audio} bytes"
        );
        let said = transcript(&events);
        assert_eq!(said, "You said: Hello understudy", "{dialect}");
        assert!(events.iter().any(
            |e| matches!(e, ModelEvent::TranscriptDone { transcript, .. } if *transcript == said)
        ));
        match events.last().unwrap() {
            ModelEvent::ResponseDone { status, .. } => {
                assert_eq!(*status, ResponseStatus::Completed);
            }
            other => panic!("{other:?}"),
        }
        // Usage follows the response it counts.
        let usage = until(&mut client, |_| true).await;
        assert!(
            matches!(&usage[0], ModelEvent::Usage { usage: u, .. } if u.total_tokens.unwrap_or(0) > 0),
            "{usage:?}"
        );
        client.close().await.unwrap();
    }
    let journal = server.journal();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].dialect, "openai-ga");
    assert_eq!(journal[1].dialect, "openai-beta");
    assert!(journal[1]
        .find(EntryKind::Server, "response.audio.delta")
        .next()
        .is_some());
    assert!(journal[1]
        .find(EntryKind::Server, "response.output_audio.delta")
        .next()
        .is_none());
}

#[tokio::test]
async fn server_vad_detects_real_speech_and_answers_it() {
    let server = fast_server().await;
    let mut client = connect(&server, Dialect::Ga).await;
    client
        .send(&ClientInput::Session(SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            ..Default::default()
        }))
        .await
        .unwrap();
    let mut pcm = user_audio("user-weather-24k.wav");
    pcm.extend(vec![0u8; 48_000]);
    for chunk in pcm.chunks(4_800) {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(chunk.to_vec()),
                sample_rate: 24_000,
            })
            .await
            .unwrap();
    }
    let events = until(&mut client, is_done).await;
    let start = events.iter().find_map(|e| match e {
        ModelEvent::SpeechStarted { audio_start_ms, .. } => Some(*audio_start_ms),
        _ => None,
    });
    let stop = events.iter().find_map(|e| match e {
        ModelEvent::SpeechStopped { audio_end_ms, .. } => Some(*audio_end_ms),
        _ => None,
    });
    let (start, stop) = (
        start.expect("speech_started"),
        stop.expect("speech_stopped"),
    );
    assert!(
        (250..=400).contains(&start),
        "speech starts after ~300 ms of leading silence, got {start}"
    );
    assert!(
        stop > start + 1000,
        "the utterance lasts over a second: {start}..{stop}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, ModelEvent::InputCommitted { .. })));
    assert_eq!(
        transcript(&events),
        "You said: What is the weather like in Paris today?",
        "the bundled utterance is recognised and answered"
    );
}

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: "Weather for a city".into(),
        parameters: serde_json::json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        behavior: None,
    }
}

#[tokio::test]
async fn tool_round_trip_in_both_dialects() {
    let server = fast_server().await;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let mut client = connect(&server, dialect).await;
        client
            .send(&ClientInput::Session(SessionConfig {
                tools: vec![weather_tool()],
                ..Default::default()
            }))
            .await
            .unwrap();
        let events = text_turn(&mut client, "What is the weather in Paris?").await;
        let (call_id, name, arguments) = events
            .iter()
            .find_map(|e| match e {
                ModelEvent::ToolCall {
                    call_id,
                    name,
                    arguments,
                    ..
                } => Some((call_id.clone(), name.clone(), arguments.clone())),
                _ => None,
            })
            .expect("a tool call");
        assert_eq!(
            name, "get_weather",
            "{dialect}: the name is known even where the wire omits it"
        );
        assert_eq!(arguments, r#"{"city":"Paris"}"#);
        client
            .send(&ClientInput::ToolResult {
                call_id,
                name,
                output: r#"{"sky":"clear"}"#.into(),
                scheduling: None,
            })
            .await
            .unwrap();
        client
            .send(&ClientInput::CreateResponse(ResponseOptions::default()))
            .await
            .unwrap();
        let events = until(&mut client, is_done).await;
        assert_eq!(transcript(&events), "Here is what I found: sky clear.");
    }
}

#[tokio::test]
async fn barge_in_cancels_the_response_and_truncation_is_accepted() {
    let server = real_time_server().await;
    let mut client = connect(&server, Dialect::Ga).await;
    ask(
        &mut client,
        "Tell me a long story about the sea and the ships",
    )
    .await;
    let before = until(&mut client, |e| matches!(e, ModelEvent::AudioDelta { .. })).await;
    let item_id = before
        .iter()
        .find_map(|e| match e {
            ModelEvent::AudioDelta { item_id, .. } => Some(item_id.clone()),
            _ => None,
        })
        .unwrap();
    let mut pcm = user_audio("user-interrupt-24k.wav");
    pcm.truncate(48_000);
    for chunk in pcm.chunks(4_800) {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(chunk.to_vec()),
                sample_rate: 24_000,
            })
            .await
            .unwrap();
    }
    let events = until(&mut client, is_done).await;
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    let speech = kinds
        .iter()
        .position(|k| *k == "speech_started")
        .expect("speech_started");
    let interrupted = kinds
        .iter()
        .position(|k| *k == "interrupted")
        .expect("interrupted");
    assert!(speech < interrupted, "{kinds:?}");
    match events.last().unwrap() {
        ModelEvent::ResponseDone { status, reason, .. } => {
            assert_eq!(*status, ResponseStatus::Cancelled);
            assert_eq!(reason.as_deref(), Some("turn_detected"));
        }
        other => panic!("{other:?}"),
    }
    client
        .send(&ClientInput::Truncate {
            item_id: item_id.clone(),
            content_index: 0,
            audio_end_ms: 100,
        })
        .await
        .unwrap();
    let truncated = until(&mut client, |e| {
        matches!(e, ModelEvent::Truncated { .. } | ModelEvent::Error(_))
    })
    .await;
    assert_eq!(
        truncated.last(),
        Some(&ModelEvent::Truncated {
            item_id,
            audio_end_ms: 100
        })
    );
}

async fn expect_error(client: &mut RealtimeClient, frame: WireFrame, code: &str) {
    client.send_frame(frame).await.unwrap();
    let events = until(client, |e| matches!(e, ModelEvent::Error(_))).await;
    match events.last().unwrap() {
        ModelEvent::Error(info) => {
            assert_eq!(info.code, code, "{info:?}");
            assert_eq!(info.kind.as_deref(), Some("invalid_request_error"));
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn bad_input_gets_openai_errors_and_the_session_stays_usable() {
    let voice = understudy_mock::bundled_voice().unwrap();
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(voice))
        .speed(8.0)
        .max_frame_bytes(64 * 1024)
        .start()
        .await
        .unwrap();
    let mut client = connect(&server, Dialect::Ga).await;
    until(&mut client, |e| {
        matches!(e, ModelEvent::SessionCreated { .. })
    })
    .await;
    expect_error(
        &mut client,
        WireFrame::Text("{this is not json".into()),
        "invalid_event",
    )
    .await;
    expect_error(
        &mut client,
        WireFrame::Text(r#"{"type":"response.teleport"}"#.into()),
        "invalid_value",
    )
    .await;
    let huge = format!(
        r#"{{"type":"input_audio_buffer.append","audio":"{}"}}"#,
        "A".repeat(100_000)
    );
    expect_error(&mut client, WireFrame::Text(huge), "message_too_large").await;
    expect_error(
        &mut client,
        WireFrame::Text(
            r#"{"type":"input_audio_buffer.append","audio":"not base64!!","event_id":"c9"}"#.into(),
        ),
        "invalid_value",
    )
    .await;
    expect_error(
        &mut client,
        WireFrame::Binary(vec![1, 2, 3]),
        "invalid_event",
    )
    .await;
    // Still usable: a full turn completes.
    let events = text_turn(&mut client, "still there?").await;
    assert!(matches!(
        events.last(),
        Some(ModelEvent::ResponseDone {
            status: ResponseStatus::Completed,
            ..
        })
    ));
    let journal = &server.journal()[0];
    assert_eq!(journal.find(EntryKind::Client, "invalid").count(), 4);
}

#[tokio::test]
async fn a_client_vanishing_mid_response_does_not_affect_others() {
    let server = real_time_server().await;
    let mut leaver = connect(&server, Dialect::Ga).await;
    ask(&mut leaver, "talk").await;
    until(&mut leaver, |e| matches!(e, ModelEvent::AudioDelta { .. })).await;
    drop(leaver); // no close frame: the TCP connection just goes away
    let mut stayer = connect(&server, Dialect::Beta).await;
    let events = text_turn(&mut stayer, "are you still serving?").await;
    assert!(matches!(
        events.last(),
        Some(ModelEvent::ResponseDone {
            status: ResponseStatus::Completed,
            ..
        })
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let journal = server.journal();
    assert!(journal[0].closed, "the abandoned session is cleaned up");
    assert!(journal[0]
        .find(EntryKind::Note, "disconnect")
        .next()
        .is_some());
}

#[tokio::test]
async fn a_bad_key_gets_invalid_api_key_and_close_3000() {
    let server = MockServer::builder()
        .require_auth(vec!["sk-good".into()])
        .start()
        .await
        .unwrap();
    let options = openai::connect_options(server.openai_base_url(), Dialect::Ga, "gpt-realtime")
        .api_key("sk-wrong");
    let mut client = registry::connect(&options).await.unwrap();
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    assert!(matches!(&events[0], ModelEvent::Error(info) if info.code == "invalid_api_key"));
    assert!(matches!(
        &events[1],
        ModelEvent::SessionEnded {
            close_code: Some(3000),
            ..
        }
    ));
    let good = openai::connect_options(server.openai_base_url(), Dialect::Ga, "gpt-realtime")
        .api_key("sk-good");
    let mut client = registry::connect(&good).await.unwrap();
    let events = until(&mut client, |_| true).await;
    assert!(matches!(events[0], ModelEvent::SessionCreated { .. }));
}

#[tokio::test]
async fn protocol_errors_from_the_responder() {
    let server = fast_server().await;
    let mut client = connect(&server, Dialect::Ga).await;
    client
        .send(&ClientInput::CancelResponse { response_id: None })
        .await
        .unwrap();
    let events = until(&mut client, |e| matches!(e, ModelEvent::Error(_))).await;
    assert!(
        matches!(events.last(), Some(ModelEvent::Error(i)) if i.code == "response_cancel_not_active")
    );
    client
        .send(&ClientInput::Audio {
            pcm: Pcm(vec![0; 960]),
            sample_rate: 24_000,
        })
        .await
        .unwrap();
    client.send(&ClientInput::CommitAudio).await.unwrap();
    let events = until(&mut client, |e| matches!(e, ModelEvent::Error(_))).await;
    assert!(
        matches!(events.last(), Some(ModelEvent::Error(i)) if i.code == "input_audio_buffer_commit_empty")
    );
}

#[tokio::test]
async fn the_journal_is_readable_over_http() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = fast_server().await;
    let mut client = connect(&server, Dialect::Beta).await;
    text_turn(&mut client, "journal me").await;
    client.close().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.address())
        .await
        .unwrap();
    stream
        .write_all(b"GET /__understudy/journal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let journal: serde_json::Value = serde_json::from_str(body).unwrap();
    let session = &journal[0];
    assert_eq!(session["dialect"], "openai-beta");
    let labels: Vec<&str> = session["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    for expected in [
        "conversation.item.create",
        "response.create",
        "response.audio.delta",
        "response.done",
    ] {
        assert!(
            labels.contains(&expected),
            "{expected} missing from {labels:?}"
        );
    }
    // Audio is summarised in the journal, never stored.
    assert!(
        !body.contains("\"delta\":\"AAAA"),
        "raw audio leaked into the journal"
    );
}

#[tokio::test]
async fn a_session_limit_ends_the_session_the_provider_way() {
    let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config.session_limit = Some(Duration::from_millis(300));
    let server = MockServer::builder().respond(config).start().await.unwrap();
    let mut client = connect(&server, Dialect::Ga).await;
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    let expired = events.iter().find_map(|e| match e {
        ModelEvent::Error(info) => Some(info.clone()),
        _ => None,
    });
    let expired = expired.expect("a session_expired error before the close");
    assert_eq!(expired.code, "session_expired");
    assert!(
        expired.message.contains("maximum duration"),
        "{}",
        expired.message
    );
    assert!(matches!(
        events.last(),
        Some(ModelEvent::SessionEnded {
            close_code: Some(1001),
            ..
        })
    ));
}

#[tokio::test]
async fn vad_offsets_count_from_the_session_start_across_session_updates() {
    let server = fast_server().await;
    let mut client = connect(&server, Dialect::Ga).await;
    let manual = SessionConfig {
        turn_detection: Some(TurnDetection::Manual),
        ..Default::default()
    };
    client.send(&ClientInput::Session(manual)).await.unwrap();
    // Two seconds of silence, committed by hand, before turning VAD on.
    for _ in 0..20 {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(vec![0; 4_800]),
                sample_rate: 24_000,
            })
            .await
            .unwrap();
    }
    client.send(&ClientInput::CommitAudio).await.unwrap();
    let vad = SessionConfig {
        turn_detection: Some(TurnDetection::server_vad()),
        ..Default::default()
    };
    client.send(&ClientInput::Session(vad)).await.unwrap();
    let mut pcm = user_audio("user-weather-24k.wav");
    pcm.extend(vec![0u8; 48_000]);
    for chunk in pcm.chunks(4_800) {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(chunk.to_vec()),
                sample_rate: 24_000,
            })
            .await
            .unwrap();
    }
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SpeechStarted { .. })
    })
    .await;
    let Some(ModelEvent::SpeechStarted { audio_start_ms, .. }) = events.last() else {
        unreachable!()
    };
    assert!(
        (2250..=2400).contains(audio_start_ms),
        "2 s earlier audio + ~300 ms lead-in, got {audio_start_ms}"
    );
}

#[tokio::test]
async fn a_question_is_answered_from_the_session_instructions_in_both_dialects() {
    let server = fast_server().await;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let mut client = connect(&server, dialect).await;
        client
            .send(&ClientInput::Session(SessionConfig {
                instructions: Some(
                    "Summary of the earlier session:\nRemember that my name is Ada.\n(1 turns summarized)"
                        .into(),
                ),
                ..Default::default()
            }))
            .await
            .unwrap();
        until(&mut client, |e| {
            matches!(e, ModelEvent::SessionUpdated { .. })
        })
        .await;
        let events = text_turn(&mut client, "What did I say my name is?").await;
        assert_eq!(
            transcript(&events),
            "You said my name is Ada.",
            "{dialect:?}"
        );
        let events = text_turn(&mut client, "Remember that my name is Grace.").await;
        assert_eq!(
            transcript(&events),
            "Noted: my name is Grace.",
            "{dialect:?}"
        );
        let events = text_turn(&mut client, "What did I say my name is?").await;
        assert_eq!(
            transcript(&events),
            "You said my name is Grace.",
            "{dialect:?}: the session's own turns are later than its instructions"
        );
    }
}

#[tokio::test]
async fn a_session_limit_is_announced_in_expires_at_then_expires_on_a_raw_socket() {
    use support::{assert_expires_at, next_frame, raw_connect, unix_now, Frame};
    let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config.session_limit = Some(Duration::from_millis(300));
    // Legacy beta: the expiry is checked in both dialects.
    let server = MockServer::builder()
        .respond(config)
        .legacy_beta()
        .start()
        .await
        .unwrap();
    let url = format!("{}/realtime?model=gpt-realtime", server.openai_base_url());
    for headers in [vec![], vec![("OpenAI-Beta", "realtime=v1")]] {
        let before = unix_now();
        let mut socket = raw_connect(&url, &headers).await;
        let Frame::Json(created) = next_frame(&mut socket).await else {
            panic!("session.created first")
        };
        assert_eq!(created["type"], "session.created", "{headers:?}");
        assert_expires_at(&created["session"]["expires_at"], before, 0.3);
        let Frame::Json(error) = next_frame(&mut socket).await else {
            panic!("an error before the close")
        };
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(error["error"]["code"], "session_expired");
        let message = error["error"]["message"].as_str().unwrap().to_owned();
        assert_eq!(
            message,
            "Your session hit the maximum duration of 0.3 seconds."
        );
        match next_frame(&mut socket).await {
            Frame::Close(code, reason) => assert_eq!((code, reason), (1001, message)),
            other => panic!("expected the close, got {other:?}"),
        }
    }
}
