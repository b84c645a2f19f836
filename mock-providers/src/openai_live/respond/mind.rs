//! What the model says, decided by the same deterministic rule as the
//! Realtime responder ([`crate::openai::reply::decide`]: recall of
//! remembered facts, tool names matched in the words, echoes, audio it cannot
//! understand acknowledged by its length), over a conversation kept as
//! Realtime-style items; plus GPT-Live's delegation rule.
//!
//! GPT-Live's voice model has no tools: under client delegation an utterance
//! containing one of the configured delegate words is handed to the
//! application (`session.delegation.created`); under Responses delegation an
//! utterance that names a configured function tool becomes a backend
//! function call, and one with delegate words but no matching tool is
//! answered by the hosted backend.

use crate::openai::reply::{decide, Reply};
use understudy_adapters::openai::wire::objects::{ContentPart, Item, Tool};
use understudy_adapters::openai_live::wire::session::ResponsesTool;

/// What the model does about what it heard.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Decision {
    /// Say this.
    Speak(String),
    /// Delegate the request (no arguments: the application reads the transcript).
    Delegate,
    /// Responses delegation: the backend calls this function tool.
    Call {
        /// Tool name.
        name: String,
        /// Arguments, JSON text.
        arguments: String,
    },
}

/// The conversation and the rule that answers it.
#[derive(Debug, Default)]
pub(super) struct Mind {
    items: Vec<Item>,
    instructions: Option<String>,
    delegate_words: Vec<String>,
    /// Characters of everything said, for the context gauge.
    chars: usize,
}

impl Mind {
    /// A mind with the session's instructions and delegate words.
    pub(super) fn new(instructions: Option<String>, delegate_words: Vec<String>) -> Self {
        let chars = instructions.as_deref().map_or(0, str::len);
        Mind {
            items: Vec::new(),
            instructions,
            delegate_words,
            chars,
        }
    }

    /// Adds a message to the conversation (startup history, appends).
    pub(super) fn add(&mut self, role: &str, text: &str) {
        self.chars += text.len();
        self.items.push(Item {
            kind: "message".into(),
            role: Some(role.into()),
            content: Some(vec![ContentPart {
                kind: if role == "assistant" {
                    "text"
                } else {
                    "input_text"
                }
                .into(),
                text: Some(text.into()),
                ..Default::default()
            }]),
            ..Default::default()
        });
    }

    /// What to do about an utterance (`text` when it was recognised, else
    /// `audio_ms` of speech it could not understand). `tools` are the
    /// Responses backend's function tools, `None` under client delegation.
    pub(super) fn hear(
        &mut self,
        text: Option<&str>,
        audio_ms: u64,
        tools: Option<&[ResponsesTool]>,
    ) -> Decision {
        match text {
            Some(text) => self.add("user", text),
            None => self.items.push(Item {
                kind: "message".into(),
                role: Some("user".into()),
                content: Some(vec![]),
                ..Default::default()
            }),
        }
        let delegates = text.is_some_and(|t| {
            let lower = t.to_lowercase();
            self.delegate_words
                .iter()
                .any(|w| lower.contains(w.as_str()))
        });
        let functions: Vec<Tool> = tools
            .unwrap_or_default()
            .iter()
            .filter(|t| t.kind == "function")
            .map(|t| Tool {
                kind: Some("function".into()),
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.parameters.clone(),
                ..Default::default()
            })
            .collect();
        let reply = decide(
            &self.items,
            &functions,
            self.instructions.as_deref(),
            |_| audio_ms as f64,
        );
        match reply {
            Reply::Call { name, arguments } => Decision::Call { name, arguments },
            Reply::Speak(_) if delegates && tools.is_none() => Decision::Delegate,
            Reply::Speak(words) => Decision::Speak(words),
        }
    }

    /// A function call's output came back; what the model then says.
    pub(super) fn tool_output(&mut self, call_id: &str, output: &str) -> String {
        self.chars += output.len();
        self.items.push(Item {
            kind: "function_call_output".into(),
            call_id: Some(call_id.into()),
            output: Some(output.into()),
            ..Default::default()
        });
        match decide(&self.items, &[], self.instructions.as_deref(), |_| 0.0) {
            Reply::Speak(words) => words,
            Reply::Call { .. } => "Done.".into(),
        }
    }

    /// The model said `text`.
    pub(super) fn said(&mut self, text: &str) {
        self.add("assistant", text);
    }

    /// Approximate tokens in context (four characters a token).
    pub(super) fn context_tokens(&self) -> usize {
        self.chars / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delegate_words_delegate_under_client_delegation_and_tools_are_called_by_name() {
        let words = vec!["check".to_owned()];
        let mut mind = Mind::new(None, words.clone());
        assert_eq!(
            mind.hear(
                Some("Can you check the status of order A seventeen?"),
                0,
                None
            ),
            Decision::Delegate
        );
        assert!(matches!(
            mind.hear(Some("What is the weather like in Paris today?"), 0, None),
            Decision::Speak(words) if words.contains("weather")
        ));
        let tool = ResponsesTool {
            kind: "function".into(),
            name: Some("get_weather".into()),
            parameters: Some(
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            ),
            ..Default::default()
        };
        let mut mind = Mind::new(None, words);
        assert_eq!(
            mind.hear(
                Some("What is the weather like in Paris today?"),
                0,
                Some(&[tool])
            ),
            Decision::Call {
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            }
        );
        assert!(mind
            .tool_output("call_1", r#"{"forecast":"sunny"}"#)
            .contains("sunny"));
        assert!(
            matches!(mind.hear(None, 1500, None), Decision::Speak(w) if w.contains("1.5 seconds"))
        );
    }
}
