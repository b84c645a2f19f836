//! Stored GPT-Live sessions (`store: true`), shared by every connection of
//! one mock, so that `…/live/sessions/{id}/fork` can start a new session
//! from one: its resolved configuration and its conversation so far (the
//! fork gets none of the in-flight reply or delegated calls).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use understudy_adapters::openai_live::wire::session::SessionResource;

/// One stored session: its configuration and who said what, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The resolved configuration.
    pub session: SessionResource,
    /// `(role, text)` of every message so far.
    pub history: Vec<(String, String)>,
}

/// Every stored session of a running mock, by id.
#[derive(Debug, Clone, Default)]
pub struct LiveStore {
    sessions: Arc<Mutex<HashMap<String, StoredSession>>>,
}

impl LiveStore {
    /// Saves (or replaces) a session.
    pub fn put(&self, stored: StoredSession) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.insert(stored.session.id.clone(), stored);
    }

    /// Adds a message to a stored session's history (ignored for others).
    pub fn record(&self, id: &str, role: &str, text: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stored) = sessions.get_mut(id) {
            stored.history.push((role.to_owned(), text.to_owned()));
        }
    }

    /// A stored session, if `id` is one.
    pub fn get(&self, id: &str) -> Option<StoredSession> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.get(id).cloned()
    }
}
