//! The OpenAI codec: frames from the protocol file decode to the expected
//! normalised events, and normalised inputs encode to the dialect's frames.

use serde_json::json;
use understudy_adapters::openai::{Decoder, Dialect, Encoder, OpenAiCodec};
use understudy_adapters::{
    AudioFormat, ClientInput, EncodeError, Modality, ModelEvent, Pcm, RealtimeCodec,
    ResponseOptions, ResponseStatus, SessionConfig, ToolSpec, TurnDetection, WireFrame,
};

fn decode_all(frames: &[serde_json::Value]) -> Vec<ModelEvent> {
    let mut decoder = Decoder::new();
    frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect()
}

#[test]
fn ga_audio_reply_decodes_to_the_normalised_sequence() {
    let events = decode_all(&[
        json!({"type":"session.created","event_id":"e0","session":{"type":"realtime","id":"sess_1","model":"gpt-realtime",
               "audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},"output":{"format":{"type":"audio/pcm","rate":24000}}}}}),
        json!({"type":"input_audio_buffer.speech_started","event_id":"e1","audio_start_ms":300,"item_id":"item_U1"}),
        json!({"type":"input_audio_buffer.speech_stopped","event_id":"e2","audio_end_ms":2100,"item_id":"item_U1"}),
        json!({"type":"input_audio_buffer.committed","event_id":"e3","item_id":"item_U1"}),
        json!({"type":"conversation.item.added","event_id":"e4","item":{"id":"item_U1","type":"message","role":"user","content":[]}}),
        json!({"type":"response.created","event_id":"e5","response":{"id":"resp_1","status":"in_progress","output":[]}}),
        json!({"type":"response.output_audio_transcript.delta","event_id":"e6","response_id":"resp_1","item_id":"item_A","output_index":0,"content_index":0,"delta":"Hi"}),
        json!({"type":"response.output_audio.delta","event_id":"e7","response_id":"resp_1","item_id":"item_A","output_index":0,"content_index":0,"delta":"AQACAA=="}),
        json!({"type":"response.output_audio.delta","event_id":"e7b","response_id":"resp_1","item_id":"item_A","output_index":0,"content_index":0,"delta":""}),
        json!({"type":"response.output_audio.done","event_id":"e8","response_id":"resp_1","item_id":"item_A","output_index":0,"content_index":0}),
        json!({"type":"response.output_audio_transcript.done","event_id":"e9","response_id":"resp_1","item_id":"item_A","output_index":0,"content_index":0,"transcript":"Hi"}),
        json!({"type":"rate_limits.updated","event_id":"e10","rate_limits":[]}),
        json!({"type":"response.done","event_id":"e11","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":5,"output_tokens":7,"total_tokens":12,"output_token_details":{"audio_tokens":6}}}}),
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
            "audio_done",
            "transcript_done",
            "response_done",
            "usage"
        ]
    );
    match &events[6] {
        ModelEvent::AudioDelta {
            pcm, sample_rate, ..
        } => {
            assert_eq!(pcm, &Pcm(vec![1, 0, 2, 0]));
            assert_eq!(*sample_rate, 24_000);
        }
        other => panic!("expected audio, got {other:?}"),
    }
    match &events[9] {
        ModelEvent::ResponseDone { status, .. } => {
            assert_eq!(*status, ResponseStatus::Completed);
        }
        other => panic!("expected response_done, got {other:?}"),
    }
    match &events[10] {
        ModelEvent::Usage { usage, .. } => {
            assert_eq!(usage.total_tokens, Some(12));
            assert_eq!(usage.output_audio_tokens, Some(6));
        }
        other => panic!("expected response_done, got {other:?}"),
    }
}

#[test]
fn beta_names_decode_like_ga_names() {
    let ga = decode_all(&[
        json!({"type":"response.output_audio.delta","event_id":"a","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AAA="}),
        json!({"type":"response.output_text.delta","event_id":"b","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"x"}),
    ]);
    let beta = decode_all(&[
        json!({"type":"response.audio.delta","event_id":"a","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AAA="}),
        json!({"type":"response.text.delta","event_id":"b","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"x"}),
    ]);
    assert_eq!(ga, beta);
    assert_eq!(ga.len(), 2);
}

#[test]
fn beta_tool_call_without_name_takes_it_from_the_output_item() {
    let events = decode_all(&[
        json!({"type":"response.output_item.added","event_id":"a","response_id":"r","output_index":0,
               "item":{"id":"item_F","type":"function_call","call_id":"call_1","name":"lookup_order","arguments":""}}),
        json!({"type":"response.function_call_arguments.delta","event_id":"b","response_id":"r","item_id":"item_F","output_index":0,"call_id":"call_1","delta":"{\"a\":"}),
        json!({"type":"response.function_call_arguments.done","event_id":"c","response_id":"r","item_id":"item_F","output_index":0,"call_id":"call_1","arguments":"{\"a\":1}"}),
    ]);
    assert_eq!(
        events,
        vec![
            ModelEvent::ToolCallDelta {
                response_id: "r".into(),
                item_id: "item_F".into(),
                call_id: "call_1".into(),
                name: Some("lookup_order".into()),
                arguments_delta: "{\"a\":".into(),
            },
            ModelEvent::ToolCall {
                response_id: "r".into(),
                item_id: "item_F".into(),
                call_id: "call_1".into(),
                name: "lookup_order".into(),
                arguments: "{\"a\":1}".into(),
            }
        ]
    );
}

#[test]
fn barge_in_cancellation_is_reported_as_interrupted_then_done() {
    let events = decode_all(&[
        json!({"type":"response.done","event_id":"e","response":{"id":"resp_9","status":"cancelled",
        "status_details":{"type":"cancelled","reason":"turn_detected"}}}),
    ]);
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0],
        ModelEvent::Interrupted {
            response_id: Some("resp_9".into())
        }
    );
    match &events[1] {
        ModelEvent::ResponseDone { status, reason, .. } => {
            assert_eq!(*status, ResponseStatus::Cancelled);
            assert_eq!(reason.as_deref(), Some("turn_detected"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn failed_response_carries_its_error() {
    let events = decode_all(&[
        json!({"type":"response.done","event_id":"e","response":{"id":"r","status":"failed",
        "status_details":{"type":"failed","error":{"type":"insufficient_quota","code":"insufficient_quota","message":"quota"}}}}),
    ]);
    match &events[0] {
        ModelEvent::ResponseDone { status, error, .. } => {
            assert_eq!(*status, ResponseStatus::Failed);
            assert_eq!(error.as_ref().unwrap().code, "insufficient_quota");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_unknown_types_and_bad_audio_are_reported_not_dropped() {
    let mut decoder = Decoder::new();
    let error = decoder
        .decode_text(r#"{"type":"error","event_id":"e","error":{"type":"invalid_request_error","code":"invalid_event","message":"The 'type' field is missing.","event_id":"c1"}}"#)
        .unwrap();
    match &error[0] {
        ModelEvent::Error(info) => {
            assert_eq!(info.code, "invalid_event");
            assert_eq!(info.event_id.as_deref(), Some("c1"));
            assert!(!info.fatal);
        }
        other => panic!("{other:?}"),
    }
    let unknown = decoder
        .decode_text(r#"{"type":"response.future_thing","event_id":"e"}"#)
        .unwrap();
    assert_eq!(
        unknown,
        vec![ModelEvent::Unrecognized {
            provider_type: "response.future_thing".into()
        }]
    );
    let bad = decoder.decode_text(r#"{"type":"response.audio.delta","event_id":"a","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"!!!"}"#);
    assert!(bad.unwrap_err().to_string().contains("not valid base64"));
    assert!(decoder.decode_text("{not json").is_err());
}

#[test]
fn close_frame_ends_the_session() {
    let mut codec = OpenAiCodec::new(Dialect::Ga);
    let events = codec
        .decode(&WireFrame::Close {
            code: Some(3000),
            reason: "invalid_request_error.invalid_api_key".into(),
        })
        .unwrap();
    assert_eq!(
        events,
        vec![ModelEvent::SessionEnded {
            reason: "invalid_request_error.invalid_api_key".into(),
            close_code: Some(3000)
        }]
    );
}

fn voice_config() -> SessionConfig {
    SessionConfig {
        instructions: Some("Answer briefly.".into()),
        voice: Some("marin".into()),
        turn_detection: Some(TurnDetection::ServerVad {
            threshold: None,
            prefix_padding_ms: None,
            silence_duration_ms: Some(400),
            create_response: None,
            interrupt_response: None,
        }),
        input_transcription: Some("gpt-4o-mini-transcribe".into()),
        output_modalities: Some(vec![Modality::Audio]),
        input_format: Some(AudioFormat::pcm16(24_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        tools: vec![ToolSpec {
            name: "lookup_order".into(),
            description: "Find an order by number".into(),
            parameters: json!({"type":"object","properties":{"order_no":{"type":"string"}},"required":["order_no"]}),
            behavior: None,
        }],
        tool_choice: None,
    }
}

fn encode_one(dialect: Dialect, input: &ClientInput) -> serde_json::Value {
    let events = Encoder::new(dialect).encode(input).unwrap();
    assert_eq!(events.len(), 1);
    serde_json::to_value(&events[0]).unwrap()
}

#[test]
fn ga_session_update_has_the_documented_shape() {
    let frame = encode_one(Dialect::Ga, &ClientInput::Session(voice_config()));
    assert_eq!(
        frame,
        json!({"type":"session.update","session":{
            "type":"realtime","instructions":"Answer briefly.","output_modalities":["audio"],
            "audio":{"input":{"format":{"type":"audio/pcm","rate":24000},
                              "transcription":{"model":"gpt-4o-mini-transcribe"},
                              "turn_detection":{"type":"server_vad","silence_duration_ms":400}},
                     "output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin"}},
            "tools":[{"type":"function","name":"lookup_order","description":"Find an order by number",
                      "parameters":{"type":"object","properties":{"order_no":{"type":"string"}},"required":["order_no"]}}]}})
    );
}

#[test]
fn beta_session_update_is_flat() {
    let frame = encode_one(Dialect::Beta, &ClientInput::Session(voice_config()));
    let session = &frame["session"];
    assert!(session.get("type").is_none());
    assert!(session.get("audio").is_none());
    assert_eq!(session["modalities"], json!(["text", "audio"]));
    assert_eq!(session["voice"], "marin");
    assert_eq!(session["input_audio_format"], "pcm16");
    assert_eq!(
        session["turn_detection"],
        json!({"type":"server_vad","silence_duration_ms":400})
    );
    assert_eq!(
        session["input_audio_transcription"],
        json!({"model":"gpt-4o-mini-transcribe"})
    );
}

#[test]
fn manual_turns_send_null_turn_detection() {
    let config = SessionConfig {
        turn_detection: Some(TurnDetection::Manual),
        ..Default::default()
    };
    let ga = encode_one(Dialect::Ga, &ClientInput::Session(config.clone()));
    assert_eq!(
        ga["session"]["audio"]["input"]["turn_detection"],
        serde_json::Value::Null
    );
    assert!(ga["session"]["audio"]["input"]
        .as_object()
        .unwrap()
        .contains_key("turn_detection"));
    let beta = encode_one(Dialect::Beta, &ClientInput::Session(config));
    assert!(beta["session"]
        .as_object()
        .unwrap()
        .contains_key("turn_detection"));
}

#[test]
fn inputs_encode_to_their_client_events() {
    let cases = [
        (
            ClientInput::Audio {
                pcm: Pcm(vec![0, 0, 1, 0]),
                sample_rate: 24_000,
            },
            json!({"type":"input_audio_buffer.append","audio":"AAABAA=="}),
        ),
        (
            ClientInput::CommitAudio,
            json!({"type":"input_audio_buffer.commit"}),
        ),
        (
            ClientInput::ClearAudio,
            json!({"type":"input_audio_buffer.clear"}),
        ),
        (
            ClientInput::Text { text: "hi".into() },
            json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}),
        ),
        (
            ClientInput::ToolResult {
                call_id: "call_1".into(),
                name: "f".into(),
                output: "{}".into(),
                scheduling: None,
            },
            json!({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"call_1","output":"{}"}}),
        ),
        (
            ClientInput::CreateResponse(ResponseOptions::default()),
            json!({"type":"response.create"}),
        ),
        (
            ClientInput::CancelResponse { response_id: None },
            json!({"type":"response.cancel"}),
        ),
        (
            ClientInput::Truncate {
                item_id: "item_A".into(),
                content_index: 0,
                audio_end_ms: 1840,
            },
            json!({"type":"conversation.item.truncate","item_id":"item_A","content_index":0,"audio_end_ms":1840}),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(encode_one(Dialect::Ga, &input), expected, "{input:?}");
    }
}

#[test]
fn unsupported_inputs_are_typed_errors() {
    let mut beta = Encoder::new(Dialect::Beta);
    let image = ClientInput::Image {
        mime_type: "image/png".into(),
        data: Pcm(vec![1, 2, 3]),
    };
    assert!(matches!(
        beta.encode(&image),
        Err(EncodeError::Unsupported { .. })
    ));
    let mut ga = Encoder::new(Dialect::Ga);
    assert!(ga.encode(&image).is_ok());
    assert!(matches!(
        ga.encode(&ClientInput::Resume { handle: "h".into() }),
        Err(EncodeError::Unsupported { .. })
    ));
    let wrong_rate = ClientInput::Audio {
        pcm: Pcm(vec![0, 0]),
        sample_rate: 16_000,
    };
    assert!(matches!(
        ga.encode(&wrong_rate),
        Err(EncodeError::SampleRate {
            expected: 24_000,
            got: 16_000
        })
    ));
}
