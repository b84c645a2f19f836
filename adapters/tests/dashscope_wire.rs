//! DashScope Qwen-Omni wire types: every event in the protocol notes round-trips
//! through JSON exactly, unknown types and fields are kept, decoding never panics.

mod common;

use common::{add_extras, examples, json_value, mutate, round_trips, type_of};
use proptest::prelude::*;
use serde_json::{Map, Value};
use understudy_adapters::dashscope::wire::{ClientEvent, ServerEvent};
use understudy_adapters::dashscope::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/dashscope-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/dashscope-client-examples.jsonl");

#[test]
fn every_known_type_has_an_example_that_parses_as_itself() {
    let server = examples(SERVER_EXAMPLES);
    for known in ServerEvent::KNOWN_TYPES {
        assert!(
            server.iter().any(|e| type_of(e) == *known),
            "no example for server event {known}"
        );
    }
    for e in &server {
        let event: ServerEvent = serde_json::from_value(e.clone()).unwrap();
        assert_eq!(event.event_type(), type_of(e));
        assert!(!matches!(event, ServerEvent::Unknown(_)));
    }
    let client = examples(CLIENT_EXAMPLES);
    for known in ClientEvent::KNOWN_TYPES {
        assert!(
            client.iter().any(|e| type_of(e) == *known),
            "no example for client event {known}"
        );
    }
    for e in &client {
        let event: ClientEvent = serde_json::from_value(e.clone()).unwrap();
        assert!(!matches!(event, ClientEvent::Unknown(_)));
    }
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn server_events_round_trip_with_any_values_and_unknown_fields(
        index in 0usize..1000,
        strings in prop::collection::vec("[a-zA-Z0-9 _.\\-]{0,16}", 64),
        ints in prop::collection::vec(0u32..1_000_000, 64),
        extras in prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3),
    ) {
        let all = examples(SERVER_EXAMPLES);
        let mut value = all[index % all.len()].clone();
        mutate(&mut value, &mut strings.into_iter(), &mut ints.into_iter());
        add_extras(&mut value, &extras.into_iter().collect());
        round_trips::<ServerEvent>(&value);
    }

    #[test]
    fn client_events_round_trip_with_any_values_and_unknown_fields(
        index in 0usize..1000,
        strings in prop::collection::vec("[a-zA-Z0-9 _.\\-]{0,16}", 64),
        ints in prop::collection::vec(0u32..1_000_000, 64),
        extras in prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3),
    ) {
        let all = examples(CLIENT_EXAMPLES);
        let mut value = all[index % all.len()].clone();
        mutate(&mut value, &mut strings.into_iter(), &mut ints.into_iter());
        add_extras(&mut value, &extras.into_iter().collect());
        round_trips::<ClientEvent>(&value);
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_text(text in ".{0,200}") {
        let _ = Decoder::new().decode_text(&text);
    }

    #[test]
    fn decoder_never_panics_on_known_types_with_arbitrary_fields(
        index in 0usize..1000,
        fields in prop::collection::btree_map(
            prop_oneof![Just("delta".to_string()), Just("response".to_string()), Just("session".to_string()),
                        Just("item".to_string()), Just("error".to_string()), Just("item_id".to_string()),
                        Just("call_id".to_string()), "[a-z_]{1,8}"],
            json_value(), 0..6),
    ) {
        let types = ServerEvent::KNOWN_TYPES;
        let mut map: Map<String, Value> = fields.into_iter().collect();
        map.insert("type".into(), Value::String(types[index % types.len()].into()));
        let _ = Decoder::new().decode_text(&Value::Object(map).to_string());
    }
}
