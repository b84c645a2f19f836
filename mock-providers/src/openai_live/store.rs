//! Stored GPT-Live sessions (`store: true`), shared by every connection of
//! one mock, so that `…/live/sessions/{id}/fork` can start a new session
//! from one: its resolved configuration and its conversation so far (the
//! fork gets none of the in-flight reply or delegated calls).
//!
//! The store is bounded, as everything a long-running mock keeps: at most
//! [`StoreCaps::sessions`] sessions (storing one more evicts the session
//! stored longest ago) and [`StoreCaps::messages`] messages per session
//! (one more drops that session's oldest). Each eviction is logged with
//! `tracing` and counted, so a test or an operator
//! can see that a fork may find less than was said; the session whose
//! storing evicted journals it too (`store.evicted`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use understudy_adapters::openai_live::wire::session::SessionResource;

/// One stored session: its configuration and who said what, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The resolved configuration.
    pub session: SessionResource,
    /// `(role, text)` of every message kept (the newest
    /// [`StoreCaps::messages`]).
    pub history: Vec<(String, String)>,
}

/// How much a [`LiveStore`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreCaps {
    /// Stored sessions kept; the one stored longest ago goes first.
    pub sessions: usize,
    /// Messages kept per session; the oldest go first.
    pub messages: usize,
}

impl Default for StoreCaps {
    /// 1,024 sessions of up to 1,000 messages: far more than a test run
    /// forks from, and a few tens of MiB of text at most.
    fn default() -> Self {
        StoreCaps {
            sessions: 1_024,
            messages: 1_000,
        }
    }
}

/// What a [`LiveStore`] has evicted to stay within its caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evictions {
    /// Whole sessions evicted (forks of them are refused as unknown).
    pub sessions: u64,
    /// Messages dropped from the front of kept sessions' histories.
    pub messages: u64,
}

#[derive(Debug, Default)]
struct Stored {
    sessions: HashMap<String, StoredSession>,
    /// Ids in the order they were first stored (eviction order).
    order: VecDeque<String>,
    evicted: Evictions,
}

/// Every stored session of a running mock, by id, within [`StoreCaps`].
#[derive(Debug, Clone)]
pub struct LiveStore {
    stored: Arc<Mutex<Stored>>,
    caps: StoreCaps,
}

impl LiveStore {
    /// An empty store that keeps at most `caps` (each at least one).
    pub fn with_caps(caps: StoreCaps) -> Self {
        LiveStore {
            stored: Arc::default(),
            caps: StoreCaps {
                sessions: caps.sessions.max(1),
                messages: caps.messages.max(1),
            },
        }
    }

    /// Saves (or replaces) a session, evicting the session stored longest
    /// ago when the store is full; returns the ids evicted, for the
    /// session's journal.
    pub fn put(&self, mut stored: StoredSession) -> Vec<String> {
        let mut evicted = Vec::new();
        let mut guard = self.lock();
        let id = stored.session.id.clone();
        let dropped = trim_history(&mut stored.history, self.caps.messages);
        guard.evicted.messages += dropped;
        if guard.sessions.insert(id.clone(), stored).is_none() {
            guard.order.push_back(id);
        }
        while guard.order.len() > self.caps.sessions {
            let Some(oldest) = guard.order.pop_front() else {
                break;
            };
            guard.sessions.remove(&oldest);
            guard.evicted.sessions += 1;
            tracing::warn!(
                session = %oldest,
                cap = self.caps.sessions,
                evicted = guard.evicted.sessions,
                "GPT-Live store full: evicted the session stored longest ago (forks of it are now refused)"
            );
            evicted.push(oldest);
        }
        evicted
    }

    /// Adds a message to a stored session's history (ignored for others),
    /// dropping its oldest message past the cap; returns how many were
    /// dropped, for the session's journal.
    pub fn record(&self, id: &str, role: &str, text: &str) -> u64 {
        let mut guard = self.lock();
        let cap = self.caps.messages;
        let Some(stored) = guard.sessions.get_mut(id) else {
            return 0;
        };
        stored.history.push((role.to_owned(), text.to_owned()));
        let dropped = trim_history(&mut stored.history, cap);
        if dropped > 0 {
            guard.evicted.messages += dropped;
            tracing::warn!(
                session = %id,
                cap,
                evicted = guard.evicted.messages,
                "GPT-Live store: a stored session's history is full; dropped its oldest message"
            );
        }
        dropped
    }

    /// A stored session, if `id` is one still kept.
    pub fn get(&self, id: &str) -> Option<StoredSession> {
        self.lock().sessions.get(id).cloned()
    }

    /// How many sessions are stored now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// What has been evicted so far to stay within the caps.
    #[cfg(test)]
    fn evicted(&self) -> Evictions {
        self.lock().evicted
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stored> {
        self.stored.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops the oldest messages past `cap`; returns how many.
fn trim_history(history: &mut Vec<(String, String)>, cap: usize) -> u64 {
    let excess = history.len().saturating_sub(cap);
    history.drain(..excess);
    excess as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str) -> StoredSession {
        StoredSession {
            session: SessionResource {
                id: id.to_owned(),
                ..SessionResource::default()
            },
            history: vec![],
        }
    }

    #[test]
    fn a_full_store_evicts_the_session_stored_longest_ago_and_counts_it() {
        let store = LiveStore::with_caps(StoreCaps {
            sessions: 2,
            messages: 10,
        });
        assert!(store.put(session("a")).is_empty());
        store.put(session("b"));
        // Replacing a stored session does not make room or evict.
        store.put(session("a"));
        assert_eq!(store.evicted(), Evictions::default());
        assert_eq!(store.put(session("c")), ["a"]);
        assert_eq!(store.len(), 2);
        assert!(store.get("a").is_none(), "the oldest went");
        assert!(store.get("b").is_some() && store.get("c").is_some());
        assert_eq!(store.evicted().sessions, 1);
    }

    #[test]
    fn a_full_history_drops_its_oldest_messages_and_counts_them() {
        let store = LiveStore::with_caps(StoreCaps {
            sessions: 4,
            messages: 3,
        });
        store.put(session("a"));
        let dropped: Vec<u64> = (0..5)
            .map(|i| store.record("a", "user", &format!("m{i}")))
            .collect();
        assert_eq!(dropped, [0, 0, 0, 1, 1]);
        assert_eq!(store.record("unknown", "user", "ignored"), 0);
        let kept: Vec<String> = store
            .get("a")
            .unwrap()
            .history
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        assert_eq!(kept, ["m2", "m3", "m4"]);
        assert_eq!(store.evicted().messages, 2);
        assert_eq!(store.evicted().sessions, 0);
    }

    #[test]
    fn caps_of_zero_still_keep_one() {
        let store = LiveStore::with_caps(StoreCaps {
            sessions: 0,
            messages: 0,
        });
        store.put(session("a"));
        store.record("a", "user", "hi");
        assert_eq!(store.len(), 1);
        assert_eq!(store.get("a").unwrap().history.len(), 1);
    }
}
