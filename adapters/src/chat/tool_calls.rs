//! Assembles streamed tool-call fragments into whole calls (§5.2).
//!
//! Fragments are keyed by `(choice, index)`, never by id. The id and name come
//! from the first non-empty value and are never overwritten (DashScope repeats
//! them as `""` or `null` on later fragments); arguments are concatenated;
//! fragments with nothing in them are skipped.

use super::chunk::ToolCallDelta;
use super::event::ChatEvent;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
    finished: bool,
}

/// Tool calls being streamed, per choice and index.
#[derive(Debug, Clone, Default)]
pub struct ToolCallAssembler {
    calls: BTreeMap<(u32, u32), PartialCall>,
}

impl ToolCallAssembler {
    /// Takes one fragment; returns the delta event it makes, or `None` when it
    /// carried nothing (or came after its call was finished).
    pub fn push(&mut self, choice: u32, fragment: &ToolCallDelta) -> Option<ChatEvent> {
        let id = fragment.id.as_deref().filter(|s| !s.is_empty());
        let function = fragment.function.as_ref();
        let name = function
            .and_then(|f| f.name.as_deref())
            .filter(|s| !s.is_empty());
        let arguments = function
            .and_then(|f| f.arguments.as_deref())
            .unwrap_or_default();
        let known = self.calls.contains_key(&(choice, fragment.index));
        if id.is_none() && name.is_none() && arguments.is_empty() && known {
            return None;
        }
        let call = self.calls.entry((choice, fragment.index)).or_default();
        if call.finished {
            tracing::warn!(
                choice,
                index = fragment.index,
                "tool-call fragment after the call finished; ignored"
            );
            return None;
        }
        if call.id.is_empty() {
            if let Some(id) = id {
                call.id = id.to_owned();
            }
        }
        if call.name.is_empty() {
            if let Some(name) = name {
                call.name = name.to_owned();
            }
        }
        call.arguments.push_str(arguments);
        Some(ChatEvent::ToolCallDelta {
            choice,
            index: fragment.index,
            call_id: (!call.id.is_empty()).then(|| call.id.clone()),
            name: (!call.name.is_empty()).then(|| call.name.clone()),
            arguments_delta: arguments.to_owned(),
        })
    }

    /// Completes every open call of `choice`, in index order.
    pub fn finish_choice(&mut self, choice: u32) -> Vec<ChatEvent> {
        self.finish_where(|c| c == choice)
    }

    /// Completes every open call of every choice.
    pub fn finish_all(&mut self) -> Vec<ChatEvent> {
        self.finish_where(|_| true)
    }

    fn finish_where(&mut self, wanted: impl Fn(u32) -> bool) -> Vec<ChatEvent> {
        self.calls
            .iter_mut()
            .filter(|((choice, _), call)| wanted(*choice) && !call.finished)
            .map(|(&(choice, index), call)| {
                call.finished = true;
                ChatEvent::ToolCall {
                    choice,
                    index,
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::chunk::FunctionDelta;

    fn fragment(
        index: u32,
        id: Option<&str>,
        name: Option<&str>,
        args: Option<&str>,
    ) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            kind: Some("function".into()),
            function: Some(FunctionDelta {
                name: name.map(str::to_owned),
                arguments: args.map(str::to_owned),
            }),
        }
    }

    #[test]
    fn dashscope_style_empty_repeats_never_overwrite_and_empty_fragments_are_skipped() {
        let mut calls = ToolCallAssembler::default();
        assert!(calls
            .push(
                0,
                &fragment(0, Some("call_1"), Some("get_weather"), Some(""))
            )
            .is_some());
        calls.push(0, &fragment(0, Some(""), Some(""), Some("{\"city\":")));
        assert_eq!(calls.push(0, &fragment(0, Some(""), None, None)), None);
        calls.push(0, &fragment(0, None, None, Some("\"Paris\"}")));
        calls.push(
            0,
            &fragment(1, Some("call_2"), Some("local_time"), Some("{}")),
        );
        let done = calls.finish_choice(0);
        assert_eq!(
            done,
            vec![
                ChatEvent::ToolCall {
                    choice: 0,
                    index: 0,
                    call_id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                },
                ChatEvent::ToolCall {
                    choice: 0,
                    index: 1,
                    call_id: "call_2".into(),
                    name: "local_time".into(),
                    arguments: "{}".into(),
                }
            ]
        );
        assert!(calls.finish_all().is_empty(), "each call completes once");
        assert_eq!(calls.push(0, &fragment(0, None, None, Some("x"))), None);
    }
}
