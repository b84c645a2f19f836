//! Qwen-Omni behaviour that differs by model family (protocol notes §10.8):
//! the settings a test can switch, the three `session.update` shapes, and the
//! refusals of 3.5/3.8 — each decided by the model's row in the adapters'
//! table ([`understudy_adapters::dashscope::models`]), never by its name.
//!
//! The error `code`s of the refusals are *unconfirmed* (the field report
//! quotes only messages), so they are settings ([`OmniErrorCodes`]) with
//! documented defaults; every refusal is an `error` event
//! (`type: "invalid_request_error"`) that leaves the socket open.

use serde_json::{json, Map, Value};
use std::collections::{HashSet, VecDeque};
use understudy_adapters::dashscope::models::{OmniFamily, SessionShape};
use understudy_adapters::dashscope::wire::Session;
use understudy_adapters::dashscope::{INPUT_RATE, OUTPUT_RATE};

/// The `code` of each Qwen-Omni refusal (all *unconfirmed*; the defaults
/// follow OpenAI beta, which the protocol copies, where it has the same
/// refusal, and `invalid_value` elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmniErrorCodes {
    /// `response.create` while a response runs ("Conversation already has an
    /// active response"); default `conversation_already_has_active_response`.
    pub active_response: String,
    /// A second `function_call_output` for one `call_id` ("Duplicate function
    /// call output"); default `invalid_value`.
    pub duplicate_tool_output: String,
    /// A `message` item where the model takes only tool results (3.8);
    /// default `invalid_value`.
    pub message_item: String,
    /// `enable_search` together with `tools`; default `invalid_value`.
    pub search_with_tools: String,
}

impl Default for OmniErrorCodes {
    fn default() -> Self {
        OmniErrorCodes {
            active_response: "conversation_already_has_active_response".into(),
            duplicate_tool_output: "invalid_value".into(),
            message_item: "invalid_value".into(),
            search_with_tools: "invalid_value".into(),
        }
    }
}

/// Qwen-Omni settings of the respond engine that override or complete the
/// model's row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OmniSettings {
    /// Whether `session.finish` is answered by `session.finished` before the
    /// close; `None` (default): as the model's row says (3.8: no; older: yes).
    pub finish_ack: Option<bool>,
    /// The codes of the refusals.
    pub codes: OmniErrorCodes,
}

/// The most tool-result `call_id`s remembered for the duplicate check.
const MAX_REMEMBERED_OUTPUTS: usize = 1024;

/// The `call_id`s of the tool results a session has taken (the newest
/// [`MAX_REMEMBERED_OUTPUTS`]), to refuse a second result for one call.
#[derive(Debug, Default)]
pub struct ToolOutputs {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl ToolOutputs {
    /// Records `call_id`; false when it had a result already.
    pub fn first(&mut self, call_id: &str) -> bool {
        if self.seen.contains(call_id) {
            return false;
        }
        if self.order.len() == MAX_REMEMBERED_OUTPUTS {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(call_id.to_owned());
        self.order.push_back(call_id.to_owned());
        true
    }
}

/// Moves a nested `audio` object (§10.4 shapes 2 and 3) into the flat fields
/// the engine runs on: `audio.input.format.type` → `input_audio_format`,
/// `audio.output.format.type` → `output_audio_format`, `audio.output.voice`
/// → `voice`; a flat key sent alongside wins. The `model` key the docs'
/// example puts inside `session` is dropped (the query names the model).
pub fn flatten_update(update: &mut Session) {
    update.extra.remove("model");
    let Some(audio) = update.extra.remove("audio") else {
        return;
    };
    let at = |dir: &str, key: &str| -> Option<String> {
        let node = audio.get(dir)?;
        let value = match key {
            "voice" => node.get("voice"),
            _ => node.get("format").and_then(|f| f.get("type")),
        };
        value.and_then(Value::as_str).map(str::to_owned)
    };
    if update.input_audio_format.is_none() {
        update.input_audio_format = at("input", "type");
    }
    if update.output_audio_format.is_none() {
        update.output_audio_format = at("output", "type");
    }
    if update.voice.is_none() {
        update.voice = at("output", "voice");
    }
}

/// The session as the model's family echoes it: flat, or with voice and
/// formats under `audio` (the 3.8 SDK's shape, with the sample rates).
pub fn session_view(session: &Session, family: &OmniFamily) -> Value {
    let mut view = serde_json::to_value(session).unwrap_or(Value::Null);
    if family.session_shape == SessionShape::Flat {
        return view;
    }
    if let Value::Object(map) = &mut view {
        let voice = map.remove("voice");
        let input = map.remove("input_audio_format");
        let output = map.remove("output_audio_format");
        let mut out = Map::new();
        if let Some(voice) = voice {
            out.insert("voice".into(), voice);
        }
        out.insert(
            "format".into(),
            json!({"type": output.unwrap_or(json!("pcm")), "sample_rate": OUTPUT_RATE}),
        );
        map.insert(
            "audio".into(),
            json!({
                "input": {"format": {"type": input.unwrap_or(json!("pcm")), "sample_rate": INPUT_RATE}},
                "output": Value::Object(out),
            }),
        );
    }
    view
}

/// Whether `update` would leave the session with web search and tools on
/// together, which 3.5/3.8 refuse.
pub fn search_with_tools(session: &Session, update: &Session) -> bool {
    let search = update
        .extra
        .get("enable_search")
        .or_else(|| session.extra.get("enable_search"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let tools = update
        .tools
        .as_ref()
        .or(session.tools.as_ref())
        .is_some_and(|t| !t.is_empty());
    search && tools
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::dashscope::models::family;

    fn session(v: Value) -> Session {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_sdk_nested_shape_is_flattened_and_flat_keys_win() {
        let mut update = session(json!({"modalities": ["text", "audio"], "model": "m",
            "audio": {"output": {"voice": "longanlingxin", "format": {"type": "pcm", "sample_rate": 24000}},
                      "input": {"format": {"type": "pcm16", "sample_rate": 16000}}}}));
        flatten_update(&mut update);
        assert_eq!(update.voice.as_deref(), Some("longanlingxin"));
        assert_eq!(update.input_audio_format.as_deref(), Some("pcm16"));
        assert_eq!(update.output_audio_format.as_deref(), Some("pcm"));
        assert!(update.extra.get("audio").is_none() && update.extra.get("model").is_none());
        let mut mixed = session(json!({"voice": "Tina",
            "audio": {"output": {"voice": "Maia", "format": {"type": "pcm"}}}}));
        flatten_update(&mut mixed);
        assert_eq!(mixed.voice.as_deref(), Some("Tina"));
    }

    #[test]
    fn the_view_is_nested_only_for_the_nested_family() {
        let s = session(
            json!({"voice": "Tina", "input_audio_format": "pcm", "output_audio_format": "pcm"}),
        );
        let v38 = session_view(&s, family("qwen3.8-omni-flash-realtime"));
        assert_eq!(v38["audio"]["output"]["voice"], "Tina");
        assert_eq!(v38["audio"]["input"]["format"]["sample_rate"], 16000);
        assert!(v38.get("voice").is_none());
        let v35 = session_view(&s, family("qwen3.5-omni-flash-realtime"));
        assert_eq!(v35["voice"], "Tina");
        assert!(v35.get("audio").is_none());
    }

    #[test]
    fn a_tool_result_is_taken_once_per_call_and_memory_is_bounded() {
        let mut outputs = ToolOutputs::default();
        assert!(outputs.first("call_1"));
        assert!(!outputs.first("call_1"));
        for i in 0..MAX_REMEMBERED_OUTPUTS {
            outputs.first(&format!("c{i}"));
        }
        assert!(outputs.seen.len() <= MAX_REMEMBERED_OUTPUTS);
        assert!(outputs.first("call_1"), "the oldest call was forgotten");
    }

    #[test]
    fn search_and_tools_together_are_detected_across_updates() {
        let tools = json!([{"type": "function", "function": {"name": "f"}}]);
        let on = session(json!({"enable_search": true}));
        assert!(search_with_tools(&on, &session(json!({"tools": tools}))));
        assert!(!search_with_tools(&on, &session(json!({"tools": []}))));
        assert!(!search_with_tools(
            &Session::default(),
            &session(json!({"tools": tools}))
        ));
    }
}
