//! Property-test helpers shared by every provider's wire tests.
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Parses a JSON Lines file of examples.
pub fn examples(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("example is JSON"))
        .collect()
}

/// The example's `type`.
pub fn type_of(v: &Value) -> &str {
    v["type"].as_str().expect("example has a type")
}

/// Replaces string and integer leaves (never `type` keys) with generated values,
/// and adds unknown fields at the top level and inside the first nested object.
pub fn mutate(
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

pub fn add_extras(value: &mut Value, extras: &Map<String, Value>) {
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

/// Sets to `null` the non-`type` object fields whose position in a walk of
/// `value` is picked by `picks` (one flag per field, cycled).
pub fn nullify(value: &mut Value, picks: &[bool], at: &mut usize) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "type" {
                    continue;
                }
                let pick = !picks.is_empty() && picks[*at % picks.len()];
                *at += 1;
                if pick {
                    *child = Value::Null;
                } else {
                    nullify(child, picks, at);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| nullify(v, picks, at)),
        _ => {}
    }
}

/// If `value` parses as `T`, it re-encodes to the same JSON (nulls included).
pub fn round_trips_if_it_parses<T>(value: &Value) -> Result<(), String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let Ok(typed) = serde_json::from_value::<T>(value.clone()) else {
        return Ok(());
    };
    let again = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if &again == value {
        Ok(())
    } else {
        Err(format!("sent  {value}\nagain {again}"))
    }
}

pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 _\\-é]{0,12}".prop_map(Value::String),
    ]
}

pub fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub fn round_trips<T>(original: &Value)
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

/// The properties every `type`-tagged wire vocabulary must have (OpenAI,
/// DashScope Omni, DashScope TTS): every known type has an example that parses
/// as itself; unknown types are kept verbatim; a missing `type` is an error;
/// serialised events put `type` first; examples round-trip with any values
/// and unknown fields; typed events re-serialise; decoding arbitrary text and
/// known types with arbitrary fields never panics. `decode` takes the frame
/// text; `fields` are field names worth fuzzing for that vocabulary.
#[macro_export]
macro_rules! tagged_wire_properties {
    (
        client: $client:ident,
        server: $server:ident,
        client_examples: $client_examples:expr,
        server_examples: $server_examples:expr,
        decode: $decode:expr,
        fields: [$($field:literal),* $(,)?]
    ) => {
        #[test]
        fn every_known_type_has_an_example_that_parses_as_itself() {
            let server = common::examples($server_examples);
            for known in $server::KNOWN_TYPES {
                assert!(
                    server.iter().any(|e| common::type_of(e) == *known),
                    "no example for server event {known}"
                );
            }
            for example in &server {
                let event: $server = serde_json::from_value(example.clone()).unwrap();
                assert_eq!(event.event_type(), common::type_of(example));
                assert!(!matches!(event, $server::Unknown(_)), "{example} parsed as Unknown");
            }
            let client = common::examples($client_examples);
            for known in $client::KNOWN_TYPES {
                assert!(
                    client.iter().any(|e| common::type_of(e) == *known),
                    "no example for client event {known}"
                );
            }
            for example in &client {
                let event: $client = serde_json::from_value(example.clone()).unwrap();
                assert!(!matches!(event, $client::Unknown(_)), "{example} parsed as Unknown");
            }
        }

        #[test]
        fn unknown_event_types_are_kept_verbatim() {
            let raw = serde_json::json!({"type": "response.brand_new", "event_id": "e1", "x": [1, 2]});
            let event: $server = serde_json::from_value(raw.clone()).unwrap();
            assert_eq!(event.event_type(), "response.brand_new");
            assert!(matches!(event, $server::Unknown(_)));
            assert_eq!(serde_json::to_value(&event).unwrap(), raw);
        }

        #[test]
        fn missing_type_is_an_error_not_a_panic() {
            let err = serde_json::from_str::<$client>(r#"{"audio":"AAAA"}"#).unwrap_err();
            assert!(err.to_string().contains("'type' field is missing"), "{err}");
            assert!(serde_json::from_str::<$client>(r#"{"type":7}"#).is_err());
        }

        #[test]
        fn serialised_events_put_type_first() {
            for example in common::examples($server_examples) {
                let event: $server = serde_json::from_value(example).unwrap();
                let text = serde_json::to_string(&event).unwrap();
                assert!(text.starts_with("{\"type\":"), "{text}");
            }
        }

        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

            #[test]
            fn server_events_round_trip_with_any_values_and_unknown_fields(
                index in 0usize..1000,
                strings in proptest::collection::vec("[a-zA-Z0-9 _.\\-]{0,16}", 64),
                ints in proptest::collection::vec(0u32..1_000_000, 64),
                extras in proptest::collection::btree_map("[a-z]{1,6}", common::json_value(), 0..3),
            ) {
                let all = common::examples($server_examples);
                let mut value = all[index % all.len()].clone();
                common::mutate(&mut value, &mut strings.into_iter(), &mut ints.into_iter());
                common::add_extras(&mut value, &extras.into_iter().collect());
                common::round_trips::<$server>(&value);
            }

            #[test]
            fn client_events_round_trip_with_any_values_and_unknown_fields(
                index in 0usize..1000,
                strings in proptest::collection::vec("[a-zA-Z0-9 _.\\-]{0,16}", 64),
                ints in proptest::collection::vec(0u32..1_000_000, 64),
                extras in proptest::collection::btree_map("[a-z]{1,6}", common::json_value(), 0..3),
            ) {
                let all = common::examples($client_examples);
                let mut value = all[index % all.len()].clone();
                common::mutate(&mut value, &mut strings.into_iter(), &mut ints.into_iter());
                common::add_extras(&mut value, &extras.into_iter().collect());
                common::round_trips::<$client>(&value);
            }

            #[test]
            fn explicit_nulls_survive_a_round_trip(
                index in 0usize..1000,
                picks in proptest::collection::vec(proptest::bool::weighted(0.2), 1..16),
            ) {
                for examples in [$server_examples, $client_examples] {
                    let all = common::examples(examples);
                    let mut value = all[index % all.len()].clone();
                    common::nullify(&mut value, &picks, &mut 0);
                    let server = common::round_trips_if_it_parses::<$server>(&value);
                    let client = common::round_trips_if_it_parses::<$client>(&value);
                    proptest::prop_assert!(server.is_ok(), "{}", server.unwrap_err());
                    proptest::prop_assert!(client.is_ok(), "{}", client.unwrap_err());
                }
            }

            #[test]
            fn decoding_never_panics_on_arbitrary_text(text in ".{0,200}") {
                let decode = $decode;
                decode(&text);
            }

            #[test]
            fn decoding_never_panics_on_known_types_with_arbitrary_fields(
                index in 0usize..1000,
                fields in proptest::collection::btree_map(
                    proptest::prop_oneof![$(proptest::strategy::Just($field.to_string()),)* "[a-z_]{1,8}"],
                    common::json_value(), 0..6),
            ) {
                let types = $server::KNOWN_TYPES;
                let mut map: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
                map.insert("type".into(), serde_json::Value::String(types[index % types.len()].into()));
                let decode = $decode;
                decode(&serde_json::Value::Object(map).to_string());
            }

            #[test]
            fn typed_events_never_fail_to_serialise_after_a_successful_parse(value in common::json_value()) {
                if let Ok(event) = serde_json::from_value::<$server>(value) {
                    let again: $server = serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
                    proptest::prop_assert_eq!(again, event);
                }
            }
        }
    };
}

/// Decodes Gemini Live server messages with one fresh decoder.
pub fn gemini_events(messages: &[Value]) -> Vec<understudy_adapters::ModelEvent> {
    let mut decoder = understudy_adapters::gemini::Decoder::new("gemini-live-2.5-flash-preview");
    messages
        .iter()
        .flat_map(|m| decoder.decode_text(&m.to_string()).unwrap())
        .collect()
}
