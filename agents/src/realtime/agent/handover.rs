//! Moving to a new connection before the provider closes the current one
//! (Gemini's `GoAway`), so that the conversation carries on without a
//! visible outage.
//!
//! The rules follow `understudy_adapters::gemini::ResumingSession`: open the
//! new socket at once, but switch between turns (no answer being spoken, no
//! tool call of this session still running) unless the deadline is close;
//! configure the new connection with the newest resumption handle; send it
//! again whatever the handle may not cover. Input that arrives while the new
//! connection sets up is buffered and delivered once it is ready, as after a
//! lost session. If the old connection goes first anyway, the new socket is
//! used by the ordinary reconnect path.

use super::runner::Runner;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::{ClientInput, RealtimeClient};

/// Switch this long before the announced close at the latest.
const MARGIN: Duration = Duration::from_millis(250);

/// A move to a new connection, announced by the provider.
pub(super) struct Handover {
    /// Switch by then, between turns or not.
    by: Instant,
    /// The new connection, open but not yet configured (the handle to resume
    /// with may still change).
    standby: Option<RealtimeClient>,
}

impl Handover {
    /// The new connection, if it was opened (for a reconnect to use).
    pub(super) fn into_standby(self) -> Option<RealtimeClient> {
        self.standby
    }
}

/// Inputs sent on the current connection that the newest resumption handle
/// may not cover, so that a resumed session can be sent them again.
///
/// A handle covers what was answered before it came (the rule the Gemini
/// adapter's `ResumingSession` follows). The log keeps at most `bound_ms` of
/// audio, oldest dropped first: between turns that audio is mostly silence.
#[derive(Debug)]
pub(super) struct ReplayLog {
    entries: VecDeque<ClientInput>,
    /// Entries before this index were answered.
    answered: usize,
    audio_ms: f64,
    bound_ms: f64,
}

impl ReplayLog {
    /// An empty log keeping at most `bound_ms` of audio.
    pub(super) fn new(bound_ms: u64) -> Self {
        ReplayLog {
            entries: VecDeque::new(),
            answered: 0,
            audio_ms: 0.0,
            bound_ms: bound_ms as f64,
        }
    }

    /// `input` went to the current connection.
    pub(super) fn sent(&mut self, input: ClientInput) {
        if let ClientInput::Audio { pcm, sample_rate } = &input {
            self.audio_ms += pcm.duration_ms(*sample_rate);
        }
        self.entries.push_back(input);
        while self.audio_ms > self.bound_ms {
            let Some(index) = self
                .entries
                .iter()
                .position(|i| matches!(i, ClientInput::Audio { .. }))
            else {
                break;
            };
            if let Some(ClientInput::Audio { pcm, sample_rate }) = self.entries.remove(index) {
                self.audio_ms -= pcm.duration_ms(sample_rate);
            }
            if index < self.answered {
                self.answered -= 1;
            }
        }
    }

    /// A response finished: everything sent so far was answered.
    pub(super) fn answered(&mut self) {
        self.answered = self.entries.len();
    }

    /// A new handle came: what was answered is in the conversation it resumes.
    pub(super) fn covered(&mut self) {
        for input in self.entries.drain(..self.answered) {
            if let ClientInput::Audio { pcm, sample_rate } = &input {
                self.audio_ms -= pcm.duration_ms(*sample_rate);
            }
        }
        self.answered = 0;
    }

    /// What a session resumed with the newest handle has not seen; the log
    /// starts afresh.
    pub(super) fn take_unanswered(&mut self) -> Vec<ClientInput> {
        let rest = self.entries.split_off(self.answered);
        self.entries.clear();
        self.answered = 0;
        self.audio_ms = 0.0;
        rest.into()
    }
}

impl Runner {
    /// The provider will close this connection in `time_left_ms`: open the
    /// next one now and plan the switch.
    pub(super) fn on_go_away(&mut self, time_left_ms: Option<u64>) {
        let left = Duration::from_millis(time_left_ms.unwrap_or(0));
        let by = Instant::now() + left.saturating_sub(MARGIN);
        tracing::info!(
            ?left,
            "the provider will close the connection; moving to a new one"
        );
        if self.finished || self.outage.is_some() || self.client.is_none() {
            return; // already getting a new session
        }
        if let Some(handover) = self.handover.as_mut() {
            handover.by = handover.by.min(by);
            return;
        }
        self.handover = Some(Handover { by, standby: None });
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
        if !self.ready || self.handover.is_some() || self.client.is_none() {
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
            || self.handover.is_some()
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
        match self.handover.as_mut() {
            Some(handover) if self.client.is_some() => {
                handover.standby = Some(client);
                None
            }
            _ => Some(client),
        }
    }

    /// When the switch must happen at the latest (only once there is a
    /// connection to switch to).
    pub(super) fn handover_due(&self) -> Option<Instant> {
        self.handover
            .as_ref()
            .filter(|h| h.standby.is_some())
            .map(|h| h.by)
    }

    /// Switches to the standby connection if it is time: between turns, or
    /// at the deadline whatever is going on (the answer in progress is cut,
    /// as the provider's close would cut it).
    pub(super) async fn maybe_hand_over(&mut self) {
        let Some(by) = self.handover_due() else {
            return;
        };
        let between_turns = self.response.is_none() && !self.calls.waiting_in(self.epoch);
        let overdue = Instant::now() >= by;
        let quiet = self.ready && between_turns;
        if !(overdue || quiet) {
            return;
        }
        let Some(standby) = self.handover.take().and_then(Handover::into_standby) else {
            return;
        };
        tracing::info!(overdue, "switching to the new connection");
        self.switch = Some(super::runner::Switch {
            started: Instant::now(),
            planned: true,
        });
        if let Some(response) = self.response.take() {
            self.suppressed.insert(response.id);
        }
        if let Some(old) = self.client.take() {
            let _ = old.close().await;
        }
        self.ready = false;
        self.open(standby, true).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::Pcm;

    fn text(t: &str) -> ClientInput {
        ClientInput::Text { text: t.into() }
    }

    fn texts(inputs: &[ClientInput]) -> Vec<&str> {
        inputs
            .iter()
            .filter_map(|i| match i {
                ClientInput::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_handle_covers_what_was_answered_before_it() {
        let mut log = ReplayLog::new(10_000);
        log.sent(text("one"));
        log.answered();
        log.sent(text("two")); // after the answer: not covered by the next handle
        log.covered();
        log.sent(text("three"));
        assert_eq!(texts(&log.take_unanswered()), ["two", "three"]);
        assert!(log.take_unanswered().is_empty());
    }

    #[test]
    fn answered_input_is_not_sent_again_even_without_a_new_handle() {
        let mut log = ReplayLog::new(10_000);
        log.sent(text("one"));
        log.answered();
        log.sent(text("two"));
        assert_eq!(texts(&log.take_unanswered()), ["two"]);
    }

    #[test]
    fn audio_is_bounded_oldest_first() {
        let mut log = ReplayLog::new(150);
        let audio = |ms: usize| ClientInput::Audio {
            pcm: Pcm(vec![0; ms * 32]),
            sample_rate: 16_000,
        };
        log.sent(audio(100));
        log.sent(text("kept"));
        log.answered();
        log.sent(audio(100)); // 200 ms > 150: the first chunk goes
        let rest = log.take_unanswered();
        assert_eq!(rest.len(), 1, "the answered text stays answered");
        assert!(matches!(rest[0], ClientInput::Audio { .. }));
    }
}
