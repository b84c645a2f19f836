//! The GPT-Live codec: one test per inference rule of its module header,
//! the direct mappings (session, usage, errors, close), the encoder, and a
//! property that arbitrary event sequences keep responses well formed.
//! Frames are synthesized from the protocol notes' shapes and worked example.

use proptest::prelude::*;
use serde_json::{json, Value};
use understudy_adapters::audio::Pcm;
use understudy_adapters::codec::{EncodeError, RealtimeCodec, WireFrame};
use understudy_adapters::openai_live::wire::ClientEvent;
use understudy_adapters::openai_live::{DelegationMode, LiveCodec, LiveSettings};
use understudy_adapters::{
    AudioFormat, ClientInput, MessagePhase, ModelEvent, ResponseOptions, ResponseStatus,
    SessionConfig, ToolSpec, TurnDetection,
};

const RATE: u32 = 24_000;

fn codec() -> LiveCodec {
    let mut codec = LiveCodec::new("gpt-live-1");
    started(&mut codec, json!({"type": "audio/pcm", "rate": 24000}));
    codec
}

fn started(codec: &mut LiveCodec, format: Value) -> Vec<ModelEvent> {
    feed(
        codec,
        json!({"type": "session.started", "event_id": "event_1", "client_event_id": "c1",
               "session": {"id": "live_u7_1", "status": "active", "expires_at": 1791373550,
                           "model": "gpt-live-1", "audio": {"format": format, "output": {"voice": "marin"}},
                           "delegation": {"type": "client"}, "input": []}}),
    )
}

fn feed(codec: &mut LiveCodec, event: Value) -> Vec<ModelEvent> {
    codec
        .decode(&WireFrame::Text(event.to_string()))
        .unwrap_or_else(|e| panic!("{event}: {e}"))
}

/// `ms` of audio at 24 kHz: a tone of `amplitude`, or zeros.
fn chunk(ms: u32, amplitude: i16) -> String {
    let samples: Vec<i16> = (0..ms * RATE / 1000)
        .map(|i| if i % 2 == 0 { amplitude } else { -amplitude })
        .collect();
    Pcm::from_samples(&samples).to_base64()
}

fn audio(codec: &mut LiveCodec, amplitude: i16) -> Vec<ModelEvent> {
    feed(
        codec,
        json!({"type": "session.output_audio.delta", "delta": chunk(100, amplitude)}),
    )
}

/// `n` chunks of 100 ms.
fn track(codec: &mut LiveCodec, n: usize, amplitude: i16) -> Vec<ModelEvent> {
    (0..n).flat_map(|_| audio(codec, amplitude)).collect()
}

fn said(codec: &mut LiveCodec, user: bool, text: &str, start: u64, end: u64) -> Vec<ModelEvent> {
    let kind = if user {
        "session.input_transcript.delta"
    } else {
        "session.output_transcript.delta"
    };
    feed(
        codec,
        json!({"type": kind, "event_id": format!("event_{start}"), "delta": text,
               "start_ms": start, "end_ms": end}),
    )
}

fn kinds(events: &[ModelEvent]) -> Vec<&'static str> {
    events.iter().map(ModelEvent::kind).collect()
}

fn done(events: &[ModelEvent]) -> Vec<(String, ResponseStatus)> {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::ResponseDone {
                response_id,
                status,
                ..
            } => Some((response_id.clone(), *status)),
            _ => None,
        })
        .collect()
}

fn audio_bytes(events: &[ModelEvent]) -> usize {
    events
        .iter()
        .map(|e| match e {
            ModelEvent::AudioDelta { pcm, .. } => pcm.len(),
            _ => 0,
        })
        .sum()
}

/// The user asks "What's the weather?" (timeline 1000–1800) while the idle
/// track runs to 2400.
fn user_asks(codec: &mut LiveCodec) -> Vec<ModelEvent> {
    let mut out = track(codec, 14, 0);
    out.extend(said(codec, true, "What's", 1000, 1200));
    out.extend(said(codec, true, " the", 1200, 1400));
    out.extend(track(codec, 3, 0));
    out.extend(said(codec, true, " weather?", 1600, 1800));
    out.extend(track(codec, 7, 0));
    out
}

#[test]
fn session_started_gives_one_format_both_ways_and_the_expiry() {
    let mut codec = LiveCodec::new("gpt-live-1");
    let events = started(&mut codec, json!({"type": "audio/pcmu", "rate": 8000}));
    assert_eq!(
        events,
        [ModelEvent::SessionCreated {
            session_id: "live_u7_1".into(),
            model: "gpt-live-1".into(),
            input_format: Some(AudioFormat::G711_ULAW),
            output_format: Some(AudioFormat::G711_ULAW),
            expires_at: Some(1791373550),
        }]
    );
}

#[test]
fn the_idle_track_is_not_speech() {
    let mut codec = codec();
    let mut events = track(&mut codec, 30, 0);
    events.extend(track(&mut codec, 30, 20)); // dither
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_reply_starts_at_the_first_voice_and_ends_after_two_seconds_of_quiet() {
    let mut codec = codec();
    let asked = user_asks(&mut codec);
    assert_eq!(
        kinds(&asked),
        [
            "speech_started",
            "input_transcript_delta",
            "input_transcript_delta",
            "input_transcript_delta"
        ],
        "no turn ends while the timeline (2400) is < 800 ms past 1800 and no reply came"
    );
    assert!(matches!(
        asked[0],
        ModelEvent::SpeechStarted {
            audio_start_ms: 1000,
            ..
        }
    ));

    let mut reply = audio(&mut codec, 3000);
    assert_eq!(
        kinds(&reply),
        [
            "speech_stopped",
            "input_committed",
            "input_transcript_done",
            "response_created",
            "audio_delta"
        ]
    );
    assert!(reply.contains(&ModelEvent::InputTranscriptDone {
        item_id: "live_in_1".into(),
        transcript: "What's the weather?".into()
    }));
    reply.extend(said(&mut codec, false, "It's", 2400, 2600));
    reply.extend(track(&mut codec, 3, 3000));
    reply.extend(said(&mut codec, false, " sunny.", 2600, 2800));
    // 2800: the voice stops. Quiet until 4799 keeps the reply open.
    let quiet = track(&mut codec, 19, 0);
    assert!(done(&quiet).is_empty(), "{:?}", kinds(&quiet));
    // Only 500 ms of the trailing silence is reported as audio.
    assert_eq!(audio_bytes(&quiet), 5 * 4800);
    let end = audio(&mut codec, 0);
    assert_eq!(
        kinds(&end),
        ["audio_done", "transcript_done", "response_done"]
    );
    assert!(end.contains(&ModelEvent::TranscriptDone {
        response_id: "live_resp_1".into(),
        item_id: "live_out_1".into(),
        transcript: "It's sunny.".into(),
        phase: Some(MessagePhase::FinalAnswer),
    }));
    let ModelEvent::ResponseDone { status, reason, .. } = &end[2] else {
        panic!("{end:?}")
    };
    assert_eq!(*status, ResponseStatus::Completed);
    assert!(reason.as_deref().unwrap_or("").starts_with("inferred"));
    // Voice (400 ms) plus the kept pause; nothing after the reply.
    assert_eq!(audio_bytes(&reply) + audio_bytes(&quiet), 9 * 4800);
    assert!(track(&mut codec, 20, 0).is_empty());
}

#[test]
fn a_long_pause_inside_a_reply_is_held_and_sent_when_the_voice_resumes() {
    let mut codec = codec();
    let mut events = audio(&mut codec, 3000);
    let pause = track(&mut codec, 8, 0);
    assert_eq!(audio_bytes(&pause), 5 * 4800, "3 chunks held back");
    let resumed = audio(&mut codec, 3000);
    assert_eq!(
        audio_bytes(&resumed),
        4 * 4800,
        "held chunks, then the voice"
    );
    events.extend(pause);
    events.extend(resumed);
    let created = kinds(&events)
        .into_iter()
        .filter(|k| *k == "response_created")
        .count();
    assert_eq!(created, 1, "one reply across the pause");
    assert!(done(&events).is_empty());
}

#[test]
fn a_reply_opened_by_its_transcript_keeps_its_leading_silence() {
    let mut codec = codec();
    track(&mut codec, 24, 0);
    let opened = said(&mut codec, false, "Hello", 2400, 2600);
    assert_eq!(kinds(&opened), ["response_created", "transcript_delta"]);
    let lead = track(&mut codec, 2, 0);
    assert_eq!(kinds(&lead), ["audio_delta", "audio_delta"]);
    let voice = audio(&mut codec, 3000);
    let ModelEvent::AudioDelta { response_id, .. } = &voice[0] else {
        panic!("{voice:?}")
    };
    assert_eq!(response_id, "live_resp_1");
}

#[test]
fn talking_over_a_reply_that_then_stops_is_a_barge_in() {
    let mut codec = codec();
    user_asks(&mut codec);
    let mut events = said(&mut codec, false, "It's", 2400, 2600);
    events.extend(track(&mut codec, 5, 3000)); // voice 2400–2900
                                               // The user started at 2700; the fragment arrives at 2900.
    let overlap = said(&mut codec, true, "Wait", 2700, 2900);
    assert_eq!(
        kinds(&overlap),
        ["speech_started", "input_transcript_delta"]
    );
    let stop = track(&mut codec, 3, 0); // quiet 2900–3200
    assert_eq!(
        kinds(&stop)
            .into_iter()
            .filter(|k| *k != "audio_delta")
            .collect::<Vec<_>>(),
        [
            "interrupted",
            "audio_done",
            "transcript_done",
            "response_done"
        ]
    );
    assert_eq!(
        done(&stop),
        [("live_resp_1".to_owned(), ResponseStatus::Cancelled)]
    );
}

#[test]
fn a_model_that_talks_through_the_users_words_was_not_interrupted() {
    let mut codec = codec();
    user_asks(&mut codec);
    let mut events = audio(&mut codec, 3000); // reply from 2400
    events.extend(track(&mut codec, 5, 3000));
    events.extend(said(&mut codec, true, "mhm", 2700, 2900));
    events.extend(track(&mut codec, 15, 3000)); // voice to 4500
    events.extend(track(&mut codec, 25, 0));
    assert!(!kinds(&events).contains(&"interrupted"));
    assert_eq!(
        done(&events),
        [("live_resp_1".to_owned(), ResponseStatus::Completed)]
    );
}

#[test]
fn the_user_speaking_after_the_model_stopped_completes_the_reply_at_once() {
    let mut codec = codec();
    user_asks(&mut codec);
    track(&mut codec, 5, 3000); // voice 2400–2900
    track(&mut codec, 4, 0); // quiet to 3300
    let next = said(&mut codec, true, "Thanks", 3000, 3200);
    assert_eq!(
        kinds(&next),
        [
            "audio_done",
            "response_done",
            "speech_started",
            "input_transcript_delta"
        ]
    );
    assert_eq!(
        done(&next),
        [("live_resp_1".to_owned(), ResponseStatus::Completed)]
    );
}

#[test]
fn the_users_turn_ends_after_quiet_when_no_reply_comes() {
    let mut codec = codec();
    said(&mut codec, true, "Hello", 1000, 1200);
    assert!(codec.advance_to(1999).is_empty());
    let ended = codec.advance_to(2000);
    assert_eq!(
        kinds(&ended),
        ["speech_stopped", "input_committed", "input_transcript_done"]
    );
    assert!(matches!(
        ended[0],
        ModelEvent::SpeechStopped {
            audio_end_ms: 1200,
            ..
        }
    ));
}

#[test]
fn fragments_released_together_after_the_utterance_stay_one_turn() {
    // A transcriber that waits for the end of an utterance releases all of
    // its fragments at once, well past the first ones' `end_ms`: the quiet
    // that ends the turn counts from their arrival, not from their ends.
    let mut codec = codec();
    track(&mut codec, 40, 0); // the timeline is at 4,000 ms
    let mut events = Vec::new();
    for (text, start) in [
        ("Can", 1000),
        (" you", 1200),
        (" check", 1400),
        (" it?", 1600),
    ] {
        events.extend(said(&mut codec, true, text, start, start + 200));
    }
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|k| **k == "speech_started")
            .count(),
        1,
        "{events:?}"
    );
    assert!(
        !kinds(&events).contains(&"input_transcript_done"),
        "{events:?}"
    );
    let ended = codec.advance_to(4_800);
    assert!(
        ended.contains(&ModelEvent::InputTranscriptDone {
            item_id: "live_in_1".into(),
            transcript: "Can you check it?".into(),
        }),
        "{ended:?}"
    );
}

/// `ms` of input audio at 24 kHz sent through the codec (a tone of
/// `amplitude`, or zeros); what it infers.
fn speak_in(codec: &mut LiveCodec, ms: u32, amplitude: i16) -> Vec<ModelEvent> {
    let samples: Vec<i16> = (0..ms * RATE / 1000)
        .map(|i| if i % 2 == 0 { amplitude } else { -amplitude })
        .collect();
    codec
        .encode_events(&ClientInput::Audio {
            pcm: Pcm::from_samples(&samples),
            sample_rate: RATE,
        })
        .unwrap();
    // What the microphone inferred comes with the next frame.
    codec.advance_to(0)
}

#[test]
fn the_microphone_marks_a_barge_in_before_any_transcript() {
    let mut codec = codec();
    let mut events = track(&mut codec, 5, 0);
    events.extend(track(&mut codec, 5, 3_000)); // the model speaks from 500 ms
    speak_in(&mut codec, 1_000, 0);
    speak_in(&mut codec, 300, 8_000); // the user talks over it at 1,000 ms
    events.extend(track(&mut codec, 2, 3_000)); // its voice stops at 1,200 ms
    events.extend(track(&mut codec, 4, 0));
    assert!(kinds(&events).contains(&"interrupted"), "{events:?}");
    assert_eq!(
        done(&events),
        [("live_resp_1".into(), ResponseStatus::Cancelled)]
    );
    assert!(
        !kinds(&events).contains(&"speech_started"),
        "the user's turn starts with its words"
    );
}

#[test]
fn the_microphone_after_the_model_stopped_is_no_barge_in() {
    let mut codec = codec();
    let mut events = track(&mut codec, 5, 0);
    events.extend(track(&mut codec, 4, 3_000)); // the model speaks 500–900 ms
    speak_in(&mut codec, 1_000, 0);
    speak_in(&mut codec, 300, 8_000); // the user starts at 1,000 ms
    events.extend(track(&mut codec, 21, 0));
    assert!(!kinds(&events).contains(&"interrupted"), "{events:?}");
    assert_eq!(
        done(&events),
        [("live_resp_1".into(), ResponseStatus::Completed)]
    );
    // A microphone level off: only words say the user spoke.
    let settings = LiveSettings {
        input_voice_peak: None,
        ..LiveSettings::default()
    };
    let mut quiet = LiveCodec::with_settings("gpt-live-1", settings);
    started(&mut quiet, json!({"type": "audio/pcm", "rate": 24000}));
    let mut events = track(&mut quiet, 5, 0);
    events.extend(track(&mut quiet, 5, 3_000));
    speak_in(&mut quiet, 1_000, 0);
    speak_in(&mut quiet, 300, 8_000);
    events.extend(track(&mut quiet, 2, 3_000));
    events.extend(track(&mut quiet, 4, 0));
    assert!(!kinds(&events).contains(&"interrupted"), "{events:?}");
}

#[test]
fn late_punctuation_joins_the_turn_it_belongs_to() {
    let mut codec = codec();
    said(&mut codec, true, "Hi", 1000, 1200);
    said(&mut codec, false, "Hello", 1600, 1800);
    let late = said(&mut codec, true, "!", 1200, 1400);
    assert_eq!(
        late,
        [ModelEvent::InputTranscriptDelta {
            item_id: "live_in_1".into(),
            delta: "!".into()
        }]
    );
}

#[test]
fn sentences_the_service_runs_together_get_their_space() {
    let mut codec = codec();
    said(&mut codec, true, "Hi.", 1000, 1200);
    let second = said(&mut codec, true, "How are you?", 1200, 1400);
    assert!(
        second.contains(&ModelEvent::InputTranscriptDelta {
            item_id: "live_in_1".into(),
            delta: " How are you?".into()
        }),
        "the delta carries the space, so the deltas join to the transcript: {second:?}"
    );
    let ended = codec.advance_to(3000);
    assert!(ended.contains(&ModelEvent::InputTranscriptDone {
        item_id: "live_in_1".into(),
        transcript: "Hi. How are you?".into()
    }));
}

#[test]
fn a_client_delegation_is_a_tool_call_whose_result_is_a_commentary_append() {
    let mut codec = codec();
    said(&mut codec, true, "Please", 1000, 1200);
    said(&mut codec, true, " check staging.", 1200, 1600);
    let created = feed(
        &mut codec,
        json!({"type": "session.delegation.created", "event_id": "event_d",
               "delegation": {"id": "item_7", "type": "delegation", "target": "client"},
               "offset_ms": 1600}),
    );
    assert_eq!(
        kinds(&created),
        [
            "speech_stopped",
            "input_committed",
            "input_transcript_done",
            "delegation_created",
            "response_created",
            "tool_call"
        ]
    );
    let ModelEvent::ToolCall {
        response_id,
        call_id,
        name,
        arguments,
        ..
    } = &created[5]
    else {
        panic!("{created:?}")
    };
    assert_eq!(
        (response_id.as_str(), call_id.as_str(), name.as_str()),
        ("live_resp_1", "item_7", "delegate")
    );
    let arguments: Value = serde_json::from_str(arguments).unwrap();
    assert_eq!(
        arguments,
        json!({"request": "Please check staging.", "offset_ms": 1600})
    );

    // The model's acknowledgement is commentary.
    let ack = said(&mut codec, false, "Okay, checking.", 1800, 2200);
    assert!(matches!(
        &ack[0],
        ModelEvent::TranscriptDelta {
            phase: Some(MessagePhase::Commentary),
            ..
        }
    ));
    codec.advance_to(4300);

    let frames = codec
        .encode(&ClientInput::ToolResult {
            call_id: "item_7".into(),
            name: "delegate".into(),
            output: "Staging is healthy.".into(),
            scheduling: None,
        })
        .unwrap();
    let [WireFrame::Text(text)] = frames.as_slice() else {
        panic!("{frames:?}")
    };
    let sent: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        sent,
        json!({"type": "session.commentary.append", "content": "Staging is healthy.",
               "delegation_id": "item_7", "event_id": "understudy_result_1"})
    );
    let placed = feed(
        &mut codec,
        json!({"type": "session.commentary.appended", "event_id": "e", "client_event_id": "understudy_result_1",
               "start_ms": 4400, "end_ms": 4600}),
    );
    assert_eq!(
        placed,
        [ModelEvent::DelegationResult {
            delegation_id: "item_7".into(),
            response_id: None,
            status: ResponseStatus::Completed
        }]
    );
    // Once answered, the model's next reply is the answer.
    let answer = said(&mut codec, false, "Staging is healthy.", 4600, 5200);
    assert!(matches!(
        &answer[1],
        ModelEvent::TranscriptDelta {
            phase: Some(MessagePhase::FinalAnswer),
            ..
        }
    ));
}

#[test]
fn a_refused_result_append_fails_the_delegation() {
    let mut codec = codec();
    feed(
        &mut codec,
        json!({"type": "session.delegation.created", "event_id": "event_d",
               "delegation": {"id": "item_7", "type": "delegation", "target": "client"}, "offset_ms": 0}),
    );
    codec
        .encode(&ClientInput::ToolResult {
            call_id: "item_7".into(),
            name: "delegate".into(),
            output: "x".into(),
            scheduling: None,
        })
        .unwrap();
    let refused = feed(
        &mut codec,
        json!({"type": "error", "event_id": "e",
               "error": {"type": "invalid_request_error", "code": "context_injection_incomplete",
                         "message": "Context injection did not complete.", "client_event_id": "understudy_result_1"}}),
    );
    assert_eq!(kinds(&refused), ["error", "delegation_result"]);
    assert!(matches!(
        &refused[1],
        ModelEvent::DelegationResult {
            status: ResponseStatus::Failed,
            ..
        }
    ));
}

#[test]
fn long_results_are_split_below_the_append_limit() {
    let settings = LiveSettings {
        max_append_chars: 10,
        ..LiveSettings::default()
    };
    let mut codec = LiveCodec::with_settings("gpt-live-1", settings);
    let frames = codec
        .encode_events(&ClientInput::ToolResult {
            call_id: "item_1".into(),
            name: "delegate".into(),
            output: "one two three four five".into(),
            scheduling: None,
        })
        .unwrap();
    let contents: Vec<String> = frames
        .iter()
        .filter_map(|e| match e {
            ClientEvent::CommentaryAppend(a) => Some(a.content.clone()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(frames[0], ClientEvent::SessionStart(_)),
        "start comes first"
    );
    assert_eq!(contents, ["one two", "three four", "five"]);
}

fn responses_codec() -> LiveCodec {
    let settings = LiveSettings {
        delegation: DelegationMode::Responses {
            model: "gpt-5.1".into(),
        },
        ..LiveSettings::default()
    };
    LiveCodec::with_settings("gpt-live-1", settings)
}

#[test]
fn a_backend_delegation_reports_its_function_calls_when_its_response_ends() {
    let mut codec = responses_codec();
    let start = codec
        .encode_events(&ClientInput::Session(SessionConfig {
            tools: vec![ToolSpec {
                name: "get_weather".into(),
                description: "Weather".into(),
                parameters: json!({"type": "object"}),
                behavior: None,
            }],
            ..SessionConfig::default()
        }))
        .unwrap();
    let start = serde_json::to_value(&start[0]).unwrap();
    assert_eq!(
        start["session"]["delegation"],
        json!({"type": "responses", "responses": {"model": "gpt-5.1", "tools": [
            {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}]}})
    );
    started(&mut codec, json!({"type": "audio/pcm", "rate": 24000}));
    // Nested events may come before the delegation is announced.
    let early = feed(
        &mut codec,
        json!({"type": "response.event", "event_id": "e1", "delegation_id": "item_8",
               "event": {"type": "response.output_item.done", "item": {"type": "function_call", "id": "fc_1",
                         "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}}),
    );
    assert!(early.is_empty());
    let created = feed(
        &mut codec,
        json!({"type": "session.delegation.created", "event_id": "e0",
               "delegation": {"id": "item_8", "type": "delegation", "target": "responses", "response_id": "resp_R1"},
               "offset_ms": 1800}),
    );
    assert_eq!(
        kinds(&created),
        ["delegation_created"],
        "no client tool call"
    );
    let ended = feed(
        &mut codec,
        json!({"type": "response.event", "event_id": "e2", "delegation_id": "item_8",
               "event": {"type": "response.completed", "response": {"id": "resp_R1", "status": "completed",
                         "output": [], "usage": {"input_tokens": 120, "output_tokens": 14, "total_tokens": 134}}}}),
    );
    assert_eq!(kinds(&ended), ["tool_call", "delegation_result", "usage"]);
    assert_eq!(
        ended[0],
        ModelEvent::ToolCall {
            response_id: "resp_R1".into(),
            item_id: "fc_1".into(),
            call_id: "call_1".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Paris\"}".into(),
        }
    );
    let ModelEvent::Usage { usage, .. } = &ended[2] else {
        panic!()
    };
    assert_eq!(usage.total_tokens, Some(134));

    let result = codec
        .encode_events(&ClientInput::ToolResult {
            call_id: "call_1".into(),
            name: "get_weather".into(),
            output: "sunny".into(),
            scheduling: None,
        })
        .unwrap();
    assert_eq!(
        serde_json::to_value(&result[0]).unwrap(),
        json!({"type": "response.item.create", "item": {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}})
    );
    let resume = codec
        .encode_events(&ClientInput::CreateResponse(ResponseOptions::default()))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&resume[0]).unwrap(),
        json!({"type": "response.create"})
    );
    assert!(codec.capabilities().response_after_tool_result);
    assert!(
        !codec.capabilities().delegated_tools,
        "a backend calls tools by name with arguments"
    );
    assert!(LiveCodec::new("gpt-live-1").capabilities().delegated_tools);
}

#[test]
fn a_failed_backend_response_drops_its_calls_and_says_so() {
    let mut codec = responses_codec();
    feed(
        &mut codec,
        json!({"type": "response.event", "event_id": "e1", "delegation_id": "item_8",
               "event": {"type": "response.output_item.done", "item": {"type": "function_call",
                         "call_id": "call_1", "name": "f", "arguments": "{}"}}}),
    );
    let failed = feed(
        &mut codec,
        json!({"type": "response.event", "event_id": "e2", "delegation_id": "item_8",
               "event": {"type": "response.failed", "response": {"id": "resp_R1", "status": "failed"}}}),
    );
    assert_eq!(
        failed,
        [ModelEvent::DelegationResult {
            delegation_id: "item_8".into(),
            response_id: Some("resp_R1".into()),
            status: ResponseStatus::Failed
        }]
    );
}

#[test]
fn session_closed_ends_the_reply_reports_final_usage_and_ends_once() {
    let mut codec = codec();
    audio(&mut codec, 3000);
    let closed = feed(
        &mut codec,
        json!({"type": "session.closed", "event_id": "e", "client_event_id": "c9", "reason": "close_requested",
               "session": {"id": "live_u7_1", "status": "active", "expires_at": 1, "model": "gpt-live-1"},
               "usage": {"seconds": 16}}),
    );
    assert_eq!(
        kinds(&closed),
        [
            "audio_done",
            "response_done",
            "session_usage",
            "session_ended"
        ]
    );
    assert_eq!(done(&closed)[0].1, ResponseStatus::Completed);
    assert!(closed.contains(&ModelEvent::SessionUsage {
        seconds: 16.0,
        active_seconds: None,
        paused_seconds: None,
        context_usage_ratio: None,
        final_report: true
    }));
    assert!(closed.contains(&ModelEvent::SessionEnded {
        reason: "session closed: close_requested".into(),
        close_code: None
    }));
    let after = codec
        .decode(&WireFrame::Close {
            code: Some(1000),
            reason: String::new(),
        })
        .unwrap();
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn an_expired_session_leaves_its_reply_incomplete() {
    let mut codec = codec();
    audio(&mut codec, 3000);
    let closed = feed(
        &mut codec,
        json!({"type": "session.closed", "event_id": "e", "reason": "expired",
               "session": {"id": "s", "status": "active", "expires_at": 1, "model": "gpt-live-1"},
               "usage": {"seconds": 3600}}),
    );
    assert_eq!(done(&closed)[0].1, ResponseStatus::Incomplete);
}

#[test]
fn a_socket_that_ends_without_session_closed_is_unfinalised() {
    let mut codec = codec();
    audio(&mut codec, 3000);
    let ended = codec
        .decode(&WireFrame::Close {
            code: Some(1006),
            reason: "gone".into(),
        })
        .unwrap();
    assert_eq!(
        kinds(&ended),
        ["audio_done", "response_done", "session_ended"]
    );
    assert_eq!(done(&ended)[0].1, ResponseStatus::Incomplete);
    assert!(ended.contains(&ModelEvent::SessionEnded {
        reason: "gone".into(),
        close_code: Some(1006)
    }));
}

#[test]
fn usage_updates_are_cumulative_reports_with_the_context_ratio() {
    let mut codec = codec();
    let usage = feed(
        &mut codec,
        json!({"type": "session.usage.updated", "event_id": "e", "usage": {"seconds": 15},
               "context_window": {"usage_ratio": 0.0089}}),
    );
    assert_eq!(
        usage,
        [ModelEvent::SessionUsage {
            seconds: 15.0,
            active_seconds: None,
            paused_seconds: None,
            context_usage_ratio: Some(0.0089),
            final_report: false
        }]
    );
}

#[test]
fn errors_keep_their_code_type_param_and_the_commands_id() {
    let mut codec = LiveCodec::new("gpt-live-1");
    let refused = feed(
        &mut codec,
        json!({"type": "error", "event_id": "e", "client_event_id": "c1",
               "error": {"type": "invalid_request_error", "code": "unknown_parameter",
                         "message": "Unknown parameter: 'session.voice'.", "param": "session.voice"}}),
    );
    let [ModelEvent::Error(info)] = refused.as_slice() else {
        panic!("{refused:?}")
    };
    assert!(
        info.fatal,
        "an error before session.started refuses the start"
    );
    assert_eq!(info.code, "unknown_parameter");
    assert_eq!(info.kind.as_deref(), Some("invalid_request_error"));
    assert_eq!(info.param.as_deref(), Some("session.voice"));
    assert_eq!(info.event_id.as_deref(), Some("c1"));

    started(&mut codec, json!({"type": "audio/pcm", "rate": 24000}));
    let later = feed(
        &mut codec,
        json!({"type": "error", "event_id": "e2",
               "error": {"type": "invalid_request_error", "code": null,
                         "message": "response.item.create requires Responses delegation.", "client_event_id": "c7"}}),
    );
    let [ModelEvent::Error(info)] = later.as_slice() else {
        panic!("{later:?}")
    };
    assert!(!info.fatal);
    assert_eq!(
        info.code, "invalid_request_error",
        "no code: the type stands in"
    );
    assert_eq!(info.event_id.as_deref(), Some("c7"));

    let lenient = LiveSettings {
        pre_start_error_fatal: false,
        ..LiveSettings::default()
    };
    let mut codec = LiveCodec::with_settings("gpt-live-1", lenient);
    let early = feed(
        &mut codec,
        json!({"type": "error", "event_id": "e", "error": {"type": "server_error", "code": "x", "message": "m"}}),
    );
    assert!(matches!(&early[0], ModelEvent::Error(info) if !info.fatal));
}

#[test]
fn g711_sessions_are_expanded_to_pcm16_and_their_silence_is_silence() {
    let mut codec = LiveCodec::new("gpt-live-1");
    started(&mut codec, json!({"type": "audio/pcmu", "rate": 8000}));
    use base64::Engine as _;
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    let silent = feed(
        &mut codec,
        json!({"type": "session.output_audio.delta", "delta": b64(vec![0xff; 800])}),
    );
    assert!(silent.is_empty());
    let loud =
        understudy_adapters::g711::encode_ulaw(&Pcm::from_samples(&[8000, -8000].repeat(400)).0);
    let voiced = feed(
        &mut codec,
        json!({"type": "session.output_audio.delta", "delta": b64(loud)}),
    );
    let Some(ModelEvent::AudioDelta {
        pcm, sample_rate, ..
    }) = voiced.last()
    else {
        panic!("{voiced:?}")
    };
    assert_eq!((*sample_rate, pcm.len()), (8000, 1600));
    // Input is compressed the same way (a session this codec starts).
    let mut codec = LiveCodec::new("gpt-live-1");
    let frames = codec
        .encode_events(&ClientInput::Session(SessionConfig {
            input_format: Some(AudioFormat::G711_ULAW),
            ..SessionConfig::default()
        }))
        .unwrap();
    let start = serde_json::to_value(&frames[0]).unwrap();
    assert_eq!(
        start["session"]["audio"]["format"],
        json!({"type": "audio/pcmu", "rate": 8000})
    );
    let append = codec
        .encode_events(&ClientInput::Audio {
            pcm: Pcm(vec![0; 320]),
            sample_rate: 8000,
        })
        .unwrap();
    let ClientEvent::InputAudioAppend(append) = &append[0] else {
        panic!("{append:?}")
    };
    assert_eq!(Pcm::from_base64(&append.audio).unwrap().len(), 160);
}

#[test]
fn sideband_audio_is_placed_by_its_timestamps() {
    let mut codec = codec();
    let voiced = feed(
        &mut codec,
        json!({"type": "session.output_audio.delta", "delta": chunk(100, 3000), "start_ms": 5000, "end_ms": 5100}),
    );
    assert_eq!(kinds(&voiced), ["response_created", "audio_delta"]);
    assert_eq!(codec.decoder_mut().timeline_ms(), 5100);
    assert!(done(&codec.advance_to(7099)).is_empty());
    assert_eq!(done(&codec.advance_to(7100)).len(), 1);
}

#[test]
fn pauses_fixtures_and_unknown_events() {
    let mut codec = codec();
    assert_eq!(
        feed(
            &mut codec,
            json!({"type": "session.paused", "event_id": "e"})
        ),
        [ModelEvent::SessionPaused]
    );
    assert_eq!(
        feed(
            &mut codec,
            json!({"type": "session.resumed", "event_id": "e"})
        ),
        [ModelEvent::SessionResumed]
    );
    audio(&mut codec, 3000);
    let playing = feed(
        &mut codec,
        json!({"type": "session.output_audio.fixture.playing", "event_id": "e"}),
    );
    assert_eq!(done(&playing)[0].1, ResponseStatus::Cancelled);
    assert!(
        track(&mut codec, 5, 3000).is_empty(),
        "the clip is not model speech"
    );
    feed(
        &mut codec,
        json!({"type": "session.output_audio.fixture.played", "event_id": "e"}),
    );
    assert_eq!(
        kinds(&audio(&mut codec, 3000)),
        ["response_created", "audio_delta"]
    );
    assert_eq!(
        feed(
            &mut codec,
            json!({"type": "session.brand_new", "event_id": "e"})
        ),
        [ModelEvent::Unrecognized {
            provider_type: "session.brand_new".into()
        }]
    );
    let bad = codec.decode(&WireFrame::Text(
        json!({"type": "session.output_audio.delta", "delta": "not base64!"}).to_string(),
    ));
    assert!(bad.is_err());
}

#[test]
fn the_encoder_starts_first_and_refuses_what_gpt_live_cannot_do() {
    let mut codec = LiveCodec::new("gpt-live-1.1");
    let first = codec
        .encode_events(&ClientInput::Audio {
            pcm: Pcm(vec![0; 960]),
            sample_rate: 24_000,
        })
        .unwrap();
    assert_eq!(
        serde_json::to_value(&first[0]).unwrap(),
        json!({"type": "session.start", "session": {"model": "gpt-live-1.1", "delegation": {"type": "client"}}})
    );
    assert!(matches!(first[1], ClientEvent::InputAudioAppend(_)));
    assert!(matches!(
        codec.encode_events(&ClientInput::Audio {
            pcm: Pcm(vec![0; 2]),
            sample_rate: 16_000
        }),
        Err(EncodeError::SampleRate {
            expected: 24_000,
            got: 16_000
        })
    ));
    for refused in [
        ClientInput::Text { text: "hi".into() },
        ClientInput::CommitAudio,
        ClientInput::ClearAudio,
        ClientInput::CreateResponse(ResponseOptions::default()),
        ClientInput::CancelResponse { response_id: None },
        ClientInput::Resume { handle: "h".into() },
    ] {
        assert!(
            matches!(
                codec.encode_events(&refused),
                Err(EncodeError::Unsupported { .. })
            ),
            "{refused:?}"
        );
    }
    let close = codec.encode_events(&ClientInput::EndSession).unwrap();
    assert_eq!(
        serde_json::to_value(&close[0]).unwrap(),
        json!({"type": "session.close"})
    );

    let mut fresh = LiveCodec::new("gpt-live-1");
    let start = fresh
        .encode_events(&ClientInput::Session(SessionConfig {
            instructions: Some("Be brief.".into()),
            voice: Some("marin".into()),
            input_format: Some(AudioFormat::pcm16(24_000)),
            turn_detection: Some(TurnDetection::server_vad()),
            input_transcription: Some("gpt-4o-transcribe".into()),
            ..SessionConfig::default()
        }))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&start[0]).unwrap(),
        json!({"type": "session.start", "session": {"model": "gpt-live-1", "instructions": "Be brief.",
               "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}},
               "delegation": {"type": "client"}}}),
        "the VAD and transcription settings have no GPT-Live counterpart"
    );
    let mut manual = LiveCodec::new("gpt-live-1");
    assert!(manual
        .encode_events(&ClientInput::Session(SessionConfig {
            turn_detection: Some(TurnDetection::Manual),
            ..SessionConfig::default()
        }))
        .is_err());
    let mut mixed = LiveCodec::new("gpt-live-1");
    assert!(mixed
        .encode_events(&ClientInput::Session(SessionConfig {
            input_format: Some(AudioFormat::pcm16(16_000)),
            output_format: Some(AudioFormat::pcm16(24_000)),
            ..SessionConfig::default()
        }))
        .is_err());
}

/// One generated server event, on a timeline that moves forward.
#[derive(Debug, Clone)]
enum Step {
    Audio(i16),
    UserSays(u64),
    ModelSays(u64),
    Delegation,
    Advance(u64),
    Usage,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop_oneof![Just(0i16), Just(15), Just(3000), Just(-9000)].prop_map(Step::Audio),
        2 => (0u64..600).prop_map(Step::UserSays),
        2 => (0u64..600).prop_map(Step::ModelSays),
        1 => Just(Step::Delegation),
        1 => (0u64..3000).prop_map(Step::Advance),
        1 => Just(Step::Usage),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the order and timing: every response is created once and
    /// done at most once, audio and transcripts only flow inside an open
    /// response, and each `ResponseDone` follows its `ResponseCreated`.
    #[test]
    fn arbitrary_event_sequences_keep_responses_well_formed(steps in proptest::collection::vec(step(), 1..80)) {
        let mut codec = codec();
        let mut events = Vec::new();
        let mut at = 0u64;
        let mut delegations = 0;
        for s in steps {
            let batch = match s {
                Step::Audio(amplitude) => audio(&mut codec, amplitude),
                Step::UserSays(gap) => { at += gap; let b = said(&mut codec, true, " word", at, at + 200); at += 200; b }
                Step::ModelSays(gap) => { at += gap; let b = said(&mut codec, false, " word", at, at + 200); at += 200; b }
                Step::Delegation => {
                    delegations += 1;
                    feed(&mut codec, json!({"type": "session.delegation.created", "event_id": "e",
                        "delegation": {"id": format!("item_{delegations}"), "type": "delegation", "target": "client"},
                        "offset_ms": at}))
                }
                Step::Advance(ms) => { at += ms; codec.advance_to(at) }
                Step::Usage => feed(&mut codec, json!({"type": "session.usage.updated", "event_id": "e", "usage": {"seconds": 1}})),
            };
            events.extend(batch);
        }
        events.extend(codec.decode(&WireFrame::Close { code: Some(1000), reason: String::new() }).unwrap());
        let mut open: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for event in &events {
            match event {
                ModelEvent::ResponseCreated { response_id } => {
                    prop_assert!(open.is_none(), "{response_id} opened inside another response");
                    prop_assert!(seen.insert(response_id.clone()), "{response_id} created twice");
                    open = Some(response_id.clone());
                }
                ModelEvent::ResponseDone { response_id, .. } => {
                    let closed = open.take();
                    prop_assert_eq!(closed.as_deref(), Some(response_id.as_str()));
                }
                ModelEvent::AudioDelta { response_id, .. }
                | ModelEvent::TranscriptDelta { response_id, .. }
                | ModelEvent::AudioDone { response_id, .. }
                | ModelEvent::TranscriptDone { response_id, .. } => {
                    prop_assert_eq!(open.as_deref(), Some(response_id.as_str()), "{:?} outside its response", event.kind());
                }
                _ => {}
            }
        }
        prop_assert!(open.is_none(), "the close ends every response");
        prop_assert_eq!(events.last().map(ModelEvent::kind), Some("session_ended"));
    }
}

#[test]
fn timeline_values_at_the_edge_of_u64_do_not_overflow() {
    let mut codec = codec();
    let max = u64::MAX;
    said(&mut codec, false, "x", max - 1, max);
    said(&mut codec, true, "y", max - 1, max);
    // Each call below panicked on overflow before the sums saturated.
    codec.advance_to(max);
    feed(
        &mut codec,
        json!({"type": "session.delegation.created", "event_id": "e",
               "delegation": {"id": "item_1", "type": "delegation", "target": "client"}, "offset_ms": max}),
    );
}
