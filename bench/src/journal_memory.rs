//! `journal-memory`: does the journal stay bounded? N short text sessions,
//! C at a time, against the respond engine; the server's RSS after the first
//! checkpoint (1,000) and after all N, the difference against the target, and
//! the journal's counters (`/__understudy/journal/stats`: caps, evictions).

use crate::error::Result;
use crate::inspect::{Inspector, JournalCounters};
use crate::load::text_sessions;
use crate::report::{mib, or_na, progress, Report, Table};
use crate::target::{ExternalArgs, Target};
use std::time::Duration;
use understudy_mock::{JournalCaps, JournalMode};

/// Issue 18's target: RSS after N within this much of RSS after 1,000.
pub const TARGET_MIB: f64 = 50.0;

/// Options of `journal-memory`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sessions in all.
    #[arg(long, default_value_t = 20_000)]
    pub sessions: u64,
    /// Sessions open at a time.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Sessions after which RSS is read the first time.
    #[arg(long, default_value_t = 1_000)]
    pub checkpoint: u64,
    /// In-process: the mock's timing factor (10 answers ten times faster than
    /// real time; the journal keeps the same frames at any speed).
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// In-process: what the journal keeps (`off`, `summary`, `full`).
    #[arg(long, default_value = "summary")]
    pub journal: JournalMode,
    /// In-process: most sessions the journal keeps.
    #[arg(long, default_value_t = JournalCaps::DEFAULT_MAX_SESSIONS)]
    pub journal_max_sessions: usize,
    /// In-process: most bytes the journal keeps.
    #[arg(long, default_value_t = JournalCaps::DEFAULT_MAX_BYTES)]
    pub journal_max_bytes: usize,
    /// The server (external: start `understudy serve` with the respond engine).
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

/// One reading: after how many sessions, RSS and the journal's counters.
struct Point {
    label: String,
    run: u64,
    failed: u64,
    rss: Option<u64>,
    stats: Option<JournalCounters>,
}

/// Runs the benchmark against `target`.
pub async fn run(args: &Args, target: &Target) -> Result<Report> {
    let inspector = Inspector::new(&target.http)?;
    let checkpoint = args.checkpoint.min(args.sessions);
    let mut points = Vec::new();
    let mut failed = 0;
    let mut first_error = None;
    for (from, to) in [(0, checkpoint), (checkpoint, args.sessions)] {
        if to <= from && !points.is_empty() {
            continue;
        }
        progress(format!(
            "sessions {from}..{to}, {} at a time",
            args.concurrency
        ));
        let outcome = text_sessions(&target.ws, from, to, args.concurrency, 1_000).await;
        failed += outcome.failed;
        first_error = first_error.or(outcome.first_error);
        // Let the server finish closing the last sessions before reading.
        tokio::time::sleep(Duration::from_millis(500)).await;
        points.push(Point {
            label: format!("after {to}"),
            run: to,
            failed,
            rss: target.rss_bytes(),
            stats: inspector.stats().await.ok(),
        });
    }
    let mut readings = Table::new(
        "server memory and journal after the sessions",
        &[
            "point",
            "sessions_run",
            "failed",
            "rss_mib",
            "journal_sessions",
            "journal_mib",
            "evicted",
            "opened",
        ],
    );
    for p in &points {
        let s = p.stats.as_ref();
        readings.row(vec![
            p.label.clone(),
            p.run.to_string(),
            p.failed.to_string(),
            or_na(p.rss, mib),
            or_na(s, |s| s.sessions.to_string()),
            or_na(s, |s| mib(s.bytes)),
            or_na(s, |s| s.evicted_sessions.to_string()),
            or_na(s, |s| s.opened.to_string()),
        ]);
    }
    let mut verdict = Table::new(
        "RSS growth from the first reading to the last",
        &["from", "to", "growth_mib", "target_mib", "within_target"],
    );
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let growth = match (first.rss, last.rss) {
            (Some(a), Some(b)) => Some((b as f64 - a as f64) / (1024.0 * 1024.0)),
            _ => None,
        };
        verdict.row(vec![
            first.label.clone(),
            last.label.clone(),
            or_na(growth, |g| format!("{g:.1}")),
            format!("{TARGET_MIB:.0}"),
            or_na(growth, |g| {
                if g <= TARGET_MIB { "yes" } else { "no" }.to_owned()
            }),
        ]);
    }
    let mut caps = Table::new(
        "journal caps and counters (/__understudy/journal/stats)",
        &[
            "mode",
            "max_sessions",
            "max_mib",
            "kept",
            "evicted",
            "dropped_entries",
            "cleared",
        ],
    );
    if let Some(s) = points.last().and_then(|p| p.stats.as_ref()) {
        caps.row(vec![
            s.mode.clone(),
            s.max_sessions.to_string(),
            mib(s.max_bytes),
            s.sessions.to_string(),
            s.evicted_sessions.to_string(),
            s.dropped_entries.to_string(),
            s.cleared_sessions.to_string(),
        ]);
    } else {
        caps.row(vec!["n/a (no stats route on this server)".into()]);
    }
    if let Some(error) = first_error {
        progress(format!("{failed} sessions failed; the first: {error}"));
    }
    Ok(Report {
        command: "journal-memory",
        server: target.label(),
        tables: vec![readings, verdict, caps],
    })
}
