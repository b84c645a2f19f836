//! Giving the memory of ended sessions back to the OS.
//!
//! Each session allocates its agent, its provider connection and their
//! buffers on whichever runtime thread runs it, so glibc's malloc spreads
//! them over its per-thread arenas. When the sessions end that memory is
//! free, but glibc returns an arena's pages to the OS only from its top,
//! and only past a threshold: after a burst of sessions nearly all of it
//! stayed resident (`understudy-bench agent-memory`, issue 19:
//! `bench/RESULTS.md`). `malloc_trim(0)` hands back every free page of every
//! arena.
//!
//! So each ended session pokes a thread of its own, at low priority: it
//! waits until no session has ended for [`QUIET`] (a burst of closes is one
//! trim, not thousands), then trims once. Elsewhere than glibc (musl,
//! macOS) nothing is done.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::time::Duration;

/// How long no session must have ended before the trim runs.
pub const QUIET: Duration = Duration::from_millis(500);

/// Trims done so far in this process (for tests and logs).
static TRIMS: AtomicU64 = AtomicU64::new(0);

/// The trimming thread's doorbell; `None` when the thread could not start.
static BELL: OnceLock<Option<SyncSender<()>>> = OnceLock::new();

/// Says a session ended: a trim follows once ends stop for [`QUIET`].
/// Never blocks (a ring while one is pending is dropped: same trim).
pub fn session_ended() {
    let bell = BELL.get_or_init(start);
    if let Some(bell) = bell {
        match bell.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                tracing::debug!("the memory trim thread is gone")
            }
        }
    }
}

/// How many trims ran in this process.
pub fn trims() -> u64 {
    TRIMS.load(Ordering::Relaxed)
}

fn start() -> Option<SyncSender<()>> {
    let (bell, rings) = mpsc::sync_channel(1);
    let started = std::thread::Builder::new()
        .name("mem-trim".into())
        .spawn(move || run(rings));
    match started {
        Ok(_) => Some(bell),
        Err(error) => {
            tracing::warn!(%error, "no memory trim thread: ended sessions' memory stays with malloc");
            None
        }
    }
}

fn run(rings: Receiver<()>) {
    lower_priority();
    while rings.recv().is_ok() {
        // Wait out the burst: each further ring restarts the wait.
        loop {
            match rings.recv_timeout(QUIET) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let started = std::time::Instant::now();
        let released = trim();
        TRIMS.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            released,
            took_ms = started.elapsed().as_millis() as u64,
            "returned freed session memory to the OS"
        );
    }
}

/// `malloc_trim(0)`: whether any memory went back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> bool {
    // SAFETY: malloc_trim takes a plain integer and only touches malloc's
    // own state, under its locks; any thread may call it at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}

/// Nice 19 for this thread (Linux), so trimming never takes CPU from sessions.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: setpriority takes plain integers; with PRIO_PROCESS and who 0
    // Linux sets the calling thread's nice value only.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_ends_is_trimmed_once_it_is_over() {
        let before = trims();
        for _ in 0..50 {
            session_ended();
        }
        // Not while ends keep coming...
        std::thread::sleep(QUIET / 5);
        assert_eq!(trims(), before, "trimmed mid-burst");
        // ... but once they stop.
        let deadline = std::time::Instant::now() + QUIET * 10;
        while trims() == before {
            assert!(std::time::Instant::now() < deadline, "never trimmed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
