//! The JSON report: the tool, whether the run passed, the counts, and every
//! case with its checks, latency and evidence (what a reviewer diffs).

use super::{passed, Summary};
use crate::grade::CaseResult;
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    passed: bool,
    summary: Summary,
    cases: &'a [CaseResult],
}

/// Renders the JSON report (pretty-printed).
pub fn render(results: &[CaseResult]) -> String {
    let report = JsonReport {
        tool: "understudy",
        version: env!("CARGO_PKG_VERSION"),
        passed: passed(results),
        summary: Summary::of(results),
        cases: results,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
