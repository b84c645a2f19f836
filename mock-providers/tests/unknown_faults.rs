//! `X-Understudy-Fault` with a name the mock does not know is refused with
//! HTTP 400 naming the faults it knows, on every route that takes the header
//! (DashScope realtime: `dashscope_tts.rs`); a known name still works.

use serde_json::{json, Value};
use understudy_adapters::tts::http::reqwest;
use understudy_mock::MockServer;

/// POSTs `body` to `path` with the fault header; the status and JSON body.
async fn post(server: &MockServer, path: &str, fault: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.url()))
        .header("authorization", "Bearer sk-test")
        .header("x-goog-api-key", "test-key")
        .header("x-understudy-fault", fault)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn http_routes_refuse_an_unknown_fault_and_name_the_known_ones() {
    let server = MockServer::builder().start().await.unwrap();
    let speech = json!({"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "Hi.", "response_format": "pcm"});
    let gemini = json!({"contents": [{"parts": [{"text": "Hi."}]}],
                        "generationConfig": {"responseModalities": ["AUDIO"]}});
    let chat = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]});
    let cases = [
        (
            "/v1/audio/speech",
            speech,
            "rate-limit, server-error, drop-mid-stream",
        ),
        (
            "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent",
            gemini,
            "rate-limit, server-error, drop-mid-stream",
        ),
        (
            "/v1/chat/completions",
            chat,
            "midstream-error, truncate, rate-limit",
        ),
    ];
    for (path, body, names) in cases {
        let (status, answer) = post(&server, path, "setup-boom", body.clone()).await;
        assert_eq!(status, 400, "{path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("setup-boom"), "{path}: {answer}");
        assert!(message.contains(names), "{path}: {answer}");
        // A known fault is still applied.
        let (status, answer) = post(&server, path, "rate-limit", body).await;
        assert_eq!(status, 429, "{path}: {answer}");
    }
}
