//! Reports: what a run's results look like to the people and tools that read
//! them.
//!
//! Five formats, one module each, all pure functions from `&[CaseResult]` to a
//! `String`:
//! - [`text`] — the summary a terminal shows;
//! - [`json`] — every case with its evidence, diffable;
//! - [`junit`] — JUnit XML for CI (UNIMPLEMENTED is skipped; latencies are
//!   testcase properties);
//! - [`markdown`] — a CI step summary: counts, failures, latency table;
//! - [`html`] — one self-contained page: the summary, every case with its
//!   checks and evidence, latency distributions drawn as inline SVG.
//!
//! [`stats`] groups latency samples into distributions (per dialect, per
//! family) for the Markdown and HTML reports; [`svg`] draws them. A run may
//! write several reports at once: [`ReportSpec`] (`html=r.html`, `junit=-`)
//! names a format and where it goes, and [`write_reports`] writes them.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod stats;
pub mod svg;
pub mod text;

use crate::grade::{CaseResult, Grade};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable summary.
    Text,
    /// JSON with every case and its evidence.
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// One self-contained HTML page with latency distributions.
    Html,
    /// Markdown for CI step summaries.
    Markdown,
}

impl Format {
    /// Every format, as named on the command line.
    pub const NAMES: [(&'static str, Format); 5] = [
        ("text", Format::Text),
        ("json", Format::Json),
        ("junit", Format::Junit),
        ("html", Format::Html),
        ("markdown", Format::Markdown),
    ];
}

impl FromStr for Format {
    type Err = ReportSpecError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, format)| format)
            .ok_or_else(|| ReportSpecError::UnknownFormat(name.to_owned()))
    }
}

/// Where a report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output (`-`).
    Stdout,
    /// A file.
    File(PathBuf),
}

/// One report to write: `FORMAT=PATH`, `PATH` `-` for standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The format.
    pub format: Format,
    /// Where it goes.
    pub destination: Destination,
}

/// The reports a run writes: every `--report`, plus the one `--format` and
/// `--output` name when either was given (or when nothing else was: the text
/// summary on standard output, as a plain run prints).
pub fn plan(format: Format, output: Option<PathBuf>, reports: &[ReportSpec]) -> Vec<ReportSpec> {
    let mut specs = reports.to_vec();
    if output.is_some() || format != Format::Text || specs.is_empty() {
        specs.push(ReportSpec {
            format,
            destination: output.map_or(Destination::Stdout, Destination::File),
        });
    }
    specs
}

/// Whether a run writing `specs` should also print the text summary on
/// standard output: when no report takes standard output and no text report
/// went to a file.
pub fn summary_on_stdout(specs: &[ReportSpec]) -> bool {
    !specs.iter().any(|s| {
        s.destination == Destination::Stdout
            || (s.format == Format::Text && s.destination != Destination::Stdout)
    })
}

/// A `--report` value that is not `FORMAT=PATH`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportSpecError {
    /// No `=`, or nothing after it.
    #[error("expected FORMAT=PATH (e.g. html=report.html, markdown=-), got {0:?}")]
    Shape(String),
    /// A format name we do not write.
    #[error("unknown report format {0:?} (expected text, json, junit, html or markdown)")]
    UnknownFormat(String),
}

impl FromStr for ReportSpec {
    type Err = ReportSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (format, path) = spec
            .split_once('=')
            .filter(|(_, path)| !path.is_empty())
            .ok_or_else(|| ReportSpecError::Shape(spec.to_owned()))?;
        let destination = match path {
            "-" => Destination::Stdout,
            path => Destination::File(PathBuf::from(path)),
        };
        Ok(ReportSpec {
            format: format.parse()?,
            destination,
        })
    }
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// More than one report asked for standard output.
    #[error("more than one report asks for standard output ('-'); give the others a file")]
    TwoOnStdout,
    /// A file could not be written.
    #[error("writing the {format:?} report to {path}")]
    Io {
        /// The report's format.
        format: Format,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Writes every report in `specs` to its file and returns what goes to
/// standard output (at most one report; `None` when none does), so the caller
/// decides how it prints.
pub fn write_reports(
    results: &[CaseResult],
    specs: &[ReportSpec],
) -> Result<Option<String>, WriteError> {
    let on_stdout = specs
        .iter()
        .filter(|s| s.destination == Destination::Stdout)
        .count();
    if on_stdout > 1 {
        return Err(WriteError::TwoOnStdout);
    }
    let mut stdout = None;
    for spec in specs {
        let report = render(results, spec.format);
        match &spec.destination {
            Destination::Stdout => stdout = Some(report),
            Destination::File(path) => {
                write_file(path, &report).map_err(|source| WriteError::Io {
                    format: spec.format,
                    path: path.clone(),
                    source,
                })?
            }
        }
    }
    Ok(stdout)
}

fn write_file(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)
}

/// Whether the suite passed: nothing FAILED.
pub fn passed(results: &[CaseResult]) -> bool {
    results.iter().all(|r| r.grade != Grade::Failed)
}

/// How many results have `grade`.
pub(crate) fn count(results: &[CaseResult], grade: Grade) -> usize {
    results.iter().filter(|r| r.grade == grade).count()
}

/// Every grade, in print order (best first).
pub(crate) const GRADES: [Grade; 5] = [
    Grade::Ok,
    Grade::NonStrict,
    Grade::Informational,
    Grade::Unimplemented,
    Grade::Failed,
];

/// The count of each grade, as the JSON, Markdown and HTML reports print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// OK cases.
    pub ok: usize,
    /// NON-STRICT cases.
    pub non_strict: usize,
    /// INFORMATIONAL cases.
    pub informational: usize,
    /// UNIMPLEMENTED cases.
    pub unimplemented: usize,
    /// FAILED cases.
    pub failed: usize,
}

impl Summary {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Self {
        Summary {
            ok: count(results, Grade::Ok),
            non_strict: count(results, Grade::NonStrict),
            informational: count(results, Grade::Informational),
            unimplemented: count(results, Grade::Unimplemented),
            failed: count(results, Grade::Failed),
        }
    }

    /// The count of `grade`.
    pub fn get(&self, grade: Grade) -> usize {
        match grade {
            Grade::Ok => self.ok,
            Grade::NonStrict => self.non_strict,
            Grade::Informational => self.informational,
            Grade::Unimplemented => self.unimplemented,
            Grade::Failed => self.failed,
        }
    }

    /// One line: `3 OK, 0 NON-STRICT, …, 1 FAILED`.
    pub fn line(&self) -> String {
        GRADES
            .iter()
            .map(|&g| format!("{} {}", self.get(g), g.label()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Renders the results in `format`.
pub fn render(results: &[CaseResult], format: Format) -> String {
    match format {
        Format::Text => text::render(results),
        Format::Json => json::render(results),
        Format::Junit => junit::render(results),
        Format::Html => html::render(results),
        Format::Markdown => markdown::render(results),
    }
}

/// `text` escaped for XML and HTML (text and attribute values alike); control
/// characters XML cannot carry are dropped.
pub(crate) fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_markup_escaped(&mut out, c);
    }
    out
}

/// Pushes `c` escaped for XML and HTML (dropped if XML cannot carry it).
pub(crate) fn push_markup_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&apos;"),
        c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_specs_parse_format_and_destination() {
        assert_eq!(
            "html=out/r.html".parse(),
            Ok(ReportSpec {
                format: Format::Html,
                destination: Destination::File("out/r.html".into()),
            })
        );
        assert_eq!(
            "markdown=-".parse(),
            Ok(ReportSpec {
                format: Format::Markdown,
                destination: Destination::Stdout,
            })
        );
        assert_eq!(
            "pdf=r.pdf".parse::<ReportSpec>(),
            Err(ReportSpecError::UnknownFormat("pdf".into()))
        );
        assert_eq!(
            "html".parse::<ReportSpec>(),
            Err(ReportSpecError::Shape("html".into()))
        );
        assert_eq!(
            "html=".parse::<ReportSpec>(),
            Err(ReportSpecError::Shape("html=".into()))
        );
    }

    #[test]
    fn format_and_output_join_the_reports_when_given() {
        let html: ReportSpec = "html=r.html".parse().unwrap();
        // A plain run: the text summary on stdout.
        let plain = plan(Format::Text, None, &[]);
        assert_eq!(plain, ["text=-".parse().unwrap()]);
        assert!(!summary_on_stdout(&plain), "the text report is the summary");
        // --report alone: just those, and the summary printed beside them.
        let only = plan(Format::Text, None, std::slice::from_ref(&html));
        assert_eq!(only, std::slice::from_ref(&html));
        assert!(summary_on_stdout(&only));
        // --format junit --output r.xml with a --report: both.
        let both = plan(
            Format::Junit,
            Some("r.xml".into()),
            std::slice::from_ref(&html),
        );
        assert_eq!(both, [html, "junit=r.xml".parse().unwrap()]);
        // --format text --output r.txt: the summary is in the file.
        assert!(!summary_on_stdout(&plan(
            Format::Text,
            Some("r.txt".into()),
            &[]
        )));
    }

    #[test]
    fn only_one_report_may_take_standard_output() {
        let specs: Vec<ReportSpec> = ["json=-", "markdown=-"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(matches!(
            write_reports(&[], &specs),
            Err(WriteError::TwoOnStdout)
        ));
    }

    #[test]
    fn reports_go_to_their_files_and_one_to_stdout() {
        let dir = std::env::temp_dir().join(format!("understudy-reports-{}", std::process::id()));
        let junit = dir.join("nested/r.xml");
        let specs = vec![
            ReportSpec {
                format: Format::Junit,
                destination: Destination::File(junit.clone()),
            },
            "markdown=-".parse().unwrap(),
        ];
        let results = [crate::grade::blank("tts.x.first-sound".into(), "d")];
        let stdout = write_reports(&results, &specs).unwrap();
        assert!(stdout.unwrap().starts_with("## "), "the markdown report");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("tts.x.first-sound"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup("<a href=\"x\">&'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
    }
}
