//! `journal-reads`: do inspector reads stall live sessions? With N sessions
//! journalled, live text sessions measure TTFA (client's turn to first audio
//! delta) twice in one run — alone, then while R readers loop over
//! `GET /__understudy/sessions` and `GET /__understudy/sessions/{id}` — and
//! the p99 difference is set against issue 18's target.

use crate::client::Session;
use crate::error::{BenchError, Result};
use crate::inspect::Inspector;
use crate::load::text_sessions;
use crate::report::{progress, Report, Table};
use crate::stats::{summarise, Summary};
use crate::target::{ExternalArgs, Target};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy_mock::{JournalCaps, JournalMode};

/// Issue 18's target: reads move TTFA p99 by less than this.
pub const TARGET_MS: f64 = 5.0;

/// Options of `journal-reads`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sessions journalled before measuring.
    #[arg(long, default_value_t = 5_000)]
    pub journalled: u64,
    /// Sessions open at a time while filling the journal.
    #[arg(long, default_value_t = 200)]
    pub fill_concurrency: usize,
    /// Live sessions open at a time in each phase.
    #[arg(long, default_value_t = 40)]
    pub live: usize,
    /// Text turns per live session (TTFA samples per phase = live × turns).
    #[arg(long, default_value_t = 5)]
    pub turns: usize,
    /// Rounds of the two phases, alternated (alone, with reads, alone, …)
    /// and pooled: a drift of the machine over the run then weighs on both.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Concurrent readers in the second phase.
    #[arg(long, default_value_t = 40)]
    pub readers: usize,
    /// Pause of each reader between reads (0: back to back, as fast as the
    /// server answers). A pause tells lock contention from a machine whose
    /// cores the reads simply fill.
    #[arg(long, default_value_t = 0)]
    pub read_pause_ms: u64,
    /// Run the readers on a runtime of their own whose one thread has this
    /// nice value (Linux; 0: on the clients' runtime, as before). 19 models
    /// readers on another machine — a browser, a dashboard — so the CPU the
    /// readers' own JSON parsing takes is not counted against the server.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..=19))]
    pub readers_nice: i32,
    /// In-process: the mock's timing factor (1 is real time: TTFA includes
    /// the responder's 180 ms to first audio).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// In-process: what the journal keeps.
    #[arg(long, default_value = "summary")]
    pub journal: JournalMode,
    /// In-process: most sessions the journal keeps (room for every session
    /// of the run by default; an external server needs `--journal-max-sessions`).
    #[arg(long, default_value_t = 20_000)]
    pub journal_max_sessions: usize,
    /// In-process: most bytes the journal keeps.
    #[arg(long, default_value_t = 1024 * 1024 * 1024)]
    pub journal_max_bytes: usize,
    /// The server (external: `understudy serve` with the respond engine).
    #[command(flatten)]
    pub external: ExternalArgs,
}

/// Starts the target for `args`.
pub fn target(args: &Args) -> Result<Target> {
    Target::respond(
        &args.external,
        args.speed,
        args.journal,
        JournalCaps {
            max_sessions: args.journal_max_sessions,
            max_bytes: args.journal_max_bytes,
        },
    )
}

/// One phase's measurements, pooled over the rounds.
struct Phase {
    name: &'static str,
    ttfa_samples: Vec<Duration>,
    connect_samples: Vec<Duration>,
    failed: u64,
    reads: ReadCounts,
    /// Cores used in each round.
    rounds: Vec<CpuUse>,
}

impl Phase {
    fn new(name: &'static str) -> Self {
        Phase {
            name,
            ttfa_samples: Vec::new(),
            connect_samples: Vec::new(),
            failed: 0,
            reads: ReadCounts::default(),
            rounds: Vec::new(),
        }
    }

    /// Adds one round's measurements.
    fn add(
        &mut self,
        ttfa: Vec<Duration>,
        connect: Vec<Duration>,
        failed: u64,
        reads: ReadCounts,
        cpu: CpuUse,
    ) {
        self.ttfa_samples.extend(ttfa);
        self.connect_samples.extend(connect);
        self.failed += failed;
        self.reads.add(reads);
        self.rounds.push(cpu);
    }

    fn ttfa(&self) -> Summary {
        summarise(&self.ttfa_samples)
    }

    fn connect(&self) -> Summary {
        summarise(&self.connect_samples)
    }

    /// Cores used, the mean over the rounds (`None` if not measured).
    fn cpu(&self) -> CpuUse {
        let mean = |pick: fn(&CpuUse) -> Option<f64>| {
            let all: Option<Vec<f64>> = self.rounds.iter().map(pick).collect();
            all.filter(|v| !v.is_empty())
                .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        };
        CpuUse {
            server: mean(|c| c.server),
            process: mean(|c| c.process),
        }
    }
}

/// Cores in use during a phase: the server's and the whole process's
/// (in-process, the process is the server and the clients together).
#[derive(Debug, Clone, Copy, Default)]
struct CpuUse {
    server: Option<f64>,
    process: Option<f64>,
}

/// CPU counters at the start of a phase.
struct CpuMeter {
    started: Instant,
    server: Option<u64>,
    process: Option<u64>,
}

impl CpuMeter {
    fn start(target: &Target) -> Self {
        CpuMeter {
            started: Instant::now(),
            server: target.cpu_ns(),
            process: crate::procstat::process_cpu_ns(std::process::id()).ok(),
        }
    }

    fn stop(self, target: &Target) -> CpuUse {
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let cores = |before: Option<u64>, after: Option<u64>| {
            before
                .zip(after)
                .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9 / secs)
        };
        CpuUse {
            server: cores(self.server, target.cpu_ns()),
            process: cores(
                self.process,
                crate::procstat::process_cpu_ns(std::process::id()).ok(),
            ),
        }
    }
}

/// What the readers did.
#[derive(Debug, Default, Clone)]
struct ReadCounts {
    ok: u64,
    not_found: u64,
    failed: u64,
    bytes: u64,
    latency: Vec<Duration>,
}

impl ReadCounts {
    fn add(&mut self, other: ReadCounts) {
        self.ok += other.ok;
        self.not_found += other.not_found;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.latency.extend(other.latency);
    }
}

/// Live sessions: `live` at once, `turns` each; TTFA and connect samples.
async fn live_phase(ws: &str, live: usize, turns: usize) -> (Vec<Duration>, Vec<Duration>, u64) {
    let mut tasks = Vec::with_capacity(live);
    for i in 0..live {
        let ws = ws.to_owned();
        tasks.push(tokio::spawn(async move {
            let (mut session, connect) = Session::open(&ws, None).await?;
            let mut ttfa = Vec::with_capacity(turns);
            for turn in 0..turns {
                let answer = session
                    .text_turn(&format!("Live {i}, turn {turn}: what time is it?"))
                    .await?;
                ttfa.push(answer.ttfa.ok_or_else(|| {
                    BenchError::Protocol("a response ended without audio".into())
                })?);
            }
            session.close().await;
            Ok::<_, BenchError>((connect, ttfa))
        }));
    }
    let (mut ttfa, mut connect, mut failed) = (Vec::new(), Vec::new(), 0);
    for task in tasks {
        match task.await {
            Ok(Ok((c, t))) => {
                connect.push(c);
                ttfa.extend(t);
            }
            Ok(Err(error)) => {
                failed += 1;
                progress(format!("a live session failed: {error}"));
            }
            Err(error) => {
                failed += 1;
                progress(format!("a live session task ended: {error}"));
            }
        }
    }
    (ttfa, connect, failed)
}

/// A small deterministic generator (xorshift) so readers spread their reads.
struct Spread(u64);

impl Spread {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if n == 0 {
            0
        } else {
            self.0 % n
        }
    }
}

/// One reader: list pages and single sessions, alternately, until `stop`.
async fn reader(
    inspector: Inspector,
    seed: u64,
    ids: (u64, u64),
    pause: Duration,
    stop: Arc<AtomicBool>,
) -> ReadCounts {
    let mut counts = ReadCounts::default();
    let mut spread = Spread(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (first, last) = ids;
    let kept = last.saturating_sub(first) + 1;
    let mut list = true;
    while !stop.load(Ordering::Relaxed) {
        let path = if list {
            format!(
                "/__understudy/sessions?offset={}&limit=100",
                spread.below(kept)
            )
        } else {
            format!("/__understudy/sessions/{}", first + spread.below(kept))
        };
        list = !list;
        let started = Instant::now();
        match inspector.get_status(&path).await {
            Ok((200, len)) => {
                counts.ok += 1;
                counts.bytes += len as u64;
                counts.latency.push(started.elapsed());
            }
            Ok((404, _)) => counts.not_found += 1,
            Ok(_) | Err(_) => counts.failed += 1,
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    counts
}

/// Runs the benchmark against `target`.
pub async fn run(args: &Args, target: &Target) -> Result<Report> {
    let inspector = Inspector::new(&target.http)?;
    progress(format!(
        "filling the journal: {} sessions, {} at a time",
        args.journalled, args.fill_concurrency
    ));
    let fill = text_sessions(&target.ws, 0, args.journalled, args.fill_concurrency, 1_000).await;
    if let Some(error) = &fill.first_error {
        progress(format!(
            "{} fill sessions failed; the first: {error}",
            fill.failed
        ));
    }
    let before = inspector.stats().await?;
    progress(format!(
        "journal holds {} sessions ({} evicted)",
        before.sessions, before.evicted_sessions
    ));
    let ids = (
        before.opened + 1 - before.sessions.max(1),
        before.opened.max(1),
    );

    let mut alone = Phase::new("alone");
    let mut with_reads = Phase::new("with_reads");
    for round in 1..=args.rounds {
        progress(format!(
            "round {round}/{}: {} live sessions × {} turns, no readers",
            args.rounds, args.live, args.turns
        ));
        let meter = CpuMeter::start(target);
        let (ttfa, connect, failed) = live_phase(&target.ws, args.live, args.turns).await;
        alone.add(
            ttfa,
            connect,
            failed,
            ReadCounts::default(),
            meter.stop(target),
        );

        progress(format!(
            "round {round}/{}: the same with {} readers",
            args.rounds, args.readers
        ));
        let (ttfa, connect, failed, reads, cpu) =
            reads_phase(args, target, &inspector, ids).await?;
        with_reads.add(ttfa, connect, failed, reads, cpu);
    }
    let after = inspector.stats().await?;
    Ok(Report {
        command: "journal-reads",
        server: target.label(),
        tables: tables(args, &before, &after, &[alone, with_reads]),
    })
}

/// What one phase with readers measured: TTFA, connect, failed sessions,
/// the reads and the cores used.
type ReadsPhase = (Vec<Duration>, Vec<Duration>, u64, ReadCounts, CpuUse);

/// Live sessions while `args.readers` readers loop over the inspector.
async fn reads_phase(
    args: &Args,
    target: &Target,
    inspector: &Inspector,
    ids: (u64, u64),
) -> Result<ReadsPhase> {
    let stop = Arc::new(AtomicBool::new(false));
    let reader_runtime = match args.readers_nice {
        0 => None,
        nice => Some(crate::target::niced_runtime("bench-readers", 1, nice)?),
    };
    // Readers on their own runtime get their own HTTP client: a pooled
    // connection belongs to the runtime that opened it.
    let reader_client = match &reader_runtime {
        Some(_) => Inspector::new(&target.http)?,
        None => inspector.clone(),
    };
    let readers: Vec<_> = (0..args.readers)
        .map(|i| {
            let read = reader(
                reader_client.clone(),
                i as u64 + 1,
                ids,
                Duration::from_millis(args.read_pause_ms),
                Arc::clone(&stop),
            );
            match &reader_runtime {
                Some(runtime) => runtime.spawn(read),
                None => tokio::spawn(read),
            }
        })
        .collect();
    // Let every reader get going before the live sessions start.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let meter = CpuMeter::start(target);
    let (ttfa, connect, failed) = live_phase(&target.ws, args.live, args.turns).await;
    let cpu = meter.stop(target);
    stop.store(true, Ordering::Relaxed);
    let mut reads = ReadCounts::default();
    for r in readers {
        reads.add(r.await?);
    }
    if let Some(runtime) = reader_runtime {
        runtime.shutdown_background();
    }
    Ok((ttfa, connect, failed, reads, cpu))
}

fn tables(
    args: &Args,
    before: &crate::inspect::JournalCounters,
    after: &crate::inspect::JournalCounters,
    phases: &[Phase; 2],
) -> Vec<Table> {
    let ms = |v: f64| format!("{v:.1}");
    let mut main = Table::new(
        format!(
            "TTFA of live text sessions ({} live × {} turns, {} round(s)) with {} sessions journalled",
            args.live, args.turns, args.rounds, before.sessions
        ),
        &[
            "phase",
            "samples",
            "failed",
            "ttfa_p50_ms",
            "ttfa_p99_ms",
            "ttfa_max_ms",
            "connect_p50_ms",
            "connect_p99_ms",
            "reads_ok",
            "reads_404",
            "reads_failed",
            "read_p50_ms",
            "read_p99_ms",
            "read_mib",
            "server_cores",
            "bench_process_cores",
        ],
    );
    for p in phases {
        let r = summarise(&p.reads.latency);
        let (ttfa, connect, cpu) = (p.ttfa(), p.connect(), p.cpu());
        main.row(vec![
            p.name.into(),
            ttfa.n.to_string(),
            p.failed.to_string(),
            ms(ttfa.p50_ms),
            ms(ttfa.p99_ms),
            ms(ttfa.max_ms),
            ms(connect.p50_ms),
            ms(connect.p99_ms),
            p.reads.ok.to_string(),
            p.reads.not_found.to_string(),
            p.reads.failed.to_string(),
            ms(r.p50_ms),
            ms(r.p99_ms),
            crate::report::mib(p.reads.bytes),
            crate::report::or_na(cpu.server, |c| format!("{c:.2}")),
            crate::report::or_na(cpu.process, |c| format!("{c:.2}")),
        ]);
    }
    let (alone, with_reads) = (phases[0].ttfa(), phases[1].ttfa());
    let diff = with_reads.p99_ms - alone.p99_ms;
    let mut verdict = Table::new(
        "TTFA p99 moved by the reads",
        &[
            "p99_alone_ms",
            "p99_with_reads_ms",
            "difference_ms",
            "target_ms",
            "within_target",
        ],
    );
    verdict.row(vec![
        ms(alone.p99_ms),
        ms(with_reads.p99_ms),
        format!("{diff:+.1}"),
        format!("{TARGET_MS:.0}"),
        if diff < TARGET_MS { "yes" } else { "no" }.into(),
    ]);
    let mut journal = Table::new(
        "journal (/__understudy/journal/stats) before and after the phases",
        &[
            "when",
            "kept",
            "opened",
            "evicted",
            "journal_mib",
            "write_lock_waits",
            "write_lock_wait_ms",
            "write_lock_wait_max_ms",
        ],
    );
    let us_as_ms = |us: u64| format!("{:.3}", us as f64 / 1_000.0);
    for (when, s) in [("before", before), ("after", after)] {
        journal.row(vec![
            when.into(),
            s.sessions.to_string(),
            s.opened.to_string(),
            s.evicted_sessions.to_string(),
            crate::report::mib(s.bytes),
            crate::report::or_na(s.write_lock_waits, |n| n.to_string()),
            crate::report::or_na(s.write_lock_wait_us, us_as_ms),
            crate::report::or_na(s.write_lock_wait_max_us, us_as_ms),
        ]);
    }
    vec![main, verdict, journal]
}
