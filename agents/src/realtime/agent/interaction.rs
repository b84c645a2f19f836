//! Whether the model is still working for the user: on a model that reports
//! an interaction status (Gemini 3.8 Extended Thinking), a finished response
//! is only a segment — the model may speak again or call tools while it
//! reasons — and the reply is finished at `IDLE`, not at `turnComplete`.
//! [`Interaction`] keeps that state; the runner asks it, with the responses
//! in progress, whether the agent is between turns (handover, compaction,
//! follow-up requests wait for that).

use crate::realtime::events::AgentEvent;
use understudy_adapters::event::InteractionState;
use understudy_adapters::Capabilities;

/// The model's work as its status reports say.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Interaction {
    /// A reply is under way and the model has not reported it idle.
    busy: bool,
}

impl Interaction {
    /// A response started: on a model that reports its status, the reply is
    /// under way until it says `IDLE` (a response's end is only a segment's).
    pub(super) fn response_started(&mut self, caps: &Capabilities) {
        if caps.interaction_status {
            self.busy = true;
        }
    }

    /// The model reported `status`: the new state, and what the front end
    /// hears. Values this crate does not know read as "not in progress".
    pub(super) fn reported(&mut self, status: &InteractionState) -> AgentEvent {
        self.busy = *status == InteractionState::InProgress;
        AgentEvent::InteractionStatus {
            busy: self.busy,
            status: status.as_str().to_owned(),
        }
    }

    /// Whether the model is still working on a reply.
    pub(super) fn busy(&self) -> bool {
        self.busy
    }

    /// A new connection: nothing of the old one's work is under way.
    pub(super) fn reset(&mut self) {
        self.busy = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thinking() -> Capabilities {
        let mut caps = understudy_adapters::gemini::capabilities();
        caps.interaction_status = true;
        caps
    }

    #[test]
    fn a_reply_is_busy_from_its_first_response_until_idle() {
        let mut work = Interaction::default();
        work.response_started(&thinking());
        assert!(work.busy(), "a segment's end is not the reply's");
        let event = work.reported(&InteractionState::InProgress);
        assert!(work.busy());
        assert_eq!(
            event,
            AgentEvent::InteractionStatus {
                busy: true,
                status: "IN_PROGRESS".into()
            }
        );
        work.reported(&InteractionState::Idle);
        assert!(!work.busy());
    }

    #[test]
    fn without_status_reports_a_response_never_makes_it_busy() {
        let mut work = Interaction::default();
        work.response_started(&understudy_adapters::gemini::capabilities());
        assert!(!work.busy(), "the response's own end says when it is done");
    }

    #[test]
    fn an_unknown_status_reads_as_not_in_progress() {
        let mut work = Interaction::default();
        work.response_started(&thinking());
        work.reported(&InteractionState::Other("WAITING_FOR_INPUT".into()));
        assert!(!work.busy());
        work.response_started(&thinking());
        work.reset();
        assert!(!work.busy(), "a new connection");
    }
}
