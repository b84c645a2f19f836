//! The Gemini 3.8 cases grade what they claim, through their named checks,
//! on both engines: the bundled client passes; a client that blocks on a
//! non-blocking call (declares the function `BLOCKING`, or withholds its
//! other question until it has sent the result) FAILs
//! `gemini.38.tool.non-blocking` on "kept talking while the call was
//! pending"; and a client that ignores `interactionStatus` (takes the first
//! `turnComplete` for done and ends before `IDLE`) FAILs
//! `gemini.38.extended-thinking.interaction-status` on its status check.
//!
//! Each wrong client is graded twice: against the bundled (replay) cassette
//! the right client recorded, and against a recording of the wrong client's
//! own run on the respond engine, replayed through the same case.

use understudy_adapters::{ClientInput, SessionConfig, ToolBehavior, ToolResultScheduling};
use understudy_conformance::scenario::gemini38::{OTHER_REQUEST, WEATHER_QUESTION, WEATHER_RESULT};
use understudy_conformance::scenario::Step;
mod support;

use support::{case as find, failed_details as failed, fast};
use understudy_conformance::{run_case, run_case_on, Case, CaseResult, Grade};

const NON_BLOCKING: &str = "gemini.38.tool.non-blocking";
const KEPT_TALKING: &str = "kept talking while the call was pending";
const EXTENDED: &str = "gemini.38.extended-thinking.interaction-status";
const STATUS: &str = "IN_PROGRESS, then IDLE once, last";

fn say(text: &str) -> Step {
    Step::Send(ClientInput::Text { text: text.into() })
}

/// The case with its client's steps after the set-up replaced by `steps`.
fn with_steps(mut case: Case, steps: Vec<Step>) -> Case {
    let set_up = case
        .scenario
        .steps
        .iter()
        .position(|s| matches!(s, Step::WaitFor("session_created")))
        .expect("the scenario waits for the session");
    case.scenario.steps.truncate(set_up + 1);
    case.scenario.steps.extend(steps);
    case
}

/// The case with every declared tool given `behavior`.
fn declaring(mut case: Case, behavior: ToolBehavior) -> Case {
    for step in &mut case.scenario.steps {
        if let Step::Send(ClientInput::Session(SessionConfig { tools, .. })) = step {
            for tool in tools {
                tool.behavior = Some(behavior);
            }
        }
    }
    case
}

/// Grades `case` on both engines: against its bundled cassette (replay),
/// and against a recording of its own client's run on the respond engine.
async fn on_both_engines(case: &Case) -> [(&'static str, CaseResult); 2] {
    let replayed = run_case(case, &fast()).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let written = understudy_conformance::synth::synthesize(&case.scenario, dir.path())
        .await
        .expect("the client runs against the respond engine");
    let cassette = understudy_fixtures::Cassette::read(&written[0]).expect("its recording");
    let responded = run_case_on(
        case,
        &fast(),
        Some(vec![(case.scenario.cassette.clone(), cassette)]),
    )
    .await;
    [("replay", replayed), ("respond", responded)]
}

fn assert_fails_on(results: &[(&str, CaseResult)], check: &str) {
    for (engine, result) in results {
        assert_eq!(result.grade, Grade::Failed, "{engine}: {:?}", result.reason);
        let failed = failed(result);
        assert!(
            failed.iter().any(|f| f.starts_with(check)),
            "{engine}: the named check `{check}` should fail; failed: {failed:?}, reason: {:?}",
            result.reason
        );
    }
}

#[tokio::test]
async fn the_right_clients_pass_on_both_engines() {
    for id in [NON_BLOCKING, EXTENDED] {
        for (engine, result) in on_both_engines(&find(id)).await {
            assert_eq!(
                result.grade,
                Grade::Ok,
                "{id} on {engine}: {:?} {:?}",
                failed(&result),
                result.reason
            );
        }
    }
}

/// Declares the function `BLOCKING` and, like any blocking client, answers
/// the call before it says anything else.
#[tokio::test]
async fn a_client_that_declares_the_call_blocking_fails() {
    let case = with_steps(
        declaring(find(NON_BLOCKING), ToolBehavior::Blocking),
        vec![
            say(WEATHER_QUESTION),
            Step::WaitFor("tool_call"),
            Step::AnswerLastToolCall {
                output: WEATHER_RESULT,
            },
            Step::WaitFor("response_done"),
            say(OTHER_REQUEST),
            Step::WaitFor("response_done"),
        ],
    );
    assert_fails_on(&on_both_engines(&case).await, KEPT_TALKING);
}

/// Declares the call non-blocking but holds its other question back until it
/// has sent the result: the result is answered before the other question.
#[tokio::test]
async fn a_client_that_withholds_its_other_question_until_the_result_fails() {
    let case = with_steps(
        find(NON_BLOCKING),
        vec![
            say(WEATHER_QUESTION),
            Step::WaitFor("tool_call_non_blocking"),
            Step::WaitFor("response_done"),
            Step::AnswerLastToolCallScheduled {
                output: WEATHER_RESULT,
                scheduling: ToolResultScheduling::WhenIdle,
            },
            Step::WaitFor("response_done"),
            say(OTHER_REQUEST),
            Step::WaitFor("response_done"),
        ],
    );
    let [(_, replayed), responded] = on_both_engines(&case).await;
    // The bundled recording answers the result only after the other
    // question, as the right client asked them: replayed to this client it
    // never answers, and the run fails before the checks can grade it.
    assert_eq!(replayed.grade, Grade::Failed);
    let reason = replayed.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("response_done") && reason.contains("did not arrive"),
        "{reason}"
    );
    // Its own run on the respond engine completes, and the named check
    // fails it: the result was answered before the other question.
    assert_fails_on(&[responded], KEPT_TALKING);
}

/// Answers the call, then takes the first `turnComplete` (a segment ending
/// `IN_PROGRESS`) for the end of the work and leaves before `IDLE`.
#[tokio::test]
async fn a_client_that_ignores_interaction_status_fails() {
    let case = with_steps(
        find(EXTENDED),
        vec![
            say(WEATHER_QUESTION),
            Step::WaitFor("tool_call_non_blocking"),
            Step::WaitFor("response_done"),
        ],
    );
    assert_fails_on(&on_both_engines(&case).await, STATUS);
}
