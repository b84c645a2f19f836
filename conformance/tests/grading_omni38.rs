//! The qwen3.8-omni cases grade honestly: the bundled client passes, and a
//! client that asks for a response while the call's response is still running,
//! or hands the tool result back any way but as a `function_call_output` item,
//! FAILs; what 3.8 cannot do is UNIMPLEMENTED.

use understudy_adapters::{ClientInput, ResponseOptions};
use understudy_conformance::scenario::Step;
mod support;

use support::{case as find, failed_names as failed, fast};
use understudy_conformance::{run_case, Case, CaseResult, Grade};

const CASE: &str = "dashscope.v38.tool.result-as-item";

fn position(case: &Case, wanted: impl Fn(&Step) -> bool) -> usize {
    case.scenario
        .steps
        .iter()
        .position(wanted)
        .expect("the step")
}

#[tokio::test]
async fn the_bundled_client_passes() {
    let result = run_case(&find(CASE), &fast()).await;
    assert_eq!(result.grade, Grade::Ok, "{:?}", result.reason);
}

#[tokio::test]
async fn a_response_create_while_the_call_runs_fails() {
    let mut case = find(CASE);
    // Ask for the answer as soon as the question is spoken, while the
    // server's own (VAD) response with the call is still running.
    let at = position(&case, |s| matches!(s, Step::WaitFor("response_done")));
    case.scenario.steps.insert(
        at,
        Step::Send(ClientInput::CreateResponse(ResponseOptions::default())),
    );
    let result = run_case(&case, &fast()).await;
    assert_eq!(result.grade, Grade::Failed);
    assert!(
        failed(&result).contains(&"client sent what the cassette expects"),
        "{:?} {:?}",
        failed(&result),
        result.reason
    );
}

/// The recorded server answers the result only once it comes as the item it
/// expects, so the follow-up answer never arrives and the run fails.
fn assert_never_answered(result: CaseResult) {
    assert_eq!(result.grade, Grade::Failed);
    let reason = result.reason.unwrap_or_default();
    assert!(
        reason.contains("response_done") && reason.contains("did not arrive"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_tool_result_sent_as_a_user_message_fails() {
    let mut case = find(CASE);
    let at = position(&case, |s| matches!(s, Step::AnswerLastToolCall { .. }));
    case.scenario.steps[at] = Step::Raw(
        r#"{"type":"conversation.item.create","event_id":"event_msg","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"{\"temperature_c\":18,\"sky\":\"clear\"}"}]}}"#,
    );
    assert_never_answered(run_case(&case, &fast()).await);
}

#[tokio::test]
async fn a_tool_result_put_in_the_instructions_fails() {
    let mut case = find(CASE);
    let at = position(&case, |s| matches!(s, Step::AnswerLastToolCall { .. }));
    case.scenario.steps[at] = Step::Raw(
        r#"{"type":"session.update","event_id":"event_ins","session":{"instructions":"get_weather returned {\"temperature_c\":18,\"sky\":\"clear\"}"}}"#,
    );
    assert_never_answered(run_case(&case, &fast()).await);
}

#[tokio::test]
async fn what_38_cannot_do_is_unimplemented() {
    for id in ["dashscope.v38.text.turn", "dashscope.v38.truncate"] {
        let result = run_case(&find(id), &fast()).await;
        assert_eq!(result.grade, Grade::Unimplemented, "{id}");
    }
}
