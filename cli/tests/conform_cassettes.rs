//! `conform --cassettes` on real recordings: the official SDKs run a session
//! per dialect (GPT-Live included) through `understudy record` (exactly as
//! `record.rs` does),
//! and grading those cassettes gives every case OK, or UNIMPLEMENTED where a
//! check cannot apply to the dialect or the session. Corrupted copies of one recording (a
//! frame dropped, an event reordered, a delta removed) each FAIL with a
//! message naming the frame: its index, direction and event type.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::record::{cassettes, files, record_session, understudy, DIALECTS, KEY};
use support::Serve;

/// Why a case may be UNIMPLEMENTED on a clean recording: reasons that say the
/// check cannot apply to the dialect or the session, never that it failed.
const CANNOT_APPLY: &[&str] = &[
    "has no realtime codec",
    "has no turn with server audio to time",
    "has no user audio (a typed turn)",
    "sent input the agent is not fed",
    // GPT-Live's SDK session delegates a request and answers it: the agent
    // would need the recording's own result.
    "the session calls tools",
];

/// Runs `conform --cassettes DIR` with a JSON report; the exit status, the
/// printed output and the report's cases.
fn conform(dir: &Path, report: &Path, extra: &[&str]) -> (bool, String, Vec<Value>) {
    let mut args = vec![
        "conform",
        "--cassettes",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ];
    args.extend(extra);
    let (ok, output) = understudy(&args);
    let text = std::fs::read_to_string(report)
        .unwrap_or_else(|e| panic!("no report at {}: {e}\n{output}", report.display()));
    let json: Value = serde_json::from_str(&text).expect("a JSON report");
    let cases = json["cases"].as_array().expect("cases").clone();
    (ok, output, cases)
}

fn case<'a>(cases: &'a [Value], suffix: &str) -> &'a Value {
    cases
        .iter()
        .find(|c| c["id"].as_str().is_some_and(|id| id.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no case ending {suffix}"))
}

fn reason(case: &Value) -> &str {
    case["reason"].as_str().unwrap_or_default()
}

/// Grades the corrupted copy in `dir`: the run fails, and its invariants case
/// FAILs naming `frame` (`frame 12 (s2c response.done)`) and saying `what`.
fn assert_fails_naming(dir: &Path, report: &Path, frame: &str, what: &str) {
    let (ok, output, cases) = conform(dir, report, &[]);
    assert!(!ok, "{} must fail:\n{output}", dir.display());
    let invariants = case(&cases, ".invariants");
    assert_eq!(invariants["grade"], "FAILED", "{output}");
    let why = reason(invariants);
    assert!(
        why.contains(frame) && why.contains(what),
        "{frame} / {what}: {why}"
    );
}

/// A cassette as its header line and frame lines (frame `i` is line `i + 1`).
fn lines(path: &Path) -> (String, Vec<Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_owned();
    let frames = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    (header, frames)
}

fn write_lines(path: &Path, header: &str, frames: &[Value]) {
    let mut text = format!("{header}\n");
    for frame in frames {
        text.push_str(&frame.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn server_type(frame: &Value) -> Option<&str> {
    (frame["dir"] == "s2c").then(|| frame["json"]["type"].as_str())?
}

/// A copy of the recording folder `from` in `to`, its cassette changed by `corrupt`.
fn corrupted(from: &Path, to: &Path, corrupt: impl FnOnce(&mut Vec<Value>)) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for file in files(from) {
        std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
    }
    let cassette = cassettes(to).remove(0);
    let (header, mut frames) = lines(&cassette);
    corrupt(&mut frames);
    write_lines(&cassette, &header, &frames);
    cassette
}

#[test]
fn recorded_sdk_sessions_grade_ok_and_corrupted_copies_fail_naming_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("recorded");
    std::fs::create_dir(&recorded).unwrap();
    let live = Serve::start(&["--api-key", KEY, "--legacy-beta"]);
    for dialect in DIALECTS {
        record_session(dialect, &live, &recorded.join(dialect.label));
    }
    drop(live);

    // Snapshots first (without one the snapshot case is only INFORMATIONAL).
    let report = dir.path().join("report.json");
    let (ok, output, _) = conform(&recorded, &report, &["--update-snapshots"]);
    assert!(ok, "{output}");
    let (ok, output, cases) = conform(&recorded, &report, &[]);
    assert!(ok, "{output}");
    let recordings = cassettes(&recorded).len();
    assert!(recordings >= DIALECTS.len(), "{recordings} cassettes");
    assert_eq!(cases.len(), recordings * 6, "{output}");
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        match case["grade"].as_str().unwrap() {
            "OK" => {}
            "UNIMPLEMENTED" if CANNOT_APPLY.iter().any(|r| reason(case).contains(r)) => {}
            other => panic!("{id}: {other} {}\n{output}", reason(case)),
        }
    }
    // The spoken sessions replay through the agent, each turn answered once.
    for label in ["openai-beta", "gemini-live", "dashscope-omni"] {
        let agent = cases
            .iter()
            .find(|c| {
                c["id"].as_str().unwrap().contains(label)
                    && c["id"].as_str().unwrap().ends_with(".agent")
            })
            .unwrap_or_else(|| panic!("no agent case for {label}"));
        assert_eq!(agent["grade"], "OK", "{label}: {}", reason(agent));
    }
    // Every realtime session dialect is graded through its codec.
    for label in [
        "openai-ga",
        "openai-beta",
        "openai-live",
        "gemini-live",
        "dashscope-omni",
    ] {
        let invariants = cases
            .iter()
            .find(|c| {
                c["id"].as_str().unwrap().contains(label)
                    && c["id"].as_str().unwrap().ends_with(".invariants")
            })
            .unwrap_or_else(|| panic!("no invariants case for {label}"));
        assert_eq!(invariants["grade"], "OK", "{label}: {}", reason(invariants));
    }

    // GPT-Live's turns are inferred and timed on its session timeline
    // (its clock is the input audio): the replay keeps each turn's latency.
    let live_latency = cases
        .iter()
        .find(|c| {
            let id = c["id"].as_str().unwrap();
            id.contains("openai-live") && id.ends_with(".latency")
        })
        .expect("a latency case for openai-live");
    assert_eq!(live_latency["grade"], "OK", "{}", reason(live_latency));

    let session = recorded.join("openai-ga");
    let corrupt_dir = dir.path().join("corrupt");

    // A frame dropped: the response's `response.done`.
    let mut created_at = None;
    corrupted(&session, &corrupt_dir.join("dropped"), |frames| {
        let done = frames
            .iter()
            .position(|f| server_type(f) == Some("response.done"))
            .expect("a response.done");
        created_at = frames[..done]
            .iter()
            .rposition(|f| server_type(f) == Some("response.created"));
        frames.remove(done);
    });
    let created_at = created_at.expect("a response.created before it");
    assert_fails_naming(
        &corrupt_dir.join("dropped"),
        &report,
        &format!("frame {created_at} (s2c response.created)"),
        "never done",
    );

    // An event reordered: `response.done` moved before the response's last delta.
    let mut delta_at = (0, String::new());
    corrupted(&session, &corrupt_dir.join("reordered"), |frames| {
        let done = frames
            .iter()
            .position(|f| server_type(f) == Some("response.done"))
            .expect("a response.done");
        let last = frames[..done]
            .iter()
            .rposition(|f| server_type(f).is_some_and(|t| t.ends_with(".delta")))
            .expect("a delta before response.done");
        let (t_last, t_done) = (frames[last]["t_us"].clone(), frames[done]["t_us"].clone());
        frames.swap(last, done);
        frames[last]["t_us"] = t_last;
        frames[done]["t_us"] = t_done;
        delta_at = (done, server_type(&frames[done]).unwrap().to_owned());
    });
    assert_fails_naming(
        &corrupt_dir.join("reordered"),
        &report,
        &format!("frame {} (s2c {})", delta_at.0, delta_at.1),
        "after its response_done",
    );

    // A delta removed: the first transcript (or text) delta.
    let mut done_at = (0, String::new());
    corrupted(&session, &corrupt_dir.join("delta-removed"), |frames| {
        let is_text_delta = |t: &str| t.ends_with("transcript.delta") || t.ends_with("text.delta");
        let delta = frames
            .iter()
            .position(|f| server_type(f).is_some_and(is_text_delta))
            .expect("a transcript or text delta");
        let done_type = server_type(&frames[delta])
            .unwrap()
            .replace(".delta", ".done");
        frames.remove(delta);
        let done = frames[delta..]
            .iter()
            .position(|f| server_type(f) == Some(done_type.as_str()))
            .expect("its done event")
            + delta;
        done_at = (done, done_type);
    });
    assert_fails_naming(
        &corrupt_dir.join("delta-removed"),
        &report,
        &format!("frame {} (s2c {})", done_at.0, done_at.1),
        "deltas join to",
    );
}

#[test]
fn bad_input_is_a_failed_case_or_a_clear_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(dir.path().join("notes.jsonl"), "this is not JSON\n").unwrap();
    let mut header: Value = serde_json::from_str(
        std::fs::read_to_string(support::cassette_file("openai/ga-text-turn"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    header["dialect"] = "martian-live".into();
    header["audio"] = Value::Array(Vec::new());
    std::fs::write(dir.path().join("alien.jsonl"), format!("{header}\n")).unwrap();
    let (ok, output, cases) = conform(dir.path(), &report, &[]);
    assert!(!ok, "{output}");
    assert!(!output.contains("panicked"), "{output}");
    let notes = case(&cases, "notes.load");
    assert_eq!(notes["grade"], "FAILED");
    assert!(reason(notes).contains("notes.jsonl"), "{}", reason(notes));
    let alien = case(&cases, "alien.load");
    assert_eq!(alien["grade"], "FAILED");
    assert!(
        reason(alien).contains("unknown dialect `martian-live`"),
        "{}",
        reason(alien)
    );
    // `--list` lists every case of every cassette, readable or not, and grades none.
    let (ok, listed) = understudy(&[
        "conform",
        "--cassettes",
        dir.path().to_str().unwrap(),
        "--list",
    ]);
    assert!(ok, "{listed}");
    for id in ["cassette.alien.decode", "cassette.notes.snapshot"] {
        assert!(listed.contains(id), "{id} not listed:\n{listed}");
    }
    // A path that does not exist is a plain CLI error.
    let missing = dir.path().join("nowhere");
    let (ok, output) = understudy(&["conform", "--cassettes", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        output.contains("cannot read") && output.contains("nowhere"),
        "{output}"
    );
    assert!(!output.contains("panicked"), "{output}");
}
