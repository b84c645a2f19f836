//! `understudy`: mock realtime voice providers, conformance, and fixture tools.

mod agent_cmd;
mod conform_cmd;
mod fixtures_cmd;
mod limit_args;
mod options;
mod record_cmd;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use understudy_mock::{
    JournalCaps, JournalMode, MockServer, MockServerBuilder, ReadLimits, ResponderConfig,
    SetupFault,
};

/// Build and test realtime voice agents without calling the providers.
#[derive(Debug, Parser)]
#[command(name = "understudy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the mock providers (every dialect this build knows) on one port.
    Serve(ServeArgs),
    /// Serve realtime voice agents to a front end.
    ///
    /// Speaks the JSON event vocabulary of AgentScope's realtime front end at
    /// `ws://HOST:PORT/ws/{user_id}/{session_id}`: the first message is
    /// `client_session_create` with `config {instructions, agent_name,
    /// model_provider}`, answered by `server_session_created` and `agent_ready`;
    /// then `client_audio_append` (base64 PCM16, `format.rate`, 16 kHz if absent),
    /// `client_text_append`, `client_image_append`, `client_audio_commit`,
    /// `client_response_cancel`, `client_session_end` in, `agent_*` events out
    /// (audio at 24 kHz). `model_provider` (openai, dashscope, gemini) picks the
    /// provider per session; `--provider` is the default.
    ///
    /// A provider with no URL is served by an in-process mock (the respond
    /// engine with the bundled voice), so the command works offline. Give a
    /// provider's URL (and key) to use the real one.
    Agent(agent_cmd::AgentArgs),
    /// Record sessions from a provider as cassettes, through a local proxy.
    ///
    /// Listens locally and forwards every WebSocket and HTTP exchange the
    /// provider's SDKs use (realtime, TTS, chat) to the upstream and back
    /// unchanged, writing one cassette per session with secrets scrubbed.
    Record(record_cmd::RecordArgs),
    /// Run the bundled conformance suite in-process against the bundled mocks.
    Conform(conform_cmd::ConformArgs),
    /// Inspect, check and make cassettes.
    #[command(subcommand)]
    Fixtures(fixtures_cmd::FixturesCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineKind {
    /// Answer any conversation with the protocol-faithful responder.
    Respond,
    /// Replay cassettes with their recorded timing.
    Replay,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Which engine answers sessions.
    #[arg(long, value_enum, default_value_t = EngineKind::Respond)]
    engine: EngineKind,
    /// Folder of cassettes for the replay engine (default: the bundled ones).
    /// A client picks one with `?cassette=NAME`; otherwise the first of its dialect plays.
    #[arg(long)]
    cassettes: Option<PathBuf>,
    /// Timing factor: 2 plays everything twice as fast (positive, finite).
    #[arg(long, default_value_t = 1.0, value_parser = options::speed)]
    speed: f64,
    /// Require an API key, sent each provider's way (Bearer; Gemini: x-goog-api-key
    /// or ?key=); a bad key gets the provider's auth error.
    #[arg(long)]
    require_auth: bool,
    /// Accept only this key (repeatable); implies --require-auth.
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,
    /// Largest client frame (or HTTP TTS request body) accepted, in bytes; a larger
    /// frame gets an `error` event, a larger body a 413.
    #[arg(long, default_value_t = MockServerBuilder::DEFAULT_MAX_FRAME_BYTES)]
    max_frame_bytes: usize,
    /// What the journal (`/__understudy/journal`) keeps of each session: `off`
    /// (nothing; the routes answer 404), `summary` (each frame's type and first 512
    /// characters, every note: enough to debug a replay) or `full` (whole frames,
    /// audio included: the inspector plays it and exports it in cassettes).
    /// In `summary` a frame the mock sent is held as the session held it and
    /// cut to its summary when read (no work on the send path); what clients
    /// sent is stored without its audio; no route serves audio. Every byte
    /// held counts against --journal-max-bytes.
    #[arg(long, default_value = "summary")]
    journal: JournalMode,
    /// Most sessions the journal keeps; the oldest are evicted (and counted in
    /// `/__understudy/journal/stats`).
    #[arg(long, default_value_t = JournalCaps::DEFAULT_MAX_SESSIONS)]
    journal_max_sessions: usize,
    /// Most bytes the journal keeps; the oldest sessions are evicted first.
    #[arg(long, default_value_t = JournalCaps::DEFAULT_MAX_BYTES)]
    journal_max_bytes: usize,
    /// Events a subscriber of the live stream (`/__understudy/stream`, the
    /// inspector page) may fall behind before it loses some and is told how many.
    #[arg(long, default_value_t = understudy_mock::DEFAULT_STREAM_BUFFER)]
    journal_stream_buffer: usize,
    /// A journal read (list, session, page, WAV, cassette) not finished within
    /// this time, its wait in the reader's queue included, is abandoned and
    /// answered 503 with a JSON error. Seconds, or `250ms`, `1m`; never off
    /// (a read must not wait forever).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = limit_args::deadline)]
    journal_read_deadline: Duration,
    /// Most subscribers of the live stream (`/__understudy/stream`, one per
    /// inspector tab) at once; past it a new one gets 503 with `Retry-After`.
    #[arg(long, default_value_t = ReadLimits::DEFAULT_MAX_SUBSCRIBERS)]
    journal_max_subscribers: usize,
    /// End each session after this many seconds, the provider's way (respond engine):
    /// OpenAI `session_expired` then close 1001 (announced in `expires_at`), DashScope
    /// close 1001 (announced in `expires_at`), Gemini `goAway` then close (as a
    /// connection limit; the shorter of the two wins), GPT-Live
    /// `session.closed {reason: "expired"}` then close 1000 (announced in `expires_at`).
    #[arg(long, value_name = "SECONDS", value_parser = options::seconds)]
    session_limit: Option<f64>,
    /// Make every DashScope session's set-up fail (Qwen-Omni and Qwen-TTS
    /// realtime): `setup-error` (an error instead of session.updated),
    /// `setup-silent` (no answer) or `setup-close`. A client can also ask per
    /// connection with the `X-Understudy-Fault` header (an unknown name gets HTTP 400).
    #[arg(long, value_name = "FAULT", value_parser = options::fault)]
    fault: Option<SetupFault>,
    /// Also serve every route over TLS on this port (0 picks one), with a
    /// certificate generated at start; the official Gemini SDK needs wss://.
    #[arg(long, value_name = "PORT")]
    tls_port: Option<u16>,
    /// Write the CA certificate of the TLS listener here (trust it with SSL_CERT_FILE).
    #[arg(long, value_name = "FILE", requires = "tls_port")]
    ca_file: Option<PathBuf>,
    /// Close each Gemini connection after this many seconds, sending goAway first.
    #[arg(long, value_name = "SECONDS", value_parser = options::seconds)]
    connection_limit: Option<f64>,
    /// Serve the retired OpenAI Realtime beta (`OpenAI-Beta: realtime=v1`) as it
    /// was while it was live, for old cassettes and old clients. Without it a
    /// beta-shaped session is refused as the service refuses it now: an `error`
    /// (`beta_api_shape_disabled`) as the first frame, then close 4000.
    #[arg(long)]
    legacy_beta: bool,
    /// How a beta-shaped session is refused (without --legacy-beta):
    /// `close-4000` (error event then close 4000, as observed) or `http-500`
    /// (a 500 at the handshake, reported but unconfirmed).
    #[arg(long, value_name = "HOW", default_value = "close-4000")]
    beta_refusal: understudy_mock::BetaRefusal,
    /// Serve (in the legacy beta dialect) a session that asks for the beta only
    /// by the `openai-beta.realtime-v1` browser subprotocol, instead of refusing
    /// it like the header (unconfirmed; refused by default).
    #[arg(long)]
    allow_beta_subprotocol: bool,
    #[command(flatten)]
    limits: limit_args::LimitArgs,
    /// How long a request body may take to arrive once its headers have; late:
    /// `408` with the route's provider error body. `0`/`off` disables.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = limit_args::timeout)]
    body_timeout: limit_args::Timeout,
    /// Close code of a session ended by --first-frame-timeout or --idle-timeout.
    /// No provider documents one (unconfirmed); 1001 ("going away") is what
    /// OpenAI sends at its session limit and Gemini after goAway.
    #[arg(long, value_name = "CODE", default_value_t = understudy_mock::DEFAULT_TIMEOUT_CLOSE)]
    timeout_close_code: u16,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The recorder's secrets are known before anything is logged, so that the
    // logs can be scrubbed with them.
    let log_scrubber = match &cli.command {
        Command::Record(args) => match record_cmd::scrubber(args) {
            Ok(scrubber) => Some(scrubber),
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("UNDERSTUDY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    if log_scrubber.is_some() {
        // At TRACE the WebSocket library's frame codec logs every frame's
        // payload in hex, a form of the recorder's secrets the log scrubber
        // does not search: while recording, that module logs at DEBUG at
        // most (the library's message-level TRACE lines stay, scrubbed).
        if let Ok(directive) = "tungstenite::protocol::frame=debug".parse() {
            filter = filter.add_directive(directive);
        }
    }
    let log_scrubber: Option<record_cmd::LogScrubber> =
        log_scrubber.map(|s| std::sync::Arc::new(std::sync::RwLock::new(s)));
    match &log_scrubber {
        Some(scrubber) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(record_cmd::ScrubbingStderr(std::sync::Arc::clone(scrubber)))
            .init(),
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            // Colour only for a person at a terminal, not in a file or a CI log.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await.map(|()| true),
            Command::Agent(args) => agent_cmd::run(args).await.map(|()| true),
            Command::Record(args) => {
                let logs = log_scrubber.unwrap_or_default();
                record_cmd::run(args, logs).await.map(|()| true)
            }
            Command::Conform(args) => conform_cmd::run(args).await,
            Command::Fixtures(command) => fixtures_cmd::run(command).await,
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            if let Some(hint) = hint_for(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

/// A next step for errors a user can fix from the command line.
fn hint_for(error: &anyhow::Error) -> Option<&'static str> {
    let port_taken = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
    });
    port_taken.then_some(
        "another program (or another understudy) holds that port: pick another with \
         --port (and --tls-port), or 0 for a free one",
    )
}

async fn serve(args: ServeArgs) -> Result<()> {
    let mut builder = MockServer::builder()
        .bind(SocketAddr::new(args.host, args.port))
        .speed(args.speed)
        .max_frame_bytes(args.max_frame_bytes)
        .journal(args.journal)
        .journal_caps(JournalCaps {
            max_sessions: args.journal_max_sessions,
            max_bytes: args.journal_max_bytes,
        })
        .journal_stream_buffer(args.journal_stream_buffer)
        .timeouts(args.limits.timeouts(args.body_timeout.0))
        .timeout_close(args.timeout_close_code)
        .max_sessions(args.limits.max_sessions)
        .journal_read_limits(ReadLimits {
            read_deadline: args.journal_read_deadline,
            max_subscribers: args.journal_max_subscribers,
        });
    if let Some(fault) = args.fault {
        builder = builder.setup_fault(fault);
    }
    if let Some(port) = args.tls_port {
        builder = builder.tls(SocketAddr::new(args.host, port));
    }
    if let Some(limit) = args.connection_limit {
        builder = builder.connection_limit(Duration::from_secs_f64(limit));
    }
    builder = builder.beta_policy(understudy_mock::BetaPolicy {
        legacy: args.legacy_beta,
        refusal: args.beta_refusal,
        refuse_subprotocol: !args.allow_beta_subprotocol,
    });
    if args.require_auth || !args.api_keys.is_empty() {
        builder = builder.require_auth(args.api_keys.clone());
    }
    if args.cassettes.is_some() && matches!(args.engine, EngineKind::Respond) {
        eprintln!(
            "warning: --cassettes is read only by the replay engine; this serves the respond \
             engine (add --engine replay to replay them)"
        );
    }
    builder = match args.engine {
        EngineKind::Respond => {
            let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice()?);
            config.session_limit = args.session_limit.map(Duration::from_secs_f64);
            builder.respond(config)
        }
        EngineKind::Replay => {
            let cassettes = fixtures_cmd::load_cassettes(args.cassettes.as_deref())?;
            if cassettes.is_empty() {
                bail!("no cassettes to replay");
            }
            eprintln!(
                "replaying {} cassettes: {}",
                cassettes.len(),
                cassettes
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            builder.replay(&cassettes)?
        }
    };
    let exposed = if args.require_auth || !args.api_keys.is_empty() {
        "Every provider route and the journal need a key."
    } else {
        "Every provider route and the journal (instructions, transcripts, what clients \
         sent) answer without a key: add --require-auth or --api-key KEY."
    };
    if let Some(warning) = options::exposure_warning(args.host, exposed) {
        eprintln!("{warning}");
    }
    let server = builder.start().await.context("starting the mock")?;
    if let (Some(path), Some(pem)) = (&args.ca_file, server.ca_pem()) {
        std::fs::write(path, pem)
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
    }
    let mut banner = format!("understudy serving on {}\n", server.url());
    if let Some(tls) = server.tls_url() {
        banner.push_str(&format!("understudy serving TLS on {tls}\n"));
    }
    let (url, dashscope) = (server.url(), server.dashscope_url());
    let routes = [
        (
            "openai realtime",
            format!("{}/realtime?model=gpt-realtime", server.openai_base_url()),
        ),
        ("openai gpt-live", server.openai_live_url()),
        (
            "dashscope omni",
            format!("{dashscope}?model=qwen3-omni-flash-realtime"),
        ),
        (
            "dashscope tts",
            format!("{dashscope}?model=qwen3-tts-flash-realtime"),
        ),
        (
            "gemini live",
            format!(
                "{}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
                server.tls_url().unwrap_or_else(|| server.gemini_base_url())
            ),
        ),
        ("openai speech", format!("POST {url}/v1/audio/speech")),
        (
            "gemini tts",
            format!("POST {url}/v1beta/models/gemini-2.5-flash-preview-tts:generateContent"),
        ),
        ("openai chat", format!("POST {url}/v1/chat/completions")),
        (
            "dashscope chat",
            format!("POST {url}/compatible-mode/v1/chat/completions"),
        ),
        ("journal", format!("{url}/__understudy/journal")),
        ("inspector", format!("{url}/__understudy/")),
    ];
    for (name, route) in routes {
        banner.push_str(&format!("  {:<18} {route}\n", format!("{name}:")));
    }
    announce_and_wait(&banner).await?;
    eprintln!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Prints the banner of a long-running command (its first lines are what
/// scripts read for the address) and waits for Ctrl-C.
pub(crate) async fn announce_and_wait(banner: &str) -> Result<()> {
    // A closed stdout (a supervisor that stopped reading) must not kill the server.
    let mut stdout = std::io::stdout();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
}
