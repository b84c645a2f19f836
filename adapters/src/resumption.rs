//! The rules for moving a live session to a new connection, as a pure state
//! machine: no sockets, no timers, time passed in.
//!
//! A provider that closes connections on its own schedule (Gemini's `goAway`
//! about ten minutes in, a dialect's session limit) hands out resumption
//! handles; a new connection opened with the newest handle carries the
//! conversation on. Two callers move sessions this way — the Gemini adapter's
//! `ResumingSession` and the realtime agent's handover — and both follow the
//! rules kept here, once:
//!
//! - **The newest handle covers what was answered before it came.** Inputs
//!   sent since then are kept ([`ReplayLog`]) and sent again on the new
//!   connection; answered ones are not.
//! - **Switch between turns, unless the deadline is close.** An announced
//!   close is planned as a deadline [`MARGIN`] before it; before that
//!   deadline the switch waits for a quiet moment (no answer in progress),
//!   at the deadline it happens whatever is going on. Two announcements keep
//!   the earlier deadline.
//!
//! The caller feeds it what it sees ([`Resumption::on_event`]) and sends
//! ([`Resumption::on_sent`]), asks when to wake ([`Resumption::poll_timeout`])
//! and whether to move now ([`Resumption::switch_due`]), does the moving, and
//! sends the new connection what [`Resumption::take_unanswered`] returns.

use crate::event::ModelEvent;
use crate::input::ClientInput;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Switch this long before an announced close at the latest.
pub const MARGIN: Duration = Duration::from_millis(250);

/// What a session mover knows: the newest handle, the inputs it may not
/// cover, the planned switch and whether an answer is in progress.
#[derive(Debug)]
pub struct Resumption {
    handle: Option<String>,
    log: ReplayLog,
    switch_by: Option<Instant>,
    responding: bool,
}

impl Resumption {
    /// A session with no handle yet, keeping at most `audio_bound_ms` of
    /// unanswered audio for replay (`u64::MAX`: everything).
    pub fn new(audio_bound_ms: u64) -> Self {
        Resumption {
            handle: None,
            log: ReplayLog::new(audio_bound_ms),
            switch_by: None,
            responding: false,
        }
    }

    /// Notes what one model event means for resuming: a resumable handle
    /// replaces the old one and covers what was answered; a response begins
    /// or ends; a `GoAway` plans the switch (see [`Resumption::on_go_away`]).
    pub fn on_event(&mut self, event: &ModelEvent, now: Instant) {
        match event {
            ModelEvent::ResumptionHandle {
                handle: Some(handle),
                resumable: true,
            } => {
                self.handle = Some(handle.clone());
                self.log.covered();
            }
            ModelEvent::ResponseCreated { .. } => self.responding = true,
            ModelEvent::ResponseDone { .. } => {
                self.responding = false;
                self.log.answered();
            }
            ModelEvent::GoAway { time_left_ms } => self.on_go_away(*time_left_ms, now),
            _ => {}
        }
    }

    /// `input` went to the current connection.
    pub fn on_sent(&mut self, input: ClientInput) {
        self.log.sent(input);
    }

    /// The provider will close the connection in `time_left_ms` (none: at
    /// once): switch by [`MARGIN`] before it, or by an earlier plan.
    pub fn on_go_away(&mut self, time_left_ms: Option<u64>, now: Instant) {
        let left = Duration::from_millis(time_left_ms.unwrap_or(0));
        self.plan_switch(now + left.saturating_sub(MARGIN));
    }

    /// Plans a switch by `by` (an earlier plan stands).
    pub fn plan_switch(&mut self, by: Instant) {
        self.switch_by = Some(self.switch_by.map_or(by, |planned| planned.min(by)));
    }

    /// Drops the planned switch (the connection went first, or the move
    /// was given up).
    pub fn cancel_switch(&mut self) {
        self.switch_by = None;
    }

    /// Whether a switch is planned.
    pub fn switch_planned(&self) -> bool {
        self.switch_by.is_some()
    }

    /// When the caller must wake up to switch whatever is going on.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.switch_by
    }

    /// Whether to switch now: a switch is planned and either the session is
    /// between turns (`quiet`, as the caller judges it) or the deadline passed.
    pub fn switch_due(&self, now: Instant, quiet: bool) -> bool {
        self.switch_by.is_some_and(|by| quiet || now >= by)
    }

    /// Whether a response is in progress, by the events seen.
    pub fn responding(&self) -> bool {
        self.responding
    }

    /// The newest resumable handle.
    pub fn handle(&self) -> Option<&str> {
        self.handle.as_deref()
    }

    /// Forgets the handle (the next connection starts afresh).
    pub fn forget_handle(&mut self) {
        self.handle = None;
    }

    /// What a connection resumed with the newest handle has not seen; the
    /// log starts afresh (the caller logs what it sends again).
    pub fn take_unanswered(&mut self) -> Vec<ClientInput> {
        self.log.take_unanswered()
    }

    /// The session moved to a new connection: no switch is planned, no
    /// answer is in progress there.
    pub fn switched(&mut self) {
        self.switch_by = None;
        self.responding = false;
    }

    /// How many inputs the newest handle may not cover.
    pub fn unanswered(&self) -> usize {
        self.log.entries.len() - self.log.answered
    }
}

/// Inputs sent on the current connection that the newest resumption handle
/// may not cover, so that a resumed session can be sent them again.
///
/// A handle covers what was answered before it came. The log keeps at most
/// `bound_ms` of audio, oldest dropped first: between turns that audio is
/// mostly silence.
#[derive(Debug)]
pub struct ReplayLog {
    entries: VecDeque<ClientInput>,
    /// Entries before this index were answered.
    answered: usize,
    audio_ms: f64,
    bound_ms: f64,
}

impl ReplayLog {
    /// An empty log keeping at most `bound_ms` of audio.
    pub fn new(bound_ms: u64) -> Self {
        ReplayLog {
            entries: VecDeque::new(),
            answered: 0,
            audio_ms: 0.0,
            bound_ms: bound_ms as f64,
        }
    }

    /// `input` went to the current connection.
    pub fn sent(&mut self, input: ClientInput) {
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
    pub fn answered(&mut self) {
        self.answered = self.entries.len();
    }

    /// A new handle came: what was answered is in the conversation it resumes.
    pub fn covered(&mut self) {
        for input in self.entries.drain(..self.answered) {
            if let ClientInput::Audio { pcm, sample_rate } = &input {
                self.audio_ms -= pcm.duration_ms(*sample_rate);
            }
        }
        self.answered = 0;
    }

    /// What a session resumed with the newest handle has not seen; the log
    /// starts afresh.
    pub fn take_unanswered(&mut self) -> Vec<ClientInput> {
        let rest = self.entries.split_off(self.answered);
        self.entries.clear();
        self.answered = 0;
        self.audio_ms = 0.0;
        rest.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Pcm;
    use crate::event::ResponseStatus;

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

    fn handle(h: &str) -> ModelEvent {
        ModelEvent::ResumptionHandle {
            handle: Some(h.into()),
            resumable: true,
        }
    }

    fn created() -> ModelEvent {
        ModelEvent::ResponseCreated {
            response_id: "r".into(),
        }
    }

    fn done() -> ModelEvent {
        ModelEvent::ResponseDone {
            response_id: "r".into(),
            status: ResponseStatus::Completed,
            reason: None,
            error: None,
        }
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

    #[test]
    fn events_drive_the_handle_and_the_log() {
        let now = Instant::now();
        let mut r = Resumption::new(u64::MAX);
        r.on_sent(text("one"));
        r.on_event(&created(), now);
        assert!(r.responding());
        r.on_event(&done(), now);
        assert!(!r.responding());
        r.on_sent(text("two"));
        r.on_event(&handle("h1"), now);
        assert_eq!(r.handle(), Some("h1"));
        // An unresumable handle changes nothing.
        r.on_event(
            &ModelEvent::ResumptionHandle {
                handle: Some("h2".into()),
                resumable: false,
            },
            now,
        );
        assert_eq!(r.handle(), Some("h1"));
        assert_eq!(r.unanswered(), 1);
        assert_eq!(texts(&r.take_unanswered()), ["two"]);
        r.switched();
        assert!(!r.responding());
        r.forget_handle();
        assert_eq!(r.handle(), None);
    }

    #[test]
    fn go_away_plans_a_switch_the_margin_before_the_close() {
        let now = Instant::now();
        let mut r = Resumption::new(u64::MAX);
        assert_eq!(r.poll_timeout(), None);
        assert!(!r.switch_due(now, true), "nothing planned");
        r.on_event(
            &ModelEvent::GoAway {
                time_left_ms: Some(10_000),
            },
            now,
        );
        let by = now + Duration::from_millis(10_000) - MARGIN;
        assert_eq!(r.poll_timeout(), Some(by));
        // A later announcement keeps the earlier deadline; an earlier one wins.
        r.on_go_away(Some(20_000), now);
        assert_eq!(r.poll_timeout(), Some(by));
        r.on_go_away(Some(1_000), now);
        let by = now + Duration::from_millis(750);
        assert_eq!(r.poll_timeout(), Some(by));
        // Less time left than the margin: due at once.
        let mut soon = Resumption::new(u64::MAX);
        soon.on_go_away(Some(100), now);
        assert_eq!(soon.poll_timeout(), Some(now));
        soon.on_go_away(None, now);
        assert_eq!(soon.poll_timeout(), Some(now));
    }

    #[test]
    fn a_switch_waits_for_a_quiet_moment_until_the_deadline() {
        let now = Instant::now();
        let mut r = Resumption::new(u64::MAX);
        r.on_go_away(Some(5_000), now);
        let by = r.poll_timeout().expect("planned");
        assert!(!r.switch_due(now, false), "mid-answer, before the deadline");
        assert!(r.switch_due(now, true), "between turns");
        assert!(r.switch_due(by, false), "at the deadline, whatever goes on");
        r.switched();
        assert!(!r.switch_planned());
        r.on_go_away(Some(5_000), now);
        r.cancel_switch();
        assert_eq!(r.poll_timeout(), None);
    }
}
