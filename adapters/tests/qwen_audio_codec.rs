//! The Qwen-Audio-Realtime codec: protocol-file frames decode to the expected
//! normalised events (ambient speech, withdrawn turns, voiceprints, settled
//! transcripts, cancel reasons); inputs encode to the shapes the dashscope
//! SDK sends; the registry routes `qwen-audio-` models to the dialect.

use http::HeaderMap;
use serde_json::{json, Value};
use understudy_adapters::qwen_audio::{capabilities, Decoder, Encoder, QwenAudioCodec, DIALECT};
use understudy_adapters::registry::{self, recognise_websocket};
use understudy_adapters::round_trip::round_trip;
use understudy_adapters::{
    AudioFormat, ClientInput, EncodeError, Modality, ModelEvent, RealtimeCodec, ResponseOptions,
    ResponseStatus, SessionConfig, ToolChoice, ToolSpec, TurnDetection, VoiceprintState, WireFrame,
};

fn decode_all(frames: &[Value]) -> Vec<ModelEvent> {
    let mut decoder = Decoder::new();
    frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect()
}

fn encode(encoder: &mut Encoder, input: ClientInput) -> Value {
    let events = encoder.encode(&input).unwrap();
    assert_eq!(events.len(), 1);
    serde_json::to_value(&events[0]).unwrap()
}

#[test]
fn ambient_speech_is_its_own_event_and_never_a_user_turn() {
    let events = decode_all(&[
        json!({"type":"conversation.item.ambient_audio_transcription.delta","event_id":"e1","item_id":"amb_1","content_index":0,"text":"uh","stash":"-huh"}),
        json!({"type":"conversation.item.ambient_audio_transcription.completed","event_id":"e2","item_id":"amb_1","content_index":0,"transcript":"uh-huh"}),
    ]);
    assert_eq!(
        events,
        [
            ModelEvent::AmbientTranscript {
                item_id: "amb_1".into(),
                text: "uh".into(),
                stash: Some("-huh".into()),
                done: false
            },
            ModelEvent::AmbientTranscript {
                item_id: "amb_1".into(),
                text: "uh-huh".into(),
                stash: None,
                done: true
            },
        ]
    );
}

#[test]
fn a_turn_invalid_stop_withdraws_the_turn_and_a_valid_stop_does_not() {
    let events = decode_all(&[
        json!({"type":"input_audio_buffer.speech_stopped","event_id":"e1","audio_end_ms":900,"item_id":"item_U","reason":"turn_invalid"}),
        json!({"type":"input_audio_buffer.speech_stopped","event_id":"e2","audio_end_ms":2900,"item_id":"item_V"}),
    ]);
    assert_eq!(
        events,
        [
            ModelEvent::SpeechStopped {
                item_id: "item_U".into(),
                audio_end_ms: 900
            },
            ModelEvent::TurnWithdrawn {
                item_id: "item_U".into()
            },
            ModelEvent::SpeechStopped {
                item_id: "item_V".into(),
                audio_end_ms: 2900
            },
        ]
    );
}

#[test]
fn voiceprint_progress_is_reported_with_its_failure_reason() {
    let events = decode_all(&[
        json!({"type":"voiceprint_audio_list.in_progress","event_id":"e1","item_id":"vp_1"}),
        json!({"type":"voiceprint_audio_list.failed","event_id":"e2","item_id":"vp_1","reason":"download timeout"}),
        json!({"type":"voiceprint_audio_list.completed","event_id":"e3","item_id":"vp_2"}),
    ]);
    let states: Vec<_> = events
        .iter()
        .map(|e| match e {
            ModelEvent::VoiceprintStatus {
                task_id,
                state,
                reason,
            } => (task_id.as_str(), *state, reason.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        states,
        [
            ("vp_1", VoiceprintState::InProgress, None),
            (
                "vp_1",
                VoiceprintState::Failed,
                Some("download timeout".into())
            ),
            ("vp_2", VoiceprintState::Completed, None),
        ]
    );
}

#[test]
fn user_transcript_deltas_report_newly_settled_text_cumulative_or_not() {
    let delta = |text: &str, stash: &str| json!({"type":"conversation.item.input_audio_transcription.delta","event_id":"e","item_id":"item_U","content_index":0,"text":text,"stash":stash});
    let events = decode_all(&[
        delta("", "What is"),
        delta("What is", " the weather"),
        delta("What is the weather", " in Paris"),
        json!({"type":"conversation.item.input_audio_transcription.completed","event_id":"e","item_id":"item_U","content_index":0,"transcript":"What is the weather in Paris?"}),
    ]);
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::InputTranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, ["What is", " the weather"]);
    assert!(
        matches!(events.last(), Some(ModelEvent::InputTranscriptDone { transcript, .. }) if transcript == "What is the weather in Paris?")
    );
}

#[test]
fn cancel_reasons_tell_barge_in_from_client_cancel() {
    let done = |reason: &str| json!({"type":"response.done","event_id":"e","response":{"id":"resp_1","object":"realtime.response","status":"cancelled","status_details":{"type":"cancelled","reason":reason},"output":[]}});
    let barge_in = decode_all(&[done("turn_detected")]);
    assert!(
        matches!(&barge_in[0], ModelEvent::Interrupted { response_id: Some(id) } if id == "resp_1")
    );
    assert!(
        matches!(&barge_in[1], ModelEvent::ResponseDone { status: ResponseStatus::Cancelled, reason: Some(r), .. } if r == "turn_detected")
    );
    let cancelled = decode_all(&[done("client_cancelled")]);
    assert_eq!(cancelled.len(), 1, "no interruption on a client cancel");
}

#[test]
fn errors_are_fatal_only_when_the_service_ends_the_session() {
    let events = decode_all(&[
        json!({"type":"error","event_id":"e","error":{"type":"invalid_request_error","code":"invalid_value","message":"Cannot create response while another response is in progress.","param":"response.create"}}),
        json!({"type":"error","event_id":"e","error":{"type":"server_error","code":"internal_error","message":"boom","param":null}}),
    ]);
    let fatal: Vec<bool> = events
        .iter()
        .map(|e| match e {
            ModelEvent::Error(info) => info.fatal,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(fatal, [false, true]);
}

#[test]
fn the_close_ends_the_session_and_ending_sends_nothing() {
    let mut codec = QwenAudioCodec::new("qwen-audio-3.1-realtime-plus");
    assert!(codec.encode(&ClientInput::EndSession).unwrap().is_empty());
    let events = codec
        .decode(&WireFrame::Close {
            code: Some(1000),
            reason: String::new(),
        })
        .unwrap();
    assert!(matches!(
        events.as_slice(),
        [ModelEvent::SessionEnded {
            close_code: Some(1000),
            ..
        }]
    ));
}

#[test]
fn the_session_is_the_flat_shape_the_sdk_sends_with_smart_turn_for_semantic_detection() {
    let mut encoder = Encoder::new("qwen-audio-3.1-realtime-plus")
        .with_voiceprint_urls(vec!["https://example.com/me.wav".into()]);
    let frame = encode(
        &mut encoder,
        ClientInput::Session(SessionConfig {
            instructions: Some("x".into()),
            voice: Some("longanqian_v3.1".into()),
            input_transcription: Some("fun-asr".into()),
            output_modalities: Some(vec![Modality::Audio]),
            input_format: Some(AudioFormat::pcm16(16_000)),
            output_format: Some(AudioFormat::pcm16(24_000)),
            turn_detection: Some(TurnDetection::SemanticVad {
                eagerness: None,
                create_response: None,
                interrupt_response: None,
            }),
            tools: vec![ToolSpec {
                name: "get_weather".into(),
                description: "Weather".into(),
                parameters: json!({"type": "object"}),
                behavior: None,
            }],
            tool_choice: Some(ToolChoice::Auto),
        }),
    );
    let session = &frame["session"];
    assert_eq!(frame["type"], "session.update");
    assert_eq!(session["modalities"], json!(["text", "audio"]));
    assert_eq!(session["input_audio_format"], "pcm");
    assert_eq!(session["output_audio_format"], "pcm");
    assert_eq!(session["input_audio_transcription"], json!({}));
    assert_eq!(
        session["turn_detection"],
        json!({"type": "smart_turn", "voiceprint_audio_urls": ["https://example.com/me.wav"]})
    );
    assert_eq!(session["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(session["tool_choice"], "auto");
    round_trip(DIALECT, true, &frame).unwrap();
}

#[test]
fn text_turns_tool_results_and_responses_encode_and_the_rest_is_refused() {
    let mut encoder = Encoder::new("qwen-audio-3.0-realtime-flash");
    let text = encode(&mut encoder, ClientInput::Text { text: "Hi".into() });
    assert_eq!(
        text["item"]["content"][0],
        json!({"type": "input_text", "text": "Hi"})
    );
    let result = encode(
        &mut encoder,
        ClientInput::ToolResult {
            call_id: "call_1".into(),
            name: "get_weather".into(),
            output: "{}".into(),
            scheduling: None,
        },
    );
    assert_eq!(result["item"]["type"], "function_call_output");
    let create = encode(
        &mut encoder,
        ClientInput::CreateResponse(ResponseOptions::default()),
    );
    assert_eq!(
        create["response"],
        json!({}),
        "the SDK sends an empty object"
    );
    for refused in [
        ClientInput::Image {
            mime_type: "image/jpeg".into(),
            data: vec![0xFF, 0xD8].into(),
        },
        ClientInput::CreateResponse(ResponseOptions {
            instructions: Some("say hi".into()),
            output_modalities: None,
        }),
    ] {
        assert!(matches!(
            encoder.encode(&refused),
            Err(EncodeError::Unsupported { .. })
        ));
    }
    assert!(matches!(
        encoder.encode(&ClientInput::Audio {
            pcm: vec![0u8; 64].into(),
            sample_rate: 24_000
        }),
        Err(EncodeError::SampleRate {
            expected: 16_000,
            ..
        })
    ));
}

#[test]
fn capabilities_say_text_tools_and_no_goodbye() {
    let caps = capabilities("qwen-audio-3.1-realtime-plus");
    assert_eq!(caps.dialect, DIALECT);
    assert!(caps.text_input && caps.tool_calls && caps.response_after_tool_result);
    assert!(!caps.end_handshake && !caps.image_input && !caps.truncation);
    assert_eq!(
        (caps.input_sample_rate, caps.output_sample_rate),
        (16_000, 24_000)
    );
}

#[test]
fn the_registry_routes_qwen_audio_models_by_name_on_the_shared_path() {
    let ws = |path: &str| recognise_websocket(path, &HeaderMap::new()).map(|d| d.id);
    assert_eq!(
        ws("/api-ws/v1/realtime?model=qwen-audio-3.1-realtime-plus"),
        Some(DIALECT)
    );
    assert_eq!(
        ws("/api-ws/v1/realtime?model=qwen3-omni-flash-realtime"),
        Some("dashscope-omni")
    );
    assert_eq!(
        ws("/api-ws/v1/realtime?model=qwen3-tts-flash-realtime"),
        Some("dashscope-tts")
    );
    let dashscope = registry::provider("dashscope").unwrap();
    assert_eq!(
        dashscope.realtime_for("qwen-audio-3.1-realtime-plus").id,
        DIALECT
    );
    assert_eq!(
        dashscope.realtime_for("qwen-audio-3.0-realtime-flash").id,
        DIALECT
    );
    assert_eq!(
        dashscope.realtime_for("qwen3-omni-flash-realtime").id,
        "dashscope-omni"
    );
    let codec = registry::codec_for_dialect(DIALECT, "qwen-audio-3.1-realtime-plus").unwrap();
    assert_eq!(codec.capabilities().dialect, DIALECT);
}

#[test]
fn every_protocol_file_event_round_trips_losslessly() {
    let server = [
        json!({"type":"session.created","event_id":"event_Q1","session":{"id":"sess_Q1","object":"realtime.session","model":"qwen-audio-3.1-realtime-plus","modalities":["text","audio"],"voice":"longanqian_v3.1","input_audio_transcription":{"model":"fun-asr"},"turn_detection":{"type":"smart_turn","threshold":0.5,"silence_duration_ms":800,"voiceprint_audio_urls":["https://a/b.wav"]},"max_history_turns":20,"enable_speech_emotion":null}}),
        json!({"type":"input_audio_buffer.speech_stopped","event_id":"e","audio_end_ms":1,"item_id":"i","reason":"turn_invalid"}),
        json!({"type":"conversation.item.input_audio_transcription.delta","event_id":"e","item_id":"i","content_index":0,"text":"a","stash":"b","emotion":"neutral"}),
        json!({"type":"conversation.item.ambient_audio_transcription.completed","event_id":"e","item_id":"amb","content_index":0,"transcript":"t"}),
        json!({"type":"conversation.item.deleted","event_id":"e","item_id":"i"}),
        json!({"type":"conversation.item.retrieved","event_id":"e","item":{"id":"i","type":"message","role":"user","content":[{"type":"input_audio","transcript":"t"}]}}),
        json!({"type":"voiceprint_audio_list.failed","event_id":"e","item_id":"vp_1","reason":"oss:// URLs are not supported"}),
        json!({"type":"some.future.event","event_id":"e","x":1}),
    ];
    for frame in &server {
        round_trip(DIALECT, false, frame).unwrap_or_else(|e| panic!("{frame}: {e}"));
    }
    for frame in [
        json!({"type":"conversation.item.retrieve","event_id":"e","item_id":"i"}),
        json!({"type":"conversation.item.delete","item_id":"i"}),
        json!({"type":"conversation.item.create","previous_item_id":"i","item":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]}}),
    ] {
        round_trip(DIALECT, true, &frame).unwrap_or_else(|e| panic!("{frame}: {e}"));
    }
    let events = decode_all(&server[..1]);
    assert!(
        matches!(&events[0], ModelEvent::SessionCreated { model, .. } if model == "qwen-audio-3.1-realtime-plus")
    );
    assert!(matches!(
        decode_all(&server[7..]).as_slice(),
        [ModelEvent::Unrecognized { provider_type }] if provider_type == "some.future.event"
    ));
}
