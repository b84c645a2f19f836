//! The HTML report: one self-contained page a person opens from a CI
//! artifact.
//!
//! No external asset of any kind (no stylesheet, font, script or image link):
//! the CSS is inline, there is no script, and the latency charts are inline
//! SVG drawn by [`super::svg`]. The page holds:
//! - the verdict and the count of each grade;
//! - latency as distributions, per dialect and per case family: for each
//!   group, sample count and p50/p95/p99 per metric, and a CDF chart;
//! - every case, collapsed (`<details>`, FAILED ones open): description,
//!   reason, each check and what it saw, latency, and the evidence
//!   (normalised events, wire transcript, journal notes), itself collapsed.
//!
//! Every string that comes from a case is escaped.

use super::escape_markup as esc;
use super::stats::{distributions, Distribution, Grouping};
use super::text::latency_compact;
use super::{passed, svg, Summary, GRADES};
use crate::grade::{CaseResult, Grade};
use std::fmt::Write as _;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1f2328}
h1{margin-bottom:.2em}.verdict{font-size:1.2em;font-weight:600}
.pass{color:#1a7f37}.fail{color:#cf222e}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.groups{display:flex;flex-wrap:wrap;gap:1em}
figure{border:1px solid #d0d7de;border-radius:6px;margin:0;padding:.5em}
figcaption{font-weight:600}
svg.cdf .axis{stroke:#57606a;fill:none}svg.cdf .guide{stroke:#d0d7de;stroke-dasharray:3 3}
svg.cdf .tick{font-size:10px;fill:#57606a}svg.cdf path.cdf{fill:none;stroke-width:1.8}
.ttfb{stroke:#0969da;color:#0969da}.ttfa{stroke:#cf222e;color:#cf222e}.ttfs{stroke:#1a7f37;color:#1a7f37}
.swatch{font-weight:700}
details.case{border:1px solid #d0d7de;border-radius:6px;margin:.3em 0;padding:.3em .6em}
details.case>summary{cursor:pointer}
.grade{display:inline-block;min-width:9em;font-weight:700}
.g-OK{color:#1a7f37}.g-NON_STRICT{color:#9a6700}.g-INFORMATIONAL{color:#0969da}
.g-UNIMPLEMENTED{color:#57606a}.g-FAILED{color:#cf222e}
.reason{color:#cf222e}.passed{color:#1a7f37}.notpassed{color:#cf222e;font-weight:700}
pre{background:#f6f8fa;padding:.5em;overflow:auto;max-height:30em;font-size:12px}
code{font-size:13px}.dim{color:#57606a}
";

/// The CSS class of a grade (`g-FAILED`).
fn grade_class(grade: Grade) -> &'static str {
    match grade {
        Grade::Ok => "g-OK",
        Grade::NonStrict => "g-NON_STRICT",
        Grade::Informational => "g-INFORMATIONAL",
        Grade::Unimplemented => "g-UNIMPLEMENTED",
        Grade::Failed => "g-FAILED",
    }
}

/// Renders the HTML report.
pub fn render(results: &[CaseResult]) -> String {
    let summary = Summary::of(results);
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        out,
        "<title>understudy conformance</title><style>{STYLE}</style></head><body>\n<h1>understudy conformance</h1>\n"
    );
    let (class, verdict) = if passed(results) {
        ("pass", "passed".to_owned())
    } else {
        ("fail", format!("{} FAILED", summary.failed))
    };
    let _ = writeln!(
        out,
        "<p class=\"verdict {class}\" id=\"verdict\">{verdict}: {} cases</p>",
        results.len()
    );
    let _ = writeln!(
        out,
        "<p class=\"dim\" id=\"summary-line\">{}</p>",
        esc(&summary.line())
    );
    out.push_str("<table class=\"summary\"><tr><th>grade</th><th>cases</th></tr>");
    for grade in GRADES {
        let _ = write!(
            out,
            "<tr><td class=\"{}\">{}</td><td class=\"n\">{}</td></tr>",
            grade_class(grade),
            grade.label(),
            summary.get(grade)
        );
    }
    out.push_str("</table>\n");
    latency(&mut out, results);
    let _ = writeln!(out, "<h2>Cases</h2>");
    for r in results {
        case(&mut out, r);
    }
    out.push_str("</body></html>\n");
    out
}

fn latency(out: &mut String, results: &[CaseResult]) {
    out.push_str("<h2>Latency</h2>\n");
    let mut any = false;
    for grouping in [Grouping::Dialect, Grouping::Family] {
        let dists = distributions(results, grouping);
        if dists.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(
            out,
            "<h3>Per {}</h3>\n<div class=\"groups\">",
            grouping.label()
        );
        let mut start = 0;
        while start < dists.len() {
            let group = &dists[start].group;
            let end = start
                + dists[start..]
                    .iter()
                    .take_while(|d| &d.group == group)
                    .count();
            figure(out, grouping, &dists[start..end]);
            start = end;
        }
        out.push_str("</div>\n");
    }
    if !any {
        out.push_str("<p class=\"dim\">No case measured latency.</p>\n");
    }
}

/// One group's figure: a table of its metrics and their CDF.
fn figure(out: &mut String, grouping: Grouping, dists: &[Distribution]) {
    let Some(first) = dists.first() else {
        return;
    };
    let _ = write!(
        out,
        "<figure><figcaption>{} <span class=\"dim\">({})</span></figcaption>",
        esc(&first.group),
        grouping.label()
    );
    out.push_str(
        "<table><tr><th>metric</th><th>n</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>",
    );
    for d in dists {
        let _ = write!(
            out,
            "<tr><td><span class=\"swatch {}\">&#9472;</span> {}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td></tr>",
            svg::class(d.metric),
            d.metric.label(),
            d.count(),
            d.percentile(50.0),
            d.percentile(95.0),
            d.percentile(99.0)
        );
    }
    out.push_str("</table>");
    let lines: Vec<&Distribution> = dists.iter().collect();
    out.push_str(&svg::cdf(
        &format!("{} latency CDF ({})", first.group, grouping.label()),
        &lines,
    ));
    out.push_str("</figure>\n");
}

fn case(out: &mut String, r: &CaseResult) {
    let open = if r.grade == Grade::Failed {
        " open"
    } else {
        ""
    };
    let _ = write!(
        out,
        "<details class=\"case\" id=\"case-{}\"{open}><summary><span class=\"grade {}\">{}</span> <code>{}</code> <span class=\"dim\">{} {}</span></summary>",
        esc(&r.id),
        grade_class(r.grade),
        r.grade.label(),
        esc(&r.id),
        esc(&r.dialect),
        esc(&latency_compact(r))
    );
    let _ = write!(out, "<p>{}</p>", esc(&r.description));
    if let Some(reason) = &r.reason {
        let _ = write!(out, "<p class=\"reason\">{}</p>", esc(reason));
    }
    if let Some(mode) = &r.mock_mode {
        let _ = write!(out, "<p class=\"dim\">mock: {}</p>", esc(mode));
    }
    if !r.checks.is_empty() {
        out.push_str(
            "<table class=\"checks\"><tr><th>check</th><th>result</th><th>detail</th></tr>",
        );
        for c in &r.checks {
            let (class, label) = if c.passed {
                ("passed", "passed")
            } else {
                ("notpassed", "FAILED")
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"{class}\">{label}</td><td>{}</td></tr>",
                esc(&c.name),
                esc(&c.detail)
            );
        }
        out.push_str("</table>");
    }
    for (i, l) in r.latency.iter().enumerate() {
        let _ = write!(
            out,
            "<p class=\"dim\">response {}: TTFB {:.1} ms, TTFA {:.1} ms</p>",
            i + 1,
            l.ttfb_ms,
            l.ttfa_ms
        );
    }
    if let Some(handover) = &r.handover {
        let _ = write!(out, "<p>{}</p>", esc(&handover.summary()));
    }
    let _ = write!(
        out,
        "<p class=\"dim\">{:.0} ms wall time</p>",
        r.duration_ms
    );
    if let Some(evidence) = &r.evidence {
        let events = serde_json::to_string_pretty(&evidence.events).unwrap_or_default();
        let count = evidence.events.as_array().map_or(0, Vec::len);
        let _ = write!(
            out,
            "<details><summary>normalised events ({count})</summary><pre>{}</pre></details>",
            esc(&events)
        );
        let _ = write!(
            out,
            "<details><summary>wire transcript ({} frames)</summary><pre>",
            evidence.wire.len()
        );
        for line in &evidence.wire {
            let _ = writeln!(
                out,
                "{:>9.1} ms {} {}",
                line.t_ms,
                line.dir,
                esc(&line.frame)
            );
        }
        out.push_str("</pre></details>");
        if !evidence.journal_notes.is_empty() {
            out.push_str("<details><summary>journal notes</summary><ul>");
            for note in &evidence.journal_notes {
                let _ = write!(out, "<li>{}</li>", esc(note));
            }
            out.push_str("</ul></details>");
        }
    }
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::Latency;
    use crate::grade::{blank, check, Evidence, WireLine};

    fn sample() -> Vec<CaseResult> {
        let mut ok = blank("openai.ga.text".into(), "spoken turn");
        ok.dialect = "openai-ga".into();
        ok.latency = vec![Latency {
            ttfb_ms: 40.0,
            ttfa_ms: 55.0,
        }];
        ok.checks.push(check("snapshot", true, "12 events".into()));
        ok.evidence = Some(Evidence {
            events: serde_json::json!([{"type": "response_created"}]),
            wire: vec![WireLine {
                t_ms: 1.5,
                dir: "s2c",
                frame: "{\"type\":\"<session.created>\"}".into(),
            }],
            journal_notes: vec!["note & more".into()],
        });
        let mut broken = blank("cross.tool".into(), "tool <round> trip");
        broken.grade = Grade::Failed;
        broken.reason = Some("order: <script>alert(1)</script>".into());
        broken
            .checks
            .push(check("order", false, "saw \"x\" before y".into()));
        vec![ok, broken]
    }

    #[test]
    fn the_page_is_self_contained_and_escapes_everything() {
        let html = render(&sample());
        assert!(html.starts_with("<!DOCTYPE html>"));
        for external in [
            "<link", "<script", "src=", "http:", "https:", "@import", "url(",
        ] {
            assert!(!html.contains(external), "{external} in the page");
        }
        assert!(html.contains("order: &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("{&quot;type&quot;:&quot;&lt;session.created&gt;&quot;}"));
        assert!(html.contains("<li>note &amp; more</li>"));
    }

    #[test]
    fn the_page_has_the_summary_cases_checks_and_latency_charts() {
        let html = render(&sample());
        assert!(html.contains("1 FAILED: 2 cases"), "{html}");
        assert!(html.contains("1 OK, 0 NON-STRICT, 0 INFORMATIONAL, 0 UNIMPLEMENTED, 1 FAILED"));
        assert!(html.contains("<details class=\"case\" id=\"case-cross.tool\" open>"));
        assert!(html.contains("<details class=\"case\" id=\"case-openai.ga.text\"><summary>"));
        assert!(
            html.contains("<td class=\"notpassed\">FAILED</td><td>saw &quot;x&quot; before y</td>")
        );
        // Per dialect and per family, each with a table row and a CDF of two lines.
        assert!(html.contains("<h3>Per dialect</h3>") && html.contains("<h3>Per family</h3>"));
        assert_eq!(html.matches("<svg class=\"cdf\"").count(), 2);
        assert_eq!(html.matches("<path class=\"cdf ttfb\"").count(), 2);
        assert_eq!(html.matches("<path class=\"cdf ttfa\"").count(), 2);
        assert!(html.contains("TTFB</td><td class=\"n\">1</td><td class=\"n\">40.0</td>"));
    }
}
