//! Responses delegation: the managed backend's side of a function call, as
//! the nested Responses streaming events `response.event` carries (§7.2 of
//! the protocol notes), and the bookkeeping of what it waits for.
//!
//! The backend's first response ends with the function calls; it then waits
//! until every call has its `function_call_output` *and* the client has sent
//! one `response.create` (the backend does not resume on its own). The
//! continuation is a second response with a message item. Only the events
//! implementations act on are sent: `response.created`,
//! `response.output_item.done` and the terminal `response.completed`
//! (whether the service forwards the granular ones is *unconfirmed*).

use serde_json::{json, Map, Value};

/// A backend delegation waiting for its function results.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pending {
    /// The delegation (`item_…`).
    pub(super) delegation_id: String,
    /// The call ids still without output.
    pub(super) calls: Vec<String>,
    /// Outputs received, in order: (call id, output text).
    pub(super) outputs: Vec<(String, String)>,
    /// The backend model (for the nested snapshots).
    pub(super) model: String,
}

/// Why a `response.*` command cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No backend delegation is waiting.
    NothingPending,
    /// The output answers no call of the pending delegation.
    UnknownCall(String),
    /// `response.create` before every call has its output.
    OutputsMissing(Vec<String>),
}

impl Refusal {
    /// The service-style message.
    pub(super) fn message(&self) -> String {
        match self {
            Refusal::NothingPending => "No Responses delegation is waiting for input.".into(),
            Refusal::UnknownCall(id) => format!("No pending function call with call_id '{id}'."),
            Refusal::OutputsMissing(ids) => format!(
                "Responses handoff incomplete: function call output missing for {}.",
                ids.join(", ")
            ),
        }
    }
}

impl Pending {
    /// Records a `function_call_output`.
    pub(super) fn output(&mut self, call_id: &str, output: String) -> Result<(), Refusal> {
        let Some(position) = self.calls.iter().position(|c| c == call_id) else {
            return Err(Refusal::UnknownCall(call_id.to_owned()));
        };
        self.calls.remove(position);
        self.outputs.push((call_id.to_owned(), output));
        Ok(())
    }

    /// Whether `response.create` may resume the backend.
    pub(super) fn ready(&self) -> Result<(), Refusal> {
        if self.calls.is_empty() {
            Ok(())
        } else {
            Err(Refusal::OutputsMissing(self.calls.clone()))
        }
    }
}

/// A slimmed response snapshot (`instructions`, `tools`, `output` cleared).
fn snapshot(id: &str, model: &str, status: &str, usage: Option<Value>) -> Value {
    let mut response = json!({
        "id": id, "object": "response", "status": status, "model": model,
        "output": [], "tools": [], "instructions": null,
    });
    if let (Some(usage), Some(map)) = (usage, response.as_object_mut()) {
        map.insert("usage".into(), usage);
    }
    response
}

fn usage(input: usize, output: usize) -> Value {
    json!({"input_tokens": input, "output_tokens": output, "total_tokens": input + output,
           "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}})
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The first backend response: created, one function call, completed.
pub(super) fn call_events(
    response_id: &str,
    model: &str,
    item_id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Vec<Map<String, Value>> {
    vec![
        object(json!({"type": "response.created", "sequence_number": 0,
            "response": snapshot(response_id, model, "in_progress", None)})),
        object(
            json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0,
            "item": {"type": "function_call", "id": item_id, "call_id": call_id, "name": name,
                     "arguments": arguments, "status": "completed"}}),
        ),
        object(json!({"type": "response.completed", "sequence_number": 2,
            "response": snapshot(response_id, model, "completed", Some(usage(120, 18)))})),
    ]
}

/// The continuation after the outputs: created, a message, completed.
pub(super) fn answer_events(
    response_id: &str,
    model: &str,
    item_id: &str,
    text: &str,
) -> Vec<Map<String, Value>> {
    vec![
        object(json!({"type": "response.created", "sequence_number": 0,
            "response": snapshot(response_id, model, "in_progress", None)})),
        object(
            json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0,
            "item": {"type": "message", "id": item_id, "role": "assistant", "status": "completed",
                     "content": [{"type": "output_text", "text": text, "annotations": []}]}}),
        ),
        object(json!({"type": "response.completed", "sequence_number": 2,
            "response": snapshot(response_id, model, "completed", Some(usage(160, text.len() / 4 + 1)))})),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_waits_for_every_output_and_names_what_is_missing() {
        let mut pending = Pending {
            delegation_id: "item_1".into(),
            calls: vec!["call_1".into(), "call_2".into()],
            outputs: vec![],
            model: "gpt-5".into(),
        };
        assert_eq!(
            pending.ready(),
            Err(Refusal::OutputsMissing(vec![
                "call_1".into(),
                "call_2".into()
            ]))
        );
        assert_eq!(
            pending.output("call_9", "x".into()),
            Err(Refusal::UnknownCall("call_9".into()))
        );
        pending.output("call_1", "a".into()).unwrap();
        assert!(pending.ready().unwrap_err().message().contains("call_2"));
        pending.output("call_2", "b".into()).unwrap();
        assert_eq!(pending.ready(), Ok(()));
        let events = call_events("resp_1", "gpt-5", "fc_1", "call_1", "get_weather", "{}");
        let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.output_item.done",
                "response.completed"
            ]
        );
        assert_eq!(events[2]["response"]["usage"]["total_tokens"], 138);
    }
}
