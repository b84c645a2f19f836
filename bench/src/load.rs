//! Many short sessions, a bounded number at a time: a fixed pool of workers
//! taking session numbers from a shared counter (nothing queued per session,
//! so the load itself holds little memory).

use crate::client::Session;
use crate::error::{BenchError, Result};
use crate::report::progress;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;

/// Opens one of a load's sessions at `ws` (replaying `cassette`) while
/// holding a permit of `gate` (so connects are spread, not a storm), tells
/// `ready` whether it opened, then waits until `go` names the instant the
/// load starts, and returns the session with it.
///
/// The benchmarks that start every session together (replay-throughput,
/// paced-replay, respond-capacity) open their sessions this one way, so they
/// measure the same thing from the same start.
pub async fn open_then_wait(
    ws: &str,
    cassette: Option<&str>,
    gate: &Semaphore,
    ready: &mpsc::Sender<bool>,
    go: &mut watch::Receiver<Option<Instant>>,
) -> Result<(Session, Instant)> {
    let opened = {
        let _permit = gate.acquire().await;
        Session::open(ws, cassette).await
    };
    let session = match opened {
        Ok((session, _)) => session,
        Err(error) => {
            let _ = ready.send(false).await;
            return Err(error);
        }
    };
    let _ = ready.send(true).await;
    match go.wait_for(Option::is_some).await {
        Ok(start) => Ok((session, start.unwrap_or_else(Instant::now))),
        Err(_) => Err(BenchError::Protocol("the load was abandoned".into())),
    }
}

/// How a batch of sessions went.
#[derive(Debug, Clone, Default)]
pub struct LoadOutcome {
    /// Sessions that completed their turn.
    pub ok: u64,
    /// Sessions that failed (connect, turn or protocol).
    pub failed: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Time from each session's turn to its first audio delta.
    pub ttfa: Vec<Duration>,
}

/// Runs sessions numbered `from..to`, `concurrency` at a time: each opens a
/// text session at `ws`, speaks one turn, waits for the whole answer and
/// closes. Progress is printed every `every` sessions.
pub async fn text_sessions(
    ws: &str,
    from: u64,
    to: u64,
    concurrency: usize,
    every: u64,
) -> LoadOutcome {
    let next = Arc::new(AtomicU64::new(from));
    let outcome = Arc::new(Mutex::new(LoadOutcome::default()));
    let workers = concurrency
        .max(1)
        .min((to.saturating_sub(from)) as usize)
        .max(1);
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let next = Arc::clone(&next);
        let outcome = Arc::clone(&outcome);
        let ws = ws.to_owned();
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= to {
                    break;
                }
                let result = async {
                    let (mut session, _) = Session::open(&ws, None).await?;
                    let turn = session
                        .text_turn(&format!("Hello number {n}, how are you?"))
                        .await?;
                    session.close().await;
                    Ok::<_, crate::error::BenchError>(turn)
                }
                .await;
                let done = {
                    let mut o = outcome.lock().unwrap_or_else(|p| p.into_inner());
                    match result {
                        Ok(turn) => {
                            o.ok += 1;
                            o.ttfa.extend(turn.ttfa);
                        }
                        Err(error) => {
                            o.failed += 1;
                            o.first_error.get_or_insert_with(|| error.to_string());
                        }
                    }
                    o.ok + o.failed
                };
                if every > 0 && done % every == 0 {
                    progress(format!(
                        "{} sessions done ({} to go)",
                        from + done,
                        to - from - done
                    ));
                }
            }
        }));
    }
    for task in tasks {
        if let Err(error) = task.await {
            let mut o = outcome.lock().unwrap_or_else(|p| p.into_inner());
            o.first_error
                .get_or_insert_with(|| format!("worker ended: {error}"));
        }
    }
    let o = outcome.lock().unwrap_or_else(|p| p.into_inner());
    o.clone()
}
