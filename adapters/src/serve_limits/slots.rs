//! The session cap: a fixed number of slots, one per live session.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Default cap on concurrent sessions per server.
///
/// Chosen from the measurements on a 2-core machine (issue 19): replay
/// frames stay in order up to 4,000 sessions but real-time respond-engine
/// streams keep a 20 ms p99 only to ~600, and 2,000 idle agent sessions
/// held ~870 MB and 6,000 descriptors. 2,000 keeps the descriptors under a
/// common 4,096–20,000 `ulimit -n` and the memory under a gigabyte, and is
/// well above any one test's needs; `--max-sessions` changes it.
pub const DEFAULT_MAX_SESSIONS: usize = 2_000;

/// A server's session slots (cheap to clone: they share one count).
#[derive(Debug, Clone)]
pub struct SessionSlots {
    slots: Arc<Semaphore>,
    max: usize,
}

/// One taken slot; the session holds it and gives it back when dropped.
#[derive(Debug)]
pub struct SessionSlot {
    _permit: OwnedSemaphorePermit,
}

impl SessionSlots {
    /// `max` slots (at least one; tokio caps a semaphore well above any
    /// reachable session count).
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        SessionSlots {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A slot if one is free: no waiting, no allocation besides the
    /// permit, so refusing past the cap costs next to nothing.
    pub fn try_take(&self) -> Option<SessionSlot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| SessionSlot { _permit: permit })
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Sessions holding a slot now.
    pub fn in_use(&self) -> usize {
        self.max - self.slots.available_permits()
    }
}

impl Default for SessionSlots {
    fn default() -> Self {
        SessionSlots::new(DEFAULT_MAX_SESSIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_run_out_and_come_back() {
        let slots = SessionSlots::new(2);
        let a = slots.try_take().expect("first");
        let b = slots.try_take().expect("second");
        assert!(slots.try_take().is_none(), "a third past a cap of 2");
        assert_eq!(slots.in_use(), 2);
        drop(a);
        assert_eq!(slots.in_use(), 1);
        assert!(slots.try_take().is_some());
        drop(b);
        assert_eq!(SessionSlots::new(0).max(), 1);
    }
}
