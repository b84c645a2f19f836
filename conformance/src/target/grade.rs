//! Running one cassette case against a target and grading it.
//!
//! The run is the one against our mock (the case's scenario through the real
//! adapter), paced like a microphone as a real service expects. The grading
//! differs in one way only: what the case marks as our mock's scripted
//! content ([`crate::catalogue::OnTarget`]) and the reviewed snapshot (the
//! exact content of our cassettes) are informational. So a target that
//! answers in its own words is INFORMATIONAL, and one that breaks the
//! protocol (events out of order, a response never done, a stray delta) is
//! FAILED with the check that saw it.

use super::Target;
use crate::catalogue::Case;
use crate::drive::{latencies, run_scenario, Pacing, RunRecord};
use crate::grade::{blank, check, CaseResult, CheckResult, Evidence, Grade};
use crate::normalize::normalise;
use crate::replay::{missing_capability, snapshot_check, wire_lines};
use std::time::Instant;
use understudy_adapters::ModelEvent;

/// Why the reviewed snapshot is informational against a target.
const SNAPSHOT_IS_SCRIPTED: &str =
    "the exact events of our reviewed snapshot, which only our mock's scripts reproduce";

/// Runs `case` against `target` and grades it.
pub async fn run_on_target(case: &Case, target: &Target) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        dialect: case.scenario.dialect.id.into(),
        ..blank(case.id.clone(), case.description)
    };
    let not_run = missing_capability(case).or_else(|| {
        case.on_target
            .not_run
            .as_ref()
            .map(|why| format!("not run against a target: {why}"))
    });
    if let Some(reason) = not_run {
        result.grade = Grade::Unimplemented;
        result.reason = Some(reason);
        return result;
    }
    let cassette = target
        .cassette_hint
        .then_some(case.scenario.cassette.as_str());
    match run_scenario(
        &case.scenario,
        &target.endpoints,
        cassette,
        Pacing::RealTime,
    )
    .await
    {
        Ok(record) => grade(case, &mut result, &record),
        Err(problem) => {
            result.grade = Grade::Failed;
            result.reason = Some(format!(
                "the run against the target did not complete: {problem}"
            ));
        }
    }
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}

/// A check that reads scripted content: kept, named as informational, and
/// never the reason a case fails.
fn informational(mut checked: CheckResult, reads: &str) -> (CheckResult, bool) {
    let scripted = !checked.passed;
    if scripted {
        checked.detail = format!("{} (reads {reads})", checked.detail);
    }
    checked.name = format!("{} [informational against a target]", checked.name);
    (checked, scripted)
}

/// Grades a completed run: protocol checks decide FAILED; scripted ones
/// INFORMATIONAL.
fn grade(case: &Case, result: &mut CaseResult, record: &RunRecord) {
    let events: Vec<ModelEvent> = record.events.iter().map(|t| t.event.clone()).collect();
    let normalised = normalise(&events);
    let mut differs = Vec::new();
    let (snapshot, snapshot_differs) =
        informational(snapshot_check(&case.id, &normalised), SNAPSHOT_IS_SCRIPTED);
    if snapshot_differs {
        differs.push(snapshot.clone());
    }
    result.checks.push(snapshot);
    let mut broken = None;
    for (name, expectation) in &case.expectations {
        let outcome = expectation(&events);
        let checked = check(name, outcome.is_ok(), outcome.err().unwrap_or_default());
        match case.on_target.scripted(name) {
            Some(reads) => {
                let (checked, scripted_differs) = informational(checked, reads);
                if scripted_differs {
                    differs.push(checked.clone());
                }
                result.checks.push(checked);
            }
            None => {
                if !checked.passed && broken.is_none() {
                    broken = Some(checked.clone());
                }
                result.checks.push(checked);
            }
        }
    }
    result.latency = latencies(record);
    if let Some(failed) = broken {
        result.grade = Grade::Failed;
        result.reason = Some(format!("{}: {}", failed.name, failed.detail));
    } else if let Some(first) = differs.first() {
        result.grade = Grade::Informational;
        result.reason = Some(format!(
            "the protocol holds; scripted content differs ({} of {} checks) — {}: {}",
            differs.len(),
            result.checks.len(),
            first.name,
            first.detail
        ));
    }
    result.evidence = Some(Evidence {
        events: normalised,
        wire: wire_lines(record),
        journal_notes: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::run_on_target;
    use crate::grade::Grade;
    use crate::target::Target;

    fn case(id: &str) -> crate::Case {
        crate::cases()
            .expect("the bundled catalogue")
            .into_iter()
            .find(|c| c.id == id)
            .expect("the case exists")
    }

    #[tokio::test]
    async fn a_case_needing_a_scripted_fault_is_not_run_and_says_why() {
        // Nothing listens on port 1: a run would fail, not be UNIMPLEMENTED.
        let target = Target::new("ws://127.0.0.1:1", "dashscope-omni", None).unwrap();
        let result = run_on_target(&case("dashscope.error.setup"), &target).await;
        assert_eq!(result.grade, Grade::Unimplemented, "{result:?}");
        let reason = result.reason.unwrap_or_default();
        assert!(reason.contains("set-up fault"), "{reason}");
    }

    #[tokio::test]
    async fn an_unreachable_target_fails_with_the_connection_error() {
        let target = Target::new("ws://127.0.0.1:1", "openai-ga", None).unwrap();
        let result = run_on_target(&case("openai.ga.text.turn"), &target).await;
        assert_eq!(result.grade, Grade::Failed, "{result:?}");
        let reason = result.reason.unwrap_or_default();
        assert!(reason.contains("did not complete"), "{reason}");
    }
}
