//! The responder pieces the DashScope realtime dialects share. Each of their
//! responders drives an inner engine (Qwen-Omni drives the OpenAI-family
//! responder, Qwen-Audio drives Qwen-Omni's) and layers its own frames and
//! notes over it; merging the two is written here once.

use crate::engine::Note;
use crate::protocol::FrameSummary;
use serde_json::Value;
use tokio::time::Instant;

/// The earlier of two deadlines, either of which may be absent.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The layer's notes, then the inner engine's, leaving the layer's empty.
pub(crate) fn take_notes(own: &mut Vec<Note>, inner: Vec<Note>) -> Vec<Note> {
    let mut notes = std::mem::take(own);
    notes.extend(inner);
    notes
}

/// The summary of a frame a layer forwards to its inner engine (responders
/// read the typed event, not the summary).
pub(crate) fn forwarded(event_type: &str) -> FrameSummary {
    FrameSummary {
        event_type: event_type.to_owned(),
        key: Value::Null,
        audio_ms: None,
    }
}

/// What a responder sent, as JSON events (tests).
#[cfg(test)]
pub(crate) fn sent_json(frames: Vec<crate::timeline::Outgoing>) -> Vec<Value> {
    frames
        .into_iter()
        .filter_map(|frame| match frame {
            crate::timeline::Outgoing::Text { text, .. } => serde_json::from_str(&text).ok(),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_earliest_deadline_wins_and_absence_is_no_deadline() {
        let now = Instant::now();
        let later = now + Duration::from_secs(1);
        assert_eq!(earliest(Some(later), Some(now)), Some(now));
        assert_eq!(earliest(None, Some(later)), Some(later));
        assert_eq!(earliest(Some(now), None), Some(now));
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn the_layers_notes_come_first_and_are_taken() {
        let mut own = vec![Note::new("fault", "own")];
        let notes = take_notes(&mut own, vec![Note::new("refused", "inner")]);
        let kinds: Vec<&str> = notes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(kinds, ["fault", "refused"]);
        assert!(own.is_empty());
    }
}
