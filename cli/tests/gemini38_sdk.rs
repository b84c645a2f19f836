//! Gemini 3.8 Live with the official `google-genai` Python SDK (pinned in
//! `scripts/requirements-sdk.txt`), unmodified, against `understudy serve
//! --tls-port`: a non-blocking tool call while the model keeps speaking, a
//! blocking call cancelled by new input, and Extended Thinking's `receive()`
//! that runs until `IDLE` — on the respond engine and on the replay engine
//! with the bundled `gemini/38-*` cassettes. The harness
//! (`tests/sdk/gemini_live_38.py`) checks every raw frame strictly and
//! validates it with the SDK's own models.

mod support;

use support::{run_scenarios, Serve};

const HARNESS: &str = "tests/sdk/gemini_live_38.py";

/// The three flows against `engine`; on the respond engine the blocking flow
/// also sends the cancelled call's late response (which must be ignored) and
/// Extended Thinking must send thought parts (the cassettes, synthesized
/// through the adapter, carry neither).
fn flows(engine: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem").display().to_string();
    let serve = Serve::start(&["--engine", engine, "--tls-port", "0", "--ca-file", &ca]);
    let base = serve.tls_url.clone().expect("a TLS listener");
    let runs: Vec<(String, Vec<String>)> = [
        ("non-blocking", None),
        ("blocking-cancelled", Some("--late-response")),
        ("extended-thinking", Some("--expect-thoughts")),
    ]
    .into_iter()
    .map(|(flow, respond_only)| {
        let mut args: Vec<String> = ["--base-url", &base, "--ca-file", &ca, "--flow", flow]
            .map(String::from)
            .to_vec();
        if engine == "replay" {
            args.extend([
                "--header".to_owned(),
                format!("X-Understudy-Cassette=gemini/38-{flow}"),
            ]);
        } else if let Some(flag) = respond_only {
            args.push(flag.to_owned());
        }
        (flow.to_owned(), args)
    })
    .collect();
    run_scenarios(HARNESS, &runs);
}

#[test]
fn official_sdk_runs_the_38_flows_against_the_respond_engine() {
    flows("respond");
}

#[test]
fn official_sdk_runs_the_38_flows_against_the_replay_engine() {
    flows("replay");
}
