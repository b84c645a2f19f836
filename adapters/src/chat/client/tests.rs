//! The client over real sockets against `wiremock`.

use super::*;
use crate::chat::chunk::FinishReason;
use crate::chat::decode::tests::{
    dashscope_audio_stream, openai_audio_stream, text_stream, tool_stream,
};
use crate::chat::request::{Message, Tool};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream; charset=utf-8")
        .set_body_string(body)
}

fn client(server: &MockServer, base: &str) -> ChatClient {
    ChatClient::builder()
        .base_url(format!("{}{base}", server.uri()))
        .api_key("sk-test-key")
        .model("gpt-4o-mini")
        .header("OpenAI-Project", "proj_1")
        .build()
        .unwrap()
}

#[tokio::test]
async fn plain_text_stream_sends_the_sdk_shaped_request_and_times_the_first_delta() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test-key"))
        .and(header("openai-project", "proj_1"))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]})))
        .respond_with(sse(text_stream()).set_delay(Duration::from_millis(120)))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, "/v1/");
    assert_eq!(client.dialect(), ChatDialect::OpenAi);
    let stream = client
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap();
    let answer = stream.collect_answer().await.unwrap();
    assert_eq!(answer.text, "Good morning.");
    assert_eq!(answer.finish_reason, Some(FinishReason::Stop));
    assert_eq!(answer.usage.as_ref().unwrap().total_tokens, Some(15));
    let ttfd = answer.time_to_first_delta().unwrap();
    assert!(ttfd >= Duration::from_millis(120), "{ttfd:?}");
}

#[tokio::test]
async fn tool_call_stream_is_assembled() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"tools": [{"type": "function", "function": {"name": "lookup_city"}}]}),
        ))
        .respond_with(sse(tool_stream()))
        .mount(&server)
        .await;
    let request = ChatRequest::new("", vec![Message::user("Where is Lyon?")]).with_tools(vec![
        Tool::function("lookup_city", "Find a city", json!({"type": "object"})),
    ]);
    let answer = client(&server, "/v1")
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(
        answer.tool_calls,
        vec![
            (
                "call_Hq2".into(),
                "lookup_city".into(),
                r#"{"name":"Lyon"}"#.into()
            ),
            ("call_Hq3".into(), "local_time".into(), "{}".into()),
        ]
    );
    assert_eq!(answer.finish_reason, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn openai_audio_stream_forces_pcm16_and_decodes_pcm() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "pcm16"}})))
        .respond_with(sse(openai_audio_stream()))
        .mount(&server)
        .await;
    let request = ChatRequest::new("gpt-audio-mini", vec![Message::user("Say hello")])
        .with_audio("alloy", "wav")
        .with_usage();
    let answer = client(&server, "/v1")
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.transcript, "Hello from the mock!");
    assert_eq!(answer.text, "");
    assert_eq!(answer.pcm.len(), 20);
    assert_eq!(
        answer.format,
        Some(crate::audio::AudioFormat::pcm16(24_000))
    );
    assert_eq!(answer.audio.unwrap().expires_at, Some(1767229200));
}

#[tokio::test]
async fn dashscope_base_url_picks_the_dialect_and_its_rules() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/compatible-mode/v1/chat/completions"))
        .and(body_partial_json(
            json!({"stream": true, "audio": {"voice": "Cherry", "format": "wav"}}),
        ))
        .respond_with(sse(dashscope_audio_stream()))
        .mount(&server)
        .await;
    let client = client(&server, "/compatible-mode/v1");
    assert_eq!(client.dialect(), ChatDialect::DashScope);
    let request = ChatRequest::new("qwen3-omni-flash", vec![Message::user("Time?")])
        .with_audio("Cherry", "pcm16");
    let answer = client
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.transcript, "Sure, it is ten past three.");
    assert_eq!(answer.pcm.len(), 12);
    assert_eq!(answer.usage.unwrap().output_audio_tokens, Some(83));
}

#[tokio::test]
async fn error_statuses_map_the_envelope_and_only_retryable_ones_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error":{"message":"Incorrect API key provided: sk-te***ey.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server, "/v1")
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(401));
    let api = error.api_error().unwrap();
    assert_eq!(api.code.as_deref(), Some("invalid_api_key"));
    assert!(
        error.to_string().contains("Incorrect API key provided"),
        "{error}"
    );
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_requested_wait() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-stainless-retry-count", "0"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "50")
                .set_body_json(json!({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("x-stainless-retry-count", "1"))
        .respond_with(sse(text_stream()))
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server, "/v1")
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.text, "Good morning.");
}

#[tokio::test]
async fn a_dashscope_429_that_must_not_be_retried_and_a_non_json_500() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/compatible-mode/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-should-retry", "false")
                .set_body_json(json!({"error":{"message":"You have exceeded your current request limit.","type":"limit_requests","param":null,"code":"limit_requests"},"request_id":"0e2b"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server, "/compatible-mode/v1")
        .stream(ChatRequest::new(
            "qwen-omni-turbo",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ChatError::Api { request_id: Some(r), dialect: ChatDialect::DashScope, .. } if r == "0e2b"),
        "{error:?}"
    );
    let no_retry = ChatClient::builder()
        .base_url(format!("{}/v1", server.uri()))
        .model("m")
        .max_retries(0)
        .build()
        .unwrap();
    let error = no_retry
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ChatError::Http {
            status: 502,
            body: "<html>bad gateway</html>".into()
        }
    );
}

#[tokio::test]
async fn garbage_chunks_end_the_stream_with_a_clear_error() {
    let server = MockServer::start().await;
    let garbage = format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"ok\"}}}}]}}\n\ndata: {{\"choices\": [{{\"delta\": 17\n\n{}",
        text_stream()
    );
    Mock::given(method("POST"))
        .respond_with(sse(garbage))
        .mount(&server)
        .await;
    let mut stream = client(&server, "/v1")
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    let last = items.pop().unwrap();
    assert!(matches!(last, Err(ChatError::Decode { .. })), "{last:?}");
    assert!(items.iter().all(Result::is_ok));
    assert!(items
        .iter()
        .any(|i| matches!(i, Ok(TimedChatEvent { event: ChatEvent::TextDelta { text, .. }, .. }) if text == "ok")));
}

#[tokio::test]
async fn a_body_cut_before_the_answer_finished_is_truncated() {
    let server = MockServer::start().await;
    let whole = text_stream();
    let cut = whole[..whole.find("\"stop\"").unwrap()].to_owned();
    Mock::given(method("POST"))
        .respond_with(sse(cut))
        .mount(&server)
        .await;
    let error = client(&server, "/v1")
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap_err();
    assert_eq!(error, ChatError::Truncated);
}

#[tokio::test]
async fn bad_configuration_and_unreachable_servers_are_errors() {
    assert!(matches!(
        ChatClient::builder().build(),
        Err(ChatError::Config(_))
    ));
    assert!(matches!(
        ChatClient::builder().base_url("ftp://x").build(),
        Err(ChatError::Config(_))
    ));
    assert!(matches!(
        ChatClient::builder()
            .base_url("http://x")
            .header("bad header", "v")
            .build(),
        Err(ChatError::Config(_))
    ));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = ChatClient::builder()
        .base_url(format!("http://{addr}/v1"))
        .model("m")
        .max_retries(0)
        .build()
        .unwrap();
    let error = client
        .stream(ChatRequest::new("", vec![Message::user("Hi")]))
        .await
        .unwrap_err();
    assert!(matches!(error, ChatError::Transport(_)), "{error:?}");
    let no_model = ChatClient::builder()
        .base_url("http://x/v1")
        .build()
        .unwrap();
    assert!(matches!(
        no_model.stream(ChatRequest::new("", vec![])).await,
        Err(ChatError::InvalidRequest(_))
    ));
}
