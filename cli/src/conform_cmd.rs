//! `understudy conform`: runs the conformance suite and writes its reports.

use crate::options;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::path::PathBuf;
use std::time::Duration;
use understudy_conformance::cassette_cases;
use understudy_conformance::schedule::run_jobs;
use understudy_conformance::{CaseResult, Format, RunOptions};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Junit,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ConformArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Write the report here instead of standard output (a text summary still prints).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Run only cases whose id contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Replay speed (positive, finite); latency figures are only meaningful at 1.
    #[arg(long, default_value_t = 1.0, value_parser = options::speed)]
    speed: f64,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
    // ---- user cassettes: `--cassettes` and its options ----
    /// Grade these cassettes instead of the bundled suite: files, or
    /// directories searched (recursively) for `*.jsonl`. Each cassette gives
    /// one case per check, `cassette.<name>.<check>` (decode, invariants,
    /// replay, agent, latency, snapshot); `--filter` applies to those ids.
    #[arg(long, num_args = 1.., value_name = "DIR|FILE")]
    cassettes: Vec<PathBuf>,
    /// With `--cassettes`: how far (in ms) a replayed turn's TTFB and TTFA may
    /// be from the recording's own before the latency case FAILs.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_LATENCY_TOLERANCE_MS)]
    latency_tolerance_ms: u64,
    /// With `--cassettes`: write each cassette's snapshot of normalised
    /// events (`<name>.snap.json` beside it) instead of comparing with it.
    #[arg(long)]
    update_snapshots: bool,
}

/// `--latency-tolerance-ms` unless given (the conformance crate's default).
const DEFAULT_LATENCY_TOLERANCE_MS: u64 =
    understudy_conformance::cassette_cases::latency::DEFAULT_TOLERANCE.as_millis() as u64;

/// Runs the suite the arguments select and writes its report; `Ok(false)`
/// when a case FAILED.
pub(crate) async fn run(args: ConformArgs) -> Result<bool> {
    if !args.cassettes.is_empty() {
        let results = run_cassettes(&args).await?;
        return report(&args, &results);
    }
    let cases = understudy_conformance::cases()?;
    if args.list {
        for (id, description) in understudy_conformance::case_list(&cases) {
            println!("{id:<40} {description}");
        }
        return Ok(true);
    }
    let options = RunOptions {
        speed: args.speed,
        filter: args.filter.clone(),
    };
    let results = understudy_conformance::run_all(&cases, &options).await;
    report(&args, &results)
}

/// `--cassettes`: lists or grades the cases of the cassettes named.
async fn run_cassettes(args: &ConformArgs) -> Result<Vec<CaseResult>> {
    let found = cassette_cases::find_cassettes(&args.cassettes)?;
    if args.list {
        for (id, description) in cassette_cases::case_list(&found) {
            println!("{id:<40} {description}");
        }
        return Ok(Vec::new());
    }
    let options = cassette_cases::CassetteOptions {
        run: RunOptions {
            speed: args.speed,
            filter: args.filter.clone(),
        },
        latency_tolerance: Duration::from_millis(args.latency_tolerance_ms),
        update_snapshots: args.update_snapshots,
    };
    let jobs = cassette_cases::jobs(&found, &options);
    Ok(run_jobs(jobs, cassette_cases::CONCURRENCY, |_, _| {}).await)
}

/// Writes the report of `results`; `Ok(false)` when a case FAILED.
fn report(args: &ConformArgs, results: &[CaseResult]) -> Result<bool> {
    if args.list {
        return Ok(true);
    }
    if results.is_empty() {
        bail!(
            "no case matches the filter {:?}",
            args.filter.clone().unwrap_or_default()
        );
    }
    let format = match args.format {
        ReportFormat::Text => Format::Text,
        ReportFormat::Json => Format::Json,
        ReportFormat::Junit => Format::Junit,
    };
    let report = understudy_conformance::render(results, format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
            if !matches!(format, Format::Text) {
                print!("{}", understudy_conformance::render(results, Format::Text));
            }
            println!("report written to {}", path.display());
        }
        None => print!("{report}"),
    }
    Ok(understudy_conformance::passed(results))
}
