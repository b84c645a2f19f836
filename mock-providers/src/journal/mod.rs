//! The session journal: what each client sent and what the mock answered.
//!
//! Every mock session records its traffic (audio summarised unless the mode
//! is [`JournalMode::Full`], which keeps it for the WAV and cassette routes) and
//! the engine's notes (a replay mismatch, a VAD decision, a wrong sample rate).
//! Tests read it in-process with `MockServer::journal()`; over HTTP it is
//! `GET /__understudy/journal` (paged), cleared by `DELETE`, and its counters
//! are at `GET /__understudy/journal/stats`.
//!
//! It stays off the hot path: a frame is kept as the shared bytes the session
//! already sent (an `Arc` clone), or as one copy of what it received, and
//! only summarised (its audio cut by a scan, [`audio`]) when someone reads
//! it; never parsed or scanned as it passes. It is bounded ([`JournalCaps`]): past the caps the oldest sessions
//! are evicted and counted. A read copies `Arc`s out under the lock and builds
//! its JSON after letting go, so reading never stalls a session. A live feed
//! ([`Journal::subscribe`], `GET /__understudy/stream`) tells subscribers of
//! new sessions, notes and ends without ever making a session wait.

mod audio;
mod copy;
mod export;
mod grade;
mod limits;
mod live;
mod mode;
mod reader;
mod reclaim;
mod store;
mod waits;

pub use export::{ExportError, SessionAudio};
pub use grade::ReplayGrade;
pub use limits::{ReadLimits, TooManySubscribers};
pub use live::{LiveEvent, Received, Subscription, DEFAULT_STREAM_BUFFER};
pub use mode::{JournalCaps, JournalMode, UnknownJournalMode};
pub(crate) use reader::ReadError;
pub use store::{JournalStats, SessionSummary};

pub(crate) use copy::{ListCopy, PageCopy, SessionCopy};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::{Detail, Store, Stored};

/// Who produced a journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A frame the client sent.
    Client,
    /// A frame the mock sent.
    Server,
    /// Something the engine wants a reader to know.
    Note,
}

/// One line of a session's journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Milliseconds since the session connected.
    pub t_ms: u64,
    /// Who produced it.
    pub kind: EntryKind,
    /// The event type (for frames) or a short note category.
    pub label: String,
    /// Details: the frame (audio summarised) or the note text.
    pub detail: String,
}

/// The journal of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionJournal {
    /// Server-side session number, in connection order from 1.
    pub session: u64,
    /// Which protocol dialect the session spoke.
    pub dialect: String,
    /// Model the client asked for.
    pub model: String,
    /// Engine that served it (`respond` or `replay:<cassette>`).
    pub engine: String,
    /// Whether the session has ended.
    pub closed: bool,
    /// The entries, in order.
    pub entries: Vec<JournalEntry>,
}

impl SessionJournal {
    /// Entries of one kind with a given label.
    pub fn find(&self, kind: EntryKind, label: &str) -> impl Iterator<Item = &JournalEntry> {
        let label = label.to_owned();
        self.entries
            .iter()
            .filter(move |e| e.kind == kind && e.label == label)
    }
}

/// A frame as the session has it, handed to [`Journal::record_frame`].
pub(crate) enum Frame<'a> {
    /// Text the session already holds in an `Arc` (kept by reference).
    Shared(&'a Arc<str>),
    /// Bytes the session already holds in an `Arc` (Gemini's binary JSON).
    SharedBytes(&'a Arc<[u8]>),
    /// Text borrowed from the socket (copied whole, its audio cut when read).
    Borrowed(&'a str),
}

/// Shared, bounded store of every session's journal; cloning shares it.
#[derive(Debug, Clone)]
pub struct Journal {
    store: Arc<Store>,
    /// Copies under the locks, at normal priority.
    copier: reader::Reader,
    /// Renders what was copied, at the lowest priority.
    reader: reader::Reader,
}

impl Default for Journal {
    /// [`JournalMode::Summary`] within the default [`JournalCaps`].
    fn default() -> Self {
        Journal::new(JournalMode::default(), JournalCaps::default())
    }
}

impl Journal {
    /// An empty journal keeping `mode`'s detail within `caps`.
    pub fn new(mode: JournalMode, caps: JournalCaps) -> Self {
        Self::with_stream_buffer(mode, caps, DEFAULT_STREAM_BUFFER)
    }

    /// An empty journal whose live-feed subscribers may fall `buffer`
    /// events behind before they lose some (see [`Journal::subscribe`]).
    pub fn with_stream_buffer(mode: JournalMode, caps: JournalCaps, buffer: usize) -> Self {
        Self::with_limits(mode, caps, buffer, ReadLimits::default())
    }

    /// An empty journal whose reads and live-feed subscribers are held to
    /// `limits` (a read past its deadline is abandoned; subscribers past the
    /// cap are refused), with a live-feed buffer of `buffer` events.
    pub fn with_limits(
        mode: JournalMode,
        caps: JournalCaps,
        buffer: usize,
        limits: ReadLimits,
    ) -> Self {
        Journal {
            store: Arc::new(Store::new(mode, caps, buffer, limits.max_subscribers)),
            copier: reader::Reader::copier(limits.read_deadline),
            reader: reader::Reader::new(limits.read_deadline),
        }
    }

    /// Runs a read in two steps: `copy` on the journal's copy thread, at
    /// normal priority (it takes the journal's locks for `Arc` clones only:
    /// see [`copy`]), then `render` over what it copied on the journal's
    /// reader thread, at the lowest priority, so that reading (however
    /// often) never takes CPU a live session wants and no low-priority
    /// thread — the reader, or the inspector's runtime the request came in
    /// on — ever holds a lock a session waits for; see [`ReadError`] for
    /// when a step does not run (each has the read deadline).
    pub(crate) async fn read<C, T, F>(
        &self,
        copy: impl FnOnce(&Journal) -> C + Send + 'static,
        render: F,
    ) -> Result<T, ReadError>
    where
        C: Send + 'static,
        T: Send + 'static,
        F: FnOnce(C) -> T + Send + 'static,
    {
        let copied = self.locked(copy).await?;
        self.reader.run(move || render(copied)).await
    }

    /// Runs `work`, which takes the journal's locks (a copy, the stats,
    /// clearing), on the journal's copy thread at normal priority, for
    /// callers that may run at low priority (the inspector's runtime).
    pub(crate) async fn locked<T>(
        &self,
        work: impl FnOnce(&Journal) -> T + Send + 'static,
    ) -> Result<T, ReadError>
    where
        T: Send + 'static,
    {
        let journal = self.clone();
        self.copier.run(move || work(&journal)).await
    }

    /// Subscribes to the live feed from now on: sessions opening, notes,
    /// sessions ending, and (if `frames`) a one-line summary per frame.
    pub fn subscribe(&self, frames: bool) -> Subscription {
        self.store.subscribe(frames)
    }

    /// Subscribes as [`Journal::subscribe`] does unless the feed already
    /// has as many subscribers as [`ReadLimits::max_subscribers`] allows
    /// (every subscriber counts, in-process ones too).
    pub fn try_subscribe(&self, frames: bool) -> Result<Subscription, TooManySubscribers> {
        self.store.try_subscribe(frames)
    }

    /// Starts a new session's journal and returns its number.
    pub fn open(&self, dialect: &str, model: &str, engine: &str) -> u64 {
        self.store.open(dialect, model, engine)
    }

    /// Appends an entry to a session; a note that something went wrong (see
    /// [`is_problem`]) is also a `warn` line in the log, whatever the mode.
    pub fn record(&self, session: u64, entry: JournalEntry) {
        if entry.kind == EntryKind::Note && is_problem(&entry.label) {
            let engine = self.store.engine_of(session).unwrap_or_default();
            tracing::warn!(session, %engine, label = %entry.label, "{}", entry.detail);
        }
        if self.store.mode() == JournalMode::Off {
            return;
        }
        self.store.push(
            session,
            Stored {
                t_ms: entry.t_ms,
                kind: entry.kind,
                label: Arc::from(entry.label),
                detail: Detail::Text(entry.detail),
            },
        );
    }

    /// Appends a frame to a session without parsing or scanning it: a frame
    /// the session holds is kept by reference, one borrowed from the socket
    /// is copied as it is; either is summarised (its audio cut) when read.
    pub(crate) fn record_frame(
        &self,
        session: u64,
        t_ms: u64,
        kind: EntryKind,
        label: &str,
        frame: Frame<'_>,
    ) {
        if self.store.mode() == JournalMode::Off {
            return;
        }
        if self.store.mode() == JournalMode::Full {
            // Full mode keeps the frame whole, audio included (for the WAV
            // and cassette routes); it is still only an `Arc` clone here.
            let detail = match frame {
                Frame::Shared(text) => Detail::Shared(Arc::clone(text)),
                Frame::SharedBytes(bytes) => Detail::Bytes(Arc::clone(bytes)),
                Frame::Borrowed(text) => Detail::Shared(Arc::from(text)),
            };
            self.store.push(
                session,
                Stored {
                    t_ms,
                    kind,
                    label: Arc::from(label),
                    detail,
                },
            );
            return;
        }
        let detail = match frame {
            // What the session already holds costs nothing to keep: its
            // audio is cut when it is read (and counted against the byte
            // cap meanwhile). Scanning every outgoing frame here was a third
            // of the replay server's CPU (understudy-bench replay-throughput).
            Frame::Shared(text) => Detail::Shared(Arc::clone(text)),
            Frame::SharedBytes(bytes) => Detail::Bytes(Arc::clone(bytes)),
            // A client frame is copied whole (one copy, no scan) and cut
            // like a sent one when read: scanning every inbound append for
            // its audio here was 7.6 % of the respond engine's CPU at 400
            // real-time sessions (understudy-bench respond-capacity).
            Frame::Borrowed(text) => Detail::Shared(Arc::from(text)),
        };
        self.store.push(
            session,
            Stored {
                t_ms,
                kind,
                label: Arc::from(label),
                detail,
            },
        );
    }

    /// Marks a session as ended.
    pub fn close(&self, session: u64) {
        self.store.close(session);
    }

    /// A copy of every kept session's journal, oldest first.
    pub fn snapshot(&self) -> Vec<SessionJournal> {
        self.page(0, usize::MAX)
    }

    /// At most `limit` kept sessions from the `offset`-th, oldest first.
    pub fn page(&self, offset: usize, limit: usize) -> Vec<SessionJournal> {
        self.copy_page(offset, limit).render()
    }

    /// What [`Journal::page`] shows, copied out (`Arc`s only), to render
    /// without a lock.
    pub(crate) fn copy_page(&self, offset: usize, limit: usize) -> PageCopy {
        let mode = self.store.mode();
        PageCopy(
            self.store
                .copy_out(offset, limit)
                .into_iter()
                .map(|copied| SessionCopy::new(copied.0.session, mode, copied))
                .collect(),
        )
    }

    /// What [`Journal::sessions`] shows, copied out, to render without a lock.
    pub(crate) fn copy_list(&self, since: u64, offset: usize, limit: usize) -> ListCopy {
        ListCopy(self.store.listed(since, offset, limit))
    }

    /// One kept session with its entries from `since_ms` on, copied out
    /// (`Arc`s only), to render or export without a lock.
    pub(crate) fn copy_session(&self, session: u64, since_ms: u64) -> Option<SessionCopy> {
        let copied = self.store.one(session, since_ms)?;
        Some(SessionCopy::new(session, self.store.mode(), copied))
    }

    /// At most `limit` kept sessions numbered above `since`, from the
    /// `offset`-th, as one line each (no entries).
    #[cfg(test)]
    pub fn sessions(&self, since: u64, offset: usize, limit: usize) -> Vec<SessionSummary> {
        self.copy_list(since, offset, limit).render()
    }

    /// One kept session with its entries from `since_ms` on, if it is kept.
    #[cfg(test)]
    pub fn session(&self, session: u64, since_ms: u64) -> Option<SessionJournal> {
        Some(self.copy_session(session, since_ms)?.render())
    }

    /// The audio one kept session carried in `direction` (client to server
    /// is `in`), as WAV; only [`JournalMode::Full`] keeps audio.
    #[cfg(test)]
    pub fn audio(
        &self,
        session: u64,
        direction: understudy_fixtures::Direction,
    ) -> Result<SessionAudio, ExportError> {
        self.copy_session(session, 0)
            .ok_or(ExportError::NotKept(session))?
            .audio(direction)
    }

    /// One kept session as a `synthesized` cassette v1 (audio included in
    /// [`JournalMode::Full`] only), so that a session the respond engine
    /// served can become a fixture.
    #[cfg(test)]
    pub fn cassette(&self, session: u64) -> Result<understudy_fixtures::Cassette, ExportError> {
        self.copy_session(session, 0)
            .ok_or(ExportError::NotKept(session))?
            .cassette()
    }

    /// Forgets every session (numbering goes on; counters are kept).
    pub fn clear(&self) {
        self.store.clear();
    }

    /// What the journal holds and has evicted.
    pub fn stats(&self) -> JournalStats {
        self.store.stats()
    }

    /// The detail this journal keeps.
    pub fn mode(&self) -> JournalMode {
        self.store.mode()
    }
}

/// Whether a note with this label says a replay went wrong or a session was
/// refused (`replay.mismatch`, `replay.unexpected`, `replay.none`, `refused`,
/// …): those are logged at `warn`, since a user debugging a replay looks at
/// the server's log first.
pub(crate) fn is_problem(label: &str) -> bool {
    label.starts_with("replay.") || label == "refused"
}

/// Most characters of a frame shown in [`JournalMode::Summary`].
const SUMMARY_CHARS: usize = 512;

/// A frame for the journal's summary: compact JSON, audio payloads replaced
/// by their size, at most [`SUMMARY_CHARS`] characters.
pub(crate) fn summarise(text: &str) -> String {
    let stripped = audio::strip(text);
    let text = stripped.as_deref().unwrap_or(text);
    let compact = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => value.to_string(),
        Err(_) => return text.chars().take(SUMMARY_CHARS).collect(),
    };
    if compact.len() > SUMMARY_CHARS {
        let cut: String = compact.chars().take(SUMMARY_CHARS).collect();
        format!("{cut}…")
    } else {
        compact
    }
}

#[cfg(test)]
mod tests;
