//! What real servers send reaches the normalised stream:
//! message phases, every usage spelling, grounding, WebRTC playback, and one
//! usage placement for every provider.

mod common;

use serde_json::{json, Value};
use understudy_adapters::dashscope;
use understudy_adapters::openai::wire::objects::{Response, Session};
use understudy_adapters::openai::wire::ServerEvent;
use understudy_adapters::openai::Decoder;
use understudy_adapters::{MessagePhase, ModelEvent, Usage};

fn openai(frames: &[Value]) -> Vec<ModelEvent> {
    let mut decoder = Decoder::new();
    frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect()
}

fn gemini(messages: &[Value]) -> Vec<ModelEvent> {
    common::gemini_events(messages)
}

fn kinds(events: &[ModelEvent]) -> Vec<&'static str> {
    events.iter().map(ModelEvent::kind).collect()
}

fn usages(events: &[ModelEvent]) -> Vec<(Option<String>, Usage)> {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::Usage { response_id, usage } => Some((response_id.clone(), usage.clone())),
            _ => None,
        })
        .collect()
}

fn scoped(kind: &str, item: &str, extra: Value) -> Value {
    let mut v = json!({"type": kind, "event_id": "e", "response_id": "resp_1", "item_id": item,
                       "output_index": 0, "content_index": 0});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

// ---- item 4: message phase ---------------------------------------------------

#[test]
fn a_preamble_and_the_answer_carry_their_phase() {
    let item = |id: &str, phase: &str| {
        json!({"type": "response.output_item.added", "event_id": "e", "response_id": "resp_1", "output_index": 0,
               "item": {"id": id, "type": "message", "role": "assistant", "status": "in_progress",
                        "phase": phase, "content": []}})
    };
    let events = openai(&[
        item("item_P", "commentary"),
        scoped(
            "response.output_audio_transcript.delta",
            "item_P",
            json!({"delta": "I'll check"}),
        ),
        scoped("response.output_audio.done", "item_P", json!({})),
        scoped(
            "response.output_audio_transcript.done",
            "item_P",
            json!({"transcript": "I'll check the weather for you."}),
        ),
        item("item_A", "final_answer"),
        scoped(
            "response.output_text.delta",
            "item_A",
            json!({"delta": "Sunny"}),
        ),
        scoped(
            "response.output_text.done",
            "item_A",
            json!({"text": "Sunny."}),
        ),
    ]);
    let phases: Vec<(&str, Option<MessagePhase>)> = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TranscriptDelta { phase, .. }
            | ModelEvent::TranscriptDone { phase, .. }
            | ModelEvent::TextDelta { phase, .. }
            | ModelEvent::TextDone { phase, .. }
            | ModelEvent::AudioDone { phase, .. } => Some((e.kind(), phase.clone())),
            _ => None,
        })
        .collect();
    use MessagePhase::{Commentary, FinalAnswer};
    assert_eq!(
        phases,
        [
            ("transcript_delta", Some(Commentary)),
            ("audio_done", Some(Commentary)),
            ("transcript_done", Some(Commentary)),
            ("text_delta", Some(FinalAnswer)),
            ("text_done", Some(FinalAnswer)),
        ]
    );
    let json = serde_json::to_value(&events[2]).unwrap();
    assert_eq!(json["phase"], "commentary");
}

#[test]
fn messages_without_a_phase_serialise_as_before() {
    let events = openai(&[scoped(
        "response.output_text.done",
        "item_A",
        json!({"text": "Hi"}),
    )]);
    let json = serde_json::to_value(&events[0]).unwrap();
    assert!(json.get("phase").is_none(), "{json}");
}

#[test]
fn the_wire_item_keeps_its_phase() {
    let frame = json!({"type": "conversation.item.done", "event_id": "e", "previous_item_id": null,
        "item": {"id": "item_P", "type": "message", "role": "assistant", "phase": "commentary", "content": []}});
    let ServerEvent::ConversationItemDone(event) = serde_json::from_value(frame).unwrap() else {
        panic!("not an item event");
    };
    assert_eq!(event.item.phase.as_deref(), Some("commentary"));
}

// ---- item 5: usage spellings --------------------------------------------------

#[test]
fn vertex_usage_reports_output_tokens() {
    let events = gemini(&[
        json!({"serverContent": {"modelTurn": {"parts": [{"text": "Hi"}]}}}),
        json!({"serverContent": {"turnComplete": true}}),
        json!({"usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 9, "totalTokenCount": 33,
               "thoughtsTokenCount": 4,
               "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 8}, {"modality": "TEXT", "tokenCount": 1}]}}),
    ]);
    let usage = &usages(&events)[0].1;
    assert_eq!(usage.output_tokens, Some(9));
    assert_eq!(usage.output_audio_tokens, Some(8));
    assert_eq!(usage.reasoning_tokens, Some(4));
}

#[test]
fn openai_token_details_reach_the_normalised_usage() {
    let events = openai(&[
        json!({"type": "response.done", "event_id": "e", "response": {
        "id": "resp_1", "status": "completed",
        "usage": {"total_tokens": 40, "input_tokens": 30, "output_tokens": 10,
            "input_token_details": {"text_tokens": 10, "audio_tokens": 12, "image_tokens": 8, "cached_tokens": 6,
                "cached_tokens_details": {"text_tokens": 2, "audio_tokens": 3, "image_tokens": 1}},
            "output_token_details": {"text_tokens": 4, "audio_tokens": 6, "reasoning_tokens": 5}}}}),
    ]);
    let usage = &usages(&events)[0].1;
    assert_eq!(usage.cached_tokens, Some(6));
    assert_eq!(usage.cached_text_tokens, Some(2));
    assert_eq!(usage.cached_audio_tokens, Some(3));
    assert_eq!(usage.cached_image_tokens, Some(1));
    assert_eq!(usage.input_image_tokens, Some(8));
    assert_eq!(usage.reasoning_tokens, Some(5));
}

// ---- item 6: fields real servers send -----------------------------------------

#[test]
fn response_and_session_fields_are_modelled() {
    let response: Response = serde_json::from_value(json!({
        "id": "resp_1", "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        "metadata": {"client_event_id": "c1"}, "max_output_tokens": "inf"
    }))
    .unwrap();
    assert_eq!(
        response.metadata,
        Some(Some(json!({"client_event_id": "c1"})))
    );
    assert_eq!(response.max_output_tokens, Some(json!("inf")));
    let voice = response.audio.and_then(|a| a.output).and_then(|o| o.voice);
    assert_eq!(voice, Some(json!("marin")));
    assert!(response.extra.is_empty());

    let session: Session = serde_json::from_value(json!({
        "type": "realtime", "include": null, "prompt": {"id": "pmpt_1"}, "tracing": "auto",
        "truncation": {"type": "retention_ratio", "retention_ratio": 0.8}
    }))
    .unwrap();
    assert_eq!(session.include, Some(None));
    assert_eq!(session.prompt, Some(Some(json!({"id": "pmpt_1"}))));
    assert_eq!(session.tracing, Some(Some(json!("auto"))));
    assert_eq!(
        session.truncation.as_ref().map(|t| &t["type"]),
        Some(&json!("retention_ratio"))
    );
    assert!(session.extra.is_empty());
}

#[test]
fn obfuscation_is_modelled_on_deltas() {
    let frame = scoped(
        "response.output_audio_transcript.delta",
        "item_A",
        json!({"delta": "Hi", "obfuscation": "x9Qa"}),
    );
    let ServerEvent::ResponseOutputAudioTranscriptDelta(delta) =
        serde_json::from_value(frame.clone()).unwrap()
    else {
        panic!("not a transcript delta");
    };
    assert_eq!(delta.obfuscation.as_deref(), Some("x9Qa"));
    assert!(delta.extra.is_empty());
}

#[test]
fn gemini_grounding_becomes_an_event_of_its_response() {
    let grounding = json!({"webSearchQueries": ["weather paris"],
                           "groundingChunks": [{"web": {"uri": "https://example.invalid", "title": "Weather"}}]});
    let events = gemini(&[
        json!({"serverContent": {"modelTurn": {"parts": [{"text": "Sunny."}]}}}),
        json!({"serverContent": {"groundingMetadata": grounding.clone()}}),
        json!({"serverContent": {"turnComplete": true}}),
    ]);
    let found = events.iter().find_map(|e| match e {
        ModelEvent::Grounding {
            response_id,
            metadata,
        } => Some((response_id.clone(), metadata.clone())),
        _ => None,
    });
    assert_eq!(found, Some((Some("turn_0".to_owned()), grounding)));
}

// ---- item 7: WebRTC sideband --------------------------------------------------

#[test]
fn a_webrtc_sideband_turn_shows_its_playback() {
    let events = openai(&[
        json!({"type": "response.created", "event_id": "e", "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
        json!({"type": "output_audio_buffer.started", "event_id": "e", "response_id": "resp_1"}),
        scoped(
            "response.output_audio_transcript.delta",
            "item_A",
            json!({"delta": "Hi"}),
        ),
        scoped("response.output_audio.done", "item_A", json!({})),
        json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_1", "status": "completed"}}),
        json!({"type": "output_audio_buffer.stopped", "event_id": "e", "response_id": "resp_1"}),
    ]);
    assert_eq!(
        kinds(&events),
        [
            "response_created",
            "playback_started",
            "transcript_delta",
            "audio_done",
            "response_done",
            "playback_stopped"
        ]
    );
    assert!(
        matches!(&events[1], ModelEvent::PlaybackStarted { response_id } if response_id == "resp_1")
    );
}

// ---- item 8: usage placement ---------------------------------------------------

/// The kinds from `response_done` on, with usage ids checked against the response.
fn tail_after_done(events: &[ModelEvent]) -> Vec<&'static str> {
    let done = events
        .iter()
        .position(|e| e.kind() == "response_done")
        .expect("a response_done");
    let id = match &events[done] {
        ModelEvent::ResponseDone { response_id, .. } => response_id.clone(),
        _ => unreachable!(),
    };
    for (response_id, _) in usages(events) {
        assert_eq!(response_id.as_deref(), Some(id.as_str()));
    }
    assert!(
        !events[..done].iter().any(|e| e.kind() == "usage"),
        "usage before response_done: {:?}",
        kinds(events)
    );
    kinds(&events[done..])
}

#[test]
fn usage_follows_response_done_on_openai() {
    let events = openai(&[
        json!({"type": "response.created", "event_id": "e", "response": {"id": "resp_1", "status": "in_progress"}}),
        json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_1", "status": "completed",
               "usage": {"total_tokens": 3, "input_tokens": 2, "output_tokens": 1}}}),
    ]);
    assert_eq!(tail_after_done(&events), ["response_done", "usage"]);
}

#[test]
fn usage_follows_response_done_on_dashscope() {
    let mut decoder = dashscope::Decoder::new();
    let frames = [
        json!({"type": "response.created", "event_id": "e", "response": {"id": "resp_1", "status": "in_progress"}}),
        json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_1", "status": "completed",
               "usage": {"total_tokens": 3, "input_tokens": 2, "output_tokens": 1}}}),
    ];
    let events: Vec<ModelEvent> = frames
        .iter()
        .flat_map(|f| decoder.decode_text(&f.to_string()).unwrap())
        .collect();
    assert_eq!(tail_after_done(&events), ["response_done", "usage"]);
}

#[test]
fn usage_follows_response_done_on_gemini_wherever_it_arrives() {
    let turn = json!({"serverContent": {"modelTurn": {"parts": [{"text": "Hi"}]}}});
    let usage = json!({"promptTokenCount": 2, "responseTokenCount": 1, "totalTokenCount": 3});
    // With turnComplete, listed before it in the message.
    let sibling_first = gemini(&[
        turn.clone(),
        json!({"usageMetadata": usage.clone(), "serverContent": {"turnComplete": true}}),
    ]);
    assert_eq!(tail_after_done(&sibling_first), ["response_done", "usage"]);
    // In a message of its own after turnComplete (Vertex).
    let after = gemini(&[
        turn.clone(),
        json!({"serverContent": {"turnComplete": true}}),
        json!({"usageMetadata": usage.clone()}),
    ]);
    assert_eq!(tail_after_done(&after), ["response_done", "usage"]);
    // While the response still runs: held until it is done.
    let during = gemini(&[
        turn,
        json!({"usageMetadata": usage}),
        json!({"serverContent": {"turnComplete": true}}),
    ]);
    assert_eq!(tail_after_done(&during), ["response_done", "usage"]);
}

#[test]
fn response_done_carries_no_usage_field() {
    let events = openai(&[
        json!({"type": "response.done", "event_id": "e", "response": {
        "id": "resp_1", "status": "completed", "usage": {"total_tokens": 3}}}),
    ]);
    let json = serde_json::to_value(&events[0]).unwrap();
    assert!(json.get("usage").is_none(), "{json}");
    let usage = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(usage["type"], "usage");
    assert_eq!(usage["response_id"], "resp_1");
    assert_eq!(usage["total_tokens"], 3);
}

#[test]
fn usage_held_during_a_response_is_bounded_newest_kept() {
    use understudy_adapters::gemini::codec::MAX_HELD_USAGE;
    let mut messages = vec![json!({"serverContent": {"modelTurn": {"parts": [{"text": "Hi"}]}}})];
    let reports = MAX_HELD_USAGE + 5;
    for n in 0..reports {
        messages.push(json!({"usageMetadata": {"promptTokenCount": 1, "responseTokenCount": n, "totalTokenCount": n + 1}}));
    }
    messages.push(json!({"serverContent": {"turnComplete": true}}));
    let held = usages(&gemini(&messages));
    assert_eq!(held.len(), MAX_HELD_USAGE, "at most the cap is released");
    assert_eq!(
        held.last().and_then(|(_, u)| u.output_tokens),
        Some(reports as u64 - 1),
        "the newest report is kept"
    );
}
