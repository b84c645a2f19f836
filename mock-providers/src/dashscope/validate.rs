//! The client-frame checks every DashScope realtime dialect of the mock
//! shares (Qwen-Omni, Qwen-Audio; the error shape also Qwen-TTS's): the
//! envelope, the event id on every refusal, base64 audio, modalities, flat
//! format names from the dialect's list, and DashScope's `error` event. The
//! dialect brings its rules: which format names, and its own checks before
//! and after the typed parse.

use super::error_frame;
use crate::protocol::{check_envelope, serde_rejection, FrameError, FrameSummary, Protocol};
use crate::timeline::Outgoing;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A DashScope realtime dialect of the mock as the shared frame check sees
/// it: its event type, name and own checks. Each is a [`Protocol`] through
/// this: frames parsed by [`parse_frame`], refusals answered with
/// DashScope's `error` event, and nothing sent for a bad key (the service
/// refuses it at the HTTP upgrade, with 401).
pub trait DashScopeDialect: Send + Sync + 'static {
    /// The dialect's typed client event.
    type Event: DeserializeOwned + Send + Sync + 'static;
    /// The dialect id (journals, cassettes).
    const NAME: &'static str;
    /// The client event types it knows; any other is refused.
    const KNOWN_TYPES: &'static [&'static str];
    /// Its checks on the raw frame (with its `type`), before the typed parse.
    fn check_map(&self, event_type: &str, map: &Map<String, Value>) -> Result<(), FrameError>;
    /// Its checks on the typed event.
    fn check_event(&self, event: &Self::Event) -> Result<(), FrameError>;
    /// What the replay engine matches the event on.
    fn summary(&self, event: &Self::Event) -> FrameSummary;
}

impl<D: DashScopeDialect> Protocol for D {
    type Event = D::Event;

    fn name(&self) -> &str {
        D::NAME
    }

    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<D::Event, FrameError> {
        parse_frame(
            text,
            max_frame_bytes,
            D::KNOWN_TYPES,
            |event_type, map| self.check_map(event_type, map),
            |event| self.check_event(event),
        )
    }

    fn summarise(&self, event: &D::Event) -> FrameSummary {
        self.summary(event)
    }

    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        rejection_frames(rejection)
    }

    fn auth_failure(&self) -> Vec<Outgoing> {
        Vec::new()
    }
}

/// Parses one client frame: the envelope against `known` types, then `pre`
/// on the raw object (with its `type`), the typed parse, then `post` on the
/// typed event. Every refusal carries the frame's `event_id`.
pub(crate) fn parse_frame<E: DeserializeOwned>(
    text: &str,
    max_frame_bytes: usize,
    known: &[&str],
    pre: impl FnOnce(&str, &Map<String, Value>) -> Result<(), FrameError>,
    post: impl FnOnce(&E) -> Result<(), FrameError>,
) -> Result<E, FrameError> {
    let (event_type, map) = check_envelope(text, max_frame_bytes, known)?;
    let event_id = map
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let checked = pre(&event_type, &map).and_then(|()| {
        let event: E =
            serde_json::from_value(Value::Object(map)).map_err(|e| serde_rejection(&e))?;
        post(&event)?;
        Ok(event)
    });
    checked.map_err(|mut e| {
        e.event_id = event_id;
        e
    })
}

/// `audio` must be base64 (of PCM16; the rate is checked by the responder).
pub(crate) fn check_audio(audio: &str) -> Result<(), FrameError> {
    if STANDARD.decode(audio).is_err() {
        return Err(FrameError::new(
            "invalid_value",
            "Invalid 'audio'. Expected base64-encoded PCM16 audio.",
        )
        .param("audio"));
    }
    Ok(())
}

/// `invalid_value` on `session.<param>`.
pub(crate) fn invalid(param: &str, message: String) -> FrameError {
    FrameError::new("invalid_value", message).param(format!("session.{param}"))
}

/// `modalities`: `["text"]` or text and audio (`["audio"]` alone is refused
/// as the service refuses it).
pub(crate) fn check_modalities(session: &Value) -> Result<(), FrameError> {
    let Some(modalities) = session.get("modalities").and_then(Value::as_array) else {
        return Ok(());
    };
    let names: Vec<&str> = modalities.iter().filter_map(Value::as_str).collect();
    if !matches!(
        names.as_slice(),
        ["text"] | ["text", "audio"] | ["audio", "text"]
    ) {
        return Err(invalid(
            "modalities",
            format!("Invalid modalities: {names:?}. Supported combinations are: ['text'] and ['audio', 'text']."),
        ));
    }
    Ok(())
}

/// The flat `input_audio_format` / `output_audio_format`, each from the
/// dialect's list of names.
pub(crate) fn check_flat_formats(
    session: &Value,
    input: &[&str],
    output: &[&str],
) -> Result<(), FrameError> {
    for (field, allowed) in [
        ("input_audio_format", input),
        ("output_audio_format", output),
    ] {
        if let Some(name) = session.get(field).and_then(Value::as_str) {
            if !allowed.contains(&name) {
                return Err(invalid(
                    field,
                    format!(
                        "Invalid {field}: '{name}'. Supported values are: {}.",
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// DashScope's `error` event for a refused frame (`invalid_request_error`:
/// the socket stays open): `{type, code, message, param}`, no echo of the
/// client's event id (none is documented).
pub(crate) fn rejection_frames(rejection: &FrameError) -> Vec<Outgoing> {
    let text = error_frame(
        "invalid_request_error",
        rejection.code,
        &rejection.message,
        rejection.param.as_deref(),
    );
    vec![Outgoing::text("error", text)]
}
