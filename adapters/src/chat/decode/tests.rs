use super::*;
use crate::audio::AudioFormat;
use proptest::prelude::*;

const E: &str = r#""id":"chatcmpl-R5t1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini-2024-07-18""#;
const D: &str = r#""object":"chat.completion.chunk","usage":null,"created":1767225600,"system_fingerprint":null,"model":"qwen3-omni-flash","id":"chatcmpl-5b0f3c2e""#;

/// An SSE body from chunk JSON texts with `{E}` / `{D}` envelopes, ended by `[DONE]`.
fn body(chunks: &[&str]) -> String {
    let mut out = String::new();
    for chunk in chunks {
        out.push_str("data: ");
        out.push_str(&chunk.replace("{E}", E).replace("{D}", D));
        out.push_str("\n\n");
    }
    out.push_str("data: [DONE]\n\n");
    out
}

fn decode_all(
    dialect: ChatDialect,
    audio: bool,
    pieces: &[&[u8]],
) -> Result<Vec<ChatEvent>, (Vec<ChatEvent>, ChatError)> {
    let mut decoder = ChatStreamDecoder::new(dialect, audio);
    let mut out = Vec::new();
    for piece in pieces {
        if let Err(e) = decoder.push(piece, &mut out) {
            return Err((out, e));
        }
    }
    match decoder.finish(&mut out) {
        Ok(()) => Ok(out),
        Err(e) => Err((out, e)),
    }
}

fn decode(dialect: ChatDialect, audio: bool, text: &str) -> Vec<ChatEvent> {
    decode_all(dialect, audio, &[text.as_bytes()]).unwrap_or_else(|(_, e)| panic!("{e}"))
}

fn texts(events: &[ChatEvent]) -> (String, String) {
    let mut text = String::new();
    let mut transcript = String::new();
    for e in events {
        match e {
            ChatEvent::TextDelta { text: t, .. } => text.push_str(t),
            ChatEvent::TranscriptDelta { text: t, .. } => transcript.push_str(t),
            _ => {}
        }
    }
    (text, transcript)
}

fn pcm(events: &[ChatEvent]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::AudioDelta { pcm, format, .. } => {
                assert_eq!(*format, AudioFormat::pcm16(24_000));
                Some(pcm.0.clone())
            }
            _ => None,
        })
        .flatten()
        .collect()
}

fn done(events: &[ChatEvent]) -> (Option<FinishReason>, Option<Usage>, Option<AudioInfo>) {
    match events.last() {
        Some(ChatEvent::Done {
            finish_reason,
            usage,
            audio,
        }) => (finish_reason.clone(), usage.clone(), audio.clone()),
        other => panic!("the last event is not Done: {other:?}"),
    }
}

pub(crate) fn text_stream() -> String {
    body(&[
        r#"{{E},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"content":"Good"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"content":" morning."},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
        r#"{{E},"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#,
    ])
}

#[test]
fn plain_text_stream_with_usage() {
    let events = decode(ChatDialect::OpenAi, false, &text_stream());
    assert_eq!(
        events[0],
        ChatEvent::Started {
            completion_id: Some("chatcmpl-R5t1".into()),
            model: Some("gpt-4o-mini-2024-07-18".into()),
            created: Some(1767225600)
        }
    );
    assert_eq!(texts(&events), ("Good morning.".into(), String::new()));
    assert!(events.contains(&ChatEvent::Finished {
        choice: 0,
        reason: FinishReason::Stop
    }));
    let (reason, usage, audio) = done(&events);
    assert_eq!(reason, Some(FinishReason::Stop));
    assert_eq!(usage.unwrap().total_tokens, Some(15));
    assert_eq!(audio, None);
}

pub(crate) fn tool_stream() -> String {
    body(&[
        r#"{{E},"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Hq2","type":"function","function":{"name":"lookup_city","arguments":""}}]},"finish_reason":null}]}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"name\":"}}]},"finish_reason":null}]}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Lyon\"}"}}]},"finish_reason":null}]}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Hq3","type":"function","function":{"name":"local_time","arguments":"{}"}}]},"finish_reason":null}]}"#,
        r#"{{E},"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ])
}

#[test]
fn parallel_tool_calls_are_assembled_by_index_before_finished() {
    let events = decode(ChatDialect::OpenAi, false, &tool_stream());
    let deltas = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::ToolCallDelta { .. }))
        .count();
    assert_eq!(deltas, 4);
    let position = |wanted: &dyn Fn(&ChatEvent) -> bool| events.iter().position(wanted).unwrap();
    let call0 = position(&|e| matches!(e, ChatEvent::ToolCall { index: 0, .. }));
    let finished = position(&|e| matches!(e, ChatEvent::Finished { .. }));
    assert!(
        call0 < finished,
        "calls complete at the finish_reason chunk"
    );
    assert_eq!(
        events[call0],
        ChatEvent::ToolCall {
            choice: 0,
            index: 0,
            call_id: "call_Hq2".into(),
            name: "lookup_city".into(),
            arguments: r#"{"name":"Lyon"}"#.into()
        }
    );
    assert!(events.contains(&ChatEvent::ToolCall {
        choice: 0,
        index: 1,
        call_id: "call_Hq3".into(),
        name: "local_time".into(),
        arguments: "{}".into()
    }));
    assert_eq!(done(&events).0, Some(FinishReason::ToolCalls));
}

pub(crate) fn openai_audio_stream() -> String {
    body(&[
        r#"{{E},"choices":[{"index":0,"delta":{"role":"assistant","refusal":null},"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"content":null,"audio":{"id":"audio_7d2e","transcript":"Hello"}},"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"audio":{"transcript":" from the"}},"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"audio":{"transcript":" mock!"}},"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null,"audio":{"id":"audio_7d2e","data":"AQACAP7/AwD9/w=="}},"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"audio":{"data":"BAD8/wUA+/8GAA=="}},"finish_reason":null}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#,
        r#"{{E},"choices":[{"index":0,"delta":{"audio":{"expires_at":1767229200}}}],"usage":null}"#,
        r#"{{E},"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":61,"total_tokens":70,"completion_tokens_details":{"audio_tokens":48,"text_tokens":13}}}"#,
    ])
}

#[test]
fn openai_audio_transcript_pcm_expiry_and_usage() {
    let events = decode(ChatDialect::OpenAi, true, &openai_audio_stream());
    assert_eq!(
        texts(&events),
        (String::new(), "Hello from the mock!".into())
    );
    let samples: Vec<i16> = crate::audio::Pcm(pcm(&events)).samples().collect();
    assert_eq!(samples, vec![1, 2, -2, 3, -3, 4, -4, 5, -5, 6]);
    let (reason, usage, audio) = done(&events);
    assert_eq!(reason, Some(FinishReason::Stop));
    assert_eq!(usage.unwrap().output_audio_tokens, Some(48));
    assert_eq!(
        audio,
        Some(AudioInfo {
            id: Some("audio_7d2e".into()),
            expires_at: Some(1767229200)
        }),
        "the repeated id is not concatenated; the expiry comes from the trailing chunk"
    );
}

pub(crate) fn dashscope_audio_stream() -> String {
    body(&[
        r#"{"choices":[{"delta":{"content":"","role":"assistant"},"index":0,"logprobs":null,"finish_reason":null}],{D}}"#,
        r#"{"choices":[{"delta":{"content":"Sure"},"finish_reason":null,"index":0,"logprobs":null}],{D}}"#,
        r#"{"choices":[{"delta":{"content":", it is ten past three."},"finish_reason":null,"index":0,"logprobs":null}],{D}}"#,
        r#"{"choices":[{"delta":{"audio":{"data":"AAABAP//AgD+/w==","expires_at":1767225600,"id":"audio_5b0f"}},"finish_reason":null,"index":0,"logprobs":null}],{D}}"#,
        r#"{"choices":[{"delta":{"audio":{"data":"AwA=","expires_at":1767225600,"id":"audio_5b0f"}},"finish_reason":null,"index":0,"logprobs":null}],{D}}"#,
        r#"{"choices":[{"finish_reason":"stop","delta":{"content":""},"index":0,"logprobs":null}],{D}}"#,
        r#"{"choices":[],"object":"chat.completion.chunk","usage":{"prompt_tokens":207,"completion_tokens":103,"total_tokens":310,"completion_tokens_details":{"audio_tokens":83,"text_tokens":20},"prompt_tokens_details":{"text_tokens":207}},"created":1767225600,"system_fingerprint":null,"model":"qwen3-omni-flash","id":"chatcmpl-5b0f3c2e"}"#,
    ])
}

#[test]
fn dashscope_audio_text_in_content_is_the_transcript() {
    let events = decode(ChatDialect::DashScope, true, &dashscope_audio_stream());
    assert_eq!(
        texts(&events),
        (String::new(), "Sure, it is ten past three.".into()),
        "in audio mode DashScope's content is what is spoken"
    );
    let samples: Vec<i16> = crate::audio::Pcm(pcm(&events)).samples().collect();
    assert_eq!(samples, vec![0, 1, -1, 2, -2, 3]);
    let (_, usage, audio) = done(&events);
    assert_eq!(usage.unwrap().output_audio_tokens, Some(83));
    assert_eq!(audio.unwrap().id.as_deref(), Some("audio_5b0f"));
}

#[test]
fn text_sent_in_both_fields_is_heard_once() {
    let stream = body(&[
        r#"{"choices":[{"index":0,"delta":{"content":"Hi","audio":{"transcript":"Hi"}}}],{D}}"#,
        r#"{"choices":[{"index":0,"delta":{"audio":{"transcript":" there"},"content":" there"}}],{D}}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],{D}}"#,
    ]);
    let events = decode(ChatDialect::DashScope, true, &stream);
    assert_eq!(texts(&events).1, "Hi there");
}

#[test]
fn the_same_stream_in_text_mode_is_text() {
    let events = decode(ChatDialect::DashScope, false, &dashscope_audio_stream());
    assert_eq!(texts(&events).0, "Sure, it is ten past three.");
}

#[test]
fn a_mid_stream_error_event_is_a_provider_error_after_the_earlier_events() {
    let stream = format!(
        "data: {{{E},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\nevent: error\ndata: {{\"error\":{{\"message\":\"Selected model is at capacity.\",\"type\":\"server_error\",\"param\":null,\"code\":\"server_error\"}}}}\n\ndata: [DONE]\n\n"
    );
    let (events, error) = decode_all(ChatDialect::OpenAi, false, &[stream.as_bytes()]).unwrap_err();
    assert_eq!(texts(&events).0, "Hi");
    match error {
        ChatError::Api { status, error, .. } => {
            assert_eq!(status, None);
            assert_eq!(error.message, "Selected model is at capacity.");
            assert_eq!(error.code.as_deref(), Some("server_error"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn eof_without_done_is_fine_after_a_finish_reason_and_truncated_before() {
    let whole = text_stream();
    let without_done = whole.trim_end_matches("data: [DONE]\n\n");
    let events = decode(ChatDialect::OpenAi, false, without_done);
    assert_eq!(done(&events).0, Some(FinishReason::Stop));

    let cut = &whole[..whole.find("\"stop\"").unwrap()];
    let (events, error) = decode_all(ChatDialect::OpenAi, false, &[cut.as_bytes()]).unwrap_err();
    assert_eq!(error, ChatError::Truncated);
    assert_eq!(texts(&events).0, "Good morning.");
}

#[test]
fn garbage_gives_clear_errors_and_stops() {
    for garbage in [
        "data: {not json\n\n",
        "data: [1,2]\n\n",
        "data:\n\n",
        "data: {\"choices\":\"many\"}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"audio\":{\"data\":\"@@@@\"}}}]}\n\n",
    ] {
        let (_, error) = decode_all(
            ChatDialect::OpenAi,
            false,
            &[garbage.as_bytes(), text_stream().as_bytes()],
        )
        .unwrap_err();
        assert!(
            matches!(error, ChatError::Decode { .. } | ChatError::Audio(_)),
            "{garbage:?} -> {error:?}"
        );
    }
    // Bytes that never form an event: the stream simply never finished.
    let (_, error) =
        decode_all(ChatDialect::OpenAi, false, &[b"\x00\xff\xfe garbage"]).unwrap_err();
    assert_eq!(error, ChatError::Truncated);
}

#[test]
fn oversized_events_are_refused() {
    let mut decoder = ChatStreamDecoder::with_limit(ChatDialect::OpenAi, false, 64);
    let mut out = Vec::new();
    let big = format!("data: {}", "x".repeat(100));
    assert_eq!(
        decoder.push(big.as_bytes(), &mut out),
        Err(ChatError::TooLarge { limit: 64 })
    );
    assert!(decoder.is_ended());
}

#[test]
fn input_after_done_is_ignored() {
    let stream = format!(
        "{}data: {{\"error\":{{\"message\":\"late\"}}}}\n\n",
        text_stream()
    );
    let events = decode(ChatDialect::OpenAi, false, &stream);
    assert!(matches!(events.last(), Some(ChatEvent::Done { .. })));
}

#[test]
fn crlf_comments_and_prefix_done_are_accepted() {
    let stream = text_stream()
        .replace("\n", "\r\n")
        .replace("data: [DONE]", ": keep-alive\r\ndata: [DONE] trailing");
    let events = decode(ChatDialect::OpenAi, false, &stream);
    assert_eq!(texts(&events).0, "Good morning.");
    assert!(matches!(events.last(), Some(ChatEvent::Done { .. })));
}

proptest! {
    #[test]
    fn splitting_the_network_chunks_anywhere_changes_nothing(
        which in 0..4usize,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
    ) {
        let (dialect, audio, stream) = match which {
            0 => (ChatDialect::OpenAi, false, text_stream()),
            1 => (ChatDialect::OpenAi, false, tool_stream()),
            2 => (ChatDialect::OpenAi, true, openai_audio_stream()),
            _ => (ChatDialect::DashScope, true, dashscope_audio_stream()),
        };
        let bytes = stream.as_bytes();
        let whole = decode_all(dialect, audio, &[bytes]).unwrap();
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for p in points {
            pieces.push(&bytes[start..p]);
            start = p;
        }
        pieces.push(&bytes[start..]);
        let split = decode_all(dialect, audio, &pieces).unwrap();
        // Audio may be cut into different deltas; everything else is identical.
        let strip = |events: &[ChatEvent]| -> Vec<ChatEvent> {
            events.iter().filter(|e| !matches!(e, ChatEvent::AudioDelta { .. })).cloned().collect()
        };
        prop_assert_eq!(strip(&split), strip(&whole));
        prop_assert_eq!(pcm(&split), pcm(&whole));
    }
}
