//! The `understudy` command as a user runs it.

use std::process::Command;

mod support;
use support::understudy;

#[test]
fn conform_writes_junit_and_json_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let (code, stdout, stderr) = understudy(&[
        "conform",
        "--speed",
        "4",
        "--format",
        "junit",
        "--output",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 FAILED"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"));
    assert!(
        xml.contains("<testsuites") && xml.contains("failures=\"0\""),
        "{xml}"
    );
    assert!(xml.matches("<testcase ").count() >= 9);
    // `--list` names exactly the cases the run ran, in the same order.
    let ran: Vec<&str> = xml
        .split("<testcase ")
        .skip(1)
        .filter_map(|tc| tc.split(" name=\"").nth(1)?.split('"').next())
        .collect();
    let (code, listing, _) = understudy(&["conform", "--list"]);
    assert_eq!(code, 0);
    let listed: Vec<&str> = listing
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(
        listed, ran,
        "conform --list and the run name different cases"
    );

    let json_path = dir.path().join("r.json");
    let (code, _, _) = understudy(&[
        "conform",
        "--speed",
        "4",
        "--filter",
        "openai.ga",
        "--format",
        "json",
        "--output",
        json_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    assert!(cases.len() >= 5, "at least five OpenAI GA cases");
    for case in cases {
        assert!(case["id"].as_str().unwrap().starts_with("openai.ga"));
        assert_eq!(case["grade"], "OK", "{}", case["id"]);
        assert!(case["evidence"]["events"]
            .as_array()
            .is_some_and(|e| !e.is_empty()));
        assert!(case["evidence"]["wire"]
            .as_array()
            .is_some_and(|e| !e.is_empty()));
    }
}

#[test]
fn conform_with_an_unknown_filter_is_an_error() {
    let (code, _, stderr) = understudy(&["conform", "--filter", "no.such.case"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no case matches"), "{stderr}");
}

#[test]
fn fixtures_show_events_prints_normalised_events_as_json_lines() {
    let (code, stdout, stderr) =
        understudy(&["fixtures", "show", "openai/ga-tool-round-trip", "--events"]);
    assert_eq!(code, 0, "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "session_created");
    let call = events
        .iter()
        .find(|e| e["type"] == "tool_call")
        .expect("a tool call");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
    assert!(events
        .iter()
        .any(|e| e["type"] == "audio_delta" && e["pcm"].as_str().is_some_and(|p| !p.is_empty())));
}

#[test]
fn fixtures_show_names_gemini_messages_by_their_key() {
    let (code, stdout, stderr) = understudy(&["fixtures", "show", "gemini/audio-turn"]);
    assert_eq!(code, 0, "{stderr}");
    for kind in [
        "setup",
        "realtimeInput",
        "setupComplete",
        "serverContent.modelTurn",
        "serverContent.turnComplete",
    ] {
        assert!(stdout.contains(kind), "{kind} missing:\n{stdout}");
    }
}

#[test]
fn fixtures_validate_reports_a_broken_cassette() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("ok.jsonl");
    std::fs::write(&good, concat!(
        r#"{"understudy_cassette":1,"provider":"openai","dialect":"openai-ga","model":"gpt-realtime","origin":"synthesized","created_at":"2026-11-24T00:00:00Z","toolkit_version":"0.1.0"}"#, "\n",
        r#"{"t_us":5,"dir":"s2c","kind":"text","json":{"type":"session.created","event_id":"e","session":{}}}"#, "\n",
    )).unwrap();
    let (code, stdout, _) = understudy(&["fixtures", "validate", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, concat!(
        r#"{"understudy_cassette":1,"provider":"openai","dialect":"openai-ga","model":"gpt-realtime","origin":"synthesized","created_at":"2026-11-24T00:00:00Z","toolkit_version":"0.1.0"}"#, "\n",
        r#"{"t_us":50,"dir":"s2c","kind":"text","json":{"type":"a"}}"#, "\n",
        r#"{"t_us":10,"dir":"s2c","kind":"close","code":99,"reason":""}"#, "\n",
    )).unwrap();
    let (code, stdout, _) = understudy(&["fixtures", "validate", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("INVALID"), "{stdout}");
}

#[test]
fn help_names_every_command() {
    let (code, stdout, _) = understudy(&["--help"]);
    assert_eq!(code, 0);
    for command in ["serve", "agent", "conform", "fixtures"] {
        assert!(stdout.contains(command), "{stdout}");
    }
}

/// Runs `understudy` and expects it to exit within 20 s (a server that
/// starts instead is killed, and the test fails rather than hangs).
fn understudy_exits(args: &[&str]) -> (i32, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run understudy");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for understudy") {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not exit: it was accepted");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn speeds_and_durations_that_are_not_positive_and_finite_are_refused() {
    // `--speed nan` used to be taken, and every answer then waited forever.
    for (args, option) in [
        (&["serve", "--port", "0", "--speed", "nan"][..], "--speed"),
        (&["serve", "--port", "0", "--speed", "0"][..], "--speed"),
        (&["serve", "--port", "0", "--speed=-2"][..], "--speed"),
        (
            &["serve", "--port", "0", "--session-limit", "nan"][..],
            "--session-limit",
        ),
        (&["conform", "--speed", "inf"][..], "--speed"),
        (
            &["agent", "--port", "0", "--mock-speed", "nan"][..],
            "--mock-speed",
        ),
    ] {
        let (code, stderr) = understudy_exits(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(option), "{args:?}: {stderr}");
        assert!(stderr.contains("positive, finite"), "{args:?}: {stderr}");
    }
    // A journal read must not wait forever: its deadline cannot be off.
    for value in ["off", "0", "soon"] {
        let (code, stderr) =
            understudy_exits(&["serve", "--port", "0", "--journal-read-deadline", value]);
        assert_eq!(code, 2, "{value}: {stderr}");
        assert!(
            stderr.contains("--journal-read-deadline"),
            "{value}: {stderr}"
        );
        if value != "soon" {
            assert!(stderr.contains("cannot be off"), "{value}: {stderr}");
        }
    }
    let (code, stderr) = understudy_exits(&["serve", "--port", "0", "--fault", "setup-boom"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("setup-error, setup-silent, setup-close"),
        "{stderr}"
    );
}

#[test]
fn conform_prints_each_case_as_it_finishes_then_the_summary_with_no_control_characters() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    // Gemini's cassette cases take a second; its long conversations many.
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["conform", "--speed", "4", "--filter", "gemini"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run understudy");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(
        child.try_wait().expect("the child is there").is_none(),
        "the first case's line came only when the run was over: {first:?}"
    );
    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .expect("the rest of the output");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("the run ends");
    let stdout = first.clone() + &rest;
    assert!(status.success(), "{stdout}{stderr}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains('\r') && !text.contains('\x1b'),
            "{name} is not a terminal, yet has control characters: {text:?}"
        );
    }
    let (streamed, summary) = stdout
        .split_once("understudy conformance — ")
        .expect("the summary follows the streamed lines");
    let case_ids = |text: &str| -> Vec<String> {
        let mut ids: Vec<String> = text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|id| id.contains("gemini"))
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids
    };
    let (streamed, summarised) = (case_ids(streamed), case_ids(summary));
    assert!(streamed.len() >= 10, "{stdout}");
    assert_eq!(
        streamed, summarised,
        "every case is printed as it finishes, then again in the summary"
    );
    assert!(
        first.contains("gemini"),
        "the first line is a case: {first:?}"
    );
    assert!(summary.contains("0 FAILED"), "{summary}");
}

#[test]
fn conform_list_into_a_closed_pipe_exits_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run understudy")
    };
    // `conform --list | head -1`: one line read, then the pipe is closed.
    let mut child = spawn(&["conform", "--list"]);
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("a first line");
    assert!(line.starts_with("openai."), "{line:?}");
    let out = child.wait_with_output().expect("the listing ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The reader gone before the first line (`| true`), listing and run alike:
    // the listing exits 0, the run finishes and exits with its own status.
    for args in [
        &["conform", "--list"][..],
        &["conform", "--speed", "4", "--filter", "openai.ga.text"][..],
    ] {
        let mut child = spawn(args);
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("the command ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_taken_port_is_reported_once_with_a_hint_naming_the_flag() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port().to_string();
    for command in ["serve", "agent"] {
        let (code, stderr) = understudy_exits(&[command, "--port", &port]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
            "{command}: {stderr}"
        );
        let os_error = std::io::Error::from(std::io::ErrorKind::AddrInUse).to_string();
        let os_mentions = stderr.matches("os error").count();
        assert_eq!(
            os_mentions, 1,
            "{command}: the OS error once ({os_error}):\n{stderr}"
        );
        let hint = stderr
            .lines()
            .find(|l| l.starts_with("hint:"))
            .unwrap_or_else(|| panic!("{command}: no hint:\n{stderr}"));
        assert!(hint.contains("--port"), "{command}: {hint}");
    }
}

#[test]
fn cassettes_without_the_replay_engine_are_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().to_str().expect("utf-8 path");
    let warning = first_stderr_line(&["serve", "--port", "0", "--cassettes", folder]);
    assert!(
        warning.starts_with("warning: --cassettes is read only by the replay engine"),
        "{warning}"
    );
    assert!(warning.contains("--engine replay"), "{warning}");
}

#[test]
fn each_server_command_has_its_own_default_port() {
    let default_port = |command: &str| -> u16 {
        let out = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args([command, "--help"])
            .output()
            .expect("run understudy");
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        let after = help
            .split("--port <PORT>")
            .nth(1)
            .unwrap_or_else(|| panic!("{command} --help has no --port:\n{help}"));
        let default = after
            .split("[default: ")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap_or_else(|| panic!("{command} --port has no default:\n{help}"));
        default.parse().expect("a port number")
    };
    let ports = [
        default_port("serve"),
        default_port("record"),
        default_port("agent"),
    ];
    assert_eq!(ports, [8765, 8766, 8767]);
}

/// The first stderr line of `understudy ARGS` (a server, killed after).
fn first_stderr_line(args: &[&str]) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run understudy");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn binding_beyond_loopback_warns_what_is_exposed() {
    let open = first_stderr_line(&["serve", "--host", "0.0.0.0", "--port", "0"]);
    assert!(
        open.starts_with("warning: listening on 0.0.0.0: reachable from other machines"),
        "{open}"
    );
    assert!(open.contains("--require-auth"), "{open}");
    let keyed = first_stderr_line(&[
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--api-key",
        "sk-only",
    ]);
    assert!(keyed.contains("need a key"), "{keyed}");
    let agent = first_stderr_line(&["agent", "--host", "0.0.0.0", "--port", "0"]);
    assert!(
        agent.starts_with("warning: listening on 0.0.0.0"),
        "{agent}"
    );
    // Loopback: no warning (the first line is something else).
    let local = first_stderr_line(&["serve", "--port", "0", "--engine", "replay"]);
    assert!(!local.starts_with("warning:"), "{local}");
}
