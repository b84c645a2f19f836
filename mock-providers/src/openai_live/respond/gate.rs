//! Events held until the session timeline reaches them.
//!
//! GPT-Live's clock is the input audio: a transcript fragment, an append's
//! acknowledgement or a delegation goes out once the client has streamed
//! audio up to its point on the timeline, never earlier. [`Gate`] keeps each
//! such event at its timeline millisecond (in the order they were held, for
//! equal points) and releases what the timeline has reached. Events may be
//! tagged — with the reply they belong to, or the append they acknowledge —
//! so that a barge-in can drop a reply's later fragments and a close can
//! fail the acknowledgements still held.

use std::collections::BTreeMap;
use understudy_adapters::openai_live::wire::ServerEvent;

/// A held event and its tag.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Held {
    /// The event (its `event_id` is drawn when it goes out).
    pub(super) event: ServerEvent,
    /// What it belongs to, if anything can withdraw it.
    pub(super) tag: Option<String>,
}

/// Events keyed by the timeline millisecond they wait for.
#[derive(Debug, Default)]
pub(super) struct Gate {
    held: BTreeMap<(u64, u64), Held>,
    seq: u64,
}

impl Gate {
    /// Holds `event` until the timeline reaches `at_ms`.
    pub(super) fn hold(&mut self, at_ms: u64, event: ServerEvent, tag: Option<String>) {
        self.seq += 1;
        self.held.insert((at_ms, self.seq), Held { event, tag });
    }

    /// Every event whose point the timeline (`t_ms`) has reached, in order.
    pub(super) fn release(&mut self, t_ms: u64) -> Vec<Held> {
        let mut out = Vec::new();
        while let Some(entry) = self.held.first_entry() {
            if entry.key().0 > t_ms {
                break;
            }
            out.push(entry.remove());
        }
        out
    }

    /// Drops the events tagged `tag` held for `from_ms` or later; how many.
    pub(super) fn withdraw_from(&mut self, tag: &str, from_ms: u64) -> usize {
        let before = self.held.len();
        self.held
            .retain(|(at, _), held| *at < from_ms || held.tag.as_deref() != Some(tag));
        before - self.held.len()
    }

    /// Removes and returns every event whose tag starts with `prefix`.
    pub(super) fn take_tagged(&mut self, prefix: &str) -> Vec<Held> {
        let keys: Vec<(u64, u64)> = self
            .held
            .iter()
            .filter(|(_, h)| h.tag.as_deref().is_some_and(|t| t.starts_with(prefix)))
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| self.held.remove(&k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::openai_live::wire::server::Ack;

    fn ack(id: &str) -> ServerEvent {
        ServerEvent::InputAudioMuted(Ack {
            client_event_id: Some(id.into()),
            ..Default::default()
        })
    }

    #[test]
    fn releases_by_timeline_point_then_order_and_withdraws_by_tag() {
        let mut gate = Gate::default();
        gate.hold(300, ack("c"), Some("reply_1".into()));
        gate.hold(100, ack("a"), None);
        gate.hold(300, ack("d"), Some("ack:x".into()));
        gate.hold(200, ack("b"), Some("reply_1".into()));
        assert_eq!(gate.release(50), vec![]);
        let first: Vec<_> = gate.release(200).into_iter().map(|h| h.event).collect();
        assert_eq!(first, vec![ack("a"), ack("b")]);
        assert_eq!(gate.withdraw_from("reply_1", 250), 1);
        let acks = gate.take_tagged("ack:");
        assert_eq!(acks.len(), 1);
        assert!(gate.release(u64::MAX).is_empty());
    }
}
