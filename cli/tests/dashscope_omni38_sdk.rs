//! The official `dashscope` SDK's v2 client (pinned 2.0.2, unmodified) on
//! qwen3.8-omni against `understudy serve` through `ws_url`: the nested 3.8
//! session accepted and echoed, a spoken question answered by a tool call,
//! the result as a `function_call_output` item then a bare `response.create`,
//! a second `response.create` refused while the answer runs, and
//! `session.finish` closed on without `session.finished` — on the respond
//! engine and, from the bundled synthesized cassette, on the replay engine.

mod support;

use support::{run_harness, run_scenarios, Serve};

const HARNESS: &str = "tests/sdk/dashscope_omni38.py";

fn url(serve: &Serve) -> String {
    format!(
        "{}/api-ws/v1/realtime",
        serve.url.replacen("http://", "ws://", 1)
    )
}

#[test]
fn the_v2_client_completes_a_38_tool_round_trip_against_the_respond_engine() {
    let serve = Serve::start(&["--engine", "respond"]);
    run_scenarios(
        HARNESS,
        &[(
            "v38".to_owned(),
            vec!["--url".into(), url(&serve), "--busy".into()],
        )],
    );
}

#[test]
fn the_v2_client_completes_a_38_tool_round_trip_against_the_replay_engine() {
    let serve = Serve::start(&["--engine", "replay"]);
    run_scenarios(
        HARNESS,
        &[(
            "v38".to_owned(),
            vec![
                "--url".into(),
                url(&serve),
                "--cassette".into(),
                "dashscope/v38-tool-round-trip".into(),
            ],
        )],
    );
}

#[test]
fn the_38_harness_checks_reject_broken_streams() {
    let (ok, output) = run_harness(HARNESS, &["--self-check"]);
    assert!(ok, "{output}");
}
