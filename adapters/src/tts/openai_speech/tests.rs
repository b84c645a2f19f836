//! The OpenAI speech adapter against servers over real sockets: wiremock for
//! whole bodies (pcm, wav, SSE, errors, several units), a scripted chunked
//! server for streaming, timing and cancel.

use super::*;
use crate::tts::pcm_stream::wav_header;
use crate::tts::test_server::{self, Seen, Step};
use crate::tts::{AudioChunk, Utterance};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn pcm(samples: usize, seed: i16) -> Vec<u8> {
    (0..samples as i16)
        .flat_map(|s| s.wrapping_mul(seed).to_le_bytes())
        .collect()
}

fn engine(base: &str) -> OpenAiSpeechBuilder {
    OpenAiSpeech::builder()
        .base_url(base)
        .api_key("sk-test-understudy")
}

async fn speak(engine: &OpenAiSpeech, units: &[&str]) -> (Vec<AudioChunk>, Option<TtsError>) {
    let mut utterance = engine.start().await.unwrap();
    for unit in units {
        utterance.input.push(*unit).unwrap();
    }
    utterance.input.finish().unwrap();
    drain(&mut utterance).await
}

async fn drain(utterance: &mut Utterance) -> (Vec<AudioChunk>, Option<TtsError>) {
    let mut chunks = Vec::new();
    while let Some(item) = utterance.output.next_chunk().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

fn joined(chunks: &[AudioChunk]) -> Vec<u8> {
    chunks
        .iter()
        .flat_map(|c| c.pcm.0.iter().copied())
        .collect()
}

#[tokio::test]
async fn a_plain_pcm_body_is_24k_audio_and_the_request_is_the_captured_shape() {
    let server = MockServer::start().await;
    let audio = pcm(4_800, 3);
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .and(header("authorization", "Bearer sk-test-understudy"))
        .and(body_json(json!({"model":"gpt-4o-mini-tts","input":"hello","voice":"alloy","response_format":"pcm"})))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "audio/pcm").set_body_bytes(audio.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let engine = engine(&format!("{}/v1", server.uri())).build().unwrap();
    let (chunks, error) = speak(&engine, &["hello"]).await;
    assert_eq!(error, None);
    assert_eq!(joined(&chunks), audio);
    assert!(chunks
        .iter()
        .all(|c| c.format == AudioFormat::pcm16(24_000)));
    assert!(!engine.capabilities().incremental_text);
}

#[tokio::test]
async fn a_wav_body_with_placeholder_sizes_gives_its_rate_and_loses_its_header() {
    let server = MockServer::start().await;
    let audio = pcm(1_600, 5);
    let mut file = wav_header(16_000, None);
    file.extend(&audio);
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "audio/wav")
                .set_body_bytes(file),
        )
        .mount(&server)
        .await;
    let engine = engine(&format!("{}/v1", server.uri()))
        .format(SpeechFormat::Wav)
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &["hi"]).await;
    assert_eq!(error, None);
    assert_eq!(joined(&chunks), audio);
    assert!(chunks.iter().all(|c| c.format.sample_rate == 16_000));
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["response_format"], "wav");
}

#[tokio::test]
async fn sse_deltas_are_decoded_and_the_request_asks_for_sse() {
    let server = MockServer::start().await;
    let audio = pcm(2_000, 7);
    let (a, b) = audio.split_at(1_001); // an odd cut: a sample spans two deltas
    let body = format!(
        "data: {}\n\ndata: {}\n\ndata: {}\n\n",
        json!({"type":"speech.audio.delta","audio":STANDARD.encode(a)}),
        json!({"type":"speech.audio.delta","audio":STANDARD.encode(b)}),
        json!({"type":"speech.audio.done","usage":{"input_tokens":3,"output_tokens":40,"total_tokens":43}})
    );
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(body)
                .insert_header("content-type", "text/event-stream"),
        )
        .mount(&server)
        .await;
    let engine = engine(&format!("{}/v1", server.uri()))
        .streaming(SpeechStreaming::Sse)
        .voice("coral")
        .instructions("Cheerful")
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &["Hello there"]).await;
    assert_eq!(error, None);
    assert_eq!(joined(&chunks), audio);
    assert!(chunks.iter().all(|c| c.pcm.len() % 2 == 0));
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["stream_format"], "sse");
    assert_eq!(sent["voice"], "coral");
    assert_eq!(sent["instructions"], "Cheerful");
}

#[tokio::test]
async fn an_error_envelope_becomes_an_http_error_with_the_message() {
    let server = MockServer::start().await;
    let envelope = json!({"error": {"message": "Incorrect API key provided: sk-te***.", "type": "invalid_request_error",
        "param": null, "code": "invalid_api_key"}});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(envelope))
        .mount(&server)
        .await;
    let engine = engine(&format!("{}/v1", server.uri())).build().unwrap();
    let (chunks, error) = speak(&engine, &["hello", "never sent"]).await;
    assert!(chunks.is_empty());
    match error {
        Some(TtsError::Http { status: 401, body }) => {
            let parsed: wire::ErrorEnvelope = serde_json::from_str(&body).unwrap();
            assert_eq!(parsed.error.code.as_deref(), Some("invalid_api_key"));
            assert!(parsed.error.message.starts_with("Incorrect API key"));
        }
        other => panic!("expected HTTP 401, got {other:?}"),
    }
    // The second unit's request was never sent: the utterance ended at the error.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn units_are_requested_in_order_and_their_audio_arrives_in_order() {
    let server = MockServer::start().await;
    for (text, seed, delay) in [("one", 1i16, 150u64), ("two", 2, 0), ("three", 3, 0)] {
        Mock::given(method("POST"))
            .and(wiremock::matchers::body_partial_json(
                json!({"input": text}),
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "audio/pcm")
                    .set_body_bytes(pcm(100, seed))
                    .set_delay(Duration::from_millis(delay)),
            )
            .mount(&server)
            .await;
    }
    let engine = engine(&format!("{}/v1", server.uri()))
        .prefetch(2)
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, &["one", "two", "three"]).await;
    assert_eq!(error, None);
    let expected: Vec<u8> = [1, 2, 3].iter().flat_map(|s| pcm(100, *s)).collect();
    assert_eq!(joined(&chunks), expected);
    let inputs: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.body_json::<serde_json::Value>().unwrap()["input"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(inputs, vec!["one", "two", "three"]);
}

#[tokio::test]
async fn a_chunked_body_is_played_as_it_arrives_even_when_cut_mid_sample() {
    let audio = pcm(2_400, 11);
    let (base, mut seen) = test_server::serve(
        "200 OK",
        "audio/pcm",
        vec![
            Step::Chunk(audio[..301].to_vec()),
            Step::Pause(Duration::from_millis(300)),
            Step::Chunk(audio[301..].to_vec()),
        ],
    )
    .await;
    let engine = engine(&format!("{base}/v1")).build().unwrap();
    let mut utterance = engine.start().await.unwrap();
    utterance.input.push("stream me").unwrap();
    utterance.input.finish().unwrap();
    let first = utterance.output.next_chunk().await.unwrap().unwrap();
    assert_eq!(
        first.pcm.0,
        audio[..300],
        "whole samples only; the odd byte waits"
    );
    // The first audio was in hand before the server sent the rest.
    let mut early = Vec::new();
    while let Ok(event) = seen.try_recv() {
        early.push(event);
    }
    assert!(
        !early.iter().any(|e| matches!(e, Seen::Sent(2))),
        "audio was delivered as it arrived, not after the body: {early:?}"
    );
    let (rest, error) = drain(&mut utterance).await;
    assert_eq!(error, None);
    let mut all = first.pcm.0.clone();
    all.extend(joined(&rest));
    assert_eq!(all, audio);
    assert!(rest[0].received_at.duration_since(first.received_at) >= Duration::from_millis(250));
    match early.into_iter().next() {
        Some(Seen::Request { head, body }) => {
            assert!(head.starts_with("POST /v1/audio/speech HTTP/1.1"));
            assert!(head
                .to_ascii_lowercase()
                .contains("authorization: bearer sk-test-understudy"));
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["input"], "stream me");
        }
        other => panic!("expected the request first, got {other:?}"),
    }
}

#[tokio::test]
async fn cancel_mid_stream_ends_the_audio_and_hangs_up_on_the_server() {
    let (base, mut seen) = test_server::serve(
        "200 OK",
        "audio/pcm",
        vec![Step::Chunk(pcm(480, 2)), Step::Stall],
    )
    .await;
    let engine = engine(&format!("{base}/v1")).build().unwrap();
    let mut utterance = engine.start().await.unwrap();
    utterance
        .input
        .push("a long text that will be cut off")
        .unwrap();
    utterance.input.push("and a second unit").unwrap();
    let first = utterance.output.next_chunk().await.unwrap().unwrap();
    assert_eq!(first.pcm.len(), 960);
    let asked = Instant::now();
    utterance.input.cancel().unwrap();
    let end = tokio::time::timeout(Duration::from_millis(500), utterance.output.next_chunk())
        .await
        .expect("cancel is prompt");
    assert_eq!(end, None);
    assert!(asked.elapsed() < Duration::from_millis(500));
    // The server sees the connection closed.
    let hung_up = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(event) = seen.recv().await {
            if matches!(event, Seen::ClientHungUp) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(hung_up, Ok(true));
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let engine = engine(&format!("http://{addr}/v1")).build().unwrap();
    let (_, error) = speak(&engine, &["hello"]).await;
    assert!(matches!(error, Some(TtsError::Transport(_))), "{error:?}");
}
