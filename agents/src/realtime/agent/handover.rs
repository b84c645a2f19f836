//! Moving to a new connection before the provider closes the current one
//! (Gemini's `GoAway`, a dialect's session limit, a full context), so that
//! the conversation carries on without a visible outage.
//!
//! The rules are the adapters' pure [`Resumption`] state machine, the one the
//! Gemini adapter's `ResumingSession` follows too: the newest resumption
//! handle covers what was answered before it; whatever it may not cover is
//! sent again (a handle older than the last answer is not resumed: the next
//! session starts afresh with the conversation as context, so that no turn
//! is lost); the switch is planned a margin before the announced close and
//! happens between turns (no answer being spoken, no tool call of this
//! session still running) unless the deadline has come. [`Handover`] owns
//! that machine and the standby connection; [`Lifetime`] owns when the
//! current session will end and how big its context has grown, and decides
//! when a move is due for either. The runner does the I/O around them:
//! opening the standby socket at once, closing the old one and opening the
//! new one when the switch is due. Input that arrives while
//! the new connection sets up is buffered and delivered once it is ready, as
//! after a lost session. If the old connection goes first anyway, the standby
//! socket is used by the ordinary reconnect path.

use crate::realtime::compaction;
use crate::realtime::transcript::TranscriptEntry;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use understudy_adapters::resumption::Resumption;
use understudy_adapters::{ClientInput, ModelEvent, RealtimeClient, SessionConfig, SessionLimits};

/// The agent's side of moving sessions: the resumption state (handle,
/// inputs to send again, the planned switch) and the next connection, open
/// but not yet configured (the handle to resume with may still change).
pub(super) struct Handover {
    resumption: Resumption,
    standby: Option<RealtimeClient>,
    /// The configuration the current lineage's first connection was set up
    /// with: its instructions carry the context that lineage started from.
    lineage: Option<SessionConfig>,
}

impl Handover {
    /// Nothing planned, no handle; at most `replay_bound_ms` of unanswered
    /// audio is kept for a resumed session.
    pub(super) fn new(replay_bound_ms: u64) -> Self {
        Handover {
            resumption: Resumption::new(replay_bound_ms),
            standby: None,
            lineage: None,
        }
    }

    /// Notes a model event: a new handle, an answered turn. A `GoAway` is
    /// left to the runner, which judges whether a move makes
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

    /// A new connection opened: it is kept as the standby connection when a
    /// switch is planned and the current one still `serving`; else it is
    /// returned (the next connection to open).
    pub(super) fn keep_standby(
        &mut self,
        client: RealtimeClient,
        serving: bool,
    ) -> Option<RealtimeClient> {
        if !serving || !self.planned() {
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

    /// The handle a new connection resumes with, if any: none when it must
    /// start `fresh` (compacted) or cannot resume (`can_resume`: the dialect
    /// resumes and this is not the first connection). A handle that predates
    /// the last answer is forgotten rather than resumed: the conversation it
    /// resumes lacks that turn, and a fresh session gets it as context.
    pub(super) fn resume_with(&mut self, fresh: bool, can_resume: bool) -> Option<String> {
        if fresh {
            // Compacting for the context budget: the old context is left behind.
            self.forget_handle();
        } else if self.resumption.handle_stale() {
            tracing::warn!("the resumption handle predates the last answer; starting afresh with the conversation as context");
            self.forget_handle();
        }
        let handle = self.resumption.handle().filter(|_| can_resume)?;
        tracing::info!("resuming the model session with its handle");
        Some(handle.to_owned())
    }

    /// Forgets the handle: the next session starts afresh.
    pub(super) fn forget_handle(&mut self) {
        self.resumption.forget_handle();
        self.lineage = None;
    }

    /// A connection that does not resume was set up with `config`: it
    /// starts a lineage that later connections resume.
    pub(super) fn started_lineage(&mut self, config: &SessionConfig) {
        self.lineage = Some(config.clone());
    }

    /// The configuration for a connection that resumes the lineage: the one
    /// its first connection was set up with (a resumed session is set up as
    /// it was, or the context in its first instructions would be lost).
    pub(super) fn lineage_config(&self) -> Option<&SessionConfig> {
        self.lineage.as_ref()
    }

    /// What the next session has not seen; the log starts afresh.
    pub(super) fn take_unanswered(&mut self) -> Vec<ClientInput> {
        self.resumption.take_unanswered()
    }
}

/// The current session's life: when the provider will end it, and how big
/// its context has grown; the move to a fresh, compacted session is decided
/// here.
#[derive(Debug)]
pub(super) struct Lifetime {
    /// When the provider will end the session (announced, or from the
    /// dialect's limits); the agent moves before it.
    end: Option<Instant>,
    /// When the current connection was opened.
    opened_at: Instant,
    /// The session's context, in tokens (reported, else estimated).
    context_tokens: u64,
    /// Conversation characters when the session opened (the estimate's base).
    chars_at_open: usize,
    /// The next session must start afresh (compacted), not resume.
    fresh_next: bool,
}

impl Lifetime {
    /// No session yet.
    pub(super) fn new() -> Self {
        Lifetime {
            end: None,
            opened_at: Instant::now(),
            context_tokens: 0,
            chars_at_open: 0,
            fresh_next: false,
        }
    }

    /// A connection opened at `now` with the dialect's `limits`: until the
    /// provider announces the end itself, the dialect's session limit is the
    /// end (where it warns before closing, the warning drives instead).
    pub(super) fn opened(&mut self, now: Instant, limits: &SessionLimits) {
        self.opened_at = now;
        self.end = match limits {
            limits if limits.warns_before_close => None,
            limits => limits
                .session_secs
                .map(|secs| now + Duration::from_secs(secs)),
        };
    }

    /// The session starts with `chars` of conversation behind it: the
    /// context estimate counts from there.
    pub(super) fn context_from(&mut self, chars: usize) {
        self.chars_at_open = chars;
        self.context_tokens = 0;
    }

    /// When to plan the move before the end: `margin` before it, at most a
    /// quarter of the session's life.
    pub(super) fn ending_at(&self, margin: Duration) -> Option<Instant> {
        let end = self.end?;
        let life = end.saturating_duration_since(self.opened_at);
        let margin = margin.min(life / 4);
        Some(end.checked_sub(margin).unwrap_or(end))
    }

    /// The end, taken (the move is being planned for it).
    pub(super) fn take_end(&mut self) -> Option<Instant> {
        self.end.take()
    }

    /// The provider announced the end at `expires_at` (unix seconds, whole:
    /// one second is taken off for the rounding), the wall clock being `now`.
    pub(super) fn announced(&mut self, expires_at: i64, now: SystemTime) {
        let now_unix = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let left = (expires_at as f64 - 1.0 - now_unix).max(0.0);
        self.end = Some(Instant::now() + Duration::from_secs_f64(left));
    }

    /// Notes the context after a turn: `reported` by the provider's usage
    /// when it says, else estimated from the conversation's `chars` now (4
    /// characters a token). Returns the size when it reached `budget`.
    pub(super) fn context_grown(
        &mut self,
        reported: Option<u64>,
        chars: usize,
        budget: Option<u64>,
    ) -> Option<u64> {
        let estimate = (chars.saturating_sub(self.chars_at_open) / 4) as u64;
        self.context_tokens = self.context_tokens.max(reported.unwrap_or(0)).max(estimate);
        budget
            .filter(|budget| self.context_tokens >= *budget)
            .map(|_| self.context_tokens)
    }

    /// The next session starts afresh (compacted), not resumed.
    pub(super) fn compact_next(&mut self) {
        self.fresh_next = true;
    }

    /// Whether the session being opened must start afresh; asked once.
    pub(super) fn take_fresh(&mut self) -> bool {
        std::mem::take(&mut self.fresh_next)
    }
}

/// The context size (tokens) past which the agent moves to a compacted
/// session: the `configured` budget, else 80% of the dialect's context
/// `window`, else none.
pub(super) fn context_budget(configured: Option<u64>, window: Option<u32>) -> Option<u64> {
    configured.or_else(|| window.map(|window| u64::from(window) * 8 / 10))
}

/// Characters of conversation in `entries` (the context estimate's unit:
/// each line's text and its separator).
pub(super) fn conversation_chars(entries: &[TranscriptEntry]) -> usize {
    compaction::lines_of(entries)
        .iter()
        .map(|l| l.text.len() + 2)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_move_is_planned_a_margin_before_the_end_at_most_a_quarter_of_the_life() {
        let mut life = Lifetime::new();
        let limits = SessionLimits {
            session_secs: Some(100),
            ..understudy_adapters::gemini::capabilities().limits
        };
        let limits = SessionLimits {
            warns_before_close: false,
            ..limits
        };
        let now = Instant::now();
        life.opened(now, &limits);
        let end = now + Duration::from_secs(100);
        assert_eq!(
            life.ending_at(Duration::from_secs(10)),
            Some(end - Duration::from_secs(10))
        );
        assert_eq!(
            life.ending_at(Duration::from_secs(60)),
            Some(end - Duration::from_secs(25))
        );
        assert_eq!(life.take_end(), Some(end));
        assert_eq!(life.ending_at(Duration::from_secs(10)), None, "taken");
        let warns = SessionLimits {
            warns_before_close: true,
            ..limits
        };
        life.opened(now, &warns);
        assert_eq!(life.ending_at(Duration::ZERO), None, "the warning drives");
    }

    #[test]
    fn the_context_counts_from_the_session_start_and_reports_reaching_the_budget() {
        let mut life = Lifetime::new();
        life.context_from(400);
        assert_eq!(life.context_grown(None, 800, Some(200)), None, "100 tokens");
        assert_eq!(life.context_grown(Some(150), 800, None), None, "no budget");
        assert_eq!(life.context_grown(None, 1200, Some(200)), Some(200));
        assert_eq!(
            life.context_grown(None, 400, Some(200)),
            Some(200),
            "never shrinks"
        );
        life.context_from(1200);
        assert_eq!(life.context_grown(None, 1200, Some(200)), None);
        assert!(!life.take_fresh());
        life.compact_next();
        assert!(life.take_fresh());
        assert!(!life.take_fresh(), "asked once");
    }

    fn handle(h: &str) -> ModelEvent {
        ModelEvent::ResumptionHandle {
            handle: Some(h.into()),
            resumable: true,
        }
    }

    fn done() -> ModelEvent {
        ModelEvent::ResponseDone {
            response_id: "r".into(),
            status: understudy_adapters::ResponseStatus::Completed,
            reason: None,
            error: None,
        }
    }

    fn text(t: &str) -> ClientInput {
        ClientInput::Text { text: t.into() }
    }

    #[test]
    fn a_handle_older_than_the_last_answer_is_not_resumed() {
        let mut handover = Handover::new(10_000);
        assert_eq!(handover.resume_with(false, true), None, "no handle yet");
        handover.on_event(&handle("h0"));
        assert_eq!(
            handover.resume_with(false, false).as_deref(),
            None,
            "cannot resume"
        );
        assert_eq!(handover.resume_with(false, true).as_deref(), Some("h0"));
        // Answered, and lost before the handle covering the answer came.
        handover.on_sent(text("remember falcon"));
        handover.on_event(&done());
        handover.on_sent(text("next"));
        assert_eq!(
            handover.resume_with(false, true),
            None,
            "stale: start afresh"
        );
        let unseen = handover.take_unanswered();
        assert!(matches!(unseen.as_slice(), [ClientInput::Text { text }] if text == "next"));
        // A covering handle resumes; compacting forgets it.
        handover.on_event(&handle("h1"));
        assert_eq!(handover.resume_with(false, true).as_deref(), Some("h1"));
        assert_eq!(handover.resume_with(true, true), None, "compacted: fresh");
    }

    #[test]
    fn a_resumed_session_is_set_up_as_its_lineage_started() {
        let mut handover = Handover::new(10_000);
        assert!(handover.lineage_config().is_none());
        let config = SessionConfig {
            instructions: Some("context: the code word is falcon".into()),
            ..SessionConfig::default()
        };
        handover.started_lineage(&config);
        assert_eq!(handover.lineage_config(), Some(&config));
        handover.forget_handle();
        assert!(handover.lineage_config().is_none(), "a new lineage comes");
    }

    #[test]
    fn the_budget_is_configured_else_most_of_the_window() {
        assert_eq!(context_budget(Some(100), Some(1_000)), Some(100));
        assert_eq!(context_budget(None, Some(1_000)), Some(800));
        assert_eq!(context_budget(None, None), None);
        let entries = [TranscriptEntry::User {
            item_id: None,
            text: Some("hello".into()),
        }];
        assert_eq!(conversation_chars(&entries), 7);
    }
}
