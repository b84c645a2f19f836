//! Qwen-Omni per model family (the `dashscope::models` table): qwen3.8-omni's
//! nested session shape and unacknowledged finish, qwen3.5-omni's tools, and
//! the decoder's reading of the 3.5/3.8 events whose fields are unconfirmed.

use serde_json::{json, Value};
use understudy_adapters::dashscope::models::SessionShape;
use understudy_adapters::dashscope::{capabilities_for, Decoder, Encoder};
use understudy_adapters::{
    AudioFormat, ClientInput, ModelEvent, ResponseOptions, SessionConfig, ToolSpec,
};

const V38: &str = "qwen3.8-omni-flash-realtime";

fn config() -> SessionConfig {
    SessionConfig {
        instructions: Some("x".into()),
        voice: Some("longanlingxin".into()),
        input_format: Some(AudioFormat::pcm16(16_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "d".into(),
            parameters: json!({"type": "object"}),
            behavior: None,
        }],
        ..Default::default()
    }
}

fn encode(encoder: &mut Encoder, input: &ClientInput) -> Value {
    let events = encoder.encode(input).unwrap();
    assert_eq!(events.len(), 1);
    serde_json::to_value(&events[0]).unwrap()
}

#[test]
fn qwen38_sessions_are_nested_as_its_sdk_sends_them() {
    let frame = encode(&mut Encoder::new(V38), &ClientInput::Session(config()));
    let s = &frame["session"];
    assert_eq!(
        s["audio"],
        json!({"input": {"format": {"type": "pcm", "sample_rate": 16000}},
               "output": {"voice": "longanlingxin", "format": {"type": "pcm", "sample_rate": 24000}}})
    );
    for flat in ["voice", "input_audio_format", "output_audio_format"] {
        assert!(s.get(flat).is_none(), "{flat} must not be sent flat on 3.8");
    }
    assert_eq!(s["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(s["instructions"], "x");
}

#[test]
fn the_session_shape_is_switchable_and_flat_below_38() {
    let frame = encode(
        &mut Encoder::new(V38).with_session_shape(SessionShape::Flat),
        &ClientInput::Session(config()),
    );
    assert_eq!(frame["session"]["voice"], "longanlingxin");
    assert!(frame["session"].get("audio").is_none());
    let frame = encode(
        &mut Encoder::new("qwen3.5-omni-flash-realtime"),
        &ClientInput::Session(config()),
    );
    assert_eq!(frame["session"]["input_audio_format"], "pcm16");
    assert!(frame["session"].get("audio").is_none());
}

#[test]
fn response_create_is_bare_unless_it_carries_instructions() {
    let mut encoder = Encoder::new(V38);
    let bare = encode(
        &mut encoder,
        &ClientInput::CreateResponse(ResponseOptions::default()),
    );
    assert_eq!(bare["type"], "response.create");
    assert!(bare.get("response").is_none(), "{bare}");
    let said = encode(
        &mut encoder,
        &ClientInput::CreateResponse(ResponseOptions {
            instructions: Some("Read this verbatim.".into()),
            ..Default::default()
        }),
    );
    assert_eq!(said["response"]["instructions"], "Read this verbatim.");
}

#[test]
fn tool_results_are_function_call_output_items_on_35_and_38() {
    for model in [V38, "qwen3.5-omni-plus-realtime"] {
        let frame = encode(
            &mut Encoder::new(model),
            &ClientInput::ToolResult {
                call_id: "call_1".into(),
                name: "get_weather".into(),
                output: "{\"c\":21}".into(),
                scheduling: None,
            },
        );
        assert_eq!(frame["type"], "conversation.item.create");
        assert_eq!(
            frame["item"],
            json!({"type": "function_call_output", "call_id": "call_1", "output": "{\"c\":21}"})
        );
    }
}

#[test]
fn capabilities_come_from_the_model_row() {
    let v38 = capabilities_for(V38);
    assert!(v38.tool_calls && v38.response_after_tool_result && !v38.text_input);
    assert!(
        !v38.end_handshake,
        "3.8 does not acknowledge session.finish"
    );
    assert_eq!(v38.limits.session_secs, Some(7_200));
    assert_eq!(v38.limits.context_tokens, Some(196_608));
    let v35 = capabilities_for("qwen3.5-omni-flash-realtime");
    assert!(v35.tool_calls && v35.end_handshake);
    let legacy = capabilities_for("qwen-omni-turbo-realtime");
    assert!(!legacy.tool_calls && legacy.end_handshake);
    assert!(!capabilities_for("qwen3-omni-flash-realtime").tool_calls);
}

fn decode(frames: &[Value]) -> Vec<ModelEvent> {
    let mut decoder = Decoder::new();
    frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect()
}

#[test]
fn nested_session_formats_are_read() {
    let events = decode(&[
        json!({"type": "session.updated", "event_id": "e", "session": {"audio": {
            "input": {"format": {"type": "pcm", "sample_rate": 16000}},
            "output": {"voice": "Tina", "format": {"type": "pcm", "sample_rate": 24000}}}}}),
    ]);
    assert_eq!(
        events,
        [ModelEvent::SessionUpdated {
            input_format: Some(AudioFormat::pcm16(16_000)),
            output_format: Some(AudioFormat::pcm16(24_000)),
        }]
    );
}

#[test]
fn transcription_deltas_are_read_from_delta_or_settled_text() {
    let events = decode(&[
        json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "a",
               "item_id": "item_U", "content_index": 0, "delta": "Hel"}),
        json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "b",
               "item_id": "item_U", "content_index": 0, "text": "lo", "stash": " wor"}),
        json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "c",
               "item_id": "item_U", "content_index": 0, "text": "", "stash": "ld"}),
    ]);
    let deltas: Vec<&str> = events
        .iter()
        .map(|e| match e {
            ModelEvent::InputTranscriptDelta { delta, .. } => delta.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        deltas,
        ["Hel", "lo"],
        "the provisional stash is not reported"
    );
}

#[test]
fn a_cancelled_response_done_reason_decides_the_interruption() {
    let created = |id: &str| json!({"type": "response.created", "event_id": "c", "response": {"id": id, "status": "in_progress"}});
    let done = |id: &str, reason: &str| {
        json!({"type": "response.done", "event_id": "d", "response": {
        "id": id, "status": "cancelled", "status_details": {"type": "cancelled", "reason": reason}}})
    };
    let events = decode(&[
        // The server says the user's turn stopped it, though no speech_started came first.
        created("resp_1"),
        done("resp_1", "turn_detected"),
        // Speech started, but the client cancelled: not the user's interruption.
        created("resp_2"),
        json!({"type": "input_audio_buffer.speech_started", "event_id": "s", "audio_start_ms": 1, "item_id": "item_U"}),
        done("resp_2", "client_cancelled"),
    ]);
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            "response_created",
            "interrupted",
            "response_done",
            "response_created",
            "speech_started",
            "response_done"
        ]
    );
}

#[test]
fn a_38_response_may_speak_and_call_a_tool() {
    let scoped = |t: &str, item: &str, extra: Value| {
        let mut v = json!({"type": t, "event_id": "e", "response_id": "resp_1", "item_id": item,
                           "output_index": 0, "content_index": 0});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let events = decode(&[
        json!({"type": "response.created", "event_id": "a", "response": {"id": "resp_1", "status": "in_progress"}}),
        scoped(
            "response.audio_transcript.delta",
            "item_S",
            json!({"delta": "Let me check."}),
        ),
        scoped(
            "response.audio_transcript.done",
            "item_S",
            json!({"transcript": "Let me check."}),
        ),
        json!({"type": "response.output_item.added", "event_id": "b", "response_id": "resp_1", "output_index": 1,
               "item": {"id": "item_C", "type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": ""}}),
        json!({"type": "response.function_call_arguments.delta", "event_id": "c", "response_id": "resp_1",
               "item_id": "item_C", "output_index": 1, "call_id": "call_1", "delta": "{\"city\":\"Paris\"}"}),
        json!({"type": "response.function_call_arguments.done", "event_id": "d", "response_id": "resp_1",
               "item_id": "item_C", "output_index": 1, "call_id": "call_1", "name": "get_weather",
               "arguments": "{\"city\":\"Paris\"}"}),
        json!({"type": "response.done", "event_id": "f", "response": {"id": "resp_1", "status": "completed"}}),
    ]);
    let said = events.iter().any(
        |e| matches!(e, ModelEvent::TranscriptDone { transcript, .. } if transcript == "Let me check."),
    );
    let called = events.iter().any(|e| {
        matches!(e, ModelEvent::ToolCall { call_id, name, .. } if call_id == "call_1" && name == "get_weather")
    });
    assert!(said && called, "{events:?}");
}
