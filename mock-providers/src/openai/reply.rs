//! The responder's "model": a simple, deterministic rule that decides what to
//! answer from the conversation so far.
//!
//! - After a tool result, it reads the result back.
//! - `Remember that <subject> is <value>.` is acknowledged (`Noted: <subject>
//!   is <value>.`), and `What did I say <subject> is?` is answered from the
//!   latest such statement in the session's instructions or the user's earlier
//!   turns (`You said <subject> is <value>.`, or `You never told me what
//!   <subject> is.`); see [`super::recall`]. This lets a test check that an
//!   agent carried a conversation into a new session through its instructions.
//! - A user text that names a configured tool (a word of the tool's name, such as
//!   `weather` for `get_weather`) makes it call that tool, with string arguments
//!   taken from the text (a token with digits, else the last capitalised word).
//! - Any other text is echoed back; audio it cannot understand is acknowledged
//!   with its length.

use super::recall::{self, classify};
use serde_json::{Map, Value};
use understudy_adapters::openai::wire::objects::{Item, Tool};

/// What the responder will do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Say this.
    Speak(String),
    /// Call this tool with these JSON arguments.
    Call {
        /// Tool name.
        name: String,
        /// Arguments as JSON text.
        arguments: String,
    },
}

/// Words too generic to identify a tool by.
const GENERIC_WORDS: &[&str] = &[
    "get", "set", "lookup", "check", "find", "fetch", "the", "tool",
];

/// Decides the reply to the conversation, given the configured tools and the
/// session's instructions (system prompt), if any.
///
/// `audio_ms` is the length of the last user audio item, when it has no text.
pub fn decide(
    conversation: &[Item],
    tools: &[Tool],
    instructions: Option<&str>,
    audio_ms: impl Fn(&Item) -> f64,
) -> Reply {
    let Some(position) = conversation
        .iter()
        .rposition(|i| i.role.as_deref() != Some("assistant") && i.kind != "function_call")
    else {
        return Reply::Speak("Hello! How can I help you today?".into());
    };
    let last = &conversation[position];
    if last.kind == "function_call_output" {
        let output = last.output.as_deref().unwrap_or_default();
        return Reply::Speak(format!("Here is what I found: {}.", summarise(output)));
    }
    let images = last
        .content
        .iter()
        .flatten()
        .filter(|p| p.kind == "input_image")
        .count();
    let seen = match images {
        0 => "",
        1 => " I see one image.",
        _ => " I see several images.",
    };
    let text = user_text(last);
    if let Some(asked) = text.as_deref().and_then(classify) {
        let earlier: Vec<String> = conversation[..position]
            .iter()
            .filter(|i| i.role.as_deref() == Some("user"))
            .filter_map(user_text)
            .collect();
        let said = recall::answer(&asked, instructions, earlier.iter().map(String::as_str));
        return Reply::Speak(format!("{said}{seen}"));
    }
    match text {
        Some(text) => match matching_tool(&text, tools) {
            Some(tool) => Reply::Call {
                name: tool.name.clone().unwrap_or_default(),
                arguments: arguments_for(tool, &text),
            },
            None => Reply::Speak(format!("You said: {}{seen}", text.trim())),
        },
        None => Reply::Speak(format!(
            "I heard {:.1} seconds of audio.{seen} This is the understudy speaking.",
            audio_ms(last) / 1000.0
        )),
    }
}

fn user_text(item: &Item) -> Option<String> {
    let parts = item.content.as_ref()?;
    let text: Vec<String> = parts
        .iter()
        .filter_map(|p| match p.kind.as_str() {
            "input_text" | "text" => p.text.clone(),
            "input_audio" => p.transcript.clone().flatten(),
            _ => None,
        })
        .collect();
    (!text.is_empty()).then(|| text.join(" "))
}

fn matching_tool<'a>(text: &str, tools: &'a [Tool]) -> Option<&'a Tool> {
    let lower = text.to_lowercase();
    tools.iter().find(|tool| {
        tool.name
            .as_deref()
            .unwrap_or_default()
            .split(['_', '-'])
            .map(str::to_lowercase)
            .filter(|w| w.len() >= 4 && !GENERIC_WORDS.contains(&w.as_str()))
            .any(|w| lower.contains(&w))
    })
}

/// JSON arguments for `tool`, taken from the user's `text` (also used by the chat mock to honour a forced `tool_choice`).
pub(crate) fn arguments_for(tool: &Tool, text: &str) -> String {
    let params = tool.parameters.as_ref();
    let properties = params
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object);
    let required: Vec<String> = params
        .and_then(|p| p.get("required"))
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_else(|| {
            properties
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        });
    let mut args = Map::new();
    for name in required {
        let kind = properties
            .and_then(|p| p.get(&name))
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string");
        let value = match kind {
            "number" | "integer" => Value::from(first_number(text).unwrap_or(1)),
            "boolean" => Value::Bool(true),
            _ => Value::String(salient_token(text)),
        };
        args.insert(name, value);
    }
    Value::Object(args).to_string()
}

fn first_number(text: &str) -> Option<i64> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

fn salient_token(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '?' || c == '.' || c == '!')
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(w) = words.iter().find(|w| w.chars().any(|c| c.is_ascii_digit())) {
        return (*w).to_owned();
    }
    words
        .iter()
        .skip(1)
        .rev()
        .find(|w| w.chars().next().is_some_and(char::is_uppercase) && **w != "I")
        .map(|w| (*w).to_owned())
        .unwrap_or_else(|| text.trim().to_owned())
}

fn summarise(output: &str) -> String {
    match serde_json::from_str::<Value>(output) {
        Ok(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => output.chars().take(120).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use understudy_adapters::openai::wire::objects::ContentPart;

    fn user(text: &str) -> Item {
        Item {
            kind: "message".into(),
            role: Some("user".into()),
            content: Some(vec![ContentPart {
                kind: "input_text".into(),
                text: Some(text.into()),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn weather_tool() -> Tool {
        Tool {
            kind: Some("function".into()),
            name: Some("get_weather".into()),
            parameters: Some(
                json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn names_a_tool_and_calls_it_with_the_salient_word() {
        let reply = decide(
            &[user("What is the weather in Paris?")],
            &[weather_tool()],
            None,
            |_| 0.0,
        );
        assert_eq!(
            reply,
            Reply::Call {
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            }
        );
    }

    #[test]
    fn echoes_text_without_a_matching_tool() {
        let reply = decide(&[user("Hello there")], &[weather_tool()], None, |_| 0.0);
        assert_eq!(reply, Reply::Speak("You said: Hello there".into()));
    }

    #[test]
    fn reads_back_tool_results() {
        let output = Item {
            kind: "function_call_output".into(),
            call_id: Some("call_1".into()),
            output: Some(r#"{"temperature":"18C","sky":"clear"}"#.into()),
            ..Default::default()
        };
        let reply = decide(&[user("weather?"), output], &[], None, |_| 0.0);
        assert_eq!(
            reply,
            Reply::Speak("Here is what I found: temperature 18C, sky clear.".into())
        );
    }

    #[test]
    fn order_numbers_win_over_capitalised_words() {
        let tool = Tool {
            name: Some("lookup_order".into()),
            parameters: Some(
                json!({"type":"object","properties":{"order_no":{"type":"string"}},"required":["order_no"]}),
            ),
            ..Default::default()
        };
        let reply = decide(
            &[user("Where is my order A17, Bob?")],
            &[tool],
            None,
            |_| 0.0,
        );
        assert_eq!(
            reply,
            Reply::Call {
                name: "lookup_order".into(),
                arguments: r#"{"order_no":"A17"}"#.into()
            }
        );
    }

    fn assistant(text: &str) -> Item {
        Item {
            kind: "message".into(),
            role: Some("assistant".into()),
            content: Some(vec![ContentPart {
                kind: "output_text".into(),
                text: Some(text.into()),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn say(conversation: &[Item], instructions: Option<&str>) -> Reply {
        decide(conversation, &[weather_tool()], instructions, |_| 0.0)
    }

    #[test]
    fn a_statement_is_acknowledged() {
        assert_eq!(
            say(&[user("Remember that my name is Ada.")], None),
            Reply::Speak("Noted: my name is Ada.".into())
        );
        // Even when it names a tool: the statement form wins.
        assert_eq!(
            say(&[user("remember that the weather is sunny.")], None),
            Reply::Speak("Noted: the weather is sunny.".into())
        );
    }

    #[test]
    fn a_question_is_answered_from_earlier_turns() {
        let conversation = [
            user("Remember that my name is Ada."),
            assistant("Noted: my name is Ada."),
            user("Hello there"),
            assistant("You said: Hello there"),
            user("What did I say my name is?"),
        ];
        assert_eq!(
            say(&conversation, Some("Be brief.")),
            Reply::Speak("You said my name is Ada.".into())
        );
    }

    #[test]
    fn a_question_is_answered_from_the_instructions_alone() {
        let instructions = "You are a helpful agent.\nSummary of the earlier session:\n\
                            Remember that the city is Paris.\n(2 turns summarized)";
        assert_eq!(
            say(&[user("what did i say the City is?")], Some(instructions)),
            Reply::Speak("You said the City is Paris.".into())
        );
    }

    #[test]
    fn the_latest_statement_wins_and_turns_win_over_instructions() {
        let instructions = "remember that my name is Ada.";
        let conversation = [
            user("Remember that my name is Grace."),
            user("Remember that my name is Barbara."),
            user("What did I say my name is?"),
        ];
        assert_eq!(
            say(&conversation, Some(instructions)),
            Reply::Speak("You said my name is Barbara.".into())
        );
        assert_eq!(
            say(&[user("What did I say my name is?")], Some(instructions)),
            Reply::Speak("You said my name is Ada.".into())
        );
    }

    #[test]
    fn an_unknown_subject_is_never_told() {
        let conversation = [
            user("Remember that my name is Ada."),
            user("What did I say my city is?"),
        ];
        assert_eq!(
            say(&conversation, Some("Remember that my dog is Rex.")),
            Reply::Speak("You never told me what my city is.".into())
        );
    }
}
