//! Drift: `understudy conform --cassettes DIR --target URL --record-to OUT`
//! against `understudy serve` replaying a copy of a cassette with a planted
//! change (a field and a timing), and against an unchanged copy.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{repo, Serve};

const CASSETTE: &str = "openai/ga-text-turn";
const PLANTED: &str = "A planted change in the transcript.";

/// Copies the bundled cassette (and its audio) into `dir/openai/`, passing
/// each frame through `change`.
fn copy_cassette(dir: &Path, change: impl Fn(&mut Value)) {
    copy_named(dir, "ga-text-turn", change);
}

/// Copies the bundled cassette `openai/STEM` (and its audio) into
/// `dir/openai/`, passing each frame through `change`.
fn copy_named(dir: &Path, stem: &str, change: impl Fn(&mut Value)) {
    let from = repo().join("fixtures/cassettes/openai");
    let to = dir.join("openai");
    std::fs::create_dir_all(&to).expect("a cassette folder");
    let text = std::fs::read_to_string(from.join(format!("{stem}.jsonl"))).expect("the cassette");
    let mut lines = text.lines();
    let mut out = vec![lines.next().expect("a header").to_owned()];
    for line in lines {
        let mut frame: Value = serde_json::from_str(line).expect("a frame");
        change(&mut frame);
        out.push(frame.to_string());
    }
    std::fs::write(to.join(format!("{stem}.jsonl")), out.join("\n") + "\n").expect("write");
    let wav = format!("{stem}.s2c.wav");
    std::fs::copy(from.join(&wav), to.join(&wav)).expect("copy the audio");
}

/// The planted change: the spoken transcript's final text, and the response
/// finishing 1.5 s later than recorded.
fn plant(frame: &mut Value) {
    match frame["json"]["type"].as_str() {
        Some("response.output_audio_transcript.done") => {
            frame["json"]["transcript"] = Value::from(PLANTED);
        }
        Some("response.done") => {
            let t = frame["t_us"].as_u64().unwrap_or_default();
            frame["t_us"] = Value::from(t + 1_500_000);
        }
        _ => {}
    }
}

/// Runs `conform --target URL --cassettes ORIGINALS --record-to OUT` plus
/// `extra`, with the environment `env`; returns the exit code and the output.
fn run_drift(
    url: &str,
    originals: &Path,
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, String) {
    let run = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["conform", "--target", url, "--cassettes"])
        .arg(originals)
        .arg("--record-to")
        .arg(out)
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .expect("run understudy conform");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (run.status.code().unwrap_or(-1), output)
}

/// Runs drift of `originals` against a `serve` replaying `served`; returns
/// the exit code, the output and the drift report of the cassette.
fn drift(originals: &Path, served: &Path, out: &Path, extra: &[&str]) -> (i32, String, Value) {
    let served = served.to_str().expect("a UTF-8 path");
    let serve = Serve::start(&["--engine", "replay", "--cassettes", served]);
    let (code, output) = run_drift(&serve.url, originals, out, extra, &[]);
    let report = std::fs::read_to_string(out.join(format!("{CASSETTE}.drift.json")))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    (code, output, report)
}

#[test]
fn drift_names_the_planted_field_and_timing_and_records_the_new_session() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (originals, changed, out) = (
        dir.path().join("originals"),
        dir.path().join("changed"),
        dir.path().join("out"),
    );
    copy_cassette(&originals, |_| {});
    copy_cassette(&changed, plant);
    let (code, output, report) = drift(&originals, &changed, &out, &[]);
    assert_eq!(code, 0, "drift is reported, not failed:\n{output}");
    assert!(
        output.contains(&format!("INFORMATIONAL drift.{CASSETTE}")),
        "{output}"
    );
    let events = report["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        events.len(),
        1,
        "only the planted field changed: {events:#?}"
    );
    let changed_field = &events[0];
    assert_eq!(
        changed_field["place"]["event"],
        "response.output_audio_transcript.done"
    );
    assert_eq!(changed_field["pointer"], "/transcript");
    assert!(
        changed_field["right"]
            .as_str()
            .unwrap_or_default()
            .contains(PLANTED),
        "{changed_field}"
    );
    let timings = report["timings"].as_array().cloned().unwrap_or_default();
    let done = timings
        .iter()
        .find(|t| t["event"] == "response.done")
        .unwrap_or_else(|| panic!("response.done's delay is not reported: {timings:#?}"));
    let slower =
        done["now_ms"].as_f64().unwrap_or(0.0) - done["recorded_ms"].as_f64().unwrap_or(0.0);
    assert!((1250.0..1750.0).contains(&slower), "{done}");
    // The text report names them too.
    assert!(
        output.contains("/transcript") && output.contains(PLANTED),
        "{output}"
    );
    // The new session is a readable cassette, marked recorded, naming the target.
    let recorded = understudy_fixtures::Cassette::read(&out.join(format!("{CASSETTE}.jsonl")))
        .expect("the new recording reads back");
    assert_eq!(
        recorded.header.origin,
        understudy_fixtures::Origin::Recorded
    );
    assert!(recorded.header.upstream.is_some());
}

#[test]
fn an_unchanged_round_trip_reports_no_drift() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (originals, out) = (dir.path().join("originals"), dir.path().join("out"));
    copy_cassette(&originals, |_| {});
    // Served among every bundled cassette: the drift run must ask for its own.
    let bundled = repo().join("fixtures/cassettes");
    let (code, output, report) = drift(&originals, &bundled, &out, &[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!("OK            drift.{CASSETTE}")),
        "{output}"
    );
    assert_eq!(report["events"], Value::Array(Vec::new()), "{report:#}");
    assert_eq!(report["timings"], Value::Array(Vec::new()), "{report:#}");
}

#[test]
fn without_the_cassette_choice_a_replaying_target_plays_another_session() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (originals, out) = (dir.path().join("originals"), dir.path().join("out"));
    copy_cassette(&originals, |_| {});
    let bundled = repo().join("fixtures/cassettes");
    let (code, output, report) = drift(&originals, &bundled, &out, &["--no-cassette-choice"]);
    assert_eq!(code, 0, "{output}");
    let events = report["events"].as_array().cloned().unwrap_or_default();
    assert!(
        !events.is_empty(),
        "the first OpenAI cassette is another session: {output}"
    );
}

#[test]
fn a_target_that_refuses_the_session_is_drift_naming_the_refusal() {
    // The retired beta, recorded while it was served, against today's refusal.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (originals, out) = (dir.path().join("originals"), dir.path().join("out"));
    copy_named(&originals, "beta-text-turn", |_| {});
    let serve = Serve::start(&[]);
    let (code, output) = run_drift(&serve.url, &originals, &out, &[], &[]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("INFORMATIONAL drift.openai/beta-text-turn"),
        "{output}"
    );
    let report = std::fs::read_to_string(out.join("openai/beta-text-turn.drift.json"))
        .expect("the drift report");
    assert!(report.contains("close 4000"), "{report}");
}

#[test]
fn the_key_reaches_the_target_and_never_the_new_recording() {
    let key = "sk-drift-test-5c1e9a";
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (originals, out) = (dir.path().join("originals"), dir.path().join("out"));
    copy_cassette(&originals, |_| {});
    let serve = Serve::start(&["--api-key", key]);
    let (code, output) = run_drift(
        &serve.url,
        &originals,
        &out,
        &["--key-env", "UNDERSTUDY_DRIFT_KEY"],
        &[("UNDERSTUDY_DRIFT_KEY", key)],
    );
    assert_eq!(code, 0, "{output}");
    // Accepted (a refused key would be drift: an error and a close).
    assert!(
        output.contains(&format!("OK            drift.{CASSETTE}")),
        "{output}"
    );
    assert!(!output.contains(key), "the key was printed: {output}");
    let recorded =
        std::fs::read_to_string(out.join(format!("{CASSETTE}.jsonl"))).expect("the new recording");
    assert!(!recorded.contains(key), "the key reached the disk");
    assert!(
        recorded.contains("\"scrubbed\":[\"authorization\"]"),
        "{}",
        &recorded[..400]
    );
}
