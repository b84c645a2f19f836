//! DashScope Qwen-Omni wire types: every event in the protocol notes round-trips
//! through JSON exactly, unknown types and fields are kept, decoding never panics.

mod common;

use common::examples;
use understudy_adapters::dashscope::wire::{ClientEvent, ServerEvent};
use understudy_adapters::dashscope::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/dashscope-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/dashscope-client-examples.jsonl");

tagged_wire_properties! {
    client: ClientEvent,
    server: ServerEvent,
    client_examples: CLIENT_EXAMPLES,
    server_examples: SERVER_EXAMPLES,
    decode: |text: &str| { let _ = Decoder::new().decode_text(text); },
    fields: ["delta", "response", "session", "item", "error", "item_id", "call_id"]
}

#[test]
fn openai_ga_names_are_not_dashscope_events() {
    for ga in [
        "response.output_audio.delta",
        "conversation.item.added",
        "response.output_text.delta",
    ] {
        let event: ServerEvent =
            serde_json::from_value(serde_json::json!({"type": ga, "event_id": "e"})).unwrap();
        assert!(
            matches!(event, ServerEvent::Unknown(_)),
            "{ga} must not pass for DashScope"
        );
    }
}

#[test]
fn the_sdk_default_session_update_keeps_its_nulls_and_sampling_fields() {
    let raw = &examples(CLIENT_EXAMPLES)[0];
    let event: ClientEvent = serde_json::from_value(raw.clone()).unwrap();
    let ClientEvent::SessionUpdate(update) = &event else {
        panic!("{event:?}")
    };
    let session = update.session.as_ref().unwrap();
    assert_eq!(
        session.input_audio_transcription,
        Some(Some(serde_json::json!({"model": null})))
    );
    assert_eq!(session.extra["top_p"], 0.8);
    assert!(session.extra.contains_key("smooth_output"));
    let tool = &session.tools.as_ref().unwrap()[0];
    assert_eq!(
        tool.function.as_ref().unwrap().name.as_deref(),
        Some("get_weather")
    );
    assert_eq!(&serde_json::to_value(&event).unwrap(), raw);
}
