//! livekit-agents (pinned in `scripts/requirements-livekit.txt`, unmodified)
//! against `understudy serve`: its OpenAI Realtime plugin, with `base_url`
//! pointing at the mock and no LiveKit room, through a `generate_reply()` turn.
//! The plugin matches `response.created` to its request by the
//! `response.metadata.client_event_id` it sent; the turn completes only when
//! the mock echoes it (else `generate_reply()` times out after 10 s).
//!
//! The virtualenv is created by `scripts/python-env.sh --profile livekit`
//! (PyPI only; reused when its requirements have not changed).

mod support;

use support::{livekit_python, run_harness_with, Serve};

#[test]
fn livekit_agents_generate_reply_completes_against_the_mock() {
    let serve = Serve::start(&["--engine", "respond"]);
    let base_url = format!("{}/v1", serve.url);
    for modality in ["audio", "text"] {
        let (ok, output) = run_harness_with(
            livekit_python(),
            "tests/sdk/livekit_realtime_turn.py",
            &["--base-url", &base_url, "--modality", modality],
        );
        let last = output.lines().last().unwrap_or_default();
        assert!(
            ok && last.starts_with(&format!("OK generate-reply {modality}")),
            "{modality}:\n{output}"
        );
        eprintln!("{last}");
    }
}
