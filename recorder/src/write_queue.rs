//! The bounded queue between the proxy and a session's cassette writer.
//!
//! The proxy hands every frame to the writer task through this queue. A disk
//! slower than the network must not grow memory without bound, and a
//! recording must not lose frames, so when the queue is full the proxy
//! **waits** (backpressure on the proxied connection: it stops reading from
//! either side until the writer has taken frames) instead of dropping
//! anything. The queue is bounded twice: in frames, and in bytes of payload
//! (a frame larger than the byte budget passes alone). Every wait is counted
//! and timed; the first wait of a session is logged as a warning, later ones
//! at `debug`.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

/// How much a session's write queue may hold before the proxy waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteQueueLimits {
    /// Most frames waiting for the writer (at least 1).
    pub frames: usize,
    /// Most payload bytes waiting for the writer (at least 1; capped at
    /// `u32::MAX`). One frame larger than this passes alone.
    pub bytes: usize,
}

impl WriteQueueLimits {
    /// Default frame bound: a few seconds of realtime audio deltas at 50
    /// frames a second, both ways.
    pub const DEFAULT_FRAMES: usize = 1024;
    /// Default byte bound: 8 MiB, minutes of 24 kHz PCM16, far more than a
    /// healthy disk ever falls behind.
    pub const DEFAULT_BYTES: usize = 8 << 20;

    /// These limits, each raised to at least 1 and the bytes capped at
    /// `u32::MAX` (what a semaphore can grant at once).
    fn normalised(self) -> Self {
        WriteQueueLimits {
            frames: self.frames.max(1),
            bytes: self.bytes.clamp(1, u32::MAX as usize),
        }
    }
}

impl Default for WriteQueueLimits {
    fn default() -> Self {
        WriteQueueLimits {
            frames: Self::DEFAULT_FRAMES,
            bytes: Self::DEFAULT_BYTES,
        }
    }
}

/// How the write queues of one recorder behaved, over every session so far:
/// in `record-report.json` and from [`crate::Recorder::write_queue`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteQueueStats {
    /// The frame bound of each session's queue.
    pub capacity_frames: usize,
    /// The byte bound of each session's queue.
    pub capacity_bytes: usize,
    /// Most frames one session's queue ever held.
    pub peak_frames: usize,
    /// Most payload bytes one session's queue ever held.
    pub peak_bytes: usize,
    /// How many times the proxy waited for a writer (the queue was full),
    /// counted when each wait began.
    pub waits: u64,
    /// How long the waits that ended took in all, in milliseconds.
    pub waited_ms: f64,
}

/// The counters every session's queue adds to.
#[derive(Debug, Default)]
pub(crate) struct QueueCounters {
    peak_frames: AtomicUsize,
    peak_bytes: AtomicUsize,
    waits: AtomicU64,
    waited_ns: AtomicU64,
}

impl QueueCounters {
    /// A snapshot, with the limits the queues were made with.
    pub(crate) fn stats(&self, limits: WriteQueueLimits) -> WriteQueueStats {
        let limits = limits.normalised();
        WriteQueueStats {
            capacity_frames: limits.frames,
            capacity_bytes: limits.bytes,
            peak_frames: self.peak_frames.load(Ordering::Relaxed),
            peak_bytes: self.peak_bytes.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
            waited_ms: self.waited_ns.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// The proxy's end of one session's queue; cheap to clone.
pub(crate) struct QueueSender<T> {
    tx: mpsc::Sender<(T, OwnedSemaphorePermit)>,
    budget: Arc<Semaphore>,
    limits: WriteQueueLimits,
    counters: Arc<QueueCounters>,
    /// Whether this session has waited yet (the first wait is a warning).
    waited: Arc<std::sync::atomic::AtomicBool>,
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        QueueSender {
            tx: self.tx.clone(),
            budget: Arc::clone(&self.budget),
            limits: self.limits,
            counters: Arc::clone(&self.counters),
            waited: Arc::clone(&self.waited),
        }
    }
}

/// The writer's end of one session's queue.
pub(crate) struct QueueReceiver<T> {
    rx: mpsc::Receiver<(T, OwnedSemaphorePermit)>,
    pause: Option<watch::Receiver<bool>>,
}

/// A new queue with `limits`, adding to `counters`; the writer takes nothing
/// while `pause` is `true`.
pub(crate) fn queue<T>(
    limits: WriteQueueLimits,
    counters: Arc<QueueCounters>,
    pause: Option<watch::Receiver<bool>>,
) -> (QueueSender<T>, QueueReceiver<T>) {
    let limits = limits.normalised();
    let (tx, rx) = mpsc::channel(limits.frames);
    let sender = QueueSender {
        tx,
        budget: Arc::new(Semaphore::new(limits.bytes)),
        limits,
        counters,
        waited: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };
    (sender, QueueReceiver { rx, pause })
}

impl<T> QueueSender<T> {
    /// Queues `item` of `bytes` payload bytes, waiting while the queue is
    /// full. Returns `false` when the writer is gone (nothing to wait for).
    pub(crate) async fn send(&self, item: T, bytes: usize) -> bool {
        let cost = u32::try_from(bytes.clamp(1, self.limits.bytes)).unwrap_or(u32::MAX);
        let mut started: Option<Instant> = None;
        let permit = match Arc::clone(&self.budget).try_acquire_many_owned(cost) {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return false,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                started = Some(self.wait_begins());
                match Arc::clone(&self.budget).acquire_many_owned(cost).await {
                    Ok(permit) => permit,
                    Err(_) => return false,
                }
            }
        };
        let slot = match self.tx.try_reserve() {
            Ok(slot) => slot,
            Err(mpsc::error::TrySendError::Closed(())) => return false,
            Err(mpsc::error::TrySendError::Full(())) => {
                if started.is_none() {
                    started = Some(self.wait_begins());
                }
                match self.tx.reserve().await {
                    Ok(slot) => slot,
                    Err(_) => return false,
                }
            }
        };
        slot.send((item, permit));
        let queued_bytes = self.limits.bytes - self.budget.available_permits();
        let queued_frames = self.limits.frames - self.tx.capacity();
        self.counters
            .peak_bytes
            .fetch_max(queued_bytes, Ordering::Relaxed);
        self.counters
            .peak_frames
            .fetch_max(queued_frames, Ordering::Relaxed);
        if let Some(started) = started {
            self.wait_ends(started.elapsed());
        }
        true
    }

    /// Counts (and logs) a wait as it begins, so a wait that has not ended
    /// yet (a stalled disk) shows; returns when it began.
    fn wait_begins(&self) -> Instant {
        self.counters.waits.fetch_add(1, Ordering::Relaxed);
        if self.waited.swap(true, Ordering::Relaxed) {
            tracing::debug!("the cassette writer is behind: the proxy waits");
        } else {
            tracing::warn!(
                frames = self.limits.frames,
                bytes = self.limits.bytes,
                "the cassette writer is behind (a slow disk?): the proxy waits for it instead \
                 of buffering without bound; frames are not dropped"
            );
        }
        Instant::now()
    }

    /// Adds a finished wait's length.
    fn wait_ends(&self, waited: Duration) {
        self.counters.waited_ns.fetch_add(
            u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        tracing::trace!(
            waited_us = waited.as_micros(),
            "the proxy waited for the writer"
        );
    }
}

impl<T> QueueReceiver<T> {
    /// The next item, once the writer may take one; `None` when every sender
    /// is gone and the queue is empty. Its budget is given back when the
    /// returned permit is dropped (after the item is written).
    pub(crate) async fn recv(&mut self) -> Option<(T, OwnedSemaphorePermit)> {
        if let Some(pause) = &mut self.pause {
            // A closed pause channel means no one can pause any more.
            let _ = pause.wait_for(|paused| !*paused).await;
        }
        self.rx.recv().await
    }

    /// Whether nothing is waiting right now.
    pub(crate) fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(frames: usize, bytes: usize) -> WriteQueueLimits {
        WriteQueueLimits { frames, bytes }
    }

    /// Sends `count` items of `size` bytes from a task; returns how many it
    /// managed within `within`.
    async fn fill(
        tx: &QueueSender<usize>,
        count: usize,
        size: usize,
        within: Duration,
    ) -> (usize, tokio::task::JoinHandle<()>) {
        let sent = Arc::new(AtomicUsize::new(0));
        let task = {
            let (tx, sent) = (tx.clone(), Arc::clone(&sent));
            tokio::spawn(async move {
                for n in 0..count {
                    assert!(tx.send(n, size).await, "the writer is there");
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        tokio::time::sleep(within).await;
        (sent.load(Ordering::SeqCst), task)
    }

    #[tokio::test]
    async fn a_stalled_writer_holds_the_sender_at_the_frame_bound_and_loses_nothing() {
        let counters = Arc::new(QueueCounters::default());
        let (pause_tx, pause_rx) = watch::channel(true);
        let (tx, mut rx) =
            queue::<usize>(limits(8, 1 << 20), Arc::clone(&counters), Some(pause_rx));
        let (sent, task) = fill(&tx, 100, 10, Duration::from_millis(200)).await;
        assert_eq!(sent, 8, "the sender waits once 8 frames are queued");
        assert!(!task.is_finished());
        let stats = counters.stats(limits(8, 1 << 20));
        assert_eq!(stats.peak_frames, 8);
        assert_eq!(stats.peak_bytes, 80);
        assert_eq!(stats.waits, 1, "a wait shows while it lasts: {stats:?}");
        // The writer resumes: everything arrives, in order.
        pause_tx.send(false).unwrap();
        drop(tx);
        let mut got = Vec::new();
        while let Some((n, permit)) = rx.recv().await {
            got.push(n);
            drop(permit);
        }
        task.await.unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        let stats = counters.stats(limits(8, 1 << 20));
        assert!(stats.waits >= 1, "{stats:?}");
        assert!(stats.waited_ms > 100.0, "it waited while paused: {stats:?}");
        assert_eq!(stats.peak_frames, 8, "never more than the bound: {stats:?}");
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_large_frames_and_an_oversized_one_passes_alone() {
        let counters = Arc::new(QueueCounters::default());
        let (pause_tx, pause_rx) = watch::channel(true);
        let bound = limits(1000, 1000);
        let (tx, mut rx) = queue::<usize>(bound, Arc::clone(&counters), Some(pause_rx));
        let (sent, task) = fill(&tx, 10, 300, Duration::from_millis(200)).await;
        assert_eq!(
            sent, 3,
            "three 300-byte frames fit in 1000 bytes, a fourth does not"
        );
        assert_eq!(counters.stats(bound).peak_bytes, 900);
        pause_tx.send(false).unwrap();
        let mut got = Vec::new();
        for _ in 0..10 {
            let (n, permit) = rx.recv().await.unwrap();
            got.push(n);
            drop(permit);
        }
        task.await.unwrap();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        // A frame larger than the whole budget still passes (alone).
        assert!(tx.send(99, 5000).await);
        let (n, _permit) = rx.recv().await.unwrap();
        assert_eq!(n, 99);
        assert!(counters.stats(bound).peak_bytes <= 1000);
    }

    #[tokio::test]
    async fn a_gone_writer_does_not_block_the_proxy() {
        let counters = Arc::new(QueueCounters::default());
        let (tx, rx) = queue::<usize>(limits(1, 10), counters, None);
        drop(rx);
        assert!(!tx.send(1, 5).await);
        assert!(!tx.send(2, 50).await);
    }

    #[test]
    fn limits_are_at_least_one_and_fit_a_semaphore() {
        let l = limits(0, 0).normalised();
        assert_eq!((l.frames, l.bytes), (1, 1));
        let l = limits(5, usize::MAX).normalised();
        assert_eq!(l.bytes, u32::MAX as usize);
    }
}
