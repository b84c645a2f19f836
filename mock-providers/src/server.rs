//! The HTTP side of the mock: routes, WebSocket upgrades, admin endpoints.

use crate::config::{Auth, EngineConfig, MockConfig};
use crate::dashscope::respond::DashScopeResponder;
use crate::dashscope::{self, DashScopeProtocol, SetupFault};
use crate::engine::SessionEngine;
use crate::gemini::respond::{GeminiResponder, GeminiSettings, ResumptionStore};
use crate::gemini::{self, GeminiProtocol};
use crate::journal::Journal;
use crate::openai::{respond::Responder, retired, OpenAiProtocol};
use crate::protocol::Protocol;
use crate::replay::Replayer;
use crate::session::{self, SessionContext};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use understudy_adapters::dashscope::DIALECT;
use understudy_adapters::openai::Dialect;

/// Shared state of one running mock.
#[derive(Clone)]
pub struct AppState {
    pub(crate) config: Arc<MockConfig>,
    pub(crate) journal: Journal,
    pub(crate) sessions: Arc<AtomicU64>,
    /// Gemini conversations kept for resumption across connections.
    pub(crate) resumption: ResumptionStore,
}

/// Builds the router serving every provider this build knows.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/__understudy/health", get(|| async { "ok" }))
        .route("/__understudy/journal", get(journal))
        .fallback(dispatch)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::chat::intercept,
        ))
        // HTTP TTS (OpenAI audio/speech, Gemini generateContent) answers POSTs
        // to its paths before the fallback sees them.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http_tts::intercept,
        ))
        .with_state(state)
}

async fn journal(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.journal.snapshot())
}

/// Routes by path: anything ending in `/realtime` (with or without a prefix) is
/// the OpenAI Realtime WebSocket.
async fn dispatch(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let path = uri.path().trim_end_matches('/');
    if gemini::is_live_path(path) {
        let Ok(upgrade) = upgrade else {
            return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response();
        };
        return gemini_upgrade(state, headers, query, upgrade);
    }
    if path.ends_with("/api-ws/v1/realtime") {
        let Ok(upgrade) = upgrade else {
            return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response();
        };
        return dashscope_upgrade(state, headers, query, upgrade);
    }
    if path == "/realtime" || path.ends_with("/realtime") {
        let Ok(upgrade) = upgrade else {
            return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response();
        };
        return openai_upgrade(state, headers, query, upgrade);
    }
    (
        StatusCode::NOT_FOUND,
        format!("understudy has no route for {path}"),
    )
        .into_response()
}

/// Whether the configured auth policy lets `key` in.
pub(crate) fn authorised(auth: &Auth, key: Option<String>) -> bool {
    match auth {
        Auth::Open => true,
        Auth::AnyKey => key.is_some_and(|k| !k.is_empty()),
        Auth::Keys(keys) => key.is_some_and(|k| keys.contains(&k)),
    }
}

/// The cassette a client asked for: `?cassette=` or `X-Understudy-Cassette`.
fn wanted_cassette(query: &HashMap<String, String>, headers: &HeaderMap) -> Option<String> {
    query.get("cassette").cloned().or_else(|| {
        headers
            .get("x-understudy-cassette")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// A replay engine for a session of `dialect`, any protocol.
fn replay_engine<E: 'static>(
    state: &AppState,
    library: &crate::config::ReplayLibrary,
    wanted: Option<&str>,
    dialect: &str,
) -> Result<Box<dyn SessionEngine<E>>, String> {
    library.select(wanted, dialect).map(|script| {
        let others = library
            .of_dialect(dialect)
            .into_iter()
            .filter(|other| !Arc::ptr_eq(other, &script))
            .collect();
        Box::new(Replayer::new(script, state.config.speed).continuing(others))
            as Box<dyn SessionEngine<E>>
    })
}

/// The `Authorization: Bearer` key, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|k| k.trim().to_owned())
}

/// Browser clients pass the key as a subprotocol `openai-insecure-api-key.<key>`.
fn subprotocol_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("sec-websocket-protocol")?.to_str().ok()?;
    value
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("openai-insecure-api-key."))
        .map(str::to_owned)
}

fn openai_upgrade(
    state: AppState,
    headers: HeaderMap,
    query: HashMap<String, String>,
    upgrade: WebSocketUpgrade,
) -> Response {
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
    let key = bearer(&headers).or_else(|| subprotocol_key(&headers));
    let authorised = authorised(&state.config.auth, key);
    let number = state.sessions.fetch_add(1, Ordering::Relaxed) + 1;
    let engine: Result<
        Box<dyn SessionEngine<understudy_adapters::openai::wire::ClientEvent>>,
        String,
    > = match &state.config.engine {
        EngineConfig::Respond(config) => {
            let mut config = config.clone();
            config.speed = state.config.speed;
            Ok(Box::new(Responder::new(dialect, &model, config, number)))
        }
        EngineConfig::Replay(library) => replay_engine(
            &state,
            library,
            wanted_cassette(&query, &headers).as_deref(),
            dialect.name(),
        ),
    };
    let max_frame_bytes = state.config.max_frame_bytes;
    let journal = state.journal.clone();
    // Accept larger frames at the socket so an oversized event gets a
    // provider-style `error` instead of a dropped connection.
    let socket_limit = max_frame_bytes.saturating_mul(4).max(64 << 20);
    let upgrade = accept_realtime_subprotocol(
        upgrade
            .max_message_size(socket_limit)
            .max_frame_size(socket_limit),
        &headers,
    );
    serve_session(
        upgrade,
        journal,
        Served {
            dialect: dialect.name().to_owned(),
            model,
            max_frame_bytes,
            authorised,
            protocol: OpenAiProtocol { dialect },
            engine,
            refusal: Refusal::ErrorEvent,
        },
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

/// `/api-ws/v1/realtime?model=…`: shared by Qwen-Omni and Qwen-TTS realtime;
/// the model routes the connection.
fn dashscope_upgrade(
    state: AppState,
    headers: HeaderMap,
    query: HashMap<String, String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let model = query.get("model").cloned().unwrap_or_default();
    let key = bearer(&headers);
    let authorised = authorised(&state.config.auth, key);
    if !authorised {
        // DashScope refuses a bad key at the upgrade (protocol notes: HTTP 401,
        // unconfirmed), with the body shape of its HTTP APIs.
        let body = Json(serde_json::json!({
            "code": "InvalidApiKey",
            "message": "Invalid API-key provided.",
            "request_id": format!("{:032x}", crate::session::rand_suffix()),
        }));
        return (StatusCode::UNAUTHORIZED, body).into_response();
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
                let body = Json(serde_json::json!({
                    "code": "InvalidParameter",
                    "message": format!("X-Understudy-Fault: {problem}"),
                    "request_id": format!("{:032x}", crate::session::rand_suffix()),
                }));
                return (StatusCode::BAD_REQUEST, body).into_response();
            }
        },
    };
    let number = state.sessions.fetch_add(1, Ordering::Relaxed) + 1;
    let journal = state.journal.clone();
    let max_frame_bytes = state.config.max_frame_bytes;
    let socket_limit = max_frame_bytes.saturating_mul(4).max(64 << 20);
    let upgrade = upgrade
        .max_message_size(socket_limit)
        .max_frame_size(socket_limit);
    if dashscope::is_tts_model(&model) {
        return dashscope_tts_upgrade(state, headers, query, upgrade, model, number, fault);
    }
    if !dashscope::is_omni_model(&model) {
        // Third-party reports describe a close without an error event for
        // unknown models (unconfirmed).
        let reason = format!("Model not found: {model}");
        return upgrade
            .on_upgrade(move |socket| async move {
                let session = journal.open(DIALECT, &model, "none");
                session::close_with(socket, &journal, session, 1008, &reason).await;
            })
            .into_response();
    }
    let engine: Result<
        Box<dyn SessionEngine<understudy_adapters::dashscope::wire::ClientEvent>>,
        String,
    > = match &state.config.engine {
        EngineConfig::Respond(config) => {
            let mut config = config.clone();
            config.speed = state.config.speed;
            Ok(Box::new(DashScopeResponder::new(
                &model, config, number, fault,
            )))
        }
        EngineConfig::Replay(library) => replay_engine(
            &state,
            library,
            wanted_cassette(&query, &headers).as_deref(),
            DIALECT,
        ),
    };
    serve_session(
        upgrade,
        journal,
        Served {
            dialect: DIALECT.to_owned(),
            model: model.clone(),
            max_frame_bytes,
            authorised: true,
            protocol: DashScopeProtocol { model },
            engine,
            refusal: Refusal::ErrorEvent,
        },
    )
}

/// Qwen-TTS realtime: the DashScope realtime path with a TTS model (the key
/// was checked at the upgrade already).
fn dashscope_tts_upgrade(
    state: AppState,
    headers: HeaderMap,
    query: HashMap<String, String>,
    upgrade: WebSocketUpgrade,
    model: String,
    number: u64,
    fault: Option<SetupFault>,
) -> Response {
    use understudy_adapters::dashscope::tts::{wire::TtsClientEvent, DIALECT as TTS};
    let journal = state.journal.clone();
    let max_frame_bytes = state.config.max_frame_bytes;
    let engine: Result<Box<dyn SessionEngine<TtsClientEvent>>, String> = match &state.config.engine
    {
        EngineConfig::Respond(config) => {
            let mut config = config.clone();
            config.speed = state.config.speed;
            Ok(Box::new(
                dashscope::tts::TtsResponder::new(&model, config, number).with_fault(fault),
            ))
        }
        EngineConfig::Replay(library) => replay_engine(
            &state,
            library,
            wanted_cassette(&query, &headers).as_deref(),
            TTS,
        ),
    };
    serve_session(
        upgrade,
        journal,
        Served {
            dialect: TTS.to_owned(),
            model: model.clone(),
            max_frame_bytes,
            authorised: true,
            protocol: dashscope::tts::DashScopeTtsProtocol { model },
            engine,
            refusal: Refusal::ErrorEvent,
        },
    )
}

/// Gemini Live: the key may come as `x-goog-api-key`, `?key=` or
/// `Authorization: Token …` (ephemeral tokens); a bad one is refused after
/// `setup` with close 1007, as the service does.
fn gemini_upgrade(
    state: AppState,
    headers: HeaderMap,
    query: HashMap<String, String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.get("key").cloned())
        .or_else(|| query.get("access_token").cloned())
        .or_else(|| {
            headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Token "))
                .map(str::to_owned)
        });
    let authorised = authorised(&state.config.auth, key);
    let number = state.sessions.fetch_add(1, Ordering::Relaxed) + 1;
    let journal = state.journal.clone();
    let max_frame_bytes = state.config.max_frame_bytes;
    let socket_limit = max_frame_bytes.saturating_mul(4).max(64 << 20);
    let upgrade = upgrade
        .max_message_size(socket_limit)
        .max_frame_size(socket_limit);
    let engine: Result<
        Box<dyn SessionEngine<understudy_adapters::gemini::wire::ClientMessage>>,
        String,
    > = match &state.config.engine {
        EngineConfig::Respond(config) => {
            let mut config = config.clone();
            config.speed = state.config.speed;
            let settings = GeminiSettings {
                connection_limit: state.config.connection_limit,
                store: state.resumption.clone(),
            };
            Ok(Box::new(GeminiResponder::new(
                config, settings, authorised, number,
            )))
        }
        EngineConfig::Replay(library) => replay_engine(
            &state,
            library,
            wanted_cassette(&query, &headers).as_deref(),
            understudy_adapters::gemini::DIALECT,
        ),
    };
    // Auth is the engine's to answer (after setup), so the loop lets everyone in.
    serve_session(
        upgrade,
        journal,
        Served {
            dialect: understudy_adapters::gemini::DIALECT.to_owned(),
            model: String::new(),
            max_frame_bytes,
            authorised: true,
            protocol: GeminiProtocol,
            engine,
            refusal: Refusal::Close(1011),
        },
    )
}

/// How a session whose engine could not be built (no cassette) is refused.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// An `error` event, then a close (the JSON-event dialects).
    ErrorEvent,
    /// A close with this code and the problem as reason (Gemini has no error event).
    Close(u16),
}

/// One WebSocket session, ready to be served.
struct Served<P: Protocol> {
    dialect: String,
    model: String,
    max_frame_bytes: usize,
    /// Whether the key was accepted (where the engine, not the upgrade, answers a bad key).
    authorised: bool,
    protocol: P,
    engine: Result<Box<dyn SessionEngine<P::Event>>, String>,
    refusal: Refusal,
}

/// Completes the upgrade and runs the session loop (or refuses it), journalled.
/// Every realtime dialect is served through here.
fn serve_session<P>(upgrade: WebSocketUpgrade, journal: Journal, served: Served<P>) -> Response
where
    P: Protocol + Send + Sync + 'static,
    P::Event: Send + 'static,
{
    upgrade
        .on_upgrade(move |socket| async move {
            let Served {
                dialect,
                model,
                max_frame_bytes,
                authorised,
                protocol,
                engine,
                refusal,
            } = served;
            match engine {
                Ok(engine) => {
                    let session = journal.open(&dialect, &model, &engine.label());
                    let ctx = SessionContext {
                        journal,
                        session,
                        max_frame_bytes,
                        authorised,
                    };
                    session::run_session(socket, ctx, Arc::new(protocol), engine).await;
                }
                Err(problem) => {
                    let session = journal.open(&dialect, &model, "replay:none");
                    match refusal {
                        Refusal::ErrorEvent => {
                            session::refuse(socket, &journal, session, &problem).await
                        }
                        Refusal::Close(code) => {
                            session::close_with(socket, &journal, session, code, &problem).await
                        }
                    }
                }
            }
        })
        .into_response()
}
