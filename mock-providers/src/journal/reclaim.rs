//! Freeing what the journal lets go of, off the live path.
//!
//! An evicted session can hold thousands of entries (a `summary` journal
//! keeps the audio frames the mock sent until they are read; a `full` one
//! keeps everything), and freeing them is allocator work — heap
//! consolidation, returning pages to the OS — that can take milliseconds.
//! Eviction happens when a session's frame pushes the journal past its caps,
//! under the journal-wide lock every session's next frame takes: freed there,
//! the cost lands on that session and on every session waiting for the lock.
//!
//! So eviction (and `DELETE`) only takes sessions and entries out under the
//! lock and hands them here, and one `journal-reclaim` thread at the lowest
//! priority drops them. At most [`QUEUE`] batches wait; past that, or where
//! the OS refuses the thread, a batch is dropped by its caller after the
//! lock is let go, and counted ([`Reclaimer::inline`]) — never kept.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};

/// Most batches waiting for the reclaim thread.
pub(super) const QUEUE: usize = 256;

/// Something to drop.
type Garbage = Box<dyn Send>;

/// The reclaim thread, started with the first batch; it ends when the
/// reclaimer is dropped (its queue's only sender goes).
#[derive(Debug, Default)]
pub(super) struct Reclaimer {
    queue: OnceLock<Option<Mutex<SyncSender<Garbage>>>>,
    inline: AtomicU64,
}

impl Reclaimer {
    /// Hands `garbage` to the reclaim thread to drop, or drops it here if the
    /// queue is full or the thread could not start. Call it with no lock held.
    pub(super) fn dispose<T: Send + 'static>(&self, garbage: T) {
        let Some(queue) = self.queue.get_or_init(|| start().map(Mutex::new)) else {
            self.dropped_here(garbage);
            return;
        };
        let sent = queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .try_send(Box::new(garbage));
        match sent {
            Ok(()) => {}
            Err(TrySendError::Full(garbage) | TrySendError::Disconnected(garbage)) => {
                self.dropped_here(garbage);
            }
        }
    }

    /// Batches dropped by their caller because the thread was busy or absent.
    pub(super) fn inline(&self) -> u64 {
        self.inline.load(Ordering::Relaxed)
    }

    fn dropped_here<T>(&self, garbage: T) {
        self.inline.fetch_add(1, Ordering::Relaxed);
        drop(garbage);
    }
}

/// Starts the reclaim thread; `None` (logged) if the OS refuses a thread.
fn start() -> Option<SyncSender<Garbage>> {
    let (queue, batches) = sync_channel::<Garbage>(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("journal-reclaim".into())
        .spawn(move || {
            crate::priority::lower("the journal's reclaim thread");
            while let Ok(batch) = batches.recv() {
                drop(batch);
            }
        });
    match spawned {
        Ok(_) => Some(queue),
        Err(error) => {
            tracing::warn!(%error, "could not start the journal's reclaim thread; evicted sessions are freed where they are evicted");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Sender};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    /// Says which thread dropped it, after waiting at `gate` if it has one.
    struct Marker {
        dropped_on: Sender<Option<String>>,
        gate: Option<Arc<Barrier>>,
    }

    impl Drop for Marker {
        fn drop(&mut self) {
            if let Some(gate) = &self.gate {
                gate.wait();
            }
            let name = std::thread::current().name().map(str::to_owned);
            let _ = self.dropped_on.send(name);
        }
    }

    fn marker(dropped_on: &Sender<Option<String>>, gate: Option<Arc<Barrier>>) -> Marker {
        Marker {
            dropped_on: dropped_on.clone(),
            gate,
        }
    }

    #[test]
    fn garbage_is_dropped_on_the_reclaim_thread() {
        let reclaimer = Reclaimer::default();
        let (tx, rx) = channel();
        reclaimer.dispose(marker(&tx, None));
        let name = rx.recv_timeout(Duration::from_secs(10)).expect("dropped");
        assert_eq!(name.as_deref(), Some("journal-reclaim"));
        assert_eq!(reclaimer.inline(), 0);
    }

    #[test]
    fn a_full_queue_drops_the_batch_where_it_is_and_counts_it() {
        let reclaimer = Reclaimer::default();
        let (tx, rx) = channel();
        let gate = Arc::new(Barrier::new(2));
        // Occupy the thread, then fill the queue behind it and go past it.
        reclaimer.dispose(marker(&tx, Some(Arc::clone(&gate))));
        std::thread::sleep(Duration::from_millis(50));
        let disposed = 1 + QUEUE + 1;
        for _ in 1..disposed {
            reclaimer.dispose(marker(&tx, None));
        }
        // Nothing waited: what did not fit was dropped here, at once.
        let here = std::thread::current().name().map(str::to_owned);
        let first = rx.try_recv().expect("one batch was dropped by its caller");
        assert_eq!(first, here);
        let inline = reclaimer.inline();
        assert!(inline >= 1);
        gate.wait();
        let mut on_thread = 0;
        for _ in 1..disposed {
            let name = rx.recv_timeout(Duration::from_secs(10)).expect("dropped");
            on_thread += u64::from(name.as_deref() == Some("journal-reclaim"));
        }
        assert_eq!(
            on_thread + inline,
            disposed as u64,
            "every batch dropped once"
        );
    }
}
