//! The official `openai` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, streaming chat completions from `understudy serve`: text, a tool
//! call and its round trip (also through the SDK's `.stream()` helper), spoken
//! answers (`modalities=["text","audio"]`, pcm16), and the same SDK pointed at
//! DashScope's compatible-mode path with Qwen-Omni models, plus a rejected key.
//! The harness (`tests/sdk/openai_chat_stream.py`) validates every streamed
//! chunk strictly against the SDK's own `ChatCompletionChunk` model.

mod support;

use support::{run_harness, run_scenarios, Serve};

const HARNESS: &str = "tests/sdk/openai_chat_stream.py";

fn runs(serve: &Serve, scenarios: &[(&str, &str, Option<&str>)]) -> Vec<(String, Vec<String>)> {
    scenarios
        .iter()
        .map(|(scenario, base, model)| {
            let mut args = vec![
                "--base-url".to_owned(),
                format!("{}{base}", serve.url),
                "--scenario".to_owned(),
                (*scenario).to_owned(),
            ];
            if let Some(model) = model {
                args.push("--model".into());
                args.push((*model).to_owned());
            }
            (scenario.to_string(), args)
        })
        .collect()
}

#[test]
fn official_sdk_streams_text_tools_and_audio_in_both_dialects() {
    let serve = Serve::start(&["--speed", "10"]);
    run_scenarios(
        HARNESS,
        &runs(
            &serve,
            &[
                ("text", "/v1", None),
                ("tools", "/v1", None),
                ("audio", "/v1", Some("gpt-audio-mini")),
                ("audio", "/v1", Some("gpt-4o-audio-preview")),
                (
                    "dashscope-audio",
                    "/compatible-mode/v1",
                    Some("qwen3-omni-flash"),
                ),
                (
                    "dashscope-audio",
                    "/compatible-mode/v1",
                    Some("qwen-omni-turbo"),
                ),
                ("text", "/compatible-mode/v1", Some("qwen-plus")),
            ],
        ),
    );
}

#[test]
fn chat_completions_are_answered_when_the_realtime_engine_is_replay() {
    let serve = Serve::start(&["--engine", "replay", "--speed", "10"]);
    run_scenarios(
        HARNESS,
        &runs(&serve, &[("text", "/v1", None), ("audio", "/v1", None)]),
    );
}

#[test]
fn official_sdk_raises_authentication_error_for_a_bad_key() {
    let serve = Serve::start(&["--api-key", "sk-understudy-good"]);
    for base in ["/v1", "/compatible-mode/v1"] {
        let url = format!("{}{base}", serve.url);
        let (ok, output) = run_harness(HARNESS, &["--base-url", &url, "--expect-auth-failure"]);
        assert!(ok, "{base}: {output}");
    }
    let url = format!("{}/v1", serve.url);
    let (ok, output) = run_harness(
        HARNESS,
        &["--base-url", &url, "--api-key", "sk-understudy-good"],
    );
    assert!(ok, "the good key is let in: {output}");
}

#[test]
fn the_chat_harness_strict_validator_rejects_broken_chunks() {
    let (ok, output) = run_harness(HARNESS, &["--self-check"]);
    assert!(ok, "{output}");
}
