//! The Gemini Live codec per model family: declarations state their
//! behaviour, tool results carry (or lose) `scheduling`, background calls,
//! presumed and real cancellations, interaction status, thoughts and interim
//! transcripts decode to their events.

use serde_json::{json, Value};
use understudy_adapters::gemini::GeminiCodec;
use understudy_adapters::{
    ClientInput, EncodeError, InteractionState, ModelEvent, RealtimeCodec, SessionConfig,
    ToolBehavior, ToolResultScheduling, ToolSpec, WireFrame,
};

fn tool(name: &str, behavior: Option<ToolBehavior>) -> ToolSpec {
    ToolSpec {
        name: name.into(),
        description: "d".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        behavior,
    }
}

fn session(tools: Vec<ToolSpec>) -> ClientInput {
    ClientInput::Session(SessionConfig {
        tools,
        ..Default::default()
    })
}

fn sent(codec: &mut GeminiCodec, input: &ClientInput) -> Vec<Value> {
    codec
        .encode(input)
        .unwrap()
        .into_iter()
        .map(|frame| match frame {
            WireFrame::Text(text) => serde_json::from_str(&text).unwrap(),
            other => panic!("a text frame, got {other:?}"),
        })
        .collect()
}

fn received(codec: &mut GeminiCodec, messages: &[Value]) -> Vec<ModelEvent> {
    messages
        .iter()
        .flat_map(|m| codec.decode(&WireFrame::Text(m.to_string())).unwrap())
        .collect()
}

fn result(call_id: &str, name: &str, scheduling: Option<ToolResultScheduling>) -> ClientInput {
    ClientInput::ToolResult {
        call_id: call_id.into(),
        name: name.into(),
        output: r#"{"tempC": 18}"#.into(),
        scheduling,
    }
}

fn declarations(frames: &[Value]) -> Vec<Value> {
    frames[0]["setup"]["tools"][0]["functionDeclarations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn every_declaration_states_its_behaviour_from_the_row_unless_the_row_is_legacy() {
    let tools = vec![
        tool("get_weather", None),
        tool("book", Some(ToolBehavior::Blocking)),
    ];
    let mut live = GeminiCodec::new("gemini-3.8-live");
    let frames = sent(&mut live, &session(tools.clone()));
    let behaviours: Vec<Value> = declarations(&frames)
        .iter()
        .map(|d| d["behavior"].clone())
        .collect();
    assert_eq!(behaviours, [json!("NON_BLOCKING"), json!("BLOCKING")]);
    let mut native = GeminiCodec::new("gemini-2.5-flash-native-audio-preview-12-2025");
    let frames = sent(&mut native, &session(vec![tool("get_weather", None)]));
    assert_eq!(declarations(&frames)[0]["behavior"], json!("BLOCKING"));
    let mut legacy = GeminiCodec::new("gemini-live-2.5-flash-preview");
    let frames = sent(&mut legacy, &session(vec![tool("get_weather", None)]));
    assert!(declarations(&frames)[0].get("behavior").is_none());
}

#[test]
fn a_blocking_tool_is_refused_for_extended_thinking() {
    let mut thinking = GeminiCodec::new("gemini-3.8-live-extended-thinking");
    let refused = thinking
        .encode(&session(vec![tool("book", Some(ToolBehavior::Blocking))]))
        .unwrap_err();
    assert!(
        matches!(refused, EncodeError::Unsupported { .. }),
        "{refused:?}"
    );
    // Refused setups leave the codec unconfigured: a good one still goes out.
    let frames = sent(&mut thinking, &session(vec![tool("book", None)]));
    assert_eq!(declarations(&frames)[0]["behavior"], json!("NON_BLOCKING"));
    // The thinking config the model requires, at its lowest level; none on 3.8 Live.
    assert_eq!(
        frames[0]["setup"]["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "LOW"})
    );
    let mut live = GeminiCodec::new("gemini-3.8-live");
    let frames = sent(&mut live, &session(vec![]));
    assert!(frames[0]["setup"]["generationConfig"]
        .get("thinkingConfig")
        .is_none());
}

#[test]
fn scheduling_is_carried_for_background_calls_defaulted_by_row_and_stripped_elsewhere() {
    let mut live = GeminiCodec::new("gemini-3.8-live");
    sent(
        &mut live,
        &session(vec![
            tool("get_weather", None),
            tool("book", Some(ToolBehavior::Blocking)),
        ]),
    );
    let scheduling = |frames: Vec<Value>| {
        frames[0]["toolResponse"]["functionResponses"][0]
            .get("scheduling")
            .cloned()
    };
    assert_eq!(
        scheduling(sent(
            &mut live,
            &result("c1", "get_weather", Some(ToolResultScheduling::Interrupt))
        )),
        Some(json!("INTERRUPT"))
    );
    assert_eq!(
        scheduling(sent(&mut live, &result("c2", "get_weather", None))),
        Some(json!("WHEN_IDLE")),
        "the row's default, stated"
    );
    assert_eq!(
        scheduling(sent(
            &mut live,
            &result("c3", "book", Some(ToolResultScheduling::Silent))
        )),
        None,
        "ignored for blocking calls, so not sent"
    );
    let mut thinking = GeminiCodec::new("gemini-3.8-live-extended-thinking");
    sent(&mut thinking, &session(vec![tool("get_weather", None)]));
    assert_eq!(
        scheduling(sent(
            &mut thinking,
            &result("c4", "get_weather", Some(ToolResultScheduling::Interrupt))
        )),
        None,
        "stripped on Extended Thinking until the reports agree"
    );
    let mut flash = GeminiCodec::new("gemini-3.1-flash-live-preview");
    sent(&mut flash, &session(vec![tool("get_weather", None)]));
    assert_eq!(
        scheduling(sent(
            &mut flash,
            &result("c5", "get_weather", Some(ToolResultScheduling::Interrupt))
        )),
        None
    );
}

#[test]
fn a_non_blocking_call_is_reported_as_such_and_the_turn_ends_without_its_result() {
    let mut live = GeminiCodec::new("gemini-3.8-live");
    sent(&mut live, &session(vec![tool("get_weather", None)]));
    let events = received(
        &mut live,
        &[
            json!({"toolCall": {"functionCalls": [{"id": "fc-1", "name": "get_weather", "args": {"city": "Paris"}}]}}),
            json!({"serverContent": {"modelTurn": {"parts": [{"text": "One moment."}]}}}),
            json!({"serverContent": {"turnComplete": true}}),
        ],
    );
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            "response_created",
            "tool_call",
            "tool_call_non_blocking",
            "text_delta",
            "text_done",
            "response_done"
        ]
    );
    assert_eq!(
        events[2],
        ModelEvent::ToolCallNonBlocking {
            response_id: "turn_0".into(),
            call_id: "fc-1".into()
        }
    );
    // The same call on the legacy row blocks: no such event.
    let mut legacy = GeminiCodec::new("gemini-live-2.5-flash-preview");
    sent(&mut legacy, &session(vec![tool("get_weather", None)]));
    let events = received(
        &mut legacy,
        &[
            json!({"toolCall": {"functionCalls": [{"id": "fc-1", "name": "get_weather", "args": {}}]}}),
        ],
    );
    assert!(events.iter().all(|e| e.kind() != "tool_call_non_blocking"));
}

#[test]
fn a_pending_blocking_call_is_presumed_cancelled_by_new_input_on_38_and_its_late_result_dropped() {
    let mut live = GeminiCodec::new("gemini-3.8-live");
    sent(
        &mut live,
        &session(vec![tool("book", Some(ToolBehavior::Blocking))]),
    );
    let events = received(
        &mut live,
        &[
            json!({"toolCall": {"functionCalls": [{"id": "fc-9", "name": "book", "args": {}}]}}),
            json!({"serverContent": {"interrupted": true}}),
            json!({"serverContent": {"turnComplete": true}}),
            // A server that does send the frame after all: not reported twice.
            json!({"toolCallCancellation": {"ids": ["fc-9"]}}),
        ],
    );
    let cancelled: Vec<&ModelEvent> = events
        .iter()
        .filter(|e| e.kind() == "tool_call_cancelled")
        .collect();
    assert_eq!(
        cancelled,
        [&ModelEvent::ToolCallCancelled {
            call_ids: vec!["fc-9".into()]
        }]
    );
    assert!(live
        .encode(&result("fc-9", "book", None))
        .unwrap()
        .is_empty());
    // On 2.5 the interruption alone proves nothing: the server says.
    let mut native = GeminiCodec::new("gemini-2.5-flash-native-audio-preview-12-2025");
    sent(&mut native, &session(vec![tool("book", None)]));
    let events = received(
        &mut native,
        &[
            json!({"toolCall": {"functionCalls": [{"id": "fc-9", "name": "book", "args": {}}]}}),
            json!({"serverContent": {"interrupted": true}}),
        ],
    );
    assert!(events.iter().all(|e| e.kind() != "tool_call_cancelled"));
    assert_eq!(sent(&mut native, &result("fc-9", "book", None)).len(), 1);
}

#[test]
fn interaction_status_thoughts_and_interim_transcripts_decode() {
    let mut thinking = GeminiCodec::new("gemini-3.8-live-extended-thinking");
    let events = received(
        &mut thinking,
        &[
            json!({"serverContent": {"interimInputTranscription": {"text": "hel"}}}),
            json!({"serverContent": {"modelTurn": {"parts": [{"text": "Planning.", "thought": true}, {"text": "Hi."}]}}}),
            json!({"serverContent": {"interactionStatus": "IN_PROGRESS", "turnComplete": true}}),
            json!({"serverContent": {"modelTurn": {"parts": [{"text": "Done."}]}}}),
            json!({"serverContent": {"turnComplete": true, "interactionStatus": "IDLE"}, "usageMetadata": {"totalTokenCount": 3}}),
        ],
    );
    let kinds: Vec<&str> = events.iter().map(ModelEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            "input_transcript_interim",
            "response_created",
            "thought_delta",
            "text_delta",
            "text_done",
            "response_done",
            "interaction_status",
            "response_created",
            "text_delta",
            "text_done",
            "response_done",
            "interaction_status",
            "usage"
        ]
    );
    assert_eq!(
        events[6],
        ModelEvent::InteractionStatus {
            response_id: Some("turn_0".into()),
            status: InteractionState::InProgress
        }
    );
    assert!(matches!(
        &events[11],
        ModelEvent::InteractionStatus {
            status: InteractionState::Idle,
            ..
        }
    ));
    assert!(matches!(&events[2], ModelEvent::ThoughtDelta { text, .. } if text == "Planning."));
    assert_eq!(
        InteractionState::from("WAITING_FOR_INPUT"),
        InteractionState::Other("WAITING_FOR_INPUT".into())
    );
    assert_eq!(
        InteractionState::from("REQUIRES_ACTION"),
        InteractionState::Idle
    );
}

#[test]
fn capabilities_follow_the_model() {
    assert!(
        GeminiCodec::new("gemini-3.8-live")
            .capabilities()
            .tool_calls_non_blocking
    );
    assert!(
        GeminiCodec::new("gemini-3.8-live-extended-thinking")
            .capabilities()
            .interaction_status
    );
    assert!(
        !GeminiCodec::new("gemini-live-2.5-flash-preview")
            .capabilities()
            .tool_calls_non_blocking
    );
}

#[test]
fn a_late_transcript_of_the_question_does_not_cancel_a_blocking_call() {
    let mut live = GeminiCodec::new("gemini-3.8-live");
    sent(
        &mut live,
        &session(vec![tool("book", Some(ToolBehavior::Blocking))]),
    );
    let events = received(
        &mut live,
        &[
            json!({"toolCall": {"functionCalls": [{"id": "fc-3", "name": "book", "args": {}}]}}),
            json!({"serverContent": {"inputTranscription": {"text": "book it"}}}),
        ],
    );
    assert!(events.iter().all(|e| e.kind() != "tool_call_cancelled"));
    assert_eq!(sent(&mut live, &result("fc-3", "book", None)).len(), 1);
}
