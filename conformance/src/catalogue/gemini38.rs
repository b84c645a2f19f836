//! The Gemini 3.8 Live cases (`gemini.38.*`) and the checks only they make:
//! a non-blocking call leaves the conversation going (other questions are
//! answered while it is pending), its result is spoken as its `scheduling`
//! says (`INTERRUPT` cuts the model, `SILENT` says nothing), a blocking call
//! is cancelled by new input, and Extended Thinking's work ends at
//! `interactionStatus: IDLE`, not at a `turnComplete`.

use super::{case, ends_completed, scenario_by_id, Case, UnknownScenario};
use crate::scenario::gemini38::{gemini38_scenarios, WEATHER_RESULT};
use understudy_adapters::event::InteractionState;
use understudy_adapters::{ModelEvent, ResponseStatus};

/// Where the first non-blocking call was announced.
fn non_blocking_call(events: &[ModelEvent]) -> Result<usize, String> {
    events
        .iter()
        .position(|e| matches!(e, ModelEvent::ToolCallNonBlocking { .. }))
        .ok_or_else(|| {
            "no tool_call_non_blocking: the call was not reported as non-blocking".into()
        })
}

/// How many responses started at or after `from`.
fn responses_from(events: &[ModelEvent], from: usize) -> usize {
    events[from..]
        .iter()
        .filter(|e| matches!(e, ModelEvent::ResponseCreated { .. }))
        .count()
}

/// No call was withdrawn.
fn nothing_cancelled(events: &[ModelEvent]) -> Result<(), String> {
    match events
        .iter()
        .find(|e| matches!(e, ModelEvent::ToolCallCancelled { .. }))
    {
        Some(e) => Err(format!("a call was cancelled: {e:?}")),
        None => Ok(()),
    }
}

/// The words of the tool's result (`WEATHER_RESULT`'s values: `18`,
/// `clear`) that an answer voicing the result says.
fn result_words() -> Vec<String> {
    fn leaves(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
            serde_json::Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
            serde_json::Value::String(s) => out.push(s.clone()),
            other => out.push(other.to_string()),
        }
    }
    let mut words = Vec::new();
    if let Ok(value) = serde_json::from_str(WEATHER_RESULT) {
        leaves(&value, &mut words);
    }
    words
}

/// The responses that completed, in order, each with what it said.
fn spoken_responses(events: &[ModelEvent]) -> Vec<(String, String)> {
    let mut said: Vec<(String, String)> = Vec::new();
    for event in events {
        match event {
            ModelEvent::TranscriptDelta {
                response_id, delta, ..
            } => match said.iter_mut().find(|(id, _)| id == response_id) {
                Some((_, text)) => text.push_str(delta),
                None => said.push((response_id.clone(), delta.clone())),
            },
            ModelEvent::ResponseDone { response_id, .. }
                if !said.iter().any(|(id, _)| id == response_id) =>
            {
                said.push((response_id.clone(), String::new()));
            }
            _ => {}
        }
    }
    said
}

/// The conversation went on while the call was pending: after the turn that
/// made the call, another answer was spoken *before* the answer that voices
/// the call's result, with no call cancelled on the way. A client that holds
/// its other question back until it has sent the result (or that declares
/// the call blocking) gets the result's answer first, and fails here.
fn kept_talking_while_pending(events: &[ModelEvent]) -> Result<(), String> {
    let call = non_blocking_call(events)?;
    nothing_cancelled(events)?;
    let ModelEvent::ToolCallNonBlocking {
        response_id: caller,
        ..
    } = &events[call]
    else {
        return Err("the non-blocking call event is not one".into());
    };
    let words = result_words();
    let responses = spoken_responses(&events[call..]);
    let answered = responses
        .iter()
        .position(|(id, text)| id != caller && words.iter().all(|w| text.contains(w.as_str())))
        .ok_or_else(|| {
            format!(
                "no answer after the call voiced its result ({words:?}); answers: {responses:?}"
            )
        })?;
    let between = responses[..answered]
        .iter()
        .filter(|(id, _)| id != caller)
        .count();
    if between == 0 {
        return Err(format!(
            "the result was answered before anything else was: nothing was said between the call's turn and the result's answer ({:?}); the client did not keep the conversation going while the call was pending",
            responses[answered].1
        ));
    }
    Ok(())
}

/// An `INTERRUPT` result cut the model after the call, and the answer that
/// followed the interruption completed.
fn interrupted_for_the_result(events: &[ModelEvent]) -> Result<(), String> {
    let call = non_blocking_call(events)?;
    let cut = events[call..]
        .iter()
        .position(|e| matches!(e, ModelEvent::Interrupted { .. }))
        .map(|i| call + i)
        .ok_or("no interruption after the non-blocking call: the INTERRUPT result did not cut the model")?;
    if responses_from(events, cut) == 0 {
        return Err("no answer started after the interruption".into());
    }
    ends_completed(&events[cut..])
}

/// A `SILENT` result was taken without a word: the only responses are the
/// one that made the call and the answer to the next question.
fn silent_result(events: &[ModelEvent]) -> Result<(), String> {
    non_blocking_call(events)?;
    nothing_cancelled(events)?;
    let responses = responses_from(events, 0);
    if responses != 2 {
        return Err(format!(
            "{responses} responses; expected two (the call's turn and the next question's answer), none for the SILENT result"
        ));
    }
    Ok(())
}

/// A blocking call (no `tool_call_non_blocking` after it) was withdrawn when
/// new input arrived, and that input was answered.
fn blocking_call_cancelled(events: &[ModelEvent]) -> Result<(), String> {
    let (at, call_id) = events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match e {
            ModelEvent::ToolCall { call_id, .. } => Some((i, call_id.clone())),
            _ => None,
        })
        .ok_or("no tool call")?;
    if events
        .iter()
        .any(|e| matches!(e, ModelEvent::ToolCallNonBlocking { call_id: c, .. } if *c == call_id))
    {
        return Err("the call was reported non-blocking; the case declares it BLOCKING".into());
    }
    let cancelled = events[at..]
        .iter()
        .position(|e| matches!(e, ModelEvent::ToolCallCancelled { call_ids } if call_ids.contains(&call_id)))
        .map(|i| at + i)
        .ok_or_else(|| format!("call {call_id} was never cancelled by the new input"))?;
    if responses_from(events, cancelled) == 0 {
        return Err("the new input was not answered after the cancellation".into());
    }
    ends_completed(&events[cancelled..])
}

/// Extended Thinking: a segment ended `IN_PROGRESS` while the call was
/// outstanding, and the work ended `IDLE` — once, last.
fn in_progress_then_idle(events: &[ModelEvent]) -> Result<(), String> {
    let statuses: Vec<&InteractionState> = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::InteractionStatus { status, .. } => Some(status),
            _ => None,
        })
        .collect();
    let idle = statuses
        .iter()
        .filter(|s| ***s == InteractionState::Idle)
        .count();
    match (statuses.first(), statuses.last()) {
        (Some(InteractionState::InProgress), Some(InteractionState::Idle)) if idle == 1 => Ok(()),
        _ => Err(format!(
            "expected IN_PROGRESS first and IDLE once, last; got {statuses:?}"
        )),
    }
}

/// The last response ended completed or, for Extended Thinking, at least
/// not failed (a segment's `turnComplete` is completed too).
fn no_failed_response(events: &[ModelEvent]) -> Result<(), String> {
    match events.iter().find(|e| {
        matches!(
            e,
            ModelEvent::ResponseDone {
                status: ResponseStatus::Failed,
                ..
            }
        )
    }) {
        Some(e) => Err(format!("a response failed: {e:?}")),
        None => Ok(()),
    }
}

/// The Gemini 3.8 cases, in report order.
pub(super) fn gemini38_cases() -> Result<Vec<Case>, UnknownScenario> {
    let scenarios = gemini38_scenarios();
    let find = |id: &str| scenario_by_id(&scenarios, id);
    Ok(vec![
        case(
            "gemini.38.tool.non-blocking",
            "3.8 Live: a non-blocking call; the model keeps talking, another question is answered while it is pending, the WHEN_IDLE result after",
            find("gemini/38-non-blocking")?,
            vec![
                ("kept talking while the call was pending", kept_talking_while_pending),
                ("ends completed", ends_completed),
            ],
        ),
        case(
            "gemini.38.tool.scheduling-interrupt",
            "3.8 Live: a non-blocking call's result scheduled INTERRUPT cuts the model and is answered at once",
            find("gemini/38-interrupt")?,
            vec![("interrupted for the result", interrupted_for_the_result)],
        ),
        case(
            "gemini.38.tool.scheduling-silent",
            "3.8 Live: a non-blocking call's result scheduled SILENT is taken without a word; the next question is answered",
            find("gemini/38-silent")?,
            vec![
                ("silent result", silent_result),
                ("ends completed", ends_completed),
            ],
        ),
        case(
            "gemini.38.tool.blocking-cancelled",
            "3.8 Live: a BLOCKING call pauses the turn and is cancelled by new input, which is answered",
            find("gemini/38-blocking-cancelled")?,
            vec![("blocking call cancelled by new input", blocking_call_cancelled)],
        ),
        case(
            "gemini.38.extended-thinking.interaction-status",
            "3.8 Live Extended Thinking: a segment ends IN_PROGRESS while the call runs; the answer after the result ends IDLE",
            find("gemini/38-extended-thinking")?,
            vec![
                ("IN_PROGRESS, then IDLE once, last", in_progress_then_idle),
                ("no failed response", no_failed_response),
            ],
        ),
    ])
}
