//! The JUnit XML report for CI systems.
//!
//! One `<testsuite>`; one `<testcase>` per case, its classname the id without
//! its last segment. FAILED is a `<failure>`, UNIMPLEMENTED a `<skipped>` (the
//! dialect cannot, so there is nothing to fail); the other grades pass, their
//! grade and latency in `<system-out>`. Every testcase carries its figures as
//! `<properties>` (the shape pytest's `record_property` writes, which CI
//! dashboards read): `grade`, `dialect`, `response.N.ttfb_ms`,
//! `response.N.ttfa_ms` per spoken response (N from 1) and `ttfs_ms`.

use super::{count, escape_markup as esc};
use crate::grade::{CaseResult, Grade};
use std::fmt::Write as _;

/// The name/value properties of one case, in print order.
pub fn properties(r: &CaseResult) -> Vec<(String, String)> {
    let mut props = vec![
        ("grade".to_owned(), r.grade.label().to_owned()),
        ("dialect".to_owned(), r.dialect.clone()),
    ];
    for (i, l) in r.latency.iter().enumerate() {
        let n = i + 1;
        props.push((format!("response.{n}.ttfb_ms"), format!("{:.1}", l.ttfb_ms)));
        props.push((format!("response.{n}.ttfa_ms"), format!("{:.1}", l.ttfa_ms)));
    }
    if let Some(ttfs) = r.time_to_first_sound_ms {
        props.push(("ttfs_ms".to_owned(), format!("{ttfs:.1}")));
    }
    props
}

/// Renders the JUnit XML report.
pub fn render(results: &[CaseResult]) -> String {
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
        testcase(&mut out, r);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, r: &CaseResult) {
    let classname = r.id.rsplit_once('.').map(|(c, _)| c).unwrap_or(&r.id);
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
        esc(classname),
        esc(&r.id),
        r.duration_ms / 1000.0
    );
    out.push_str("      <properties>\n");
    for (name, value) in properties(r) {
        let _ = writeln!(
            out,
            "        <property name=\"{}\" value=\"{}\"/>",
            esc(&name),
            esc(&value)
        );
    }
    out.push_str("      </properties>\n");
    let reason = esc(r.reason.as_deref().unwrap_or(""));
    match r.grade {
        Grade::Failed => {
            let _ = writeln!(
                out,
                "      <failure message=\"{reason}\" type=\"FAILED\">{reason}</failure>"
            );
        }
        Grade::Unimplemented => {
            let _ = writeln!(out, "      <skipped message=\"UNIMPLEMENTED: {reason}\"/>");
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
                "      <system-out>{}: {}</system-out>",
                grade.label(),
                esc(&latency)
            );
        }
    }
    out.push_str("    </testcase>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::Latency;
    use crate::grade::blank;

    #[test]
    fn unimplemented_is_skipped_failed_fails_and_latencies_are_properties() {
        let mut spoken = blank("openai.ga.text".into(), "spoken");
        spoken.dialect = "openai-ga".into();
        spoken.latency = vec![
            Latency {
                ttfb_ms: 41.34,
                ttfa_ms: 52.0,
            },
            Latency {
                ttfb_ms: 7.0,
                ttfa_ms: 9.0,
            },
        ];
        let mut cannot = blank("dashscope.truncate".into(), "cannot");
        cannot.grade = Grade::Unimplemented;
        cannot.reason = Some("no truncation".into());
        let mut broken = blank("gemini.live.tool".into(), "broken");
        broken.grade = Grade::Failed;
        broken.reason = Some("order: <tool> & \"args\"".into());
        let xml = render(&[spoken, cannot, broken]);
        assert!(xml.contains("failures=\"1\" skipped=\"1\""), "{xml}");
        assert!(
            xml.contains("<skipped message=\"UNIMPLEMENTED: no truncation\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"order: &lt;tool&gt; &amp; &quot;args&quot;\""),
            "{xml}"
        );
        for property in [
            "<property name=\"response.1.ttfb_ms\" value=\"41.3\"/>",
            "<property name=\"response.1.ttfa_ms\" value=\"52.0\"/>",
            "<property name=\"response.2.ttfb_ms\" value=\"7.0\"/>",
            "<property name=\"dialect\" value=\"openai-ga\"/>",
            "<property name=\"grade\" value=\"UNIMPLEMENTED\"/>",
        ] {
            assert!(xml.contains(property), "{property} in {xml}");
        }
        // Every testcase opens and closes, with its properties inside.
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("</testcase>").count(), 3);
        assert_eq!(xml.matches("<properties>").count(), 3);
    }
}
