//! AgentScope (pinned in `scripts/requirements-agentscope.txt`, unmodified)
//! against `understudy serve`: its own `RealtimeAgent` over its
//! `DashScopeAudioRealtimeModel` (Qwen-Audio-Realtime), with a toolkit and a
//! transport the harness drives — the flow an AgentScope voice app runs.
//! Four scenarios on the respond engine: a spoken question answered through
//! the agent's tool loop, a typed turn, a session re-opened with its history
//! replayed as conversation items, and `smart_turn` with a voiceprint where a
//! distant bystander is never taken for the user.
//!
//! AgentScope 2.0.11 ships no model card for Qwen-Audio; the harness passes
//! one with `model_card=`, as AgentScope's own error message says to.
//! The virtualenv is created by `scripts/python-env.sh --profile agentscope`
//! (PyPI only; reused when its requirements have not changed).

mod support;

use support::{agentscope_python, run_harness_with, Serve};

#[test]
fn agentscope_realtime_agent_runs_its_qwen_audio_flows_against_the_mock() {
    // `full` keeps the client frames whole: the history scenario reads the
    // seeded items back from the journal.
    let serve = Serve::start(&["--engine", "respond", "--journal", "full"]);
    let mut failures = Vec::new();
    for scenario in ["tool", "typed", "history", "smart-turn"] {
        let (ok, output) = run_harness_with(
            agentscope_python(),
            "tests/sdk/agentscope_qwen_audio.py",
            &["--base-url", &serve.url, "--scenario", scenario],
        );
        let last = output.lines().last().unwrap_or_default();
        if ok && last.starts_with(&format!("OK {scenario}")) {
            eprintln!("{last}");
        } else {
            failures.push(format!("{scenario}:\n{output}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
