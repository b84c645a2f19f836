//! Tool calls: starting them on their own tasks, sending each result back,
//! withdrawing calls the provider cancels, and asking for the answer to a
//! batch of results where the dialect needs asking (once every call is in,
//! no response is running and the user has not taken the floor meanwhile).

use super::runner::Runner;
use crate::realtime::events::AgentEvent;
use crate::realtime::tools::{spawn_call, CallOutcome};
use crate::realtime::transcript::TranscriptEntry;
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use understudy_adapters::{ClientInput, ResponseOptions};

/// A running tool call.
#[derive(Debug)]
struct Running {
    abort: AbortHandle,
    /// The session lineage the call belongs to (a non-resumed reconnect starts
    /// a new one, whose model never heard of the call).
    epoch: u32,
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

impl Runner {
    /// The model called a tool: record it and start it.
    pub(super) fn on_tool_call(&mut self, call_id: String, name: String, arguments: String) {
        self.calls.followup_blocked = false;
        self.transcript().push(TranscriptEntry::ToolCall {
            call_id: call_id.clone(),
            name: name.clone(),
            arguments: arguments.clone(),
        });
        self.emit(AgentEvent::ToolCallStarted {
            call_id: call_id.clone(),
            name: name.clone(),
            arguments: arguments.clone(),
        });
        let abort = spawn_call(
            &self.tools,
            call_id.clone(),
            name,
            arguments,
            self.config.tool_timeout,
            self.calls.done.clone(),
        );
        self.calls.running.insert(
            call_id,
            Running {
                abort,
                epoch: self.epoch,
            },
        );
    }

    /// The provider withdrew calls: stop those still running; no result is
    /// sent for them.
    pub(super) fn on_tool_calls_cancelled(&mut self, call_ids: Vec<String>) {
        for call_id in call_ids {
            if let Some(call) = self.calls.running.remove(&call_id) {
                call.abort.abort();
                self.transcript().push(TranscriptEntry::ToolCancelled {
                    call_id: call_id.clone(),
                });
                self.emit(AgentEvent::ToolCallCancelled { call_id });
            }
        }
    }

    /// A call finished: record it and send the result to the session that
    /// made the call (a session that never heard of it gets nothing).
    pub(super) async fn on_tool_done(&mut self, outcome: CallOutcome) {
        let Some(call) = self.calls.running.remove(&outcome.call_id) else {
            return; // withdrawn by the provider meanwhile
        };
        self.transcript().push(TranscriptEntry::ToolResult {
            call_id: outcome.call_id.clone(),
            name: outcome.name.clone(),
            output: outcome.output.clone(),
            is_error: outcome.is_error,
        });
        self.emit(AgentEvent::ToolCallFinished {
            call_id: outcome.call_id.clone(),
            name: outcome.name.clone(),
            output: outcome.output.clone(),
            is_error: outcome.is_error,
        });
        if call.epoch != self.epoch {
            tracing::info!(call_id = %outcome.call_id, "result of a call from a lost session; the new session never saw the call");
            return;
        }
        self.deliver(ClientInput::ToolResult {
            call_id: outcome.call_id,
            name: outcome.name,
            output: outcome.output,
        })
        .await;
        self.calls.unanswered_results += 1;
        self.maybe_follow_up().await;
    }

    /// Asks for the answer to tool results, where the dialect needs asking,
    /// once every call of the batch is in and no response is running.
    pub(super) async fn maybe_follow_up(&mut self) {
        if self.calls.unanswered_results == 0 {
            return;
        }
        if self.calls.followup_blocked || !self.caps.response_after_tool_result {
            self.calls.unanswered_results = 0;
            return;
        }
        if self.calls.waiting_in(self.epoch) || self.response.is_some() || !self.ready {
            return;
        }
        self.calls.unanswered_results = 0;
        self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
            .await;
    }
}
