//! The OpenAI Realtime dialects of the mock (GA, and the retired beta — refused
//! like the service unless legacy is on, see [`retired`]): validation, the
//! provider's error and auth-failure shapes, and the respond engine.

pub mod plan;
pub mod recall;
pub mod reply;
pub mod respond;
pub mod retired;
pub mod validate;

use crate::protocol::{summarise_openai_family, FrameError, FrameSummary, Protocol};
use crate::session::rand_suffix;
use crate::timeline::Outgoing;
use serde_json::json;
use std::sync::Arc;
use understudy_adapters::openai::wire::ClientEvent;
use understudy_adapters::openai::Dialect;

/// Close code the hosted service uses after an `invalid_api_key` error.
pub const CLOSE_INVALID_API_KEY: u16 = 3000;

/// Input audio rate of both dialects.
pub const INPUT_RATE: u32 = 24_000;

/// OpenAI Realtime in one dialect, as the session loop sees it.
#[derive(Debug, Clone, Copy)]
pub struct OpenAiProtocol {
    /// GA or beta.
    pub dialect: Dialect,
}

impl Protocol for OpenAiProtocol {
    type Event = ClientEvent;

    fn name(&self) -> &str {
        self.dialect.name()
    }

    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<ClientEvent, FrameError> {
        validate::parse_client_frame(text, self.dialect, max_frame_bytes)
    }

    fn summarise(&self, event: &ClientEvent) -> FrameSummary {
        summarise_openai_family(event, INPUT_RATE)
    }

    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        vec![Outgoing::text("error", self.error_text(rejection))]
    }

    fn auth_failure(&self) -> Vec<Outgoing> {
        let error = error_frame(
            "invalid_api_key",
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            None,
            None,
        );
        vec![
            Outgoing::Text {
                event_type: Arc::from("error"),
                text: Arc::from(error),
            },
            Outgoing::Close {
                code: CLOSE_INVALID_API_KEY,
                reason: "invalid_request_error.invalid_api_key".into(),
            },
        ]
    }
}

impl OpenAiProtocol {
    /// The provider's `error` event for a refused frame, as text.
    pub fn error_text(&self, rejection: &FrameError) -> String {
        error_frame(
            rejection.code,
            &rejection.message,
            rejection.param.as_deref(),
            rejection.event_id.as_deref(),
        )
    }
}

/// An OpenAI `error` event as text.
pub fn error_frame(
    code: &str,
    message: &str,
    param: Option<&str>,
    event_id: Option<&str>,
) -> String {
    json!({
        "type": "error",
        "event_id": format!("event_err{:012x}", rand_suffix()),
        "error": {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": param,
            "event_id": event_id,
        }
    })
    .to_string()
}

/// The OpenAI Realtime responder: the dialect the protocol speaks, the
/// model the client asked for.
impl crate::engine_choice::Respond for OpenAiProtocol {
    fn responder(
        &self,
        config: crate::ResponderConfig,
        start: &crate::engine_choice::SessionStart<'_>,
    ) -> Box<dyn crate::engine::SessionEngine<ClientEvent>> {
        Box::new(respond::Responder::new(
            self.dialect,
            &start.model,
            config,
            start.number,
        ))
    }
}
