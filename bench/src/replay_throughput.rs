//! `replay-throughput`: how fast does replay send? N sessions (1, 50, 200,
//! 1,000) each replay one turn of 500 audio deltas of 960 PCM bytes as fast
//! as the server sends; frames/s and server CPU µs per frame for (a) the
//! mock's replay engine and (b) a no-logic tokio-tungstenite server sending
//! the same precomputed frames, and their ratio per N. `--repeat 5` runs the
//! same load five times on the same servers (issue 18: the first and fifth
//! run must match as the journal fills).
//!
//! Server CPU is the run time of the server's own threads over the window
//! from the moment every client is connected and greeted to the last
//! `response.done` (in-process; an external server's whole process, with
//! `--server-pid`).

use crate::baseline::{self, Baseline};
use crate::cassette;
use crate::error::{BenchError, Result};
use crate::load::open_then_wait;
use crate::report::{or_na, progress, Report, Table};
use crate::target::{self, ExternalArgs, InProcess, Target};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, watch, Semaphore};
use understudy_mock::{JournalCaps, JournalMode, MockServer};

/// Name prefix of the baseline server's runtime threads.
const BASELINE_THREADS: &str = "baseline-srv";

/// Options of `replay-throughput`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Concurrent sessions per load, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,50,200,1000")]
    pub sessions: Vec<usize>,
    /// Runs of each load on the same servers.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Audio deltas in the turn.
    #[arg(long, default_value_t = 500)]
    pub deltas: usize,
    /// PCM bytes per delta.
    #[arg(long, default_value_t = 960)]
    pub delta_bytes: usize,
    /// Sessions connecting at a time before a run (all are connected before
    /// the clock starts).
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Measure only the mock, not the baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// In-process: what the journal keeps.
    #[arg(long, default_value = "summary")]
    pub journal: JournalMode,
    /// In-process: most sessions the journal keeps.
    #[arg(long, default_value_t = JournalCaps::DEFAULT_MAX_SESSIONS)]
    pub journal_max_sessions: usize,
    /// In-process: most bytes the journal keeps.
    #[arg(long, default_value_t = JournalCaps::DEFAULT_MAX_BYTES)]
    pub journal_max_bytes: usize,
    /// The server (external: `understudy serve --cassettes DIR` with the
    /// cassette `write-cassette --out DIR` writes, same --deltas/--delta-bytes).
    #[command(flatten)]
    pub external: ExternalArgs,
}

/// Starts the target for `args`: the mock replaying the synthesized cassette.
pub fn target(args: &Args) -> Result<Target> {
    Target::start(&args.external, || {
        let cassette = cassette::throughput(args.deltas, args.delta_bytes);
        Ok(InProcess {
            builder: MockServer::builder().replay(&[(cassette::NAME.to_owned(), cassette)])?,
            journal: args.journal,
            caps: JournalCaps {
                max_sessions: args.journal_max_sessions,
                max_bytes: args.journal_max_bytes,
            },
        })
    })
}

/// Reads a server's CPU nanoseconds so far.
type CpuReader<'a> = dyn Fn() -> Option<u64> + Sync + 'a;

/// A server a load is run against.
struct Server<'a> {
    name: &'static str,
    ws: String,
    cassette: Option<&'static str>,
    cpu: &'a CpuReader<'a>,
}

/// What one load measured.
struct Measured {
    failed: usize,
    frames: u64,
    deltas: u64,
    secs: f64,
    cpu_ns: Option<u64>,
}

/// One run of one load on one server.
#[derive(Debug, Clone)]
struct Run {
    server: &'static str,
    sessions: usize,
    run: usize,
    failed: usize,
    frames: u64,
    deltas: u64,
    secs: f64,
    cpu_ns: Option<u64>,
}

impl Run {
    fn fps(&self) -> f64 {
        self.frames as f64 / self.secs.max(1e-9)
    }
    fn cpu_us_per_frame(&self) -> Option<f64> {
        self.cpu_ns
            .map(|ns| ns as f64 / 1000.0 / (self.frames.max(1) as f64))
    }
}

/// One load: `n` sessions connect and are greeted, then all send their turn
/// at once; the clock and the CPU counter run until the last `response.done`.
async fn load(
    ws: &str,
    cassette: Option<&'static str>,
    n: usize,
    connect_concurrency: usize,
    cpu: &CpuReader<'_>,
) -> Result<Measured> {
    let (go_tx, go_rx) = watch::channel(None);
    let (ready_tx, mut ready_rx) = mpsc::channel::<bool>(n.max(1));
    let (done_tx, mut done_rx) = mpsc::channel::<Option<(u64, u64)>>(n.max(1));
    let gate = Arc::new(Semaphore::new(connect_concurrency.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (ws, gate, mut go, ready, done) = (
            ws.to_owned(),
            Arc::clone(&gate),
            go_rx.clone(),
            ready_tx.clone(),
            done_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut session, _) = open_then_wait(&ws, cassette, &gate, &ready, &mut go).await?;
            match session.respond().await {
                Ok(turn) => {
                    let _ = done.send(Some((turn.frames, turn.audio_deltas))).await;
                    session.close().await;
                    Ok(())
                }
                Err(error) => {
                    let _ = done.send(None).await;
                    Err(error)
                }
            }
        }));
    }
    drop((ready_tx, done_tx));
    let mut connected = 0;
    let mut failed = 0;
    while connected + failed < n {
        match ready_rx.recv().await {
            Some(true) => connected += 1,
            Some(false) => failed += 1,
            None => break,
        }
    }
    let cpu0 = cpu();
    let started = Instant::now();
    let _ = go_tx.send(Some(tokio::time::Instant::now()));
    let (mut frames, mut deltas) = (0, 0);
    for _ in 0..connected {
        match done_rx.recv().await {
            Some(Some((f, d))) => {
                frames += f;
                deltas += d;
            }
            Some(None) => failed += 1,
            None => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_ns = cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    let mut first_error = None;
    for task in tasks {
        if let Ok(Err(error)) = task.await {
            first_error.get_or_insert(error);
        }
    }
    if let Some(error) = first_error {
        progress(format!("{failed} sessions failed; the first: {error}"));
    }
    Ok(Measured {
        failed,
        frames,
        deltas,
        secs,
        cpu_ns,
    })
}

/// Runs the benchmark against `target`.
pub async fn run(args: &Args, target: &Target) -> Result<Report> {
    if args.sessions.is_empty() || args.sessions.contains(&0) || args.repeat == 0 {
        return Err(BenchError::Usage(
            "--sessions needs whole numbers above 0 and --repeat at least 1".into(),
        ));
    }
    let cassette = cassette::throughput(args.deltas, args.delta_bytes);
    let (greeting, answer) = cassette::server_frames(&cassette);
    // The baseline gets a runtime of its own, threads named apart from the
    // mock's, so each server's CPU is counted alone.
    let threads = args.external.server_threads.unwrap_or_else(target::cores);
    let baseline_runtime = target::runtime(BASELINE_THREADS, threads)?;
    let baseline: Option<Baseline> = if args.no_baseline {
        None
    } else {
        let handle = baseline_runtime.spawn(baseline::start(greeting, answer));
        Some(handle.await??)
    };
    let mock_cpu = || target.cpu_ns();
    let base_cpu = || crate::procstat::threads_cpu_ns(BASELINE_THREADS).ok();
    let mut runs = Vec::new();
    for &n in &args.sessions {
        let mut servers = vec![Server {
            name: "replay",
            ws: target.ws.clone(),
            cassette: Some(cassette::NAME),
            cpu: &mock_cpu,
        }];
        if let Some(b) = &baseline {
            servers.push(Server {
                name: "baseline",
                ws: format!("ws://{}", b.addr),
                cassette: None,
                cpu: &base_cpu,
            });
        }
        for Server {
            name: server,
            ws,
            cassette: name,
            cpu,
        } in servers
        {
            for run in 1..=args.repeat {
                progress(format!("{server}: {n} sessions, run {run}/{}", args.repeat));
                let Measured {
                    failed,
                    frames,
                    deltas,
                    secs,
                    cpu_ns,
                } = load(&ws, name, n, args.connect_concurrency, cpu).await?;
                let r = Run {
                    server,
                    sessions: n,
                    run,
                    failed,
                    frames,
                    deltas,
                    secs,
                    cpu_ns,
                };
                progress(format!(
                    "  {frames} frames in {secs:.3} s: {:.0} frames/s",
                    r.fps()
                ));
                runs.push(r);
            }
        }
    }
    drop(baseline);
    baseline_runtime.shutdown_background();
    Ok(Report {
        command: "replay-throughput",
        server: target.label(),
        tables: tables(args, &runs),
    })
}

fn tables(args: &Args, runs: &[Run]) -> Vec<Table> {
    let expected = args.deltas as u64 + 2;
    let mut each = Table::new(
        format!(
            "every run: one turn of {} deltas × {} PCM bytes per session ({expected} frames)",
            args.deltas, args.delta_bytes
        ),
        &[
            "server",
            "sessions",
            "run",
            "failed",
            "frames",
            "deltas",
            "secs",
            "frames_per_s",
            "cpu_us_per_frame",
        ],
    );
    for r in runs {
        each.row(vec![
            r.server.into(),
            r.sessions.to_string(),
            r.run.to_string(),
            r.failed.to_string(),
            r.frames.to_string(),
            r.deltas.to_string(),
            format!("{:.3}", r.secs),
            format!("{:.0}", r.fps()),
            or_na(r.cpu_us_per_frame(), |c| format!("{c:.2}")),
        ]);
    }
    // The median, not the mean: a run that hits the ~40 ms delayed-ACK
    // stall (N = 1, no TCP_NODELAY) would otherwise swamp the others.
    let median = |server: &str, n: usize, f: &dyn Fn(&Run) -> Option<f64>| {
        let mut values: Vec<f64> = runs
            .iter()
            .filter(|r| r.server == server && r.sessions == n)
            .filter_map(f)
            .collect();
        median_of(&mut values)
    };
    let mut ratio = Table::new(
        "replay against the no-logic baseline (median of the runs)",
        &[
            "sessions",
            "replay_fps",
            "baseline_fps",
            "fps_ratio",
            "replay_cpu_us",
            "baseline_cpu_us",
            "cpu_ratio",
        ],
    );
    for &n in &args.sessions {
        let rf = median("replay", n, &|r| Some(r.fps()));
        let bf = median("baseline", n, &|r| Some(r.fps()));
        let rc = median("replay", n, &|r| r.cpu_us_per_frame());
        let bc = median("baseline", n, &|r| r.cpu_us_per_frame());
        ratio.row(vec![
            n.to_string(),
            or_na(rf, |v| format!("{v:.0}")),
            or_na(bf, |v| format!("{v:.0}")),
            or_na(rf.zip(bf), |(a, b)| format!("{:.2}", a / b)),
            or_na(rc, |v| format!("{v:.2}")),
            or_na(bc, |v| format!("{v:.2}")),
            or_na(rc.zip(bc), |(a, b)| format!("{:.2}", a / b)),
        ]);
    }
    let mut tables = vec![each, ratio];
    if args.repeat > 1 {
        let mut repeat = Table::new(
            "the same load repeated on the same server: frames/s per run",
            &[
                "server",
                "sessions",
                "frames_per_s_by_run",
                "last_over_first",
            ],
        );
        for server in ["replay", "baseline"] {
            for &n in &args.sessions {
                let fps: Vec<f64> = runs
                    .iter()
                    .filter(|r| r.server == server && r.sessions == n)
                    .map(Run::fps)
                    .collect();
                if let (Some(first), Some(last)) = (fps.first(), fps.last()) {
                    repeat.row(vec![
                        server.into(),
                        n.to_string(),
                        fps.iter()
                            .map(|v| format!("{v:.0}"))
                            .collect::<Vec<_>>()
                            .join(" / "),
                        format!("{:.2}", last / first),
                    ]);
                }
            }
        }
        tables.push(repeat);
    }
    tables
}

/// The median (the mean of the two middle values for an even count).
fn median_of(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// Options of `write-cassette`.
#[derive(Debug, Clone, clap::Args)]
pub struct WriteArgs {
    /// Folder to write `bench-throughput.jsonl` into (for `serve --cassettes`).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Audio deltas in the turn.
    #[arg(long, default_value_t = 500)]
    pub deltas: usize,
    /// PCM bytes per delta.
    #[arg(long, default_value_t = 960)]
    pub delta_bytes: usize,
}

/// Writes the replay benchmark's cassette, audio inline, for an external server.
pub fn write_cassette(args: &WriteArgs) -> Result<Report> {
    let cassette = cassette::throughput(args.deltas, args.delta_bytes);
    let path = args.out.join(format!("{}.jsonl", cassette::NAME));
    let io = |source| BenchError::Io {
        what: format!("writing {}", path.display()),
        source,
    };
    progress(format!("writing {}", path.display()));
    std::fs::create_dir_all(&args.out).map_err(io)?;
    std::fs::write(&path, cassette.to_jsonl_inline()?).map_err(io)?;
    let mut table = Table::new("cassette written", &["path", "frames"]);
    table.row(vec![
        path.display().to_string(),
        cassette.frames.len().to_string(),
    ]);
    Ok(Report {
        command: "write-cassette",
        server: "none",
        tables: vec![table],
    })
}

#[cfg(test)]
mod tests {
    use super::median_of;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_of(&mut []), None);
        assert_eq!(median_of(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median_of(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
