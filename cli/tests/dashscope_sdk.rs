//! The official `dashscope` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, against `understudy serve` through its `url=` argument:
//! `OmniRealtimeConversation` completes a VAD turn and a manual turn and ends
//! with a clean `end_session()`, on both engines; a failing set-up reaches it.

mod support;

use support::{repo, run_harness, Serve};

const HARNESS: &str = "tests/sdk/dashscope_omni_turn.py";

fn url(serve: &Serve) -> String {
    format!(
        "{}/api-ws/v1/realtime",
        serve.url.replacen("http://", "ws://", 1)
    )
}

fn turns(serve: &Serve, replay: bool) {
    let audio = repo()
        .join("fixtures/audio/user-weather-16k.wav")
        .display()
        .to_string();
    let mut failures = Vec::new();
    for scenario in ["vad", "manual"] {
        let url = url(serve);
        let cassette = format!("dashscope/{scenario}-turn");
        let mut args = vec![
            "--url",
            url.as_str(),
            "--scenario",
            scenario,
            "--audio",
            audio.as_str(),
        ];
        if replay {
            args.extend(["--cassette", cassette.as_str()]);
        }
        let (ok, output) = run_harness(HARNESS, &args);
        let last = output.lines().last().unwrap_or_default();
        if ok && last.starts_with(&format!("OK {scenario}")) {
            eprintln!("{last}");
        } else {
            failures.push(format!("{scenario}:\n{output}"));
        }
    }
    assert!(
        failures.is_empty(),
        "DashScope SDK scenarios failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn official_sdk_completes_turns_against_the_respond_engine() {
    turns(&Serve::start(&["--engine", "respond"]), false);
}

#[test]
fn official_sdk_completes_turns_against_the_replay_engine() {
    turns(&Serve::start(&["--engine", "replay"]), true);
}

#[test]
fn official_sdk_sees_a_failed_set_up_on_both_engines() {
    let respond = Serve::start(&["--fault", "setup-error"]);
    let (ok, output) = run_harness(HARNESS, &["--url", &url(&respond), "--expect-setup-error"]);
    assert!(ok, "respond engine: {output}");
    let replay = Serve::start(&["--engine", "replay"]);
    let (ok, output) = run_harness(
        HARNESS,
        &[
            "--url",
            &url(&replay),
            "--expect-setup-error",
            "--cassette",
            "dashscope/setup-error",
        ],
    );
    assert!(ok, "replay engine: {output}");
}

#[test]
fn the_harness_checks_reject_broken_event_streams() {
    let (ok, output) = run_harness(HARNESS, &["--self-check"]);
    assert!(ok, "{output}");
}
