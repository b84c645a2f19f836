//! Qwen-TTS realtime client frames: the envelope, the event shapes, and the
//! session settings the service accepts (voice, mode, formats and rates),
//! each refused with DashScope's `error` event naming the field.

use super::{FORMATS, SAMPLE_RATES, SERVICE_FORMATS};
use crate::protocol::{check_envelope, serde_rejection, FrameError, FrameSummary, Protocol};
use crate::timeline::Outgoing;
use serde_json::Value;
use understudy_adapters::dashscope::tts::wire::{Mode, TtsClientEvent};
use understudy_adapters::dashscope::tts::DIALECT;

/// Qwen-TTS realtime as the session loop sees it.
#[derive(Debug, Clone)]
pub struct DashScopeTtsProtocol {
    /// The model the client asked for.
    pub model: String,
}

impl Protocol for DashScopeTtsProtocol {
    type Event = TtsClientEvent;

    fn name(&self) -> &str {
        DIALECT
    }

    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<TtsClientEvent, FrameError> {
        let (_, map) = check_envelope(text, max_frame_bytes, TtsClientEvent::KNOWN_TYPES)?;
        if let Some(session) = map.get("session") {
            check_session(session)?;
        }
        let event: TtsClientEvent =
            serde_json::from_value(Value::Object(map)).map_err(|e| serde_rejection(&e))?;
        Ok(event)
    }

    fn summarise(&self, event: &TtsClientEvent) -> FrameSummary {
        FrameSummary {
            event_type: event.event_type().to_owned(),
            key: Value::Null,
            audio_ms: None,
        }
    }

    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        crate::dashscope::validate::rejection_frames(rejection)
    }

    /// DashScope refuses a bad key at the HTTP upgrade.
    fn auth_failure(&self) -> Vec<Outgoing> {
        Vec::new()
    }

    fn answers(&self, server_type: &str) -> Option<&'static str> {
        match server_type {
            "session.updated" => Some("session.update"),
            "input_text_buffer.committed" => Some("input_text_buffer.commit"),
            "input_text_buffer.cleared" => Some("input_text_buffer.clear"),
            "session.finished" => Some("session.finish"),
            _ => None,
        }
    }
}

fn invalid(field: &str, message: String) -> FrameError {
    FrameError::new("invalid_value", message).param(format!("session.{field}"))
}

fn check_session(session: &Value) -> Result<(), FrameError> {
    if let Some(voice) = session.get("voice") {
        if voice.as_str().is_none_or(|v| v.trim().is_empty()) {
            return Err(invalid(
                "voice",
                "Invalid voice: a voice name is required.".into(),
            ));
        }
    }
    if let Some(format) = session.get("response_format").and_then(Value::as_str) {
        if !SERVICE_FORMATS.contains(&format) {
            return Err(invalid(
                "response_format",
                format!("Invalid response_format: '{format}'. Supported values are: pcm, wav, mp3, opus."),
            ));
        }
        if !FORMATS.contains(&format) {
            return Err(invalid(
                "response_format",
                format!("response_format '{format}' is not produced by understudy's mock; use pcm or wav."),
            ));
        }
    }
    if let Some(rate) = session.get("sample_rate") {
        let ok = rate
            .as_u64()
            .is_some_and(|r| SAMPLE_RATES.iter().any(|s| u64::from(*s) == r));
        if !ok {
            return Err(invalid(
                "sample_rate",
                format!("Invalid sample_rate: {rate}. Supported values are: 8000, 16000, 22050, 24000, 44100, 48000."),
            ));
        }
    }
    if let Some(mode) = session.get("mode") {
        if mode.as_str().and_then(Mode::from_wire).is_none() {
            return Err(invalid(
                "mode",
                format!("Invalid mode: {mode}. Supported values are: server_commit, commit."),
            ));
        }
    }
    Ok(())
}
