//! The text report: one line per case (grade, id, latency), the reason under
//! a case that has one, then the counts and the median latencies.

use super::Summary;
use crate::grade::CaseResult;
use std::fmt::Write as _;

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

/// The case's latency as one line cell: `TTFB … TTFA …`, or `TTFS …`, or empty.
pub(crate) fn latency_cell(r: &CaseResult) -> String {
    match (r.latency.first(), r.time_to_first_sound_ms) {
        (Some(l), _) => format!("TTFB {:>6.1} ms  TTFA {:>6.1} ms", l.ttfb_ms, l.ttfa_ms),
        (None, Some(ttfs)) => format!("TTFS {ttfs:>6.1} ms"),
        (None, None) => String::new(),
    }
}

/// [`latency_cell`] without its column padding, for tables that align
/// themselves (Markdown, HTML).
pub(crate) fn latency_compact(r: &CaseResult) -> String {
    latency_cell(r)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A case's lines in the text report (its grade, id and latency, then its
/// reason and handover summary, if any), ids padded to `width`: what the
/// summary prints per case and what `conform` prints as each case finishes.
pub fn case_lines(r: &CaseResult, width: usize) -> String {
    let mut out = String::new();
    let latency = latency_cell(r);
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

/// Renders the text summary.
pub fn render(results: &[CaseResult]) -> String {
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
    let _ = writeln!(out, "\n{}", Summary::of(results).line());
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
