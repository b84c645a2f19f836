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
use understudy_conformance::live::LivePrinter;
use understudy_conformance::schedule::{run_jobs_paced, Job};
use understudy_conformance::suite::{all_at_once, jobs, pacing};
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
    // Concurrency and live output.
    /// Run at most N cases at once (1 = one after another). Default: every
    /// case at once; they are independent, each against its own mock, and
    /// mostly wait on timed replies.
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
}

/// Runs the suite the arguments select and writes its report; `Ok(false)`
/// when a case FAILED.
pub(crate) async fn run(args: ConformArgs) -> Result<bool> {
    let cases = understudy_conformance::cases()?;
    if args.list {
        let listing: String = understudy_conformance::case_list(&cases)
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
    let jobs = jobs(&cases, &options);
    if jobs.is_empty() {
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
    // A machine-readable report on standard output keeps it to itself: the
    // live lines go to standard error then.
    let report_on_stdout = args.output.is_none() && !matches!(format, Format::Text);
    let results = run_streamed(jobs, args.jobs, report_on_stdout).await;
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(10);
    let mut out = LivePrinter::new(std::io::stdout(), None::<std::io::Stderr>, width);
    let report = understudy_conformance::render(&results, format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
            out.write("\n");
            if !matches!(format, Format::Text) {
                out.write(&understudy_conformance::render(&results, Format::Text));
            }
            out.write(&format!("report written to {}\n", path.display()));
        }
        None if report_on_stdout => out.write(&report),
        None => out.write(&format!("\n{report}")),
    }
    Ok(understudy_conformance::passed(&results))
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
