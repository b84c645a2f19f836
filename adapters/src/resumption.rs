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
//! - **An answer is not covered until the next handle comes.** The provider
//!   sends the handle that covers a turn *after* the turn's answer (Gemini:
//!   `turnComplete`, then `sessionResumptionUpdate`). A connection lost in
//!   between leaves a *stale* handle ([`Resumption::handle_stale`]): the
//!   conversation it resumes has neither that turn nor its answer. So
//!   answered inputs stay logged until a handle covers them; a caller that
//!   can give a new session the conversation as context starts afresh
//!   instead of resuming a stale handle, one that cannot sends everything
//!   uncovered again ([`Resumption::take_uncovered`]: the model answers that
//!   turn a second time, but forgets nothing). A planned switch waits for
//!   the handle before it counts the session as quiet. With no handle at
//!   all nothing can be resumed, and answered inputs are dropped at once.
//! - **Switch between turns, unless the deadline is close.** An announced
//!   close is planned as a deadline [`MARGIN`] before it; before that
//!   deadline the switch waits for a quiet moment (no answer in progress),
//!   at the deadline it happens whatever is going on. Two announcements keep
//!   the earlier deadline.
//! - **The log is bounded.** At most a bound of audio (oldest dropped first)
//!   and [`MAX_OTHER_ENTRIES`] other inputs are kept; an input evicted past
//!   that cap is logged as a warning and counted ([`Resumption::evicted`]).
//!
//! The caller feeds it what it sees ([`Resumption::on_event`]) and sends
//! ([`Resumption::on_sent`]), asks when to wake ([`Resumption::poll_timeout`])
//! and whether to move now ([`Resumption::switch_due`]), does the moving, and
//! sends the new connection what [`Resumption::take_unanswered`] (or, with a
//! stale handle and no other way to carry the conversation,
//! [`Resumption::take_uncovered`]) returns.

use crate::event::ModelEvent;
use crate::input::ClientInput;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Switch this long before an announced close at the latest.
pub const MARGIN: Duration = Duration::from_millis(250);

/// At most this many inputs other than audio (texts, images, tool results,
/// response requests) are kept for replay; older ones are evicted. Between
/// two handles there are a few; a provider that stopped sending handles must
/// not make the log grow without bound.
pub const MAX_OTHER_ENTRIES: usize = 512;

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
                if self.handle.is_none() {
                    // Nothing to resume: no handle will ever need these.
                    self.log.covered();
                }
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
    /// between turns (`quiet`, as the caller judges it, and the newest handle
    /// covers the last answer: see [`Resumption::handle_stale`]) or the
    /// deadline passed.
    pub fn switch_due(&self, now: Instant, quiet: bool) -> bool {
        self.switch_by
            .is_some_and(|by| (quiet && !self.handle_stale()) || now >= by)
    }

    /// Whether the newest handle misses an answered turn: the connection was
    /// lost (or is being left) after an answer and before the handle that
    /// covers it. Resuming with it would lose that turn.
    pub fn handle_stale(&self) -> bool {
        self.handle.is_some() && self.log.answered_uncovered()
    }

    /// Whether a response is in progress, by the events seen.
    pub fn responding(&self) -> bool {
        self.responding
    }

    /// The newest resumable handle.
    pub fn handle(&self) -> Option<&str> {
        self.handle.as_deref()
    }

    /// Forgets the handle (the next connection starts afresh, and what was
    /// answered is no longer kept for it).
    pub fn forget_handle(&mut self) {
        self.handle = None;
        self.log.covered();
    }

    /// The inputs not answered yet, for a new connection that has the
    /// answered turns some other way (resumed with a handle that covers
    /// them, or started afresh with the conversation as context); the log
    /// starts afresh (the caller logs what it sends again).
    pub fn take_unanswered(&mut self) -> Vec<ClientInput> {
        self.log.take_unanswered()
    }

    /// Everything the newest handle has not seen, answered or not, oldest
    /// first: what a connection resumed with a stale handle must be sent so
    /// that no turn is lost; the log starts afresh.
    pub fn take_uncovered(&mut self) -> Vec<ClientInput> {
        self.log.take_uncovered()
    }

    /// Inputs evicted from the log past [`MAX_OTHER_ENTRIES`] so far.
    pub fn evicted(&self) -> u64 {
        self.log.evicted()
    }

    /// The session moved to a new connection: no switch is planned, no
    /// answer is in progress there.
    pub fn switched(&mut self) {
        self.switch_by = None;
        self.responding = false;
    }

    /// How many inputs are not answered yet (the newest handle covers none of
    /// them).
    pub fn unanswered(&self) -> usize {
        self.log.entries.len() - self.log.answered
    }
}

/// Inputs sent on the current connection that the newest resumption handle
/// may not cover, so that a resumed session can be sent them again.
///
/// A handle covers what was answered before it came; what was answered since
/// the last handle stays logged (marked answered) until the next one. The
/// log keeps at most `bound_ms` of audio, oldest dropped first (between
/// turns that audio is mostly silence), and at most `max_others` other
/// inputs, oldest evicted first with a warning.
#[derive(Debug)]
pub struct ReplayLog {
    entries: VecDeque<ClientInput>,
    /// Entries before this index were answered.
    answered: usize,
    audio_ms: f64,
    bound_ms: f64,
    /// Entries that are not audio.
    others: usize,
    max_others: usize,
    /// An answered entry was evicted before a handle covered it.
    answered_evicted: bool,
    /// Entries evicted past `max_others`, over the log's life.
    evicted: u64,
}

impl ReplayLog {
    /// An empty log keeping at most `bound_ms` of audio and
    /// [`MAX_OTHER_ENTRIES`] other inputs.
    pub fn new(bound_ms: u64) -> Self {
        Self::with_limits(bound_ms, MAX_OTHER_ENTRIES)
    }

    /// An empty log keeping at most `bound_ms` of audio and `max_others`
    /// other inputs (at least one).
    pub fn with_limits(bound_ms: u64, max_others: usize) -> Self {
        ReplayLog {
            entries: VecDeque::new(),
            answered: 0,
            audio_ms: 0.0,
            bound_ms: bound_ms as f64,
            others: 0,
            max_others: max_others.max(1),
            answered_evicted: false,
            evicted: 0,
        }
    }

    /// `input` went to the current connection.
    pub fn sent(&mut self, input: ClientInput) {
        if let ClientInput::Audio { pcm, sample_rate } = &input {
            self.audio_ms += pcm.duration_ms(*sample_rate);
        } else {
            self.others += 1;
        }
        self.entries.push_back(input);
        while self.audio_ms > self.bound_ms {
            let Some(index) = self.entries.iter().position(is_audio_input) else {
                break;
            };
            self.remove(index);
        }
        while self.others > self.max_others {
            let Some(index) = self.entries.iter().position(|i| !is_audio_input(i)) else {
                break;
            };
            let answered = index < self.answered;
            self.answered_evicted |= answered;
            self.remove(index);
            self.evicted += 1;
            tracing::warn!(
                answered,
                evicted = self.evicted,
                cap = self.max_others,
                "replay log full: the oldest input was evicted; a resumed session will not see it"
            );
        }
    }

    /// Removes the entry at `index`, keeping the counts.
    fn remove(&mut self, index: usize) {
        match self.entries.remove(index) {
            Some(ClientInput::Audio { pcm, sample_rate }) => {
                self.audio_ms -= pcm.duration_ms(sample_rate)
            }
            Some(_) => self.others -= 1,
            None => return,
        }
        if index < self.answered {
            self.answered -= 1;
        }
    }

    /// A response finished: everything sent so far was answered.
    pub fn answered(&mut self) {
        self.answered = self.entries.len();
    }

    /// Whether something answered is not covered by a handle yet.
    pub fn answered_uncovered(&self) -> bool {
        self.answered > 0 || self.answered_evicted
    }

    /// A new handle came: what was answered is in the conversation it
    /// resumes (also used when nothing will be resumed: what was answered
    /// is not needed any more).
    pub fn covered(&mut self) {
        for _ in 0..self.answered {
            self.remove(0);
        }
        self.answered = 0;
        self.answered_evicted = false;
    }

    /// What has not been answered; the log starts afresh.
    pub fn take_unanswered(&mut self) -> Vec<ClientInput> {
        let rest = self.entries.split_off(self.answered);
        self.clear();
        rest.into()
    }

    /// Everything logged, answered or not, oldest first; the log starts
    /// afresh.
    pub fn take_uncovered(&mut self) -> Vec<ClientInput> {
        let all = std::mem::take(&mut self.entries);
        self.clear();
        all.into()
    }

    /// Entries evicted past the cap so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.answered = 0;
        self.audio_ms = 0.0;
        self.others = 0;
        self.answered_evicted = false;
    }
}

/// Whether `input` is user audio (bounded by duration, not by count).
fn is_audio_input(input: &ClientInput) -> bool {
    matches!(input, ClientInput::Audio { .. })
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
    fn an_answer_stays_logged_until_a_handle_covers_it() {
        // The provider sends the handle covering a turn after its answer; a
        // connection lost in between must not lose the turn.
        let now = Instant::now();
        let mut r = Resumption::new(u64::MAX);
        r.on_event(&handle("h0"), now);
        r.on_sent(text("remember falcon"));
        r.on_event(&created(), now);
        r.on_event(&done(), now);
        r.on_sent(text("next"));
        assert!(r.handle_stale(), "h0 has not seen the answered turn");
        assert_eq!(r.unanswered(), 1);
        assert_eq!(texts(&r.take_uncovered()), ["remember falcon", "next"]);
        // Once the handle covering it comes, the turn is not needed again.
        r.on_sent(text("one"));
        r.on_event(&done(), now);
        r.on_event(&handle("h1"), now);
        assert!(!r.handle_stale());
        assert!(r.take_uncovered().is_empty());
        // A session resumed elsewise (context) takes only what is unanswered.
        r.on_sent(text("two"));
        r.on_event(&done(), now);
        r.on_sent(text("three"));
        assert!(r.handle_stale());
        assert_eq!(texts(&r.take_unanswered()), ["three"]);
        assert!(!r.handle_stale(), "the log starts afresh");
    }

    #[test]
    fn a_planned_switch_waits_for_the_handle_covering_the_last_answer() {
        let now = Instant::now();
        let mut r = Resumption::new(u64::MAX);
        r.on_event(&handle("h0"), now);
        r.on_go_away(Some(5_000), now);
        r.on_sent(text("one"));
        r.on_event(&done(), now);
        assert!(
            !r.switch_due(now, true),
            "quiet, but h0 would lose the turn"
        );
        let by = r.poll_timeout().expect("planned");
        assert!(r.switch_due(by, true), "the deadline wins");
        r.on_event(&handle("h1"), now);
        assert!(r.switch_due(now, true));
    }

    #[test]
    fn without_a_handle_answered_input_is_dropped_at_once() {
        let now = Instant::now();
        let mut r = Resumption::new(u64::MAX);
        r.on_sent(text("one"));
        r.on_event(&done(), now);
        assert!(!r.handle_stale());
        assert!(r.take_uncovered().is_empty(), "nothing to resume it with");
        r.on_event(&handle("h1"), now);
        r.on_sent(text("two"));
        r.on_event(&done(), now);
        assert!(r.handle_stale());
        r.forget_handle();
        assert!(!r.handle_stale());
        assert!(
            r.take_uncovered().is_empty(),
            "a fresh session gets context"
        );
    }

    #[test]
    fn inputs_other_than_audio_are_capped_oldest_evicted_and_counted() {
        let mut log = ReplayLog::with_limits(150, 3);
        let audio = ClientInput::Audio {
            pcm: Pcm(vec![0; 100 * 32]),
            sample_rate: 16_000,
        };
        log.sent(text("a"));
        log.sent(audio.clone());
        log.sent(text("b"));
        log.answered();
        log.sent(text("c"));
        assert_eq!(log.evicted(), 0);
        log.sent(text("d"));
        log.sent(text("e"));
        assert_eq!(log.evicted(), 2, "a and b went");
        assert!(log.answered_uncovered(), "b was answered, and is gone");
        let rest = log.take_uncovered();
        assert_eq!(texts(&rest), ["c", "d", "e"]);
        assert_eq!(rest.len(), 4, "audio is bounded by duration, not the cap");
        // A long session without handles stays bounded.
        let mut r = Resumption::new(u64::MAX);
        r.on_event(&handle("h"), Instant::now());
        for n in 0..MAX_OTHER_ENTRIES + 10 {
            r.on_sent(text(&n.to_string()));
        }
        assert_eq!(r.unanswered(), MAX_OTHER_ENTRIES);
        assert_eq!(r.evicted(), 10);
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
