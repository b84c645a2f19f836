//! `understudy conform`: runs the conformance suite and writes its reports.

use crate::options;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::path::PathBuf;
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
    let results = understudy_conformance::run_all(&cases, &options).await;
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
