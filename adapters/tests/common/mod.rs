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
