//! The official `openai` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, streaming chat completions from `understudy serve`: text, a tool
//! call and its round trip (also through the SDK's `.stream()` helper), spoken
//! answers (`modalities=["text","audio"]`, pcm16), and the same SDK pointed at
//! DashScope's compatible-mode path with Qwen-Omni models, plus a rejected key;
//! then the same scenarios on the replay engine, each playing a bundled chat
//! cassette (named with the `X-Understudy-Cassette` header through the SDK's
//! `default_headers`) whose text, audio and time to first chunk the harness
//! checks against the recording.
//! The harness (`tests/sdk/openai_chat_stream.py`) validates every streamed
//! chunk strictly against the SDK's own `ChatCompletionChunk` model.

mod support;

use serde_json::Value;
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

/// What a bundled chat cassette recorded: the time of its first chunk (µs),
/// the text (`content`), the spoken transcript and the base64 audio, joined.
fn recorded(name: &str) -> (u64, String, String, String) {
    let path = support::repo().join(format!("fixtures/cassettes/{name}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let response = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|frame| frame["kind"] == "http_response")
        .unwrap_or_else(|| panic!("{name}: no http_response"));
    let chunks = response["chunks"].as_array().expect("chunks");
    let first_us = chunks[0]["t_us"].as_u64().expect("t_us");
    let (mut content, mut transcript, mut audio) = (String::new(), String::new(), String::new());
    for chunk in chunks {
        let data = chunk["text"].as_str().expect("SSE text");
        let data = data
            .trim_end()
            .strip_prefix("data: ")
            .expect("one data line");
        if data == "[DONE]" {
            continue;
        }
        let event: Value = serde_json::from_str(data).expect("JSON chunk");
        for choice in event["choices"].as_array().into_iter().flatten() {
            let delta = &choice["delta"];
            content += delta["content"].as_str().unwrap_or_default();
            transcript += delta["audio"]["transcript"].as_str().unwrap_or_default();
            audio += delta["audio"]["data"].as_str().unwrap_or_default();
        }
    }
    (first_us, content, transcript, audio)
}

#[test]
fn official_sdk_streams_the_bundled_chat_cassettes_on_the_replay_engine() {
    let speed = 2.0;
    let serve = Serve::start(&["--engine", "replay", "--speed", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("text", "/v1", "openai/chat-text-stream"),
        ("audio", "/v1", "openai/chat-audio-stream"),
        (
            "dashscope-audio",
            "/compatible-mode/v1",
            "dashscope/chat-omni-stream",
        ),
    ];
    let mut scenarios = Vec::new();
    for (scenario, base, cassette) in cases {
        let (first_us, content, transcript, audio) = recorded(cassette);
        // The recorded time to first token, divided by the speed, less slack
        // for a loaded machine: the replay may be late, never early.
        let min_first_ms = (first_us as f64 / 1000.0 / speed - 20.0).max(0.0);
        assert!(min_first_ms > 50.0, "{cassette} records a real delay");
        let spoken = if scenario == "audio" {
            transcript
        } else {
            content
        };
        assert!(!spoken.is_empty(), "{cassette} records words");
        let mut args = vec![
            "--base-url".to_owned(),
            format!("{}{base}", serve.url),
            "--scenario".to_owned(),
            scenario.to_owned(),
            "--cassette".to_owned(),
            cassette.to_owned(),
            "--expect-text".to_owned(),
            spoken,
            "--min-first-chunk-ms".to_owned(),
            format!("{min_first_ms:.0}"),
        ];
        if scenario != "text" {
            assert!(!audio.is_empty(), "{cassette} records audio");
            let file = dir
                .path()
                .join(format!("{}.b64", cassette.replace('/', "-")));
            std::fs::write(&file, audio).unwrap();
            args.push("--expect-audio-file".into());
            args.push(file.display().to_string());
        }
        scenarios.push((scenario.to_owned(), args));
    }
    run_scenarios(HARNESS, &scenarios);
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
