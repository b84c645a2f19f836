//! The bounded store behind [`Journal`](super::Journal).
//!
//! Sessions live in a queue, oldest first, each behind its own lock; the
//! queue's lock is held only for O(1) work (find a session, push, evict).
//! Past [`JournalCaps`] the oldest sessions are evicted; a read clones the
//! sessions' `Arc`s and their entries' `Arc`s out (no string is copied under
//! a lock) and renders them after letting go.
//!
//! A live session must never wait on a reader, and readers run at the lowest
//! priority (see `reader`), so a reader preempted while holding a lock would
//! hold up whoever waits for it (priority inversion). Hence:
//!
//! - a reader holds a session's lock only to clone `Arc`s, and the queue's
//!   lock only to clone the sessions' `Arc`s of one page;
//! - [`Store::push`] finds the session under the queue's lock, lets go, and
//!   only then takes the session's lock: it never holds the queue's lock
//!   while it waits for a session, so a reader inside one session cannot
//!   stall the frames of every other session;
//! - the kept bytes are an atomic counter changed only under the lock of the
//!   session whose bytes change, by exactly that session's change: the sum
//!   stays exact without the queue's lock on the push path (lock order is
//!   always queue, then session);
//! - what eviction and clearing let go of is taken out under the queue's
//!   lock and freed after it, on the `journal-reclaim` thread (see
//!   `reclaim`): freeing a large session is allocator work no live session
//!   should wait for.

use super::grade::{ReplayGrade, TurnCounter};
use super::limits::TooManySubscribers;
use super::live::{Live, LiveEvent, Subscription};
use super::reclaim::Reclaimer;
use super::waits::LockWaits;
use super::{summarise, EntryKind, JournalCaps, JournalEntry, JournalMode};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Bytes counted for an entry on top of its label and detail.
const ENTRY_OVERHEAD: usize = 64;

/// What an entry keeps of its detail.
#[derive(Debug, Clone)]
pub(super) enum Detail {
    /// Text shown as it is (a note, a detail its writer already summarised).
    Text(String),
    /// A frame the session sent or received, by reference, summarised when read.
    Shared(Arc<str>),
    /// A binary frame (JSON as bytes), by reference, summarised when read.
    Bytes(Arc<[u8]>),
}

impl Detail {
    fn bytes(&self) -> usize {
        match self {
            Detail::Text(s) => s.len(),
            Detail::Shared(s) => s.len(),
            Detail::Bytes(b) => b.len(),
        }
    }
}

/// One entry as kept.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub(super) t_ms: u64,
    pub(super) kind: EntryKind,
    pub(super) label: Arc<str>,
    pub(super) detail: Detail,
}

impl Stored {
    fn bytes(&self) -> usize {
        ENTRY_OVERHEAD + self.label.len() + self.detail.bytes()
    }

    /// The entry as readers see it, with `mode`'s detail.
    pub(super) fn render(&self, mode: JournalMode) -> JournalEntry {
        let frame = |text: &str| match mode {
            // Full mode keeps a frame's audio (for the WAV and cassette
            // routes) but a reader of entries still sees it summarised.
            JournalMode::Full => super::audio::strip(text).unwrap_or_else(|| text.to_owned()),
            _ => summarise(text),
        };
        let detail = match &self.detail {
            Detail::Text(text) => text.clone(),
            Detail::Shared(text) => frame(text),
            Detail::Bytes(bytes) => frame(&String::from_utf8_lossy(bytes)),
        };
        JournalEntry {
            t_ms: self.t_ms,
            kind: self.kind,
            label: self.label.to_string(),
            detail,
        }
    }
}

/// What does not change about a session.
#[derive(Debug)]
pub(super) struct Header {
    pub(super) session: u64,
    pub(super) dialect: String,
    pub(super) model: String,
    pub(super) engine: String,
    /// When it opened, in milliseconds since the Unix epoch.
    pub(super) started_unix_ms: u64,
}

/// What does.
#[derive(Debug, Default)]
struct Log {
    closed: bool,
    /// Set when the session leaves the queue (evicted or cleared), under
    /// this lock: a push that finds it set keeps and counts nothing.
    gone: bool,
    /// Each entry behind an `Arc`, so that a read copies pointers out.
    entries: VecDeque<Arc<Stored>>,
    bytes: usize,
    /// Notes among `entries`, counted as they come and go: the session list
    /// reads it under the session's lock, which a live session's next frame
    /// may be waiting for, so reading it must not walk the entries.
    notes: usize,
    /// Turns completed, counted as frames pass (kept when entries are trimmed).
    turns: TurnCounter,
    /// The first problem a replay session met, if any.
    problem: Option<ReplayGrade>,
}

#[derive(Debug)]
struct Slot {
    header: Header,
    log: Mutex<Log>,
}

impl Slot {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the journal holds and has let go, for `GET /__understudy/journal/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalStats {
    /// The detail kept.
    pub mode: JournalMode,
    /// The caps.
    pub caps: JournalCaps,
    /// Sessions kept now.
    pub sessions: usize,
    /// Bytes kept now (as the caps count them).
    pub bytes: usize,
    /// Sessions opened since start (kept, evicted or cleared).
    pub opened: u64,
    /// Sessions evicted by the caps since start.
    pub evicted_sessions: u64,
    /// Entries dropped from a session larger than the byte cap.
    pub dropped_entries: u64,
    /// Sessions forgotten by `DELETE /__understudy/journal`.
    pub cleared_sessions: u64,
    /// Subscribers of the live feed now (`/__understudy/stream`).
    pub stream_subscribers: usize,
    /// Events live-feed subscribers lost by falling behind, since start.
    pub stream_lagged_events: u64,
    /// Times a session's write (open, an entry) found a journal lock held by
    /// another thread and waited, since start: how often observers (or other
    /// sessions) held up a live session.
    pub write_lock_waits: u64,
    /// Those waits added up, in microseconds.
    pub write_lock_wait_us: u64,
    /// The longest of them, in microseconds.
    pub write_lock_wait_max_us: u64,
    /// Batches of evicted or cleared sessions freed by the session that
    /// evicted them because the low-priority reclaim thread was behind
    /// (normally 0: they are freed off the live path).
    pub reclaimed_inline: u64,
}

/// One kept session in the list (`GET /__understudy/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// Server-side session number.
    pub session: u64,
    /// Which protocol dialect it spoke.
    pub dialect: String,
    /// Model the client asked for.
    pub model: String,
    /// Engine that served it (`respond`, `replay:<cassette>`, …).
    pub engine: String,
    /// When it opened, in milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// Time of its last entry, in milliseconds since it opened.
    pub duration_ms: u64,
    /// Whether it has ended.
    pub closed: bool,
    /// Entries kept.
    pub entries: usize,
    /// Notes among them.
    pub notes: usize,
    /// Model responses the session completed (`response.done`,
    /// `serverContent.turnComplete`), counted as the frames passed.
    pub turns: u64,
    /// For a replay session (`replay:…` engine): `ok`, `mismatched` (with
    /// the first mismatch's note) or `refused`; `None` for other engines.
    pub grade: Option<ReplayGrade>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Kept sessions, oldest first; `sessions[i]` is session `first + i`.
    sessions: VecDeque<Arc<Slot>>,
    first: u64,
    opened: u64,
    evicted_sessions: u64,
    dropped_entries: u64,
    cleared_sessions: u64,
}

impl Inner {
    fn slot(&self, session: u64) -> Option<&Arc<Slot>> {
        let index = session.checked_sub(self.first)?;
        self.sessions.get(usize::try_from(index).ok()?)
    }

    /// Takes the oldest session out into `garbage`, counting its bytes out
    /// of `bytes` under its lock and marking it gone.
    fn pop_oldest(&mut self, bytes: &AtomicUsize, garbage: &mut Garbage) -> bool {
        let Some(slot) = self.sessions.pop_front() else {
            return false;
        };
        self.first += 1;
        {
            let mut log = slot.log();
            bytes.fetch_sub(log.bytes, Ordering::Relaxed);
            log.bytes = 0;
            log.gone = true;
        }
        garbage.sessions.push(slot);
        true
    }

    /// Evicts the oldest sessions past the caps into `garbage`; a lone
    /// session past the byte cap loses its oldest entries (into `garbage`).
    fn enforce(&mut self, caps: JournalCaps, bytes: &AtomicUsize, garbage: &mut Garbage) {
        let over = || bytes.load(Ordering::Relaxed) > caps.max_bytes;
        while self.sessions.len() > caps.max_sessions.max(1) && self.pop_oldest(bytes, garbage) {
            self.evicted_sessions += 1;
        }
        while over() && self.sessions.len() > 1 && self.pop_oldest(bytes, garbage) {
            self.evicted_sessions += 1;
        }
        if over() {
            if let Some(slot) = self.sessions.front().cloned() {
                let mut log = slot.log();
                while over() {
                    let Some(entry) = log.entries.pop_front() else {
                        break;
                    };
                    let size = entry.bytes();
                    log.notes -= usize::from(entry.kind == EntryKind::Note);
                    log.bytes -= size;
                    bytes.fetch_sub(size, Ordering::Relaxed);
                    self.dropped_entries += 1;
                    garbage.entries.push(entry);
                }
            }
        }
    }
}

/// What eviction or clearing took out, to be freed after the queue's lock
/// is let go (see `reclaim`).
#[derive(Debug, Default)]
struct Garbage {
    sessions: Vec<Arc<Slot>>,
    entries: Vec<Arc<Stored>>,
}

impl Garbage {
    fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.entries.is_empty()
    }
}

/// The store: mode and caps, and the sessions behind one short-held lock.
#[derive(Debug)]
pub(super) struct Store {
    mode: JournalMode,
    caps: JournalCaps,
    inner: Mutex<Inner>,
    /// Bytes kept, as the caps count them: the sum of the kept sessions'
    /// `Log::bytes`, each change made under the changed session's lock.
    bytes: AtomicUsize,
    live: Live,
    /// Waits of the write path (open, push) on a lock held elsewhere.
    waits: LockWaits,
    /// Most live-feed subscribers [`Store::try_subscribe`] lets in.
    max_subscribers: usize,
    /// Frees evicted and cleared sessions off the live path.
    reclaimer: Reclaimer,
}

impl Store {
    pub(super) fn new(
        mode: JournalMode,
        caps: JournalCaps,
        stream_buffer: usize,
        max_subscribers: usize,
    ) -> Self {
        Store {
            mode,
            caps,
            inner: Mutex::new(Inner {
                first: 1,
                ..Inner::default()
            }),
            bytes: AtomicUsize::new(0),
            waits: LockWaits::default(),
            max_subscribers,
            live: Live::new(stream_buffer),
            reclaimer: Reclaimer::default(),
        }
    }

    /// A live-feed subscriber (frames too if `frames`).
    pub(super) fn subscribe(&self, frames: bool) -> Subscription {
        self.live.subscribe(frames)
    }

    /// A live-feed subscriber unless the cap's worth already listen.
    pub(super) fn try_subscribe(&self, frames: bool) -> Result<Subscription, TooManySubscribers> {
        self.live.try_subscribe(frames, self.max_subscribers)
    }

    pub(super) fn mode(&self) -> JournalMode {
        self.mode
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Frees what eviction or clearing took out; call with no lock held.
    fn reclaim(&self, garbage: Garbage) {
        if !garbage.is_empty() {
            self.reclaimer.dispose(garbage);
        }
    }

    pub(super) fn open(&self, dialect: &str, model: &str, engine: &str) -> u64 {
        let mut inner = self.waits.lock(&self.inner);
        inner.opened += 1;
        let session = inner.opened;
        if self.mode == JournalMode::Off {
            return session;
        }
        if inner.sessions.is_empty() {
            inner.first = session;
        }
        let started_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        inner.sessions.push_back(Arc::new(Slot {
            header: Header {
                session,
                dialect: dialect.to_owned(),
                model: model.to_owned(),
                engine: engine.to_owned(),
                started_unix_ms,
            },
            log: Mutex::new(Log::default()),
        }));
        let mut garbage = Garbage::default();
        inner.enforce(self.caps, &self.bytes, &mut garbage);
        let evicted_sessions = inner.evicted_sessions;
        drop(inner);
        self.reclaim(garbage);
        self.live.publish(|| LiveEvent::Session {
            session,
            dialect: dialect.to_owned(),
            model: model.to_owned(),
            engine: engine.to_owned(),
            started_unix_ms,
            evicted_sessions,
        });
        session
    }

    /// Appends an entry to a kept session (nothing for one evicted or
    /// cleared), then enforces the caps if it went past them. The queue's
    /// lock is let go before the session's is taken (see the module notes).
    pub(super) fn push(&self, session: u64, entry: Stored) {
        let slot = self.waits.lock(&self.inner).slot(session).cloned();
        let Some(slot) = slot else {
            return;
        };
        let size = entry.bytes();
        let event = self.event_for(session, &entry);
        {
            let mut log = self.waits.lock(&slot.log);
            if log.gone {
                return;
            }
            match entry.kind {
                EntryKind::Server => log.turns.see(&entry.label),
                EntryKind::Note if log.problem.is_none() => {
                    if let Detail::Text(detail) = &entry.detail {
                        log.problem = ReplayGrade::from_note(&entry.label, detail);
                    }
                }
                _ => {}
            }
            log.notes += usize::from(entry.kind == EntryKind::Note);
            log.entries.push_back(Arc::new(entry));
            log.bytes += size;
            self.bytes.fetch_add(size, Ordering::Relaxed);
        }
        drop(slot);
        if self.bytes.load(Ordering::Relaxed) > self.caps.max_bytes {
            let mut garbage = Garbage::default();
            self.waits
                .lock(&self.inner)
                .enforce(self.caps, &self.bytes, &mut garbage);
            self.reclaim(garbage);
        }
        if let Some(event) = event {
            self.live.publish(|| event);
        }
    }

    /// What the live feed says of an entry: a note always, a frame only
    /// while someone asked for frames.
    fn event_for(&self, session: u64, entry: &Stored) -> Option<LiveEvent> {
        match (&entry.kind, &entry.detail) {
            (EntryKind::Note, Detail::Text(detail)) => Some(LiveEvent::Note {
                session,
                t_ms: entry.t_ms,
                label: entry.label.to_string(),
                detail: detail.clone(),
            }),
            (EntryKind::Note, _) => None,
            (kind, detail) => self.live.wants_frames().then(|| LiveEvent::Frame {
                session,
                t_ms: entry.t_ms,
                kind: *kind,
                label: entry.label.to_string(),
                bytes: detail.bytes(),
            }),
        }
    }

    /// The engine label of a kept session (for log lines).
    pub(super) fn engine_of(&self, session: u64) -> Option<String> {
        let inner = self.inner();
        inner.slot(session).map(|slot| slot.header.engine.clone())
    }

    pub(super) fn close(&self, session: u64) {
        let slot = self.inner().slot(session).cloned();
        let Some(slot) = slot else {
            return;
        };
        let event = {
            let mut log = slot.log();
            log.closed = true;
            LiveEvent::End {
                session,
                duration_ms: log.entries.back().map(|e| e.t_ms).unwrap_or(0),
                turns: log.turns.get(),
                grade: ReplayGrade::of(&slot.header.engine, log.problem.as_ref()),
            }
        };
        self.live.publish(|| event);
    }

    /// Headers, closed flags and entries of a page of sessions, copied out:
    /// the queue's lock only while cloning the sessions' `Arc`s, each
    /// session's only while cloning its entries' `Arc`s.
    pub(super) fn copy_out(&self, offset: usize, limit: usize) -> Vec<Copied> {
        let slots: Vec<Arc<Slot>> = self
            .inner()
            .sessions
            .iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        slots
            .into_iter()
            .map(|slot| {
                let (closed, entries) = {
                    let log = slot.log();
                    (log.closed, log.entries.iter().cloned().collect())
                };
                (Arc::new(HeaderRef(slot)), closed, entries)
            })
            .collect()
    }

    /// One line per kept session numbered above `since`, from the
    /// `offset`-th, copied out: the sessions' `Arc`s and
    /// a few counters read under each session's lock; no string is copied
    /// until [`Listed::render`], which takes no lock.
    pub(super) fn listed(&self, since: u64, offset: usize, limit: usize) -> Vec<Listed> {
        let slots: Vec<Arc<Slot>> = {
            let inner = self.inner();
            // Sessions are numbered consecutively from `first`: those up to
            // `since` are the first `since - first + 1`.
            let older = (since + 1).saturating_sub(inner.first);
            let skip = usize::try_from(older).unwrap_or(usize::MAX);
            inner
                .sessions
                .iter()
                .skip(skip)
                .skip(offset)
                .take(limit)
                .cloned()
                .collect()
        };
        slots
            .into_iter()
            .map(|slot| {
                let log = slot.log();
                let counts = ListedCounts {
                    duration_ms: log.entries.back().map(|e| e.t_ms).unwrap_or(0),
                    closed: log.closed,
                    entries: log.entries.len(),
                    notes: log.notes,
                    turns: log.turns.get(),
                    problem: log.problem.clone(),
                };
                drop(log);
                Listed { slot, counts }
            })
            .collect()
    }

    /// One kept session's header, closed flag and entries from `since_ms`, copied out.
    pub(super) fn one(&self, session: u64, since_ms: u64) -> Option<Copied> {
        let slot = self.inner().slot(session).cloned()?;
        let (closed, entries) = {
            let log = slot.log();
            let entries = log
                .entries
                .iter()
                .filter(|e| e.t_ms >= since_ms)
                .map(Arc::clone)
                .collect();
            (log.closed, entries)
        };
        Some((Arc::new(HeaderRef(slot)), closed, entries))
    }

    pub(super) fn clear(&self) {
        let mut garbage = Garbage::default();
        let mut inner = self.inner();
        let cleared = inner.sessions.len() as u64;
        while inner.pop_oldest(&self.bytes, &mut garbage) {}
        inner.first = inner.opened + 1;
        inner.cleared_sessions += cleared;
        drop(inner);
        self.reclaim(garbage);
    }

    pub(super) fn stats(&self) -> JournalStats {
        let inner = self.inner();
        JournalStats {
            mode: self.mode,
            caps: self.caps,
            sessions: inner.sessions.len(),
            bytes: self.bytes.load(Ordering::Relaxed),
            opened: inner.opened,
            evicted_sessions: inner.evicted_sessions,
            dropped_entries: inner.dropped_entries,
            cleared_sessions: inner.cleared_sessions,
            stream_subscribers: self.live.subscribers(),
            stream_lagged_events: self.live.lagged(),
            write_lock_waits: self.waits.count(),
            write_lock_wait_us: self.waits.total_us(),
            write_lock_wait_max_us: self.waits.max_us(),
            reclaimed_inline: self.reclaimer.inline(),
        }
    }
}

/// A session's counters as the list shows them, read under its lock.
#[derive(Debug)]
struct ListedCounts {
    duration_ms: u64,
    closed: bool,
    entries: usize,
    notes: usize,
    turns: u64,
    problem: Option<ReplayGrade>,
}

/// One session of the list, copied out ([`Store::listed`]).
#[derive(Debug)]
pub(super) struct Listed {
    slot: Arc<Slot>,
    counts: ListedCounts,
}

impl Listed {
    /// The session's line; its header never changes, so no lock is taken.
    pub(super) fn render(&self) -> SessionSummary {
        let header = &self.slot.header;
        let counts = &self.counts;
        SessionSummary {
            session: header.session,
            dialect: header.dialect.clone(),
            model: header.model.clone(),
            engine: header.engine.clone(),
            started_unix_ms: header.started_unix_ms,
            duration_ms: counts.duration_ms,
            closed: counts.closed,
            entries: counts.entries,
            notes: counts.notes,
            turns: counts.turns,
            grade: ReplayGrade::of(&header.engine, counts.problem.as_ref()),
        }
    }
}

/// One session as a read copies it out: its header, whether it has ended,
/// and its entries (shared with the store, never copied).
pub(super) type Copied = (Arc<HeaderRef>, bool, Vec<Arc<Stored>>);

/// A session's header, read through its slot after the copy.
#[derive(Debug)]
pub(super) struct HeaderRef(Arc<Slot>);

impl std::ops::Deref for HeaderRef {
    type Target = Header;

    fn deref(&self) -> &Header {
        &self.0.header
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Journal, JournalEntry};
    use super::*;

    fn note(journal: &Journal, session: u64, detail: &str) {
        journal.record(
            session,
            JournalEntry {
                t_ms: 0,
                kind: EntryKind::Note,
                label: "n".into(),
                detail: detail.into(),
            },
        );
    }

    /// Blocks the thread that drops it until `gate` opens.
    struct Stall(Arc<std::sync::Barrier>);

    impl Drop for Stall {
        fn drop(&mut self) {
            self.0.wait();
        }
    }

    fn waits_until(what: &str, done: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn evicted_and_cleared_sessions_are_freed_off_the_path_that_evicted_them() {
        let caps = JournalCaps {
            max_sessions: 1,
            max_bytes: usize::MAX,
        };
        let store = Store::new(JournalMode::Summary, caps, 16, 4);
        let frame: Arc<str> = Arc::from("{\"type\":\"response.done\"}");
        let entry = || Stored {
            t_ms: 0,
            kind: EntryKind::Server,
            label: Arc::from("response.done"),
            detail: Detail::Shared(Arc::clone(&frame)),
        };
        // The reclaim thread is held up: what it is handed stays alive.
        let gate = Arc::new(std::sync::Barrier::new(2));
        store.reclaimer.dispose(Stall(Arc::clone(&gate)));
        let first = store.open("d", "m", "respond");
        store.push(first, entry());
        assert_eq!(Arc::strong_count(&frame), 2);
        // Opening a second session evicts the first: the evicting call
        // returns without having freed it.
        let second = store.open("d", "m", "respond");
        assert_eq!(store.stats().evicted_sessions, 1);
        assert_eq!(
            Arc::strong_count(&frame),
            2,
            "not freed by the evicting session"
        );
        store.push(second, entry());
        store.clear();
        assert_eq!(store.stats().sessions, 0);
        assert_eq!(Arc::strong_count(&frame), 3, "not freed by DELETE's caller");
        gate.wait();
        waits_until("the reclaim thread frees both", || {
            Arc::strong_count(&frame) == 1
        });
        assert_eq!(store.stats().reclaimed_inline, 0);
    }

    #[test]
    fn the_oldest_sessions_are_evicted_past_the_session_cap() {
        let caps = JournalCaps {
            max_sessions: 3,
            max_bytes: usize::MAX,
        };
        let journal = Journal::new(JournalMode::Summary, caps);
        for _ in 0..5 {
            let s = journal.open("d", "m", "respond");
            note(&journal, s, "x");
        }
        let kept: Vec<u64> = journal.snapshot().iter().map(|s| s.session).collect();
        assert_eq!(kept, [3, 4, 5]);
        let stats = journal.stats();
        assert_eq!(
            (stats.sessions, stats.evicted_sessions, stats.opened),
            (3, 2, 5)
        );
        // An evicted session's late entries go nowhere and count nothing.
        note(&journal, 1, "late");
        assert_eq!(journal.stats().bytes, stats.bytes);
    }

    #[test]
    fn the_listed_note_count_follows_entries_trimmed_by_the_byte_cap() {
        let caps = JournalCaps {
            max_sessions: 10,
            max_bytes: 1_000,
        };
        let journal = Journal::new(JournalMode::Summary, caps);
        let s = journal.open("d", "m", "respond");
        for i in 0..30 {
            note(&journal, s, &format!("{i:0>90}"));
        }
        let kept = journal.snapshot()[0].entries.len();
        assert!(kept < 30, "the cap trimmed the oldest entries");
        let listed = journal.sessions(0, 0, 10);
        assert_eq!(listed[0].notes, kept);
        assert_eq!(listed[0].entries, kept);
    }

    #[test]
    fn the_byte_cap_evicts_sessions_then_trims_a_lone_one() {
        let caps = JournalCaps {
            max_sessions: 100,
            max_bytes: 1_000,
        };
        let journal = Journal::new(JournalMode::Summary, caps);
        let a = journal.open("d", "m", "respond");
        note(&journal, a, &"a".repeat(400));
        let b = journal.open("d", "m", "respond");
        note(&journal, b, &"b".repeat(400));
        note(&journal, b, &"b".repeat(400));
        let stats = journal.stats();
        assert!(stats.bytes <= 1_000, "{stats:?}");
        assert_eq!(stats.evicted_sessions, 1);
        assert_eq!(journal.snapshot()[0].session, b);
        for _ in 0..3 {
            note(&journal, b, &"c".repeat(400));
        }
        let stats = journal.stats();
        assert!(stats.bytes <= 1_000, "{stats:?}");
        assert!(stats.dropped_entries >= 3, "{stats:?}");
        let last = journal.snapshot()[0].entries.last().cloned().unwrap();
        assert!(last.detail.starts_with('c'));
    }

    #[test]
    fn the_list_tails_and_one_session_reads_from_a_time() {
        let journal = Journal::default();
        for _ in 0..3 {
            let s = journal.open("d", "m", "respond");
            journal.record(
                s,
                JournalEntry {
                    t_ms: 5,
                    kind: EntryKind::Note,
                    label: "n".into(),
                    detail: "a".into(),
                },
            );
            journal.record(
                s,
                JournalEntry {
                    t_ms: 9,
                    kind: EntryKind::Server,
                    label: "x".into(),
                    detail: "b".into(),
                },
            );
        }
        let all = journal.sessions(0, 0, 10);
        assert_eq!(all.iter().map(|s| s.session).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            (all[0].entries, all[0].notes, all[0].duration_ms),
            (2, 1, 9)
        );
        let tail: Vec<u64> = journal
            .sessions(2, 0, 10)
            .iter()
            .map(|s| s.session)
            .collect();
        assert_eq!(tail, [3]);
        assert!(journal.sessions(3, 0, 10).is_empty());
        let one = journal.session(2, 6).unwrap();
        assert_eq!(one.entries.len(), 1);
        assert_eq!(one.entries[0].detail, "b");
        assert!(journal.session(7, 0).is_none());
    }

    #[test]
    fn frames_are_kept_as_the_session_has_them_in_every_mode_and_read_summarised() {
        let audio = "QUJD".repeat(2_000);
        let text: Arc<str> = Arc::from(format!(
            r#"{{"type":"response.output_audio.delta","delta":"{audio}"}}"#
        ));
        let bytes: Arc<[u8]> = Arc::from(
            format!(r#"{{"serverContent":{{"modelTurn":{{"parts":[{{"inlineData":{{"data":"{audio}"}}}}]}}}}}}"#).into_bytes(),
        );
        let append = format!(r#"{{"type":"input_audio_buffer.append","audio":"{audio}"}}"#);
        for mode in [JournalMode::Summary, JournalMode::Full] {
            let journal = Journal::new(mode, JournalCaps::default());
            let s = journal.open("d", "m", "respond");
            // What the session holds is kept by reference in every mode (no
            // scan on the send path), counted against the byte cap.
            journal.record_frame(
                s,
                1,
                EntryKind::Server,
                "a",
                super::super::Frame::Shared(&text),
            );
            journal.record_frame(
                s,
                2,
                EntryKind::Server,
                "b",
                super::super::Frame::SharedBytes(&bytes),
            );
            let server = journal.stats().bytes;
            assert!(server > 16_000, "{mode}: {server} bytes");
            // A client frame is copied as it came (no scan on the receive
            // path either), counted against the byte cap.
            journal.record_frame(
                s,
                3,
                EntryKind::Client,
                "c",
                super::super::Frame::Borrowed(&append),
            );
            let client = journal.stats().bytes - server;
            assert!(client > 8_000, "{mode}: {client} bytes");
            // Read in any mode, audio is its length.
            for entry in &journal.snapshot()[0].entries {
                assert!(
                    entry.detail.contains("<8000 base64 chars>"),
                    "{}",
                    entry.detail
                );
                assert!(!entry.detail.contains("QUJD"));
            }
        }
    }

    #[test]
    fn clearing_forgets_sessions_but_numbering_goes_on() {
        let journal = Journal::new(JournalMode::Summary, JournalCaps::default());
        let a = journal.open("d", "m", "respond");
        note(&journal, a, "x");
        journal.clear();
        assert!(journal.snapshot().is_empty());
        note(&journal, a, "after clear");
        assert_eq!(journal.stats().bytes, 0);
        let b = journal.open("d", "m", "respond");
        assert_eq!(b, a + 1);
        note(&journal, b, "y");
        assert_eq!(journal.snapshot()[0].entries[0].detail, "y");
        assert_eq!(journal.stats().cleared_sessions, 1);
    }

    #[test]
    fn off_keeps_nothing_and_pages_are_slices() {
        let off = Journal::new(JournalMode::Off, JournalCaps::default());
        let s = off.open("d", "m", "respond");
        note(&off, s, "secret");
        assert!(off.snapshot().is_empty());
        let journal = Journal::default();
        for _ in 0..5 {
            journal.open("d", "m", "respond");
        }
        let page: Vec<u64> = journal.page(1, 2).iter().map(|s| s.session).collect();
        assert_eq!(page, [2, 3]);
        assert!(journal.page(9, 2).is_empty());
    }

    #[test]
    fn frames_are_summarised_when_read_and_whole_in_full_mode() {
        let long = format!(
            r#"{{"type":"session.updated","instructions":"{}"}}"#,
            "x".repeat(900)
        );
        let frame: Arc<str> = Arc::from(long.as_str());
        for (mode, expect_whole) in [(JournalMode::Summary, false), (JournalMode::Full, true)] {
            let journal = Journal::new(mode, JournalCaps::default());
            let s = journal.open("d", "m", "respond");
            journal.record_frame(
                s,
                1,
                EntryKind::Server,
                "session.updated",
                super::super::Frame::Shared(&frame),
            );
            let detail = journal.snapshot()[0].entries[0].detail.clone();
            assert_eq!(detail == long, expect_whole, "{mode}: {}", detail.len());
            if !expect_whole {
                assert!(detail.ends_with('…') && detail.chars().count() == 513);
            }
        }
        // Spaced client JSON is compacted in the summary, as before.
        let journal = Journal::default();
        let s = journal.open("d", "m", "respond");
        journal.record_frame(
            s,
            1,
            EntryKind::Client,
            "x",
            super::super::Frame::Borrowed(r#"{"type": "x"}"#),
        );
        assert_eq!(journal.snapshot()[0].entries[0].detail, r#"{"type":"x"}"#);
    }

    /// A kept session's slot, to hold its lock as a reader would.
    fn slot_of(journal: &Journal, session: u64) -> Arc<Slot> {
        journal.store.inner().slot(session).cloned().expect("kept")
    }

    /// Waits for `done` up to a generous deadline (no timing is asserted
    /// beyond "it did not hang").
    fn within_deadline(done: &std::sync::mpsc::Receiver<()>, what: &str) {
        done.recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{what} did not finish within 10 s"));
    }

    #[test]
    fn a_reader_inside_one_session_never_holds_up_the_others() {
        let journal = Journal::default();
        let a = journal.open("d", "m", "respond");
        let b = journal.open("d", "m", "respond");
        // A reader is inside session `a` (holding its lock, as if the OS had
        // preempted it mid-copy), and `a` itself has a frame waiting on it.
        let slot = slot_of(&journal, a);
        let reading = slot.log();
        let waiting = {
            let journal = journal.clone();
            std::thread::spawn(move || note(&journal, a, "waits for the reader"))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        // Every other session goes on: frames, a new session, stats.
        let (done, finished) = std::sync::mpsc::channel();
        let others = {
            let journal = journal.clone();
            std::thread::spawn(move || {
                note(&journal, b, "goes on");
                let c = journal.open("d", "m", "respond");
                note(&journal, c, "goes on too");
                let _ = journal.stats();
                let _ = done.send(());
            })
        };
        within_deadline(&finished, "sessions other than the one being read");
        drop(reading);
        waiting.join().expect("joined");
        others.join().expect("joined");
        // The frame of the session being read waited, and that was counted.
        let stats = journal.stats();
        assert!(stats.write_lock_waits >= 1, "{stats:?}");
        assert!(stats.write_lock_wait_max_us >= 10_000, "{stats:?}");
        let kept = journal.snapshot();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].entries[0].detail, "waits for the reader");
        assert_eq!(kept[1].entries[0].detail, "goes on");
    }

    #[test]
    fn a_read_copies_pointers_and_a_live_copy_does_not_block_pushes() {
        let journal = Journal::default();
        let s = journal.open("d", "m", "respond");
        for i in 0..3 {
            note(&journal, s, &format!("before {i}"));
        }
        let (_, _, copied) = journal.store.one(s, 0).expect("kept");
        // The copy shares the stored entries: no string was cloned.
        {
            let log = slot_of(&journal, s).log().entries.clone();
            assert_eq!(copied.len(), log.len());
            assert!(copied.iter().zip(&log).all(|(c, l)| Arc::ptr_eq(c, l)));
        }
        // While the copy is alive (being rendered), the session goes on.
        let (done, finished) = std::sync::mpsc::channel();
        let pusher = {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    note(&journal, s, &format!("after {i}"));
                }
                let _ = done.send(());
            })
        };
        within_deadline(&finished, "pushes while a copy is alive");
        pusher.join().expect("joined");
        assert_eq!(copied.len(), 3, "a copy does not see later entries");
        assert_eq!(journal.session(s, 0).expect("kept").entries.len(), 103);
    }

    #[test]
    fn kept_bytes_stay_exact_with_concurrent_pushes_reads_and_evictions() {
        let caps = JournalCaps {
            max_sessions: 8,
            max_bytes: 6_000,
        };
        let journal = Journal::new(JournalMode::Summary, caps);
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for round in 0..50 {
                        let s = journal.open("d", "m", "respond");
                        for n in 0..10 {
                            note(&journal, s, &"x".repeat(10 + (w * 31 + round * 7 + n) % 90));
                        }
                        journal.close(s);
                    }
                })
            })
            .collect();
        let reader = {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let _ = journal.sessions(0, 0, 100);
                    let _ = journal.page(0, 100);
                }
            })
        };
        for writer in writers {
            writer.join().expect("joined");
        }
        reader.join().expect("joined");
        let stats = journal.stats();
        let inner = journal.store.inner();
        let counted: usize = inner.sessions.iter().map(|slot| slot.log().bytes).sum();
        let summed: usize = inner
            .sessions
            .iter()
            .flat_map(|slot| {
                slot.log()
                    .entries
                    .iter()
                    .map(|e| e.bytes())
                    .collect::<Vec<_>>()
            })
            .sum();
        assert_eq!(stats.bytes, counted, "{stats:?}");
        assert_eq!(stats.bytes, summed, "{stats:?}");
        assert!(stats.bytes <= caps.max_bytes, "{stats:?}");
        assert!(stats.sessions <= caps.max_sessions, "{stats:?}");
        assert_eq!(stats.opened, 200);
        assert_eq!(stats.evicted_sessions + stats.sessions as u64, 200);
    }
}
