//! The DashScope Qwen-Omni realtime dialect of the mock
//! (`/api-ws/v1/realtime?model=…`): validation, error shape, the respond
//! engine, set-up faults and the input-rate heuristic.

pub(crate) mod layer;
pub mod omni;
pub mod rate_check;
pub mod respond;
pub mod tts;
pub mod validate;

use crate::protocol::{summarise_openai_family, FrameError, FrameSummary};
use crate::session::rand_suffix;
use crate::timeline::Outgoing;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use understudy_adapters::dashscope::models::family;
use understudy_adapters::dashscope::wire::ClientEvent;
use understudy_adapters::dashscope::{capabilities_for, DIALECT, INPUT_RATE, OUTPUT_RATE};

/// Input format names the service accepts.
const INPUT_FORMATS: &[&str] = &["pcm", "pcm16"];
/// Output format names the service accepts.
const OUTPUT_FORMATS: &[&str] = &["pcm", "pcm16", "pcm24"];

/// How a session's set-up can be made to fail, on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupFault {
    /// Answer `session.update` with an `error` and no `session.updated`.
    Error,
    /// Never answer `session.update` (clients time out).
    Silent,
    /// Close the connection instead of answering.
    Close,
}

impl SetupFault {
    /// The names [`parse`](Self::parse) takes, for messages that list them.
    pub const NAMES: [&'static str; 3] = ["setup-error", "setup-silent", "setup-close"];

    /// Parses `setup-error`, `setup-silent` or `setup-close` (header
    /// `X-Understudy-Fault`, CLI `--fault`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "setup-error" => Some(SetupFault::Error),
            "setup-silent" => Some(SetupFault::Silent),
            "setup-close" => Some(SetupFault::Close),
            _ => None,
        }
    }

    /// Parses a fault name, or says which names there are.
    pub fn parse_or_explain(name: &str) -> Result<Self, String> {
        Self::parse(name).ok_or_else(|| {
            format!(
                "unknown fault `{}` (expected {})",
                name.trim(),
                Self::NAMES.join(", ")
            )
        })
    }

    /// Answers a `session.update` with this fault instead of `session.updated`
    /// (every DashScope realtime dialect fails its set-up the same way), and
    /// notes it for the journal.
    pub(crate) fn inject(
        self,
        now: tokio::time::Instant,
        timeline: &mut crate::timeline::Timeline,
        notes: &mut Vec<crate::engine::Note>,
    ) {
        notes.push(crate::engine::Note::new(
            "fault",
            format!("set-up fault injected: {self:?}"),
        ));
        for frame in self.frames() {
            timeline.push(now, frame);
        }
    }

    /// What the session sends instead of `session.updated`.
    fn frames(self) -> Vec<Outgoing> {
        match self {
            SetupFault::Error => vec![Outgoing::text(
                "error",
                error_frame(
                    "server_error",
                    "internal_error",
                    "Session set-up failed (injected by understudy).",
                    None,
                ),
            )],
            SetupFault::Silent => Vec::new(),
            SetupFault::Close => vec![Outgoing::Close {
                code: 1011,
                reason: "session set-up failed".into(),
            }],
        }
    }
}

/// How a Qwen-Omni session ends when it reaches its maximum duration.
///
/// The service documents only that it "closes the connection" after 120
/// minutes; whether an event comes first, and the close code and reason, are
/// **unconfirmed**. Both styles close with 1001 and the reason `Session
/// exceeded the maximum duration of N seconds`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DashScopeExpiry {
    /// Close without an event first (the documented behaviour, read literally).
    #[default]
    Close,
    /// A DashScope-shaped `error` (code `session_expired`), then the same close.
    ErrorThenClose,
}

impl DashScopeExpiry {
    /// What ends a session limited to `limit`, all due at the limit: an
    /// optional `error`, then close 1001 with the reason.
    pub(crate) fn frames(self, limit: std::time::Duration) -> Vec<Outgoing> {
        let reason = format!(
            "Session exceeded the maximum duration of {} seconds",
            limit.as_secs_f64()
        );
        let mut frames = Vec::new();
        if self == DashScopeExpiry::ErrorThenClose {
            let text = error_frame(
                "invalid_request_error",
                "session_expired",
                &format!("{reason}."),
                None,
            );
            frames.push(Outgoing::text("error", text));
        }
        frames.push(Outgoing::Close { code: 1001, reason });
        frames
    }
}

/// The longest a Qwen-Omni realtime session lasts (documented: 120 minutes).
pub const MAX_SESSION: std::time::Duration = std::time::Duration::from_secs(120 * 60);

/// Whether a model name is a Qwen-Omni realtime model this mock serves.
pub fn is_omni_model(model: &str) -> bool {
    model.contains("omni") && model.contains("realtime")
}

/// Whether a model name is a Qwen-TTS realtime model (same path, other
/// service); the adapters' registry owns the rule.
pub use understudy_adapters::registry::recognise::is_dashscope_tts_model as is_tts_model;

/// Qwen-Omni realtime for one model, as the session loop sees it.
#[derive(Debug, Clone)]
pub struct DashScopeProtocol {
    /// The model the client asked for (text input and tools depend on it).
    pub model: String,
}

/// Qwen-Omni's rules for the DashScope family's frame check: the session
/// (flat and nested formats), text items where the model takes none, base64
/// audio and JPEG images.
impl validate::DashScopeDialect for DashScopeProtocol {
    type Event = ClientEvent;
    const NAME: &'static str = DIALECT;
    const KNOWN_TYPES: &'static [&'static str] = ClientEvent::KNOWN_TYPES;

    fn check_map(&self, event_type: &str, map: &Map<String, Value>) -> Result<(), FrameError> {
        if event_type == "session.update" {
            check_session(map.get("session"))?;
        }
        // Where the family takes no `message` item at all (3.8), the responder
        // refuses it with its own (configurable) code.
        if event_type == "conversation.item.create"
            && is_text_message(map)
            && family(&self.model).message_items
            && !capabilities_for(&self.model).text_input
        {
            return Err(FrameError::new(
                "invalid_value",
                format!("Model {} does not accept text input; send audio with input_audio_buffer.append.", self.model),
            )
            .param("item.content"));
        }
        Ok(())
    }

    fn check_event(&self, event: &ClientEvent) -> Result<(), FrameError> {
        match event {
            ClientEvent::InputAudioBufferAppend(append) => validate::check_audio(&append.audio),
            ClientEvent::InputImageBufferAppend(image) => {
                let is_jpeg = STANDARD
                    .decode(&image.image)
                    .is_ok_and(|b| b.starts_with(&[0xFF, 0xD8]));
                if !is_jpeg {
                    return Err(FrameError::new(
                        "invalid_value",
                        "Invalid 'image'. Expected a base64-encoded JPEG.",
                    )
                    .param("image"));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn summary(&self, event: &ClientEvent) -> FrameSummary {
        summarise_openai_family(event, INPUT_RATE)
    }
}

/// A DashScope `error` event as text.
pub fn error_frame(kind: &str, code: &str, message: &str, param: Option<&str>) -> String {
    json!({
        "event_id": format!("event_{:032x}", rand_suffix()),
        "type": "error",
        "error": {"type": kind, "code": code, "message": message, "param": param}
    })
    .to_string()
}

fn is_text_message(map: &Map<String, Value>) -> bool {
    let item = map.get("item");
    item.and_then(|i| i.get("type")).and_then(Value::as_str) == Some("message")
        && item
            .and_then(|i| i.get("content"))
            .and_then(Value::as_array)
            .is_some_and(|parts| {
                parts
                    .iter()
                    .any(|p| p.get("type").and_then(Value::as_str) == Some("input_text"))
            })
}

fn check_session(session: Option<&Value>) -> Result<(), FrameError> {
    let Some(session) = session else {
        return Ok(()); // the session object is optional on this dialect
    };
    validate::check_modalities(session)?;
    validate::check_flat_formats(session, INPUT_FORMATS, OUTPUT_FORMATS)?;
    check_nested_audio(session.get("audio"))
}

/// The nested `audio` object (§10.4 shapes 2 and 3): known format names at
/// 16 kHz in, 24 kHz out (output is not customisable).
fn check_nested_audio(audio: Option<&Value>) -> Result<(), FrameError> {
    let Some(audio) = audio else {
        return Ok(());
    };
    for (dir, allowed, rate) in [
        ("input", INPUT_FORMATS, INPUT_RATE),
        ("output", OUTPUT_FORMATS, OUTPUT_RATE),
    ] {
        let Some(format) = audio.get(dir).and_then(|d| d.get("format")) else {
            continue;
        };
        if let Some(name) = format.get("type").and_then(Value::as_str) {
            if !allowed.contains(&name) {
                return Err(FrameError::new(
                    "invalid_value",
                    format!(
                        "Invalid audio.{dir}.format.type: '{name}'. Supported values are: {}.",
                        allowed.join(", ")
                    ),
                )
                .param(format!("session.audio.{dir}.format.type")));
            }
        }
        if let Some(got) = format.get("sample_rate").and_then(Value::as_u64) {
            if got != u64::from(rate) {
                return Err(FrameError::new(
                    "invalid_value",
                    format!(
                        "Invalid audio.{dir}.format.sample_rate: {got}. Supported value is {rate}."
                    ),
                )
                .param(format!("session.audio.{dir}.format.sample_rate")));
            }
        }
    }
    Ok(())
}

/// Qwen-Omni realtime answers with the DashScope responder (set-up faults included).
impl crate::engine_choice::Respond for DashScopeProtocol {
    fn responder(
        &self,
        config: crate::ResponderConfig,
        start: &crate::engine_choice::SessionStart<'_>,
    ) -> Box<dyn crate::engine::SessionEngine<ClientEvent>> {
        Box::new(respond::DashScopeResponder::new(
            &self.model,
            config,
            start.number,
            start.fault,
        ))
    }
}

/// Qwen-TTS realtime answers with the TTS responder (set-up faults included).
impl crate::engine_choice::Respond for tts::DashScopeTtsProtocol {
    fn responder(
        &self,
        config: crate::ResponderConfig,
        start: &crate::engine_choice::SessionStart<'_>,
    ) -> Box<dyn crate::engine::SessionEngine<Self::Event>> {
        Box::new(tts::TtsResponder::new(&self.model, config, start.number).with_fault(start.fault))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Protocol;

    fn protocol() -> DashScopeProtocol {
        DashScopeProtocol {
            model: "qwen3-omni-flash-realtime".into(),
        }
    }

    fn err(text: &str) -> FrameError {
        protocol().parse(text, 1 << 20).unwrap_err()
    }

    #[test]
    fn the_sdk_default_session_update_is_accepted() {
        let frame = r#"{"event_id":"event_54bd","type":"session.update","session":{"modalities":["audio","text"],"voice":"Cherry","input_audio_format":"pcm16","output_audio_format":"pcm16","input_audio_transcription":{"model":null},"turn_detection":{"type":"server_vad","threshold":0.2,"prefix_padding_ms":300,"silence_duration_ms":800}}}"#;
        assert!(protocol().parse(frame, 1 << 20).is_ok());
    }

    #[test]
    fn audio_only_modalities_are_refused_as_the_service_does() {
        let e =
            err(r#"{"event_id":"e","type":"session.update","session":{"modalities":["audio"]}}"#);
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("session.modalities"))
        );
    }

    #[test]
    fn openai_only_events_and_text_on_flash_are_refused() {
        assert_eq!(err(r#"{"type":"conversation.item.truncate","item_id":"i","content_index":0,"audio_end_ms":1}"#).code, "invalid_value");
        let text = r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}"#;
        assert_eq!(err(text).param.as_deref(), Some("item.content"));
        let plus = DashScopeProtocol {
            model: "qwen3.5-omni-plus-realtime".into(),
        };
        assert_eq!(
            plus.parse(text, 1 << 20).unwrap_err().param.as_deref(),
            Some("item.content"),
            "no model family takes text here"
        );
    }

    #[test]
    fn the_three_session_shapes_are_accepted_and_nested_formats_checked() {
        let v38 = DashScopeProtocol {
            model: "qwen3.8-omni-flash-realtime".into(),
        };
        for frame in [
            // SDK 2.0.2 "omni_v38" (captured).
            r#"{"type":"session.update","session":{"modalities":["text","audio"],"input_audio_transcription":{"model":"qwen3-asr-flash-realtime"},"turn_detection":null,"instructions":"x","audio":{"output":{"voice":"longanlingxin","format":{"type":"pcm","sample_rate":24000}},"input":{"format":{"type":"pcm","sample_rate":16000}}}}}"#,
            // The docs' mixed example.
            r#"{"type":"session.update","session":{"model":"qwen3.5-omni-plus-realtime","modalities":["text","audio"],"voice":"Tina","audio":{"input":{"format":{"type":"pcm","sample_rate":16000}},"output":{"format":{"type":"pcm","sample_rate":24000}}}}}"#,
            // Flat, as AgentScope sends it to every model.
            r#"{"type":"session.update","session":{"voice":"Tina","input_audio_format":"pcm","output_audio_format":"pcm","turn_detection":{"type":"semantic_vad"}}}"#,
        ] {
            assert!(v38.parse(frame, 1 << 20).is_ok(), "{frame}");
        }
        let bad = v38
            .parse(r#"{"type":"session.update","session":{"audio":{"input":{"format":{"type":"pcm","sample_rate":24000}}}}}"#, 1 << 20)
            .unwrap_err();
        assert_eq!(
            bad.param.as_deref(),
            Some("session.audio.input.format.sample_rate")
        );
        let bad = v38
            .parse(r#"{"type":"session.update","session":{"audio":{"output":{"format":{"type":"mp3"}}}}}"#, 1 << 20)
            .unwrap_err();
        assert_eq!(
            bad.param.as_deref(),
            Some("session.audio.output.format.type")
        );
        // A text item on 3.8 passes the frame check: the engine refuses it.
        let text = r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}"#;
        assert!(v38.parse(text, 1 << 20).is_ok());
    }

    #[test]
    fn images_must_be_jpeg_and_audio_base64() {
        assert_eq!(
            err(r#"{"type":"input_image_buffer.append","image":"iVBORw0KGgo="}"#)
                .param
                .as_deref(),
            Some("image")
        );
        assert!(protocol()
            .parse(
                r#"{"type":"input_image_buffer.append","image":"/9j/4AAQ"}"#,
                1 << 20
            )
            .is_ok());
        assert_eq!(
            err(r#"{"type":"input_audio_buffer.append","audio":"%%"}"#)
                .param
                .as_deref(),
            Some("audio")
        );
    }

    #[test]
    fn errors_have_the_dashscope_shape() {
        let frames = protocol().rejection(&err("{nope"));
        let [Outgoing::Text { text, .. }] = frames.as_slice() else {
            panic!("one text frame expected, got {frames:?}");
        };
        let frame: Value = serde_json::from_str(text).unwrap();
        assert_eq!(frame["type"], "error");
        assert!(frame["event_id"].as_str().unwrap().starts_with("event_"));
        assert_eq!(frame["error"]["type"], "invalid_request_error");
        assert_eq!(frame["error"]["code"], "invalid_event");
        assert!(frame["error"].get("event_id").is_none());
    }

    #[test]
    fn models_are_routed_by_name() {
        assert!(
            is_omni_model("qwen3-omni-flash-realtime")
                && !is_tts_model("qwen3-omni-flash-realtime")
        );
        assert!(
            is_tts_model("qwen3-tts-flash-realtime") && !is_omni_model("qwen3-tts-flash-realtime")
        );
        assert!(!is_omni_model("qwen-max"));
    }
}
