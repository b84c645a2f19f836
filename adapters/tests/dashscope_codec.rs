//! The Qwen-Omni codec: protocol-file frames decode to the expected normalised
//! events; inputs encode to DashScope's own shapes, or are refused with typed
//! errors where the capabilities say no.

use serde_json::json;
use understudy_adapters::dashscope::{capabilities_for, DashScopeCodec, Decoder, Encoder};
use understudy_adapters::{
    AudioFormat, ClientInput, EncodeError, Modality, ModelEvent, Pcm, RealtimeCodec,
    ResponseStatus, SessionConfig, ToolSpec, TurnDetection, WireFrame,
};

fn decode_all(frames: &[serde_json::Value]) -> Vec<ModelEvent> {
    let mut decoder = Decoder::new();
    frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect()
}

fn scope(t: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut v = json!({"type": t, "event_id": "e", "response_id": "resp_1", "item_id": "item_A", "output_index": 0, "content_index": 0});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn a_vad_turn_decodes_with_24k_audio_and_dashscope_usage() {
    let events = decode_all(&[
        json!({"type":"session.created","event_id":"e0","session":{"id":"sess_1","model":"qwen3-omni-flash-realtime","input_audio_format":"pcm","output_audio_format":"pcm"}}),
        json!({"type":"input_audio_buffer.speech_started","event_id":"e1","audio_start_ms":300,"item_id":"item_U"}),
        json!({"type":"input_audio_buffer.speech_stopped","event_id":"e2","audio_end_ms":2000,"item_id":"item_U"}),
        json!({"type":"input_audio_buffer.committed","event_id":"e3","item_id":"item_U"}),
        json!({"type":"conversation.item.created","event_id":"e4","item":{"id":"item_U","type":"message","role":"user","content":[]}}),
        json!({"type":"response.created","event_id":"e5","response":{"id":"resp_1","status":"in_progress"}}),
        scope("response.audio_transcript.delta", json!({"delta":"Hi"})),
        scope("response.audio.delta", json!({"delta":"AQACAA=="})),
        scope("response.audio_transcript.done", json!({"transcript":"Hi"})),
        scope("response.audio.done", json!({})),
        json!({"type":"response.done","event_id":"e9","response":{"id":"resp_1","status":"completed","usage":{"total_tokens":377,"input_tokens":336,"output_tokens":41,"input_tokens_details":{"audio_tokens":108},"output_tokens_details":{"audio_tokens":32}}}}),
    ]);
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            "session_created",
            "speech_started",
            "speech_stopped",
            "input_committed",
            "response_created",
            "transcript_delta",
            "audio_delta",
            "transcript_done",
            "audio_done",
            "response_done",
            "usage"
        ]
    );
    assert!(
        matches!(&events[0], ModelEvent::SessionCreated { input_format: Some(f), output_format: Some(o), .. }
        if f.sample_rate == 16_000 && o.sample_rate == 24_000)
    );
    assert!(
        matches!(&events[6], ModelEvent::AudioDelta { sample_rate: 24_000, pcm, .. } if pcm.len() == 4)
    );
    match &events[9] {
        ModelEvent::ResponseDone { status, .. } => {
            assert_eq!(*status, ResponseStatus::Completed);
        }
        other => panic!("expected response_done, got {other:?}"),
    }
    match &events[10] {
        ModelEvent::Usage { usage, .. } => {
            assert_eq!(
                (usage.input_audio_tokens, usage.output_audio_tokens),
                (Some(108), Some(32))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn speech_during_a_response_that_then_ends_early_is_an_interruption() {
    let events = decode_all(&[
        json!({"type":"response.created","event_id":"a","response":{"id":"resp_1","status":"in_progress"}}),
        json!({"type":"input_audio_buffer.speech_started","event_id":"b","audio_start_ms":10,"item_id":"item_U2"}),
        json!({"type":"response.done","event_id":"c","response":{"id":"resp_1","status":"cancelled"}}),
        // A response cancelled without speech is not an interruption.
        json!({"type":"response.created","event_id":"d","response":{"id":"resp_2","status":"in_progress"}}),
        json!({"type":"response.done","event_id":"e","response":{"id":"resp_2","status":"cancelled"}}),
    ]);
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            "response_created",
            "speech_started",
            "interrupted",
            "response_done",
            "response_created",
            "response_done"
        ]
    );
}

#[test]
fn session_finished_ends_the_session_once() {
    let mut codec = DashScopeCodec::new("qwen3-omni-flash-realtime");
    let finished = codec
        .decode(&WireFrame::Text(
            r#"{"type":"session.finished","event_id":"f"}"#.into(),
        ))
        .unwrap();
    assert!(matches!(&finished[..], [ModelEvent::SessionEnded { .. }]));
    let close = codec
        .decode(&WireFrame::Close {
            code: Some(1000),
            reason: String::new(),
        })
        .unwrap();
    assert!(
        close.is_empty(),
        "the close after session.finished is not a second end"
    );
}

#[test]
fn ga_names_are_unrecognized_not_misread() {
    let events = decode_all(&[scope(
        "response.output_audio.delta",
        json!({"delta":"AAA="}),
    )]);
    assert_eq!(
        events,
        vec![ModelEvent::Unrecognized {
            provider_type: "response.output_audio.delta".into()
        }]
    );
}

fn encode_one(model: &str, input: &ClientInput) -> serde_json::Value {
    let events = Encoder::new(model).encode(input).unwrap();
    assert_eq!(events.len(), 1);
    serde_json::to_value(&events[0]).unwrap()
}

#[test]
fn session_update_uses_the_dashscope_shape() {
    let config = SessionConfig {
        instructions: Some("Be brief.".into()),
        voice: Some("Cherry".into()),
        output_modalities: Some(vec![Modality::Audio]),
        input_format: Some(AudioFormat::pcm16(16_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        turn_detection: Some(TurnDetection::Manual),
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "d".into(),
            parameters: json!({"type":"object"}),
            behavior: None,
        }],
        ..Default::default()
    };
    let frame = encode_one("qwen3.5-omni-plus-realtime", &ClientInput::Session(config));
    assert!(frame["event_id"].as_str().unwrap().starts_with("event_"));
    let s = &frame["session"];
    assert_eq!(s["modalities"], json!(["text", "audio"]));
    assert_eq!(s["input_audio_format"], "pcm16");
    assert_eq!(s["output_audio_format"], "pcm16");
    assert_eq!(s["turn_detection"], serde_json::Value::Null);
    assert_eq!(
        s["tools"],
        json!([{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object"}}}])
    );
}

#[test]
fn inputs_encode_to_dashscope_events_with_event_ids() {
    let cases = [
        (
            ClientInput::Audio {
                pcm: Pcm(vec![0, 0]),
                sample_rate: 16_000,
            },
            "input_audio_buffer.append",
        ),
        (ClientInput::CommitAudio, "input_audio_buffer.commit"),
        (
            ClientInput::Image {
                mime_type: "image/jpeg".into(),
                data: Pcm(vec![0xff, 0xd8]),
            },
            "input_image_buffer.append",
        ),
        (ClientInput::EndSession, "session.finish"),
        (
            ClientInput::CancelResponse { response_id: None },
            "response.cancel",
        ),
    ];
    for (input, wanted) in cases {
        let frame = encode_one("qwen3-omni-flash-realtime", &input);
        assert_eq!(frame["type"], wanted);
        assert!(
            frame["event_id"].is_string(),
            "{wanted} must carry an event_id"
        );
    }
}

#[test]
fn what_the_dialect_cannot_take_is_refused_with_typed_errors() {
    let mut flash = Encoder::new("qwen3-omni-flash-realtime");
    let refused = [
        ClientInput::Text { text: "hi".into() },
        ClientInput::Truncate {
            item_id: "i".into(),
            content_index: 0,
            audio_end_ms: 5,
        },
        ClientInput::Image {
            mime_type: "image/png".into(),
            data: Pcm(vec![1]),
        },
        ClientInput::ToolResult {
            call_id: "c".into(),
            name: "f".into(),
            output: "{}".into(),
            scheduling: None,
        },
    ];
    for input in refused {
        assert!(
            matches!(flash.encode(&input), Err(EncodeError::Unsupported { .. })),
            "{input:?}"
        );
    }
    // Speech at 24 kHz labelled for a 16 kHz session is refused, not sent.
    assert!(matches!(
        flash.encode(&ClientInput::Audio {
            pcm: Pcm(vec![0, 0]),
            sample_rate: 24_000
        }),
        Err(EncodeError::SampleRate {
            expected: 16_000,
            got: 24_000
        })
    ));
    assert!(Encoder::new("qwen3.5-omni-plus-realtime")
        .encode(&ClientInput::ToolResult {
            call_id: "c".into(),
            name: "f".into(),
            output: "{}".into(),
            scheduling: None,
        })
        .is_ok());
}

#[test]
fn capabilities_differ_from_openai_where_the_protocols_do() {
    let ds = capabilities_for("qwen3-omni-flash-realtime");
    let oa = understudy_adapters::openai::Dialect::Ga.capabilities();
    assert_eq!(
        (ds.input_sample_rate, ds.output_sample_rate),
        (16_000, 24_000)
    );
    assert_eq!(oa.input_sample_rate, 24_000);
    assert!(!ds.truncation && oa.truncation);
    assert!(!ds.text_input && oa.text_input);
    assert_eq!(ds.limits.session_secs, Some(7_200));
    assert!(!ds.tool_calls && capabilities_for("qwen3.5-omni-flash-realtime").tool_calls);
}
