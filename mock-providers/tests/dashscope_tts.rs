//! The Qwen-TTS realtime mock over real sockets, driven by the understudy
//! `QwenTtsRealtime` engine: streamed text in both modes, cancellation, bad
//! settings, bad keys, and the goodbye.

use std::time::Duration;
use tokio::time::timeout;
use understudy_adapters::dashscope::tts::{Mode, QwenTtsRealtime};
use understudy_adapters::dashscope::ConnectOptions;
use understudy_adapters::tts::{TtsEngine, TtsError, UtteranceOutput};
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

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
        .connect_options(ConnectOptions::new(server.dashscope_url(), MODEL).api_key("sk-good"))
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
