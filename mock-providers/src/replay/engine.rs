//! The run-time side of replay: the [`Replayer`] fires a script's steps as
//! the live client's events and audio match their triggers, scheduling each
//! step's frames at absolute deadlines (trigger instant + offset ÷ speed) and
//! never before a frame scheduled earlier, so a direction keeps its recorded
//! order. A resuming Gemini client may switch it to the recording it
//! continues.

use super::{ReplayScript, Step, Trigger};
use crate::engine::{Note, SessionEngine};
use crate::protocol::FrameSummary;
use crate::timeline::{Outgoing, Timeline};
use serde_json::Value;
use std::sync::Arc;
use tokio::time::Instant;

/// Replays one [`ReplayScript`] to one client.
pub struct Replayer {
    script: Arc<ReplayScript>,
    speed: f64,
    cursor: usize,
    audio_ms: f64,
    /// Deadline of the last frame scheduled: later steps never overtake it, so
    /// frames go out in the order they were recorded.
    last_deadline: Option<Instant>,
    timeline: Timeline,
    notes: Vec<Note>,
    /// Recordings this session may turn out to continue (see
    /// [`Replayer::continuing`]); empty once a client event has matched.
    continuations: Vec<Arc<ReplayScript>>,
}

impl Replayer {
    /// A replayer for `script` at `speed` (2.0 = twice as fast as recorded).
    pub fn new(script: Arc<ReplayScript>, speed: f64) -> Self {
        Replayer {
            script,
            speed: speed.max(1e-6),
            cursor: 0,
            audio_ms: 0.0,
            last_deadline: None,
            timeline: Timeline::new(),
            notes: Vec::new(),
            continuations: Vec::new(),
        }
    }

    /// Lets the session's first client event pick another of `scripts` when it
    /// carries a key the selected script does not expect and another script's
    /// first client event does: a Gemini client resuming with a recorded
    /// handle continues the recording of the resumed connection, whatever
    /// cassette the client named.
    pub fn continuing(mut self, scripts: Vec<Arc<ReplayScript>>) -> Self {
        self.continuations = scripts;
        self
    }

    /// The first client trigger of `script`.
    fn first_client_trigger(script: &ReplayScript) -> Option<(&str, &Value)> {
        script.steps.iter().find_map(|step| match &step.trigger {
            Trigger::Client { event_type, key } => Some((event_type.as_str(), key)),
            _ => None,
        })
    }

    /// Moves to the continuation whose first client event is (`event_type`,
    /// `key`), if there is one and nothing has been matched yet.
    fn switch_to_continuation(&mut self, event_type: &str, key: &Value) -> bool {
        if key.is_null() || self.continuations.is_empty() {
            return false;
        }
        let found = self
            .continuations
            .iter()
            .find(|candidate| Self::first_client_trigger(candidate) == Some((event_type, key)));
        let Some(next) = found.cloned() else {
            return false;
        };
        self.notes.push(Note::new(
            "continued",
            format!(
                "`{event_type}` {key} continues cassette `{}` (was `{}`)",
                next.name, self.script.name
            ),
        ));
        // The connection's own frames (step 0) already went out.
        self.script = next;
        self.cursor = 1;
        self.continuations.clear();
        true
    }

    fn fire(&mut self, index: usize, now: Instant) {
        let script = Arc::clone(&self.script);
        for (offset, frame) in &script.steps[index].frames {
            let at = (now + offset.div_f64(self.speed)).max(self.last_deadline.unwrap_or(now));
            self.last_deadline = Some(at);
            self.timeline.push(at, frame.clone());
        }
        self.cursor = index + 1;
    }

    fn fire_reached_audio(&mut self, now: Instant) {
        while let Some(Step {
            trigger: Trigger::Audio { ms },
            ..
        }) = self.script.steps.get(self.cursor)
        {
            if *ms > self.audio_ms + 0.5 {
                break;
            }
            self.fire(self.cursor, now);
        }
    }
}

impl<E> SessionEngine<E> for Replayer {
    fn label(&self) -> String {
        format!("replay:{}", self.script.name)
    }

    fn on_connect(&mut self, now: Instant) {
        self.fire(0, now);
    }

    fn on_client_event(&mut self, _event: &E, summary: &FrameSummary, now: Instant) {
        if let Some(ms) = summary.audio_ms {
            self.audio_ms += ms;
            self.fire_reached_audio(now);
            return;
        }
        let wanted_type = summary.event_type.as_str();
        let key = summary.key.clone();
        let next_client = self.script.steps[self.cursor..]
            .iter()
            .position(|s| matches!(s.trigger, Trigger::Client { .. }))
            .map(|p| p + self.cursor);
        let Some(index) = next_client else {
            self.notes.push(Note::new(
                "replay.unexpected",
                format!(
                    "`{wanted_type}` arrived after the cassette's last client event; not answered"
                ),
            ));
            return;
        };
        let Trigger::Client {
            event_type,
            key: expected_key,
        } = &self.script.steps[index].trigger
        else {
            return;
        };
        if event_type != wanted_type || *expected_key != key {
            let expected = format!("`{event_type}` {expected_key}");
            if self.switch_to_continuation(wanted_type, &key) {
                return self.on_client_event(_event, summary, now);
            }
            self.notes.push(Note::new(
                "replay.mismatch",
                format!("expected {expected}, got `{wanted_type}` {key}; not answered"),
            ));
            return;
        }
        // The session is this recording's: no other may take it over now.
        self.continuations.clear();
        for skipped in self.cursor..index {
            if let Trigger::Audio { ms } = self.script.steps[skipped].trigger {
                self.notes.push(Note::new(
                    "replay.audio_short",
                    format!(
                        "client sent {:.0} ms of audio; the cassette had {ms:.0} ms by here",
                        self.audio_ms
                    ),
                ));
            }
            self.fire(skipped, now);
        }
        self.fire(index, now);
        // Audio the client sent ahead of this event may already reach the
        // steps after it.
        self.fire_reached_audio(now);
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        self.timeline.pop_due(now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timeline.next_deadline()
    }

    fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }
}
