//! The DashScope Qwen-Audio-Realtime dialect of the mock
//! (`/api-ws/v1/realtime?model=qwen-audio-…`): validation in the service's
//! error shape, the respond engine (built on the Qwen-Omni one) and its
//! settings. The shared upgrade routes here by the model's prefix.

pub mod ambient;
pub mod items;
pub mod respond;
pub mod settings;

pub use settings::QwenAudioSettings;

use crate::dashscope::error_frame;
use crate::protocol::{check_envelope, serde_rejection, FrameError, FrameSummary, Protocol};
use crate::timeline::Outgoing;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use understudy_adapters::qwen_audio::wire::{ClientEvent, VOICEPRINT_URLS};
use understudy_adapters::qwen_audio::{family, DIALECT, INPUT_RATE};

/// Whether a model name is a Qwen-Audio-Realtime model; the adapters own the rule.
pub use understudy_adapters::qwen_audio::is_audio_model;

/// Most voiceprint samples one session may register (documented).
const MAX_VOICEPRINTS: usize = 5;
/// `max_history_turns` bounds (documented: 1–50).
const HISTORY_TURNS: std::ops::RangeInclusive<u64> = 1..=50;
/// `threshold` bounds (documented: −1.0–1.0).
const THRESHOLD: std::ops::RangeInclusive<f64> = -1.0..=1.0;
/// `silence_duration_ms` bounds (documented: 200–6000).
const SILENCE_MS: std::ops::RangeInclusive<u64> = 200..=6000;

/// Qwen-Audio-Realtime for one model, as the session loop sees it.
#[derive(Debug, Clone)]
pub struct QwenAudioProtocol {
    /// The model the client asked for (its family row decides what differs).
    pub model: String,
}

impl Protocol for QwenAudioProtocol {
    type Event = ClientEvent;

    fn name(&self) -> &str {
        DIALECT
    }

    /// Unknown types — `session.finish`, `input_image_buffer.append`,
    /// `conversation.item.truncate` among them — are refused as the service
    /// refuses any unknown event (its answer to `session.finish` is
    /// unconfirmed; an `invalid_value` error on the `type` keeps the socket open).
    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<ClientEvent, FrameError> {
        let (event_type, map) = check_envelope(text, max_frame_bytes, ClientEvent::KNOWN_TYPES)?;
        let event_id = map
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.check(&event_type, map).map_err(|mut e| {
            e.event_id = event_id;
            e
        })
    }

    fn summarise(&self, event: &ClientEvent) -> FrameSummary {
        let (key, audio_ms) = match event {
            ClientEvent::ConversationItemCreate(create) => (
                serde_json::json!({"item.type": create.item.kind, "item.role": create.item.role}),
                None,
            ),
            ClientEvent::InputAudioBufferAppend(append) => (
                Value::Null,
                Some(crate::protocol::base64_pcm16_ms(&append.audio, INPUT_RATE)),
            ),
            _ => (Value::Null, None),
        };
        FrameSummary {
            event_type: event.event_type().to_owned(),
            key,
            audio_ms,
        }
    }

    /// DashScope's error event: `{type, code, message, param}`.
    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        vec![Outgoing::text(
            "error",
            error_frame(
                "invalid_request_error",
                rejection.code,
                &rejection.message,
                rejection.param.as_deref(),
            ),
        )]
    }

    /// A bad key fails the upgrade with HTTP 401 (documented), so nothing is sent here.
    fn auth_failure(&self) -> Vec<Outgoing> {
        Vec::new()
    }
}

impl QwenAudioProtocol {
    fn check(&self, event_type: &str, map: Map<String, Value>) -> Result<ClientEvent, FrameError> {
        if event_type == "session.update" {
            self.check_session(map.get("session"))?;
        }
        let event: ClientEvent =
            serde_json::from_value(Value::Object(map)).map_err(|e| serde_rejection(&e))?;
        if let ClientEvent::InputAudioBufferAppend(append) = &event {
            if STANDARD.decode(&append.audio).is_err() {
                return Err(FrameError::new(
                    "invalid_value",
                    "Invalid 'audio'. Expected base64-encoded PCM16 audio.",
                )
                .param("audio"));
            }
        }
        Ok(event)
    }

    fn check_session(&self, session: Option<&Value>) -> Result<(), FrameError> {
        let Some(session) = session else {
            return Ok(());
        };
        let invalid = |param: &str, message: String| {
            FrameError::new("invalid_value", message).param(format!("session.{param}"))
        };
        if let Some(modalities) = session.get("modalities").and_then(Value::as_array) {
            let names: Vec<&str> = modalities.iter().filter_map(Value::as_str).collect();
            if !matches!(
                names.as_slice(),
                ["text"] | ["text", "audio"] | ["audio", "text"]
            ) {
                return Err(invalid("modalities", format!("Invalid modalities: {names:?}. Supported combinations are: ['text'] and ['audio', 'text'].")));
            }
        }
        for field in ["input_audio_format", "output_audio_format"] {
            if let Some(name) = session.get(field).and_then(Value::as_str) {
                if name != "pcm" {
                    return Err(invalid(
                        field,
                        format!("Invalid {field}: '{name}'. Supported values are: pcm."),
                    ));
                }
            }
        }
        if let Some(turns) = session.get("max_history_turns").filter(|v| !v.is_null()) {
            if !turns.as_u64().is_some_and(|n| HISTORY_TURNS.contains(&n)) {
                return Err(invalid(
                    "max_history_turns",
                    format!(
                        "Invalid max_history_turns: {turns}. It must be an integer from 1 to 50."
                    ),
                ));
            }
        }
        match session.get("turn_detection") {
            Some(Value::Object(td)) => self.check_turn_detection(td),
            _ => Ok(()),
        }
    }

    fn check_turn_detection(&self, td: &Map<String, Value>) -> Result<(), FrameError> {
        let invalid = |param: &str, message: String| {
            FrameError::new("invalid_value", message)
                .param(format!("session.turn_detection.{param}"))
        };
        let kind = td.get("type").and_then(Value::as_str).unwrap_or_default();
        let rejected = family(&self.model).rejected_turn_types.contains(&kind);
        if rejected || !matches!(kind, "server_vad" | "smart_turn") {
            return Err(invalid(
                "type",
                format!("Unsupported turn_detection.type: '{kind}'"),
            ));
        }
        if let Some(threshold) = td.get("threshold").and_then(Value::as_f64) {
            if !THRESHOLD.contains(&threshold) {
                return Err(invalid(
                    "threshold",
                    format!("Invalid threshold: {threshold}. It must be from -1.0 to 1.0."),
                ));
            }
        }
        if let Some(silence) = td.get("silence_duration_ms").and_then(Value::as_u64) {
            if !SILENCE_MS.contains(&silence) {
                return Err(invalid(
                    "silence_duration_ms",
                    format!("Invalid silence_duration_ms: {silence}. It must be from 200 to 6000."),
                ));
            }
        }
        let Some(urls) = td.get(VOICEPRINT_URLS).filter(|v| !v.is_null()) else {
            return Ok(());
        };
        if kind != "smart_turn" {
            return Err(invalid(
                VOICEPRINT_URLS,
                "voiceprint_audio_urls is only supported with turn_detection.type 'smart_turn'."
                    .into(),
            ));
        }
        let Some(list) = urls.as_array() else {
            return Err(invalid(
                VOICEPRINT_URLS,
                "voiceprint_audio_urls must be a list of URLs.".into(),
            ));
        };
        if list.len() > MAX_VOICEPRINTS {
            return Err(invalid(
                VOICEPRINT_URLS,
                format!(
                    "At most {MAX_VOICEPRINTS} voiceprint_audio_urls are supported, got {}.",
                    list.len()
                ),
            ));
        }
        for url in list {
            let http = url
                .as_str()
                .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
            if !http {
                return Err(invalid(
                    VOICEPRINT_URLS,
                    format!("Invalid voiceprint audio URL {url}: only public http(s) URLs are supported."),
                ));
            }
        }
        Ok(())
    }
}

/// Qwen-Audio answers with its own responder (set-up faults included).
impl crate::engine_choice::Respond for QwenAudioProtocol {
    fn responder(
        &self,
        config: crate::ResponderConfig,
        start: &crate::engine_choice::SessionStart<'_>,
    ) -> Box<dyn crate::engine::SessionEngine<ClientEvent>> {
        Box::new(respond::QwenAudioResponder::new(
            &self.model,
            config,
            start.number,
            start.fault,
        ))
    }
}

#[cfg(test)]
mod tests;
