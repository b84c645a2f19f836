use super::*;
use serde_json::Value;
use understudy_adapters::chat::{ChatEvent, ChatStreamDecoder, Message};

fn pacing() -> Pacing {
    Pacing {
        first_token: Duration::from_millis(100),
        text_step: Duration::from_millis(10),
        audio_step: Duration::from_millis(50),
        chunk_ms: 100,
        voice: (1..=2400).map(|s| s as i16).collect::<Vec<_>>().into(),
    }
}

fn plan(dialect: ChatDialect, request: &ChatRequest, decision: &Decision) -> Vec<Scheduled> {
    let planner = Planner {
        dialect,
        request,
        identity: Identity::mint(dialect, 7, 1_767_225_600),
        pacing: pacing(),
    };
    planner.stream(decision, None)
}

fn json_events(events: &[Scheduled]) -> Vec<Value> {
    let (last, chunks) = events.split_last().unwrap();
    assert_eq!(last.data, "[DONE]");
    chunks
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect()
}

fn decode(dialect: ChatDialect, audio: bool, events: &[Scheduled]) -> Vec<ChatEvent> {
    let mut decoder = ChatStreamDecoder::new(dialect, audio);
    let mut out = Vec::new();
    for e in events {
        decoder
            .push(format!("data: {}\n\n", e.data).as_bytes(), &mut out)
            .unwrap();
    }
    decoder.finish(&mut out).unwrap();
    out
}

fn spoken(events: &[ChatEvent]) -> (String, usize) {
    let mut transcript = String::new();
    let mut bytes = 0;
    for e in events {
        match e {
            ChatEvent::TranscriptDelta { text, .. } | ChatEvent::TextDelta { text, .. } => {
                transcript.push_str(text)
            }
            ChatEvent::AudioDelta { pcm, .. } => bytes += pcm.len(),
            _ => {}
        }
    }
    (transcript, bytes)
}

#[test]
fn openai_audio_follows_the_captured_order() {
    let request = ChatRequest::new("gpt-audio-mini", vec![Message::user("Hi")])
        .with_audio("alloy", "pcm16")
        .with_usage();
    let say = Decision::Say("You said: Hi".into());
    let events = plan(ChatDialect::OpenAi, &request, &say);
    let chunks = json_events(&events);
    let id = chunks[0]["id"].clone();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id, "one id per stream");
        assert_eq!(chunk["created"], 1_767_225_600);
        assert!(
            chunk["choices"].is_array(),
            "choices never omitted: {chunk}"
        );
        assert!(
            chunk.get("usage").is_some(),
            "usage key on every chunk with include_usage"
        );
        assert!(chunk["system_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("fp_"));
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "refusal": null})
    );
    let first_transcript = &chunks[1]["choices"][0]["delta"];
    assert_eq!(first_transcript["content"], Value::Null);
    assert!(first_transcript["audio"]["id"]
        .as_str()
        .unwrap()
        .starts_with("audio_"));
    let n = chunks.len();
    assert_eq!(chunks[n - 3]["choices"][0]["finish_reason"], "stop");
    let expiry = &chunks[n - 2]["choices"][0];
    assert!(
        expiry.get("finish_reason").is_none(),
        "no finish_reason key on the expiry chunk"
    );
    assert_eq!(expiry["delta"]["audio"]["expires_at"], 1_767_225_600 + 3600);
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert!(
        chunks[n - 1]["usage"]["completion_tokens_details"]["audio_tokens"]
            .as_u64()
            .unwrap()
            >= 10
    );
    // Transcript first, then data; offsets never go backwards.
    let first_data = chunks
        .iter()
        .position(|c| c["choices"][0]["delta"]["audio"]["data"].is_string())
        .unwrap();
    let last_transcript = chunks
        .iter()
        .rposition(|c| c["choices"][0]["delta"]["audio"]["transcript"].is_string())
        .unwrap();
    assert!(last_transcript < first_data);
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(events[0].at, Duration::from_millis(100));

    let decoded = decode(ChatDialect::OpenAi, true, &events);
    let (transcript, bytes) = spoken(&decoded);
    assert_eq!(transcript, "You said: Hi");
    assert_eq!(
        bytes,
        24_000 * 2,
        "one second of PCM16 at 24 kHz (the minimum length)"
    );
}

#[test]
fn dashscope_audio_text_in_content_and_id_on_every_audio_chunk() {
    let request =
        ChatRequest::new("qwen3-omni-flash", vec![Message::user("Hi")]).with_audio("Cherry", "wav");
    let events = plan(
        ChatDialect::DashScope,
        &request,
        &Decision::Say("Sure, it is three.".into()),
    );
    let chunks = json_events(&events);
    for chunk in &chunks {
        assert_eq!(
            chunk["usage"],
            Value::Null,
            "DashScope sends usage: null on every chunk"
        );
        assert_eq!(chunk["system_fingerprint"], Value::Null);
        assert!(chunk.get("obfuscation").is_none());
        assert!(chunk["id"].as_str().unwrap().starts_with("chatcmpl-"));
    }
    let audio: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("audio"))
        .collect();
    assert!(!audio.is_empty());
    for a in &audio {
        assert_eq!(a["expires_at"], 1_767_225_600);
        assert!(a["id"].as_str().unwrap().starts_with("audio_"));
        assert!(a["data"].is_string());
    }
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({"content": ""}));
    let (transcript, bytes) = spoken(&decode(ChatDialect::DashScope, true, &events));
    assert_eq!(transcript, "Sure, it is three.");
    assert_eq!(
        bytes,
        24_000 * 2 * 1080 / 1000,
        "18 characters at 60 ms each"
    );
}

#[test]
fn tool_calls_stream_name_first_then_argument_pieces() {
    let request = ChatRequest::new("gpt-4o-mini", vec![Message::user("weather in Paris?")]);
    let call = Decision::Call {
        name: "get_weather".into(),
        arguments: r#"{"city":"Paris"}"#.into(),
    };
    let events = plan(ChatDialect::OpenAi, &request, &call);
    let chunks = json_events(&events);
    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["tool_calls"][0]["function"]["arguments"], "");
    assert_eq!(first["tool_calls"][0]["type"], "function");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "no usage key without include_usage"
    );
    let decoded = decode(ChatDialect::OpenAi, false, &events);
    assert!(decoded
        .iter()
        .any(|e| matches!(e, ChatEvent::ToolCall { name, arguments, .. }
        if name == "get_weather" && arguments == r#"{"city":"Paris"}"#)));
}

#[test]
fn faults_cut_the_stream() {
    let request = ChatRequest::new("m", vec![Message::user("Hi")]).with_usage();
    let planner = Planner {
        dialect: ChatDialect::OpenAi,
        request: &request,
        identity: Identity::mint(ChatDialect::OpenAi, 1, 0),
        pacing: pacing(),
    };
    let say = Decision::Say("one two three four".into());
    let truncated = planner.stream(&say, Some(ChatFault::Truncate));
    assert!(truncated
        .iter()
        .all(|e| e.data != "[DONE]" && !e.data.contains("finish_reason\":\"stop")));
    let error = planner.stream(&say, Some(ChatFault::MidstreamError));
    assert!(error.last().unwrap().data.starts_with("{\"error\""));
}

#[test]
fn non_streaming_audio_is_a_whole_wav_file() {
    let mut request =
        ChatRequest::new("gpt-audio-mini", vec![Message::user("Hi")]).with_audio("alloy", "wav");
    request.stream = None;
    let planner = Planner {
        dialect: ChatDialect::OpenAi,
        request: &request,
        identity: Identity::mint(ChatDialect::OpenAi, 1, 0),
        pacing: pacing(),
    };
    let completion = planner.completion(&Decision::Say("Hello".into())).unwrap();
    let audio = completion.choices[0].message.audio.as_ref().unwrap();
    assert_eq!(audio.transcript, "Hello");
    let wav = Pcm::from_base64(&audio.data).unwrap();
    assert_eq!(&wav.0[..4], b"RIFF");
    let identity = planner.identity.clone();
    let mut mp3 = request.clone();
    mp3.audio.as_mut().unwrap().format = "mp3".into();
    let planner = Planner {
        request: &mp3,
        identity,
        pacing: pacing(),
        dialect: ChatDialect::OpenAi,
    };
    assert_eq!(
        planner
            .completion(&Decision::Say("Hello".into()))
            .unwrap_err()
            .body
            .error
            .param
            .as_deref(),
        Some("audio.format")
    );
}
