//! The Gemini Live codec: multi-part server messages decode to every event in
//! order, with minted response ids; inputs encode to setup/realtimeInput/
//! clientContent/toolResponse, or typed refusals.

use serde_json::json;
use understudy_adapters::gemini::{Encoder, GeminiCodec};
use understudy_adapters::{
    ClientInput, EncodeError, ModelEvent, Pcm, RealtimeCodec, ResponseOptions, ResponseStatus,
    SessionConfig, ToolSpec, TurnDetection, WireFrame,
};

mod common;

fn decode_all(messages: &[serde_json::Value]) -> Vec<ModelEvent> {
    common::gemini_events(messages)
}

fn kinds(events: &[ModelEvent]) -> Vec<&'static str> {
    events.iter().map(ModelEvent::kind).collect()
}

#[test]
fn an_audio_turn_decodes_with_minted_ids_and_settled_transcripts() {
    let events = decode_all(&[
        json!({"setupComplete": {}}),
        json!({"sessionResumptionUpdate": {"newHandle": "h1", "resumable": true}}),
        json!({"serverContent": {"inputTranscription": {"text": "What is"}}}),
        json!({"serverContent": {"inputTranscription": {"text": " the weather?"}}}),
        json!({"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AQACAA=="}}]}}}),
        json!({"serverContent": {"outputTranscription": {"text": "Sunny."}}}),
        json!({"serverContent": {"generationComplete": true}}),
        json!({"serverContent": {"turnComplete": true}, "usageMetadata": {"promptTokenCount": 9, "responseTokenCount": 4, "totalTokenCount": 13,
            "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 4}]}}),
    ]);
    assert_eq!(
        kinds(&events),
        [
            "session_created",
            "resumption_handle",
            "input_transcript_delta",
            "input_transcript_delta",
            "input_transcript_done",
            "response_created",
            "audio_delta",
            "transcript_delta",
            "audio_done",
            "transcript_done",
            "response_done",
            "usage"
        ]
    );
    assert!(
        matches!(&events[0], ModelEvent::SessionCreated { model, input_format: Some(i), .. } if model == "gemini-live-2.5-flash-preview" && i.sample_rate == 16_000)
    );
    assert_eq!(
        events[1],
        ModelEvent::ResumptionHandle {
            handle: Some("h1".into()),
            resumable: true
        }
    );
    assert!(
        matches!(&events[4], ModelEvent::InputTranscriptDone { transcript, .. } if transcript == "What is the weather?")
    );
    assert!(
        matches!(&events[6], ModelEvent::AudioDelta { sample_rate: 24_000, pcm, response_id, .. } if pcm.len() == 4 && response_id == "turn_0")
    );
    assert!(
        matches!(&events[10], ModelEvent::ResponseDone { status: ResponseStatus::Completed, response_id, .. } if response_id == "turn_0")
    );
    assert!(
        matches!(&events[11], ModelEvent::Usage { usage: u, .. } if u.output_audio_tokens == Some(4) && u.total_tokens == Some(13))
    );
}

#[test]
fn every_part_of_one_message_is_decoded_in_order() {
    let events = decode_all(&[json!({
        "serverContent": {"modelTurn": {"parts": [{"text": "Hi"}]}, "turnComplete": true},
        "usageMetadata": {"totalTokenCount": 3}
    })]);
    assert_eq!(
        kinds(&events),
        [
            "response_created",
            "text_delta",
            "text_done",
            "response_done",
            "usage"
        ]
    );
}

#[test]
fn interruption_cancels_the_turn_and_ids_move_on() {
    let events = decode_all(&[
        json!({"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AAA="}}]}}}),
        json!({"serverContent": {"interrupted": true}}),
        json!({"serverContent": {"turnComplete": true}}),
        json!({"serverContent": {"modelTurn": {"parts": [{"text": "next"}]}}}),
    ]);
    assert_eq!(
        kinds(&events),
        [
            "response_created",
            "audio_delta",
            "interrupted",
            "audio_done",
            "response_done",
            "response_created",
            "text_delta"
        ]
    );
    assert!(matches!(
        &events[4],
        ModelEvent::ResponseDone {
            status: ResponseStatus::Cancelled,
            ..
        }
    ));
    assert!(
        matches!(&events[5], ModelEvent::ResponseCreated { response_id } if response_id == "turn_1")
    );
}

#[test]
fn tool_calls_cancellations_go_away_and_closes() {
    let events = decode_all(&[
        json!({"toolCall": {"functionCalls": [{"id": "fc-1", "name": "get_weather", "args": {"city": "Paris"}}, {"name": "noid", "args": {}}]}}),
        json!({"toolCallCancellation": {"ids": ["fc-1"]}}),
        json!({"goAway": {"timeLeft": "1.5s"}}),
    ]);
    assert_eq!(
        kinds(&events),
        [
            "response_created",
            "tool_call",
            "tool_call",
            "tool_call_cancelled",
            "go_away"
        ]
    );
    assert!(
        matches!(&events[1], ModelEvent::ToolCall { call_id, name, arguments, .. } if call_id == "fc-1" && name == "get_weather" && arguments == r#"{"city":"Paris"}"#)
    );
    assert!(
        matches!(&events[2], ModelEvent::ToolCall { call_id, .. } if call_id == "turn_0_call_1"),
        "a call without id gets one"
    );
    assert_eq!(
        events[4],
        ModelEvent::GoAway {
            time_left_ms: Some(1_500)
        }
    );
    let mut codec = GeminiCodec::new("m");
    let closed = codec
        .decode(&WireFrame::Close {
            code: Some(1008),
            reason: "models/x is not found".into(),
        })
        .unwrap();
    assert!(
        matches!(&closed[..], [ModelEvent::Error(e), ModelEvent::SessionEnded { close_code: Some(1008), .. }] if e.code == "close_1008" && e.fatal)
    );
    let normal = codec
        .decode(&WireFrame::Close {
            code: Some(1000),
            reason: String::new(),
        })
        .unwrap();
    assert!(matches!(&normal[..], [ModelEvent::SessionEnded { .. }]));
}

#[test]
fn a_tool_call_settles_the_users_transcript_first() {
    let events = decode_all(&[
        json!({"serverContent": {"inputTranscription": {"text": "weather in Paris?"}}}),
        json!({"toolCall": {"functionCalls": [{"id": "fc-1", "name": "get_weather", "args": {"city": "Paris"}}]}}),
        json!({"serverContent": {"inputTranscription": {"text": "Wait"}}}),
        json!({"serverContent": {"interrupted": true}}),
    ]);
    assert_eq!(
        kinds(&events),
        [
            "input_transcript_delta",
            "input_transcript_done",
            "response_created",
            "tool_call",
            "input_transcript_delta",
            "interrupted"
        ]
    );
    assert!(
        matches!(&events[1], ModelEvent::InputTranscriptDone { transcript, .. } if transcript == "weather in Paris?")
    );
}

#[test]
fn binary_frames_decode_like_text() {
    let mut codec = GeminiCodec::new("m");
    let events = codec
        .decode(&WireFrame::Binary(br#"{"setupComplete":{}}"#.to_vec()))
        .unwrap();
    assert!(matches!(&events[..], [ModelEvent::SessionCreated { .. }]));
    assert!(codec.decode(&WireFrame::Binary(vec![0xff, 0xfe])).is_err());
}

fn encode(encoder: &mut Encoder, input: ClientInput) -> Vec<serde_json::Value> {
    encoder
        .encode(&input)
        .unwrap()
        .iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect()
}

#[test]
fn setup_carries_the_session_and_must_come_first() {
    let mut encoder = Encoder::new("gemini-live-2.5-flash-preview");
    assert!(encode(
        &mut encoder,
        ClientInput::Resume {
            handle: "h9".into()
        }
    )
    .is_empty());
    let config = SessionConfig {
        instructions: Some("Be brief.".into()),
        voice: Some("Kore".into()),
        input_transcription: Some("default".into()),
        turn_detection: Some(TurnDetection::server_vad()),
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "w".into(),
            parameters: json!({"type":"object","properties":{"city":{"type":"string"}}}),
            behavior: None,
        }],
        ..Default::default()
    };
    let setup = &encode(&mut encoder, ClientInput::Session(config.clone()))[0]["setup"];
    assert_eq!(setup["model"], "models/gemini-live-2.5-flash-preview");
    assert_eq!(
        setup["generationConfig"]["responseModalities"],
        json!(["AUDIO"])
    );
    assert_eq!(
        setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]
            ["voiceName"],
        "Kore"
    );
    assert_eq!(setup["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(
        setup["tools"][0]["functionDeclarations"][0]["parameters"]["properties"]["city"]["type"],
        "STRING"
    );
    assert_eq!(setup["sessionResumption"], json!({"handle": "h9"}));
    assert_eq!(setup["inputAudioTranscription"], json!({}));
    assert_eq!(setup["outputAudioTranscription"], json!({}));
    assert_eq!(
        setup["realtimeInputConfig"]["automaticActivityDetection"]["disabled"],
        false
    );
    assert!(matches!(
        encoder.encode(&ClientInput::Session(config)),
        Err(EncodeError::Unsupported { .. })
    ));
}

#[test]
fn manual_turns_bracket_speech_with_activity_markers() {
    let mut encoder = Encoder::new("m");
    encode(
        &mut encoder,
        ClientInput::Session(SessionConfig {
            turn_detection: Some(TurnDetection::Manual),
            ..Default::default()
        }),
    );
    let audio = || ClientInput::Audio {
        pcm: Pcm(vec![0, 0]),
        sample_rate: 16_000,
    };
    let first = encode(&mut encoder, audio());
    assert_eq!(first[0], json!({"realtimeInput": {"activityStart": {}}}));
    assert_eq!(
        first[1],
        json!({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000", "data": "AAA="}}})
    );
    assert_eq!(
        encode(&mut encoder, audio()).len(),
        1,
        "one activityStart per turn"
    );
    assert_eq!(
        encode(&mut encoder, ClientInput::CommitAudio),
        [json!({"realtimeInput": {"activityEnd": {}}})]
    );
    assert!(encode(&mut encoder, ClientInput::CommitAudio).is_empty());
}

#[test]
fn text_tools_and_what_gemini_has_no_message_for() {
    let mut encoder = Encoder::new("m");
    assert_eq!(
        encode(&mut encoder, ClientInput::Text { text: "hi".into() }),
        [
            json!({"clientContent": {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": true}})
        ]
    );
    assert_eq!(
        encode(
            &mut encoder,
            ClientInput::ToolResult {
                call_id: "fc-1".into(),
                name: "get_weather".into(),
                output: r#"{"sky":"clear"}"#.into(),
                scheduling: None,
            }
        ),
        [
            json!({"toolResponse": {"functionResponses": [{"id": "fc-1", "name": "get_weather", "response": {"sky": "clear"}}]}})
        ]
    );
    let plain = encode(
        &mut encoder,
        ClientInput::ToolResult {
            call_id: "c".into(),
            name: "n".into(),
            output: "18 degrees".into(),
            scheduling: None,
        },
    );
    assert_eq!(
        plain[0]["toolResponse"]["functionResponses"][0]["response"],
        json!({"result": "18 degrees"})
    );
    assert!(encode(
        &mut encoder,
        ClientInput::CreateResponse(ResponseOptions::default())
    )
    .is_empty());
    assert!(encode(&mut encoder, ClientInput::EndSession).is_empty());
    for refused in [
        ClientInput::ClearAudio,
        ClientInput::CancelResponse { response_id: None },
        ClientInput::Truncate {
            item_id: "i".into(),
            content_index: 0,
            audio_end_ms: 1,
        },
    ] {
        assert!(
            matches!(
                encoder.encode(&refused),
                Err(EncodeError::Unsupported { .. })
            ),
            "{refused:?}"
        );
    }
}
