//! The official `openai` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, against `understudy serve`: GA and beta, text, audio and tool
//! turns and `response.create` overrides, on both engines, plus a rejected key.
//! The harness validates every server event strictly against the SDK's own
//! event models. The Realtime beta is retired: by default the beta client is
//! refused as the service refuses it; the beta turns run with `--legacy-beta`.
//!
//! The virtualenv is created by `scripts/python-env.sh` (PyPI only; reused when
//! its requirements have not changed).

mod support;

use support::{repo, run_harness, run_scenarios, Serve};

fn harness(serve: &Serve, extra: &[&str]) -> (bool, String) {
    let base_url = format!("{}/v1", serve.url);
    let mut args = vec!["--base-url", base_url.as_str()];
    args.extend_from_slice(extra);
    run_harness("tests/sdk/openai_realtime_turn.py", &args)
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
    let base_url = format!("{}/v1", serve.url);
    let mut runs = Vec::new();
    // The replay cassettes hold no override turn; the respond engine answers any.
    let scenarios: &[&str] = if replay {
        &["text", "audio", "tool"]
    } else {
        &["text", "audio", "tool", "overrides"]
    };
    for dialect in ["ga", "beta"] {
        for &scenario in scenarios {
            let mut args = vec!["--base-url".to_owned(), base_url.clone()];
            args.extend(scenario_args(dialect, scenario, replay));
            runs.push((format!("{scenario} {dialect}"), args));
        }
    }
    run_scenarios("tests/sdk/openai_realtime_turn.py", &runs);
}

// The turn tests run both dialects, so they serve the retired beta on purpose.

#[test]
fn official_sdk_completes_turns_against_the_respond_engine() {
    let serve = Serve::start(&["--engine", "respond", "--legacy-beta"]);
    run_all_scenarios(&serve, false);
}

#[test]
fn official_sdk_completes_turns_against_the_replay_engine() {
    let serve = Serve::start(&["--engine", "replay", "--legacy-beta"]);
    run_all_scenarios(&serve, true);
}

#[test]
fn the_beta_sdk_client_is_refused_like_the_retired_service_by_default() {
    for engine in ["respond", "replay"] {
        let serve = Serve::start(&["--engine", engine]);
        let (ok, output) = harness(&serve, &["--dialect", "beta", "--expect-beta-disabled"]);
        assert!(ok, "{engine}: {output}");
        assert!(output.contains("closed with 4000"), "{engine}: {output}");
        // GA is served as ever by the same server.
        let args = scenario_args("ga", "text", engine == "replay");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, output) = harness(&serve, &args);
        assert!(ok, "{engine} GA: {output}");
    }
    // And with --legacy-beta the same client completes a turn.
    let serve = Serve::start(&["--legacy-beta"]);
    let (ok, output) = harness(&serve, &["--dialect", "beta", "--scenario", "text"]);
    assert!(ok, "legacy beta: {output}");
}

#[test]
fn official_sdk_sees_invalid_api_key_and_close_3000() {
    let serve = Serve::start(&["--api-key", "sk-understudy-good", "--legacy-beta"]);
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
    let (ok, output) = run_harness("tests/sdk/openai_realtime_turn.py", &["--self-check"]);
    assert!(ok, "{output}");
}

/// The replay engine keeps the recording's causality and order: the SDK sends
/// the cassette's own client frames (three history items back to back, then a
/// tool round trip answered before `response.done`, with `rate_limits.updated`
/// recorded right after it), all at once and one at a time, and must receive
/// every recorded server frame, identical and in recorded order.
#[test]
fn official_sdk_gets_a_replayed_session_in_recorded_order_pipelined_and_one_at_a_time() {
    let serve = Serve::start(&["--engine", "replay"]);
    let base_url = format!("{}/v1", serve.url);
    let name = "openai/ga-history-tool-round-trip";
    let connection = [
        "--base-url",
        &base_url,
        "--dialect",
        "ga",
        "--cassette",
        name,
    ];
    let runs = support::replay_order_runs(&connection, name);
    run_scenarios("tests/sdk/openai_realtime_turn.py", &runs);
}
