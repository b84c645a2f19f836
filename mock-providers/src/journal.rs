//! The session journal: what each client sent and what the mock answered.
//!
//! Every mock session records its traffic (audio summarised, never stored) and
//! the engine's notes (a replay mismatch, a VAD decision, a wrong sample rate).
//! Tests read it in-process with `MockServer::journal()`; anyone can read it over
//! HTTP at `GET /__understudy/journal`.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};

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

/// Shared, append-only store of every session's journal.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    sessions: Arc<Mutex<Vec<SessionJournal>>>,
}

impl Journal {
    /// Starts a new session's journal and returns its number.
    pub fn open(&self, dialect: &str, model: &str, engine: &str) -> u64 {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let session = sessions.len() as u64 + 1;
        sessions.push(SessionJournal {
            session,
            dialect: dialect.to_owned(),
            model: model.to_owned(),
            engine: engine.to_owned(),
            closed: false,
            entries: Vec::new(),
        });
        session
    }

    /// Appends an entry to a session.
    pub fn record(&self, session: u64, entry: JournalEntry) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(journal) = sessions.get_mut(session as usize - 1) {
            journal.entries.push(entry);
        }
    }

    /// Marks a session as ended.
    pub fn close(&self, session: u64) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(journal) = sessions.get_mut(session as usize - 1) {
            journal.closed = true;
        }
    }

    /// A copy of every session's journal.
    pub fn snapshot(&self) -> Vec<SessionJournal> {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
