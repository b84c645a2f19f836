//! `understudy conform`: runs the conformance suite and writes its reports.

use crate::options;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;
use understudy_conformance::drift;
use understudy_conformance::schedule::{run_jobs, Progress};
use understudy_conformance::target::{self, Target};
use understudy_conformance::{Format, RunOptions};

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
    // Grading another server (`--target`).
    /// Grade the server at this URL instead of our mocks: another mock, a
    /// gateway, or the real provider (a URL without a path is an origin, the
    /// dialect's path is appended; with a path it is the base URL as given).
    /// The cassette cases of --dialect run; what only our mock scripts
    /// (faults, limits, its exact words) grades INFORMATIONAL or UNIMPLEMENTED.
    /// Audio is sent in real time; --speed does not apply (the target keeps
    /// its own time).
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// The dialect the target claims, as a registry id (openai-ga,
    /// openai-beta, gemini-live, dashscope-omni); not needed for drift, where
    /// each cassette names its own.
    #[arg(long, value_name = "ID", requires = "target")]
    dialect: Option<String>,
    /// The environment variable holding the target's API key (default: the
    /// dialect's provider's, such as OPENAI_API_KEY; with none set, graded
    /// sessions send a placeholder key and drift sends none). Keys are never
    /// taken from the command line nor printed.
    #[arg(long, value_name = "VAR", requires = "target")]
    key_env: Option<String>,
    /// Do not name the cassette each session replays (`?cassette=` or
    /// `X-Understudy-Cassette`, for `serve --engine replay`), for a target
    /// that refuses what it does not know.
    #[arg(long, requires = "target")]
    no_cassette_choice: bool,
    // Drift (`--cassettes --target --record-to`).
    /// Cassette files or folders (searched for *.jsonl). With --target and
    /// --record-to: send each one's client side to the target and report drift.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    cassettes: Vec<PathBuf>,
    /// Drift: write what the target answers, as new cassettes (same relative
    /// names, marked `recorded`, the target as `upstream`) with a
    /// NAME.drift.json report beside each.
    #[arg(long, value_name = "OUT", requires_all = ["target", "cassettes"])]
    record_to: Option<PathBuf>,
    /// Drift: a server frame answering within this many milliseconds of its
    /// recorded delay is not a timing change.
    #[arg(long, value_name = "MS", default_value_t = 250, requires = "record_to")]
    drift_tolerance_ms: u64,
}

/// Runs the suite the arguments select and writes its report; `Ok(false)`
/// when a case FAILED.
pub(crate) async fn run(args: ConformArgs) -> Result<bool> {
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
    let results = match &args.target {
        Some(url) => {
            let against = against_target(&args, url)?;
            let jobs = match &against {
                AgainstTarget::Cases(target) => target::jobs(&cases, target, &options),
                AgainstTarget::Drift(cassettes, target) => drift::jobs(cassettes, target),
            };
            let concurrency =
                NonZeroUsize::new(target::DEFAULT_CONCURRENCY).unwrap_or(NonZeroUsize::MIN);
            run_jobs(jobs, concurrency, print_finished).await
        }
        None if !args.cassettes.is_empty() => {
            bail!("--cassettes without --target is not part of this build")
        }
        None => understudy_conformance::run_all(&cases, &options).await,
    };
    if results.is_empty() {
        bail!(
            "no case matches the filter {:?}",
            args.filter.unwrap_or_default()
        );
    }
    let format = match args.format {
        ReportFormat::Text => Format::Text,
        ReportFormat::Json => Format::Json,
        ReportFormat::Junit => Format::Junit,
    };
    let report = understudy_conformance::render(&results, format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
            if !matches!(format, Format::Text) {
                print!("{}", understudy_conformance::render(&results, Format::Text));
            }
            println!("report written to {}", path.display());
        }
        None => print!("{report}"),
    }
    Ok(understudy_conformance::passed(&results))
}

/// What `--target` runs.
enum AgainstTarget {
    /// The cassette cases of `--dialect` (grading the target).
    Cases(Target),
    /// Drift of `--cassettes`, recorded to `--record-to`.
    Drift(Vec<drift::NamedCassette>, drift::DriftTarget),
}

/// Reads what `--target URL` is asked to run; says where the key comes from.
fn against_target(args: &ConformArgs, url: &str) -> Result<AgainstTarget> {
    if !args.cassettes.is_empty() {
        let Some(record_to) = &args.record_to else {
            bail!("drift (--cassettes with --target) needs --record-to OUT");
        };
        let cassettes = drift::load(&args.cassettes)?;
        println!(
            "drift: {} cassette(s) against {url}, recording to {}",
            cassettes.len(),
            record_to.display()
        );
        let target = drift::DriftTarget {
            origin: url.to_owned(),
            key_env: args.key_env.clone(),
            record_to: record_to.clone(),
            tolerance: Duration::from_millis(args.drift_tolerance_ms),
            cassette_choice: !args.no_cassette_choice,
        };
        return Ok(AgainstTarget::Drift(cassettes, target));
    }
    let Some(dialect) = &args.dialect else {
        bail!("--target needs --dialect (or --cassettes and --record-to for drift)");
    };
    let spec = understudy_adapters::registry::dialect(dialect)?;
    let key = target::key::from_env(spec, args.key_env.as_deref())?;
    let from = key
        .as_ref()
        .map_or("no key variable set: a placeholder key".into(), |k| {
            format!("the key in ${}", k.var)
        });
    let mut target = Target::new(url, dialect, key.map(|k| k.key))?;
    target.cassette_hint = !args.no_cassette_choice;
    println!("grading {url} as {dialect} ({from})");
    Ok(AgainstTarget::Cases(target))
}

/// Prints a finished case's line with the run's progress.
fn print_finished(result: &understudy_conformance::CaseResult, progress: Progress) {
    println!(
        "[{}/{}] {:<13} {}",
        progress.finished,
        progress.total,
        result.grade.label(),
        result.id
    );
}
