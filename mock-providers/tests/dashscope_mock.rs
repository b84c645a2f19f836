//! The DashScope Qwen-Omni mock over real sockets, driven by the understudy
//! DashScope adapter: VAD and manual turns, images, tools, barge-in, the
//! goodbye, set-up faults, bad input, auth and model routing.

mod support;

use std::time::Duration;
use support::{is_done, transcript, until};
use tokio::time::timeout;
use understudy_adapters::{dashscope, registry};
use understudy_adapters::{
    ClientError, ClientInput, ModelEvent, Pcm, RealtimeClient, ResponseOptions, ResponseStatus,
    SessionConfig, ToolSpec, TurnDetection, WireFrame,
};
use understudy_mock::SetupFault;
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

const FLASH: &str = "qwen3-omni-flash-realtime";
const PLUS: &str = "qwen3.5-omni-plus-realtime";

async fn server_with(fault: Option<SetupFault>) -> MockServer {
    let mut builder = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0);
    if let Some(fault) = fault {
        builder = builder.setup_fault(fault);
    }
    builder.start().await.unwrap()
}

async fn connect(server: &MockServer, model: &str) -> RealtimeClient {
    let options = dashscope::connect_options(server.dashscope_url(), model).api_key("sk-test");
    registry::connect(&options).await.unwrap()
}

fn speech(name: &str) -> Vec<u8> {
    let (pcm, rate) =
        understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
            .unwrap();
    assert_eq!(rate, 16_000, "{name}");
    pcm
}

async fn say(client: &mut RealtimeClient, name: &str, trailing_silence_ms: usize) {
    let mut pcm = speech(name);
    pcm.extend(vec![0u8; 32 * trailing_silence_ms]);
    for chunk in pcm.chunks(3_200) {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(chunk.to_vec()),
                sample_rate: 16_000,
            })
            .await
            .unwrap();
    }
}

async fn configure(client: &mut RealtimeClient, config: SessionConfig) {
    client.send(&ClientInput::Session(config)).await.unwrap();
    until(client, |e| matches!(e, ModelEvent::SessionUpdated { .. })).await;
}

#[tokio::test]
async fn a_vad_turn_is_heard_transcribed_and_answered_at_24k_then_the_session_finishes() {
    let server = server_with(None).await;
    let mut client = connect(&server, FLASH).await;
    let first = until(&mut client, |_| true).await;
    assert!(
        matches!(&first[0], ModelEvent::SessionCreated { input_format: Some(i), .. } if i.sample_rate == 16_000)
    );
    configure(
        &mut client,
        SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            ..Default::default()
        },
    )
    .await;
    say(&mut client, "user-weather-16k.wav", 1_200).await;
    let events = until(&mut client, is_done).await;
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    for wanted in [
        "speech_started",
        "speech_stopped",
        "input_committed",
        "input_transcript_done",
        "audio_delta",
    ] {
        assert!(kinds.contains(&wanted), "{wanted} missing from {kinds:?}");
    }
    assert!(events.iter().any(|e| matches!(e, ModelEvent::InputTranscriptDone { transcript, .. } if transcript == "What is the weather like in Paris today?")));
    assert!(events.iter().all(
        |e| !matches!(e, ModelEvent::AudioDelta { sample_rate, .. } if *sample_rate != 24_000)
    ));
    assert_eq!(
        transcript(&events),
        "You said: What is the weather like in Paris today?"
    );
    client.send(&ClientInput::EndSession).await.unwrap();
    let end = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    assert!(
        matches!(end.last(), Some(ModelEvent::SessionEnded { reason, .. }) if reason == "session finished")
    );
    assert!(
        timeout(Duration::from_secs(5), client.next_event())
            .await
            .unwrap()
            .is_none(),
        "the server closes after session.finished"
    );
    let journal = &server.journal()[0];
    assert_eq!(journal.dialect, "dashscope-omni");
    assert!(journal
        .find(EntryKind::Note, "input_rate.ok")
        .next()
        .is_some());
    assert!(journal
        .find(EntryKind::Server, "response.audio.delta")
        .next()
        .is_some());
    assert!(journal
        .find(EntryKind::Server, "session.finished")
        .next()
        .is_some());
}

#[tokio::test]
async fn a_manual_turn_with_an_image_frame() {
    let server = server_with(None).await;
    let mut client = connect(&server, FLASH).await;
    configure(
        &mut client,
        SessionConfig {
            turn_detection: Some(TurnDetection::Manual),
            ..Default::default()
        },
    )
    .await;
    say(&mut client, "user-order-16k.wav", 200).await;
    let jpeg = Pcm(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']);
    client
        .send(&ClientInput::Image {
            mime_type: "image/jpeg".into(),
            data: jpeg,
        })
        .await
        .unwrap();
    client.send(&ClientInput::CommitAudio).await.unwrap();
    client
        .send(&ClientInput::CreateResponse(ResponseOptions::default()))
        .await
        .unwrap();
    let events = until(&mut client, is_done).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ModelEvent::SpeechStarted { .. })),
        "no VAD in manual mode"
    );
    assert_eq!(
        transcript(&events),
        "You said: Can you check the status of order A seventeen? I see one image."
    );
    assert!(matches!(
        events.last(),
        Some(ModelEvent::ResponseDone {
            status: ResponseStatus::Completed,
            ..
        })
    ));
    // Usage follows the response it counts.
    let usage = until(&mut client, |_| true).await;
    assert!(
        matches!(&usage[0], ModelEvent::Usage { usage: u, .. } if u.output_audio_tokens.is_some()),
        "{usage:?}"
    );
}

#[tokio::test]
async fn a_spoken_question_calls_a_tool_on_the_35_family() {
    let server = server_with(None).await;
    let mut client = connect(&server, PLUS).await;
    let tool = ToolSpec {
        name: "get_weather".into(),
        description: "Weather for a city".into(),
        parameters: serde_json::json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        behavior: None,
    };
    configure(
        &mut client,
        SessionConfig {
            tools: vec![tool],
            turn_detection: Some(TurnDetection::server_vad()),
            ..Default::default()
        },
    )
    .await;
    say(&mut client, "user-weather-16k.wav", 1_200).await;
    let events = until(&mut client, is_done).await;
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
    client
        .send(&ClientInput::CreateResponse(ResponseOptions::default()))
        .await
        .unwrap();
    let events = until(&mut client, is_done).await;
    assert_eq!(transcript(&events), "Here is what I found: sky clear.");
}

#[tokio::test]
async fn speech_during_a_response_interrupts_it() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .start()
        .await
        .unwrap();
    let mut client = connect(&server, FLASH).await;
    configure(
        &mut client,
        SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            ..Default::default()
        },
    )
    .await;
    say(&mut client, "user-weather-16k.wav", 1_200).await;
    until(&mut client, |e| matches!(e, ModelEvent::AudioDelta { .. })).await;
    say(&mut client, "user-interrupt-16k.wav", 1_200).await;
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

#[tokio::test]
async fn set_up_can_fail_three_ways() {
    let server = server_with(Some(SetupFault::Error)).await;
    let mut client = connect(&server, FLASH).await;
    client
        .send(&ClientInput::Session(SessionConfig::default()))
        .await
        .unwrap();
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::Error(_) | ModelEvent::SessionUpdated { .. })
    })
    .await;
    assert!(
        matches!(events.last(), Some(ModelEvent::Error(info)) if info.kind.as_deref() == Some("server_error"))
    );

    let server = server_with(Some(SetupFault::Silent)).await;
    let mut client = connect(&server, FLASH).await;
    until(&mut client, |e| {
        matches!(e, ModelEvent::SessionCreated { .. })
    })
    .await;
    client
        .send(&ClientInput::Session(SessionConfig::default()))
        .await
        .unwrap();
    assert!(
        timeout(Duration::from_millis(800), client.next_event())
            .await
            .is_err(),
        "no answer at all"
    );

    let server = server_with(Some(SetupFault::Close)).await;
    let mut client = connect(&server, FLASH).await;
    client
        .send(&ClientInput::Session(SessionConfig::default()))
        .await
        .unwrap();
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    assert!(matches!(
        events.last(),
        Some(ModelEvent::SessionEnded {
            close_code: Some(1011),
            ..
        })
    ));
    assert!(!events
        .iter()
        .any(|e| matches!(e, ModelEvent::SessionUpdated { .. })));
}

async fn expect_error(client: &mut RealtimeClient, frame: &str, code: &str, param: Option<&str>) {
    client
        .send_frame(WireFrame::Text(frame.into()))
        .await
        .unwrap();
    let events = until(client, |e| matches!(e, ModelEvent::Error(_))).await;
    let Some(ModelEvent::Error(info)) = events.last() else {
        unreachable!()
    };
    assert_eq!(
        (info.code.as_str(), info.param.as_deref()),
        (code, param),
        "{frame}"
    );
    assert_eq!(info.kind.as_deref(), Some("invalid_request_error"));
}

#[tokio::test]
async fn bad_input_gets_dashscope_errors_and_the_session_stays_usable() {
    let server = server_with(None).await;
    let mut client = connect(&server, FLASH).await;
    configure(
        &mut client,
        SessionConfig {
            turn_detection: Some(TurnDetection::Manual),
            ..Default::default()
        },
    )
    .await;
    expect_error(&mut client, "{not json", "invalid_event", None).await;
    expect_error(
        &mut client,
        r#"{"type":"conversation.item.truncate","item_id":"i","content_index":0,"audio_end_ms":5}"#,
        "invalid_value",
        Some("type"),
    )
    .await;
    expect_error(
        &mut client,
        r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}"#,
        "invalid_value",
        Some("item.content"),
    )
    .await;
    expect_error(
        &mut client,
        r#"{"type":"session.update","session":{"modalities":["audio"]}}"#,
        "invalid_value",
        Some("session.modalities"),
    )
    .await;
    // Speech recorded at 24 kHz, labelled 16 kHz: accepted (the service cannot
    // know) but reported in the journal.
    let (pcm24, _) = understudy_fixtures::wav::read_pcm16(
        understudy_fixtures::bundled::audio("user-weather-24k.wav").unwrap(),
    )
    .unwrap();
    for chunk in pcm24.chunks(3_200) {
        client
            .send(&ClientInput::Audio {
                pcm: Pcm(chunk.to_vec()),
                sample_rate: 16_000,
            })
            .await
            .unwrap();
    }
    client.send(&ClientInput::CommitAudio).await.unwrap();
    client
        .send(&ClientInput::CreateResponse(ResponseOptions::default()))
        .await
        .unwrap();
    let events = until(&mut client, is_done).await;
    assert!(
        matches!(
            events.last(),
            Some(ModelEvent::ResponseDone {
                status: ResponseStatus::Completed,
                ..
            })
        ),
        "still usable"
    );
    let journal = &server.journal()[0];
    let note = journal
        .find(EntryKind::Note, "input_rate.suspicious")
        .next()
        .expect("the rate heuristic fired");
    assert!(note.detail.contains("24 kHz"), "{}", note.detail);
    assert_eq!(journal.find(EntryKind::Client, "invalid").count(), 4);
}

#[tokio::test]
async fn a_bad_key_is_refused_at_the_upgrade_with_401() {
    let server = MockServer::builder()
        .require_auth(vec!["sk-good".into()])
        .start()
        .await
        .unwrap();
    let options = dashscope::connect_options(server.dashscope_url(), FLASH).api_key("sk-wrong");
    match registry::connect(&options).await {
        Err(ClientError::Rejected { status, .. }) => assert_eq!(status, 401),
        other => panic!("expected a 401, got {other:?}"),
    }
    let good = dashscope::connect_options(server.dashscope_url(), FLASH).api_key("sk-good");
    assert!(registry::connect(&good).await.is_ok());
}

#[tokio::test]
async fn the_model_routes_the_connection() {
    let server = server_with(None).await;
    let mut client = connect(&server, "qwen-max").await;
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    assert!(
        matches!(
            events.last(),
            Some(ModelEvent::SessionEnded {
                close_code: Some(1008),
                ..
            })
        ),
        "an unknown model is closed on: {events:?}"
    );
    // A TTS model on the same path reaches the Qwen-TTS dialect.
    let _tts = connect(&server, "qwen3-tts-flash-realtime").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let journal = server.journal();
    assert_eq!(journal.last().unwrap().dialect, "dashscope-tts");
}

/// A Qwen-Omni session on a mock whose sessions end after `limit` in `style`.
async fn limited(
    limit: Option<Duration>,
    style: understudy_mock::DashScopeExpiry,
) -> (MockServer, support::Socket, f64) {
    let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config.session_limit = limit;
    config.dashscope_expiry = style;
    let server = MockServer::builder().respond(config).start().await.unwrap();
    let before = support::unix_now();
    let url = format!("{}?model={FLASH}", server.dashscope_url());
    let socket = support::raw_connect(&url, &[("Authorization", "Bearer sk-test")]).await;
    (server, socket, before)
}

/// Reads `session.created` and checks its `expires_at` is `limit` seconds away.
async fn created_expiring_in(socket: &mut support::Socket, before: f64, limit: f64) {
    let support::Frame::Json(created) = support::next_frame(socket).await else {
        panic!("session.created first")
    };
    assert_eq!(created["type"], "session.created");
    support::assert_expires_at(&created["session"]["expires_at"], before, limit);
}

#[tokio::test]
async fn a_session_limit_closes_the_dashscope_way_by_default() {
    use understudy_mock::DashScopeExpiry;
    let (_server, mut socket, before) =
        limited(Some(Duration::from_millis(300)), DashScopeExpiry::Close).await;
    created_expiring_in(&mut socket, before, 0.3).await;
    match support::next_frame(&mut socket).await {
        support::Frame::Close(code, reason) => assert_eq!(
            (code, reason.as_str()),
            (1001, "Session exceeded the maximum duration of 0.3 seconds")
        ),
        other => panic!("expected a close and no event, got {other:?}"),
    }
    // Without a limit, expires_at announces the documented 120 minutes.
    let (_server, mut socket, before) = limited(None, DashScopeExpiry::Close).await;
    created_expiring_in(&mut socket, before, 7_200.0).await;
}

#[tokio::test]
async fn a_session_limit_can_send_a_dashscope_error_before_the_close() {
    use understudy_mock::DashScopeExpiry;
    let (_server, mut socket, before) = limited(
        Some(Duration::from_millis(300)),
        DashScopeExpiry::ErrorThenClose,
    )
    .await;
    created_expiring_in(&mut socket, before, 0.3).await;
    let support::Frame::Json(error) = support::next_frame(&mut socket).await else {
        panic!("an error before the close")
    };
    assert_eq!(error["type"], "error");
    assert!(error["event_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("event_")));
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "session_expired");
    assert_eq!(error["error"]["param"], serde_json::Value::Null);
    match support::next_frame(&mut socket).await {
        support::Frame::Close(code, reason) => {
            assert_eq!(code, 1001);
            assert_eq!(
                format!("{reason}."),
                error["error"]["message"].as_str().unwrap()
            );
        }
        other => panic!("expected the close, got {other:?}"),
    }
}
