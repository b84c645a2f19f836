//! The Gemini TTS adapter against wiremock over real sockets: both methods,
//! the key header, the request shape, rates from MIME types, and errors.

use super::*;
use crate::tts::AudioChunk;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MODEL_PATH: &str = "/v1beta/models/gemini-2.5-flash-preview-tts";

fn pcm(samples: usize, seed: i16) -> Vec<u8> {
    (0..samples as i16)
        .flat_map(|s| s.wrapping_mul(seed).to_le_bytes())
        .collect()
}

fn answer(audio: &[u8], rate: u32, last: bool) -> serde_json::Value {
    let mut candidate = json!({"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": format!("audio/L16;codec=pcm;rate={rate}"), "data": STANDARD.encode(audio)}}]},
        "index": 0});
    let mut body = json!({"candidates": [], "modelVersion": "gemini-2.5-flash-preview-tts", "responseId": "r1"});
    if last {
        candidate["finishReason"] = json!("STOP");
        body["usageMetadata"] =
            json!({"promptTokenCount": 4, "candidatesTokenCount": 50, "totalTokenCount": 54});
    }
    body["candidates"] = json!([candidate]);
    body
}

async fn speak(engine: &GeminiTts, text: &str) -> (Vec<AudioChunk>, Option<TtsError>) {
    let mut utterance = engine.start().await.unwrap();
    utterance.input.push(text).unwrap();
    utterance.input.finish().unwrap();
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
async fn generate_content_sends_the_documented_request_and_reads_the_rate_from_the_mime_type() {
    let server = MockServer::start().await;
    let audio = pcm(1_000, 3);
    Mock::given(method("POST"))
        .and(path(format!("{MODEL_PATH}:generateContent")))
        .and(header("x-goog-api-key", "understudy-test-key"))
        .and(body_json(json!({"contents": [{"role": "user", "parts": [{"text": "Say calmly: the meeting moved to noon."}]}],
            "generationConfig": {"responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}, "languageCode": "en-US"}}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer(&audio, 16_000, true)))
        .expect(1)
        .mount(&server)
        .await;
    let engine = GeminiTts::builder()
        .base_url(server.uri())
        .api_key("understudy-test-key")
        .voice("Puck")
        .language_code("en-US")
        .style("Say calmly")
        .method(GeminiMethod::Generate)
        .build()
        .unwrap();
    let (chunks, error) = speak(&engine, "the meeting moved to noon.").await;
    assert_eq!(error, None);
    assert_eq!(joined(&chunks), audio);
    assert!(chunks
        .iter()
        .all(|c| c.format == AudioFormat::pcm16(16_000)));
}

#[tokio::test]
async fn stream_generate_content_reads_every_sse_event_in_order() {
    let server = MockServer::start().await;
    let parts = [pcm(500, 1), pcm(700, 2), pcm(300, 3)];
    let body: String = parts
        .iter()
        .enumerate()
        .map(|(i, p)| format!("data: {}\r\n\r\n", answer(p, 24_000, i == parts.len() - 1)))
        .collect();
    Mock::given(method("POST"))
        .and(path(format!("{MODEL_PATH}:streamGenerateContent")))
        .and(query_param("alt", "sse"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(body)
                .insert_header("content-type", "text/event-stream"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let engine = GeminiTts::builder()
        .base_url(format!("{}/", server.uri()))
        .api_key("k")
        .build()
        .unwrap();
    assert!(engine.url().ends_with(":streamGenerateContent?alt=sse"));
    let (chunks, error) = speak(&engine, "hello").await;
    assert_eq!(error, None);
    assert_eq!(chunks.len(), 3);
    assert_eq!(joined(&chunks), parts.concat());
}

#[tokio::test]
async fn googles_error_envelope_becomes_an_http_error() {
    let server = MockServer::start().await;
    let envelope = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(envelope))
        .mount(&server)
        .await;
    let engine = GeminiTts::builder()
        .base_url(server.uri())
        .api_key("bad")
        .build()
        .unwrap();
    let (_, error) = speak(&engine, "hello").await;
    match error {
        Some(TtsError::Http { status: 400, body }) => {
            let parsed: wire::ErrorEnvelope = serde_json::from_str(&body).unwrap();
            assert_eq!(parsed.error.status, "INVALID_ARGUMENT");
            assert!(parsed.error.message.starts_with("API key not valid"));
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_model_is_a_404_and_a_text_only_answer_is_a_provider_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/nope:generateContent"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": {"code": 404,
            "message": "models/nope is not found for API version v1beta", "status": "NOT_FOUND"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{MODEL_PATH}:generateContent")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"candidates": [{"content": {"role": "model",
            "parts": [{"text": "Sorry"}]}, "finishReason": "OTHER"}]})),
        )
        .mount(&server)
        .await;
    let missing = GeminiTts::builder()
        .base_url(server.uri())
        .model("nope")
        .method(GeminiMethod::Generate)
        .build()
        .unwrap();
    assert!(matches!(
        speak(&missing, "x").await.1,
        Some(TtsError::Http { status: 404, .. })
    ));
    let text_only = GeminiTts::builder()
        .base_url(server.uri())
        .method(GeminiMethod::Generate)
        .build()
        .unwrap();
    assert!(
        matches!(speak(&text_only, "x").await.1, Some(TtsError::Provider { code, .. }) if code == "OTHER")
    );
}
