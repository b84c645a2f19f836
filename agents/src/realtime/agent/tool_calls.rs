//! The pending tool calls: [`ToolCalls`] owns the calls under way (each
//! started on its own task, tagged with the session lineage that made it)
//! and the follow-up bookkeeping, and decides what a finished or withdrawn
//! call means and when to ask for the answer to a batch of results (where
//! the dialect needs asking: once every call is in, no response is running
//! and the user has not taken the floor meanwhile); [`started`] and
//! [`finished`] say how a call is recorded and reported. The runner does the
//! sending and the reporting.

use crate::realtime::events::AgentEvent;
use crate::realtime::tools::{spawn_call, CallOutcome, ToolRegistry};
use crate::realtime::transcript::TranscriptEntry;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use understudy_adapters::{ClientInput, ToolResultScheduling};

/// A running tool call.
#[derive(Debug)]
struct Running {
    abort: AbortHandle,
    /// The session lineage the call belongs to (a non-resumed reconnect starts
    /// a new one, whose model never heard of the call).
    epoch: u32,
    /// The model runs the call in the background (non-blocking): its result
    /// may say when it is voiced.
    background: bool,
}

/// The calls under way and the follow-up bookkeeping.
#[derive(Debug)]
pub(super) struct ToolCalls {
    running: HashMap<String, Running>,
    /// Where call tasks report (kept here so the channel never closes).
    done: mpsc::UnboundedSender<CallOutcome>,
    /// Where the agent loop reads finished calls.
    pub(super) finished: mpsc::UnboundedReceiver<CallOutcome>,
    /// Tool results sent since the last follow-up request.
    unanswered_results: usize,
    /// The user took the floor since the calls were made: no follow-up.
    followup_blocked: bool,
}

impl ToolCalls {
    /// No calls yet.
    pub(super) fn new() -> Self {
        let (done, finished) = mpsc::unbounded_channel();
        ToolCalls {
            running: HashMap::new(),
            done,
            finished,
            unanswered_results: 0,
            followup_blocked: false,
        }
    }

    /// The user took the floor (spoke, typed, committed, barged in): results
    /// still coming are for a conversation that moved on, so no follow-up is
    /// asked for them.
    pub(super) fn block_follow_up(&mut self) {
        self.followup_blocked = true;
    }

    /// Whether a call made in session lineage `epoch` is still running.
    pub(super) fn waiting_in(&self, epoch: u32) -> bool {
        self.running.values().any(|c| c.epoch == epoch)
    }

    /// Stops every call under way.
    pub(super) fn abort_all(&mut self) {
        for (_, call) in self.running.drain() {
            call.abort.abort();
        }
    }
}

/// What a finished call's result is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Finished {
    /// The provider withdrew the call meanwhile: nothing to record or send.
    Withdrawn,
    /// The call came from a lost session lineage: record it, send nothing
    /// (the new session never saw the call).
    Stale,
    /// Record it and send the result to the current session; `background`:
    /// the call was non-blocking, so the result may carry a scheduling.
    Send {
        /// The model ran the call in the background.
        background: bool,
    },
}

impl ToolCalls {
    /// The model called a tool in session lineage `epoch`: start it on its
    /// own task (results come back on [`ToolCalls::finished`]). A new call
    /// means the model is answering again, so a follow-up is allowed.
    /// `background`: the tool was declared non-blocking.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start(
        &mut self,
        tools: &ToolRegistry,
        call_id: String,
        name: String,
        arguments: String,
        timeout: Duration,
        epoch: u32,
        background: bool,
    ) {
        self.followup_blocked = false;
        let abort = spawn_call(
            tools,
            call_id.clone(),
            name,
            arguments,
            timeout,
            self.done.clone(),
        );
        self.running.insert(
            call_id,
            Running {
                abort,
                epoch,
                background,
            },
        );
    }

    /// The model said it runs `call_id` in the background (whatever was
    /// declared): its result may carry a scheduling. `true` when the call
    /// is running.
    pub(super) fn mark_background(&mut self, call_id: &str) -> bool {
        match self.running.get_mut(call_id) {
            Some(call) => {
                call.background = true;
                true
            }
            None => false,
        }
    }

    /// A call no tool can answer (a delegated request the route sends
    /// nowhere): it finishes at once with `message` as its error result,
    /// through the same channel as a call that ran, so that it is
    /// recorded, reported and answered like any failed call.
    pub(super) fn refuse(&mut self, call_id: String, name: String, message: String, epoch: u32) {
        self.followup_blocked = false;
        let done = self.done.clone();
        let outcome = CallOutcome {
            call_id: call_id.clone(),
            name,
            output: serde_json::json!({ "error": message }).to_string(),
            is_error: true,
            scheduling: ToolResultScheduling::WhenIdle,
        };
        let abort = tokio::spawn(async move {
            let _ = done.send(outcome);
        })
        .abort_handle();
        self.running.insert(
            call_id,
            Running {
                abort,
                epoch,
                background: false,
            },
        );
    }

    /// The provider withdrew `call_id`: stops it; `true` when it was still
    /// running (the withdrawal is then worth reporting).
    pub(super) fn withdraw(&mut self, call_id: &str) -> bool {
        match self.running.remove(call_id) {
            Some(call) => {
                call.abort.abort();
                true
            }
            None => false,
        }
    }

    /// `call_id` finished while the current session lineage is `epoch`:
    /// what its result is for. A result to send counts as unanswered until
    /// [`ToolCalls::take_follow_up`] asks for the answer.
    pub(super) fn finish(&mut self, call_id: &str, epoch: u32) -> Finished {
        match self.running.remove(call_id) {
            None => Finished::Withdrawn,
            Some(call) if call.epoch != epoch => Finished::Stale,
            Some(call) => {
                self.unanswered_results += 1;
                Finished::Send {
                    background: call.background,
                }
            }
        }
    }

    /// Whether to ask for the answer to the results sent now. `needs_asking`:
    /// the dialect does not answer tool results by itself; `busy`: a
    /// response is running or the session is not ready (ask later). Results
    /// the user moved on from, or that the dialect answers itself, are
    /// forgotten.
    pub(super) fn take_follow_up(&mut self, epoch: u32, needs_asking: bool, busy: bool) -> bool {
        if self.unanswered_results == 0 {
            return false;
        }
        if self.followup_blocked || !needs_asking {
            self.unanswered_results = 0;
            return false;
        }
        if self.waiting_in(epoch) || busy {
            return false;
        }
        self.unanswered_results = 0;
        true
    }
}

/// A call the model made, as the transcript records it and the front end
/// hears it (`ToolCallStarted`).
pub(super) fn started(call_id: &str, name: &str, arguments: &str) -> (TranscriptEntry, AgentEvent) {
    let entry = TranscriptEntry::ToolCall {
        call_id: call_id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
    };
    let event = AgentEvent::ToolCallStarted {
        call_id: call_id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
    };
    (entry, event)
}

/// A finished call, as the transcript records it, the front end hears it
/// (`ToolCallFinished`) and the model gets it (its result, with the
/// scheduling the tool chose where `scheduled`: a background call on a model
/// that honours it).
pub(super) fn finished(
    outcome: CallOutcome,
    scheduled: bool,
) -> (TranscriptEntry, AgentEvent, ClientInput) {
    let entry = TranscriptEntry::ToolResult {
        call_id: outcome.call_id.clone(),
        name: outcome.name.clone(),
        output: outcome.output.clone(),
        is_error: outcome.is_error,
    };
    let event = AgentEvent::ToolCallFinished {
        call_id: outcome.call_id.clone(),
        name: outcome.name.clone(),
        output: outcome.output.clone(),
        is_error: outcome.is_error,
    };
    let input = ClientInput::ToolResult {
        call_id: outcome.call_id,
        name: outcome.name,
        output: outcome.output,
        scheduling: scheduled.then_some(outcome.scheduling),
    };
    (entry, event, input)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call entry whose task never finishes by itself.
    fn running(calls: &mut ToolCalls, call_id: &str, epoch: u32) {
        let abort = tokio::spawn(std::future::pending::<()>()).abort_handle();
        calls.running.insert(
            call_id.into(),
            Running {
                abort,
                epoch,
                background: false,
            },
        );
    }

    #[tokio::test]
    async fn a_result_is_sent_only_to_its_lineage_and_never_after_a_withdrawal() {
        let mut calls = ToolCalls::new();
        running(&mut calls, "a", 1);
        running(&mut calls, "b", 1);
        running(&mut calls, "c", 1);
        assert!(calls.withdraw("a"));
        assert!(!calls.withdraw("a"), "withdrawn once");
        assert_eq!(calls.finish("a", 1), Finished::Withdrawn);
        assert_eq!(calls.finish("b", 2), Finished::Stale);
        assert_eq!(calls.finish("c", 1), Finished::Send { background: false });
        assert!(!calls.waiting_in(1));
    }

    #[tokio::test]
    async fn a_background_call_is_known_by_its_declaration_or_the_models_word() {
        let mut calls = ToolCalls::new();
        running(&mut calls, "a", 1);
        running(&mut calls, "b", 1);
        assert!(calls.mark_background("a"));
        assert!(!calls.mark_background("gone"), "not running");
        assert_eq!(calls.finish("a", 1), Finished::Send { background: true });
        assert_eq!(calls.finish("b", 1), Finished::Send { background: false });
    }

    #[test]
    fn only_a_scheduled_result_carries_its_scheduling() {
        let outcome = || CallOutcome {
            call_id: "c1".into(),
            name: "weather".into(),
            output: "{}".into(),
            is_error: false,
            scheduling: ToolResultScheduling::Silent,
        };
        let scheduling = |scheduled| match finished(outcome(), scheduled).2 {
            ClientInput::ToolResult { scheduling, .. } => scheduling,
            other => panic!("{other:?}"),
        };
        assert_eq!(scheduling(true), Some(ToolResultScheduling::Silent));
        assert_eq!(scheduling(false), None, "omitted where not honoured");
    }

    #[tokio::test]
    async fn the_follow_up_waits_for_the_batch_and_a_quiet_session() {
        let mut calls = ToolCalls::new();
        assert!(!calls.take_follow_up(1, true, false), "nothing sent yet");
        running(&mut calls, "a", 1);
        running(&mut calls, "b", 1);
        assert_eq!(calls.finish("a", 1), Finished::Send { background: false });
        assert!(!calls.take_follow_up(1, true, false), "b still running");
        assert_eq!(calls.finish("b", 1), Finished::Send { background: false });
        assert!(!calls.take_follow_up(1, true, true), "busy: later");
        assert!(calls.take_follow_up(1, true, false));
        assert!(!calls.take_follow_up(1, true, false), "asked once");
    }

    #[tokio::test]
    async fn no_follow_up_once_the_user_took_the_floor_or_the_dialect_answers() {
        let mut calls = ToolCalls::new();
        running(&mut calls, "a", 1);
        calls.finish("a", 1);
        calls.block_follow_up();
        assert!(!calls.take_follow_up(1, true, false));
        running(&mut calls, "b", 1);
        calls.block_follow_up();
        calls.finish("b", 1);
        assert!(
            !calls.take_follow_up(1, false, false),
            "the dialect answers"
        );
        assert!(!calls.take_follow_up(1, true, false), "forgotten");
    }

    #[tokio::test]
    async fn a_refused_call_finishes_at_once_with_its_reason() {
        let mut calls = ToolCalls::new();
        calls.refuse("d1".into(), "delegate".into(), "no route".into(), 1);
        assert!(calls.waiting_in(1));
        let outcome = calls.finished.recv().await.expect("an outcome");
        assert!(outcome.is_error);
        assert_eq!(outcome.output, r#"{"error":"no route"}"#);
        assert_eq!(calls.finish("d1", 1), Finished::Send { background: false });
    }

    #[test]
    fn a_finished_call_is_recorded_reported_and_sent_back() {
        let (entry, event) = started("c1", "weather", "{}");
        assert!(matches!(entry, TranscriptEntry::ToolCall { call_id, .. } if call_id == "c1"));
        assert!(matches!(event, AgentEvent::ToolCallStarted { name, .. } if name == "weather"));
        let (entry, event, input) = finished(
            CallOutcome {
                call_id: "c1".into(),
                name: "weather".into(),
                output: "sunny".into(),
                is_error: true,
                scheduling: ToolResultScheduling::Silent,
            },
            false,
        );
        assert!(matches!(
            entry,
            TranscriptEntry::ToolResult { is_error: true, .. }
        ));
        assert!(matches!(event, AgentEvent::ToolCallFinished { output, .. } if output == "sunny"));
        assert!(matches!(input, ClientInput::ToolResult { call_id, .. } if call_id == "c1"));
    }
}
