//! The conversation: its items, how much audio each carries, and the client
//! events that read or edit it (`conversation.item.create`, `.retrieve`,
//! `.delete`, `.truncate`).
//!
//! [`Conversation`] owns the items in order and each item's audio length,
//! which the reply rule reads (a long user turn gets a long answer), usage
//! counts, and truncation checks: only an assistant item can be truncated,
//! and never past the audio it has. The decisions ([`Conversation::check_truncate`],
//! [`Conversation::usage`]) are pure; the `impl Responder` below turns them
//! into the events or errors the service sends.

use super::Responder;
use std::collections::HashMap;
use tokio::time::Instant;
use understudy_adapters::openai::wire::objects::{Item, TokenDetails, Usage};
use understudy_adapters::openai::wire::server::{ItemEvent, ItemRef, ItemTruncated};
use understudy_adapters::openai::wire::ServerEvent;
use understudy_adapters::openai::Dialect;

/// The items of one session and the audio each carries.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    items: Vec<Item>,
    audio_ms: HashMap<String, f64>,
}

/// Why a `conversation.item.truncate` is refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TruncateRefusal {
    /// No such item.
    NotFound,
    /// The item is not the assistant's.
    NotAssistant,
    /// The item has only `available` milliseconds of audio.
    TooLong {
        /// Its audio, in milliseconds.
        available: f64,
    },
}

impl Conversation {
    /// The items, oldest first.
    pub(super) fn items(&self) -> &[Item] {
        &self.items
    }

    /// The id of the last item: the `previous_item_id` of the next one.
    pub(super) fn last_id(&self) -> Option<String> {
        self.items.last().and_then(|i| i.id.clone())
    }

    /// The id of the last item other than `id`.
    pub(super) fn last_id_except(&self, id: Option<&String>) -> Option<String> {
        self.items
            .iter()
            .rev()
            .find(|i| i.id.as_ref() != id)
            .and_then(|i| i.id.clone())
    }

    /// The item with `id`.
    pub(super) fn find(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id.as_deref() == Some(id))
    }

    /// The audio an item carries, in milliseconds (0 when unknown).
    pub(super) fn audio_ms(&self, item: &Item) -> f64 {
        item.id
            .as_ref()
            .and_then(|id| self.audio_ms.get(id))
            .copied()
            .unwrap_or(0.0)
    }

    /// Records how much audio the item with `id` carries.
    pub(super) fn set_audio_ms(&mut self, id: &str, ms: f64) {
        self.audio_ms.insert(id.into(), ms);
    }

    /// Adds an item at the end.
    pub(super) fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// Removes the item with `id`; whether there was one.
    pub(super) fn remove(&mut self, id: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|i| i.id.as_deref() != Some(id));
        self.items.len() != before
    }

    /// Puts `item` in the place of the item with its id, if there is one.
    pub(super) fn replace(&mut self, item: &Item) {
        if let Some(slot) = self.items.iter_mut().find(|i| i.id == item.id) {
            *slot = item.clone();
        }
    }

    /// Sets the transcript of the audio parts of a committed user item.
    pub(super) fn set_input_transcript(&mut self, id: &str, transcript: &str) {
        if let Some(item) = self.items.iter_mut().find(|i| i.id.as_deref() == Some(id)) {
            for part in item
                .content
                .iter_mut()
                .flatten()
                .filter(|p| p.kind == "input_audio")
            {
                part.transcript = Some(Some(transcript.to_owned()));
            }
        }
    }

    /// Whether the item with `id` may be truncated at `audio_end_ms`.
    pub(super) fn check_truncate(
        &self,
        id: &str,
        audio_end_ms: u64,
    ) -> Result<(), TruncateRefusal> {
        let item = self.find(id).ok_or(TruncateRefusal::NotFound)?;
        if item.role.as_deref() != Some("assistant") {
            return Err(TruncateRefusal::NotAssistant);
        }
        let available = self.audio_ms.get(id).copied().unwrap_or(0.0);
        if audio_end_ms as f64 > available + 1.0 {
            return Err(TruncateRefusal::TooLong { available });
        }
        Ok(())
    }

    /// The usage a response with `output` reports: input counts every word
    /// in the conversation (plus 20 for the instructions) and every 100 ms of
    /// input audio; output one text and three audio tokens per word.
    pub(super) fn usage(&self, output: &[Item]) -> Usage {
        let words = |items: &[Item]| -> u64 {
            items
                .iter()
                .flat_map(|i| i.content.iter().flatten())
                .map(|p| {
                    let text = p
                        .text
                        .clone()
                        .or_else(|| p.transcript.clone().flatten())
                        .unwrap_or_default();
                    text.split_whitespace().count() as u64
                })
                .sum()
        };
        let input_audio: f64 = self.audio_ms.values().sum();
        let input_text = words(&self.items) + 20;
        let input_audio_tokens = (input_audio / 100.0) as u64;
        let output_text = words(output);
        let output_audio_tokens = output_text * 3;
        let input = input_text + input_audio_tokens;
        let out = output_text + output_audio_tokens;
        Usage {
            total_tokens: Some(input + out),
            input_tokens: Some(input),
            output_tokens: Some(out),
            input_token_details: Some(TokenDetails {
                text_tokens: Some(input_text),
                audio_tokens: Some(input_audio_tokens),
                cached_tokens: Some(0),
                ..Default::default()
            }),
            output_token_details: Some(TokenDetails {
                text_tokens: Some(output_text),
                audio_tokens: Some(output_audio_tokens),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl Responder {
    /// Appends an item and acknowledges it in the dialect's way.
    pub(super) fn add_item(&mut self, item: Item, previous: Option<String>, now: Instant) {
        self.conversation.push(item.clone());
        let event = |item: Item| ItemEvent {
            previous_item_id: Some(previous.clone()),
            item,
            ..Default::default()
        };
        let ack = ServerEvent::item_added(self.dialect, event(item.clone()));
        self.emit(now, ack, None);
        if self.dialect == Dialect::Ga {
            self.emit(now, ServerEvent::ConversationItemDone(event(item)), None);
        }
    }

    /// `conversation.item.create`: the item gets an id and status if it has none.
    pub(super) fn on_item_create(&mut self, mut item: Item, now: Instant) {
        if item.id.is_none() {
            item.id = Some(self.ids.next("item"));
        }
        item.object = Some("realtime.item".into());
        if item.status.is_none() {
            item.status = Some("completed".into());
        }
        let previous = self.conversation.last_id();
        self.add_item(item, previous, now);
    }

    /// `conversation.item.retrieve`.
    pub(super) fn on_item_retrieve(&mut self, item_id: &str, event_id: Option<&str>, now: Instant) {
        match self.conversation.find(item_id).cloned() {
            Some(item) => {
                let event = ServerEvent::ConversationItemRetrieved(ItemEvent {
                    item,
                    ..Default::default()
                });
                self.emit(now, event, None);
            }
            None => self.item_not_found(now, item_id, event_id),
        }
    }

    /// `conversation.item.delete`.
    pub(super) fn on_item_delete(&mut self, item_id: &str, event_id: Option<&str>, now: Instant) {
        if !self.conversation.remove(item_id) {
            self.item_not_found(now, item_id, event_id);
        } else {
            let event = ServerEvent::ConversationItemDeleted(ItemRef {
                item_id: item_id.to_owned(),
                ..Default::default()
            });
            self.emit(now, event, None);
        }
    }

    /// `conversation.item.truncate`: the item's audio now ends at `audio_end_ms`.
    pub(super) fn on_truncate(
        &mut self,
        item_id: &str,
        content_index: u32,
        audio_end_ms: u64,
        event_id: Option<&str>,
        now: Instant,
    ) {
        match self.conversation.check_truncate(item_id, audio_end_ms) {
            Err(TruncateRefusal::NotFound) => return self.item_not_found(now, item_id, event_id),
            Err(TruncateRefusal::NotAssistant) => {
                return self.error(
                    now,
                    "invalid_value",
                    "Only assistant messages can be truncated.".into(),
                    Some("item_id"),
                    event_id,
                )
            }
            Err(TruncateRefusal::TooLong { available }) => {
                return self.error(
                    now,
                    "invalid_value",
                    format!(
                        "Audio content of {available:.0}ms is already shorter than {audio_end_ms}ms"
                    ),
                    Some("audio_end_ms"),
                    event_id,
                )
            }
            Ok(()) => {}
        }
        self.conversation.set_audio_ms(item_id, audio_end_ms as f64);
        let event = ServerEvent::ConversationItemTruncated(ItemTruncated {
            item_id: item_id.into(),
            content_index,
            audio_end_ms,
            ..Default::default()
        });
        self.emit(now, event, None);
    }

    /// The error for a client event naming an item the conversation does not have.
    fn item_not_found(&mut self, now: Instant, item_id: &str, event_id: Option<&str>) {
        self.error(
            now,
            "invalid_value",
            format!("Item with item_id '{item_id}' not found."),
            Some("item_id"),
            event_id,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::openai::wire::objects::ContentPart;

    fn item(id: &str, role: &str, said: &str) -> Item {
        Item {
            id: Some(id.into()),
            kind: "message".into(),
            role: Some(role.into()),
            content: Some(vec![ContentPart {
                kind: "text".into(),
                text: Some(said.into()),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn truncation_is_refused_for_unknown_and_user_items_and_past_the_audio() {
        let mut c = Conversation::default();
        c.push(item("u", "user", "hi"));
        c.push(item("a", "assistant", "hello there"));
        c.set_audio_ms("a", 1000.0);
        assert_eq!(c.check_truncate("x", 0), Err(TruncateRefusal::NotFound));
        assert_eq!(c.check_truncate("u", 0), Err(TruncateRefusal::NotAssistant));
        assert_eq!(
            c.check_truncate("a", 1002),
            Err(TruncateRefusal::TooLong { available: 1000.0 })
        );
        // One millisecond of slack for rounding on the client.
        assert_eq!(c.check_truncate("a", 1001), Ok(()));
    }

    #[test]
    fn usage_counts_words_and_input_audio() {
        let mut c = Conversation::default();
        c.push(item("u", "user", "one two three"));
        c.set_audio_ms("u", 1250.0);
        let usage = c.usage(&[item("a", "assistant", "four five")]);
        // 3 words + 20 for instructions; 12 audio tokens for 1.25 s.
        assert_eq!(usage.input_tokens, Some(23 + 12));
        assert_eq!(usage.output_tokens, Some(2 + 6));
        assert_eq!(usage.total_tokens, Some(35 + 8));
    }

    #[test]
    fn removal_and_previous_ids() {
        let mut c = Conversation::default();
        c.push(item("u", "user", "hi"));
        c.push(item("a", "assistant", "yes"));
        assert_eq!(c.last_id().as_deref(), Some("a"));
        assert_eq!(
            c.last_id_except(Some(&"a".to_owned())).as_deref(),
            Some("u")
        );
        assert!(c.remove("u"));
        assert!(!c.remove("u"));
        assert_eq!(c.items().len(), 1);
    }
}
