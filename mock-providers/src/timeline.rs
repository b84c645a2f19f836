//! Outgoing frames scheduled at absolute deadlines.
//!
//! Engines never sleep: they put frames on a [`Timeline`] at the instant they
//! are due, and the transport sends whatever is due. Deadlines are absolute
//! (anchor + offset), so a long session does not drift the way chained sleeps
//! would, and the same engine runs under a virtual clock in tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::time::Instant;

/// One frame for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A text frame, serialised once when it was scheduled.
    Text {
        /// The event's `type`, for the journal.
        event_type: Arc<str>,
        /// The frame.
        text: Arc<str>,
    },
    /// A binary frame (Gemini sends its JSON this way), serialised once.
    Binary {
        /// The event's kind, for the journal.
        event_type: Arc<str>,
        /// The frame.
        data: Arc<[u8]>,
    },
    /// Close the connection.
    Close {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
}

impl Outgoing {
    /// A text frame carrying `text` (an error event, a pre-serialised event).
    pub fn text(event_type: &str, text: String) -> Self {
        Outgoing::Text {
            event_type: Arc::from(event_type),
            text: Arc::from(text),
        }
    }

    /// A text frame from a serialisable event with a known `type`.
    pub fn json<T: serde::Serialize>(event_type: &str, event: &T) -> Self {
        let text = serde_json::to_string(event)
            .unwrap_or_else(|e| format!(r#"{{"type":"error","error":{{"type":"server_error","message":"mock could not serialise an event: {e}"}}}}"#));
        Outgoing::Text {
            event_type: Arc::from(event_type),
            text: Arc::from(text),
        }
    }
}

impl Outgoing {
    /// A text frame from a server event, with `event_id` stamped right after
    /// `type` (every server event carries one), serialised once.
    pub fn with_event_id<T: serde::Serialize>(
        event_type: &str,
        event: &T,
        event_id: String,
    ) -> Self {
        let mut value = match serde_json::to_value(event) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Self::json(event_type, event),
        };
        value.remove("event_id");
        let mut ordered = serde_json::Map::with_capacity(value.len() + 1);
        let mut fields = value.into_iter();
        if let Some((key, tag)) = fields.next() {
            ordered.insert(key, tag);
        }
        ordered.insert("event_id".into(), serde_json::Value::String(event_id));
        ordered.extend(fields);
        Outgoing::Text {
            event_type: Arc::from(event_type),
            text: Arc::from(serde_json::Value::Object(ordered).to_string()),
        }
    }
}

/// A frame waiting for its deadline, optionally tagged (e.g. with the response
/// it belongs to) so a cancellation can withdraw it.
#[derive(Debug, Clone)]
struct Pending {
    frame: Outgoing,
    tag: Option<Arc<str>>,
}

/// Frames ordered by deadline, then by scheduling order.
#[derive(Debug, Default)]
pub struct Timeline {
    pending: BTreeMap<(Instant, u64), Pending>,
    seq: u64,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `frame` at `at`.
    pub fn push(&mut self, at: Instant, frame: Outgoing) {
        self.push_tagged(at, frame, None);
    }

    /// Schedules `frame` at `at` under `tag`.
    pub fn push_tagged(&mut self, at: Instant, frame: Outgoing, tag: Option<Arc<str>>) {
        self.seq += 1;
        self.pending.insert((at, self.seq), Pending { frame, tag });
    }

    /// Removes and returns every frame due at `now`, in order.
    pub fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut due = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove().frame);
        }
        due
    }

    /// The earliest deadline, if anything is scheduled.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.keys().next().map(|(at, _)| *at)
    }

    /// The latest deadline scheduled.
    pub fn last_deadline(&self) -> Option<Instant> {
        self.pending.keys().next_back().map(|(at, _)| *at)
    }

    /// Withdraws every pending frame with `tag`; returns how many.
    pub fn withdraw(&mut self, tag: &str) -> usize {
        let before = self.pending.len();
        self.pending.retain(|_, p| p.tag.as_deref() != Some(tag));
        before - self.pending.len()
    }

    /// Whether nothing is scheduled.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn text(s: &str) -> Outgoing {
        Outgoing::Text {
            event_type: Arc::from(s),
            text: Arc::from(s),
        }
    }

    #[test]
    fn frames_come_out_by_deadline_then_insertion() {
        let t0 = Instant::now();
        let mut tl = Timeline::new();
        tl.push(t0 + Duration::from_millis(20), text("b"));
        tl.push(t0 + Duration::from_millis(10), text("a"));
        tl.push(t0 + Duration::from_millis(20), text("c"));
        assert_eq!(tl.next_deadline(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(tl.pop_due(t0), vec![]);
        assert_eq!(
            tl.pop_due(t0 + Duration::from_millis(25)),
            vec![text("a"), text("b"), text("c")]
        );
        assert!(tl.is_empty());
    }

    #[test]
    fn withdraw_removes_only_the_tagged_frames() {
        let t0 = Instant::now();
        let mut tl = Timeline::new();
        tl.push_tagged(t0, text("x"), Some(Arc::from("resp_1")));
        tl.push(t0, text("y"));
        assert_eq!(tl.withdraw("resp_1"), 1);
        assert_eq!(tl.pop_due(t0), vec![text("y")]);
    }
}
