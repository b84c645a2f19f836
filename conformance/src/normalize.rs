//! The reviewable form of a run's events: ids replaced by stable placeholders,
//! times (`expires_at`) by `<time>`, audio summarised, consecutive audio chunks of one item merged.
//!
//! Snapshots compare this form, so a run matches its reviewed snapshot when the
//! adapter produced the same events in the same order with the same content,
//! whatever ids the provider minted and however audio was chunked into bytes.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use understudy_adapters::ModelEvent;

/// Provider-minted ids; `event_id` (the client's own id, echoed in errors) is kept.
const ID_FIELDS: &[&str] = &[
    "response_id",
    "item_id",
    "call_id",
    "session_id",
    "delegation_id",
];

/// Normalises a run's events for snapshot comparison.
pub fn normalise(events: &[ModelEvent]) -> Value {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut out: Vec<Value> = Vec::new();
    for event in events {
        let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            rename_ids(map, &mut ids);
            // A point in time, different in every recording.
            if let Some(at) = map.get_mut("expires_at") {
                *at = json!("<time>");
            }
            if map.get("type").and_then(Value::as_str) == Some("audio_delta") {
                let bytes = map
                    .remove("pcm")
                    .and_then(|p| p.as_str().map(|s| s.len() / 4 * 3))
                    .unwrap_or(0);
                map.insert("chunks".into(), json!(1));
                map.insert("approx_bytes".into(), json!(bytes));
                if let Some(Value::Object(prev)) = out.last_mut() {
                    if prev.get("type") == map.get("type")
                        && prev.get("item_id") == map.get("item_id")
                    {
                        let chunks = prev["chunks"].as_u64().unwrap_or(0) + 1;
                        let total = prev["approx_bytes"].as_u64().unwrap_or(0) + bytes as u64;
                        prev.insert("chunks".into(), json!(chunks));
                        prev.insert("approx_bytes".into(), json!(total));
                        continue;
                    }
                }
            }
        }
        out.push(value);
    }
    Value::Array(out)
}

fn rename_ids(map: &mut Map<String, Value>, ids: &mut HashMap<String, String>) {
    for (key, value) in map.iter_mut() {
        match value {
            Value::String(s) if ID_FIELDS.contains(&key.as_str()) => {
                *s = placeholder(key, s, ids);
            }
            Value::Array(items) if key == "call_ids" => {
                for item in items {
                    if let Value::String(s) = item {
                        *s = placeholder("call_id", s, ids);
                    }
                }
            }
            Value::Object(inner) => rename_ids(inner, ids),
            _ => {}
        }
    }
}

fn placeholder(field: &str, id: &str, ids: &mut HashMap<String, String>) -> String {
    if id.is_empty() {
        return String::new();
    }
    let prefix = field.trim_end_matches("_id");
    let count = ids
        .values()
        .filter(|v| v.starts_with(&format!("<{prefix}#")))
        .count();
    ids.entry(id.to_owned())
        .or_insert_with(|| format!("<{prefix}#{}>", count + 1))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::Pcm;

    #[test]
    fn ids_become_placeholders_and_audio_is_merged() {
        let audio = |item: &str| ModelEvent::AudioDelta {
            response_id: "resp_X".into(),
            item_id: item.into(),
            pcm: Pcm(vec![0; 30]),
            sample_rate: 24_000,
        };
        let events = vec![
            ModelEvent::ResponseCreated {
                response_id: "resp_X".into(),
            },
            audio("item_A"),
            audio("item_A"),
            audio("item_B"),
        ];
        let value = normalise(&events);
        assert_eq!(value[0]["response_id"], "<response#1>");
        assert_eq!(value[1]["chunks"], 2);
        assert_eq!(value[1]["approx_bytes"], 60);
        assert_eq!(value[1]["item_id"], "<item#1>");
        assert_eq!(value[2]["item_id"], "<item#2>");
        assert!(value[1].get("pcm").is_none());
    }
}
