//! The official SDKs (pinned in `scripts/requirements-sdk.txt`), unmodified,
//! against `understudy serve` for HTTP text-to-speech: the `openai` SDK's
//! `client.audio.speech` (plain, wav, streamed, SSE, errors) and google-genai's
//! `client.models.generate_content` / `generate_content_stream` with
//! `response_modalities=["AUDIO"]` over TLS. The harness
//! (`tests/sdk/http_tts.py`) checks the audio itself: PCM of plausible length
//! and audible, WAV headers that parse, SSE events with exactly the documented
//! keys, and errors raised as the SDK's own exception classes with the
//! provider's code and message.

mod support;

use support::{run_harness, run_scenarios, Serve};

const HARNESS: &str = "tests/sdk/http_tts.py";

fn runs(
    provider: &str,
    base: &str,
    extra: &[&str],
    scenarios: &[&str],
) -> Vec<(String, Vec<String>)> {
    scenarios
        .iter()
        .map(|scenario| {
            let mut args: Vec<String> = [
                "--provider",
                provider,
                "--base-url",
                base,
                "--scenario",
                scenario,
            ]
            .map(String::from)
            .to_vec();
            args.extend(extra.iter().map(|a| a.to_string()));
            (format!("{provider} {scenario}"), args)
        })
        .collect()
}

#[test]
fn official_openai_sdk_speaks_plain_wav_streamed_and_sse_and_sees_errors() {
    let serve = Serve::start(&["--api-key", "sk-understudy-good"]);
    let base = format!("{}/v1", serve.url);
    run_scenarios(
        HARNESS,
        &runs(
            "openai",
            &base,
            &["--api-key", "sk-understudy-good"],
            &["plain", "wav", "streamed", "sse", "errors"],
        ),
    );
}

#[test]
fn official_google_genai_sdk_gets_audio_from_generate_content_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem").display().to_string();
    let serve = Serve::start(&[
        "--api-key",
        "understudy-test-key",
        "--tls-port",
        "0",
        "--ca-file",
        &ca,
    ]);
    let base = serve.tls_url.clone().expect("a TLS listener");
    run_scenarios(
        HARNESS,
        &runs(
            "gemini",
            &base,
            &["--ca-file", &ca, "--api-key", "understudy-test-key"],
            &["generate", "stream", "errors"],
        ),
    );
}

#[test]
fn both_official_sdks_play_the_bundled_cassettes_on_the_replay_engine() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem").display().to_string();
    let serve = Serve::start(&["--engine", "replay", "--tls-port", "0", "--ca-file", &ca]);
    let openai_base = format!("{}/v1", serve.url);
    let gemini_base = serve.tls_url.clone().expect("a TLS listener");
    let mut all = runs(
        "openai",
        &openai_base,
        &["--text", "Hello there."],
        &["replay"],
    );
    all.extend(runs(
        "gemini",
        &gemini_base,
        &["--ca-file", &ca, "--text", "Have a nice day."],
        &["replay"],
    ));
    run_scenarios(HARNESS, &all);
}

#[test]
fn the_harness_fails_when_the_server_does_not_behave() {
    // An open server accepts any key, so the harness's wrong-key check must fail.
    let serve = Serve::start(&[]);
    let base = format!("{}/v1", serve.url);
    let (ok, output) = run_harness(
        HARNESS,
        &[
            "--provider",
            "openai",
            "--base-url",
            &base,
            "--scenario",
            "errors",
        ],
    );
    assert!(
        !ok,
        "the harness passed against a server that accepts any key:\n{output}"
    );
    assert!(output.contains("a wrong key was accepted"), "{output}");
}
