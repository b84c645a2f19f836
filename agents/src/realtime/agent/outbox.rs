//! The outbox: inputs waiting for a ready session. [`Outbox`] owns the
//! bounded [`InputBuffer`] and decides what the front end hears about it (one
//! warning when audio first has to be dropped); [`unsendable`] is the report
//! for an input the dialect cannot encode. The runner does the sending: now
//! when the session is ready, into the outbox when it is not; a send that
//! fails on the socket keeps the input and treats the session as lost.

use super::input_buffer::InputBuffer;
use crate::realtime::events::AgentEvent;
use understudy_adapters::{ClientInput, EncodeError};

/// Inputs waiting for a ready session, oldest first.
#[derive(Debug)]
pub(super) struct Outbox {
    waiting: InputBuffer,
}

impl Outbox {
    /// An empty outbox keeping at most `bound_ms` of user audio.
    pub(super) fn new(bound_ms: u64) -> Self {
        Outbox {
            waiting: InputBuffer::new(bound_ms),
        }
    }

    /// Keeps `input` for the next ready session; returns the warning for the
    /// front end the first time audio has to be dropped.
    pub(super) fn hold(&mut self, input: ClientInput) -> Option<AgentEvent> {
        let audio_ms = self.waiting.push(input)?;
        tracing::warn!("input buffer full while the session is down; dropping oldest audio");
        Some(AgentEvent::InputDropped { audio_ms })
    }

    /// Puts `inputs` (to send again) before everything waiting.
    pub(super) fn prepend(&mut self, inputs: Vec<ClientInput>) {
        self.waiting.prepend(inputs);
    }

    /// Everything waiting, oldest first; the outbox is left empty.
    pub(super) fn take_all(&mut self) -> Vec<ClientInput> {
        self.waiting.take_all()
    }

    /// Audio dropped since the last call, in milliseconds.
    pub(super) fn take_dropped_ms(&mut self) -> f64 {
        self.waiting.take_dropped_ms()
    }
}

/// The front end's report that the dialect refused `input` (named by its
/// `type`), so that it is not left waiting for an answer.
pub(super) fn unsendable(input: &ClientInput, error: &EncodeError) -> AgentEvent {
    tracing::warn!(%error, "input not sent");
    let kind = serde_json::to_value(input)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default();
    AgentEvent::Error {
        code: "unsupported_input".into(),
        message: format!("{kind}: {error}"),
        fatal: false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::input_buffer::tests::audio;
    use super::*;

    #[test]
    fn the_front_end_is_warned_once_when_audio_is_dropped() {
        let mut outbox = Outbox::new(100);
        assert!(outbox.hold(audio(100)).is_none());
        assert!(matches!(
            outbox.hold(audio(100)),
            Some(AgentEvent::InputDropped { audio_ms: 100 })
        ));
        assert!(outbox.hold(audio(100)).is_none(), "warned once");
        outbox.prepend(vec![ClientInput::CommitAudio]);
        let waiting = outbox.take_all();
        assert!(matches!(waiting[0], ClientInput::CommitAudio));
        assert_eq!(waiting.len(), 2);
        assert_eq!(outbox.take_dropped_ms(), 200.0);
    }
}
