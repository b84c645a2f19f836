//! A count of the journal's write path waiting on a lock.
//!
//! A live session's frame goes through [`Store::push`](super::store::Store)
//! and must never wait for a reader; whether it does is measured here rather
//! than guessed. A lock is first tried without waiting (the common case costs
//! one `try_lock`); only when another thread holds it is the wait timed and
//! counted, so the counter costs nothing when there is nothing to count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Instant;

/// Waits counted: how many, how long in all, the longest.
#[derive(Debug, Default)]
pub(super) struct LockWaits {
    count: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl LockWaits {
    /// Locks `mutex`, counting and timing the wait if it was held elsewhere
    /// (a poisoned lock is taken as it is: the journal's data stays usable).
    pub(super) fn lock<'a, T>(&self, mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        match mutex.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                let started = Instant::now();
                let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
                let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                self.count.fetch_add(1, Ordering::Relaxed);
                self.total_ns.fetch_add(ns, Ordering::Relaxed);
                self.max_ns.fetch_max(ns, Ordering::Relaxed);
                guard
            }
        }
    }

    /// Waits so far.
    pub(super) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Their total, in microseconds.
    pub(super) fn total_us(&self) -> u64 {
        self.total_ns.load(Ordering::Relaxed) / 1_000
    }

    /// The longest, in microseconds.
    pub(super) fn max_us(&self) -> u64 {
        self.max_ns.load(Ordering::Relaxed) / 1_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_a_wait_on_a_held_lock_is_counted_and_timed() {
        let waits = LockWaits::default();
        let mutex = Mutex::new(0);
        *waits.lock(&mutex) += 1;
        assert_eq!(waits.count(), 0, "a free lock is not a wait");
        let held = mutex.lock().unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| *waits.lock(&mutex) += 1);
            std::thread::sleep(Duration::from_millis(30));
            drop(held);
            waiter.join().unwrap();
        });
        assert_eq!(waits.count(), 1);
        assert!(waits.max_us() >= 10_000, "{} µs", waits.max_us());
        assert_eq!(waits.total_us(), waits.max_us());
        assert_eq!(*mutex.lock().unwrap(), 2);
    }
}
