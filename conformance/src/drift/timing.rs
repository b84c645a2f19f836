//! Timing drift: how long a target takes to answer, frame by frame, against
//! how long the recording took.
//!
//! `fixtures diff` ignores timing on purpose (two runs never match to the
//! microsecond); drift still wants to know when a target got slower or
//! faster. Each server frame is timed from the latest client frame before it
//! (its anchor: what the server was answering, as replay anchors it), and
//! the frames of the two cassettes are paired by what they are and which
//! occurrence (the 2nd `response.done` with the 2nd). A pair whose times
//! differ by more than the tolerance is a [`TimingChange`].

use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;
use understudy_fixtures::diff::frame_label;
use understudy_fixtures::{Cassette, FrameBody};

/// One server frame answering sooner or later than it did in the recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingChange {
    /// What the frame is (event type, Gemini message key or frame kind).
    pub event: String,
    /// Which occurrence of it (1-based).
    pub nth: usize,
    /// Milliseconds after its client frame in the recording.
    pub recorded_ms: f64,
    /// Milliseconds after its client frame now.
    pub now_ms: f64,
}

impl std::fmt::Display for TimingChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} #{}: {:.0} ms after its client frame, now {:.0} ms ({:+.0} ms)",
            self.event,
            self.nth,
            self.recorded_ms,
            self.now_ms,
            self.now_ms - self.recorded_ms
        )
    }
}

/// Each server frame's label, occurrence and delay after its anchor, in ms.
fn server_delays(cassette: &Cassette) -> HashMap<(String, usize), f64> {
    let mut anchor_us = 0;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut delays = HashMap::new();
    for frame in &cassette.frames {
        if frame.is_client() {
            anchor_us = frame.t_us;
            continue;
        }
        if matches!(frame.body, FrameBody::HttpResponse(_)) {
            continue;
        }
        let label = frame_label(frame);
        let nth = seen.entry(label.clone()).or_default();
        *nth += 1;
        let delay_ms = frame.t_us.saturating_sub(anchor_us) as f64 / 1000.0;
        delays.insert((label, *nth), delay_ms);
    }
    delays
}

/// The server frames of `now` whose delay after their client frame differs
/// from the same frame's in `recorded` by more than `tolerance`, in the
/// order they came in `now`.
pub fn timing_changes(
    recorded: &Cassette,
    now: &Cassette,
    tolerance: Duration,
) -> Vec<TimingChange> {
    let before = server_delays(recorded);
    let tolerance_ms = tolerance.as_secs_f64() * 1000.0;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut changes = Vec::new();
    let mut after = server_delays(now);
    for frame in now.frames.iter().filter(|f| f.is_server()) {
        let label = frame_label(frame);
        let nth = seen.entry(label.clone()).or_default();
        *nth += 1;
        let key = (label, *nth);
        let (Some(recorded_ms), Some(now_ms)) = (before.get(&key), after.remove(&key)) else {
            continue;
        };
        if (now_ms - recorded_ms).abs() > tolerance_ms {
            changes.push(TimingChange {
                event: key.0,
                nth: key.1,
                recorded_ms: *recorded_ms,
                now_ms,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::timing_changes;
    use std::time::Duration;
    use understudy_fixtures::Cassette;

    fn slowed(cassette: &Cassette, event: &str, by_us: u64) -> Cassette {
        let mut slower = cassette.clone();
        let mut late = false;
        for frame in &mut slower.frames {
            late |= frame.is_server() && frame.event_type() == Some(event);
            if late {
                frame.t_us += by_us;
            }
        }
        slower
    }

    #[test]
    fn a_frame_answering_later_than_the_tolerance_is_named_and_the_rest_are_not() {
        let recorded =
            understudy_fixtures::bundled::cassette("openai/ga-text-turn").expect("bundled");
        let tolerance = Duration::from_millis(200);
        assert_eq!(timing_changes(&recorded, &recorded, tolerance), []);
        let now = slowed(&recorded, "response.done", 900_000);
        let changes = timing_changes(&recorded, &now, tolerance);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            (changes[0].event.as_str(), changes[0].nth),
            ("response.done", 1)
        );
        assert!((changes[0].now_ms - changes[0].recorded_ms - 900.0).abs() < 1.0);
        assert!(
            changes[0].to_string().contains("(+900 ms)"),
            "{}",
            changes[0]
        );
        let within = slowed(&recorded, "response.done", 100_000);
        assert_eq!(timing_changes(&recorded, &within, tolerance), []);
    }
}
