//! Timing drift: how long a target takes to answer, frame by frame, against
//! how long the recording took.
//!
//! `fixtures diff` ignores timing on purpose (two runs never match to the
//! microsecond); drift still wants to know when a target got slower or
//! faster. Frames are named by what they are and which occurrence, per
//! direction (the 2nd server `response.done`, the 40th client
//! `input_audio_buffer.append`). Each server frame of the recording is timed
//! from its anchor: the latest client frame before it there (what the server
//! was answering, as replay anchors it), or the connection's start. The same
//! two frames are found in the new cassette and timed the same way — so a
//! client frame that the new run sent a little later or earlier does not
//! count, only the server's answer moving. A pair whose times differ by more
//! than the tolerance is a [`TimingChange`].

use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;
use understudy_fixtures::diff::frame_label;
use understudy_fixtures::{Cassette, Direction, FrameBody};

/// One server frame answering sooner or later than it did in the recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingChange {
    /// What the frame is (event type, Gemini message key or frame kind).
    pub event: String,
    /// Which occurrence of it (1-based).
    pub nth: usize,
    /// Milliseconds after its client frame in the recording.
    pub recorded_ms: f64,
    /// Milliseconds after the same client frame now (negative: before it).
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

/// A frame's name: direction, what it is, which occurrence.
type Name = (Direction, String, usize);

/// Each WebSocket frame of `cassette` by name, with its time, in order (the
/// opening handshake is not timed: a synthesized cassette has none).
fn named_frames(cassette: &Cassette) -> Vec<(Name, u64)> {
    let mut seen: HashMap<(Direction, String), usize> = HashMap::new();
    cassette
        .frames
        .iter()
        .filter(|f| {
            !matches!(
                f.body,
                FrameBody::HttpRequest(_) | FrameBody::HttpResponse(_)
            )
        })
        .map(|frame| {
            let label = frame_label(frame);
            let nth = seen.entry((frame.dir, label.clone())).or_default();
            *nth += 1;
            ((frame.dir, label, *nth), frame.t_us)
        })
        .collect()
}

/// The server frames whose delay after their recorded anchor differs, in
/// `now`, from the recording's by more than `tolerance`, in recorded order.
pub fn timing_changes(
    recorded: &Cassette,
    now: &Cassette,
    tolerance: Duration,
) -> Vec<TimingChange> {
    let tolerance_ms = tolerance.as_secs_f64() * 1000.0;
    let now_at: HashMap<Name, u64> = named_frames(now).into_iter().collect();
    let mut anchor: Option<(Name, u64)> = None;
    let mut changes = Vec::new();
    let ms = |us: i128| us as f64 / 1000.0;
    for (name, t_us) in named_frames(recorded) {
        if name.0 == Direction::ClientToServer {
            anchor = Some((name, t_us));
            continue;
        }
        let (recorded_anchor, now_anchor) = match &anchor {
            None => (0, Some(0)),
            Some((a, at)) => (*at, now_at.get(a).copied()),
        };
        let (Some(now_anchor), Some(now_t)) = (now_anchor, now_at.get(&name).copied()) else {
            continue;
        };
        let recorded_ms = ms(i128::from(t_us) - i128::from(recorded_anchor));
        let now_ms = ms(i128::from(now_t) - i128::from(now_anchor));
        if (now_ms - recorded_ms).abs() > tolerance_ms {
            let (_, event, nth) = name;
            changes.push(TimingChange {
                event,
                nth,
                recorded_ms,
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

    /// `cassette` with every frame from the first `event` sent by `server`
    /// (or the client) on moved `by_us` later.
    fn slowed_from(cassette: &Cassette, server: bool, event: &str, by_us: u64) -> Cassette {
        let mut slower = cassette.clone();
        let mut late = false;
        for frame in &mut slower.frames {
            late |= frame.is_server() == server && frame.event_type() == Some(event);
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
        let slowed = |event, by_us| slowed_from(&recorded, true, event, by_us);
        let now = slowed("response.done", 900_000);
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
        let within = slowed("response.done", 100_000);
        assert_eq!(timing_changes(&recorded, &within, tolerance), []);
        // A client that asks later, answered as promptly, is no drift.
        let asked_later = slowed_from(&recorded, false, "response.create", 900_000);
        assert_eq!(timing_changes(&recorded, &asked_later, tolerance), []);
    }
}
