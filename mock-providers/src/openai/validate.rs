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
use serde::Deserialize as _;
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
    let value = Value::Object(map);
    let event = ClientEvent::deserialize(&value).map_err(|e| {
        match crate::wrong_type::locate::<ClientEvent>(&value) {
            Some(wrong) => FrameError::new("invalid_type", wrong.message()).param(wrong.param),
            None => serde_rejection(&e),
        }
    })?;
    check_event(&event)?;
    check_response_create(&event)?;
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
    check_audio_formats(session, dialect, "session")
}

/// GA PCM formats: the only rate the service accepts.
const GA_PCM_RATES: &[&str] = &["24000"];
/// GA format types.
const GA_FORMAT_TYPES: &[&str] = &["audio/pcm", "audio/pcmu", "audio/pcma"];
/// Beta format names.
const BETA_FORMATS: &[&str] = &["pcm16", "g711_ulaw", "g711_alaw"];

/// Audio formats in a session (or a response's overrides, `at` = `response`):
/// GA `audio.{input,output}.format` (PCM only at 24 kHz), beta
/// `{input,output}_audio_format` (`pcm16` or G.711).
fn check_audio_formats(
    object: &Map<String, Value>,
    dialect: Dialect,
    at: &str,
) -> Result<(), FrameError> {
    match dialect {
        Dialect::Ga => {
            for direction in ["input", "output"] {
                let format = object
                    .get("audio")
                    .and_then(|a| a.get(direction))
                    .and_then(|d| d.get("format"));
                let Some(Value::Object(format)) = format else {
                    continue;
                };
                let path = format!("{at}.audio.{direction}.format");
                let kind = format
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !GA_FORMAT_TYPES.contains(&kind) {
                    return Err(unsupported(&format!("{path}.type"), kind, GA_FORMAT_TYPES));
                }
                match format.get("rate") {
                    Some(rate) if kind == "audio/pcm" && rate.as_u64() != Some(24_000) => {
                        return Err(unsupported(
                            &format!("{path}.rate"),
                            &rate.to_string(),
                            GA_PCM_RATES,
                        ));
                    }
                    _ => {}
                }
            }
        }
        Dialect::Beta => {
            for field in ["input_audio_format", "output_audio_format"] {
                match object.get(field) {
                    Some(Value::String(name)) if !BETA_FORMATS.contains(&name.as_str()) => {
                        return Err(unsupported(&format!("{at}.{field}"), name, BETA_FORMATS));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// OpenAI's `invalid_value` for a value outside a fixed set.
fn unsupported(param: &str, got: &str, supported: &[&str]) -> FrameError {
    FrameError::new(
        "invalid_value",
        format!(
            "Invalid value: '{got}'. Supported values are: {}.",
            crate::http_tts::openai::listing(supported)
        ),
    )
    .param(param.to_owned())
}

/// The `response.create` overrides the service checks before it answers:
/// `conversation` is `auto` or `none`, `metadata` a map of strings, audio
/// formats as in a session.
fn check_response_create(event: &ClientEvent) -> Result<(), FrameError> {
    let ClientEvent::ResponseCreate(create) = event else {
        return Ok(());
    };
    let Some(params) = &create.response else {
        return Ok(());
    };
    if let Some(conversation) = params.conversation.as_deref() {
        if !matches!(conversation, "auto" | "none") {
            return Err(unsupported(
                "response.conversation",
                conversation,
                &["auto", "none"],
            ));
        }
    }
    match &params.metadata {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            if let Some((key, value)) = map.iter().find(|(_, v)| !v.is_string()) {
                return Err(FrameError::new(
                    "invalid_type",
                    format!(
                        "Invalid type for 'response.metadata.{key}': expected a string, but got {} instead.",
                        crate::wrong_type::type_name(value)
                    ),
                )
                .param(format!("response.metadata.{key}")));
            }
        }
        Some(other) => {
            return Err(FrameError::new(
                "invalid_type",
                format!(
                    "Invalid type for 'response.metadata': expected an object, but got {} instead.",
                    crate::wrong_type::type_name(other)
                ),
            )
            .param("response.metadata"));
        }
    }
    let params = serde_json::to_value(params).unwrap_or_default();
    match params.as_object() {
        Some(map) => {
            let ga = check_audio_formats(map, Dialect::Ga, "response");
            let beta = check_audio_formats(map, Dialect::Beta, "response");
            ga.and(beta)
        }
        None => Ok(()),
    }
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

    #[test]
    fn ga_pcm_is_24khz_only_and_beta_formats_are_the_three_named() {
        let e = err(
            r#"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}}}}"#,
            Dialect::Ga,
        );
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("session.audio.input.format.rate"))
        );
        assert_eq!(
            e.message,
            "Invalid value: '16000'. Supported values are: '24000'."
        );
        assert!(parse_client_frame(
            r#"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},"output":{"format":{"type":"audio/pcmu"}}}}}"#,
            Dialect::Ga,
            1024
        )
        .is_ok());
        let e = err(
            r#"{"type":"session.update","session":{"input_audio_format":"pcm8"}}"#,
            Dialect::Beta,
        );
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("session.input_audio_format"))
        );
        assert!(e.message.contains("'pcm16', 'g711_ulaw', and 'g711_alaw'"));
        let e = err(
            r#"{"type":"response.create","response":{"output_audio_format":"pcm8"}}"#,
            Dialect::Beta,
        );
        assert_eq!(e.param.as_deref(), Some("response.output_audio_format"));
    }

    #[test]
    fn wrong_types_name_their_param() {
        let e = err(
            r#"{"type":"input_audio_buffer.append","audio":123}"#,
            Dialect::Ga,
        );
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_type", Some("audio"))
        );
        assert_eq!(
            e.message,
            "Invalid type for 'audio': expected a string, but got an integer instead."
        );
        let e = err(
            r#"{"type":"conversation.item.truncate","item_id":"i","content_index":"0","audio_end_ms":5}"#,
            Dialect::Ga,
        );
        assert_eq!(e.param.as_deref(), Some("content_index"));
    }

    #[test]
    fn response_create_overrides_are_checked() {
        let e = err(
            r#"{"type":"response.create","response":{"conversation":"elsewhere"}}"#,
            Dialect::Ga,
        );
        assert_eq!(e.param.as_deref(), Some("response.conversation"));
        let e = err(
            r#"{"type":"response.create","response":{"metadata":{"n":1}}}"#,
            Dialect::Ga,
        );
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_type", Some("response.metadata.n"))
        );
        assert!(parse_client_frame(
            r#"{"type":"response.create","response":{"conversation":"none","metadata":{"client_event_id":"x"}}}"#,
            Dialect::Ga,
            1024
        )
        .is_ok());
    }
}
