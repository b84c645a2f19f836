//! The official `google-genai` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified, against `understudy serve --tls-port`: `client.aio.live.connect`
//! completes an audio turn and a text turn over `wss://`, trusting the mock's
//! CA through `SSL_CERT_FILE`. The harness checks every raw frame strictly.

mod support;

use support::{run_harness, run_scenarios, Serve};

const HARNESS: &str = "tests/sdk/gemini_live_turn.py";

/// The audio and text scenarios against `serve` (with a cassette header each
/// when replaying).
fn turns(engine: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem").display().to_string();
    let serve = Serve::start(&["--engine", engine, "--tls-port", "0", "--ca-file", &ca]);
    let base = serve.tls_url.clone().expect("a TLS listener");
    assert!(
        std::fs::read_to_string(&ca)
            .unwrap()
            .contains("BEGIN CERTIFICATE"),
        "the CA was written"
    );
    let runs: Vec<(String, Vec<String>)> =
        [("audio", "gemini/audio-turn"), ("text", "gemini/text-turn")]
            .into_iter()
            .map(|(scenario, cassette)| {
                let mut args: Vec<String> = [
                    "--base-url",
                    &base,
                    "--ca-file",
                    &ca,
                    "--scenario",
                    scenario,
                ]
                .map(String::from)
                .to_vec();
                if engine == "replay" {
                    args.extend([
                        "--header".to_owned(),
                        format!("X-Understudy-Cassette={cassette}"),
                    ]);
                }
                (scenario.to_owned(), args)
            })
            .collect();
    run_scenarios(HARNESS, &runs);
}

#[test]
fn official_sdk_completes_turns_over_tls_against_the_respond_engine() {
    turns("respond");
}

#[test]
fn official_sdk_completes_turns_over_tls_against_the_replay_engine() {
    turns("replay");
}

#[test]
fn the_sdk_refuses_a_server_it_does_not_trust() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let serve = Serve::start(&["--tls-port", "0", "--ca-file", &ca.display().to_string()]);
    // Trusting a different CA (another mock's) must fail the TLS handshake.
    let other = dir.path().join("other.pem");
    let _other_serve =
        Serve::start(&["--tls-port", "0", "--ca-file", &other.display().to_string()]);
    let (ok, output) = run_harness(
        HARNESS,
        &[
            "--base-url",
            serve.tls_url.as_deref().unwrap(),
            "--ca-file",
            &other.display().to_string(),
            "--scenario",
            "text",
            "--timeout",
            "10",
        ],
    );
    assert!(
        !ok,
        "the SDK must not accept an untrusted certificate:\n{output}"
    );
    assert!(
        output.contains("CERTIFICATE_VERIFY_FAILED"),
        "it fails for the certificate, not for another reason:\n{output}"
    );
}

#[test]
fn the_harness_checks_reject_broken_frames() {
    let (ok, output) = run_harness(HARNESS, &["--self-check"]);
    assert!(ok, "{output}");
}

/// The replay engine keeps the recording's order for the official SDK: the
/// cassette's client messages go out through `google-genai` (which sends
/// audio as snake_case, URL-safe `realtime_input`), all at once and one at a
/// time, and every recorded server frame must come back identical and in
/// recorded order.
#[test]
fn official_sdk_gets_a_replayed_session_in_recorded_order_pipelined_and_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem").display().to_string();
    let serve = Serve::start(&["--engine", "replay", "--tls-port", "0", "--ca-file", &ca]);
    let base = serve.tls_url.clone().expect("a TLS listener");
    let name = "gemini/tool-round-trip";
    let cassette = format!("X-Understudy-Cassette={name}");
    let connection = [
        "--base-url",
        &base,
        "--ca-file",
        &ca,
        "--header",
        &cassette,
        "--timeout",
        "40",
    ];
    let runs = support::replay_order_runs(&connection, name);
    run_scenarios(HARNESS, &runs);
}
