//! The interface between a session's transport and the engine that plays the
//! provider: a sans-IO state machine fed client events and the current instant.

use crate::protocol::FrameSummary;
use crate::timeline::Outgoing;
use tokio::time::Instant;

/// Something an engine wants recorded in the session journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Short category (`vad`, `replay.mismatch`, `barge_in`, …).
    pub label: String,
    /// Details.
    pub detail: String,
}

impl Note {
    /// A note with a label and details.
    pub fn new(label: impl Into<String>, detail: impl Into<String>) -> Self {
        Note {
            label: label.into(),
            detail: detail.into(),
        }
    }
}

/// An engine that answers one session of a dialect whose client events are `E`.
///
/// The transport validates every frame first (see [`crate::protocol::Protocol`]),
/// so an engine only sees well-formed events. Engines never sleep: they
/// schedule frames, and the transport asks for what is due.
pub trait SessionEngine<E>: Send {
    /// Label for the journal (`respond`, `replay:<cassette>`).
    fn label(&self) -> String;
    /// The connection is open.
    fn on_connect(&mut self, now: Instant);
    /// A valid client event arrived (with what the replay engine matches on).
    fn on_client_event(&mut self, event: &E, summary: &FrameSummary, now: Instant);
    /// Frames due at `now`, in order.
    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing>;
    /// When the next frame is due.
    fn next_deadline(&self) -> Option<Instant>;
    /// Notes for the journal since the last call.
    fn take_notes(&mut self) -> Vec<Note>;
    /// Whether the last client event left work set aside (the end of a
    /// user turn: recognising its audio, deciding and synthesising the
    /// answer) that the transport should run with [`run_deferred`] before
    /// anything else, off the session's task so other sessions are not held
    /// up by it (see `crate::offload`). Engines without such work say no.
    ///
    /// [`run_deferred`]: SessionEngine::run_deferred
    fn has_deferred(&self) -> bool {
        false
    }
    /// Runs the work set aside, at the instant it was set aside for: the
    /// frames it schedules are the ones the event would have scheduled had
    /// it done the work at once, in the same order. A driver that never
    /// calls it loses nothing: the engine runs it itself on the next
    /// `on_client_event`, `pop_due` or `take_notes`.
    fn run_deferred(&mut self) {}
}

/// Work an engine `S` set aside while handling a client event, to be run
/// later on the engine itself (see [`SessionEngine::has_deferred`]): the
/// instant it belongs to and the steps, in order.
pub(crate) struct SetAside<S> {
    work: Option<(Instant, Step<S>)>,
}

/// One step of deferred work.
type Step<S> = Box<dyn FnOnce(&mut S) + Send>;

impl<S> Default for SetAside<S> {
    fn default() -> Self {
        SetAside { work: None }
    }
}

impl<S: 'static> std::fmt::Debug for SetAside<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetAside").field("at", &self.at()).finish()
    }
}

impl<S: 'static> SetAside<S> {
    /// Sets `step` aside for `at`; after any step already waiting.
    pub(crate) fn push(&mut self, at: Instant, step: impl FnOnce(&mut S) + Send + 'static) {
        let (at, work): (Instant, Step<S>) = match self.work.take() {
            None => (at, Box::new(step)),
            Some((first, earlier)) => (
                first,
                Box::new(move |engine: &mut S| {
                    earlier(engine);
                    step(engine);
                }),
            ),
        };
        self.work = Some((at, work));
    }

    /// Whether work is waiting.
    pub(crate) fn is_pending(&self) -> bool {
        self.work.is_some()
    }

    /// The instant the waiting work belongs to.
    pub(crate) fn at(&self) -> Option<Instant> {
        self.work.as_ref().map(|(at, _)| *at)
    }

    /// Takes the waiting work, to run it on the engine.
    pub(crate) fn take(&mut self) -> Option<Step<S>> {
        self.work.take().map(|(_, step)| step)
    }
}
