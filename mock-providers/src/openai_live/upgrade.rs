//! The GPT-Live upgrade: which socket a request asks for (a new session, a
//! fork of a stored one, a sideband), how a bad key or an unknown fault name
//! is refused, and the hand-over to the realtime family's one session loop
//! ([`serve_session`]).

use super::route::{live_path, LivePath};
use super::{AttachPolicy, LiveAuthRefusal, LiveProtocol, Socket};
use crate::dashscope::SetupFault;
use crate::engine_choice::SessionStart;
use crate::journal::Journal;
use crate::realtime::{serve_session, sized, Handshake, Refusal};
use crate::session;
use crate::state::{bearer, wanted_cassette, AppState};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;

/// OpenAI GPT-Live: the socket kind comes from the path the client sent
/// (`…/live/sessions`, `…/{id}/fork`, `…/{id}/attach`); the key from the
/// bearer header, refused as [`LiveAuthRefusal`] says. A fork needs a stored
/// session of this mock; a sideband is refused (this mock serves WebSocket
/// sessions only, and attaching to one is refused by the one fake that
/// models it; the service's behaviour is *unconfirmed*).
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    handshake: Handshake,
) -> Response {
    let Handshake {
        headers,
        query,
        upgrade,
        slot,
    } = handshake;
    let settings = match &state.config.engine {
        crate::config::EngineConfig::Respond(config) => (*config.live).clone(),
        crate::config::EngineConfig::Replay(_) => Default::default(),
    };
    let authorised = state.lets_in(bearer(&headers));
    if !authorised && settings.auth_refusal == LiveAuthRefusal::Http401 {
        let body = Json(serde_json::json!({"error": {
            "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}));
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    // A set-up fault on demand, per connection (`X-Understudy-Fault`), as for
    // DashScope; here it answers `session.start`.
    let fault = match headers.get("x-understudy-fault").map(|v| v.to_str()) {
        None => None,
        Some(value) => match value
            .map_err(|e| e.to_string())
            .and_then(SetupFault::parse_or_explain)
        {
            Ok(fault) => Some(fault),
            Err(problem) => {
                let body = Json(serde_json::json!({"error": {
                    "message": format!("X-Understudy-Fault: {problem}"),
                    "type": "invalid_request_error", "param": null, "code": "invalid_value"}}));
                return (StatusCode::BAD_REQUEST, body).into_response();
            }
        },
    };
    let journal = state.journal.clone();
    let (socket, fork_of) = match live_path(uri.path()) {
        Some(LivePath::Fork(id)) => match state.live_store.get(&id) {
            Some(stored) => (Socket::Fork, Some(stored)),
            None => {
                let message = format!(
                    "No stored Live session with id '{id}': forks start from sessions created with store: true."
                );
                return refuse_live(upgrade, journal, settings.fork_missing_code, message);
            }
        },
        Some(LivePath::Attach(id)) => {
            if settings.attach == AttachPolicy::Refuse {
                let message = format!(
                    "Sideband connections attach to WebRTC and SIP sessions; '{id}' is not one (this server serves WebSocket sessions only)."
                );
                return refuse_live(upgrade, journal, settings.attach_refused_code, message);
            }
            let Some(attachment) = state.live_hub.attach(&id) else {
                let message = format!("No running Live session with id '{id}'.");
                return refuse_live(upgrade, journal, settings.fork_missing_code, message);
            };
            let protocol = LiveProtocol {
                socket: Socket::Sideband,
                settings: Arc::new(settings),
                fork_of: None,
            };
            let ctx = crate::openai_live::sideband::SidebandContext {
                journal,
                session_id: id,
                max_frame_bytes: state.config.max_frame_bytes,
                timeouts: state.config.timeouts,
                timeout_close: state.config.timeout_close,
            };
            return sized(upgrade, &state)
                .on_upgrade(move |socket| {
                    crate::openai_live::sideband::serve(socket, attachment, protocol, ctx)
                })
                .into_response();
        }
        _ => (Socket::Primary, None),
    };
    let protocol = LiveProtocol {
        socket,
        settings: Arc::new(settings),
        fork_of,
    };
    let start = SessionStart {
        state: &state,
        number: state.next_session(),
        model: String::new(),
        fault,
        authorised,
        slot: Some(slot),
    };
    serve_session(
        sized(upgrade, &state),
        start,
        protocol,
        wanted_cassette(&query, &headers),
        authorised,
        Refusal::Rejection,
    )
}

/// Accepts the upgrade only to refuse the socket the GPT-Live way: an
/// `error`, then close 1008 (journalled).
fn refuse_live(
    upgrade: WebSocketUpgrade,
    journal: Journal,
    code: &'static str,
    message: String,
) -> Response {
    upgrade
        .on_upgrade(move |mut socket| async move {
            let session = journal.open(understudy_adapters::openai_live::DIALECT, "", "none");
            let error = crate::openai_live::error_text(&crate::protocol::FrameError::new(
                code,
                message.clone(),
            ));
            journal.record(
                session,
                crate::journal::JournalEntry {
                    t_ms: 0,
                    kind: crate::journal::EntryKind::Server,
                    label: "error".into(),
                    detail: error.clone(),
                },
            );
            let _ = socket
                .send(axum::extract::ws::Message::Text(error.into()))
                .await;
            // A close reason is limited to 123 bytes: the code, not the message.
            session::close_with(socket, &journal, session, 1008, code).await;
        })
        .into_response()
}
