//! The qwen3.8-omni cases (`dashscope.v38.*`): the DashScope cases re-run for
//! the 3.8 family where it behaves differently. Its tool result goes back only
//! as a `function_call_output` item followed by `response.create` (one response
//! at a time: a client that asks for the answer while the call's response is
//! still running, or sends the result any other way, does not send what the
//! cassette expects and fails); its `session.finish` is closed on without a
//! `session.finished`. What the family cannot do (text turns, truncation) its
//! capabilities grade UNIMPLEMENTED.

use super::{case, ends_completed, scenario_by_id, tool_round_trip, Case, UnknownScenario};
use crate::scenario::omni38::v38_scenarios;
use understudy_adapters::{Capabilities, ModelEvent};

/// The session ended by the server's close after `session.finish`, with no
/// `session.finished` first (3.8 documents none).
fn closed_without_acknowledgement(events: &[ModelEvent]) -> Result<(), String> {
    match events.last() {
        Some(ModelEvent::SessionEnded {
            reason,
            close_code: Some(1000),
        }) if reason != "session finished" => Ok(()),
        other => Err(format!(
            "expected a close (1000) without session.finished, last event {other:?}"
        )),
    }
}

/// Every qwen3.8-omni case, in report order.
pub(super) fn v38_cases() -> Result<Vec<Case>, UnknownScenario> {
    let scenarios = v38_scenarios();
    let find = |id: &str| scenario_by_id(&scenarios, id);
    let mut text = case(
        "dashscope.v38.text.turn",
        "a user text turn on qwen3.8-omni (message items are refused there)",
        find("dashscope/v38-session-finish")?,
        vec![],
    );
    text.requires = Some(("text input", |c: &Capabilities| c.text_input));
    let mut truncate = case(
        "dashscope.v38.truncate",
        "truncating the assistant's audio on qwen3.8-omni",
        find("dashscope/v38-tool-round-trip")?,
        vec![],
    );
    truncate.requires = Some(("truncation", |c: &Capabilities| c.truncation));
    Ok(vec![
        case(
            "dashscope.v38.tool.result-as-item",
            "qwen3.8: nested session; a spoken question calls a tool; the result as a function_call_output item, then response.create; spoken answer; closed without session.finished",
            find("dashscope/v38-tool-round-trip")?,
            vec![
                ("tool round trip", tool_round_trip),
                ("ends completed", ends_completed),
                ("closed without acknowledgement", closed_without_acknowledgement),
            ],
        ),
        case(
            "dashscope.v38.session.finish",
            "qwen3.8: session.finish is closed on without session.finished",
            find("dashscope/v38-session-finish")?,
            vec![("closed without acknowledgement", closed_without_acknowledgement)],
        ),
        text,
        truncate,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acknowledged_finish_is_not_a_38_close() {
        let acknowledged = [ModelEvent::SessionEnded {
            reason: "session finished".into(),
            close_code: None,
        }];
        assert!(closed_without_acknowledgement(&acknowledged).is_err());
        let closed = [ModelEvent::SessionEnded {
            reason: String::new(),
            close_code: Some(1000),
        }];
        assert!(closed_without_acknowledgement(&closed).is_ok());
    }
}
