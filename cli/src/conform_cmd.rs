//! `understudy conform`: runs the conformance suite and writes its reports.

use crate::options;
use anyhow::{bail, Result};
use clap::ValueEnum;
use std::path::PathBuf;
use understudy_conformance::report::{self, Destination};
use understudy_conformance::{Baseline, CaseResult, Format, ReportSpec, RunOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Junit,
    Html,
    Markdown,
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
    // A bad baseline is an error before the run, not after it.
    let baseline = args.baseline.as_deref().map(Baseline::read).transpose()?;
    let results = understudy_conformance::run_all(&cases, &options).await;
    if results.is_empty() {
        bail!(
            "no case matches the filter {:?}",
            args.filter.unwrap_or_default()
        );
    }
    finish(&args, &options, baseline.as_ref(), &results)
}

/// Writes the reports and the baseline and compares with one; `Ok(false)` when
/// the run failed: a regression against `--baseline`, else a FAILED case.
fn finish(
    args: &ConformArgs,
    options: &RunOptions,
    baseline: Option<&Baseline>,
    results: &[CaseResult],
) -> Result<bool> {
    let format = match args.format {
        ReportFormat::Text => Format::Text,
        ReportFormat::Json => Format::Json,
        ReportFormat::Junit => Format::Junit,
        ReportFormat::Html => Format::Html,
        ReportFormat::Markdown => Format::Markdown,
    };
    let specs = report::plan(format, args.output.clone(), &args.reports);
    let stdout = understudy_conformance::write_reports(results, &specs)?;
    // Notes go to stderr when stdout carries a report for a machine or a file
    // (`--report markdown=- >> $GITHUB_STEP_SUMMARY`), so they do not corrupt it.
    let stdout_taken = specs
        .iter()
        .any(|s| s.destination == Destination::Stdout && s.format != Format::Text);
    match stdout {
        Some(report) => print!("{report}"),
        None if report::summary_on_stdout(&specs) => {
            print!("{}", understudy_conformance::render(results, Format::Text))
        }
        None => {}
    }
    let note = |line: &str| {
        if stdout_taken {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    for spec in &specs {
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
