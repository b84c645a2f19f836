//! OpenAI wire types: every event in the protocol file round-trips through
//! JSON exactly, unknown types and fields are kept, and decoding never panics.

use proptest::prelude::*;
use serde_json::{Map, Value};
use understudy_adapters::openai::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/openai-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/openai-client-examples.jsonl");

fn examples(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("example is JSON"))
        .collect()
}

fn type_of(v: &Value) -> &str {
    v["type"].as_str().expect("example has a type")
}

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

/// Replaces string and integer leaves (never `type` keys) with generated values,
/// and adds unknown fields at the top level and inside the first nested object.
fn mutate(
    value: &mut Value,
    strings: &mut impl Iterator<Item = String>,
    ints: &mut impl Iterator<Item = u32>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "type" {
                    continue;
                }
                mutate(child, strings, ints);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mutate(v, strings, ints)),
        Value::String(s) => {
            if let Some(new) = strings.next() {
                *s = new;
            }
        }
        Value::Number(n) if n.is_u64() => {
            if let Some(new) = ints.next() {
                *n = new.into();
            }
        }
        _ => {}
    }
}

fn add_extras(value: &mut Value, extras: &Map<String, Value>) {
    if let Value::Object(map) = value {
        for (k, v) in extras {
            map.insert(format!("x_{k}"), v.clone());
        }
        if let Some(Value::Object(nested)) = map.values_mut().find(|v| v.is_object()) {
            for (k, v) in extras {
                nested.insert(format!("x_{k}"), v.clone());
            }
        }
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 _\\-é]{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn round_trips<T>(original: &Value)
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{original} does not parse: {e}"));
    let encoded = serde_json::to_value(&typed).unwrap();
    assert_eq!(&encoded, original, "JSON changed in a round trip");
    let again: T = serde_json::from_value(encoded).unwrap();
    assert_eq!(again, typed, "typed value changed in a round trip");
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
