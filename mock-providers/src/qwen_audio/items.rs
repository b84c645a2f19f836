//! The conversation's items as the client has been told of them, for
//! `conversation.item.retrieve` and `.delete`: built from the frames the
//! session sends (`conversation.item.created`, the transcripts of the user's
//! audio), so it says exactly what the client saw.
//!
//! Deleting forgets the item here (so a second delete or a retrieve is
//! refused as the service refuses an unknown id); the shared responder's own
//! conversation, which its answers read, keeps it.

use serde_json::{json, Value};

/// Items by id, in the order they were created.
#[derive(Debug, Default)]
pub(crate) struct Items {
    items: Vec<(String, Value)>,
}

/// Most items remembered (the oldest are forgotten first).
const MAX_ITEMS: usize = 1_000;

impl Items {
    /// Notes what an outgoing server event says about the items.
    pub(crate) fn observe(&mut self, event: &Value) {
        match event.get("type").and_then(Value::as_str) {
            Some("conversation.item.created") => {
                let Some(item) = event.get("item") else {
                    return;
                };
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    if self.items.len() >= MAX_ITEMS {
                        self.items.remove(0);
                    }
                    self.items.push((id.to_owned(), item.clone()));
                }
            }
            Some("conversation.item.input_audio_transcription.completed") => {
                let (Some(id), Some(transcript)) = (
                    event.get("item_id").and_then(Value::as_str),
                    event.get("transcript").and_then(Value::as_str),
                ) else {
                    return;
                };
                if let Some((_, item)) = self.items.iter_mut().find(|(i, _)| i == id) {
                    if let Some(parts) = item.get_mut("content").and_then(Value::as_array_mut) {
                        for part in parts {
                            if part.get("type").and_then(Value::as_str) == Some("input_audio") {
                                part["transcript"] = json!(transcript);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether an item with this id exists.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.items.iter().any(|(i, _)| i == id)
    }

    /// The item as `conversation.item.retrieved` shows it: audio content as
    /// its transcript only.
    pub(crate) fn retrieve(&self, id: &str) -> Option<Value> {
        let (_, item) = self.items.iter().find(|(i, _)| i == id)?;
        let mut item = item.clone();
        if let Some(parts) = item.get_mut("content").and_then(Value::as_array_mut) {
            for part in parts {
                if let Some(map) = part.as_object_mut() {
                    map.remove("audio");
                    if map.get("type").and_then(Value::as_str) == Some("input_audio") {
                        map.entry("transcript").or_insert(Value::Null);
                    }
                }
            }
        }
        Some(item)
    }

    /// Forgets the item; whether it existed.
    pub(crate) fn delete(&mut self, id: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|(i, _)| i != id);
        self.items.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_comes_back_as_its_transcript_and_deleted_items_are_gone() {
        let mut items = Items::default();
        items.observe(&json!({"type": "conversation.item.created", "item": {"id": "item_1", "type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "AAAA"}]}}));
        assert_eq!(
            items.retrieve("item_1").unwrap()["content"][0],
            json!({"type": "input_audio", "transcript": null})
        );
        items.observe(&json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "item_1", "content_index": 0, "transcript": "hello"}));
        assert_eq!(
            items.retrieve("item_1").unwrap()["content"][0],
            json!({"type": "input_audio", "transcript": "hello"})
        );
        assert!(items.delete("item_1"));
        assert!(!items.delete("item_1"));
        assert!(items.retrieve("item_1").is_none() && !items.contains("item_1"));
    }

    #[test]
    fn the_oldest_items_are_forgotten_past_the_cap() {
        let mut items = Items::default();
        for n in 0..MAX_ITEMS + 5 {
            items.observe(&json!({"type": "conversation.item.created", "item": {"id": format!("item_{n}"), "type": "message", "role": "user", "content": []}}));
        }
        assert_eq!(items.items.len(), MAX_ITEMS);
        assert!(!items.contains("item_4") && items.contains("item_5"));
        assert!(items.contains(&format!("item_{}", MAX_ITEMS + 4)));
    }
}
