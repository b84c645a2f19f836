//! The replay engine: plays a cassette back to a live client, protocol-aware.
//!
//! At load time the cassette becomes a [`ReplayScript`]: a list of steps, each
//! a trigger (the connection opening, a client event, or the client's audio
//! reaching a length) with the server frames that followed it in the
//! recording, already serialised, at their offsets from the trigger. When a
//! trigger fires, its frames are scheduled at absolute deadlines (trigger
//! instant + offset ÷ speed), so timing does not drift over a long session.
//!
//! Each server frame is anchored to what caused it, using protocol knowledge
//! rather than mere recording order (a recording client may pipeline events
//! or keep streaming audio while answers arrive): the greeting to the
//! connection; an answer (`committed`, `session.updated`, `response.created`,
//! …) to the client event it answers; VAD events to the audio that carried the
//! speech; a response's output to the step that started the response, until
//! speech interrupts it. Answers of one kind pair with the requests they answer
//! in recorded order (the first `conversation.item.added` answers the first
//! pipelined `conversation.item.create`).
//!
//! Steps fire in order and a step's frames go out in order, so a direction
//! keeps its recorded order exactly when every server frame is anchored to a
//! step no earlier than the frame recorded before it. When an answer belongs
//! to an earlier step than frames recorded before it, those frames move to the
//! answer's step (`pull_down`): they go out with it, never after it. Any
//! other frame recorded after a later trigger's answer (a response's output
//! after a `conversation.item.truncated`, say) waits for that trigger. That
//! holds at any client pacing — pipelined or one request at a time — as long
//! as the client sends what the recording's client sent
//! (`tests/replay_order.rs` checks it over generated sessions).
//!
//! Where the session's clock is the client's input audio (GPT-Live,
//! [`Protocol::input_clocked`](crate::protocol::Protocol::input_clocked)),
//! a frame that is not an answer goes out the moment the live client's audio
//! reaches the amount the recording client had sent when the frame came —
//! no wall-clock offset — so the output lands at the same place in the
//! client's own audio however fast it streams, or however much silence it
//! sends while it waits.
//!
//! Client events are matched leniently: by type and a few key fields, never by
//! ids or audio bytes. Audio appends are matched by how much audio has arrived,
//! so a client may chunk its audio differently from the recording. A client
//! event that does not match is recorded in the journal and not answered.
//! Client frames that the recording shows were malformed are dropped with their
//! answers: the transport's validator answers those live, the same way.
//!
//! The parts: this file holds the script's types; `script` builds a
//! [`ReplayScript`] from a cassette (the anchoring above); `engine` is the
//! [`Replayer`] that fires steps as the live client's events match them.

mod engine;
mod script;
#[cfg(test)]
mod tests;

pub use engine::Replayer;

use crate::timeline::Outgoing;
use serde_json::Value;
use std::time::Duration;

/// What makes a step's frames go out.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// The connection opened.
    Connect,
    /// A client event of this type, with these key fields.
    Client {
        /// Event type.
        event_type: String,
        /// Fields that must match (`item.type`, `item.role`).
        key: Value,
    },
    /// The client's appended audio reached this many milliseconds.
    Audio {
        /// Cumulative audio, in milliseconds.
        ms: f64,
    },
}

/// One trigger and the server frames that answered it.
#[derive(Debug, Clone)]
pub struct Step {
    /// What fires the step.
    pub trigger: Trigger,
    /// When the trigger happened in the recording (µs since connect).
    pub at_us: u64,
    /// Frames, at their offset from the trigger.
    pub frames: Vec<(Duration, Outgoing)>,
}

/// A cassette prepared for replay.
#[derive(Debug, Clone)]
pub struct ReplayScript {
    /// Cassette name (for the journal and for selection).
    pub name: String,
    /// Dialect the cassette speaks (`openai-ga`, `dashscope-omni`, …).
    pub dialect: String,
    /// Model recorded in the header.
    pub model: String,
    /// The steps, in recorded order.
    pub steps: Vec<Step>,
}

/// Why a cassette cannot be replayed by a dialect.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The cassette is for another dialect.
    #[error("cassette `{name}` is for dialect `{dialect}`, not `{wanted}`")]
    WrongDialect {
        /// Cassette name.
        name: String,
        /// Its dialect.
        dialect: String,
        /// The dialect asked to replay it.
        wanted: String,
    },
}
