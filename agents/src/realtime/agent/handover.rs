//! Moving to a new connection before the provider closes the current one
//! (Gemini's `GoAway`, a dialect's session limit, a full context), so that
//! the conversation carries on without a visible outage.
//!
//! The rules are the adapters' pure [`Resumption`] state machine, the one the
//! Gemini adapter's `ResumingSession` follows too: the newest resumption
//! handle covers what was answered before it; whatever it may not cover is
//! sent again; the switch is planned a margin before the announced close and
//! happens between turns (no answer being spoken, no tool call of this
//! session still running) unless the deadline has come. [`Handover`] owns
//! that machine and the standby connection; the runner methods below are
//! the I/O around it: opening the standby socket at once, closing the old one
//! and opening the new one when the switch is due. Input that arrives while
//! the new connection sets up is buffered and delivered once it is ready, as
//! after a lost session. If the old connection goes first anyway, the standby
//! socket is used by the ordinary reconnect path.

use super::runner::Runner;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::resumption::Resumption;
use understudy_adapters::{ClientInput, ModelEvent, RealtimeClient};

/// The agent's side of moving sessions: the resumption state (handle,
/// inputs to send again, the planned switch) and the next connection, open
/// but not yet configured (the handle to resume with may still change).
pub(super) struct Handover {
    resumption: Resumption,
    standby: Option<RealtimeClient>,
}

impl Handover {
    /// Nothing planned, no handle; at most `replay_bound_ms` of unanswered
    /// audio is kept for a resumed session.
    pub(super) fn new(replay_bound_ms: u64) -> Self {
        Handover {
            resumption: Resumption::new(replay_bound_ms),
            standby: None,
        }
    }

    /// Notes a model event: a new handle, an answered turn. A `GoAway` is
    /// left to [`Runner::on_go_away`], which judges whether a move makes
    /// sense (not while the session is already being replaced).
    pub(super) fn on_event(&mut self, event: &ModelEvent) {
        if !matches!(event, ModelEvent::GoAway { .. }) {
            self.resumption.on_event(event, Instant::now().into_std());
        }
    }

    /// `input` went to the current connection.
    pub(super) fn on_sent(&mut self, input: ClientInput) {
        self.resumption.on_sent(input);
    }

    /// Plans a switch before a close in `time_left_ms`; true when no switch
    /// was planned before (an earlier plan only has its deadline tightened).
    pub(super) fn plan(&mut self, time_left_ms: Option<u64>) -> bool {
        let fresh = !self.resumption.switch_planned();
        self.resumption
            .on_go_away(time_left_ms, Instant::now().into_std());
        fresh
    }

    /// Whether a switch is planned.
    pub(super) fn planned(&self) -> bool {
        self.resumption.switch_planned()
    }

    /// Gives the planned switch up; returns the standby connection, if open.
    pub(super) fn abandon(&mut self) -> Option<RealtimeClient> {
        self.resumption.cancel_switch();
        self.standby.take()
    }

    /// Keeps `client` as the standby connection when a switch is planned;
    /// returns it when none is.
    pub(super) fn keep_standby(&mut self, client: RealtimeClient) -> Option<RealtimeClient> {
        if !self.planned() {
            return Some(client);
        }
        self.standby = Some(client);
        None
    }

    /// When the switch must happen at the latest (only once there is a
    /// connection to switch to).
    pub(super) fn due_at(&self) -> Option<Instant> {
        self.standby.as_ref()?;
        self.resumption.poll_timeout().map(Instant::from_std)
    }

    /// Whether to switch now, the session being `quiet` (between turns) or not.
    pub(super) fn switch_due(&self, quiet: bool) -> bool {
        self.standby.is_some() && self.resumption.switch_due(Instant::now().into_std(), quiet)
    }

    /// The newest resumption handle.
    pub(super) fn handle(&self) -> Option<&str> {
        self.resumption.handle()
    }

    /// Forgets the handle: the next session starts afresh.
    pub(super) fn forget_handle(&mut self) {
        self.resumption.forget_handle();
    }

    /// What the next session has not seen; the log starts afresh.
    pub(super) fn take_unanswered(&mut self) -> Vec<ClientInput> {
        self.resumption.take_unanswered()
    }
}

impl Runner {
    /// The provider will close this connection in `time_left_ms`: open the
    /// next one now and plan the switch.
    pub(super) fn on_go_away(&mut self, time_left_ms: Option<u64>) {
        let left = Duration::from_millis(time_left_ms.unwrap_or(0));
        tracing::info!(
            ?left,
            "the provider will close the connection; moving to a new one"
        );
        if self.finished || self.outage.is_some() || self.client.is_none() {
            return; // already getting a new session
        }
        if !self.handover.plan(time_left_ms) {
            return; // already moving: the earlier deadline stands
        }
        if self.connecting.is_none() {
            let connector = Arc::clone(&self.connector);
            self.connecting = Some(Box::pin(async move { connector.connect().await }));
        }
    }

    /// When to plan the move before the provider ends the session: the
    /// margin before its end (at most a quarter of the session's life), once
    /// the session is ready and no move is planned yet.
    pub(super) fn session_ending_at(&self) -> Option<Instant> {
        let end = self.session_end?;
        if !self.ready || self.handover.planned() || self.client.is_none() {
            return None;
        }
        let life = end.saturating_duration_since(self.opened_at);
        let margin = self.config.handover_margin.min(life / 4);
        Some(end.checked_sub(margin).unwrap_or(end))
    }

    /// The session's end is near: move as after the provider's `GoAway`.
    pub(super) fn on_session_ending(&mut self) {
        let Some(end) = self.session_end.take() else {
            return;
        };
        let left = end.saturating_duration_since(Instant::now());
        tracing::info!(
            ?left,
            "the provider will end the session; moving to a new one"
        );
        self.on_go_away(Some(left.as_millis() as u64));
    }

    /// The provider announced when it will end the session (unix seconds,
    /// whole: one second is taken off for the rounding).
    pub(super) fn on_expiry_announced(&mut self, expires_at: i64) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let left = (expires_at as f64 - 1.0 - now).max(0.0);
        self.session_end = Some(Instant::now() + Duration::from_secs_f64(left));
    }

    /// Characters of conversation so far (the context estimate's unit).
    pub(super) fn conversation_chars(&self) -> usize {
        crate::realtime::compaction::lines_of(self.transcript().entries())
            .iter()
            .map(|l| l.text.len() + 2)
            .sum()
    }

    /// Notes the context's size after a turn (`reported` by the provider's
    /// usage, when it says) and, past the budget, plans a move to a fresh,
    /// compacted session at the next quiet moment.
    pub(super) fn on_context_grown(&mut self, reported: Option<u64>) {
        let estimate = (self.conversation_chars().saturating_sub(self.chars_at_open) / 4) as u64;
        self.context_tokens = self.context_tokens.max(reported.unwrap_or(0)).max(estimate);
        let budget = self.config.context_budget_tokens.or_else(|| {
            self.caps
                .limits
                .context_tokens
                .map(|window| u64::from(window) * 8 / 10)
        });
        let Some(budget) = budget else {
            return;
        };
        if self.context_tokens < budget
            || self.handover.planned()
            || self.outage.is_some()
            || self.client.is_none()
        {
            return;
        }
        tracing::info!(
            tokens = self.context_tokens,
            budget,
            "the context is near its budget; moving to a compacted session"
        );
        self.fresh_next = true;
        // No provider deadline: switch at the next quiet moment.
        self.on_go_away(Some(60_000));
    }

    /// The new connection of a handover is open: keep it until the switch.
    /// Returns it when no handover wants it.
    pub(super) fn on_standby(&mut self, client: RealtimeClient) -> Option<RealtimeClient> {
        if self.client.is_none() {
            return Some(client);
        }
        self.handover.keep_standby(client)
    }

    /// Switches to the standby connection if it is time: between turns, or
    /// at the deadline whatever is going on (the answer in progress is cut,
    /// as the provider's close would cut it).
    pub(super) async fn maybe_hand_over(&mut self) {
        let Some(by) = self.handover.due_at() else {
            return;
        };
        let between_turns = !self.answers.running() && !self.calls.waiting_in(self.epoch);
        let quiet = self.ready && between_turns;
        if !self.handover.switch_due(quiet) {
            return;
        }
        let overdue = Instant::now() >= by;
        let Some(standby) = self.handover.abandon() else {
            return;
        };
        tracing::info!(overdue, "switching to the new connection");
        self.switch = Some(super::runner::Switch {
            started: Instant::now(),
            planned: true,
        });
        self.answers.abandon();
        if let Some(old) = self.client.take() {
            let _ = old.close().await;
        }
        self.ready = false;
        self.open(standby, true).await;
    }
}
