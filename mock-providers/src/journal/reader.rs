//! Journal reads, kept off the sessions' CPU.
//!
//! Reading the journal — copying entries out, summarising frames, writing
//! JSON, decoding audio for a WAV — is CPU work a reader can ask for
//! thousands of times a second. Run on the runtime's workers or its blocking
//! pool, it competes on equal terms with the sessions the mock serves: on a
//! 2-core machine 40 readers moved live sessions' TTFA p99 by 50–90 ms
//! (`understudy-bench journal-reads`). So every read runs on one thread of
//! its own, named `journal-reader`, at the lowest scheduling priority
//! (nice 19, where the OS allows it): while sessions want the CPU they get
//! it, and reads wait. At most [`QUEUE`] reads wait; past that a read is
//! refused at once ([`ReadError::Busy`]: the routes answer 503 with
//! `Retry-After`) rather than queueing without bound. A read that has not
//! finished within its deadline (waiting in the queue included; default
//! [`DEFAULT_READ_DEADLINE`]) is abandoned ([`ReadError::TimedOut`]: 503) so
//! that its requester never hangs; a read whose requester has gone is
//! skipped if it has not started yet.
//!
//! The thread starts with the first read and ends when the last handle to
//! the journal is dropped.
//!
//! The same machinery, as a [`Reader::copier`], runs the other half of a
//! read — the copy under the journal's locks — on a thread of its own at
//! *normal* priority: a lock held by a nice-19 thread that the OS preempts
//! stays held until that thread runs again, and every live session that
//! needs the lock waits that long (priority inversion). The copy cannot run
//! on the requesting task either, because the inspector's routes are served
//! on a nice-19 runtime of their own (`inspector_runtime`).

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Most reads waiting for the reader thread.
pub(crate) const QUEUE: usize = 64;

/// How long a read may take, queue included, unless the journal was built
/// with another deadline.
pub const DEFAULT_READ_DEADLINE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// Why a read did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// [`QUEUE`] reads are already waiting: try again shortly.
    #[error("the journal is busy with other reads; retry shortly")]
    Busy,
    /// The reader thread could not be started, or stopped.
    #[error("the journal reader is not running")]
    Stopped,
    /// The read did not finish within its deadline and was abandoned.
    #[error("the journal read did not finish within {} ms and was abandoned; retry, or ask for a smaller page", .0.as_millis())]
    TimedOut(Duration),
}

/// The reader thread, started on first use; cloning shares it.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    shared: Arc<Shared>,
}

/// What the handles of one reader share.
#[derive(Debug)]
struct Shared {
    jobs: OnceLock<Option<Mutex<SyncSender<Job>>>>,
    /// How long a read may take, queue included.
    deadline: Duration,
    /// The thread's name.
    name: &'static str,
    /// Whether the thread asks for the lowest priority.
    lowered: bool,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new(DEFAULT_READ_DEADLINE)
    }
}

impl Reader {
    /// A reader abandoning reads that take longer than `deadline`, on the
    /// `journal-reader` thread at the lowest priority.
    pub(crate) fn new(deadline: Duration) -> Self {
        Self::on_thread(deadline, "journal-reader", true)
    }

    /// The same at normal priority, on the `journal-copy` thread: for work
    /// that takes the journal's locks (see the module notes). The thread
    /// starts here, not on first use: a thread takes its creator's nice
    /// value, and the first user may well be the inspector's nice-19
    /// runtime, which could not give it back.
    pub(crate) fn copier(deadline: Duration) -> Self {
        let copier = Self::on_thread(deadline, "journal-copy", false);
        copier
            .shared
            .jobs
            .get_or_init(|| start("journal-copy", false).map(Mutex::new));
        copier
    }

    fn on_thread(deadline: Duration, name: &'static str, lowered: bool) -> Self {
        Reader {
            shared: Arc::new(Shared {
                jobs: OnceLock::new(),
                deadline,
                name,
                lowered,
            }),
        }
    }

    /// Runs `work` on the reader thread and returns what it returns, or
    /// [`ReadError::TimedOut`] past the deadline (the work, if it started,
    /// runs to its end on the reader thread; its result is dropped).
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, ReadError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // Its requester gave up (deadline, closed connection) while it
            // waited: nobody wants it, so it costs nothing.
            if done.is_closed() {
                return;
            }
            let _ = done.send(work());
        });
        let sender = self
            .shared
            .jobs
            .get_or_init(|| start(self.shared.name, self.shared.lowered).map(Mutex::new))
            .as_ref()
            .ok_or(ReadError::Stopped)?;
        let sent = sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .try_send(job);
        match sent {
            Ok(()) => match tokio::time::timeout(self.shared.deadline, result).await {
                Ok(done) => done.map_err(|_| ReadError::Stopped),
                Err(_) => {
                    tracing::warn!(
                        deadline_ms = self.shared.deadline.as_millis() as u64,
                        "a journal read took longer than its deadline and was abandoned"
                    );
                    Err(ReadError::TimedOut(self.shared.deadline))
                }
            },
            Err(TrySendError::Full(_)) => Err(ReadError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(ReadError::Stopped),
        }
    }
}

/// Starts the thread `name` (at the lowest priority if `lowered`); `None`
/// (logged) if the OS refuses a thread.
fn start(name: &'static str, lowered: bool) -> Option<SyncSender<Job>> {
    let (jobs, queue) = sync_channel::<Job>(QUEUE);
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if lowered {
                crate::priority::lower(name);
            }
            // Ends when every sender (every journal handle) is gone.
            while let Ok(job) = queue.recv() {
                job();
            }
        });
    match spawned {
        Ok(_) => Some(jobs),
        Err(error) => {
            tracing::error!(%error, thread = name, "could not start a journal thread");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    /// The nice value the reader thread asks for (the lowest priority).
    const NICE: i32 = crate::priority::LOWEST;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn reads_run_on_one_low_priority_thread_of_their_own() {
        let reader = Reader::default();
        let (name, nice) = reader
            .run(|| {
                let name = std::thread::current().name().map(str::to_owned);
                // SAFETY: getpriority reads a number; errno is cleared first
                // so that -1 can be told from an error.
                let nice = unsafe {
                    *libc::__errno_location() = 0;
                    libc::getpriority(libc::PRIO_PROCESS, 0)
                };
                (name, nice)
            })
            .await
            .expect("the read runs");
        assert_eq!(name.as_deref(), Some("journal-reader"));
        assert_eq!(nice, NICE, "the reader thread runs at nice {NICE}");
        // The same thread serves the next read.
        let again = reader
            .run(|| std::thread::current().id())
            .await
            .expect("runs");
        let first = reader
            .run(|| std::thread::current().id())
            .await
            .expect("runs");
        assert_eq!(again, first);
    }

    /// The calling thread's name and nice value.
    #[cfg(target_os = "linux")]
    fn whoami() -> (Option<String>, i32) {
        let name = std::thread::current().name().map(str::to_owned);
        // SAFETY: getpriority reads a number; errno is cleared first so
        // that -1 can be told from an error.
        let nice = unsafe {
            *libc::__errno_location() = 0;
            libc::getpriority(libc::PRIO_PROCESS, 0)
        };
        (name, nice)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_copier_keeps_its_creators_priority_when_a_low_priority_thread_uses_it_first() {
        let (_, creator) = whoami();
        let copier = Reader::copier(DEFAULT_READ_DEADLINE);
        // First used from a thread at the lowest priority, as the
        // inspector's runtime is.
        let (name, nice) = std::thread::spawn(move || {
            crate::priority::lower("a test's low-priority caller");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(copier.run(whoami)).expect("the copy runs")
        })
        .join()
        .expect("joined");
        assert_eq!(name.as_deref(), Some("journal-copy"));
        assert_eq!(
            nice, creator,
            "the copy thread runs at its creator's priority, not its first caller's"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_instead_of_waiting() {
        let reader = Reader::default();
        let gate = Arc::new(Barrier::new(2));
        // Occupy the thread, then fill the queue behind it.
        let held = {
            let gate = Arc::clone(&gate);
            let reader = reader.clone();
            tokio::spawn(async move { reader.run(move || gate.wait()).await })
        };
        // Wait until the first job is running (the queue is then empty).
        while reader.shared.jobs.get().is_none() {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut waiting = Vec::new();
        for _ in 0..QUEUE {
            let reader = reader.clone();
            waiting.push(tokio::spawn(async move { reader.run(|| 1).await }));
        }
        // Let every spawned read reach the queue.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(reader.run(|| 2).await, Err(ReadError::Busy));
        gate.wait();
        held.await.expect("joined").expect("the first read ran");
        for read in waiting {
            assert_eq!(read.await.expect("joined"), Ok(1));
        }
        assert_eq!(reader.run(|| 3).await, Ok(3), "free again once drained");
    }

    #[tokio::test]
    async fn a_read_past_its_deadline_is_abandoned_and_the_next_one_skipped() {
        let reader = Reader::new(Duration::from_millis(50));
        let gate = Arc::new(Barrier::new(2));
        let slow = {
            let gate = Arc::clone(&gate);
            reader.run(move || {
                gate.wait();
                "slow"
            })
        };
        let answered = tokio::time::timeout(Duration::from_secs(10), slow)
            .await
            .expect("answered within 10 s, not a hang");
        assert_eq!(
            answered,
            Err(ReadError::TimedOut(Duration::from_millis(50)))
        );
        assert!(answered
            .unwrap_err()
            .to_string()
            .contains("did not finish within 50 ms"));
        // Queued behind the stuck read, this one times out too, and once the
        // thread is free it is skipped rather than run for nobody.
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let queued = {
            let ran = Arc::clone(&ran);
            reader.run(move || ran.store(true, std::sync::atomic::Ordering::SeqCst))
        };
        assert!(matches!(queued.await, Err(ReadError::TimedOut(_))));
        gate.wait();
        assert_eq!(reader.run(|| 7).await, Ok(7), "the reader goes on");
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "an abandoned read still in the queue is not run"
        );
    }
}
