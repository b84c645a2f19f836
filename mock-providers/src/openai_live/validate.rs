//! Checking one GPT-Live client frame on its own, before the engine sees it:
//! the envelope (JSON object, known `type` — an unknown one is answered with
//! the list of supported commands), the strict key check of [`super::strict`],
//! the shared wire types, and the rules the protocol notes give for values
//! (audio formats, delegation types, history shape, append caps, base64
//! audio, fixture length). What depends on the session's state (a command
//! before `session.start`, an append during a fixture, `response.*` under
//! client delegation) is the engine's to refuse.

use super::settings::{approx_tokens, LiveSettings};
use super::strict::{self, invalid, FORK_CONFIG, SESSION_CONFIG, UPDATE_CONFIG};
use super::Socket;
use crate::protocol::{check_envelope, serde_rejection, FrameError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use understudy_adapters::openai_live::wire::ClientEvent;

/// Instructions cap, in tokens (documented: 16,384).
const INSTRUCTIONS_TOKENS: usize = 16_384;
/// Startup history cap, in messages (documented: 128).
const INPUT_ITEMS: usize = 128;
/// Longest fixture: 30 s of PCM16 at 24 kHz, in bytes.
const FIXTURE_BYTES: usize = 30 * 24_000 * 2;
/// Keys `session.update` may not carry because they cannot change after start.
const IMMUTABLE: &[&str] = &[
    "model",
    "instructions",
    "audio",
    "input",
    "store",
    "safety_identifier",
];

/// Parses and checks one client text frame on a socket of `socket` kind.
pub(crate) fn parse_client_frame(
    text: &str,
    max_frame_bytes: usize,
    socket: Socket,
    settings: &LiveSettings,
) -> Result<ClientEvent, FrameError> {
    let (event_type, map) = check_envelope(text, max_frame_bytes, ClientEvent::KNOWN_TYPES)?;
    let event_id = map
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    check(&event_type, map, socket, settings).map_err(|mut e| {
        e.event_id = event_id;
        e
    })
}

fn check(
    event_type: &str,
    map: Map<String, Value>,
    socket: Socket,
    settings: &LiveSettings,
) -> Result<ClientEvent, FrameError> {
    let allowed = strict::command_keys(event_type);
    if let Some(key) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "event_id") && !allowed.contains(&k.as_str()))
    {
        return Err(strict::unknown(key));
    }
    if socket == Socket::Sideband
        && matches!(event_type, "session.start" | "session.input_audio.append")
    {
        return Err(invalid(
            "type",
            format!("{event_type} is not accepted on a sideband connection: the session has started and its audio comes from the primary transport."),
        ));
    }
    if event_type == "transport.dtmf.send" {
        return Err(invalid(
            "type",
            "transport.dtmf.send is only accepted on the sideband connection of a SIP session."
                .into(),
        ));
    }
    if event_type == "decision.create" && !map.get("event_id").is_some_and(Value::is_string) {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'event_id'. decision.create needs an event_id that is unique for the session.",
        )
        .param("event_id"));
    }
    if matches!(
        event_type,
        "session.instructions.append" | "session.thinking.append" | "session.commentary.append"
    ) && !map.contains_key("delegation_id")
    {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'delegation_id'. Send null for general context.",
        )
        .param("delegation_id"));
    }
    let raw = Value::Object(map);
    match event_type {
        "session.start" => check_start(raw.get("session"), socket)?,
        "session.update" => check_update(raw.get("session"))?,
        _ => {}
    }
    let event: ClientEvent = serde_json::from_value(raw).map_err(|e| serde_rejection(&e))?;
    match &event {
        ClientEvent::InputAudioAppend(append) => decode_audio(&append.audio, "audio").map(drop)?,
        ClientEvent::OutputAudioFixturePlay(play) => {
            let bytes = decode_audio(&play.audio, "audio")?;
            if bytes.len() > FIXTURE_BYTES {
                return Err(invalid(
                    "audio",
                    format!(
                        "The fixture is {:.1} seconds long; fixtures are at most 30 seconds of PCM16 at 24 kHz.",
                        bytes.len() as f64 / 48_000.0
                    ),
                ));
            }
        }
        ClientEvent::InstructionsAppend(append)
        | ClientEvent::ThinkingAppend(append)
        | ClientEvent::CommentaryAppend(append) => {
            let tokens = approx_tokens(&append.content);
            if tokens > settings.append_token_cap {
                return Err(FrameError::new(
                    settings.oversize_append_code,
                    format!(
                        "Invalid 'content': the content is about {tokens} tokens, more than the maximum of {} tokens.",
                        settings.append_token_cap
                    ),
                )
                .param("content"));
            }
        }
        _ => {}
    }
    Ok(event)
}

/// The audio of an append or fixture, decoded; bad base64 is refused.
pub(crate) fn decode_audio(encoded: &str, param: &str) -> Result<Vec<u8>, FrameError> {
    STANDARD
        .decode(encoded)
        .map_err(|e| invalid(param, format!("Invalid '{param}': not valid base64 ({e}).")))
}

fn check_start(session: Option<&Value>, socket: Socket) -> Result<(), FrameError> {
    let Some(session) = session else {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'session'.",
        )
        .param("session"));
    };
    let shape = match socket {
        Socket::Primary | Socket::Sideband => SESSION_CONFIG,
        Socket::Fork => FORK_CONFIG,
    };
    strict::check(session, shape, "session")?;
    if socket == Socket::Primary {
        match session.get("model") {
            Some(Value::String(model)) if !model.trim().is_empty() => {}
            Some(Value::String(_)) => {
                return Err(invalid(
                    "session.model",
                    "Invalid 'session.model': empty string.".into(),
                ))
            }
            _ => {
                return Err(FrameError::new(
                    "missing_required_parameter",
                    "Missing required parameter: 'session.model'.",
                )
                .param("session.model"))
            }
        }
    }
    if let Some(instructions) = session.get("instructions").and_then(Value::as_str) {
        let tokens = approx_tokens(instructions);
        if tokens > INSTRUCTIONS_TOKENS {
            return Err(invalid(
                "session.instructions",
                format!("Invalid 'session.instructions': about {tokens} tokens, more than the maximum of {INSTRUCTIONS_TOKENS}."),
            ));
        }
    }
    if let Some(format) = session.pointer("/audio/format").filter(|f| !f.is_null()) {
        check_format(format)?;
    }
    if let Some(delegation) = session.get("delegation").filter(|d| !d.is_null()) {
        check_delegation(delegation, socket == Socket::Fork, true)?;
    }
    if let Some(Value::Array(items)) = session.get("input") {
        check_input(items)?;
    }
    Ok(())
}

fn check_update(session: Option<&Value>) -> Result<(), FrameError> {
    let Some(session) = session else {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'session'.",
        )
        .param("session"));
    };
    if let Some(key) = session
        .as_object()
        .and_then(|m| m.keys().find(|k| IMMUTABLE.contains(&k.as_str())))
    {
        let param = format!("session.{key}");
        return Err(FrameError::new(
            "immutable_field_update",
            format!("'{param}' cannot be changed after the session has started."),
        )
        .param(param));
    }
    strict::check(session, UPDATE_CONFIG, "session")?;
    if let Some(delegation) = session.get("delegation") {
        if delegation.is_null() {
            return Err(FrameError::new(
                "immutable_field_update",
                "The delegation type cannot be changed after the session has started.",
            )
            .param("session.delegation"));
        }
        check_delegation(delegation, false, false)?;
    }
    Ok(())
}

fn check_format(format: &Value) -> Result<(), FrameError> {
    let kind = format
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let rate = format.get("rate").and_then(Value::as_u64);
    let ok = match kind {
        "audio/pcm" => matches!(rate, None | Some(16_000 | 24_000)),
        "audio/pcmu" | "audio/pcma" => matches!(rate, None | Some(8_000)),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(invalid(
        "session.audio.format",
        format!(
            "Invalid 'session.audio.format': {format}. Supported formats are audio/pcm at 16000 or 24000 Hz, and audio/pcmu or audio/pcma at 8000 Hz."
        ),
    ))
}

fn check_delegation(delegation: &Value, fork: bool, start: bool) -> Result<(), FrameError> {
    let kind = delegation
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let allowed: &[&str] = if fork {
        &["responses"]
    } else {
        &["client", "responses", "decisions"]
    };
    if !allowed.contains(&kind) {
        let list = allowed
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(invalid(
            "session.delegation.type",
            format!("Invalid value: '{kind}'. Supported values are: {list}."),
        ));
    }
    let needs_model = start && !fork && kind == "responses";
    if needs_model
        && !delegation
            .pointer("/responses/model")
            .is_some_and(Value::is_string)
    {
        return Err(FrameError::new(
            "missing_required_parameter",
            "Missing required parameter: 'session.delegation.responses.model'.",
        )
        .param("session.delegation.responses.model"));
    }
    Ok(())
}

fn check_input(items: &[Value]) -> Result<(), FrameError> {
    if items.len() > INPUT_ITEMS {
        return Err(invalid(
            "session.input",
            format!(
                "Invalid 'session.input': {} items, more than the maximum of {INPUT_ITEMS}.",
                items.len()
            ),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let role = item.get("role").and_then(Value::as_str).unwrap_or_default();
        if !matches!(role, "developer" | "user" | "assistant") {
            return Err(invalid(
                &format!("session.input[{i}].role"),
                format!("Invalid value: '{role}'. Supported values are: 'developer', 'user', 'assistant'."),
            ));
        }
        let parts = item
            .get("content")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if parts != 1 {
            return Err(invalid(
                &format!("session.input[{i}].content"),
                format!("Invalid 'session.input[{i}].content': expected exactly one text part, got {parts}."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClientEvent, FrameError> {
        parse_client_frame(text, 1 << 20, Socket::Primary, &LiveSettings::default())
    }

    #[test]
    fn the_sdk_frames_of_the_protocol_notes_parse() {
        for frame in [
            r#"{"type": "session.start", "session": {"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}}, "delegation": {"type": "client"}, "instructions": "Be brief."}, "event_id": "c1"}"#,
            r#"{"type": "session.input_audio.append", "audio": "AAAA"}"#,
            r#"{"type": "session.instructions.append", "content": "hello", "delegation_id": null}"#,
            r#"{"type": "session.thinking.append", "content": "t", "delegation_id": "del_1", "event_id": "c2"}"#,
            r#"{"type": "session.output_audio.fixture.play", "audio": "AAAA"}"#,
            r#"{"type": "session.update", "session": {"delegation": {"type": "client", "acknowledgement_delay_ms": 100}}}"#,
            r#"{"type": "response.item.create", "item": {"type": "function_call_output", "call_id": "call_1", "output": "{}"}}"#,
            r#"{"type": "response.create"}"#,
            r#"{"type": "decision.create", "event_id": "d1"}"#,
            r#"{"type": "session.close"}"#,
        ] {
            parse(frame).unwrap_or_else(|e| panic!("{frame}: {e:?}"));
        }
    }

    #[test]
    fn bad_frames_get_the_services_codes_with_the_client_event_id() {
        let cases = [
            (
                r#"{"type":"session.start","event_id":"c1","session":{"model":"gpt-live-1","voice":"marin"}}"#,
                "unknown_parameter",
                Some("session.voice"),
            ),
            (
                r#"{"type":"session.start","session":{"instructions":"x"}}"#,
                "missing_required_parameter",
                Some("session.model"),
            ),
            (
                r#"{"type":"session.start","session":{"model":"m","audio":{"format":{"type":"audio/pcm","rate":8000}}}}"#,
                "invalid_value",
                Some("session.audio.format"),
            ),
            (
                r#"{"type":"session.start","session":{"model":"m","delegation":{"type":"tools"}}}"#,
                "invalid_value",
                Some("session.delegation.type"),
            ),
            (
                r#"{"type":"session.start","session":{"model":"m","delegation":{"type":"responses","responses":{}}}}"#,
                "missing_required_parameter",
                Some("session.delegation.responses.model"),
            ),
            (
                r#"{"type":"session.update","session":{"instructions":"x"}}"#,
                "immutable_field_update",
                Some("session.instructions"),
            ),
            (
                r#"{"type":"session.commentary.append","content":"x"}"#,
                "missing_required_parameter",
                Some("delegation_id"),
            ),
            (
                r#"{"type":"session.input_audio.append","audio":"@@@"}"#,
                "invalid_value",
                Some("audio"),
            ),
            (
                r#"{"type":"session.close","reason":"x"}"#,
                "unknown_parameter",
                Some("reason"),
            ),
            (
                r#"{"type":"decision.create"}"#,
                "missing_required_parameter",
                Some("event_id"),
            ),
            (
                r#"{"type":"session.input_audio.commit"}"#,
                "invalid_value",
                Some("type"),
            ),
        ];
        for (frame, code, param) in cases {
            let error = parse(frame).expect_err(frame);
            assert_eq!(error.code, code, "{frame}: {}", error.message);
            assert_eq!(error.param.as_deref(), param, "{frame}");
        }
        let error = parse(
            r#"{"type":"session.start","event_id":"c1","session":{"model":"m","voice":"x"}}"#,
        )
        .unwrap_err();
        assert_eq!(error.event_id.as_deref(), Some("c1"));
        let listing = parse(r#"{"type":"input_audio_buffer.append","audio":""}"#).unwrap_err();
        assert!(
            listing.message.contains("'session.start'"),
            "{}",
            listing.message
        );
    }

    #[test]
    fn appends_are_capped_at_the_configured_tokens() {
        let within = format!(
            r#"{{"type":"session.commentary.append","content":"{}","delegation_id":null}}"#,
            "word ".repeat(500)
        );
        assert!(parse(&within).is_ok());
        let over = format!(
            r#"{{"type":"session.commentary.append","content":"{}","delegation_id":null}}"#,
            "word ".repeat(501)
        );
        let error = parse(&over).unwrap_err();
        assert_eq!(error.code, LiveSettings::default().oversize_append_code);
        assert_eq!(error.param.as_deref(), Some("content"));
    }

    #[test]
    fn a_fork_start_takes_overrides_only() {
        let fork =
            |text: &str| parse_client_frame(text, 1 << 20, Socket::Fork, &LiveSettings::default());
        assert!(fork(r#"{"type":"session.start","session":{}}"#).is_ok());
        let error =
            fork(r#"{"type":"session.start","session":{"model":"gpt-live-1"}}"#).unwrap_err();
        assert_eq!(error.param.as_deref(), Some("session.model"));
        let error = fork(r#"{"type":"session.start","session":{"delegation":{"type":"client"}}}"#)
            .unwrap_err();
        assert_eq!(error.param.as_deref(), Some("session.delegation.type"));
    }
}
