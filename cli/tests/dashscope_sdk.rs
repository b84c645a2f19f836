//! The official `dashscope` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, against `understudy serve` through its `url=` argument:
//! `OmniRealtimeConversation` completes a VAD turn and a manual turn and ends
//! with a clean `end_session()`, on both engines; a failing set-up reaches it.
//! `QwenTtsRealtime` speaks streamed text in `server_commit` and `commit` modes.

mod support;

use support::{repo, run_harness, run_scenarios, Serve};

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
    let runs: Vec<(String, Vec<String>)> = ["vad", "manual"]
        .into_iter()
        .map(|scenario| {
            let mut args: Vec<String> = vec![
                "--url".into(),
                url(serve),
                "--scenario".into(),
                scenario.into(),
                "--audio".into(),
                audio.clone(),
            ];
            if replay {
                args.extend([
                    "--cassette".to_owned(),
                    format!("dashscope/{scenario}-turn"),
                ]);
            }
            (scenario.to_owned(), args)
        })
        .collect();
    run_scenarios(HARNESS, &runs);
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

const TTS_HARNESS: &str = "tests/sdk/dashscope_tts_realtime.py";

/// `QwenTtsRealtime` streams text in both modes and hears every response
/// group in order; a bad setting reaches it as DashScope's `error` event.
/// AgentScope's flow (server_commit, then `commit()` and `finish()` at once)
/// gets `input_text_buffer.committed` and no `error`.
#[test]
fn official_sdk_speaks_with_qwen_tts_realtime_against_the_respond_engine() {
    let serve = Serve::start(&["--engine", "respond"]);
    let runs: Vec<(String, Vec<String>)> = ["server_commit", "commit"]
        .into_iter()
        .map(|mode| {
            (
                mode.to_owned(),
                vec!["--url".into(), url(&serve), "--mode".into(), mode.into()],
            )
        })
        .chain(std::iter::once((
            "server_commit+commit".to_owned(),
            vec![
                "--url".into(),
                url(&serve),
                "--mode".into(),
                "server_commit".into(),
                "--explicit-commit".into(),
            ],
        )))
        .chain(std::iter::once((
            "invalid-rate".to_owned(),
            vec!["--url".into(), url(&serve), "--expect-invalid-rate".into()],
        )))
        .collect();
    run_scenarios(TTS_HARNESS, &runs);
}

/// The bundled Qwen-TTS cassette replays to the unmodified SDK.
#[test]
fn official_sdk_speaks_with_qwen_tts_realtime_against_the_replay_engine() {
    let serve = Serve::start(&["--engine", "replay"]);
    run_scenarios(
        TTS_HARNESS,
        &[(
            "server_commit".to_owned(),
            vec![
                "--url".into(),
                url(&serve),
                "--mode".into(),
                "server_commit".into(),
                "--cassette".into(),
                "dashscope/tts-server-commit".into(),
            ],
        )],
    );
}
