//! `paced-replay`: does replay keep time? N sessions (1, 200, 1,000) each
//! replay one turn of 500 audio deltas due 20 ms apart (the paced cassette,
//! synthesized in memory); each client notes when every frame of the answer
//! arrives. The answer's first frame (`response.created`, due with delta 0)
//! is time 0; delta `i` is due at `i × 20 ms`, and its lateness is how much
//! later than that it arrived (an early arrival counts as 0). Lateness
//! p50/p99/max per N for (a) the mock's replay engine and (b) the no-logic
//! tokio-tungstenite server sending the same frames on the same schedule.
//!
//! The sessions' turns start spread evenly over `--spread-ms` (default one
//! interval: independent sessions' deltas fall at every phase of the 20 ms
//! tick, as live traffic would); `--spread-ms 0` starts them all at once, so
//! every session's delta `i` is due at the same instant.
//!
//! Clients and servers share the machine's cores (in-process), so lateness
//! includes the client's own scheduling delay: it is what a client sees.

use crate::baseline::{self, Baseline};
use crate::cassette;
use crate::client::AUDIO_DELTA;
use crate::error::{BenchError, Result};
use crate::load::open_then_wait;
use crate::report::{or_na, progress, Report, Table};
use crate::stats::{summarise, Summary};
use crate::target::{self, ExternalArgs, InProcess, Target};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;
use understudy_mock::{JournalCaps, JournalMode, MockServer};

/// Name prefix of the baseline server's runtime threads.
const BASELINE_THREADS: &str = "baseline-srv";

/// Options of `paced-replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Concurrent sessions per load, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,200,1000")]
    pub sessions: Vec<usize>,
    /// Audio deltas in the turn.
    #[arg(long, default_value_t = 500)]
    pub deltas: usize,
    /// PCM bytes per delta (960: 20 ms of 24 kHz PCM16).
    #[arg(long, default_value_t = 960)]
    pub delta_bytes: usize,
    /// Milliseconds between deltas.
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// The sessions' turns start evenly spread over this many milliseconds
    /// (0: all at once).
    #[arg(long, default_value_t = 20)]
    pub spread_ms: u64,
    /// Sessions connecting at a time before a load (all are connected before
    /// the turns start).
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Measure only the mock, not the baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// In-process: what the journal keeps.
    #[arg(long, default_value = "summary")]
    pub journal: JournalMode,
    /// The server (external: `understudy serve --cassettes DIR` with the
    /// paced cassette; not written by `write-cassette`, so in-process only
    /// for now unless you write it yourself).
    #[command(flatten)]
    pub external: ExternalArgs,
}

impl Args {
    fn cassette(&self) -> understudy_fixtures::Cassette {
        cassette::paced(self.deltas, self.delta_bytes, self.interval_ms * 1000)
    }
}

/// Starts the target for `args`: the mock replaying the paced cassette.
pub fn target(args: &Args) -> Result<Target> {
    Target::start(&args.external, || {
        Ok(InProcess {
            builder: MockServer::builder()
                .replay(&[(cassette::PACED_NAME.to_owned(), args.cassette())])?,
            journal: args.journal,
            caps: JournalCaps::default(),
        })
    })
}

/// What one load measured.
#[derive(Debug, Clone)]
struct Load {
    server: &'static str,
    sessions: usize,
    failed: usize,
    deltas: u64,
    lateness: Summary,
}

/// Lateness of each audio delta of one answer: frame arrivals, in order.
/// Time 0 is the first frame; delta `k` is due `k × interval` after it.
fn lateness(arrivals: &[(bool, Instant)], interval: Duration) -> Vec<Duration> {
    let Some(&(_, t0)) = arrivals.first() else {
        return Vec::new();
    };
    arrivals
        .iter()
        .filter(|(audio, _)| *audio)
        .enumerate()
        .map(|(k, &(_, at))| {
            let due = t0 + interval * k as u32;
            at.saturating_duration_since(due)
        })
        .collect()
}

/// One load: `n` sessions connect and are greeted, then each sends its turn
/// at its place in the spread and records its answer's arrivals.
async fn load(
    ws: &str,
    cassette: Option<&'static str>,
    n: usize,
    args: &Args,
) -> Result<(usize, Vec<Duration>)> {
    let (go_tx, go_rx) = watch::channel(None::<Instant>);
    let (ready_tx, mut ready_rx) = mpsc::channel::<bool>(n.max(1));
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let interval = Duration::from_millis(args.interval_ms);
    let spread = Duration::from_millis(args.spread_ms);
    let mut tasks = Vec::with_capacity(n);
    for k in 0..n {
        let (ws, gate, mut go, ready) = (
            ws.to_owned(),
            Arc::clone(&gate),
            go_rx.clone(),
            ready_tx.clone(),
        );
        let phase = spread.mul_f64(k as f64 / n as f64);
        tasks.push(tokio::spawn(async move {
            let (mut session, start) =
                open_then_wait(&ws, cassette, &gate, &ready, &mut go).await?;
            tokio::time::sleep_until(start + phase).await;
            let mut arrivals = Vec::with_capacity(1024);
            session
                .respond_observed(&mut |kind, at| {
                    arrivals.push((kind == AUDIO_DELTA, Instant::from_std(at)))
                })
                .await?;
            session.close().await;
            Ok::<_, BenchError>(lateness(&arrivals, interval))
        }));
    }
    drop(ready_tx);
    let (mut connected, mut refused) = (0, 0);
    while connected + refused < n {
        match ready_rx.recv().await {
            Some(true) => connected += 1,
            Some(false) => refused += 1,
            None => break,
        }
    }
    // A little head room so the first phases are not already late.
    let _ = go_tx.send(Some(Instant::now() + Duration::from_millis(10)));
    let mut samples = Vec::with_capacity(n * args.deltas);
    let mut completed = 0;
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok(late)) => {
                completed += 1;
                samples.extend(late);
            }
            Ok(Err(error)) => {
                first_error.get_or_insert(error);
            }
            Err(error) => {
                first_error.get_or_insert(error.into());
            }
        }
    }
    // Every session that did not complete its turn, connect failures included.
    let failed = n - completed;
    if let Some(error) = first_error {
        progress(format!("{failed} sessions failed; the first: {error}"));
    }
    Ok((failed, samples))
}

/// Runs the benchmark against `target`.
pub async fn run(args: &Args, target: &Target) -> Result<Report> {
    if args.sessions.is_empty() || args.sessions.contains(&0) || args.deltas == 0 {
        return Err(BenchError::Usage(
            "--sessions needs whole numbers above 0 and --deltas at least 1".into(),
        ));
    }
    let (greeting, answer) = cassette::server_schedule(&args.cassette());
    let threads = args.external.server_threads.unwrap_or_else(target::cores);
    let baseline_runtime = target::runtime(BASELINE_THREADS, threads)?;
    let baseline: Option<Baseline> = if args.no_baseline {
        None
    } else {
        let handle = baseline_runtime.spawn(baseline::start_paced(greeting, answer));
        Some(handle.await??)
    };
    let mut loads = Vec::new();
    for &n in &args.sessions {
        let mut servers = vec![("replay", target.ws.clone(), Some(cassette::PACED_NAME))];
        if let Some(b) = &baseline {
            servers.push(("baseline", format!("ws://{}", b.addr), None));
        }
        for (server, ws, name) in servers {
            progress(format!("{server}: {n} sessions"));
            let (failed, samples) = load(&ws, name, n, args).await?;
            let lateness = summarise(&samples);
            progress(format!(
                "  {} deltas: lateness p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                lateness.n, lateness.p50_ms, lateness.p99_ms, lateness.max_ms
            ));
            loads.push(Load {
                server,
                sessions: n,
                failed,
                deltas: samples.len() as u64,
                lateness,
            });
        }
    }
    drop(baseline);
    baseline_runtime.shutdown_background();
    Ok(Report {
        command: "paced-replay",
        server: target.label(),
        tables: tables(args, &loads),
    })
}

fn tables(args: &Args, loads: &[Load]) -> Vec<Table> {
    let mut each = Table::new(
        format!(
            "delta lateness: one turn of {} deltas due {} ms apart per session, starts spread over {} ms",
            args.deltas, args.interval_ms, args.spread_ms
        ),
        &[
            "server",
            "sessions",
            "failed",
            "deltas",
            "late_p50_ms",
            "late_p99_ms",
            "late_max_ms",
        ],
    );
    for l in loads {
        each.row(vec![
            l.server.into(),
            l.sessions.to_string(),
            l.failed.to_string(),
            l.deltas.to_string(),
            format!("{:.3}", l.lateness.p50_ms),
            format!("{:.3}", l.lateness.p99_ms),
            format!("{:.3}", l.lateness.max_ms),
        ]);
    }
    let mut side = Table::new(
        "replay against the no-logic baseline: lateness p99 (target at N=200: replay ≤ 2 ms)",
        &[
            "sessions",
            "replay_p99_ms",
            "baseline_p99_ms",
            "difference_ms",
        ],
    );
    for &n in &args.sessions {
        let p99 = |server: &str| {
            loads
                .iter()
                .find(|l| l.server == server && l.sessions == n)
                .map(|l| l.lateness.p99_ms)
        };
        let (r, b) = (p99("replay"), p99("baseline"));
        side.row(vec![
            n.to_string(),
            or_na(r, |v| format!("{v:.3}")),
            or_na(b, |v| format!("{v:.3}")),
            or_na(r.zip(b), |(r, b)| format!("{:.3}", r - b)),
        ]);
    }
    vec![each, side]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_is_measured_from_the_first_frame_and_floors_at_zero() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // response.created at 0; deltas at 1 (due 0), 25 (due 20), 38 (due
        // 40: early); response.done.
        let arrivals = [
            (false, t0),
            (true, t0 + ms(1)),
            (true, t0 + ms(25)),
            (true, t0 + ms(38)),
            (false, t0 + ms(39)),
        ];
        assert_eq!(
            lateness(&arrivals, ms(20)),
            vec![ms(1), ms(5), Duration::ZERO]
        );
        assert!(lateness(&[], ms(20)).is_empty());
    }
}
