//! The retired OpenAI Realtime beta, answered the way the service answers it now.
//!
//! OpenAI shut the Realtime beta down in May–June 2026. A connection that asks
//! for the beta shape (`OpenAI-Beta: realtime=v1`) now gets an `error` event
//! (`invalid_request_error` / `beta_api_shape_disabled`) as its first frame —
//! no `session.created` — and close 4000 with reason
//! `invalid_request_error.beta_api_shape_disabled` (protocol notes,
//! `openai-gpt-live.md` Appendix A). A mock that still served the beta would let
//! an application on the beta pass its tests and fail in production, so the
//! mock refuses it by default. [`BetaPolicy::legacy`] keeps the old beta
//! dialect for old cassettes and old clients (`serve --legacy-beta`).
//!
//! Two points are unconfirmed and are options with documented defaults:
//! whether the `openai-beta.realtime-v1` browser subprotocol is refused like the
//! header ([`BetaPolicy::refuse_subprotocol`], default yes), and whether the
//! refusal is an HTTP 500 at the handshake instead ([`BetaRefusal::Http500`],
//! default no).

use crate::journal::{EntryKind, Journal, JournalEntry};
use crate::openai::error_frame;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use understudy_adapters::openai::Dialect;

/// The error code the service answers a beta-shaped session with.
pub const BETA_DISABLED_CODE: &str = "beta_api_shape_disabled";

/// The service's message for a beta-shaped session.
pub const BETA_DISABLED_MESSAGE: &str =
    "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.";

/// The close code after the refusal.
pub const CLOSE_BETA_DISABLED: u16 = 4000;

/// The close reason after the refusal.
pub const CLOSE_BETA_DISABLED_REASON: &str = "invalid_request_error.beta_api_shape_disabled";

/// How a refused beta session is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BetaRefusal {
    /// The upgrade succeeds; the first frame is the `error` event, then close
    /// 4000 (what first-hand captures show; the default).
    #[default]
    ErrorThenClose,
    /// HTTP 500 at the handshake, no WebSocket (reported, unconfirmed).
    Http500,
}

impl std::str::FromStr for BetaRefusal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "close-4000" => Ok(BetaRefusal::ErrorThenClose),
            "http-500" => Ok(BetaRefusal::Http500),
            other => Err(format!(
                "unknown beta refusal `{other}` (expected close-4000 or http-500)"
            )),
        }
    }
}

/// What the mock does with a session that asks for the retired beta shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BetaPolicy {
    /// Serve the beta dialect as it was while the beta was live (old
    /// cassettes, old clients). Default: no, refuse like the service.
    pub legacy: bool,
    /// How a refusal looks. Default: `error` event then close 4000.
    pub refusal: BetaRefusal,
    /// Whether asking for the beta only by the `openai-beta.realtime-v1`
    /// browser subprotocol is refused like the header (unconfirmed; default
    /// yes). When not refused, such a session gets the legacy beta dialect.
    pub refuse_subprotocol: bool,
}

impl Default for BetaPolicy {
    fn default() -> Self {
        BetaPolicy {
            legacy: false,
            refusal: BetaRefusal::default(),
            refuse_subprotocol: true,
        }
    }
}

impl BetaPolicy {
    /// The beta dialect served as it used to be (`serve --legacy-beta`).
    pub fn legacy() -> Self {
        BetaPolicy {
            legacy: true,
            ..BetaPolicy::default()
        }
    }

    /// How to refuse a session that asked for `dialect` (by the header or only
    /// by the subprotocol), or `None` to serve it.
    pub fn refusal_for(&self, dialect: Dialect, by_subprotocol_only: bool) -> Option<BetaRefusal> {
        let refused = dialect == Dialect::Beta
            && !self.legacy
            && (!by_subprotocol_only || self.refuse_subprotocol);
        refused.then_some(self.refusal)
    }
}

/// The `error` event a beta-shaped session gets as its first frame.
pub fn beta_disabled_frame() -> String {
    error_frame(BETA_DISABLED_CODE, BETA_DISABLED_MESSAGE, None, None)
}

/// Refuses a beta-shaped session as `refusal` says, journalled as a session
/// of the beta dialect with engine `refused:beta`.
pub fn refuse(
    upgrade: WebSocketUpgrade,
    refusal: BetaRefusal,
    journal: Journal,
    model: String,
) -> Response {
    let dialect = Dialect::Beta.name();
    match refusal {
        BetaRefusal::Http500 => {
            let session = journal.open(dialect, &model, "refused:beta");
            note(&journal, session, "HTTP 500 at the handshake");
            journal.close(session);
            let body = Json(serde_json::json!({
                "error": {
                    "type": "server_error",
                    "code": BETA_DISABLED_CODE,
                    "message": BETA_DISABLED_MESSAGE,
                    "param": null,
                }
            }));
            (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
        }
        BetaRefusal::ErrorThenClose => upgrade
            .on_upgrade(move |mut socket| async move {
                let session = journal.open(dialect, &model, "refused:beta");
                note(&journal, session, BETA_DISABLED_CODE);
                let frame = beta_disabled_frame();
                record(&journal, session, EntryKind::Server, "error", frame.clone());
                let _ = socket.send(Message::Text(frame.into())).await;
                crate::session::close_with(
                    socket,
                    &journal,
                    session,
                    CLOSE_BETA_DISABLED,
                    CLOSE_BETA_DISABLED_REASON,
                )
                .await;
            })
            .into_response(),
    }
}

/// Journals one entry of the refused session.
fn record(journal: &Journal, session: u64, kind: EntryKind, label: &str, detail: String) {
    let entry = JournalEntry {
        t_ms: 0,
        kind,
        label: label.into(),
        detail,
    };
    journal.record(session, entry);
}

fn note(journal: &Journal, session: u64, detail: &str) {
    let detail = format!("retired Realtime beta: {detail}");
    record(journal, session, EntryKind::Note, "refused", detail);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_refuses_header_and_subprotocol_legacy_serves_both() {
        let policy = BetaPolicy::default();
        assert_eq!(
            policy.refusal_for(Dialect::Beta, false),
            Some(BetaRefusal::ErrorThenClose)
        );
        assert_eq!(
            policy.refusal_for(Dialect::Beta, true),
            Some(BetaRefusal::ErrorThenClose)
        );
        assert_eq!(policy.refusal_for(Dialect::Ga, false), None);
        let legacy = BetaPolicy::legacy();
        assert_eq!(legacy.refusal_for(Dialect::Beta, false), None);
        assert_eq!(legacy.refusal_for(Dialect::Beta, true), None);
        let lenient = BetaPolicy {
            refuse_subprotocol: false,
            ..BetaPolicy::default()
        };
        assert_eq!(lenient.refusal_for(Dialect::Beta, true), None);
        assert!(lenient.refusal_for(Dialect::Beta, false).is_some());
    }

    #[test]
    fn refusal_frame_is_the_services() {
        let frame: serde_json::Value = serde_json::from_str(&beta_disabled_frame()).expect("json");
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["error"]["type"], "invalid_request_error");
        assert_eq!(frame["error"]["code"], BETA_DISABLED_CODE);
        assert_eq!(frame["error"]["message"], BETA_DISABLED_MESSAGE);
        assert!(frame["error"]["param"].is_null());
        assert_eq!("http-500".parse(), Ok(BetaRefusal::Http500));
        assert!("nope".parse::<BetaRefusal>().is_err());
    }
}
