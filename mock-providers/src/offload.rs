//! Where an engine's set-aside work runs: a small pool of threads of its
//! own, so that the end of one user turn
//! (recognising its audio, deciding and synthesising the answer: ~10 ms of
//! CPU) never holds up the frames of the other sessions on the same worker.
//!
//! The session loop hands the whole engine over ([`settle`]) when it has
//! work waiting ([`SessionEngine::has_deferred`]) and gets it back once the
//! work has run. While it is away that session reads and sends nothing, so
//! its frames go out in exactly the order they would have had the work run
//! on the spot; the engine itself stays sans-IO (it never sees the pool).
//!
//! Bounded: [`THREADS`] threads at most and a queue of [`QUEUE`] engines;
//! when the queue is full (or the pool could not start) the work runs on
//! the session task as it did before, which is slower for the others but
//! loses nothing.

use crate::engine::SessionEngine;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::OnceLock;
use tokio::sync::oneshot;

/// Most threads the pool runs (fewer on a machine with fewer cores).
pub(crate) const THREADS: usize = 4;

/// Engines waiting for a thread, at most.
pub(crate) const QUEUE: usize = 4_096;

/// How many nice levels below the server the pool's threads run. Zero: at
/// +5 the turns of the crate's own tests were starved for over 300 ms by
/// other processes on a loaded 2-core machine (and answered late), while
/// the pool already keeps turn work off the sessions' workers.
pub(crate) const NICE_STEPS: i32 = 0;

/// What the pool's threads are named (`mock-turn-0`, …), so a profiler or
/// a benchmark can tell their CPU from the sessions'.
pub const TURN_THREADS: &str = "mock-turn";

/// A unit of work for the pool.
type Job = Box<dyn FnOnce() + Send>;

/// Why an engine did not come back from the pool.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OffloadError {
    /// The deferred work panicked; the engine's state is gone.
    #[error("the engine's deferred work panicked")]
    Panicked,
}

/// The pool's queue, started on first use (`None` if no thread started).
fn pool() -> Option<&'static SyncSender<Job>> {
    static POOL: OnceLock<Option<SyncSender<Job>>> = OnceLock::new();
    POOL.get_or_init(start).as_ref()
}

/// Starts the pool's threads; `None` when not one could be spawned.
fn start() -> Option<SyncSender<Job>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, THREADS);
    let (tx, rx) = sync_channel::<Job>(QUEUE);
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let mut started = 0;
    for n in 0..threads {
        let rx = std::sync::Arc::clone(&rx);
        let spawned = std::thread::Builder::new()
            .name(format!("{TURN_THREADS}-{n}"))
            .spawn(move || {
                if NICE_STEPS > 0 {
                    crate::priority::lower_by("a turn thread", NICE_STEPS);
                }
                loop {
                    let job = {
                        let queue = rx.lock().unwrap_or_else(|e| e.into_inner());
                        queue.recv()
                    };
                    let Ok(job) = job else {
                        return;
                    };
                    // A panicking job drops its reply: its session ends,
                    // the thread goes on.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
        match spawned {
            Ok(_) => started += 1,
            Err(error) => tracing::warn!(%error, "cannot start a turn thread"),
        }
    }
    (started > 0).then_some(tx)
}

/// Runs `engine`'s deferred work on the pool and gives the engine back; on
/// the calling task instead when the pool is full or absent.
pub(crate) async fn settle<E: 'static>(
    mut engine: Box<dyn SessionEngine<E>>,
) -> Result<Box<dyn SessionEngine<E>>, OffloadError> {
    let Some(pool) = pool() else {
        engine.run_deferred();
        return Ok(engine);
    };
    let (reply, back) = oneshot::channel();
    let job: Job = Box::new(move || {
        engine.run_deferred();
        let _ = reply.send(engine);
    });
    if let Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) = pool.try_send(job) {
        tracing::debug!("the turn pool is full: this turn runs on its session task");
        job();
    }
    back.await.map_err(|_| OffloadError::Panicked)
}

#[cfg(test)]
#[path = "offload_tests.rs"]
mod tests;
