//! The official `openai` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, against `understudy serve`: GA and beta, text, audio and tool
//! turns, on both engines, plus a rejected key. The harness validates every
//! server event strictly against the SDK's own event models.
//!
//! The virtualenv is created by `scripts/python-env.sh` (PyPI only; reused when
//! its requirements have not changed).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("scripts/python-env.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/python-env.sh");
        assert!(out.status.success(), "scripts/python-env.sh failed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(stdout.lines().last().expect("python path").trim())
    })
}

/// `understudy serve` on a free port; killed on drop.
struct Serve {
    child: Child,
    base_url: String,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start understudy serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the serving line");
        // Keep draining so the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("understudy serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Serve {
            child,
            base_url: format!("{url}/v1"),
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn harness(serve: &Serve, extra: &[&str]) -> (bool, String) {
    let out = Command::new(python())
        .arg(repo().join("tests/sdk/openai_realtime_turn.py"))
        .args(["--base-url", &serve.base_url])
        .args(extra)
        .output()
        .expect("run the SDK harness");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn scenario_args(dialect: &str, scenario: &str, replay: bool) -> Vec<String> {
    let mut args = vec![
        "--dialect".into(),
        dialect.into(),
        "--scenario".into(),
        scenario.into(),
    ];
    if scenario == "audio" {
        args.push("--audio".into());
        args.push(
            repo()
                .join("fixtures/audio/user-weather-24k.wav")
                .display()
                .to_string(),
        );
    }
    if replay {
        let cassette = match scenario {
            "text" => "text-turn",
            "audio" => "audio-vad-turn",
            _ => "tool-round-trip",
        };
        args.push("--cassette".into());
        args.push(format!("openai/{dialect}-{cassette}"));
    }
    args
}

fn run_all_scenarios(serve: &Serve, replay: bool) {
    let mut failures = Vec::new();
    for dialect in ["ga", "beta"] {
        for scenario in ["text", "audio", "tool"] {
            let args = scenario_args(dialect, scenario, replay);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, output) = harness(serve, &args);
            let last = output.lines().last().unwrap_or_default().to_owned();
            if ok && last.starts_with(&format!("OK {scenario} {dialect}")) {
                eprintln!("{last}");
            } else {
                failures.push(format!("{dialect}/{scenario}:\n{output}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "SDK scenarios failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn official_sdk_completes_turns_against_the_respond_engine() {
    let serve = Serve::start(&["--engine", "respond"]);
    run_all_scenarios(&serve, false);
}

#[test]
fn official_sdk_completes_turns_against_the_replay_engine() {
    let serve = Serve::start(&["--engine", "replay"]);
    run_all_scenarios(&serve, true);
}

#[test]
fn official_sdk_sees_invalid_api_key_and_close_3000() {
    let serve = Serve::start(&["--api-key", "sk-understudy-good"]);
    for dialect in ["ga", "beta"] {
        let (ok, output) = harness(&serve, &["--dialect", dialect, "--expect-auth-failure"]);
        assert!(ok, "{dialect}: {output}");
        // And the right key is let in.
        let (ok, output) = harness(
            &serve,
            &[
                "--dialect",
                dialect,
                "--scenario",
                "text",
                "--api-key",
                "sk-understudy-good",
            ],
        );
        assert!(ok, "{dialect} with the good key: {output}");
    }
}

#[test]
fn the_harness_strict_validator_rejects_broken_events() {
    let out = Command::new(python())
        .arg(repo().join("tests/sdk/openai_realtime_turn.py"))
        .arg("--self-check")
        .output()
        .expect("run the self-check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
