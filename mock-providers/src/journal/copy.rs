//! What a journal read copies out under the journal's locks, and rendering
//! it afterwards without any lock.
//!
//! A read is split in two so that the thread that renders (the
//! `journal-reader` thread, at the lowest priority) never holds a journal
//! lock: the copy — `Arc` clones and a few counters, microseconds — runs on
//! the requesting task at normal priority, the rendering (summarising frames,
//! writing JSON, decoding audio) on the reader thread. A reader preempted
//! while holding a lock would otherwise make every live session that needs
//! that lock wait until the OS runs the lowest-priority thread again
//! (priority inversion; `understudy-bench journal-reads` saw a session's
//! write wait 20 ms behind one).

use super::export;
use super::store::{Copied, Listed};
use super::{ExportError, JournalMode, SessionAudio, SessionJournal, SessionSummary};

/// One kept session, copied out ([`super::Journal::copy_session`]).
#[derive(Debug)]
pub(crate) struct SessionCopy {
    number: u64,
    mode: JournalMode,
    copied: Copied,
}

impl SessionCopy {
    pub(super) fn new(number: u64, mode: JournalMode, copied: Copied) -> Self {
        SessionCopy {
            number,
            mode,
            copied,
        }
    }

    /// The session's journal with `mode`'s detail (frames summarised now).
    pub(crate) fn render(&self) -> SessionJournal {
        let (header, closed, entries) = &self.copied;
        SessionJournal {
            session: header.session,
            dialect: header.dialect.clone(),
            model: header.model.clone(),
            engine: header.engine.clone(),
            closed: *closed,
            entries: entries.iter().map(|e| e.render(self.mode)).collect(),
        }
    }

    /// The audio the session carried in `direction`, as WAV.
    pub(crate) fn audio(
        &self,
        direction: understudy_fixtures::Direction,
    ) -> Result<SessionAudio, ExportError> {
        let (header, _, entries) = &self.copied;
        export::audio(self.number, &header.dialect, self.mode, entries, direction)
    }

    /// The session as a `synthesized` cassette.
    pub(crate) fn cassette(&self) -> Result<understudy_fixtures::Cassette, ExportError> {
        let (header, _, entries) = &self.copied;
        export::cassette(
            self.number,
            &header.dialect,
            &header.model,
            &header.engine,
            self.mode,
            entries,
        )
    }
}

/// A page of the session list, copied out ([`super::Journal::copy_list`]).
#[derive(Debug)]
pub(crate) struct ListCopy(pub(super) Vec<Listed>);

impl ListCopy {
    /// One line per session.
    pub(crate) fn render(&self) -> Vec<SessionSummary> {
        self.0.iter().map(Listed::render).collect()
    }
}

/// A page of whole sessions, copied out ([`super::Journal::copy_page`]).
#[derive(Debug)]
pub(crate) struct PageCopy(pub(super) Vec<SessionCopy>);

impl PageCopy {
    /// Every session's journal.
    pub(crate) fn render(&self) -> Vec<SessionJournal> {
        self.0.iter().map(SessionCopy::render).collect()
    }
}
