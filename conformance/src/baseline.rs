//! Baselines: the expected results of a run, committed beside the project, and
//! the comparison of a new run with them.
//!
//! A baseline holds, per case id, the grade and a digest of the case's
//! normalised events (SHA-256 of their canonical JSON, keys sorted) — nothing
//! that moves from run to run: no durations, no latencies, no reasons (they
//! quote timings), no tool version. Cases are keyed in id order, so the file
//! diffs well. This is what Autobahn's `expected-results.json` is to a
//! WebSocket library: known failures are expected, and only a change for the
//! worse stops CI.
//!
//! [`compare`] sorts every difference into a regression or an improvement:
//! - a grade worse than expected (grades rank OK > NON-STRICT > INFORMATIONAL
//!   > UNIMPLEMENTED > FAILED) is a regression, a better one an improvement;
//! - at the same grade, different events (digest changed, or evidence gone) is
//!   a regression: the snapshot moved;
//! - a baseline case the run did not produce is a regression (`missing`),
//!   unless the run's filter left it out ([`compare`]'s `in_scope`);
//! - a case the baseline does not know is an improvement (`new`), unless it
//!   FAILED, which is a regression.
//!
//! Everything here is a pure function over [`CaseResult`]s, except
//! [`Baseline::read`] and [`Baseline::write`].

use crate::grade::{CaseResult, Grade};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The baseline file format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a case is expected to give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Its grade.
    pub grade: Grade,
    /// `sha256:<hex>` of its normalised events; absent when it leaves none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<String>,
}

/// The expected results of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// What wrote it (`understudy`).
    pub tool: String,
    /// File format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// Expected result per case id, in id order.
    pub cases: BTreeMap<String, Expected>,
}

/// A baseline that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read or written.
    #[error("baseline {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a baseline.
    #[error("baseline {path} is not a baseline file")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Written by a newer format.
    #[error("baseline {path} has format {found}; this understudy reads format {FORMAT_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its format.
        found: u32,
    },
}

/// `sha256:<hex>` of `events` in canonical JSON (object keys sorted), so the
/// digest does not depend on the order fields were written in.
pub fn events_digest(events: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(events, &mut canonical);
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

impl Expected {
    /// What `result` gives, as a baseline records it.
    pub fn of(result: &CaseResult) -> Self {
        Expected {
            grade: result.grade,
            events: result.evidence.as_ref().map(|e| events_digest(&e.events)),
        }
    }
}

impl Baseline {
    /// The baseline of a run: every result's grade and events digest.
    pub fn from_results(results: &[CaseResult]) -> Self {
        Baseline {
            tool: "understudy".into(),
            format: FORMAT_VERSION,
            cases: results
                .iter()
                .map(|r| (r.id.clone(), Expected::of(r)))
                .collect(),
        }
    }

    /// The file's text: pretty JSON, keys in a fixed order, a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a baseline file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, BaselineError> {
        let baseline: Baseline =
            serde_json::from_str(text).map_err(|source| BaselineError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if baseline.format > FORMAT_VERSION {
            return Err(BaselineError::Version {
                path: path.to_owned(),
                found: baseline.format,
            });
        }
        Ok(baseline)
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Writes the baseline to `path` (creating its folder).
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let io = |source| BaselineError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(path, self.to_json()).map_err(io)
    }
}

/// How good a grade is, for ordering: higher is better.
pub fn rank(grade: Grade) -> u8 {
    match grade {
        Grade::Ok => 4,
        Grade::NonStrict => 3,
        Grade::Informational => 2,
        Grade::Unimplemented => 1,
        Grade::Failed => 0,
    }
}

/// What changed for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The grade moved (better or worse).
    Grade {
        /// Expected.
        from: Grade,
        /// Now.
        to: Grade,
    },
    /// Same grade, different normalised events.
    Events {
        /// Expected digest.
        from: String,
        /// Now (`None`: the case left no events).
        to: Option<String>,
    },
    /// In the baseline, not in the run.
    Missing {
        /// Its expected grade.
        expected: Grade,
    },
    /// In the run, not in the baseline.
    New {
        /// Its grade.
        grade: Grade,
    },
}

/// One case's difference from the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Case id.
    pub id: String,
    /// What changed.
    pub change: Change,
    /// The run's reason for the case's grade, if any (for the print-out).
    pub reason: Option<String>,
}

impl Difference {
    /// One line: `openai.ga.text: OK → FAILED (reason)`.
    pub fn line(&self) -> String {
        let what = match &self.change {
            Change::Grade { from, to } => format!("{} → {}", from.label(), to.label()),
            Change::Events { from, to } => format!(
                "normalised events changed ({} → {})",
                short(from),
                to.as_deref().map_or("none".to_owned(), short)
            ),
            Change::Missing { expected } => {
                format!("missing from this run (expected {})", expected.label())
            }
            Change::New { grade } => format!("new case, {}", grade.label()),
        };
        match &self.reason {
            Some(reason) => format!("{}: {what} ({reason})", self.id),
            None => format!("{}: {what}", self.id),
        }
    }
}

fn short(digest: &str) -> String {
    digest
        .strip_prefix("sha256:")
        .unwrap_or(digest)
        .chars()
        .take(12)
        .collect()
}

/// A run compared with a baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Changes for the worse, in id order.
    pub regressions: Vec<Difference>,
    /// Changes for the better (and new cases), in id order.
    pub improvements: Vec<Difference>,
    /// Cases found in both and unchanged.
    pub unchanged: usize,
}

impl Comparison {
    /// Whether anything got worse.
    pub fn regressed(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// The print-out: a headline, then one line per regression and improvement.
    pub fn render(&self) -> String {
        let mut out = format!(
            "baseline: {} regression(s), {} improvement(s), {} unchanged\n",
            self.regressions.len(),
            self.improvements.len(),
            self.unchanged
        );
        for d in &self.regressions {
            let _ = writeln!(out, "  REGRESSION   {}", d.line());
        }
        for d in &self.improvements {
            let _ = writeln!(out, "  IMPROVEMENT  {}", d.line());
        }
        out
    }
}

/// Compares `results` with `baseline`. `in_scope` says which baseline cases
/// the run was meant to run (its filter): one it left out is not missing.
pub fn compare(
    baseline: &Baseline,
    results: &[CaseResult],
    in_scope: impl Fn(&str) -> bool,
) -> Comparison {
    let mut comparison = Comparison::default();
    let ran: BTreeMap<&str, &CaseResult> = results.iter().map(|r| (r.id.as_str(), r)).collect();
    for (id, expected) in &baseline.cases {
        match ran.get(id.as_str()) {
            Some(result) => classify(&mut comparison, id, expected, result),
            None if in_scope(id) => comparison.regressions.push(Difference {
                id: id.clone(),
                change: Change::Missing {
                    expected: expected.grade,
                },
                reason: None,
            }),
            None => {}
        }
    }
    for (id, result) in ran {
        if baseline.cases.contains_key(id) {
            continue;
        }
        let difference = Difference {
            id: id.to_owned(),
            change: Change::New {
                grade: result.grade,
            },
            reason: result.reason.clone(),
        };
        if result.grade == Grade::Failed {
            comparison.regressions.push(difference);
        } else {
            comparison.improvements.push(difference);
        }
    }
    comparison.regressions.sort_by(|a, b| a.id.cmp(&b.id));
    comparison.improvements.sort_by(|a, b| a.id.cmp(&b.id));
    comparison
}

fn classify(comparison: &mut Comparison, id: &str, expected: &Expected, result: &CaseResult) {
    let now = Expected::of(result);
    let difference = |change| Difference {
        id: id.to_owned(),
        change,
        reason: result.reason.clone(),
    };
    let (was, is) = (rank(expected.grade), rank(now.grade));
    if is < was {
        comparison.regressions.push(difference(Change::Grade {
            from: expected.grade,
            to: now.grade,
        }));
    } else if is > was {
        comparison.improvements.push(difference(Change::Grade {
            from: expected.grade,
            to: now.grade,
        }));
    } else if let Some(from) = expected
        .events
        .as_ref()
        .filter(|&d| now.events.as_ref() != Some(d))
    {
        comparison.regressions.push(difference(Change::Events {
            from: from.clone(),
            to: now.events,
        }));
    } else {
        comparison.unchanged += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::{blank, Evidence};
    use serde_json::json;

    fn case(id: &str, grade: Grade, events: Value) -> CaseResult {
        let mut r = blank(id.into(), "a case");
        r.grade = grade;
        r.duration_ms = 123.4;
        r.evidence = Some(Evidence {
            events,
            wire: Vec::new(),
            journal_notes: Vec::new(),
        });
        r
    }

    fn run() -> Vec<CaseResult> {
        vec![
            case("b.second", Grade::Ok, json!([{"type": "a", "x": 1}])),
            case("a.first", Grade::Unimplemented, json!([])),
            case("c.third", Grade::Failed, json!([{"type": "c"}])),
        ]
    }

    #[test]
    fn the_file_has_ids_in_order_and_no_timings() {
        let text = Baseline::from_results(&run()).to_json();
        let a = text.find("a.first").unwrap();
        let b = text.find("b.second").unwrap();
        let c = text.find("c.third").unwrap();
        assert!(a < b && b < c, "{text}");
        assert!(
            !text.contains("123.4") && !text.contains("duration"),
            "{text}"
        );
        assert!(text.contains("\"grade\": \"UNIMPLEMENTED\""), "{text}");
        assert!(text.ends_with("}\n"));
        let back = Baseline::parse(&text, Path::new("b.json")).unwrap();
        assert_eq!(back, Baseline::from_results(&run()));
    }

    #[test]
    fn the_digest_ignores_key_order_but_not_values() {
        let one = events_digest(&json!([{"type": "a", "x": 1}]));
        let mut map = serde_json::Map::new();
        map.insert("x".into(), json!(1));
        map.insert("type".into(), json!("a"));
        assert_eq!(one, events_digest(&Value::Array(vec![Value::Object(map)])));
        assert_ne!(one, events_digest(&json!([{"type": "a", "x": 2}])));
        assert!(one.starts_with("sha256:") && one.len() == 7 + 64);
    }

    #[test]
    fn the_same_run_compares_clean_including_expected_failures() {
        let baseline = Baseline::from_results(&run());
        let comparison = compare(&baseline, &run(), |_| true);
        assert!(!comparison.regressed(), "{comparison:?}");
        assert!(comparison.improvements.is_empty());
        assert_eq!(comparison.unchanged, 3);
    }

    #[test]
    fn worse_grades_changed_events_and_missing_cases_are_regressions() {
        let baseline = Baseline::from_results(&run());
        let mut now = run();
        now[0].grade = Grade::Failed; // b.second: OK → FAILED
        now[0].reason = Some("order: x before y".into());
        now[1].evidence.as_mut().unwrap().events = json!([{"type": "moved"}]); // a.first
        now.remove(2); // c.third missing
        let comparison = compare(&baseline, &now, |_| true);
        let lines: Vec<String> = comparison
            .regressions
            .iter()
            .map(Difference::line)
            .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("a.first: normalised events changed"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "b.second: OK → FAILED (order: x before y)");
        assert_eq!(lines[2], "c.third: missing from this run (expected FAILED)");
        assert!(comparison
            .render()
            .contains("  REGRESSION   b.second: OK → FAILED"));
    }

    #[test]
    fn better_grades_and_new_cases_are_improvements_only() {
        let baseline = Baseline::from_results(&run());
        let mut now = run();
        now[2].grade = Grade::Ok; // c.third: FAILED → OK, events may change with it
        now[2].evidence.as_mut().unwrap().events = json!([{"type": "fixed"}]);
        now.push(case("d.new", Grade::Ok, json!([])));
        let comparison = compare(&baseline, &now, |_| true);
        assert!(!comparison.regressed(), "{comparison:?}");
        let lines: Vec<String> = comparison
            .improvements
            .iter()
            .map(Difference::line)
            .collect();
        assert_eq!(lines, ["c.third: FAILED → OK", "d.new: new case, OK"]);
    }

    #[test]
    fn a_new_failing_case_is_a_regression() {
        let baseline = Baseline::from_results(&run());
        let mut now = run();
        now.push(case("e.new", Grade::Failed, json!([])));
        let comparison = compare(&baseline, &now, |_| true);
        assert_eq!(comparison.regressions.len(), 1);
        assert_eq!(
            comparison.regressions[0].change,
            Change::New {
                grade: Grade::Failed
            }
        );
    }

    #[test]
    fn cases_the_filter_left_out_are_not_missing() {
        let baseline = Baseline::from_results(&run());
        let only_b: Vec<CaseResult> = run().into_iter().filter(|r| r.id.contains("b.")).collect();
        let comparison = compare(&baseline, &only_b, |id| id.contains("b."));
        assert!(!comparison.regressed(), "{comparison:?}");
        assert_eq!(comparison.unchanged, 1);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let path = Path::new("base.json");
        assert!(matches!(
            Baseline::parse("{not json", path),
            Err(BaselineError::Parse { .. })
        ));
        assert!(matches!(
            Baseline::parse(r#"{"tool":"understudy","format":99,"cases":{}}"#, path),
            Err(BaselineError::Version { found: 99, .. })
        ));
        let err = Baseline::parse(
            r#"{"tool":"understudy","format":1,"cases":{"x":{"grade":"GREAT"}}}"#,
            path,
        )
        .unwrap_err();
        assert!(err.to_string().contains("base.json"), "{err}");
        assert!(matches!(
            Baseline::read(Path::new("/nonexistent/base.json")),
            Err(BaselineError::Io { .. })
        ));
    }
}
