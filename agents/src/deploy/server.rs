//! The axum server: `WS /ws/{user_id}/{session_id}` (AgentScope's route) and
//! `GET /api/check-models` (which providers are configured).
//!
//! At the socket level it keeps RFC 6455's manners: a client's close frame is
//! answered with a close (the closing handshake completes); a text frame that
//! is not UTF-8 is answered with close 1007; a frame above the socket's limit
//! (16 MiB a frame, 64 MiB a message: axum's defaults) with a `server_error`
//! (`message_too_large`) and close 1009, since the rest of that frame cannot
//! be read past. Every other bad event gets a `server_error` and the
//! connection carries on.

use super::bridge::Bridge;
use super::error::DeployError;
use super::gate::{self, Gate};
use super::provider::Providers;
use super::registry::{SessionInfo, SessionRegistry};
use super::wire::{ServerBody, ServerEvent};
use crate::realtime::{AgentConfig, ToolRegistry};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use understudy_adapters::serve_limits::{self, GatedAccept, QuietClock, ServeTimeouts};
use understudy_adapters::ws_fault::ReadFault;

/// How a deployment server runs its sessions.
#[derive(Clone)]
pub struct DeployConfig {
    /// The providers sessions may ask for, and the default.
    pub providers: Providers,
    /// Tools every session's agent offers (where the provider calls tools).
    pub tools: ToolRegistry,
    /// The agent settings each session starts from. Its `session` keeps the
    /// default instructions and voice; turn detection and transcription are
    /// set per provider, and `config.instructions` / `config.voice` win.
    pub agent: AgentConfig,
    /// The rate of `agent_response_audio_delta` (AgentScope's front end
    /// plays at a fixed 24 kHz).
    pub output_sample_rate: u32,
    /// The rate assumed for `client_audio_append` without `format.rate`
    /// (AgentScope's front end records at 16 kHz).
    pub default_input_rate: u32,
    /// Longest wait for the provider when a session is created.
    pub connect_timeout: Duration,
    /// The live sessions (shared with the [`DeployServer`] handle).
    pub registry: SessionRegistry,
    /// Auth, session cap and timeouts (default: no auth, 2,000 sockets,
    /// the default timeouts).
    pub gate: Gate,
}

impl std::fmt::Debug for DeployConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployConfig")
            .field("providers", &self.providers)
            .field("output_sample_rate", &self.output_sample_rate)
            .field("default_input_rate", &self.default_input_rate)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl DeployConfig {
    /// Defaults around these providers: no tools, 24 kHz out, 16 kHz assumed
    /// in, 20 s to connect.
    pub fn new(providers: Providers) -> Self {
        DeployConfig {
            providers,
            tools: ToolRegistry::new(),
            agent: AgentConfig::default(),
            output_sample_rate: 24_000,
            default_input_rate: 16_000,
            connect_timeout: Duration::from_secs(20),
            registry: SessionRegistry::new(),
            gate: Gate::default(),
        }
    }

    /// With these tools.
    pub fn tools(mut self, tools: ToolRegistry) -> Self {
        self.tools = tools;
        self
    }
}

/// What every request handler shares.
#[derive(Clone)]
struct AppState {
    config: Arc<DeployConfig>,
    /// Turns true when the server shuts down; open sockets then close.
    stop: watch::Receiver<bool>,
}

/// The router, for embedding the deployment server in a larger app (its
/// sockets close when their clients leave).
pub fn router(config: DeployConfig) -> Router {
    // The sender is dropped: never fires (an embedding app ends connections
    // its own way).
    let (_, stopped) = watch::channel(false);
    routes(config, stopped)
}

fn routes(config: DeployConfig, stop: watch::Receiver<bool>) -> Router {
    Router::new()
        .route("/ws/{user_id}/{session_id}", get(upgrade))
        .route("/api/check-models", get(check_models))
        .route("/health", get(|| async { "ok" }))
        .with_state(AppState {
            config: Arc::new(config),
            stop,
        })
}

async fn check_models(State(AppState { config, .. }): State<AppState>) -> impl IntoResponse {
    let mut body = Map::new();
    for provider in understudy_adapters::registry::providers() {
        body.insert(
            provider.name.into(),
            Value::Bool(config.providers.endpoint(provider).is_some()),
        );
    }
    body.insert(
        "default".into(),
        json!(config.providers.default_provider().name),
    );
    Json(Value::Object(body))
}

/// The upgrade: a slot under the cap first (refused with `429` before
/// anything else is read), then the key (`401`), then the socket.
async fn upgrade(
    State(AppState { config, stop }): State<AppState>,
    Path((user_id, session_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let gate = &config.gate;
    let Some(slot) = gate.slots.try_take() else {
        tracing::debug!(max = gate.slots.max(), "socket refused: at --max-sessions");
        return gate::refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "too_many_sessions",
            format!(
                "this server takes at most {} sessions at once; try again later",
                gate.slots.max()
            ),
        );
    };
    if !gate.admits(&headers, query.as_deref()) {
        return gate::refusal(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            "a key is required: `Authorization: Bearer KEY`, `?token=KEY`, or the \
             subprotocols `understudy` and `understudy-key.KEY`"
                .into(),
        );
    }
    let upgrade = if gate::offers_subprotocol(&headers) {
        upgrade.protocols([gate::SUBPROTOCOL])
    } else {
        upgrade
    };
    let timeouts = gate.timeouts;
    upgrade
        .on_upgrade(move |socket| async move {
            // Held while the socket is open.
            let _slot = slot;
            let bridge = Bridge::new(user_id, session_id, config);
            serve_socket(socket, bridge, stop, timeouts).await;
            // Its memory goes back to the OS once the burst of ends is over.
            super::trim::session_ended();
        })
        .into_response()
}

/// Runs one front-end connection until either side goes away or the server
/// shuts down.
async fn serve_socket(
    socket: WebSocket,
    mut bridge: Bridge,
    mut stop: watch::Receiver<bool>,
    timeouts: ServeTimeouts,
) {
    let (mut sink, mut stream) = socket.split();
    let mut quiet = QuietClock::new(timeouts);
    loop {
        let out = tokio::select! {
            _ = quiet.expired(), if quiet.deadline().is_some() => {
                let reason = quiet.reason();
                tracing::info!(%reason, "front-end socket timed out");
                bridge.close().await;
                let close = CloseFrame { code: TIMEOUT_CLOSE, reason: reason.into() };
                let _ = sink.send(Message::Close(Some(close))).await;
                return;
            }
            _ = stopping(&mut stop) => {
                // Close the agent first so its provider session ends cleanly.
                bridge.close().await;
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
            message = stream.next() => match heard(&mut quiet, message) {
                Some(Ok(Message::Text(text))) => bridge.on_text(text.as_str()).await,
                Some(Ok(Message::Binary(bytes))) => vec![binary_frame(bytes.len())],
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) => {
                    // tungstenite queued the close reply; send it, so the
                    // client sees the closing handshake complete.
                    let _ = sink.flush().await;
                    break;
                }
                Some(Err(error)) => {
                    let fault = ReadFault::of(&error);
                    tracing::debug!(%error, ?fault, "front end socket failed");
                    refuse_frame(&mut sink, fault).await;
                    break;
                }
                None => break,
            },
            event = bridge.next_agent_event() => bridge.on_agent_event(event),
        };
        for event in out {
            if sink
                .send(Message::Text(event.to_json().into()))
                .await
                .is_err()
            {
                tracing::debug!("front end gone while sending");
                bridge.close().await;
                return;
            }
        }
    }
    if bridge.has_session() {
        tracing::debug!("front end left with a live session; closing its agent");
    }
    bridge.close().await;
}

/// Close code of a socket ended by the first-frame or idle timeout: 1001
/// ("going away"). The vocabulary is this server's own (AgentScope's server
/// has no timeouts), so this is a choice, not a copy.
pub const TIMEOUT_CLOSE: u16 = 1001;

/// Passes `message` through, restarting the idle clock.
fn heard<T>(quiet: &mut QuietClock, message: T) -> T {
    quiet.heard();
    message
}

/// Resolves when the server shuts down; never if nobody can shut it down.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Answers a frame the socket could not read: `server_error` for an
/// oversized one, then the close RFC 6455 names (1007, 1009).
async fn refuse_frame<S>(sink: &mut S, fault: ReadFault)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let Some(code) = fault.close_code() else {
        return;
    };
    if let ReadFault::TooLarge { size, max_size } = fault {
        let error = ServerEvent::server(ServerBody::ServerError {
            error_type: "invalid_request_error".into(),
            code: "message_too_large".into(),
            message: format!(
                "a frame of {size} bytes is over this server's {max_size}-byte limit; \
                 send audio in smaller `client_audio_append` chunks"
            ),
            event_type: None,
        });
        let _ = sink.send(Message::Text(error.to_json().into())).await;
    }
    let close = CloseFrame {
        code,
        reason: fault.reason().into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
    let _ = sink.flush().await;
}

fn binary_frame(len: usize) -> ServerEvent {
    ServerEvent::server(ServerBody::ServerError {
        error_type: "invalid_request_error".into(),
        code: "binary_frame".into(),
        message: format!(
            "a {len}-byte binary frame: this vocabulary is JSON text frames (audio is base64 in `client_audio_append`)"
        ),
        event_type: None,
    })
}

/// A running deployment server.
#[derive(Debug)]
pub struct DeployServer {
    addr: SocketAddr,
    registry: SessionRegistry,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DeployServer {
    /// Binds `addr` (port 0 picks one) and serves in the background.
    pub async fn start(addr: SocketAddr, config: DeployConfig) -> Result<Self, DeployError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| DeployError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| DeployError::Bind { addr, source })?;
        let registry = config.registry.clone();
        let header = config.gate.timeouts.header;
        let gated = GatedAccept::new(listener, header)
            .map_err(|source| DeployError::Bind { addr, source })?;
        let (stop, mut stopped) = watch::channel(false);
        let app = routes(config, stopped.clone());
        // Heads are timed (the first: 408; later ones on a kept-alive
        // connection: closed), and TCP_NODELAY is set: realtime frames are
        // small and latency-bound (as the mock's listeners, `understudy_mock::net`).
        let task = tokio::spawn(serve_limits::serve(gated, app, header, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        Ok(DeployServer {
            addr,
            registry,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// `ws://HOST:PORT/ws/{user_id}/{session_id}`.
    pub fn session_url(&self, user_id: &str, session_id: &str) -> String {
        format!("{}/ws/{user_id}/{session_id}", self.url())
    }

    /// The live sessions.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.registry.sessions()
    }

    /// The registry (live and created counts).
    pub fn registry(&self) -> &SessionRegistry {
        &self.registry
    }

    /// Stops accepting connections, ends every live session (its agent and
    /// provider connection) and closes its socket; waits up to 5 s for the
    /// server task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}
