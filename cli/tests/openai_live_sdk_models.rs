//! The GPT-Live example frames the adapters' wire types are proven on
//! (`adapters/tests/data/openai-live-*-examples.jsonl`) are frames the
//! official `openai` Python SDK (pinned in `scripts/requirements-sdk.txt`)
//! accepts: each validates strictly against the SDK's own `types/live`
//! models, declares no field they lack, and every SDK event type has one.
//!
//! The virtualenv is created by `scripts/python-env.sh` (PyPI only; reused
//! when its requirements have not changed).

mod support;

use support::run_harness;

#[test]
fn the_gpt_live_examples_are_frames_the_official_sdk_accepts() {
    let (ok, output) = run_harness("tests/sdk/openai_live_examples.py", &[]);
    let last = output.lines().last().unwrap_or_default();
    assert!(
        ok && last.starts_with("OK openai-live-examples"),
        "{output}"
    );
}
