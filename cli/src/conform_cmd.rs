//! `understudy conform`: runs the conformance suite and writes its reports.
//!
//! The cases run side by side (`--jobs`); each case's line prints the moment
//! it finishes (with a progress line on a terminal, see
//! `understudy_conformance::live`), then the summary in catalogue order. A
//! reader that goes away (`conform --list | head`) ends the printing
//! quietly, never the run.

use crate::options;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;
use understudy_conformance::cassette_cases;
use understudy_conformance::drift;
use understudy_conformance::live::LivePrinter;
use understudy_conformance::report::{self, Destination};
use understudy_conformance::schedule::{run_jobs_paced, Job};
use understudy_conformance::suite::{all_at_once, jobs, pacing};
use understudy_conformance::target::{self, Target};
use understudy_conformance::{Baseline, CaseResult, Format, ReportSpec, RunOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Junit,
    Html,
    Markdown,
}

impl From<ReportFormat> for Format {
    fn from(format: ReportFormat) -> Self {
        match format {
            ReportFormat::Text => Format::Text,
            ReportFormat::Json => Format::Json,
            ReportFormat::Junit => Format::Junit,
            ReportFormat::Html => Format::Html,
            ReportFormat::Markdown => Format::Markdown,
        }
    }
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

    // Reports and baselines.
    /// Write a report as FORMAT=PATH, FORMAT one of text, json, junit, html,
    /// markdown; PATH `-` is standard output (at most one report). Repeatable:
    /// `--report html=r.html --report junit=r.xml --report markdown=-`. Works
    /// alongside --format/--output.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    reports: Vec<ReportSpec>,
    /// Write the run's expected results (grade and a digest of the normalised
    /// events per case id; no timings) to FILE, for a later --baseline.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Compare the run with the expected results in FILE (written by
    /// --write-baseline): print each regression and improvement, and exit
    /// non-zero on a regression only (an expected FAILED does not fail).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    // Concurrency and live output.
    /// Run at most N cases at once (1 = one after another). Default: every
    /// case at once (they are independent, each against its own mock, and
    /// mostly wait on timed replies); against a --target, 4.
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,

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
    // Your cassettes (`--cassettes`), and drift (`--cassettes --target --record-to`).
    /// Grade these cassettes instead of the bundled suite: files, or
    /// directories searched (recursively) for `*.jsonl`. Each cassette gives
    /// one case per check, `cassette.<name>.<check>` (decode, invariants,
    /// replay, agent, latency, snapshot); `--filter` applies to those ids.
    /// With --target and --record-to: send each one's client side to the
    /// target and report drift instead.
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

/// `--latency-tolerance-ms` unless given (the conformance crate's default).
const DEFAULT_LATENCY_TOLERANCE_MS: u64 =
    cassette_cases::latency::DEFAULT_TOLERANCE.as_millis() as u64;

/// Runs the suite the arguments select and writes its report; `Ok(false)`
/// when a case FAILED.
pub(crate) async fn run(args: ConformArgs) -> Result<bool> {
    let cases = understudy_conformance::cases()?;
    // `--cassettes` alone grades those cassettes instead of the bundled suite
    // (with `--target` and `--record-to` they are resent for drift instead).
    let user_cassettes = if args.cassettes.is_empty() || args.target.is_some() {
        None
    } else {
        Some(cassette_cases::find_cassettes(&args.cassettes)?)
    };
    if args.list {
        let listed = match &user_cassettes {
            Some(found) => cassette_cases::case_list(found),
            None => understudy_conformance::case_list(&cases),
        };
        let listing: String = listed
            .into_iter()
            .map(|(id, description)| format!("{id:<40} {description}\n"))
            .collect();
        let mut out = std::io::stdout().lock();
        match out.write_all(listing.as_bytes()).and_then(|()| out.flush()) {
            // The reader took what it wanted (`| head`): not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.context("writing the case list")?,
        }
        return Ok(true);
    }
    let options = RunOptions {
        speed: args.speed,
        filter: args.filter.clone(),
    };
    let cassette_options = cassette_cases::CassetteOptions {
        run: options.clone(),
        latency_tolerance: Duration::from_millis(args.latency_tolerance_ms),
        update_snapshots: args.update_snapshots,
    };
    // A bad baseline is an error before the run, not after it.
    let baseline = args.baseline.as_deref().map(Baseline::read).transpose()?;
    let specs = report::plan(args.format.into(), args.output.clone(), &args.reports);
    // What runs: the bundled suite, the user's cassettes, the cases graded
    // against a target, or the drift of cassettes against one.
    let against = args
        .target
        .as_deref()
        .map(|url| against_target(&args, url))
        .transpose()?;
    let (jobs, default_jobs) = match &against {
        Some(AgainstTarget::Cases(target)) => (
            target::jobs(&cases, target, &options),
            NonZeroUsize::new(target::DEFAULT_CONCURRENCY),
        ),
        Some(AgainstTarget::Drift(cassettes, target)) => (
            drift::jobs(cassettes, target),
            NonZeroUsize::new(target::DEFAULT_CONCURRENCY),
        ),
        None => match &user_cassettes {
            Some(found) => (
                cassette_cases::jobs(found, &cassette_options),
                Some(cassette_cases::CONCURRENCY),
            ),
            None => (jobs(&cases, &options), None),
        },
    };
    if jobs.is_empty() {
        bail!(
            "no case matches the filter {:?}",
            args.filter.unwrap_or_default()
        );
    }
    // A machine-readable report on standard output keeps it to itself: the
    // live lines go to standard error then.
    let stdout_taken = machine_report_on_stdout(&specs);
    let results = run_streamed(jobs, args.jobs.or(default_jobs), stdout_taken).await;
    finish(&args, &options, baseline.as_ref(), &specs, &results)
}

/// Whether a report other than the text summary goes to standard output:
/// then standard output carries that report alone.
fn machine_report_on_stdout(specs: &[ReportSpec]) -> bool {
    specs
        .iter()
        .any(|s| s.destination == Destination::Stdout && s.format != Format::Text)
}

/// Writes the reports and the baseline and compares with one; `Ok(false)` when
/// the run failed: a regression against `--baseline`, else a FAILED case.
fn finish(
    args: &ConformArgs,
    options: &RunOptions,
    baseline: Option<&Baseline>,
    specs: &[ReportSpec],
    results: &[CaseResult],
) -> Result<bool> {
    let stdout = understudy_conformance::write_reports(results, specs)?;
    // Notes go to stderr when stdout carries a report for a machine or a file
    // (`--report markdown=- >> $GITHUB_STEP_SUMMARY`), so they do not corrupt it.
    let stdout_taken = machine_report_on_stdout(specs);
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(10);
    // Printing stops quietly if the reader has gone (`| head`); the run's
    // status still decides the exit code.
    let mut out = LivePrinter::new(std::io::stdout(), None::<std::io::Stderr>, width);
    match stdout {
        Some(report) if stdout_taken => out.write(&report),
        Some(report) => out.write(&format!("\n{report}")),
        None if report::summary_on_stdout(specs) => out.write(&format!(
            "\n{}",
            understudy_conformance::render(results, Format::Text)
        )),
        None => {}
    }
    let mut note = |line: &str| {
        if stdout_taken {
            eprintln!("{line}");
        } else {
            out.write(&format!("{line}\n"));
        }
    };
    for spec in specs {
        if let Destination::File(path) = &spec.destination {
            note(&format!("report written to {}", path.display()));
        }
    }
    let mut ok = understudy_conformance::passed(results);
    if let Some(baseline) = baseline {
        let comparison =
            understudy_conformance::compare(baseline, results, |id| options.selects(id));
        note(comparison.render().trim_end());
        ok = !comparison.regressed();
    }
    if let Some(path) = &args.write_baseline {
        Baseline::from_results(results).write(path)?;
        note(&format!("baseline written to {}", path.display()));
    }
    Ok(ok)
}

/// Runs `jobs` (at most `concurrency` at once; `None`: all), started as the
/// suite paces them, printing each case's line as it finishes — to standard
/// error when `to_stderr`, else to standard output — with a progress line
/// when standard error is a terminal. The results, in the jobs' order.
async fn run_streamed(
    jobs: Vec<Job<'_>>,
    concurrency: Option<NonZeroUsize>,
    to_stderr: bool,
) -> Vec<CaseResult> {
    let concurrency = concurrency.unwrap_or_else(|| all_at_once(&jobs));
    let width = jobs.iter().map(|j| j.id.len()).max().unwrap_or(10);
    let terminal = std::io::stderr().is_terminal().then(std::io::stderr);
    let live: Box<dyn Write> = if to_stderr {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let mut printer = LivePrinter::new(live, terminal, width);
    printer.started(jobs.len());
    let pacing = pacing(&jobs);
    let results = run_jobs_paced(jobs, concurrency, &pacing, |result, progress| {
        printer.finished(result, progress)
    })
    .await;
    printer.done();
    results
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
