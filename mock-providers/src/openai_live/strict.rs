//! The service's strict configuration check: every key of a command and of
//! its `session` object must be one the API defines, or the command is
//! refused with `unknown_parameter` naming the dotted path
//! (`session.audio.voice`) — the rejection third parties use as a schema
//! probe. Values are checked where the protocol notes give the rule (audio
//! formats, delegation types, history shape); anything else that parses is
//! accepted, as the service accepts values it does not interpret.
//!
//! The schema is data ([`Shape`]), walked over the frame as JSON, so that the
//! check does not depend on how the shared wire types model a field.

use crate::protocol::FrameError;
use serde_json::{Map, Value};

/// What a JSON value must look like.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// An object with exactly these optional keys, each of this shape.
    Object(&'static [(&'static str, Shape)]),
    /// A list of this shape.
    List(&'static Shape),
    /// A string or an object of this shape (a voice: name or `{id}`).
    StringOr(&'static Shape),
    /// An object told apart by its `type`: these variants, each an object
    /// shape; an unlisted `type` accepts any keys (hosted tools the mock does
    /// not model are passed through).
    ByType(&'static [(&'static str, Shape)]),
    /// Anything (a JSON Schema, tool choice, settings kept as JSON).
    Any,
}

const TEXT_PART: Shape = Shape::Object(&[("type", Shape::Any), ("text", Shape::Any)]);
const INITIAL_ITEM: Shape = Shape::Object(&[
    ("role", Shape::Any),
    ("content", Shape::List(&TEXT_PART)),
    ("type", Shape::Any),
    ("id", Shape::Any),
    ("status", Shape::Any),
]);
const FUNCTION_TOOL: Shape = Shape::Object(&[
    ("type", Shape::Any),
    ("name", Shape::Any),
    ("description", Shape::Any),
    ("parameters", Shape::Any),
    ("strict", Shape::Any),
]);
const RESPONSES: Shape = Shape::Object(&[
    ("model", Shape::Any),
    ("instructions", Shape::Any),
    (
        "tools",
        Shape::List(&Shape::ByType(&[("function", FUNCTION_TOOL)])),
    ),
    ("tool_choice", Shape::Any),
    ("parallel_tool_calls", Shape::Any),
    ("max_output_tokens", Shape::Any),
    ("reasoning", Shape::Any),
    ("text", Shape::Any),
    ("service_tier", Shape::Any),
]);
const DELEGATION: Shape = Shape::Object(&[
    ("type", Shape::Any),
    ("acknowledgement_delay_ms", Shape::Any),
    ("responses", RESPONSES),
    ("decisions", Shape::Any),
]);
const AUDIO_FORMAT: Shape = Shape::Object(&[("type", Shape::Any), ("rate", Shape::Any)]);
const VOICE: Shape = Shape::StringOr(&Shape::Object(&[("id", Shape::Any)]));
const AUDIO: Shape = Shape::Object(&[
    ("format", AUDIO_FORMAT),
    ("output", Shape::Object(&[("voice", VOICE)])),
]);

/// `session.start.session` on a primary socket (SDK `SessionConfig`).
pub(crate) const SESSION_CONFIG: Shape = Shape::Object(&[
    ("model", Shape::Any),
    ("instructions", Shape::Any),
    ("audio", AUDIO),
    ("delegation", DELEGATION),
    ("input", Shape::List(&INITIAL_ITEM)),
    ("store", Shape::Any),
    ("safety_identifier", Shape::Any),
    ("triggers", Shape::Any),
    ("client", Shape::Any),
]);

/// `session.start.session` on a fork socket (SDK `ForkSessionConfig`).
pub(crate) const FORK_CONFIG: Shape = Shape::Object(&[
    ("audio", Shape::Object(&[("format", AUDIO_FORMAT)])),
    ("delegation", DELEGATION),
    ("store", Shape::Any),
    ("client", Shape::Any),
]);

/// `session.update.session` (SDK `SessionUpdateConfig`).
pub(crate) const UPDATE_CONFIG: Shape =
    Shape::Object(&[("delegation", DELEGATION), ("triggers", Shape::Any)]);

/// The keys each command takes besides `type` and `event_id`, with the shape
/// of each (`session` is checked against the config shapes separately).
pub(crate) fn command_keys(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "session.start" | "session.update" => &["session"],
        "session.input_audio.append" | "session.output_audio.fixture.play" => &["audio"],
        "session.instructions.append" | "session.thinking.append" | "session.commentary.append" => {
            &["content", "delegation_id"]
        }
        "decision.item.create" | "response.item.create" => &["item"],
        "decision.item.delete" => &["item_id"],
        "transport.dtmf.send" => &["event"],
        _ => &[],
    }
}

/// The first key of `value` the shape does not allow, as a dotted path
/// under `path`, refused the service's way.
pub(crate) fn check(value: &Value, shape: Shape, path: &str) -> Result<(), FrameError> {
    match (shape, value) {
        (Shape::Any, _) | (_, Value::Null) => Ok(()),
        (Shape::Object(keys), Value::Object(map)) => check_object(map, keys, path),
        (Shape::List(item), Value::Array(items)) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check(v, *item, &format!("{path}[{i}]"))),
        (Shape::StringOr(_), Value::String(_)) => Ok(()),
        (Shape::StringOr(inner), other) => check(other, *inner, path),
        (Shape::ByType(variants), Value::Object(map)) => {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or_default();
            match variants.iter().find(|(name, _)| *name == kind) {
                Some((_, Shape::Object(keys))) => check_object(map, keys, path),
                _ => Ok(()),
            }
        }
        (Shape::Object(_) | Shape::ByType(_), _) => Err(FrameError::new(
            "invalid_type",
            format!("Invalid type for '{path}': expected an object."),
        )
        .param(path)),
        (Shape::List(_), _) => Err(FrameError::new(
            "invalid_type",
            format!("Invalid type for '{path}': expected an array."),
        )
        .param(path)),
    }
}

fn check_object(
    map: &Map<String, Value>,
    keys: &[(&'static str, Shape)],
    path: &str,
) -> Result<(), FrameError> {
    for (key, value) in map {
        let here = format!("{path}.{key}");
        match keys.iter().find(|(name, _)| name == key) {
            Some((_, shape)) => check(value, *shape, &here)?,
            None => return Err(unknown(&here)),
        }
    }
    Ok(())
}

/// `unknown_parameter` for the dotted `path`, as the service words it.
pub(crate) fn unknown(path: &str) -> FrameError {
    FrameError::new("unknown_parameter", format!("Unknown parameter: '{path}'.")).param(path)
}

/// An `invalid_value` for `param`.
pub(crate) fn invalid(param: &str, message: String) -> FrameError {
    FrameError::new("invalid_value", message).param(param)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_are_named_by_their_dotted_path() {
        let ok = json!({"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcm", "rate": 24000},
            "output": {"voice": {"id": "v1"}}}, "delegation": {"type": "responses",
            "responses": {"model": "gpt-5", "tools": [{"type": "function", "name": "f"}, {"type": "web_search", "x": 1}]}}});
        assert!(check(&ok, SESSION_CONFIG, "session").is_ok());
        let bad = json!({"model": "gpt-live-1", "voice": "marin"});
        let error = check(&bad, SESSION_CONFIG, "session").unwrap_err();
        assert_eq!(error.code, "unknown_parameter");
        assert_eq!(error.param.as_deref(), Some("session.voice"));
        let nested = json!({"model": "m", "audio": {"output": {"voice": "marin", "speed": 1.0}}});
        let error = check(&nested, SESSION_CONFIG, "session").unwrap_err();
        assert_eq!(error.param.as_deref(), Some("session.audio.output.speed"));
        let tool = json!({"model": "m", "delegation": {"type": "responses", "responses": {"model": "x",
            "tools": [{"type": "function", "name": "f", "args": {}}]}}});
        let error = check(&tool, SESSION_CONFIG, "session").unwrap_err();
        assert_eq!(
            error.param.as_deref(),
            Some("session.delegation.responses.tools[0].args")
        );
        let fork = json!({"model": "gpt-live-1"});
        assert_eq!(
            check(&fork, FORK_CONFIG, "session")
                .unwrap_err()
                .param
                .as_deref(),
            Some("session.model")
        );
        let typed = json!({"model": "m", "audio": "pcm"});
        assert_eq!(
            check(&typed, SESSION_CONFIG, "session").unwrap_err().code,
            "invalid_type"
        );
    }
}
