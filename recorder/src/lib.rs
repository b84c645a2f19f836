//! # understudy-recorder
//!
//! A recording proxy for realtime voice providers. Point a client (an official
//! SDK, your agent) at the recorder instead of the provider; it forwards every
//! WebSocket and HTTP exchange to the upstream and back unchanged, and writes
//! one cassette per session: every frame in both directions with its time,
//! close codes and reasons, HTTP requests and responses (streamed bodies as
//! their chunks with arrival times), audio moved to WAV sidecars. Cassettes are
//! marked `recorded`, with the upstream host, the model and the toolkit version.
//!
//! Secrets never reach the disk: credential headers and query parameters, the
//! credentials a session carried (learned from its request), and every value
//! the caller names are scrubbed before a frame is written — in their encoded
//! forms too, across frame boundaries (a key streamed in two deltas), and
//! inside audio (zeroed, noted in the header) — and the written files are read
//! back to prove it. Frames are streamed to `<stem>.jsonl.partial` (files
//! `0600`, a new output folder `0700`) as they pass, so a session is never
//! held in memory whole. A session that ends badly (upstream refused,
//! dropped, answered garbage; client vanished; recorder stopped) still leaves
//! a valid cassette, marked `incomplete` with the reason.
//!
//! Here the upstream is an in-process mock provider; in real use it is the
//! provider's endpoint (`https://api.openai.com`):
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use understudy_adapters::{openai, registry, ClientInput, ModelEvent, ResponseOptions};
//! use understudy_mock::MockServer;
//! use understudy_recorder::{provider, Recorder};
//!
//! let upstream = MockServer::start().await?;
//! let out = tempfile::tempdir()?;
//! let (written, mut sessions) = tokio::sync::mpsc::unbounded_channel();
//! let recorder = Recorder::builder(provider("openai")?, upstream.url())
//!     .out(out.path())
//!     .on_session(move |session| drop(written.send(session.clone())))  // each session as it ends
//!     .start()
//!     .await?;
//! // The client talks to the recorder as it would to the provider.
//! let base = format!("{}/v1", recorder.url().replacen("http://", "ws://", 1));
//! let options = openai::connect_options(base, openai::Dialect::Ga, "gpt-realtime");
//! let mut client = registry::connect(&options.api_key("sk-test")).await?;
//! client.send(&ClientInput::Text { text: "Hello".into() }).await?;
//! client.send(&ClientInput::CreateResponse(ResponseOptions::default())).await?;
//! while let Some(event) = client.next_event().await {
//!     if matches!(event, ModelEvent::ResponseDone { .. }) { break; }
//! }
//! client.close().await?;
//! let session = sessions.recv().await.expect("the session, once written");
//! println!("{}", session.line());                  // as `understudy record` prints it
//! assert!(session.complete && session.frames_s2c > 0, "{session:?}");
//! let cassette = out.path().join(session.cassette.as_deref().expect("written"));
//! assert!(understudy_fixtures::validate_file(&cassette).is_valid());
//! let report = recorder.shutdown().await;          // also in record-report.json
//! assert_eq!(report.sessions.len(), 1);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod capture;
mod endpoint;
mod error;
mod headers;
mod http;
mod latency;
mod private_dir;
mod report;
mod shared;
mod upstream;
mod write_queue;
mod ws;

pub use error::RecorderError;
pub use latency::LatencySummary;
pub use report::{RecordingReport, SessionSummary, REPORT_FILE};
pub use shared::{CredentialHook, SessionHook};
/// Providers are the adapters' registry entries: look one up by name or alias.
pub use understudy_adapters::registry::{provider, LookupError, ProviderSpec};
pub use write_queue::{WriteQueueLimits, WriteQueueStats};

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::Response;
use axum::Router;
use shared::Shared;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use understudy_adapters::tls::TlsTrust;
use understudy_fixtures::Scrubber;
use understudy_mock::tls::{TlsIdentity, TlsListener};

/// A running recorder. Stop it with [`Recorder::shutdown`] so that sessions
/// still open are written (marked incomplete); dropping it stops listening.
pub struct Recorder {
    addr: SocketAddr,
    tls: Option<(SocketAddr, TlsIdentity)>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
}

/// Configures a [`Recorder`].
pub struct RecorderBuilder {
    provider: &'static ProviderSpec,
    upstream: String,
    out: PathBuf,
    scrubber: Scrubber,
    trust: TlsTrust,
    bind: SocketAddr,
    tls_bind: Option<SocketAddr>,
    hook: Option<SessionHook>,
    credential_hook: Option<CredentialHook>,
    queue: shared::QueueSettings,
}

impl Recorder {
    /// A recorder for `provider` forwarding to `upstream` (`https://…`,
    /// `wss://…`, or a local `http://` mock).
    pub fn builder(
        provider: &'static ProviderSpec,
        upstream: impl Into<String>,
    ) -> RecorderBuilder {
        RecorderBuilder {
            provider,
            upstream: upstream.into(),
            out: PathBuf::from("recordings"),
            scrubber: Scrubber::standard(),
            trust: TlsTrust::System,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls_bind: None,
            hook: None,
            credential_hook: None,
            queue: shared::QueueSettings::default(),
        }
    }

    /// The plain listening address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL to give clients (add the provider's path
    /// prefix, e.g. `/v1` for OpenAI SDKs).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://ADDR` when a TLS listener was asked for.
    pub fn tls_url(&self) -> Option<String> {
        self.tls.as_ref().map(|(addr, _)| format!("https://{addr}"))
    }

    /// The CA certificate (PEM) clients must trust for the TLS listener.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|(_, identity)| identity.ca_pem())
    }

    /// How the write queues have behaved so far: their bounds, the most any
    /// session's queue held, and how often and how long the proxy waited for
    /// a writer.
    pub fn write_queue(&self) -> WriteQueueStats {
        self.shared.report().write_queue
    }

    /// The sessions written so far.
    pub fn report(&self) -> RecordingReport {
        self.shared.report()
    }

    /// Stops listening, ends open sessions (their cassettes marked incomplete),
    /// waits for every cassette to be written and returns the report.
    pub async fn shutdown(mut self) -> RecordingReport {
        let _ = self.stop.send(true);
        for server in self.servers.drain(..) {
            let _ = server.await;
        }
        loop {
            let writers = self.shared.take_writers();
            if writers.is_empty() {
                break;
            }
            for writer in writers {
                let _ = writer.await;
            }
        }
        self.shared.report()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl RecorderBuilder {
    /// Where cassettes and `record-report.json` go (created `0700` if
    /// missing; an existing folder readable by others is kept as it is, with
    /// a warning).
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out = dir.into();
        self
    }

    /// What to scrub besides the standard credential headers and parameters.
    pub fn scrubber(mut self, scrubber: Scrubber) -> Self {
        self.scrubber = scrubber;
        self
    }

    /// Which CAs a TLS upstream must chain to (default: the system's roots).
    pub fn trust(mut self, trust: TlsTrust) -> Self {
        self.trust = trust;
        self
    }

    /// Where to listen (default `127.0.0.1:0`, a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Also listen with TLS here, with a certificate generated at start (the
    /// Gemini SDK only speaks `wss://`).
    pub fn tls(mut self, addr: SocketAddr) -> Self {
        self.tls_bind = Some(addr);
        self
    }

    /// Called with each session's summary once its cassette is written.
    pub fn on_session(mut self, hook: impl Fn(&SessionSummary) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Called before a session is forwarded with a scrubber that also knows
    /// the credentials it carries (its bearer token, `?key=`…), when those are
    /// not among the named secrets: how the command's log writer keeps even
    /// unnamed keys out of trace logs.
    pub fn on_credentials(mut self, hook: impl Fn(&Scrubber) + Send + Sync + 'static) -> Self {
        self.credential_hook = Some(Arc::new(hook));
        self
    }

    /// Bounds each session's queue between the proxy and its cassette writer
    /// (default [`WriteQueueLimits::default`]). When a writer falls behind
    /// (a disk slower than the network), the proxy stops reading from both
    /// sides until the writer catches up: memory stays bounded and no frame
    /// is dropped. Waits are counted in [`Recorder::write_queue`].
    pub fn write_queue(mut self, limits: WriteQueueLimits) -> Self {
        self.queue.limits = limits;
        self
    }

    /// While `paused` holds `true`, session writers take no frames: stands in
    /// for a stalled disk, to see backpressure work (tests, measurements).
    /// [`Recorder::shutdown`] waits for writers, so resume before it.
    pub fn pause_writing(mut self, paused: watch::Receiver<bool>) -> Self {
        self.queue.pause = Some(paused);
        self
    }

    /// Checks the upstream, creates the output folder and starts listening.
    pub async fn start(self) -> Result<Recorder, RecorderError> {
        let upstream = upstream::Upstream::new(&self.upstream, &self.trust)?;
        let warning = private_dir::prepare(&self.out).map_err(|source| RecorderError::OutDir {
            path: self.out.clone(),
            source,
        })?;
        if let Some(warning) = warning {
            tracing::warn!("{warning}");
        }
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            self.provider,
            upstream,
            self.out,
            self.scrubber,
            stop_rx.clone(),
            (self.hook, self.credential_hook),
            self.queue,
        ));
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|source| RecorderError::Bind {
                addr: self.bind,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| RecorderError::Bind {
                addr: self.bind,
                source,
            })?;
        let listener = understudy_mock::net::low_latency(listener);
        let mut servers = vec![spawn_server(listener, app.clone(), stop_rx.clone())];
        let tls = match self.tls_bind {
            Some(tls_bind) => {
                let identity = TlsIdentity::generate()?;
                let tcp = tokio::net::TcpListener::bind(tls_bind)
                    .await
                    .map_err(|source| RecorderError::Bind {
                        addr: tls_bind,
                        source,
                    })?;
                let listener =
                    TlsListener::new(tcp, &identity).map_err(|source| RecorderError::Bind {
                        addr: tls_bind,
                        source,
                    })?;
                let bound = axum::serve::Listener::local_addr(&listener).map_err(|source| {
                    RecorderError::Bind {
                        addr: tls_bind,
                        source,
                    }
                })?;
                servers.push(spawn_server(listener, app, stop_rx));
                Some((bound, identity))
            }
            None => None,
        };
        tracing::info!(%addr, upstream = %shared.upstream.host(), "understudy recorder listening");
        Ok(Recorder {
            addr,
            tls,
            shared,
            stop,
            servers,
        })
    }
}

fn spawn_server<L>(listener: L, app: Router, mut stop: watch::Receiver<bool>) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "recorder listener stopped");
        }
    })
}

/// Every request: a WebSocket upgrade or a plain HTTP exchange.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let start = Instant::now();
    let (mut parts, body) = request.into_parts();
    let wants_upgrade = parts
        .headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_upgrade {
        match WebSocketUpgrade::from_request_parts(&mut parts, &shared).await {
            Ok(upgrade) => return ws::proxy(shared, parts, upgrade, start).await,
            Err(rejection) => return axum::response::IntoResponse::into_response(rejection),
        }
    }
    http::proxy(shared, parts, body, start).await
}
