//! The DashScope Qwen-Audio-Realtime dialect of the mock
//! (`/api-ws/v1/realtime?model=qwen-audio-…`): validation in the service's
//! error shape, the respond engine (built on the Qwen-Omni one) and its
//! settings. The shared upgrade routes here by the model's prefix.

pub mod ambient;
pub mod items;
pub mod respond;
pub mod settings;

pub use settings::QwenAudioSettings;

use crate::dashscope::validate::{self, invalid};
use crate::protocol::{FrameError, FrameSummary};
use serde_json::{Map, Value};
use understudy_adapters::qwen_audio::wire::{ClientEvent, VOICEPRINT_URLS};
use understudy_adapters::qwen_audio::{family, DIALECT, INPUT_RATE};

/// Whether a model name is a Qwen-Audio-Realtime model; the adapters own the rule.
pub use understudy_adapters::qwen_audio::is_audio_model;

/// The only audio format name the service accepts, in and out.
const FORMATS: &[&str] = &["pcm"];
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

/// Qwen-Audio's rules for the DashScope family's frame check: its session
/// fields and base64 audio. Unknown types — `session.finish`,
/// `input_image_buffer.append`, `conversation.item.truncate` among them —
/// are refused as the service refuses any unknown event (its answer to
/// `session.finish` is unconfirmed; an `invalid_value` error on the `type`
/// keeps the socket open).
impl validate::DashScopeDialect for QwenAudioProtocol {
    type Event = ClientEvent;
    const NAME: &'static str = DIALECT;
    const KNOWN_TYPES: &'static [&'static str] = ClientEvent::KNOWN_TYPES;

    fn check_map(&self, event_type: &str, map: &Map<String, Value>) -> Result<(), FrameError> {
        match event_type {
            "session.update" => self.check_session(map.get("session")),
            _ => Ok(()),
        }
    }

    fn check_event(&self, event: &ClientEvent) -> Result<(), FrameError> {
        match event {
            ClientEvent::InputAudioBufferAppend(append) => validate::check_audio(&append.audio),
            _ => Ok(()),
        }
    }

    fn summary(&self, event: &ClientEvent) -> FrameSummary {
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
}

impl QwenAudioProtocol {
    fn check_session(&self, session: Option<&Value>) -> Result<(), FrameError> {
        let Some(session) = session else {
            return Ok(());
        };
        validate::check_modalities(session)?;
        validate::check_flat_formats(session, FORMATS, FORMATS)?;
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
        let invalid =
            |param: &str, message: String| invalid(&format!("turn_detection.{param}"), message);
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
