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
}
