//! The Qwen-Audio smart-turn case grades what it claims: the bundled run
//! passes "ambient speech ignored", and a client that answers ambient speech
//! (it asks for a response as soon as the bystander's words arrive) is run
//! against the respond engine, recorded, replayed through the same case and
//! graded FAILED on that check.

use understudy_adapters::{ClientInput, ResponseOptions};
use understudy_conformance::scenario::Step;
mod support;

use support::{case, failed_details};
use understudy_conformance::{run_case, run_case_on, Grade, RunOptions};

const CASE: &str = "dashscope.qwen-audio.smart-turn.ambient";
const CHECK: &str = "ambient speech ignored";

#[tokio::test]
async fn the_bundled_smart_turn_run_ignores_ambient_speech() {
    let result = run_case(&case(CASE), &RunOptions::default()).await;
    assert_eq!(result.grade, Grade::Ok, "{:?}", failed_details(&result));
    assert!(result.checks.iter().any(|c| c.name == CHECK && c.passed));
}

#[tokio::test]
async fn a_client_that_answers_ambient_speech_fails() {
    let mut case = case(CASE);
    // After the two ambient transcripts (delta, completed), this client asks
    // for an answer — to speech nobody addressed to it.
    let at = case
        .scenario
        .steps
        .iter()
        .rposition(|s| matches!(s, Step::WaitFor("ambient_transcript")))
        .expect("the scenario waits for ambient speech");
    case.scenario.steps.splice(
        at + 1..at + 1,
        [
            Step::Send(ClientInput::CreateResponse(ResponseOptions::default())),
            Step::WaitFor("response_done"),
        ],
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let written = understudy_conformance::synth::synthesize(&case.scenario, dir.path())
        .await
        .expect("the answering client runs against the respond engine");
    let cassette = understudy_fixtures::Cassette::read(&written[0]).expect("its recording");
    let result = run_case_on(
        &case,
        &RunOptions::default(),
        Some(vec![(case.scenario.cassette.clone(), cassette)]),
    )
    .await;
    assert_eq!(result.grade, Grade::Failed);
    let failed = failed_details(&result);
    assert!(
        failed
            .iter()
            .any(|f| f.starts_with(CHECK) && f.contains("response_created")),
        "{failed:?}"
    );
}
