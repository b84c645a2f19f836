//! The chat route over real sockets: the toolkit's own client, and raw HTTP
//! for what the client would never send.

use crate::{EntryKind, MockServer};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use understudy_adapters::chat::{
    ChatClient, ChatError, ChatRequest, ContentPart, FinishReason, Message, Tool, ToolCall,
};
use understudy_adapters::tts::http::reqwest;

fn client(server: &MockServer, base: &str, key: &str) -> ChatClient {
    ChatClient::builder()
        .base_url(format!("{}{base}", server.url()))
        .api_key(key)
        .max_retries(0)
        .build()
        .unwrap()
}

/// A minimal HTTP/1.1 POST: status and (de-chunked) body.
async fn raw_post(server: &MockServer, path: &str, extra: &str, body: &str) -> (u16, String) {
    let mut socket = tokio::net::TcpStream::connect(server.address())
        .await
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, mut rest) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let mut body = String::new();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            body.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
    } else {
        body = rest.to_owned();
    }
    (status, body)
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn text_stream_echoes_after_the_configured_first_token_delay() {
    let server = MockServer::start().await.unwrap();
    let client = ChatClient::builder()
        .base_url(format!("{}/v1", server.url()))
        .header("x-understudy-first-token-ms", "150")
        .build()
        .unwrap();
    let request = ChatRequest::new(
        "gpt-4o-mini",
        vec![Message::system("Be brief."), Message::user("Hello there")],
    )
    .with_usage();
    let answer = client
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.text, "You said: Hello there");
    assert_eq!(answer.finish_reason, Some(FinishReason::Stop));
    assert!(answer.usage.clone().unwrap().total_tokens.unwrap() > 0);
    let ttfd = answer.time_to_first_delta().unwrap();
    assert!(
        ttfd >= Duration::from_millis(150) && ttfd < Duration::from_secs(2),
        "{ttfd:?}"
    );
    let journal = server.journal();
    let session = journal.iter().find(|s| s.dialect == "openai-chat").unwrap();
    assert_eq!(session.model, "gpt-4o-mini");
    assert_eq!(
        session.find(EntryKind::Client, "chat.completions").count(),
        1
    );
    assert_eq!(session.find(EntryKind::Server, "[DONE]").count(), 1);
}

#[tokio::test]
async fn a_tool_round_trip() {
    let server = MockServer::start().await.unwrap();
    let client = client(&server, "/v1", "sk-any");
    let mut messages = vec![Message::user("What is the weather like in Paris today?")];
    let request =
        ChatRequest::new("gpt-4o-mini", messages.clone()).with_tools(vec![weather_tool()]);
    let answer = client
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.finish_reason, Some(FinishReason::ToolCalls));
    let (call_id, name, arguments) = answer.tool_calls[0].clone();
    assert_eq!(
        (name.as_str(), arguments.as_str()),
        ("get_weather", r#"{"city":"Paris"}"#)
    );
    assert!(call_id.starts_with("call_"));
    messages.push(Message::assistant_tool_calls(vec![ToolCall::function(
        &call_id, &name, &arguments,
    )]));
    messages.push(Message::tool(
        &call_id,
        r#"{"sky":"clear","temperature":"18C"}"#,
    ));
    let request = ChatRequest::new("gpt-4o-mini", messages).with_tools(vec![weather_tool()]);
    let answer = client
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(
        answer.text,
        "Here is what I found: sky clear, temperature 18C."
    );
}

#[tokio::test]
async fn openai_audio_is_the_bundled_voice_with_its_transcript() {
    let server = MockServer::builder().speed(20.0).start().await.unwrap();
    let request = ChatRequest::new("gpt-audio-mini", vec![Message::user("Say something")])
        .with_audio("alloy", "pcm16")
        .with_usage();
    let answer = client(&server, "/v1", "k")
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.transcript, "You said: Say something");
    assert_eq!(answer.text, "");
    let voice = crate::bundled_voice().unwrap();
    let samples: Vec<i16> = answer.pcm.samples().collect();
    assert_eq!(samples.len(), 24 * 60 * answer.transcript.chars().count());
    assert_eq!(
        &samples[..4800],
        &voice[..4800],
        "the answer is the bundled voice"
    );
    let info = answer.audio.unwrap();
    assert!(info.id.unwrap().starts_with("audio_"));
    assert!(info.expires_at.unwrap() > 1_700_000_000);
    assert!(answer.usage.unwrap().output_audio_tokens.unwrap() > 0);
}

#[tokio::test]
async fn dashscope_path_speaks_its_dialect_and_hears_bundled_clips() {
    let server = MockServer::builder().speed(20.0).start().await.unwrap();
    let wav = understudy_fixtures::bundled::audio("user-order-24k.wav").unwrap();
    let b64 = understudy_adapters::audio::Pcm(wav.to_vec()).to_base64();
    let tool = Tool::function(
        "lookup_order",
        "Order status",
        json!({"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}),
    );
    let client = client(&server, "/compatible-mode/v1", "sk-dash");
    let request = ChatRequest::new(
        "qwen3-omni-flash",
        vec![Message::user_parts(vec![ContentPart::input_audio(
            b64, "wav",
        )])],
    )
    .with_tools(vec![tool])
    .with_audio("Cherry", "wav")
    .with_usage();
    let answer = client
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(
        answer.tool_calls[0].1, "lookup_order",
        "the spoken request names the order tool"
    );

    let request = ChatRequest::new("qwen3-omni-flash", vec![Message::user("What time is it?")])
        .with_audio("Cherry", "wav")
        .with_usage();
    let answer = client
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.transcript, "You said: What time is it?");
    let seconds = answer.pcm.len() as f64 / 48_000.0;
    let usage = answer.usage.unwrap();
    assert_eq!(
        usage.output_audio_tokens,
        Some((seconds * 12.5).ceil() as u64)
    );
    let journal = server.journal();
    assert_eq!(
        journal
            .iter()
            .filter(|s| s.dialect == "dashscope-chat")
            .count(),
        2
    );
}

#[tokio::test]
async fn bad_keys_get_each_dialects_401() {
    let server = MockServer::builder()
        .require_auth(vec!["sk-understudy-good".into()])
        .start()
        .await
        .unwrap();
    let request = || ChatRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    let error = client(&server, "/v1", "sk-wrong-key")
        .stream(request())
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(401));
    let api = error.api_error().unwrap();
    assert_eq!(api.code.as_deref(), Some("invalid_api_key"));
    assert!(api.message.contains("sk-wr***ey"), "{}", api.message);
    let error = client(&server, "/compatible-mode/v1", "sk-wrong-key")
        .stream(request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ChatError::Api {
                request_id: Some(_),
                status: Some(401),
                ..
            }
        ),
        "{error:?}"
    );
    let (status, body) = raw_post(
        &server,
        "/v1/chat/completions",
        "",
        &json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}).to_string(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("You didn't provide an API key"), "{body}");
    let answer = client(&server, "/v1", "sk-understudy-good")
        .stream(request())
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.text, "You said: Hi");
}

#[tokio::test]
async fn bad_requests_get_provider_errors_and_the_server_keeps_serving() {
    let server = MockServer::start().await.unwrap();
    let user = json!([{"role": "user", "content": "Hi"}]);
    let cases = [
        ("/v1/chat/completions", "{not json".to_owned(), 400, Value::Null),
        ("/v1/chat/completions", json!({"model": "gpt-audio-mini", "stream": true, "messages": user, "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}).to_string(), 400, json!("audio.format")),
        ("/compatible-mode/v1/chat/completions", json!({"model": "qwen3-omni-flash", "messages": user}).to_string(), 400, Value::Null),
        ("/v1/chat/completions", json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "%%%", "format": "wav"}}]}]}).to_string(), 400, json!("messages[0].content[0].input_audio.data")),
    ];
    for (path, body, status, param) in cases {
        let (got, text) = raw_post(&server, path, "", &body).await;
        assert_eq!(got, status, "{path} {body}: {text}");
        let envelope: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(envelope["error"]["param"], param, "{text}");
        assert!(envelope["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        assert_eq!(envelope["error"]["type"], "invalid_request_error");
        if path.contains("compatible-mode") {
            assert_eq!(envelope["error"]["code"], "invalid_parameter_error");
            assert!(envelope["request_id"].is_string());
        }
    }
    let (status, text) = raw_post(
        &server,
        "/v1/chat/completions",
        "",
        &json!({"model": "gpt-4o-mini", "messages": user}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let completion: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(completion["object"], "chat.completion");
    assert_eq!(
        completion["choices"][0]["message"]["content"],
        "You said: Hi"
    );
    let (status, text) = raw_post(
        &server,
        "/v1/chat/completions",
        "",
        &json!({"model": "gpt-4o-mini", "stream": true, "messages": user}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        text.starts_with("data: {") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    assert!(!text.contains("data: \n"), "never an empty data event");
}

#[tokio::test]
async fn faults_on_demand() {
    let server = MockServer::start().await.unwrap();
    let request =
        || ChatRequest::new("gpt-4o-mini", vec![Message::user("one two three four")]).with_usage();
    let faulty = |fault: &str| {
        ChatClient::builder()
            .base_url(format!("{}/v1", server.url()))
            .header("x-understudy-fault", fault)
            .header("x-understudy-first-token-ms", "0")
            .build()
            .unwrap()
    };
    let error = faulty("midstream-error")
        .stream(request())
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ChatError::Api { status: None, .. }),
        "{error:?}"
    );
    let error = faulty("truncate")
        .stream(request())
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap_err();
    assert_eq!(error, ChatError::Truncated);
    let started = std::time::Instant::now();
    let error = faulty("rate-limit").stream(request()).await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "x-should-retry: false stops the retries"
    );
}

#[tokio::test]
async fn other_routes_still_reach_the_dispatcher() {
    let server = MockServer::start().await.unwrap();
    let (status, body) = raw_post(&server, "/v1/realtime", "", "{}").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "expected a WebSocket upgrade")
    );
    let (status, _) = raw_post(&server, "/v1/embeddings", "", "{}").await;
    assert_eq!(status, 404);
}

// ---- the replay engine ----------------------------------------------------

/// A mock replaying every bundled cassette at `speed`.
async fn replay_server(speed: f64) -> MockServer {
    let cassettes: Vec<(String, understudy_fixtures::Cassette)> =
        understudy_fixtures::bundled::cassette_names()
            .into_iter()
            .map(|name| {
                let cassette = understudy_fixtures::bundled::cassette(name).unwrap();
                (name.to_owned(), cassette)
            })
            .collect();
    MockServer::builder()
        .replay(&cassettes)
        .unwrap()
        .speed(speed)
        .start()
        .await
        .unwrap()
}

/// The recorded request body and SSE chunks (offset from the request, text).
fn recorded(name: &str) -> (Value, Vec<(Duration, String)>) {
    use understudy_fixtures::{ChunkData, FrameBody, HttpBody};
    let cassette = understudy_fixtures::bundled::cassette(name).unwrap();
    let mut body = Value::Null;
    let mut chunks = Vec::new();
    for frame in &cassette.frames {
        match &frame.body {
            FrameBody::HttpRequest(request) => {
                if let Some(HttpBody::Json(json)) = &request.body {
                    body = json.clone();
                }
            }
            FrameBody::HttpResponse(response) => {
                for chunk in &response.chunks {
                    let ChunkData::Text(text) = &chunk.data else {
                        panic!("{name}: SSE chunks are text");
                    };
                    chunks.push((Duration::from_micros(chunk.t_us), text.clone()));
                }
            }
            _ => {}
        }
    }
    (body, chunks)
}

/// POSTs `body` with the cassette header; status, the body pieces with their
/// arrival time after the request was sent, and the whole body.
async fn post_timed(
    server: &MockServer,
    path: &str,
    cassette: Option<&str>,
    body: &Value,
) -> (u16, Vec<(Duration, Vec<u8>)>, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.url()))
        .bearer_auth("sk-understudy-test")
        .json(body);
    if let Some(name) = cassette {
        request = request.header("x-understudy-cassette", name);
    }
    let sent = std::time::Instant::now();
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let mut pieces = Vec::new();
    let mut whole = Vec::new();
    while let Some(piece) = response.chunk().await.unwrap() {
        whole.extend_from_slice(&piece);
        pieces.push((sent.elapsed(), piece.to_vec()));
    }
    (status, pieces, String::from_utf8(whole).unwrap())
}

/// The journal of the last request, once its session has closed.
async fn last_session(server: &MockServer) -> crate::SessionJournal {
    for _ in 0..100 {
        if let Some(session) = server.journal().last().filter(|s| s.closed) {
            return session.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the session never closed: {:?}", server.journal().last());
}

#[tokio::test]
async fn replay_plays_the_recorded_chunks_in_order_at_their_recorded_offsets() {
    let speed = 2.0;
    let server = replay_server(speed).await;
    for (name, path) in [
        ("openai/chat-text-stream", "/v1/chat/completions"),
        ("openai/chat-audio-stream", "/v1/chat/completions"),
        (
            "dashscope/chat-omni-stream",
            "/compatible-mode/v1/chat/completions",
        ),
    ] {
        let (body, chunks) = recorded(name);
        let (status, pieces, whole) = post_timed(&server, path, Some(name), &body).await;
        assert_eq!(status, 200, "{name}: {whole}");
        // Byte for byte what was recorded, in order, ending in [DONE].
        let expected: String = chunks.iter().map(|(_, text)| text.as_str()).collect();
        assert_eq!(whole, expected, "{name}");
        assert!(whole.ends_with("data: [DONE]\n\n"), "{name}");
        // The first content arrives no earlier than its recorded offset ÷
        // speed (less a little for clock granularity); the last no earlier
        // than the last offset ÷ speed. Loose on purpose: lower bounds only.
        let tolerance = Duration::from_millis(15);
        let (first_at, _) = pieces.iter().find(|(_, p)| !p.is_empty()).unwrap();
        let first_recorded = chunks[0].0.div_f64(speed);
        assert!(
            first_recorded > Duration::from_millis(80),
            "{name}: the recording has a real time to first token"
        );
        assert!(
            *first_at + tolerance >= first_recorded,
            "{name}: first chunk after {first_at:?}, recorded {first_recorded:?}"
        );
        let last_recorded = chunks.last().unwrap().0.div_f64(speed);
        let (last_at, _) = pieces.last().unwrap();
        assert!(
            *last_at + tolerance >= last_recorded,
            "{name}: body over after {last_at:?}, recorded {last_recorded:?}"
        );
        let session = last_session(&server).await;
        assert_eq!(
            (session.dialect.as_str(), session.engine.as_str()),
            (
                if name.starts_with("dashscope") {
                    "dashscope-chat"
                } else {
                    "openai-chat"
                },
                "replay"
            )
        );
        let picked = session.find(EntryKind::Note, "replay").next().unwrap();
        assert_eq!(picked.detail, format!("cassette {name}"));
        assert_eq!(
            session.find(EntryKind::Note, "replay.mismatch").count(),
            0,
            "{name}: {:?}",
            session.entries
        );
        assert_eq!(
            session.find(EntryKind::Server, "replay").count(),
            chunks.len(),
            "{name}: every chunk journalled"
        );
    }
}

#[tokio::test]
async fn replay_without_a_name_picks_the_first_cassette_of_the_dialect() {
    let server = replay_server(50.0).await;
    let (body, _) = recorded("dashscope/chat-omni-stream");
    let (status, _, whole) =
        post_timed(&server, "/compatible-mode/v1/chat/completions", None, &body).await;
    assert_eq!(status, 200, "{whole}");
    let session = last_session(&server).await;
    let picked = session.find(EntryKind::Note, "replay").next().unwrap();
    assert_eq!(picked.detail, "cassette dashscope/chat-omni-stream");
}

#[tokio::test]
async fn replay_notes_minor_differences_and_plays_the_recording_anyway() {
    let server = replay_server(50.0).await;
    let (mut body, chunks) = recorded("openai/chat-text-stream");
    body["model"] = json!("gpt-4.1-mini");
    body["messages"] = json!([{"role": "user", "content": "Something else entirely"}]);
    let (status, _, whole) = post_timed(
        &server,
        "/v1/chat/completions",
        Some("chat-text-stream"),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{whole}");
    let expected: String = chunks.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(whole, expected, "the recording is played as recorded");
    let session = last_session(&server).await;
    let mismatches: Vec<&str> = session
        .find(EntryKind::Note, "replay.mismatch")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");
    assert!(
        mismatches[0].starts_with("model: recorded \"gpt-4o-mini\", sent \"gpt-4.1-mini\""),
        "{mismatches:?}"
    );
    assert!(
        mismatches[1].starts_with("messages: ") && mismatches[1].contains("replayed anyway"),
        "{mismatches:?}"
    );
}

#[tokio::test]
async fn replay_refuses_a_request_for_an_answer_of_another_shape() {
    let server = replay_server(50.0).await;
    // Not streamed, against a streamed recording.
    let (mut body, _) = recorded("openai/chat-text-stream");
    body["stream"] = json!(false);
    body.as_object_mut().unwrap().remove("stream_options");
    let (status, _, whole) = post_timed(
        &server,
        "/v1/chat/completions",
        Some("openai/chat-text-stream"),
        &body,
    )
    .await;
    assert_eq!(status, 400, "{whole}");
    let error: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "replay_mismatch");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("stream") && message.contains("`openai/chat-text-stream`"),
        "{message}"
    );
    assert!(last_session(&server)
        .await
        .find(EntryKind::Note, "replay.mismatch")
        .any(|e| e.detail.starts_with("stream:")));
    // Audio asked for, against a text recording.
    let (audio_body, _) = recorded("openai/chat-audio-stream");
    let (status, _, whole) = post_timed(
        &server,
        "/v1/chat/completions",
        Some("chat-text-stream"),
        &audio_body,
    )
    .await;
    assert_eq!(status, 400, "{whole}");
    let error: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(error["error"]["code"], "replay_mismatch");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("audio output"));
    // DashScope: text only against the omni recording, in DashScope's envelope.
    let (mut body, _) = recorded("dashscope/chat-omni-stream");
    body.as_object_mut().unwrap().remove("modalities");
    body.as_object_mut().unwrap().remove("audio");
    let (status, _, whole) = post_timed(
        &server,
        "/compatible-mode/v1/chat/completions",
        Some("chat-omni-stream"),
        &body,
    )
    .await;
    assert_eq!(status, 400, "{whole}");
    let error: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(error["error"]["code"], "invalid_parameter_error");
    assert_eq!(error["request_id"].as_str().map(str::len), Some(36));
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`dashscope/chat-omni-stream`"));
}

#[tokio::test]
async fn replay_refuses_a_cassette_name_that_is_not_loaded_and_says_what_is() {
    let server = replay_server(50.0).await;
    let (body, _) = recorded("openai/chat-text-stream");
    for wanted in ["openai/no-such-chat", "openai/speech-pcm"] {
        let (status, _, whole) =
            post_timed(&server, "/v1/chat/completions", Some(wanted), &body).await;
        assert_eq!(status, 400, "{whole}");
        let error: Value = serde_json::from_str(&whole).unwrap();
        assert_eq!(error["error"]["code"], "replay_cassette_not_found");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("no openai-chat cassette named `{wanted}`"))
                && message.contains("openai/chat-text-stream"),
            "{message}"
        );
        let session = last_session(&server).await;
        assert_eq!(session.find(EntryKind::Note, "replay.none").count(), 1);
    }
}

#[tokio::test]
async fn replay_without_a_chat_cassette_answers_with_the_respond_engine() {
    let cassettes = vec![(
        "openai/speech-pcm".to_owned(),
        understudy_fixtures::bundled::cassette("openai/speech-pcm").unwrap(),
    )];
    let server = MockServer::builder()
        .replay(&cassettes)
        .unwrap()
        .speed(50.0)
        .start()
        .await
        .unwrap();
    let (body, _) = recorded("openai/chat-text-stream");
    let (status, _, whole) = post_timed(&server, "/v1/chat/completions", None, &body).await;
    assert_eq!(status, 200, "{whole}");
    assert!(whole.contains("You said: ") || whole.contains("\"content\":\"You "));
    let session = last_session(&server).await;
    let none = session.find(EntryKind::Note, "replay.none").next().unwrap();
    assert!(
        none.detail.contains("answering with the respond engine"),
        "{none:?}"
    );
}

/// The transcript a summariser sends: two `User:` turns and a restated fact.
const TRANSCRIPT: &str = "User: Remember that my name is Ada.\nAssistant: Noted: my name is Ada.\n\
                          User: Remember that the city is Paris. Remember that my name is Grace.\n\
                          Assistant: Noted: the city is Paris.";

#[tokio::test]
async fn a_summarise_request_gets_an_extractive_summary_streamed_and_not() {
    let server = MockServer::start().await.unwrap();
    let expected =
        "Remember that my name is Grace.\nRemember that the city is Paris.\n(2 turns summarized)";
    let request = ChatRequest::new(
        "gpt-4o-mini",
        vec![
            Message::system("Summarize the conversation below for a new session."),
            Message::user(TRANSCRIPT),
        ],
    );
    let answer = client(&server, "/v1", "sk-any")
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.text, expected);
    let body = json!({"model": "gpt-4o-mini", "messages": [
        {"role": "developer", "content": "Please summarise this."},
        {"role": "user", "content": TRANSCRIPT},
    ]});
    let (status, text) = raw_post(&server, "/v1/chat/completions", "", &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let completion: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(completion["choices"][0]["message"]["content"], expected);
}

#[tokio::test]
async fn a_question_is_answered_from_the_system_message() {
    let server = MockServer::start().await.unwrap();
    let request = ChatRequest::new(
        "gpt-4o-mini",
        vec![
            Message::system("Be brief.\nRemember that my name is Grace.\n(2 turns summarized)"),
            Message::user("What did I say my name is?"),
        ],
    );
    let answer = client(&server, "/v1", "sk-any")
        .stream(request)
        .await
        .unwrap()
        .collect_answer()
        .await
        .unwrap();
    assert_eq!(answer.text, "You said my name is Grace.");
}
