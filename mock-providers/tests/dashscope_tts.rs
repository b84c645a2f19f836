//! The Qwen-TTS realtime mock over real sockets, driven by the understudy
//! `QwenTtsRealtime` engine: streamed text in both modes, cancellation, bad
//! settings, bad keys, and the goodbye.

use std::time::Duration;
use tokio::time::timeout;
use understudy_adapters::dashscope::tts::{Mode, QwenTtsRealtime};
use understudy_adapters::registry::{table, ConnectOptions};
use understudy_adapters::tts::{TtsEngine, TtsError, UtteranceOutput};
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

mod support;

use futures_util::SinkExt;
use serde_json::{json, Value};
use support::{next_frame, raw_connect, Frame, Socket};
use tokio_tungstenite::tungstenite::Message;

const MODEL: &str = "qwen3-tts-flash-realtime";

async fn server() -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .start()
        .await
        .unwrap()
}

fn engine(server: &MockServer) -> QwenTtsRealtime {
    QwenTtsRealtime::new(server.dashscope_url())
        .api_key("sk-test")
        .model(MODEL)
}

/// Reads the audio to its end: (bytes, chunks, the error it ended with).
async fn drain(output: &mut UtteranceOutput) -> (usize, usize, Option<TtsError>) {
    let (mut bytes, mut chunks) = (0, 0);
    loop {
        match timeout(Duration::from_secs(10), output.next_chunk())
            .await
            .expect("the utterance ends")
        {
            Some(Ok(chunk)) => {
                assert_eq!(chunk.format.sample_rate, 24_000);
                bytes += chunk.pcm.len();
                chunks += 1;
            }
            Some(Err(error)) => return (bytes, chunks, Some(error)),
            None => return (bytes, chunks, None),
        }
    }
}

#[tokio::test]
async fn streamed_deltas_are_spoken_and_the_session_finishes() {
    let server = server().await;
    let engine = engine(&server);
    assert!(engine.capabilities().incremental_text);
    let mut utterance = engine.start().await.unwrap();
    for delta in ["Hello", " there", ". How are", " you today", "?", " Fine"] {
        utterance.input.push(delta).unwrap();
    }
    utterance.input.finish().unwrap();
    let (bytes, chunks, error) = drain(&mut utterance.output).await;
    assert!(error.is_none(), "{error:?}");
    let text = "Hello there. How are you today? Fine";
    // 60 ms per character at 24 kHz, 2 bytes a sample, per piece the server spoke.
    let expected: usize = ["Hello there.", " How are you today?", " Fine"]
        .iter()
        .map(|piece| (piece.chars().count() as u64 * 60).max(200) as usize * 48)
        .sum();
    assert_eq!(bytes, expected, "{text}: audio for every piece");
    assert!(chunks > 3);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let journal = server.journal();
    let session = journal.last().unwrap();
    assert_eq!(session.dialect, "dashscope-tts");
    assert_eq!(session.find(EntryKind::Note, "tts.response").count(), 3);
    assert!(session.closed, "the server closed after session.finished");
}

#[tokio::test]
async fn commit_mode_speaks_each_push_as_a_unit() {
    let server = server().await;
    let engine = engine(&server).mode(Mode::Commit);
    assert!(!engine.capabilities().incremental_text);
    let mut utterance = engine.start().await.unwrap();
    utterance.input.push("First sentence").unwrap();
    utterance.input.push("Second").unwrap();
    utterance.input.finish().unwrap();
    let (bytes, _, error) = drain(&mut utterance.output).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(bytes, (14 * 60 + 6 * 60) * 48, "one response per push");
}

#[tokio::test]
async fn cancel_stops_the_audio_promptly() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .start()
        .await
        .unwrap();
    let engine = engine(&server);
    let mut utterance = engine.start().await.unwrap();
    utterance
        .input
        .push("This is a rather long sentence that takes a few seconds to speak.")
        .unwrap();
    let first = timeout(Duration::from_secs(5), utterance.output.next_chunk())
        .await
        .unwrap();
    assert!(matches!(first, Some(Ok(_))), "{first:?}");
    utterance.input.cancel().unwrap();
    let (bytes, _, error) = drain(&mut utterance.output).await;
    assert!(error.is_none(), "{error:?}");
    let whole = 65 * 60 * 48;
    assert!(bytes < whole / 2, "{bytes} of {whole} bytes after cancel");
}

#[tokio::test]
async fn bad_settings_and_bad_keys_are_refused_the_providers_way() {
    let server = MockServer::builder()
        .require_auth(vec!["sk-good".into()])
        .start()
        .await
        .unwrap();
    let refused = QwenTtsRealtime::new(server.dashscope_url())
        .api_key("sk-bad")
        .model(MODEL)
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(refused, TtsError::Http { status: 401, .. }),
        "{refused:?}"
    );

    let bad_rate = QwenTtsRealtime::new(server.dashscope_url())
        .connect_options(
            ConnectOptions::new(&table::DASHSCOPE_TTS, server.dashscope_url(), MODEL)
                .api_key("sk-good"),
        )
        .sample_rate(11_025)
        .start()
        .await
        .unwrap_err();
    match bad_rate {
        TtsError::Provider { code, message } => {
            assert_eq!(code, "invalid_value");
            assert!(message.contains("sample_rate"), "{message}");
        }
        other => panic!("expected the provider's error, got {other:?}"),
    }
    // The server keeps serving.
    let good = QwenTtsRealtime::new(server.dashscope_url())
        .api_key("sk-good")
        .model(MODEL);
    let mut utterance = good.start().await.unwrap();
    utterance.input.push("Still here.").unwrap();
    utterance.input.finish().unwrap();
    let (bytes, _, error) = drain(&mut utterance.output).await;
    assert!(error.is_none() && bytes > 0, "{error:?}");
}

async fn send(socket: &mut Socket, event: Value) {
    socket
        .send(Message::Text(event.to_string().into()))
        .await
        .unwrap();
}

/// Every JSON event up to the server's close, and the close.
async fn to_close(socket: &mut Socket) -> (Vec<Value>, (u16, String)) {
    let mut events = Vec::new();
    loop {
        match next_frame(socket).await {
            Frame::Json(event) => events.push(event),
            Frame::Close(code, reason) => return (events, (code, reason)),
        }
    }
}

fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["type"] == kind).count()
}

#[tokio::test]
async fn agentscopes_flow_append_commit_finish_has_no_error() {
    // AgentScope's DashScopeRealtimeTTSModel: `update_session(voice,
    // mode="server_commit")`, the LLM's deltas as they come, then at the end
    // of the text block `commit()` and `finish()` at once.
    let server = server().await;
    let url = format!("{}?model={MODEL}", server.dashscope_url());
    for text in [
        vec!["Hello", " there, this is", " a test."],
        vec!["Two sentences. ", "The second", " has no end"],
    ] {
        let mut socket = raw_connect(&url, &[("authorization", "Bearer sk-test")]).await;
        send(
            &mut socket,
            json!({"event_id": "event_1", "type": "session.update",
                   "session": {"voice": "Cherry", "mode": "server_commit"}}),
        )
        .await;
        for (n, delta) in text.iter().enumerate() {
            send(
                &mut socket,
                json!({"event_id": format!("event_a{n}"), "type": "input_text_buffer.append", "text": delta}),
            )
            .await;
        }
        send(
            &mut socket,
            json!({"event_id": "event_c", "type": "input_text_buffer.commit"}),
        )
        .await;
        send(
            &mut socket,
            json!({"event_id": "event_f", "type": "session.finish"}),
        )
        .await;
        let (events, close) = to_close(&mut socket).await;
        let errors: Vec<&Value> = events.iter().filter(|e| e["type"] == "error").collect();
        assert!(errors.is_empty(), "{text:?}: {errors:?}");
        assert_eq!(count(&events, "input_text_buffer.committed"), 1, "{text:?}");
        assert!(count(&events, "response.done") >= 1, "{text:?}");
        assert_eq!(
            events.last().unwrap()["type"],
            "session.finished",
            "{text:?}"
        );
        assert_eq!(close.0, 1000);
    }

    // A commit on a buffer that was never filled is still refused.
    let mut socket = raw_connect(&url, &[("authorization", "Bearer sk-test")]).await;
    assert!(
        matches!(next_frame(&mut socket).await, Frame::Json(e) if e["type"] == "session.created")
    );
    send(
        &mut socket,
        json!({"event_id": "event_c", "type": "input_text_buffer.commit"}),
    )
    .await;
    match next_frame(&mut socket).await {
        Frame::Json(event) => {
            assert_eq!(event["type"], "error", "{event}");
            assert_eq!(event["error"]["code"], "input_text_buffer_commit_empty");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

// ---- faults and limits reach Qwen-TTS sessions too --------------------------------

/// A raw TTS session: connect with `headers`, send the SDK's `session.update`,
/// read to the close.
async fn tts_session(
    server: &MockServer,
    headers: &[(&'static str, &str)],
) -> (Vec<Value>, (u16, String)) {
    let url = format!("{}?model={MODEL}", server.dashscope_url());
    let mut all = vec![("authorization", "Bearer sk-test")];
    all.extend_from_slice(headers);
    let mut socket = raw_connect(&url, &all).await;
    send(
        &mut socket,
        json!({"event_id": "event_1", "type": "session.update",
               "session": {"voice": "Cherry", "mode": "server_commit"}}),
    )
    .await;
    to_close_or_quiet(&mut socket).await
}

/// Like [`to_close`], but a session that goes quiet for 1.5 s ends the read
/// (reported as close 0).
async fn to_close_or_quiet(socket: &mut Socket) -> (Vec<Value>, (u16, String)) {
    let mut events = Vec::new();
    loop {
        match timeout(Duration::from_millis(1500), next_frame(socket)).await {
            Ok(Frame::Json(event)) => events.push(event),
            Ok(Frame::Close(code, reason)) => return (events, (code, reason)),
            Err(_) => return (events, (0, String::new())),
        }
    }
}

#[tokio::test]
async fn setup_faults_reach_tts_sessions_by_header_and_by_default() {
    let server = server().await;
    let (events, _) = tts_session(&server, &[("x-understudy-fault", "setup-error")]).await;
    assert_eq!(count(&events, "session.updated"), 0, "{events:?}");
    let error = events
        .iter()
        .find(|e| e["type"] == "error")
        .expect("an error");
    assert_eq!(error["error"]["code"], "internal_error");
    let (events, close) = tts_session(&server, &[("x-understudy-fault", "setup-close")]).await;
    assert_eq!(count(&events, "session.updated"), 0, "{events:?}");
    assert_eq!(close.0, 1011);
    let (events, close) = tts_session(&server, &[("x-understudy-fault", "setup-silent")]).await;
    assert_eq!(count(&events, "session.updated"), 0, "{events:?}");
    assert_eq!(close.0, 0, "no answer, no close");
    // Without the header the session is set up.
    let (events, _) = tts_session(&server, &[]).await;
    assert_eq!(count(&events, "session.updated"), 1, "{events:?}");

    // `--fault` (the builder's setup_fault) applies to every TTS session.
    let faulty = MockServer::builder()
        .setup_fault(understudy_mock::SetupFault::Close)
        .start()
        .await
        .unwrap();
    let (_, close) = tts_session(&faulty, &[]).await;
    assert_eq!(close.0, 1011);
}

#[tokio::test]
async fn an_unknown_fault_name_is_refused_with_http_400_naming_the_faults() {
    let server = server().await;
    for model in [MODEL, "qwen3-omni-flash-realtime"] {
        let url = format!("{}?model={model}", server.dashscope_url());
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", "Bearer sk-test".parse().unwrap());
        request
            .headers_mut()
            .insert("x-understudy-fault", "setup-boom".parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{model}");
                let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned();
                assert!(body.contains("setup-boom"), "{model}: {body}");
                assert!(
                    body.contains("setup-error, setup-silent, setup-close"),
                    "{model}: {body}"
                );
            }
            Err(other) => panic!("{model}: expected HTTP 400, got {other}"),
            Ok(_) => panic!("{model}: an unknown fault was accepted"),
        }
    }
}

#[tokio::test]
async fn the_session_limit_ends_tts_sessions_the_dashscope_way() {
    let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config.session_limit = Some(Duration::from_millis(300));
    let server = MockServer::builder().respond(config).start().await.unwrap();
    let started = std::time::Instant::now();
    let (events, (code, reason)) = tts_session(&server, &[]).await;
    assert_eq!(count(&events, "session.updated"), 1, "{events:?}");
    assert_eq!(code, 1001, "{reason}");
    assert!(
        reason.contains("maximum duration of 0.3 seconds"),
        "{reason}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_speed_that_is_not_positive_and_finite_is_refused_by_the_builder() {
    for speed in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        let error = MockServer::builder().speed(speed).start().await.err();
        assert!(
            matches!(error, Some(understudy_mock::MockError::InvalidSpeed(_))),
            "{speed}: {error:?}"
        );
    }
}
