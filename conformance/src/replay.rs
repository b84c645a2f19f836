//! The cassette cases: each catalogue case runs in-process against a fresh
//! mock replaying its recorded cassette(s), and is graded against its
//! reviewed snapshot, the replay (did the client send what the cassette
//! expects?) and the case's own expectations.
//!
//! A case whose dialect declares no capability the case needs is graded
//! UNIMPLEMENTED without running. The evidence kept is the normalised events,
//! the wire transcript (audio payloads summarised) and the mock's notes.

use crate::catalogue::Case;
use crate::drive::{latencies, run_scenario, Endpoints, Pacing, RunRecord};
use crate::family::RunOptions;
use crate::grade::{blank, CaseResult, CheckResult, Evidence, Grade, WireLine};
use crate::normalize::normalise;
use crate::schedule::Job;
use serde_json::Value;
use std::time::Instant;
use understudy_adapters::{ModelEvent, TapDirection, WireFrame};
use understudy_mock::{EntryKind, MockServer};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/snapshots.rs"));
}

/// The reviewed snapshot of a case, if one is bundled.
pub fn reviewed_snapshot(id: &str) -> Option<Value> {
    let text = embedded::SNAPSHOTS.iter().find(|(name, _)| *name == id)?.1;
    // insta files: a `---` header block, then the JSON body.
    let body = text.splitn(3, "---\n").nth(2)?;
    serde_json::from_str(body).ok()
}

/// Runs one case against a fresh in-process mock replaying its bundled
/// cassette(s).
pub async fn run_case(case: &Case, options: &RunOptions) -> CaseResult {
    run_case_on(case, options, None).await
}

/// Runs one case like [`run_case`], against `cassettes` (name, cassette) in
/// place of the bundled ones when given: the same scenario, replay and
/// graders, on a recording of another server (a doctored one, in the tests
/// that show the graders fail what they should).
pub async fn run_case_on(
    case: &Case,
    options: &RunOptions,
    cassettes: Option<Vec<(String, understudy_fixtures::Cassette)>>,
) -> CaseResult {
    let started = Instant::now();
    let dialect = case.scenario.dialect;
    let mut result = CaseResult {
        dialect: dialect.id.into(),
        mock_mode: case
            .scenario
            .legacy_beta
            .then(|| "legacy beta: the retired Realtime beta, served as it was".into()),
        ..blank(case.id.clone(), case.description)
    };
    if let Some(reason) = missing_capability(case) {
        result.grade = Grade::Unimplemented;
        result.reason = Some(reason);
        return result;
    }
    match execute(case, options, cassettes).await {
        Ok((record, notes)) => grade(case, &mut result, &record, notes),
        Err(problem) => {
            result.grade = Grade::Failed;
            result.reason = Some(problem);
        }
    }
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}

/// Why `case` cannot run on its dialect: the capability it needs that the
/// dialect's model declares no support for.
pub(crate) fn missing_capability(case: &Case) -> Option<String> {
    let (needs, has) = case.requires?;
    (!has(&case.scenario.capabilities())).then(|| {
        format!(
            "{} ({}) declares no {needs}",
            case.scenario.dialect.id, case.scenario.model
        )
    })
}

async fn execute(
    case: &Case,
    options: &RunOptions,
    cassettes: Option<Vec<(String, understudy_fixtures::Cassette)>>,
) -> Result<(RunRecord, Vec<String>), String> {
    // The session's connections, each recorded as a cassette of its own.
    let cassettes = match cassettes {
        Some(given) => given,
        None => std::iter::once(&case.scenario.cassette)
            .chain(&case.scenario.continued_in)
            .map(|name| {
                understudy_fixtures::bundled::cassette(name)
                    .map(|cassette| (name.clone(), cassette))
                    .map_err(|e| format!("bundled cassette `{name}`: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut builder = MockServer::builder()
        .replay(&cassettes)
        .map_err(|e| e.to_string())?
        .speed(options.speed);
    if case.scenario.legacy_beta {
        builder = builder.legacy_beta();
    }
    let server = builder.start().await.map_err(|e| e.to_string())?;
    let record = run_scenario(
        &case.scenario,
        &Endpoints::of(&server),
        Some(&case.scenario.cassette),
        Pacing::Burst,
    )
    .await
    .map_err(|e| e.to_string())?;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let notes = server
        .journal()
        .iter()
        .flat_map(|s| s.entries.iter().filter(|e| e.kind == EntryKind::Note))
        .map(|e| format!("{}: {}", e.label, e.detail))
        .collect();
    Ok((record, notes))
}

fn grade(case: &Case, result: &mut CaseResult, record: &RunRecord, notes: Vec<String>) {
    let events: Vec<ModelEvent> = record.events.iter().map(|t| t.event.clone()).collect();
    let normalised = normalise(&events);
    result.checks.push(snapshot_check(&case.id, &normalised));
    let mismatches: Vec<&String> = notes.iter().filter(|n| n.starts_with("replay.")).collect();
    result.checks.push(CheckResult {
        name: "client sent what the cassette expects".into(),
        passed: mismatches.is_empty(),
        detail: if mismatches.is_empty() {
            "no replay mismatches".into()
        } else {
            format!("{mismatches:?}")
        },
    });
    for (name, check) in &case.expectations {
        let outcome = check(&events);
        result.checks.push(CheckResult {
            name: (*name).into(),
            passed: outcome.is_ok(),
            detail: outcome.err().unwrap_or_default(),
        });
    }
    result.latency = latencies(record);
    if let Some(failed) = result.checks.iter().find(|c| !c.passed) {
        result.grade = Grade::Failed;
        result.reason = Some(format!("{}: {}", failed.name, failed.detail));
    }
    result.evidence = Some(Evidence {
        events: normalised,
        wire: wire_lines(record),
        journal_notes: notes,
    });
}

/// The `snapshot` check: do the normalised events of the case `id` equal
/// its reviewed snapshot?
pub(crate) fn snapshot_check(id: &str, normalised: &Value) -> CheckResult {
    match reviewed_snapshot(id) {
        None => CheckResult {
            name: "snapshot".into(),
            passed: false,
            detail: "no reviewed snapshot is bundled for this case".into(),
        },
        Some(expected) if expected == *normalised => CheckResult {
            name: "snapshot".into(),
            passed: true,
            detail: "matches the reviewed snapshot".into(),
        },
        Some(expected) => CheckResult {
            name: "snapshot".into(),
            passed: false,
            detail: first_difference(&expected, normalised),
        },
    }
}

pub(crate) fn first_difference(expected: &Value, actual: &Value) -> String {
    let (Some(e), Some(a)) = (expected.as_array(), actual.as_array()) else {
        return "snapshot is not a list of events".into();
    };
    for (i, (x, y)) in e.iter().zip(a.iter()).enumerate() {
        if x != y {
            return format!("event {i} differs: expected {x}, got {y}");
        }
    }
    format!("expected {} events, got {}", e.len(), a.len())
}

/// The wire transcript of a run, audio payloads summarised.
pub(crate) fn wire_lines(record: &RunRecord) -> Vec<WireLine> {
    record
        .wire
        .iter()
        .map(|f| WireLine {
            t_ms: f.at.duration_since(record.started).as_secs_f64() * 1000.0,
            dir: match f.direction {
                TapDirection::Sent => "c2s",
                TapDirection::Received => "s2c",
            },
            frame: match &f.frame {
                WireFrame::Text(t) => summarise_audio(t),
                WireFrame::Binary(b) => format!("<binary {} bytes>", b.len()),
                WireFrame::Close { code, reason } => format!("<close {code:?} {reason}>"),
            },
        })
        .collect()
}

fn summarise_audio(text: &str) -> String {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(text) else {
        return text.to_owned();
    };
    for key in ["audio", "delta"] {
        let is_audio = map
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with(".append") || t.ends_with("audio.delta"));
        if let (true, Some(Value::String(s))) = (is_audio, map.get(key)) {
            let summary = format!("<{} base64 chars>", s.len());
            map.insert(key.into(), Value::String(summary));
        }
    }
    Value::Object(map).to_string()
}

/// The cassette cases' ids with their descriptions, in catalogue order.
pub fn case_ids(cases: &[Case]) -> Vec<(String, String)> {
    cases
        .iter()
        .map(|case| (case.id.clone(), case.description.to_owned()))
        .collect()
}

/// One job per catalogue case the options select, each against its own mock.
pub fn case_jobs<'a>(cases: &'a [Case], options: &'a RunOptions) -> Vec<Job<'a>> {
    cases
        .iter()
        .filter(|case| options.selects(&case.id))
        .map(|case| Job::new(case.id.clone(), case.description, run_case(case, options)))
        .collect()
}
