//! Checks every client frame the way the hosted OpenAI service does, before an
//! engine sees it.
//!
//! Bad input gets an OpenAI-shaped `error` event (type `invalid_request_error`)
//! that echoes the client's `event_id`, and the connection stays open: the
//! offending event is simply not applied. Codes follow the protocol notes;
//! where the hosted code is unconfirmed (oversized frames, bad base64) the code
//! chosen here is listed in `FrameError::code` docs and the README.

use crate::protocol::{check_envelope, serde_rejection, FrameError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use understudy_adapters::openai::wire::ClientEvent;
use understudy_adapters::openai::Dialect;

/// Session fields each dialect accepts in `session.update`; anything else is
/// an `unknown_parameter` error, as on the hosted service.
const GA_SESSION_FIELDS: &[&str] = &[
    "type",
    "model",
    "instructions",
    "output_modalities",
    "audio",
    "tools",
    "tool_choice",
    "max_output_tokens",
    "tracing",
    "prompt",
    "truncation",
    "include",
    "reasoning",
    "parallel_tool_calls",
];
const BETA_SESSION_FIELDS: &[&str] = &[
    "model",
    "modalities",
    "instructions",
    "voice",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "turn_detection",
    "tools",
    "tool_choice",
    "temperature",
    "max_response_output_tokens",
    "speed",
    "tracing",
    "client_secret",
    "include",
];

/// Parses and checks one text frame from the client.
pub fn parse_client_frame(
    text: &str,
    dialect: Dialect,
    max_frame_bytes: usize,
) -> Result<ClientEvent, FrameError> {
    let known = dialect_types(dialect);
    let (event_type, map) = check_envelope(text, max_frame_bytes, &known)?;
    let event_id = map
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    check_object(&event_type, map, dialect).map_err(|mut e| {
        e.event_id = event_id;
        e
    })
}

fn check_object(
    event_type: &str,
    map: Map<String, Value>,
    dialect: Dialect,
) -> Result<ClientEvent, FrameError> {
    if event_type == "session.update" {
        check_session(map.get("session"), dialect)?;
    }
    let event: ClientEvent =
        serde_json::from_value(Value::Object(map)).map_err(|e| serde_rejection(&e))?;
    check_event(&event)?;
    Ok(event)
}

fn dialect_types(dialect: Dialect) -> Vec<&'static str> {
    ClientEvent::KNOWN_TYPES
        .iter()
        .copied()
        .filter(|t| dialect == Dialect::Beta || *t != "transcription_session.update")
        .collect()
}

fn check_session(session: Option<&Value>, dialect: Dialect) -> Result<(), FrameError> {
    let Some(Value::Object(session)) = session else {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'session'.",
        )
        .param("session"));
    };
    let known = match dialect {
        Dialect::Ga => GA_SESSION_FIELDS,
        Dialect::Beta => BETA_SESSION_FIELDS,
    };
    if let Some(unknown) = session.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(FrameError::new(
            "unknown_parameter",
            format!("Unknown parameter: 'session.{unknown}'."),
        )
        .param(format!("session.{unknown}")));
    }
    if dialect == Dialect::Ga && !session.contains_key("type") {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'session.type'.",
        )
        .param("session.type"));
    }
    Ok(())
}

/// Rejects fields the event does not have (the hosted server does too).
fn check_event(event: &ClientEvent) -> Result<(), FrameError> {
    let as_value = serde_json::to_value(event).map_err(|e| {
        FrameError::new(
            "invalid_event",
            format!("The event could not be read: {e}."),
        )
    })?;
    let known = known_top_level_fields(event.event_type());
    if let Some(map) = as_value.as_object() {
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(FrameError::new(
                "unknown_parameter",
                format!("Unknown parameter: '{unknown}'."),
            )
            .param(unknown.clone()));
        }
    }
    if let ClientEvent::InputAudioBufferAppend(append) = event {
        if STANDARD.decode(&append.audio).is_err() {
            return Err(FrameError::new(
                "invalid_value",
                "Invalid 'audio'. Expected base64-encoded audio bytes.",
            )
            .param("audio"));
        }
    }
    Ok(())
}

fn known_top_level_fields(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "session.update" | "transcription_session.update" => &["type", "event_id", "session"],
        "input_audio_buffer.append" => &["type", "event_id", "audio"],
        "conversation.item.create" => &["type", "event_id", "item", "previous_item_id"],
        "conversation.item.retrieve" | "conversation.item.delete" => {
            &["type", "event_id", "item_id"]
        }
        "conversation.item.truncate" => &[
            "type",
            "event_id",
            "item_id",
            "content_index",
            "audio_end_ms",
        ],
        "response.create" => &["type", "event_id", "response"],
        "response.cancel" => &["type", "event_id", "response_id"],
        _ => &["type", "event_id"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, dialect: Dialect) -> FrameError {
        parse_client_frame(text, dialect, 1024).unwrap_err()
    }

    #[test]
    fn malformed_json_is_invalid_event() {
        let e = err("{nope", Dialect::Ga);
        assert_eq!(e.code, "invalid_event");
        assert_eq!(err("[1,2]", Dialect::Ga).code, "invalid_event");
    }

    #[test]
    fn missing_type_uses_the_hosted_message_and_echoes_event_id() {
        let e = err(r#"{"event_id":"c1","audio":"AAAA"}"#, Dialect::Ga);
        assert_eq!(e.code, "invalid_event");
        assert_eq!(e.message, "The 'type' field is missing.");
        assert_eq!(e.event_id.as_deref(), Some("c1"));
    }

    #[test]
    fn unknown_type_is_invalid_value_on_param_type() {
        let e = err(r#"{"type":"response.explode"}"#, Dialect::Ga);
        assert_eq!(e.code, "invalid_value");
        assert_eq!(e.param.as_deref(), Some("type"));
        assert!(e.message.contains("'response.explode'"));
    }

    #[test]
    fn beta_only_events_are_refused_on_ga() {
        let frame = r#"{"type":"transcription_session.update","session":{}}"#;
        assert_eq!(err(frame, Dialect::Ga).code, "invalid_value");
        assert!(parse_client_frame(frame, Dialect::Beta, 1024).is_ok());
    }

    #[test]
    fn session_fields_are_checked_per_dialect() {
        let e = err(
            r#"{"type":"session.update","session":{"type":"realtime","temperature":0.8}}"#,
            Dialect::Ga,
        );
        assert_eq!(e.code, "unknown_parameter");
        assert_eq!(e.param.as_deref(), Some("session.temperature"));
        let e = err(
            r#"{"type":"session.update","session":{"instructions":"x"}}"#,
            Dialect::Ga,
        );
        assert_eq!(e.param.as_deref(), Some("session.type"));
        assert!(parse_client_frame(
            r#"{"type":"session.update","session":{"temperature":0.8}}"#,
            Dialect::Beta,
            1024
        )
        .is_ok());
    }

    #[test]
    fn missing_fields_unknown_fields_bad_audio_and_size() {
        let e = err(r#"{"type":"input_audio_buffer.append"}"#, Dialect::Ga);
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("missing_required_parameter", Some("audio"))
        );
        let e = err(r#"{"type":"response.cancel","bogus":1}"#, Dialect::Ga);
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("unknown_parameter", Some("bogus"))
        );
        let e = err(
            r#"{"type":"input_audio_buffer.append","audio":"%%%"}"#,
            Dialect::Ga,
        );
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("audio"))
        );
        let big = format!(
            r#"{{"type":"input_audio_buffer.append","audio":"{}"}}"#,
            "A".repeat(2000)
        );
        assert_eq!(err(&big, Dialect::Ga).code, "message_too_large");
    }
}
