//! The Gemini Live dialect of the mock
//! (`/ws/google.ai.generativelanguage.<version>.GenerativeService.BidiGenerateContent`):
//! validation, close-code errors and the respond engine.

pub mod calls;
pub mod respond;
pub mod settings;
pub mod setup_rules;

pub use settings::GeminiLiveSettings;

use crate::protocol::{base64_pcm16_ms, FrameError, FrameSummary, Protocol, ResponseMarker};
use crate::timeline::Outgoing;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::{Map, Value};
use understudy_adapters::gemini::codec::rate_of;
use understudy_adapters::gemini::wire::{ClientMessage, RealtimeInput};
use understudy_adapters::gemini::DIALECT;

/// Close code and reason for any malformed or out-of-order message.
pub const INVALID_ARGUMENT: (u16, &str) = (1007, "Request contains an invalid argument.");

/// How the service closes a connection whose lifetime is over (after `goAway`).
pub const LIFETIME_CLOSE: (u16, &str) = (1001, "connection lifetime reached");

/// Top-level keys a client message may have (camelCase and snake_case).
const CLIENT_KEYS: &[&str] = &[
    "setup",
    "clientContent",
    "client_content",
    "realtimeInput",
    "realtime_input",
    "toolResponse",
    "tool_response",
    "contextUpdate",
    "context_update",
];

/// Decodes base64 the way the service does: standard or URL-safe alphabet
/// (the official Python SDK sends URL-safe).
pub fn decode_base64(data: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(data)
        .or_else(|_| URL_SAFE.decode(data))
        .ok()
}

/// Gemini Live as the session loop sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeminiProtocol;

/// What a `realtimeInput` carries (it must carry exactly one thing).
pub fn realtime_kind(input: &RealtimeInput) -> Option<&'static str> {
    let present = [
        (input.audio.is_some(), "audio"),
        (input.video.is_some(), "video"),
        (input.text.is_some(), "text"),
        (input.activity_start.is_some(), "activityStart"),
        (input.activity_end.is_some(), "activityEnd"),
        (input.audio_stream_end.is_some(), "audioStreamEnd"),
        (input.media_chunks.is_some(), "mediaChunks"),
    ];
    let mut kinds = present.iter().filter(|(p, _)| *p).map(|(_, k)| *k);
    match (kinds.next(), kinds.next()) {
        (Some(kind), None) => Some(kind),
        _ => None,
    }
}

impl Protocol for GeminiProtocol {
    type Event = ClientMessage;

    fn name(&self) -> &str {
        DIALECT
    }

    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<ClientMessage, FrameError> {
        let invalid = || FrameError::new("invalid_argument", INVALID_ARGUMENT.1);
        if text.len() > max_frame_bytes {
            return Err(FrameError::new(
                "message_too_large",
                "Request payload size exceeds the limit.",
            ));
        }
        let map: Map<String, Value> = serde_json::from_str(text).map_err(|_| invalid())?;
        let keys: Vec<&String> = map.keys().collect();
        if keys.len() != 1 || !CLIENT_KEYS.contains(&keys[0].as_str()) {
            return Err(invalid());
        }
        let message: ClientMessage =
            serde_json::from_value(Value::Object(map)).map_err(|_| invalid())?;
        if let Some(input) = &message.realtime_input {
            let kind = realtime_kind(input).ok_or_else(invalid)?;
            let blobs = input
                .audio
                .iter()
                .chain(input.video.iter())
                .chain(input.media_chunks.iter().flatten());
            for blob in blobs {
                if blob.data.as_deref().and_then(decode_base64).is_none() {
                    return Err(invalid().param(format!("realtimeInput.{kind}.data")));
                }
            }
        }
        Ok(message)
    }

    fn summarise(&self, message: &ClientMessage) -> FrameSummary {
        let (event_type, audio_ms) = if message.setup.is_some() {
            ("setup".to_owned(), None)
        } else if message.client_content.is_some() {
            ("clientContent".to_owned(), None)
        } else if message.tool_response.is_some() {
            ("toolResponse".to_owned(), None)
        } else if message.context_update.is_some() {
            ("contextUpdate".to_owned(), None)
        } else if let Some(input) = &message.realtime_input {
            let audio = input.audio.as_ref().map(|blob| {
                let rate = blob
                    .mime_type
                    .as_deref()
                    .and_then(rate_of)
                    .unwrap_or(16_000);
                base64_pcm16_ms(blob.data.as_deref().unwrap_or(""), rate)
            });
            (
                format!(
                    "realtimeInput.{}",
                    realtime_kind(input).unwrap_or("unknown")
                ),
                audio,
            )
        } else {
            ("unknown".to_owned(), None)
        };
        // A resumed session is matched on its handle: the handle says which
        // recorded conversation the new connection continues.
        let key = message
            .setup
            .as_ref()
            .and_then(|setup| setup.session_resumption.as_ref())
            .and_then(|resumption| resumption.handle.as_deref())
            .map_or(
                Value::Null,
                |handle| serde_json::json!({ "sessionResumption.handle": handle }),
            );
        FrameSummary {
            event_type,
            key,
            audio_ms,
        }
    }

    /// `goAway {timeLeft}` promises a close when the time is up.
    fn announced_close(&self, message: &Value) -> Option<(std::time::Duration, Outgoing)> {
        let go_away = message.get("goAway").or_else(|| message.get("go_away"))?;
        let left = go_away
            .get("timeLeft")
            .or_else(|| go_away.get("time_left"))
            .and_then(Value::as_str)
            .and_then(understudy_adapters::gemini::codec::duration_ms)?;
        Some((
            std::time::Duration::from_millis(left),
            Outgoing::Close {
                code: LIFETIME_CLOSE.0,
                reason: LIFETIME_CLOSE.1.into(),
            },
        ))
    }

    /// Gemini has no error event: it closes with 1007 and a reason.
    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        let reason = if rejection.code == "message_too_large" {
            rejection.message.clone()
        } else {
            INVALID_ARGUMENT.1.to_owned()
        };
        vec![Outgoing::Close {
            code: INVALID_ARGUMENT.0,
            reason,
        }]
    }

    /// A bad key is answered after `setup` (close 1007), by the engine.
    fn auth_failure(&self) -> Vec<Outgoing> {
        Vec::new()
    }

    fn answers(&self, server_kind: &str) -> Option<&'static str> {
        (server_kind == "setupComplete").then_some("setup")
    }

    /// The first top-level key, with `serverContent`'s first field
    /// (`serverContent.modelTurn`, `serverContent.turnComplete`, …).
    fn kind_of(&self, message: &Value) -> String {
        let Some((key, value)) = message.as_object().and_then(|m| m.iter().next()) else {
            return String::new();
        };
        match (
            key.as_str(),
            value.as_object().and_then(|v| v.keys().next()),
        ) {
            ("serverContent", Some(field)) => format!("serverContent.{field}"),
            _ => key.clone(),
        }
    }

    fn response_marker(&self, kind: &str) -> Option<ResponseMarker> {
        match kind {
            "serverContent.modelTurn" | "toolCall" => Some(ResponseMarker::Start),
            "serverContent.turnComplete" => Some(ResponseMarker::End),
            // Both are caused by the user's speech, not by the turn in progress.
            "serverContent.interrupted" | "toolCallCancellation" => Some(ResponseMarker::Speech),
            _ => None,
        }
    }

    fn continues_response(&self, client_type: &str) -> bool {
        client_type == "toolResponse"
    }

    fn binary_json(&self) -> bool {
        true
    }
}

/// Gemini Live answers with the Gemini responder, which refuses a bad key
/// itself (after `setup`) and keeps conversations for resumption on the mock.
impl crate::engine_choice::Respond for GeminiProtocol {
    fn responder(
        &self,
        config: crate::ResponderConfig,
        start: &crate::engine_choice::SessionStart<'_>,
    ) -> Box<dyn crate::engine::SessionEngine<ClientMessage>> {
        let settings = respond::GeminiSettings {
            connection_limit: start.state.config.connection_limit,
            store: start.state.resumption.clone(),
        };
        Box::new(respond::GeminiResponder::new(
            config,
            settings,
            start.authorised,
            start.number,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::registry::recognise::is_live_path;

    #[test]
    fn one_key_either_case_both_alphabets() {
        let p = GeminiProtocol;
        assert!(p.parse(r#"{"realtime_input":{"audio":{"data":"AAE-_w==","mime_type":"audio/pcm;rate=16000"}}}"#, 1 << 20).is_ok());
        assert!(p
            .parse(r#"{"realtimeInput":{"audioStreamEnd":true}}"#, 1 << 20)
            .is_ok());
        for bad in [
            "{nope",
            r#"{"setup":{},"clientContent":{}}"#,
            r#"{"type":"session.update"}"#,
            r#"{"realtimeInput":{"text":"a","audioStreamEnd":true}}"#,
            r#"{"realtimeInput":{"audio":{"data":"%%%"}}}"#,
        ] {
            assert!(p.parse(bad, 1 << 20).is_err(), "{bad}");
        }
        let close = p.rejection(&p.parse("{nope", 1 << 20).unwrap_err());
        assert_eq!(
            close,
            vec![Outgoing::Close {
                code: 1007,
                reason: "Request contains an invalid argument.".into()
            }]
        );
    }

    #[test]
    fn the_live_path_matches_any_version_prefix_and_double_slash() {
        assert!(is_live_path(
            "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
        ));
        assert!(is_live_path(
            "//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent"
        ));
        assert!(is_live_path("/proxy/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained"));
        assert!(!is_live_path("/v1/realtime"));
    }

    #[test]
    fn message_kinds_name_server_content_fields() {
        let p = GeminiProtocol;
        assert_eq!(
            p.kind_of(
                &serde_json::json!({"serverContent": {"turnComplete": true}, "usageMetadata": {}})
            ),
            "serverContent.turnComplete"
        );
        assert_eq!(
            p.kind_of(&serde_json::json!({"setupComplete": {}})),
            "setupComplete"
        );
    }
}
