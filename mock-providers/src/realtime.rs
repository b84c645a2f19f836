//! The realtime WebSocket family: OpenAI Realtime, DashScope realtime
//! (Qwen-Omni and Qwen-TTS) and Gemini Live, each behind its upgrade.
//!
//! Which paths are whose ([`claim`], tried in this order; a trailing `/` is
//! ignored):
//!
//! | path | dialect |
//! | --- | --- |
//! | `…/ws/…google.ai.generativelanguage.*.GenerativeService.BidiGenerateContent[Constrained]` | Gemini Live |
//! | `…/api-ws/v1/realtime` (any prefix) | DashScope; `?model=` picks Omni, Qwen-Audio or TTS |
//! | `…/realtime` (any prefix, `/realtime` alone too) | OpenAI Realtime |
//! | `…/live/sessions`, `…/live/sessions/{id}/fork`, `…/live/sessions/{id}/attach` | OpenAI GPT-Live |
//!
//! Each upgrade reads the request the way its provider does — the key
//! ([`crate::state`]), the model, the beta header, a per-connection fault —
//! numbers the session and hands it to [`serve_session`], which lets
//! [`crate::engine_choice::choose`] pick the engine and runs the one session
//! loop every dialect runs through. A request that is not a WebSocket upgrade
//! gets a 400.

use crate::dashscope::{self, DashScopeProtocol, SetupFault};
use crate::engine_choice::{choose, EngineError, Respond, SessionStart};
use crate::gemini::GeminiProtocol;
use crate::journal::Journal;
use crate::limits::ErrorShape;
use crate::openai::{retired, OpenAiProtocol};
use crate::openai_live::route::live_path;
use crate::server::Mount;
use crate::session::{self, SessionContext};
use crate::state::{
    bearer, key_from, query_map, subprotocol_key, wanted_cassette, AppState, GEMINI_LIVE_KEY,
};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::Arc;
use understudy_adapters::dashscope::DIALECT;
use understudy_adapters::openai::Dialect;
use understudy_adapters::serve_limits::SessionSlot;

/// Where the OpenAI Realtime upgrade is mounted; refusals in OpenAI's shape.
const OPENAI: Mount = Mount::new("/__understudy/mount/realtime/openai", ErrorShape::OpenAi);
/// Where the DashScope realtime upgrade is mounted; refusals in DashScope's shape.
const DASHSCOPE: Mount = Mount::new(
    "/__understudy/mount/realtime/dashscope",
    ErrorShape::DashScope,
);
/// Where the Gemini Live upgrade is mounted; refusals in Google's shape.
const GEMINI_LIVE: Mount = Mount::new("/__understudy/mount/realtime/gemini", ErrorShape::Gemini);
/// Where the OpenAI GPT-Live upgrade is mounted; refusals in OpenAI's shape.
const OPENAI_LIVE: Mount = Mount::new(
    "/__understudy/mount/realtime/openai-live",
    ErrorShape::OpenAi,
);

/// Which upgrade serves each provider's realtime dialects, by dialect id or
/// else by provider (OpenAI GA and beta share one, as Qwen-Omni and Qwen-TTS
/// do: the upgrade tells them apart from the headers and the model; GPT-Live,
/// an OpenAI dialect of its own, has its own). Each mount carries the error
/// shape of the provider it speaks for (the `429` past `--max-sessions`, the
/// `408` of a late body), so nothing reads it back from the path.
const MOUNTS: &[(&str, Mount)] = &[
    (understudy_adapters::openai_live::DIALECT, OPENAI_LIVE),
    ("openai", OPENAI),
    ("dashscope", DASHSCOPE),
    ("gemini", GEMINI_LIVE),
];

/// The route serving `path`, if it is a realtime WebSocket path (any method:
/// a request that is not an upgrade is answered with a 400 there). The
/// adapters' registry recognises the path, as it does for the recorder.
///
/// GPT-Live's per-session sockets (`…/live/sessions/{id}/fork` and
/// `…/attach`) are read by its mock folder ([`live_path`]).
pub(crate) fn claim(_method: &Method, path: &str) -> Option<&'static Mount> {
    let Some(dialect) = understudy_adapters::registry::recognise_websocket(path, &HeaderMap::new())
    else {
        return live_path(path).map(|_| &OPENAI_LIVE);
    };
    mount_of(dialect)
}

/// The upgrade serving `dialect`: its own, else its provider's.
fn mount_of(dialect: &understudy_adapters::registry::DialectSpec) -> Option<&'static Mount> {
    MOUNTS
        .iter()
        .find(|(key, _)| *key == dialect.id)
        .or_else(|| MOUNTS.iter().find(|(key, _)| *key == dialect.provider))
        .map(|(_, mount)| mount)
}

/// The family's routes, at the paths [`claim`] mounts requests on.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(OPENAI.path, any(openai_upgrade))
        .route(DASHSCOPE.path, any(dashscope_upgrade))
        .route(GEMINI_LIVE.path, any(gemini_upgrade))
        .route(OPENAI_LIVE.path, any(crate::openai_live::upgrade::upgrade))
}

/// A WebSocket handshake as every upgrade reads it: the headers, the query,
/// and the upgrade itself. A request that is not an upgrade is rejected with
/// a 400 before any handler runs.
pub(crate) struct Handshake {
    pub(crate) headers: HeaderMap,
    pub(crate) query: HashMap<String, String>,
    pub(crate) upgrade: WebSocketUpgrade,
    /// The session's slot under `--max-sessions`.
    pub(crate) slot: SessionSlot,
}

impl FromRequestParts<AppState> for Handshake {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // First, and cheap: past the cap nothing is read or allocated.
        let Some(slot) = state.slots.try_take() else {
            let shape = ErrorShape::of_request(&parts.extensions);
            tracing::debug!(
                max = state.slots.max(),
                "session refused: at --max-sessions"
            );
            return Err(crate::limits::over_capacity(shape, state.slots.max()));
        };
        let upgrade = WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response()
            })?;
        Ok(Handshake {
            headers: parts.headers.clone(),
            query: query_map(parts.uri.query()),
            upgrade,
            slot,
        })
    }
}

/// The upgrade with the socket's own size limit raised to the mock's (so an
/// oversized event gets a provider-style `error` instead of a dropped connection).
pub(crate) fn sized(upgrade: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    let limit = state.config.socket_limit();
    upgrade.max_message_size(limit).max_frame_size(limit)
}

/// OpenAI Realtime: the dialect comes from the `OpenAI-Beta` header or the
/// `openai-beta.realtime-v1` subprotocol; the key from the bearer header or
/// the browser subprotocol; a bad key is the engine's to refuse.
async fn openai_upgrade(State(state): State<AppState>, handshake: Handshake) -> Response {
    let Handshake {
        headers,
        query,
        upgrade,
        slot,
    } = handshake;
    let beta = headers.get("openai-beta").and_then(|v| v.to_str().ok());
    let subprotocol_beta = headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("openai-beta.realtime-v1"));
    let header_dialect = Dialect::from_beta_header(beta);
    let dialect = if subprotocol_beta {
        Dialect::Beta
    } else {
        header_dialect
    };
    let model = query
        .get("model")
        .cloned()
        .unwrap_or_else(|| "gpt-realtime".into());
    let by_subprotocol_only = header_dialect != Dialect::Beta;
    if let Some(refusal) = state.config.beta.refusal_for(dialect, by_subprotocol_only) {
        let upgrade = accept_realtime_subprotocol(upgrade, &headers);
        return retired::refuse(upgrade, refusal, state.journal.clone(), model);
    }
    let authorised = state.lets_in(bearer(&headers).or_else(|| subprotocol_key(&headers)));
    let protocol = OpenAiProtocol { dialect };
    let start = SessionStart {
        state: &state,
        number: state.next_session(),
        model,
        fault: None,
        authorised,
        slot: Some(slot),
    };
    let upgrade = accept_realtime_subprotocol(sized(upgrade, &state), &headers);
    serve_session(
        upgrade,
        start,
        protocol,
        wanted_cassette(&query, &headers),
        authorised,
        Refusal::ErrorEvent,
    )
}

/// Browser clients offer the `realtime` subprotocol and fail the handshake
/// unless the server selects it.
fn accept_realtime_subprotocol(upgrade: WebSocketUpgrade, headers: &HeaderMap) -> WebSocketUpgrade {
    let offered = headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|protocols| protocols.split(',').any(|p| p.trim() == "realtime"));
    if offered {
        upgrade.protocols(["realtime"])
    } else {
        upgrade
    }
}

/// A DashScope error body, as its HTTP APIs answer (with a fresh request id).
fn dashscope_refusal(status: StatusCode, code: &str, message: String) -> Response {
    let body = Json(serde_json::json!({
        "code": code,
        "message": message,
        "request_id": format!("{:032x}", crate::session::rand_suffix()),
    }));
    (status, body).into_response()
}

/// `/api-ws/v1/realtime?model=…`: shared by Qwen-Omni and Qwen-TTS realtime;
/// the model routes the connection. A bad key is refused at the upgrade.
async fn dashscope_upgrade(State(state): State<AppState>, handshake: Handshake) -> Response {
    let Handshake {
        headers,
        query,
        upgrade,
        slot,
    } = handshake;
    let model = query.get("model").cloned().unwrap_or_default();
    if !state.lets_in(bearer(&headers)) {
        // DashScope refuses a bad key at the upgrade (protocol notes: HTTP 401,
        // unconfirmed), with the body shape of its HTTP APIs.
        return dashscope_refusal(
            StatusCode::UNAUTHORIZED,
            "InvalidApiKey",
            "Invalid API-key provided.".into(),
        );
    }
    // Faults apply to every DashScope realtime session; a name the mock does
    // not know is refused, as `--fault` refuses it, not silently ignored.
    let fault = match headers.get("x-understudy-fault").map(|v| v.to_str()) {
        None => state.config.setup_fault,
        Some(value) => match value
            .map_err(|e| e.to_string())
            .and_then(SetupFault::parse_or_explain)
        {
            Ok(fault) => Some(fault),
            Err(problem) => {
                return dashscope_refusal(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter",
                    format!("X-Understudy-Fault: {problem}"),
                );
            }
        },
    };
    let start = SessionStart {
        state: &state,
        number: state.next_session(),
        model: model.clone(),
        fault,
        authorised: true,
        slot: Some(slot),
    };
    let upgrade = sized(upgrade, &state);
    let wanted = wanted_cassette(&query, &headers);
    if dashscope::is_tts_model(&model) {
        let protocol = dashscope::tts::DashScopeTtsProtocol { model };
        return serve_session(upgrade, start, protocol, wanted, true, Refusal::ErrorEvent);
    }
    if crate::qwen_audio::is_audio_model(&model) {
        let protocol = crate::qwen_audio::QwenAudioProtocol { model };
        return serve_session(upgrade, start, protocol, wanted, true, Refusal::ErrorEvent);
    }
    if !dashscope::is_omni_model(&model) {
        // Third-party reports describe a close without an error event for
        // unknown models (unconfirmed).
        let reason = format!("Model not found: {model}");
        let journal = state.journal.clone();
        return upgrade
            .on_upgrade(move |socket| async move {
                let session = journal.open(DIALECT, &model, "none");
                session::close_with(socket, &journal, session, 1008, &reason).await;
            })
            .into_response();
    }
    let protocol = DashScopeProtocol { model };
    serve_session(upgrade, start, protocol, wanted, true, Refusal::ErrorEvent)
}

/// Gemini Live: the key may come as `x-goog-api-key`, `?key=`,
/// `?access_token=` or `Authorization: Token …` (ephemeral tokens); a bad one
/// is refused after `setup` with close 1007, as the service does.
async fn gemini_upgrade(State(state): State<AppState>, handshake: Handshake) -> Response {
    let Handshake {
        headers,
        query,
        upgrade,
        slot,
    } = handshake;
    let authorised = state.lets_in(key_from(GEMINI_LIVE_KEY, &headers, &query));
    let start = SessionStart {
        state: &state,
        number: state.next_session(),
        model: String::new(),
        fault: None,
        authorised,
        slot: Some(slot),
    };
    // Auth is the engine's to answer (after setup), so the loop lets everyone in.
    let upgrade = sized(upgrade, &state);
    serve_session(
        upgrade,
        start,
        GeminiProtocol,
        wanted_cassette(&query, &headers),
        true,
        Refusal::Close(1011),
    )
}

/// How a session whose engine could not be chosen (no cassette) is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    /// An `error` event, then a close (the JSON-event dialects).
    ErrorEvent,
    /// A close with this code and the problem as reason (Gemini has no error event).
    Close(u16),
    /// The dialect's own rejection (its `error` shape, code `no_cassette`),
    /// then close 1011 (GPT-Live, whose error differs from the Realtime API's).
    Rejection,
}

/// Chooses the session's engine (the cassette `wanted`, under replay),
/// completes the upgrade and runs the session loop (or refuses it),
/// journalled. Every realtime dialect is served through here; `authorised`
/// says whether the key was accepted where the loop, not the engine or the
/// upgrade, answers a bad key.
pub(crate) fn serve_session<P>(
    upgrade: WebSocketUpgrade,
    start: SessionStart<'_>,
    protocol: P,
    wanted: Option<&str>,
    authorised: bool,
    refusal: Refusal,
) -> Response
where
    P: Respond + Send + Sync + 'static,
    P::Event: Send + 'static,
{
    let engine = choose(&protocol, &start, wanted);
    let journal: Journal = start.state.journal.clone();
    let max_frame_bytes = start.state.config.max_frame_bytes;
    let timeouts = start.state.config.timeouts;
    let timeout_close = start.state.config.timeout_close;
    let model = start.model;
    let slot = start.slot;
    let reason = refusal_reason(
        wanted,
        engine.as_ref().err().and_then(EngineError::suggestion),
    );
    upgrade
        .on_upgrade(move |socket| async move {
            // Held for the session's life; dropped (the slot freed) at its end.
            let _slot = slot;
            let dialect = protocol.name().to_owned();
            match engine {
                Ok(engine) => {
                    let session = journal.open(&dialect, &model, &engine.label());
                    let ctx = SessionContext {
                        journal,
                        session,
                        max_frame_bytes,
                        authorised,
                        timeouts,
                        timeout_close,
                    };
                    session::run_session(socket, ctx, Arc::new(protocol), engine).await;
                }
                Err(problem) => {
                    let problem = problem.to_string();
                    let session = journal.open(&dialect, &model, "replay:none");
                    tracing::warn!(session, %dialect, %model, %problem, "realtime session refused: {reason}");
                    match refusal {
                        Refusal::ErrorEvent => {
                            session::refuse(socket, &journal, session, &problem, &reason).await
                        }
                        Refusal::Close(code) => {
                            session::close_with(socket, &journal, session, code, &problem).await
                        }
                        Refusal::Rejection => {
                            let rejection =
                                crate::protocol::FrameError::new("no_cassette", problem.clone());
                            let frames = protocol.rejection(&rejection);
                            session::refuse_with(socket, &journal, session, frames, &problem, &reason)
                                .await
                        }
                    }
                }
            }
        })
        .into_response()
}

/// The close reason of a session refused for want of a cassette: it names
/// the cassette asked for and the likely intended one (cut to the 123 bytes
/// a close reason may hold).
fn refusal_reason(wanted: Option<&str>, suggestion: Option<&str>) -> String {
    let meant = suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    match wanted {
        Some(name) => session::close_reason(&format!("no cassette named `{name}`{meant}")),
        None => "no cassette for this session".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_cassette_within_a_close_reason() {
        assert_eq!(
            refusal_reason(Some("greeting"), None),
            "no cassette named `greeting`"
        );
        assert_eq!(
            refusal_reason(Some("ga-text-trun"), Some("openai/ga-text-turn")),
            "no cassette named `ga-text-trun` (did you mean `openai/ga-text-turn`?)"
        );
        assert_eq!(refusal_reason(None, None), "no cassette for this session");
        let long = "é".repeat(200);
        let reason = refusal_reason(Some(&long), None);
        assert!(reason.len() <= 123 && reason.starts_with("no cassette named `é"));
    }

    #[test]
    fn claims_the_realtime_paths_as_before() {
        let get = Method::GET;
        let live = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
        assert_eq!(claim(&get, live), Some(&GEMINI_LIVE));
        assert_eq!(claim(&get, &format!("/proxy{live}/")), Some(&GEMINI_LIVE));
        assert_eq!(claim(&get, "/api-ws/v1/realtime"), Some(&DASHSCOPE));
        assert_eq!(claim(&get, "/x/api-ws/v1/realtime/"), Some(&DASHSCOPE));
        assert_eq!(claim(&get, "/realtime"), Some(&OPENAI));
        assert_eq!(claim(&get, "/v1/realtime/"), Some(&OPENAI));
        assert_eq!(claim(&get, "/a/b/c/realtime"), Some(&OPENAI));
        assert_eq!(claim(&get, "/v1/realtimex"), None);
        assert_eq!(claim(&get, "/v1/live/sessions"), Some(&OPENAI_LIVE));
        assert_eq!(claim(&get, "/gw/v1/live/sessions/"), Some(&OPENAI_LIVE));
        assert_eq!(
            claim(&get, "/v1/live/sessions/live_1/fork"),
            Some(&OPENAI_LIVE)
        );
        assert_eq!(
            claim(&get, "/v1/live/sessions/live_1/attach"),
            Some(&OPENAI_LIVE)
        );
        assert_eq!(claim(&get, "/"), None);
    }

    #[test]
    fn each_mount_answers_in_its_providers_shape() {
        for dialect in understudy_adapters::registry::dialects().filter(|d| d.kind.is_websocket()) {
            let mount = mount_of(dialect).expect("mounted");
            let expected = match dialect.provider {
                "gemini" => ErrorShape::Gemini,
                "dashscope" => ErrorShape::DashScope,
                _ => ErrorShape::OpenAi,
            };
            assert_eq!(mount.shape, expected, "{}", dialect.id);
        }
        let live = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
        let get = Method::GET;
        assert_eq!(claim(&get, live).map(|m| m.shape), Some(ErrorShape::Gemini));
        assert_eq!(
            claim(&get, "/api-ws/v1/realtime").map(|m| m.shape),
            Some(ErrorShape::DashScope)
        );
        assert_eq!(
            claim(&get, "/v1/live/sessions/live_1/attach").map(|m| m.shape),
            Some(ErrorShape::OpenAi)
        );
    }

    #[test]
    fn every_websocket_dialect_in_the_registry_has_an_upgrade() {
        for dialect in understudy_adapters::registry::dialects().filter(|d| d.kind.is_websocket()) {
            assert!(
                mount_of(dialect).is_some(),
                "no upgrade serves {}",
                dialect.id
            );
        }
    }
}
