//! Finds which value of a JSON request has the wrong type, so that a
//! rejection names its `param` the way OpenAI's validator does
//! (`Invalid type for 'audio': expected a string, but got an integer instead.`,
//! code `invalid_type`, `param: "audio"`).
//!
//! serde reports *that* a value had the wrong type but not *where* (the wire
//! enums are internally tagged, which loses the path). The culprit is found by
//! elimination instead: removing the wrongly typed value makes the type error
//! go away (the request then parses, or lacks exactly that field). This runs
//! only on requests that already failed, so its cost does not matter.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A wrongly typed value in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongType {
    /// Its dotted path, with `[i]` for array elements (`audio`, `item.content[0].text`).
    pub param: String,
    /// What was expected, in OpenAI's words (`a string`, `an object`, …).
    pub expected: String,
    /// What was sent, in OpenAI's words (`an integer`, …).
    pub got: &'static str,
}

impl WrongType {
    /// OpenAI's message for it.
    pub fn message(&self) -> String {
        format!(
            "Invalid type for '{}': expected {}, but got {} instead.",
            self.param, self.expected, self.got
        )
    }
}

/// The JSON type name OpenAI's validator uses in its messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Where `body` fails to parse as `T` because of a wrongly typed value, or
/// `None` when its problem is something else (or nothing).
pub fn locate<T: DeserializeOwned>(body: &Value) -> Option<WrongType> {
    let error = |value: &Value| T::deserialize(value).err().map(|e| e.to_string());
    let original = error(body)?;
    // Wrappers may prefix the message (`input_audio_buffer.append: invalid type: …`).
    let expected = original
        .split_once("invalid type: ")?
        .1
        .split_once(", expected ")?
        .1;
    let mut path: Vec<Step> = Vec::new();
    while let Some(node) = get(body, &path) {
        let children: Vec<Step> = match node {
            // The root's `type` is the event's tag, never the culprit.
            Value::Object(map) => map
                .keys()
                .filter(|k| !(path.is_empty() && k.as_str() == "type"))
                .map(|k| Step::Key(k.clone()))
                .collect(),
            Value::Array(items) => (0..items.len()).map(Step::Index).collect(),
            _ => break,
        };
        let culprit = children.into_iter().find(|step| {
            let mut candidate = body.clone();
            let mut at = path.clone();
            at.push(step.clone());
            remove(&mut candidate, &at);
            match (error(&candidate), step) {
                (None, _) => true,
                (Some(e), Step::Key(key)) => e.ends_with(&format!("missing field `{key}`")),
                (Some(e), Step::Index(_)) => e != original && !e.contains("invalid type: "),
            }
        });
        match culprit {
            Some(step) => path.push(step),
            None => break,
        }
    }
    if path.is_empty() {
        return None;
    }
    let got = get(body, &path).map_or("null", type_name);
    Some(WrongType {
        param: render(&path),
        expected: openai_words(expected),
        got,
    })
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn get<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get(key.as_str()),
        Step::Index(i) => node.get(*i),
    })
}

fn remove(value: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut node = value;
    for step in parent {
        let next = match step {
            Step::Key(key) => node.get_mut(key.as_str()),
            Step::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(next) => node = next,
            None => return,
        }
    }
    match (last, node) {
        (Step::Key(key), Value::Object(map)) => {
            map.remove(key);
        }
        (Step::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
        }
        _ => {}
    }
}

fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// serde's name for an expected type, as OpenAI words it.
fn openai_words(expected: &str) -> String {
    let integer = [
        "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize",
    ];
    let words = match expected {
        "a sequence" => "an array",
        "a map" => "an object",
        "a boolean" => "a boolean",
        "f32" | "f64" => "a decimal",
        e if integer.contains(&e) => "an integer",
        e if e.starts_with("struct ") || e.starts_with("internally tagged enum") => "an object",
        e => e,
    };
    words.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type")]
    #[allow(dead_code)]
    enum Event {
        #[serde(rename = "append")]
        Append { audio: String },
        #[serde(rename = "create")]
        Create { item: Item },
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        role: Option<String>,
        content: Vec<Part>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Part {
        text: String,
    }

    #[test]
    fn names_the_wrongly_typed_value_at_any_depth() {
        let wrong = locate::<Event>(&json!({"type": "append", "audio": 123})).expect("found");
        assert_eq!(wrong.param, "audio");
        assert_eq!(
            wrong.message(),
            "Invalid type for 'audio': expected a string, but got an integer instead."
        );
        let nested = json!({"type": "create", "item": {"role": "user", "content": [{"text": "a"}, {"text": false}]}});
        let wrong = locate::<Event>(&nested).expect("found");
        assert_eq!(wrong.param, "item.content[1].text");
        assert_eq!(wrong.got, "a boolean");
        let shape = json!({"type": "create", "item": {"content": "hi"}});
        let wrong = locate::<Event>(&shape).expect("found");
        assert_eq!(
            (wrong.param.as_str(), wrong.expected.as_str()),
            ("item.content", "an array")
        );
    }

    #[test]
    fn other_problems_are_not_type_errors() {
        assert_eq!(locate::<Event>(&json!({"type": "append"})), None);
        assert_eq!(
            locate::<Event>(&json!({"type": "append", "audio": "x"})),
            None
        );
    }
}
