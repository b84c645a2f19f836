//! Reports: a readable text summary, JSON (diffable, with evidence) and JUnit XML.

use crate::grade::{CaseResult, Grade};
use serde::Serialize;
use std::fmt::Write as _;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable summary.
    Text,
    /// JSON with every case and its evidence.
    Json,
    /// JUnit XML for CI systems.
    Junit,
}

/// Whether the suite passed: nothing FAILED.
pub fn passed(results: &[CaseResult]) -> bool {
    results.iter().all(|r| r.grade != Grade::Failed)
}

fn count(results: &[CaseResult], grade: Grade) -> usize {
    results.iter().filter(|r| r.grade == grade).count()
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

/// Renders the results in `format`.
pub fn render(results: &[CaseResult], format: Format) -> String {
    match format {
        Format::Text => text(results),
        Format::Json => json(results),
        Format::Junit => junit(results),
    }
}

fn text(results: &[CaseResult]) -> String {
    let mut out = String::new();
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(10);
    let _ = writeln!(out, "understudy conformance — {} cases\n", results.len());
    for r in results {
        out.push_str(&case_lines(r, width));
    }
    let mut ttfb: Vec<f64> = results
        .iter()
        .flat_map(|r| r.latency.iter().map(|l| l.ttfb_ms))
        .collect();
    let mut ttfa: Vec<f64> = results
        .iter()
        .flat_map(|r| r.latency.iter().map(|l| l.ttfa_ms))
        .collect();
    let _ = writeln!(
        out,
        "\n{} OK, {} NON-STRICT, {} INFORMATIONAL, {} UNIMPLEMENTED, {} FAILED",
        count(results, Grade::Ok),
        count(results, Grade::NonStrict),
        count(results, Grade::Informational),
        count(results, Grade::Unimplemented),
        count(results, Grade::Failed)
    );
    let first_sound: Vec<String> = results
        .iter()
        .filter(|r| r.id.ends_with(".first-sound"))
        .filter_map(|r| {
            let engine = r.id.strip_prefix("tts.")?.strip_suffix(".first-sound")?;
            Some(format!("{engine} {:.1} ms", r.time_to_first_sound_ms?))
        })
        .collect();
    if !first_sound.is_empty() {
        let _ = writeln!(out, "time to first sound: {}", first_sound.join(", "));
    }
    if let (Some(b), Some(a)) = (median(&mut ttfb), median(&mut ttfa)) {
        let _ = writeln!(
            out,
            "median TTFB {b:.1} ms, median TTFA {a:.1} ms over {} responses",
            ttfb.len()
        );
    }
    out
}

/// A case's lines in the text report (its grade, id and latency, then its
/// reason and handover summary, if any), ids padded to `width`: what the
/// summary prints per case and what `conform` prints as each case finishes.
pub fn case_lines(r: &CaseResult, width: usize) -> String {
    let mut out = String::new();
    let latency = match (r.latency.first(), r.time_to_first_sound_ms) {
        (Some(l), _) => format!("TTFB {:>6.1} ms  TTFA {:>6.1} ms", l.ttfb_ms, l.ttfa_ms),
        (None, Some(ttfs)) => format!("TTFS {ttfs:>6.1} ms"),
        (None, None) => String::new(),
    };
    let mode = r
        .mock_mode
        .as_deref()
        .map(|m| format!("  [{m}]"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {:<13} {:<width$}  {latency}{mode}",
        r.grade.label(),
        r.id
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "  {:<13} {:<width$}  ↳ {reason}", "", "");
    }
    if let Some(handover) = &r.handover {
        let _ = writeln!(out, "  {:<13} {:<width$}  ↳ {}", "", "", handover.summary());
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    passed: bool,
    summary: Summary,
    cases: &'a [CaseResult],
}

#[derive(Serialize)]
struct Summary {
    ok: usize,
    non_strict: usize,
    informational: usize,
    unimplemented: usize,
    failed: usize,
}

fn json(results: &[CaseResult]) -> String {
    let report = JsonReport {
        tool: "understudy",
        version: env!("CARGO_PKG_VERSION"),
        passed: passed(results),
        summary: Summary {
            ok: count(results, Grade::Ok),
            non_strict: count(results, Grade::NonStrict),
            informational: count(results, Grade::Informational),
            unimplemented: count(results, Grade::Unimplemented),
            failed: count(results, Grade::Failed),
        },
        cases: results,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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
    out
}

fn junit(results: &[CaseResult]) -> String {
    let failures = count(results, Grade::Failed);
    let skipped = count(results, Grade::Unimplemented);
    let total_s: f64 = results.iter().map(|r| r.duration_ms).sum::<f64>() / 1000.0;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"understudy conformance\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{total_s:.3}\">",
        results.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"understudy.conformance\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total_s:.3}\">",
        results.len()
    );
    for r in results {
        let classname = r.id.rsplit_once('.').map(|(c, _)| c).unwrap_or(&r.id);
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(classname),
            xml_escape(&r.id),
            r.duration_ms / 1000.0
        );
        let reason = xml_escape(r.reason.as_deref().unwrap_or(""));
        match r.grade {
            Grade::Failed => {
                let _ = writeln!(out, ">\n      <failure message=\"{reason}\" type=\"FAILED\">{reason}</failure>\n    </testcase>");
            }
            Grade::Unimplemented => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"UNIMPLEMENTED: {reason}\"/>\n    </testcase>"
                );
            }
            grade => {
                let latency = r
                    .latency
                    .iter()
                    .map(|l| format!("TTFB {:.1} ms, TTFA {:.1} ms", l.ttfb_ms, l.ttfa_ms))
                    .chain(r.time_to_first_sound_ms.map(|t| format!("TTFS {t:.1} ms")))
                    .collect::<Vec<_>>()
                    .join("; ");
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}: {}</system-out>\n    </testcase>",
                    grade.label(),
                    xml_escape(&latency)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
