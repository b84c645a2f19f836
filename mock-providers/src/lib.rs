//! # understudy-mock
//!
//! Mock realtime providers that speak each provider's exact wire protocol, so
//! that the providers' own SDKs cannot tell them from the real service.
//!
//! Start one in-process from any test, point a client at it, send a turn,
//! read what happened from its journal, and drop it. This example is the
//! README's "In-process, from Rust tests" snippet, line for line (a test in
//! `cli/tests/readme_snippets.rs` compares them); it runs as a doctest under a
//! 60 s timeout, so a snippet that waits forever fails instead of hanging:
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::time::timeout(std::time::Duration::from_secs(60), async {
//! use understudy_adapters::{dashscope, openai, registry};
//! use understudy_adapters::{ClientInput, ModelEvent, ResponseOptions};
//! use understudy_mock::MockServer;
//!
//! let server = MockServer::start().await?;                       // respond engine, free port
//! let mut gpt = registry::connect(&openai::connect_options(server.openai_base_url(),
//!     openai::Dialect::Ga, "gpt-realtime").api_key("sk-test")).await?;
//! let qwen = registry::connect(&dashscope::connect_options(server.dashscope_url(),
//!     "qwen3-omni-flash-realtime").api_key("sk-test")).await?;  // the same client, another dialect
//! gpt.send(&ClientInput::Text { text: "What's the weather?".into() }).await?;  // one typed turn
//! gpt.send(&ClientInput::CreateResponse(ResponseOptions::default())).await?;
//! let mut events = Vec::new();
//! while let Some(event) = gpt.next_event().await {              // ModelEvent, the same vocabulary for both
//!     let done = matches!(event, ModelEvent::ResponseDone { .. });
//!     events.push(event);
//!     if done { break; }                                         // the answer has ended
//! }
//! assert!(events.iter().any(|e| matches!(e, ModelEvent::AudioDelta { .. })));
//! gpt.close().await?;
//! qwen.close().await?;
//! let journal = server.journal();                                // what clients sent, what was answered
//! assert_eq!(journal.len(), 2);
//! drop(server);                                                  // shuts it down
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).await.map_err(|_| "the in-process snippet did not end within 60 s")?
//! # }
//! ```
//!
//! ## The face
//!
//! [`MockServer`] and its [`MockServerBuilder`] are the whole entry point; the
//! builder takes the engine ([`ResponderConfig`] to respond, cassettes or an
//! [`EngineConfig`] with a [`ReplayLibrary`] to replay), who may connect
//! ([`Auth`]), faults and limits ([`SetupFault`], [`BetaPolicy`],
//! [`DashScopeExpiry`], a connection limit, a frame limit, a speed). What
//! every session did comes back as [`SessionJournal`]s of [`JournalEntry`]s.
//! Two modules serve power users: [`sansio`], the engines without a socket,
//! and [`tls`], the generated certificate and listener.
//!
//! ## Inside
//!
//! A request travels down these layers, each a module with one job:
//!
//! 1. **Routing** (`server`): one axum router merged from each family's
//!    routes — realtime WebSocket (`realtime`), HTTP TTS (`http_tts`), chat
//!    completions (`chat`) — each family claiming its own paths.
//! 2. **Who and what** (`state`): the shared state every handler gets, the
//!    auth policy and where each provider puts its key, the cassette asked for.
//! 3. **Which engine** (`engine_choice`): the respond engine — a
//!    protocol-faithful state machine per dialect, built by the dialect's mock
//!    folder (`openai/`, `dashscope/`, `gemini/`) — or the replay engine,
//!    which plays back cassettes with their recorded timing (`replay`).
//! 4. **The session loop** (`session`): one loop for every realtime dialect
//!    drives the socket; a dialect's `Protocol` parses frames and the engine,
//!    a sans-IO core (`engine::SessionEngine`), decides what goes out and when.
//!    HTTP answers are planned as data and played by one transport (`http`).
//! 5. **The journal** (`journal`): every session's frames, notes and errors.

#![warn(missing_docs)]

// Families of endpoints and the server that routes to them.
mod realtime;
mod server;
mod state;

// How a session is answered: engines, their choice, the session loop.
mod config;
mod engine;
mod engine_choice;
mod inspector;
mod inspector_runtime;
mod journal;
mod journal_routes;
mod limits;
mod offload;
mod priority;
mod protocol;
mod replay;
mod replay_dialects;
mod session;
mod speech;
mod timeline;
mod vad;
mod voice;
mod wrong_type;

// Per-provider mock folders: each dialect's protocol, responder and faults.
mod chat;
mod dashscope;
mod gemini;
mod http;
mod http_tts;
mod openai;
mod openai_live;
mod qwen_audio;
mod responder_config;

pub mod net;
pub mod tls;

pub use config::{Auth, BetaPolicy, BetaRefusal, EngineConfig, ReplayLibrary};
pub use dashscope::{DashScopeExpiry, SetupFault};
pub use gemini::GeminiLiveSettings;
pub use journal::{
    EntryKind, ExportError, JournalCaps, JournalEntry, JournalMode, JournalStats, LiveEvent,
    ReadLimits, Received, ReplayGrade, SessionAudio, SessionJournal, SessionSummary, Subscription,
    TooManySubscribers, UnknownJournalMode, DEFAULT_STREAM_BUFFER,
};
pub use limits::DEFAULT_TIMEOUT_CLOSE;
pub use offload::TURN_THREADS;
pub use openai_live::{AttachPolicy, LiveAuthRefusal, LiveSettings};
pub use qwen_audio::QwenAudioSettings;
pub use responder_config::ResponderConfig;
pub use understudy_adapters::serve_limits::{ServeTimeouts, DEFAULT_MAX_SESSIONS};

/// The sans-IO cores behind every session, for driving one without a socket
/// (property tests, tools that read cassettes the way the mock does).
///
/// A [`Protocol`](sansio::Protocol) parses and summarises a dialect's client
/// frames; a [`SessionEngine`](sansio::SessionEngine) is told what the client
/// sent and when, and answers with [`Outgoing`](sansio::Outgoing) frames due
/// at instants it names. [`replay_script`](sansio::replay_script) turns a
/// cassette into the [`ReplayScript`](sansio::ReplayScript) a
/// [`Replayer`](sansio::Replayer) plays.
pub mod sansio {
    pub use crate::engine::{Note, SessionEngine};
    pub use crate::gemini::GeminiProtocol;
    pub use crate::http::replay::HttpScriptError;
    pub use crate::openai::OpenAiProtocol;
    pub use crate::openai_live::LiveProtocol;
    pub use crate::protocol::{FrameError, FrameSummary, Protocol, ResponseMarker};
    pub use crate::replay::{ReplayScript, Replayer, ScriptError};
    pub use crate::replay_dialects::replay_script;
    pub use crate::timeline::Outgoing;
}

use config::MockConfig;
use journal::Journal;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;
use understudy_adapters::serve_limits;
use understudy_fixtures::Cassette;

/// Name of the bundled voice the responder speaks with.
pub(crate) const BUNDLED_VOICE: &str = "voice-24k.wav";

/// Errors starting a mock server.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The bundled voice recording is missing or unreadable.
    #[error("bundled voice `{BUNDLED_VOICE}` is unusable: {0}")]
    Voice(String),
    /// A cassette cannot be replayed.
    #[error(transparent)]
    Script(#[from] replay::ScriptError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// An HTTP cassette cannot be replayed.
    #[error(transparent)]
    HttpScript(#[from] http::replay::HttpScriptError),
    /// The timing factor is not a positive, finite number.
    #[error("speed {0} is not a positive, finite number (1 is real time, 2 twice as fast)")]
    InvalidSpeed(f64),
    /// No mock dialect speaks the cassette's dialect.
    #[error("cassette `{name}`: this build has no mock for dialect `{dialect}`")]
    UnknownDialect {
        /// Cassette name.
        name: String,
        /// Its dialect.
        dialect: String,
    },
}

/// The bundled voice as PCM16 samples at 24 kHz.
pub fn bundled_voice() -> Result<Arc<[i16]>, MockError> {
    let bytes = understudy_fixtures::bundled::audio(BUNDLED_VOICE)
        .ok_or_else(|| MockError::Voice("not bundled".into()))?;
    let (pcm, rate) =
        understudy_fixtures::wav::read_pcm16(bytes).map_err(|e| MockError::Voice(e.to_string()))?;
    if rate != 24_000 {
        return Err(MockError::Voice(format!(
            "recorded at {rate} Hz, expected 24000"
        )));
    }
    let samples: Vec<i16> = pcm
        .chunks_exact(2)
        .map(|p| i16::from_le_bytes([p[0], p[1]]))
        .collect();
    Ok(samples.into())
}

/// A running mock provider server. Dropping it shuts it down.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    tls: Option<(SocketAddr, tls::TlsIdentity)>,
    journal: Journal,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
    /// The inspector's low-priority thread (see `inspector_runtime`).
    inspector: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Starts a mock with the respond engine on a free loopback port.
    pub async fn start() -> Result<Self, MockError> {
        Self::builder().start().await
    }

    /// A builder for any other configuration.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The TLS address, when the mock also serves TLS.
    pub fn tls_address(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(addr, _)| *addr)
    }

    /// `https://127.0.0.1:PORT` of the TLS listener (the google-genai `base_url`).
    pub fn tls_url(&self) -> Option<String> {
        self.tls_address().map(|addr| format!("https://{addr}"))
    }

    /// The PEM of the CA that signed the TLS certificate (trust it to connect).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|(_, identity)| identity.ca_pem())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The DashScope realtime endpoint, `ws://127.0.0.1:PORT/api-ws/v1/realtime`
    /// (the SDK's `url=`; it appends `?model=`).
    pub fn dashscope_url(&self) -> String {
        format!("ws://{}/api-ws/v1/realtime", self.addr)
    }

    /// The Gemini base URL, `ws://127.0.0.1:PORT` (the adapter appends the Live path).
    pub fn gemini_base_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The GPT-Live endpoint, `ws://127.0.0.1:PORT/v1/live/sessions` (the
    /// SDK's `client.live.connect()` with `base_url="http://127.0.0.1:PORT/v1"`).
    pub fn openai_live_url(&self) -> String {
        format!("ws://{}/v1/live/sessions", self.addr)
    }

    /// The OpenAI WebSocket base, `ws://127.0.0.1:PORT/v1` (the SDK's `websocket_base_url`).
    pub fn openai_base_url(&self) -> String {
        format!("ws://{}/v1", self.addr)
    }

    /// What every session kept in the journal sent and was answered, oldest
    /// first (all of them unless the [`JournalCaps`] evicted some).
    pub fn journal(&self) -> Vec<SessionJournal> {
        self.journal.snapshot()
    }

    /// What the journal holds and has evicted.
    pub fn journal_stats(&self) -> JournalStats {
        self.journal.stats()
    }

    /// Subscribes to the journal's live feed (what `GET /__understudy/stream`
    /// sends): sessions opening, notes, ends, and frames if `frames`.
    pub fn journal_subscribe(&self, frames: bool) -> Subscription {
        self.journal.subscribe(frames)
    }

    /// Stops accepting connections and waits for the server task and the
    /// inspector's thread to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(thread) = self.inspector.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

/// Configures and starts a [`MockServer`].
#[derive(Debug, Default)]
pub struct MockServerBuilder {
    engine: Option<EngineConfig>,
    auth: Option<Auth>,
    max_frame_bytes: Option<usize>,
    speed: Option<f64>,
    addr: Option<SocketAddr>,
    setup_fault: Option<SetupFault>,
    connection_limit: Option<std::time::Duration>,
    tls_addr: Option<SocketAddr>,
    beta: BetaPolicy,
    journal_mode: JournalMode,
    journal_caps: JournalCaps,
    journal_stream_buffer: Option<usize>,
    timeouts: Option<ServeTimeouts>,
    timeout_close: Option<u16>,
    max_sessions: Option<usize>,
    journal_read_limits: ReadLimits,
}

impl MockServerBuilder {
    /// Largest client frame accepted unless [`max_frame_bytes`](Self::max_frame_bytes)
    /// says otherwise: the OpenAI SDK documents 15 MiB per append.
    pub const DEFAULT_MAX_FRAME_BYTES: usize = 15 * 1024 * 1024;

    /// `speed` if it is a usable timing factor: positive and finite. Every delay
    /// is divided by it, so zero, a negative number, NaN or infinity would make
    /// answers come never or all at once.
    pub fn check_speed(speed: f64) -> Result<f64, MockError> {
        if speed.is_finite() && speed > 0.0 {
            Ok(speed)
        } else {
            Err(MockError::InvalidSpeed(speed))
        }
    }

    /// Answer with the respond engine, configured.
    pub fn respond(mut self, config: ResponderConfig) -> Self {
        self.engine = Some(EngineConfig::Respond(config));
        self
    }

    /// Replay these cassettes (name, cassette): sessions, and HTTP exchanges
    /// (TTS and chat completions).
    pub fn replay(mut self, cassettes: &[(String, Cassette)]) -> Result<Self, MockError> {
        let (http, sessions): (Vec<_>, Vec<_>) = cassettes
            .iter()
            .partition(|(_, c)| http::replay::is_http_dialect(&c.header.dialect));
        let scripts = sessions
            .iter()
            .map(|(name, c)| replay_dialects::replay_script(name, c))
            .collect::<Result<Vec<_>, _>>()?;
        let http = http
            .iter()
            .map(|(name, c)| http::replay::HttpReplayScript::from_cassette(name, c))
            .collect::<Result<Vec<_>, _>>()?;
        self.engine = Some(EngineConfig::Replay(
            ReplayLibrary::new(scripts).with_http(http),
        ));
        Ok(self)
    }

    /// Use a prepared engine configuration.
    pub fn engine(mut self, engine: EngineConfig) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Require a bearer key: any non-empty key when `keys` is empty, else one of `keys`.
    pub fn require_auth(mut self, keys: Vec<String>) -> Self {
        self.auth = Some(if keys.is_empty() {
            Auth::AnyKey
        } else {
            Auth::Keys(keys)
        });
        self
    }

    /// Largest client frame accepted (default 15 MiB).
    pub fn max_frame_bytes(mut self, bytes: usize) -> Self {
        self.max_frame_bytes = Some(bytes);
        self
    }

    /// Timing factor for both engines (2.0 = twice as fast); a speed that is
    /// not positive and finite makes [`start`](Self::start) fail.
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Make every DashScope session's set-up fail this way.
    pub fn setup_fault(mut self, fault: SetupFault) -> Self {
        self.setup_fault = Some(fault);
        self
    }

    /// Also serve every route over TLS on this address (`127.0.0.1:0` for a
    /// free port), with a certificate generated at start.
    pub fn tls(mut self, addr: SocketAddr) -> Self {
        self.tls_addr = Some(addr);
        self
    }

    /// Close each Gemini connection after `limit`, sending `goAway` first.
    pub fn connection_limit(mut self, limit: std::time::Duration) -> Self {
        self.connection_limit = Some(limit);
        self
    }

    /// Serve the retired OpenAI Realtime beta as it was while it was live
    /// (`serve --legacy-beta`): for old cassettes and old clients. Without it,
    /// a beta-shaped session is refused as the service refuses it now.
    pub fn legacy_beta(mut self) -> Self {
        self.beta.legacy = true;
        self
    }

    /// How beta-shaped sessions are treated, in full (see [`BetaPolicy`]).
    pub fn beta_policy(mut self, policy: BetaPolicy) -> Self {
        self.beta = policy;
        self
    }

    /// How much of each session the journal keeps (default
    /// [`JournalMode::Summary`]).
    pub fn journal(mut self, mode: JournalMode) -> Self {
        self.journal_mode = mode;
        self
    }

    /// How much the journal holds at most (default [`JournalCaps::default`]).
    pub fn journal_caps(mut self, caps: JournalCaps) -> Self {
        self.journal_caps = caps;
        self
    }

    /// How many events a live-feed subscriber may fall behind before it
    /// loses some and is told how many (default [`DEFAULT_STREAM_BUFFER`]).
    pub fn journal_stream_buffer(mut self, events: usize) -> Self {
        self.journal_stream_buffer = Some(events);
        self
    }

    /// How long clients may take (default [`ServeTimeouts::default`]: 10 s
    /// for a request head, 30 s for a body, 30 s for the first WebSocket
    /// frame, 300 s between frames). A late head or body gets `408`; a
    /// quiet session is closed with [`timeout_close`](Self::timeout_close).
    pub fn timeouts(mut self, timeouts: ServeTimeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// The close code of a session ended by the first-frame or idle timeout
    /// (default [`DEFAULT_TIMEOUT_CLOSE`], 1001: no provider documents its own).
    pub fn timeout_close(mut self, code: u16) -> Self {
        self.timeout_close = Some(code);
        self
    }

    /// Most realtime sessions at once (default [`DEFAULT_MAX_SESSIONS`]);
    /// an upgrade past it gets `429` with the provider's error body.
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = Some(max);
        self
    }

    /// How long a journal read may take and how many live-stream
    /// subscribers may listen (default [`ReadLimits::default`]).
    pub fn journal_read_limits(mut self, limits: ReadLimits) -> Self {
        self.journal_read_limits = limits;
        self
    }

    /// Listen on this address (default `127.0.0.1:0`, a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Binds and starts serving in the background.
    pub async fn start(self) -> Result<MockServer, MockError> {
        let speed = Self::check_speed(self.speed.unwrap_or(1.0))?;
        let engine = match self.engine {
            Some(engine) => engine,
            None => EngineConfig::Respond(ResponderConfig::with_voice(bundled_voice()?)),
        };
        let config = MockConfig {
            engine,
            auth: self.auth.unwrap_or(Auth::Open),
            max_frame_bytes: self
                .max_frame_bytes
                .unwrap_or(Self::DEFAULT_MAX_FRAME_BYTES),
            speed,
            setup_fault: self.setup_fault,
            connection_limit: self.connection_limit,
            beta: self.beta,
            timeouts: self.timeouts.unwrap_or_default(),
            timeout_close: self.timeout_close.unwrap_or(DEFAULT_TIMEOUT_CLOSE),
            max_sessions: self.max_sessions.unwrap_or(DEFAULT_MAX_SESSIONS),
        };
        let timeouts = config.timeouts;
        let addr = self
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MockError::Bind { addr, source })?;
        let journal = Journal::with_limits(
            self.journal_mode,
            self.journal_caps,
            self.journal_stream_buffer.unwrap_or(DEFAULT_STREAM_BUFFER),
            self.journal_read_limits,
        );
        let app = server::router(state::AppState::new(config, journal.clone()));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let tls = match self.tls_addr {
            Some(tls_addr) => {
                let identity = tls::TlsIdentity::generate()?;
                let tcp = tokio::net::TcpListener::bind(tls_addr)
                    .await
                    .map_err(|source| MockError::Bind {
                        addr: tls_addr,
                        source,
                    })?;
                let listener =
                    tls::TlsListener::with_header_timeout(tcp, &identity, timeouts.header)
                        .map_err(|source| MockError::Bind {
                            addr: tls_addr,
                            source,
                        })?;
                let bound = axum::serve::Listener::local_addr(&listener).map_err(|source| {
                    MockError::Bind {
                        addr: tls_addr,
                        source,
                    }
                })?;
                let app = app.clone();
                let mut stop = rx.clone();
                tokio::spawn(serve_limits::serve(
                    listener,
                    app,
                    timeouts.header,
                    async move {
                        let _ = stop.changed().await;
                    },
                ));
                tracing::info!(addr = %bound, "understudy mock listening (TLS)");
                Some((bound, identity))
            }
            None => None,
        };
        let (listener, aside) =
            serve_limits::GatedAccept::split(listener, timeouts.header, inspector_runtime::wants)
                .map_err(|source| MockError::Bind { addr, source })?;
        let inspector = inspector_runtime::start(aside, app.clone(), rx.clone(), timeouts.header);
        let mut stop = rx;
        // Every request head is timed: the first by the gate (408), later
        // ones on a kept-alive connection by hyper (closed).
        let task = tokio::spawn(serve_limits::serve(
            listener,
            app,
            timeouts.header,
            async move {
                let _ = stop.changed().await;
            },
        ));
        tracing::info!(%addr, "understudy mock listening");
        Ok(MockServer {
            addr,
            tls,
            journal,
            shutdown: Some(tx),
            task: Some(task),
            inspector,
        })
    }
}
