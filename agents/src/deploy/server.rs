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
use super::provider::Providers;
use super::registry::{SessionInfo, SessionRegistry};
use super::wire::{ServerBody, ServerEvent};
use crate::realtime::{AgentConfig, ToolRegistry};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
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

async fn upgrade(
    State(AppState { config, stop }): State<AppState>,
    Path((user_id, session_id)): Path<(String, String)>,
    upgrade: WebSocketUpgrade,
) -> impl IntoResponse {
    upgrade.on_upgrade(move |socket| {
        serve_socket(socket, Bridge::new(user_id, session_id, config), stop)
    })
}

/// Runs one front-end connection until either side goes away or the server
/// shuts down.
async fn serve_socket(socket: WebSocket, mut bridge: Bridge, mut stop: watch::Receiver<bool>) {
    let (mut sink, mut stream) = socket.split();
    loop {
        let out = tokio::select! {
            _ = stopping(&mut stop) => {
                // Close the agent first so its provider session ends cleanly.
                bridge.close().await;
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
            message = stream.next() => match message {
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
        let (stop, mut stopped) = watch::channel(false);
        let app = routes(config, stopped.clone());
        // Realtime frames are small and latency-bound: no Nagle delay (as the
        // mock's and the recorder's listeners, `understudy_mock::net`).
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "deployment server stopped");
            }
        });
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
