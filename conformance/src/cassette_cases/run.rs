//! Turning found cassettes into scheduler jobs, one per check, and grading
//! each check.
//!
//! Every cassette is read once, when the jobs are built: an unreadable one
//! becomes its single `load` case. Its server frames are decoded once and
//! shared by the checks that read the normalised stream; the replay against
//! the mock runs once (the first of `replay` and `latency` to need it drives
//! it) and both grade the same run.

use super::agent_check::{replay_through_agent, user_turns};
use super::decode_check::{check_lossless, decode_events, Located};
use super::discover::Found;
use super::invariants::{self, Context};
use super::latency::{self, turn_latencies};
use super::replay_check::{compare_server_frames, replay_against_mock};
use super::snapshot::{compare_or_write, SnapshotOutcome};
use super::wire::describe;
use crate::family::RunOptions;
use crate::grade::{blank, check, conclude, CaseResult, CheckResult, Evidence, Grade};
use crate::normalize::normalise;
use crate::schedule::Job;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use std::rc::Rc;
use std::time::{Duration, Instant};
use understudy_adapters::registry::{self, DialectSpec};
use understudy_adapters::ModelEvent;
use understudy_fixtures::Cassette;

/// The checks each cassette gets, in case order: the id suffix and what it shows.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "decode",
        "every frame decodes with no unknown event and round-trips without loss",
    ),
    (
        "invariants",
        "the normalised stream holds its invariants (pairs, order, audio, transcripts, tool JSON)",
    ),
    (
        "replay",
        "replaying its client frames against the replay mock gives back every server frame in order",
    ),
    (
        "agent",
        "replayed through a RealtimeAgent, every user turn is answered once",
    ),
    (
        "latency",
        "per-turn TTFB/TTFA of the replay within the tolerance of the recording's own",
    ),
    (
        "snapshot",
        "the normalised events match the snapshot kept beside the cassette",
    ),
];

/// The id suffix of the case an unreadable cassette becomes.
const LOAD: (&str, &str) = ("load", "the cassette can be read");

/// How the cassette cases run.
#[derive(Debug, Clone)]
pub struct CassetteOptions {
    /// Replay speed (1.0 = recorded timing; latency figures are scaled back
    /// by it) and which case ids run.
    pub run: RunOptions,
    /// How far a replayed turn's TTFB/TTFA may be from the recording's.
    pub latency_tolerance: Duration,
    /// Write (or rewrite) each cassette's snapshot instead of comparing.
    pub update_snapshots: bool,
}

impl Default for CassetteOptions {
    fn default() -> Self {
        CassetteOptions {
            run: RunOptions::default(),
            latency_tolerance: latency::DEFAULT_TOLERANCE,
            update_snapshots: false,
        }
    }
}

fn case_id(found: &Found, check: &str) -> String {
    format!("cassette.{}.{check}", found.name)
}

/// Every case the cassettes give (as if all could be read), with its description.
pub fn case_list(found: &[Found]) -> Vec<(String, String)> {
    found
        .iter()
        .flat_map(|f| {
            CHECKS
                .iter()
                .map(move |(check, what)| (case_id(f, check), (*what).to_owned()))
        })
        .collect()
}

/// The replay against the mock, run at most once per cassette.
type SharedReplay = Shared<LocalBoxFuture<'static, Rc<Result<Cassette, String>>>>;

/// A cassette read and decoded, shared by its cases.
struct Loaded {
    found: Found,
    cassette: Cassette,
    dialect: &'static DialectSpec,
    /// `None` when the dialect has no realtime codec.
    decoded: Option<Result<Vec<Located>, String>>,
    replay: SharedReplay,
}

fn load(found: &Found, speed: f64) -> Result<Rc<Loaded>, String> {
    let cassette =
        Cassette::read(&found.path).map_err(|e| format!("{}: {e}", found.path.display()))?;
    let dialect = registry::dialect(&cassette.header.dialect)
        .map_err(|e| format!("{}: {e}", found.path.display()))?;
    let decoded = decode_events(&cassette, dialect);
    let (name, copy) = (found.name.clone(), cassette.clone());
    let replay = async move { Rc::new(replay_against_mock(&name, &copy, speed).await) }
        .boxed_local()
        .shared();
    Ok(Rc::new(Loaded {
        found: found.clone(),
        cassette,
        dialect,
        decoded,
        replay,
    }))
}

/// The jobs of the selected cases of every cassette in `found`, in order.
pub fn jobs<'a>(found: &[Found], options: &'a CassetteOptions) -> Vec<Job<'a>> {
    let mut jobs = Vec::new();
    for item in found {
        let loaded = match load(item, options.run.speed) {
            Ok(loaded) => loaded,
            Err(why) => {
                let id = case_id(item, LOAD.0);
                if options.run.selects(&id) {
                    let result = CaseResult {
                        grade: Grade::Failed,
                        reason: Some(why),
                        ..blank(id.clone(), LOAD.1)
                    };
                    jobs.push(Job::new(id, LOAD.1, async move { result }));
                }
                continue;
            }
        };
        for (check, what) in CHECKS {
            let id = case_id(item, check);
            if !options.run.selects(&id) {
                continue;
            }
            let loaded = Rc::clone(&loaded);
            let grading = grade(loaded, check, id.clone(), what, options);
            jobs.push(Job::new(id, *what, grading));
        }
    }
    jobs
}

async fn grade(
    loaded: Rc<Loaded>,
    check_name: &str,
    id: String,
    what: &str,
    options: &CassetteOptions,
) -> CaseResult {
    let started = Instant::now();
    let result = CaseResult {
        dialect: loaded.cassette.header.dialect.clone(),
        ..blank(id, what)
    };
    let result = match check_name {
        "decode" => decode(&loaded, result),
        "invariants" => invariants_case(&loaded, result),
        "replay" => replay(&loaded, result).await,
        "agent" => agent_case(&loaded, result, options).await,
        "latency" => latency_case(&loaded, result, options).await,
        _ => snapshot(&loaded, result, options),
    };
    match result.grade {
        Grade::Ok => conclude(result, started),
        _ => CaseResult {
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            ..result
        },
    }
}

/// A check from an outcome: what it saw when it passed, why not when it failed.
fn outcome_check(name: &str, outcome: Result<String, String>) -> CheckResult {
    let passed = outcome.is_ok();
    check(name, passed, outcome.unwrap_or_else(|why| why))
}

fn not_applicable(mut result: CaseResult, grade: Grade, why: String) -> CaseResult {
    result.grade = grade;
    result.reason = Some(why);
    result
}

fn no_codec(loaded: &Loaded) -> String {
    format!(
        "dialect {} has no realtime codec: its frames have no normalised event stream",
        loaded.dialect.id
    )
}

fn decode(loaded: &Loaded, mut result: CaseResult) -> CaseResult {
    let lossless = check_lossless(&loaded.cassette);
    result.checks.push(outcome_check(
        "every payload round-trips",
        lossless.map(|n| format!("{n} JSON payloads round-trip to equal JSON")),
    ));
    let (passed, detail) = match &loaded.decoded {
        None => (
            true,
            format!("{}; payloads round-trip only", no_codec(loaded)),
        ),
        Some(Ok(events)) => (true, format!("{} events, none unknown", events.len())),
        Some(Err(why)) => (false, why.clone()),
    };
    result.checks.push(check(
        "every server frame decodes to known events",
        passed,
        detail,
    ));
    result
}

/// The decoded events, or the grade and reason of a case that has none.
fn decoded(loaded: &Loaded) -> Result<&[Located], (Grade, String)> {
    match &loaded.decoded {
        None => Err((Grade::Unimplemented, no_codec(loaded))),
        Some(Err(why)) => Err((
            Grade::Failed,
            format!("the cassette does not decode: {why}"),
        )),
        Some(Ok(events)) => Ok(events),
    }
}

fn plain(events: &[Located]) -> Vec<ModelEvent> {
    events.iter().map(|(_, e)| e.clone()).collect()
}

fn invariants_case(loaded: &Loaded, result: CaseResult) -> CaseResult {
    let events = match decoded(loaded) {
        Ok(events) => events,
        Err((grade, why)) => return not_applicable(result, grade, why),
    };
    let mut result = result;
    let context = Context {
        output_rate: loaded
            .dialect
            .capabilities(&loaded.cassette.header.model)
            .map(|c| c.output_sample_rate)
            .unwrap_or(0),
        incomplete: loaded.cassette.header.incomplete,
    };
    for (name, invariant) in invariants::INVARIANTS {
        let outcome = invariant(events, &context).map_err(|broken| {
            let at = loaded.cassette.frames.get(broken.frame);
            let frame = at.map_or_else(
                || format!("frame {}", broken.frame),
                |f| describe(broken.frame, f),
            );
            format!("{frame}: {}", broken.why)
        });
        result.checks.push(check(
            name,
            outcome.is_ok(),
            outcome.err().unwrap_or_else(|| "holds".into()),
        ));
    }
    result
}

async fn replay(loaded: &Loaded, mut result: CaseResult) -> CaseResult {
    let again = loaded.replay.clone().await;
    let outcome = match again.as_ref() {
        Ok(again) => compare_server_frames(&loaded.cassette, again),
        Err(why) => Err(format!("the replay did not run: {why}")),
    };
    result.checks.push(outcome_check(
        "every recorded server frame came back in order",
        outcome.map(|n| format!("{n} server frames, in order")),
    ));
    result
}

async fn agent_case(loaded: &Loaded, result: CaseResult, options: &CassetteOptions) -> CaseResult {
    let events = match decoded(loaded) {
        Ok(events) => events,
        Err((grade, why)) => return not_applicable(result, grade, why),
    };
    let turns = match user_turns(&loaded.cassette, loaded.dialect, events) {
        Ok(turns) => turns,
        Err(why) => return not_applicable(result, Grade::Unimplemented, why),
    };
    let outcome = replay_through_agent(
        &loaded.found.name,
        &loaded.cassette,
        loaded.dialect,
        events,
        &turns,
        options.run.speed,
    )
    .await;
    let mut result = result;
    result
        .checks
        .push(outcome_check("every user turn answered once", outcome));
    result
}

async fn latency_case(
    loaded: &Loaded,
    result: CaseResult,
    options: &CassetteOptions,
) -> CaseResult {
    let events: &[Located] = match &loaded.decoded {
        Some(Ok(events)) => events,
        _ => &[],
    };
    let recorded = turn_latencies(&loaded.cassette, events);
    if recorded.is_empty() {
        return not_applicable(
            result,
            Grade::Unimplemented,
            "the recording has no turn with server audio to time".into(),
        );
    }
    let mut result = result;
    let again = loaded.replay.clone().await;
    let again = match again.as_ref() {
        Ok(again) => again,
        Err(why) => {
            return not_applicable(
                result,
                Grade::Failed,
                format!("the replay did not run: {why}"),
            )
        }
    };
    let replayed_events = match decode_events(again, loaded.dialect) {
        Some(Ok(events)) => events,
        _ => Vec::new(),
    };
    let replayed = turn_latencies(again, &replayed_events);
    result.latency = replayed.iter().map(|(_, l)| *l).collect();
    // Timeline figures do not depend on the replay's speed.
    let speed = if latency::on_timeline(&loaded.cassette) {
        1.0
    } else {
        options.run.speed
    };
    let outcome = latency::compare(&recorded, &replayed, options.latency_tolerance, speed);
    result.checks.push(outcome_check(
        "each turn's TTFB and TTFA within the tolerance",
        outcome,
    ));
    result
}

fn snapshot(loaded: &Loaded, result: CaseResult, options: &CassetteOptions) -> CaseResult {
    let events = match decoded(loaded) {
        Ok(events) => events,
        Err((grade, why)) => return not_applicable(result, grade, why),
    };
    let mut result = result;
    let events = plain(events);
    result.evidence = Some(Evidence {
        events: normalise(&events),
        wire: Vec::new(),
        journal_notes: Vec::new(),
    });
    match compare_or_write(&loaded.found.path, &events, options.update_snapshots) {
        Ok(SnapshotOutcome::Matches) => {
            result
                .checks
                .push(check("matches the snapshot", true, "matches".into()));
            result
        }
        Ok(SnapshotOutcome::Differs(why)) => {
            result
                .checks
                .push(check("matches the snapshot", false, why));
            result
        }
        Ok(SnapshotOutcome::Missing) => not_applicable(
            result,
            Grade::Informational,
            "no snapshot; run with `--update-snapshots` to write one".into(),
        ),
        Ok(SnapshotOutcome::Written(path)) => not_applicable(
            result,
            Grade::Informational,
            format!("snapshot written to {}", path.display()),
        ),
        Err(e) => not_applicable(result, Grade::Failed, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{case_list, jobs, CassetteOptions};
    use crate::cassette_cases::find_cassettes;
    use crate::family::RunOptions;
    use crate::grade::Grade;
    use crate::schedule::run_jobs;
    use std::num::NonZeroUsize;
    use std::path::Path;

    /// Copies the bundled cassette `name` (with its sidecars) into `dir`.
    fn copy_bundled(name: &str, dir: &Path) {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cassettes");
        let (folder, stem) = name.split_once('/').unwrap();
        for entry in std::fs::read_dir(source.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if file.split('.').next() == Some(stem) {
                std::fs::copy(&path, dir.join(&file)).unwrap();
            }
        }
    }

    #[tokio::test]
    async fn bundled_sessions_grade_clean_and_bad_input_is_a_failed_load_case() {
        let dir = tempfile::tempdir().unwrap();
        copy_bundled("openai/ga-tool-round-trip", dir.path());
        copy_bundled("openai/speech-pcm", dir.path());
        std::fs::write(dir.path().join("junk.jsonl"), "{not a cassette\n").unwrap();
        let found = find_cassettes(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(case_list(&found).len(), 18);
        let options = CassetteOptions::default();
        let results = run_jobs(
            jobs(&found, &options),
            NonZeroUsize::new(4).unwrap(),
            |_, _| {},
        )
        .await;
        let graded: Vec<(String, Grade)> =
            results.iter().map(|r| (r.id.clone(), r.grade)).collect();
        let grade_of = |id: &str| {
            results
                .iter()
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("no case {id} in {graded:?}"))
        };
        for check in ["decode", "invariants", "replay", "latency"] {
            let result = grade_of(&format!("cassette.ga-tool-round-trip.{check}"));
            assert_eq!(result.grade, Grade::Ok, "{check}: {:?}", result.reason);
        }
        let agent = grade_of("cassette.ga-tool-round-trip.agent");
        assert_eq!(agent.grade, Grade::Unimplemented);
        assert!(agent
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("calls tools"));
        let snapshot = grade_of("cassette.ga-tool-round-trip.snapshot");
        assert_eq!(snapshot.grade, Grade::Informational);
        assert_eq!(
            snapshot.reason.as_deref(),
            Some("no snapshot; run with `--update-snapshots` to write one")
        );
        for check in ["decode", "replay"] {
            let result = grade_of(&format!("cassette.speech-pcm.{check}"));
            assert_eq!(result.grade, Grade::Ok, "{check}: {:?}", result.reason);
        }
        let invariants = grade_of("cassette.speech-pcm.invariants");
        assert_eq!(invariants.grade, Grade::Unimplemented);
        let junk = grade_of("cassette.junk.load");
        assert_eq!(junk.grade, Grade::Failed);
        assert!(junk
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("junk.jsonl"));
        // Writing the snapshot, then comparing against it.
        let update = CassetteOptions {
            update_snapshots: true,
            run: RunOptions {
                filter: Some("snapshot".into()),
                ..RunOptions::default()
            },
            ..CassetteOptions::default()
        };
        run_jobs(
            jobs(&found, &update),
            NonZeroUsize::new(2).unwrap(),
            |_, _| {},
        )
        .await;
        let compare = CassetteOptions {
            run: RunOptions {
                filter: Some("ga-tool-round-trip.snapshot".into()),
                ..RunOptions::default()
            },
            ..CassetteOptions::default()
        };
        let again = run_jobs(
            jobs(&found, &compare),
            NonZeroUsize::new(1).unwrap(),
            |_, _| {},
        )
        .await;
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].grade, Grade::Ok, "{:?}", again[0].reason);
    }
}
