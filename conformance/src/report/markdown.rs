//! The Markdown report, for CI step summaries (GitHub's
//! `$GITHUB_STEP_SUMMARY` and the like): a heading that says whether the run
//! passed, a table of counts, every failure with its reason, the latency
//! distributions as a table (per dialect, then per family: sample count and
//! p50/p95/p99), and every case in a collapsed table.
//!
//! Everything that comes from a case (ids, reasons, dialects) is escaped, so a
//! reason holding `|`, `<` or `*` cannot break a table or inject markup.

use super::stats::{distributions, Grouping};
use super::text::latency_compact;
use super::{passed, push_markup_escaped, Summary, GRADES};
use crate::grade::{CaseResult, Grade};
use std::fmt::Write as _;

/// `text` made safe for a Markdown table cell or list item: HTML-escaped,
/// Markdown punctuation backslash-escaped, on one line.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => push_markup_escaped(&mut out, c),
        }
    }
    out
}

/// Renders the Markdown report.
pub fn render(results: &[CaseResult]) -> String {
    let summary = Summary::of(results);
    let mut out = String::new();
    let verdict = if passed(results) {
        "passed".to_owned()
    } else {
        format!("{} FAILED", summary.failed)
    };
    let _ = writeln!(
        out,
        "## understudy conformance: {verdict} ({} cases)\n",
        results.len()
    );
    out.push_str("| grade | cases |\n| --- | ---: |\n");
    for grade in GRADES {
        let _ = writeln!(out, "| {} | {} |", grade.label(), summary.get(grade));
    }
    let _ = writeln!(out, "| total | {} |", results.len());

    let failures: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.grade == Grade::Failed)
        .collect();
    if !failures.is_empty() {
        out.push_str("\n### Failures\n\n");
        for r in failures {
            let _ = writeln!(
                out,
                "- **{}** ({}): {}",
                escape(&r.id),
                escape(&r.dialect),
                escape(r.reason.as_deref().unwrap_or("no reason given"))
            );
        }
    }

    latency_tables(&mut out, results);

    let _ = writeln!(
        out,
        "\n<details><summary>All {} cases</summary>\n",
        results.len()
    );
    out.push_str(
        "| grade | case | dialect | latency | reason |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in results {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.grade.label(),
            escape(&r.id),
            escape(&r.dialect),
            escape(&latency_compact(r)),
            escape(r.reason.as_deref().unwrap_or(""))
        );
    }
    out.push_str("\n</details>\n");
    out
}

fn latency_tables(out: &mut String, results: &[CaseResult]) {
    let groupings = [Grouping::Dialect, Grouping::Family];
    let tables: Vec<_> = groupings
        .iter()
        .map(|&g| (g, distributions(results, g)))
        .filter(|(_, d)| !d.is_empty())
        .collect();
    if tables.is_empty() {
        return;
    }
    out.push_str("\n### Latency (ms)\n");
    for (grouping, dists) in tables {
        let _ = writeln!(
            out,
            "\n| {} | metric | n | p50 | p95 | p99 |\n| --- | --- | ---: | ---: | ---: | ---: |",
            grouping.label()
        );
        for d in dists {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} | {:.1} |",
                escape(&d.group),
                d.metric.label(),
                d.count(),
                d.percentile(50.0),
                d.percentile(95.0),
                d.percentile(99.0)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::Latency;
    use crate::grade::blank;

    #[test]
    fn summary_failures_and_latency_tables() {
        let mut ok = blank("openai.ga.text".into(), "spoken");
        ok.dialect = "openai-ga".into();
        ok.latency = (1..=20)
            .map(|i| Latency {
                ttfb_ms: f64::from(i),
                ttfa_ms: f64::from(i) + 100.0,
            })
            .collect();
        let mut broken = blank("cross.tool".into(), "broken");
        broken.grade = Grade::Failed;
        broken.reason = Some("a|b <script> *x*\nline".into());
        let md = render(&[ok, broken]);
        assert!(
            md.starts_with("## understudy conformance: 1 FAILED (2 cases)"),
            "{md}"
        );
        assert!(
            md.contains("| OK | 1 |") && md.contains("| FAILED | 1 |"),
            "{md}"
        );
        assert!(
            md.contains("- **cross.tool** (tts): a\\|b &lt;script&gt; \\*x\\* line"),
            "{md}"
        );
        // 20 samples: p50 is the 10th, p95 the 19th, p99 the 20th.
        assert!(
            md.contains("| openai-ga | TTFB | 20 | 10.0 | 19.0 | 20.0 |"),
            "{md}"
        );
        assert!(
            md.contains("| openai | TTFA | 20 | 110.0 | 119.0 | 120.0 |"),
            "{md}"
        );
        assert!(!md.contains("<script>"));
    }

    #[test]
    fn a_clean_run_says_passed_and_has_no_failures_section() {
        let md = render(&[blank("tts.a.first-sound".into(), "d")]);
        assert!(md.starts_with("## understudy conformance: passed (1 cases)"));
        assert!(!md.contains("### Failures"));
        assert!(!md.contains("### Latency"), "no samples, no table");
    }
}
