//! OpenAI wire types: every event in the protocol file round-trips through
//! JSON exactly, unknown types and fields are kept, and decoding never panics.

mod common;

use common::{add_extras, examples, json_value, mutate, round_trips, type_of};
use proptest::prelude::*;
use serde_json::{Map, Value};
use understudy_adapters::openai::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/openai-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/openai-client-examples.jsonl");

#[test]
fn every_known_server_type_has_an_example_and_no_example_is_unknown() {
    let examples = examples(SERVER_EXAMPLES);
    let covered: Vec<&str> = examples.iter().map(type_of).collect();
    for known in ServerEvent::KNOWN_TYPES {
        assert!(
            covered.contains(known),
            "no example for server event {known}"
        );
    }
    for example in &examples {
        let event: ServerEvent = serde_json::from_value(example.clone()).unwrap();
        assert!(
            !matches!(event, ServerEvent::Unknown(_)),
            "{} parsed as Unknown",
            type_of(example)
        );
    }
}

#[test]
fn every_known_client_type_has_an_example_and_no_example_is_unknown() {
    let examples = examples(CLIENT_EXAMPLES);
    let covered: Vec<&str> = examples.iter().map(type_of).collect();
    for known in ClientEvent::KNOWN_TYPES {
        assert!(
            covered.contains(known),
            "no example for client event {known}"
        );
    }
    for example in &examples {
        let event: ClientEvent = serde_json::from_value(example.clone()).unwrap();
        assert!(!matches!(event, ClientEvent::Unknown(_)));
    }
}

#[test]
fn unknown_event_types_are_kept_verbatim() {
    let raw = serde_json::json!({"type": "response.brand_new", "event_id": "e1", "x": [1, 2]});
    let event: ServerEvent = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(event.event_type(), "response.brand_new");
    assert!(matches!(event, ServerEvent::Unknown(_)));
    assert_eq!(serde_json::to_value(&event).unwrap(), raw);
}

#[test]
fn missing_type_is_an_error_not_a_panic() {
    let err = serde_json::from_str::<ClientEvent>(r#"{"audio":"AAAA"}"#).unwrap_err();
    assert!(err.to_string().contains("'type' field is missing"), "{err}");
    assert!(serde_json::from_str::<ClientEvent>(r#"{"type":7}"#).is_err());
}

#[test]
fn serialised_events_put_type_first() {
    for example in examples(SERVER_EXAMPLES) {
        let event: ServerEvent = serde_json::from_value(example).unwrap();
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.starts_with("{\"type\":"), "{text}");
    }
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
                        Just("call_id".to_string()), Just("audio_start_ms".to_string()), "[a-z_]{1,8}"],
            json_value(), 0..6),
    ) {
        let types = ServerEvent::KNOWN_TYPES;
        let mut map: Map<String, Value> = fields.into_iter().collect();
        map.insert("type".into(), Value::String(types[index % types.len()].into()));
        let text = Value::Object(map).to_string();
        let mut decoder = Decoder::new();
        let _ = decoder.decode_text(&text);
    }

    #[test]
    fn typed_events_never_fail_to_serialise_after_a_successful_parse(value in json_value()) {
        if let Ok(event) = serde_json::from_value::<ServerEvent>(value) {
            let again: ServerEvent = serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
            prop_assert_eq!(again, event);
        }
    }
}
