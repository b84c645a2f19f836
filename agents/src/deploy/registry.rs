//! The live sessions of a deployment server, keyed by the route's
//! `{user_id}/{session_id}`.

use super::error::ClientFault;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use understudy_adapters::ProviderSpec;

/// One live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// From the route.
    pub user_id: String,
    /// From the route.
    pub session_id: String,
    /// The agent serving it.
    pub agent_id: String,
    /// The name the front end gave the agent.
    pub agent_name: String,
    /// The provider it runs on.
    pub provider: &'static ProviderSpec,
    /// The model it asked for.
    pub model: String,
}

#[derive(Debug, Default)]
struct Inner {
    live: Mutex<HashMap<(String, String), SessionInfo>>,
    created: AtomicU64,
}

/// The sessions of one server: shared by every connection, cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SessionRegistry {
    inner: Arc<Inner>,
}

impl SessionRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a new session. A `{user_id}/{session_id}` already live (on
    /// another socket) is refused with `session_active`. The session stays
    /// registered until the returned guard is dropped.
    pub fn register(&self, info: SessionInfo) -> Result<Registration, ClientFault> {
        let key = (info.user_id.clone(), info.session_id.clone());
        let mut live = self.live();
        if live.contains_key(&key) {
            return Err(ClientFault::new(
                "session_active",
                format!(
                    "session {}/{} is already live on another connection",
                    key.0, key.1
                ),
            ));
        }
        live.insert(key.clone(), info);
        self.inner.created.fetch_add(1, Ordering::Relaxed);
        Ok(Registration {
            registry: self.clone(),
            key,
        })
    }

    /// The live sessions, in no particular order.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.live().values().cloned().collect()
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.live().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many sessions were ever created.
    pub fn created(&self) -> u64 {
        self.inner.created.load(Ordering::Relaxed)
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), SessionInfo>> {
        self.inner
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps a session registered; dropping it removes the session.
#[derive(Debug)]
pub struct Registration {
    registry: SessionRegistry,
    key: (String, String),
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.live().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(user: &str, session: &str) -> SessionInfo {
        SessionInfo {
            user_id: user.into(),
            session_id: session.into(),
            agent_id: "a".into(),
            agent_name: "A".into(),
            provider: understudy_adapters::registry::provider("openai").unwrap(),
            model: "m".into(),
        }
    }

    #[test]
    fn a_path_is_live_once_and_freed_on_drop() {
        let registry = SessionRegistry::new();
        let first = registry.register(info("u", "s")).unwrap();
        let other = registry.register(info("u", "t")).unwrap();
        assert_eq!(
            registry.register(info("u", "s")).unwrap_err().code,
            "session_active"
        );
        assert_eq!(registry.len(), 2);
        drop(first);
        let again = registry.register(info("u", "s")).unwrap();
        assert_eq!((registry.len(), registry.created()), (2, 3));
        drop((again, other));
        assert!(registry.is_empty());
    }
}
