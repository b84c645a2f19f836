//! The official `dashscope` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, against `understudy serve`: its v2 client
//! (`Client().audio.realtime.connect(model="qwen-audio-3.1-realtime-plus",
//! ws_url=…)`, which picks its Qwen-Audio shape by the model prefix) completes
//! a typed turn, a spoken turn under server VAD and a smart-turn session in
//! which a distant bystander is heard as ambient speech and not answered — on
//! the respond engine (with voiceprint registration and item management) and
//! on the replay engine with the bundled `dashscope/audio-*` cassettes.

mod support;

use support::{run_harness, run_scenarios, Serve};

const HARNESS: &str = "tests/sdk/dashscope_audio_turn.py";

fn url(serve: &Serve) -> String {
    format!(
        "{}/api-ws/v1/realtime",
        serve.url.replacen("http://", "ws://", 1)
    )
}

/// Each scenario with its arguments; `cassettes` adds the replay choice.
fn runs(serve: &Serve, replay: bool) -> Vec<(String, Vec<String>)> {
    [
        ("text", "text-turn"),
        ("spoken", "spoken-turn"),
        ("smart-turn", "smart-turn"),
    ]
    .into_iter()
    .map(|(scenario, cassette)| {
        let mut args = vec![
            "--url".to_owned(),
            url(serve),
            "--scenario".to_owned(),
            scenario.to_owned(),
        ];
        if replay {
            args.extend([
                "--cassette".to_owned(),
                format!("dashscope/audio-{cassette}"),
            ]);
        } else if scenario == "smart-turn" {
            args.push("--voiceprint".to_owned());
        }
        (scenario.to_owned(), args)
    })
    .collect()
}

#[test]
fn official_sdk_v2_talks_to_qwen_audio_on_the_respond_engine() {
    let serve = Serve::start(&["--engine", "respond"]);
    run_scenarios(HARNESS, &runs(&serve, false));
}

#[test]
fn official_sdk_v2_talks_to_qwen_audio_on_the_replay_engine() {
    let serve = Serve::start(&["--engine", "replay"]);
    run_scenarios(HARNESS, &runs(&serve, true));
}

#[test]
fn the_qwen_audio_harness_rejects_broken_event_streams() {
    let (ok, output) = run_harness(HARNESS, &["--self-check"]);
    assert!(ok, "{output}");
}
