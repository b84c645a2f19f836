//! The OpenAI GPT-Live dialect of the mock (`…/live/sessions`, and the
//! `…/live/sessions/{id}/fork` and `…/attach` sockets): validation, the
//! service's error shape, the respond engine, stored sessions for forks, and
//! sidebands (refused by default).
//!
//! Built on the adapters' wire types (`understudy_adapters::openai_live::wire`),
//! so the client codec and this server cannot drift apart. The modules, each
//! with one job:
//!
//! - [`settings`]: the tunable values, every *unconfirmed* point of the
//!   protocol notes with its documented default;
//! - `strict` and `validate`: one frame checked on its own (unknown keys
//!   named by their dotted path, formats, caps);
//! - `audio`: the session's one audio format (G.711 from the adapters);
//! - `respond`: the engine, a sans-IO state machine over the input timeline;
//! - `store`: stored sessions, for forks;
//! - [`sideband`]: running sessions a sideband may attach to (when allowed);
//! - `route`: which socket a path asks for; `upgrade`: the WebSocket upgrade.

mod audio;
pub(crate) mod respond;
pub mod settings;
mod store;
mod strict;
mod validate;

pub(crate) mod route;
pub mod sideband;
pub(crate) mod upgrade;

pub use settings::{AttachPolicy, LiveAuthRefusal, LiveSettings};
pub use sideband::LiveHub;
pub use store::{LiveStore, StoredSession};

use crate::protocol::{base64_pcm16_ms, FrameError, FrameSummary, Protocol, ResponseMarker};
use crate::session::rand_suffix;
use crate::timeline::Outgoing;
use serde_json::Value;
use std::sync::Arc;
use understudy_adapters::openai_live::wire::server::{ErrorBody, ErrorEvent};
use understudy_adapters::openai_live::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai_live::DIALECT;

/// Close code after an `invalid_api_key` error (as the Realtime API on the same host).
pub const CLOSE_INVALID_API_KEY: u16 = 3000;

/// Which kind of socket a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socket {
    /// `…/live/sessions`: a new session, `session.start` with a full config.
    Primary,
    /// `…/live/sessions/{id}/fork`: a new session from a stored one,
    /// `session.start` with overrides only.
    Fork,
    /// `…/live/sessions/{id}/attach`: a sideband on a running session; no
    /// `session.start`, no audio.
    Sideband,
}

/// GPT-Live as the session loop sees it.
#[derive(Debug, Clone)]
pub struct LiveProtocol {
    /// The socket kind (what `session.start` may carry).
    pub socket: Socket,
    /// Caps and codes.
    pub settings: Arc<LiveSettings>,
    /// The stored session a fork socket starts from.
    pub fork_of: Option<StoredSession>,
}

impl LiveProtocol {
    /// A primary-socket protocol with default settings (replay, tools).
    pub fn primary() -> Self {
        LiveProtocol {
            socket: Socket::Primary,
            settings: Arc::new(LiveSettings::default()),
            fork_of: None,
        }
    }
}

/// The GPT-Live responder, for the socket kind the protocol was made for.
impl crate::engine_choice::Respond for LiveProtocol {
    fn responder(
        &self,
        mut config: crate::ResponderConfig,
        start: &crate::engine_choice::SessionStart<'_>,
    ) -> Box<dyn crate::engine::SessionEngine<ClientEvent>> {
        config.live = Box::new((*self.settings).clone());
        let responder = respond::Responder::new(
            config,
            self.socket,
            start.number,
            start.state.live_store.clone(),
            self.fork_of.clone(),
        )
        .with_hub(start.state.live_hub.clone());
        Box::new(responder.with_fault(start.fault))
    }
}

impl Protocol for LiveProtocol {
    type Event = ClientEvent;

    fn name(&self) -> &str {
        DIALECT
    }

    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<ClientEvent, FrameError> {
        validate::parse_client_frame(text, max_frame_bytes, self.socket, &self.settings)
    }

    /// Matched on the type; appends by their kind of `delegation_id` (null
    /// or not), audio by its length (PCM16 24 kHz, the default format).
    fn summarise(&self, event: &ClientEvent) -> FrameSummary {
        let key = match event {
            ClientEvent::InstructionsAppend(a)
            | ClientEvent::ThinkingAppend(a)
            | ClientEvent::CommentaryAppend(a) => {
                serde_json::json!({"delegated": matches!(a.delegation_id, Some(Some(_)))})
            }
            _ => Value::Null,
        };
        let audio_ms = match event {
            ClientEvent::InputAudioAppend(append) => Some(base64_pcm16_ms(&append.audio, 24_000)),
            _ => None,
        };
        FrameSummary {
            event_type: event.event_type().to_owned(),
            key,
            audio_ms,
        }
    }

    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        vec![Outgoing::text("error", error_text(rejection))]
    }

    /// GPT-Live has no responses: nothing starts, ends or interrupts one.
    fn response_marker(&self, _kind: &str) -> Option<ResponseMarker> {
        None
    }

    /// The session timeline is the input audio (see the protocol notes).
    fn input_clocked(&self) -> bool {
        true
    }

    fn auth_failure(&self) -> Vec<Outgoing> {
        let error = FrameError::new(
            "invalid_api_key",
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        );
        vec![
            Outgoing::text("error", error_text(&error)),
            Outgoing::Close {
                code: CLOSE_INVALID_API_KEY,
                reason: "invalid_request_error.invalid_api_key".into(),
            },
        ]
    }

    fn answers(&self, server_type: &str) -> Option<&'static str> {
        answers(server_type)
    }
}

/// Which client command a server event answers (for replay anchoring).
pub fn answers(server_type: &str) -> Option<&'static str> {
    Some(match server_type {
        "session.started" => "session.start",
        "session.updated" => "session.update",
        "session.input_audio.muted" => "session.input_audio.mute",
        "session.input_audio.unmuted" => "session.input_audio.unmute",
        "session.output_audio.fixture.playing" => "session.output_audio.fixture.play",
        "session.instructions.appended" => "session.instructions.append",
        "session.thinking.appended" => "session.thinking.append",
        "session.commentary.appended" => "session.commentary.append",
        "decision.item.created" => "decision.item.create",
        "decision.item.deleted" => "decision.item.delete",
        "session.closed" => "session.close",
        _ => return None,
    })
}

/// The service's `error` event for a refused command: `client_event_id`
/// both at the top and inside `error` (clients check either).
pub fn error_event(
    code: &str,
    message: &str,
    param: Option<&str>,
    client_event_id: Option<&str>,
) -> ServerEvent {
    ServerEvent::Error(ErrorEvent {
        client_event_id: client_event_id.map(str::to_owned),
        error: ErrorBody {
            kind: "invalid_request_error".into(),
            code: Some(code.to_owned()),
            message: message.to_owned(),
            param: param.map(str::to_owned),
            client_event_id: client_event_id.map(str::to_owned),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// A refused frame's `error` event as text, with a fresh `event_id`.
pub fn error_text(rejection: &FrameError) -> String {
    let event = error_event(
        rejection.code,
        &rejection.message,
        rejection.param.as_deref(),
        rejection.event_id.as_deref(),
    );
    let id = format!("event_err{:012x}", rand_suffix());
    match Outgoing::with_event_id("error", &event, id) {
        Outgoing::Text { text, .. } => text.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_services_shape() {
        let error = FrameError::new("unknown_parameter", "Unknown parameter: 'session.voice'.")
            .param("session.voice");
        let error = FrameError {
            event_id: Some("c7".into()),
            ..error
        };
        let json: Value = serde_json::from_str(&error_text(&error)).unwrap();
        assert_eq!(json["type"], "error");
        assert!(json["event_id"].as_str().unwrap().starts_with("event_"));
        assert_eq!(json["client_event_id"], "c7");
        assert_eq!(json["error"]["type"], "invalid_request_error");
        assert_eq!(json["error"]["code"], "unknown_parameter");
        assert_eq!(json["error"]["param"], "session.voice");
        assert_eq!(json["error"]["client_event_id"], "c7");
    }
}
