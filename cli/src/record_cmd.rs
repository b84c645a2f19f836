//! `understudy record`: a proxy that writes each session it forwards as a
//! scrubbed cassette.

use anyhow::{bail, Context, Result};
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use understudy_adapters::tls::TlsTrust;
use understudy_fixtures::Scrubber;
use understudy_recorder::{ProviderSpec, Recorder, WriteQueueLimits, REPORT_FILE};

/// Arguments of `understudy record`.
#[derive(Debug, clap::Args)]
#[command(after_help = "EXAMPLES:
  # Record OpenAI Realtime sessions; point the SDK at http://127.0.0.1:8766/v1
  OPENAI_API_KEY=sk-… understudy record --provider openai --out recordings/openai

  # Record from a local mock (how the tests check the recorder)
  understudy record --provider gemini --upstream http://127.0.0.1:8765 --tls-port 0 --ca-file ca.pem

Each session (one WebSocket connection or one HTTP exchange) becomes
DIR/<dialect>-NNN.jsonl (+ WAV sidecars); DIR/record-report.json lists them with the
latency the proxy added. Frames go to DIR/<dialect>-NNN.jsonl.partial as they pass (files 0600;
DIR is created 0700). Stop with Ctrl-C or SIGTERM: open sessions are written, marked
incomplete, and the command exits 0. A disk slower than the network makes the proxy wait
(see --write-queue-frames / --write-queue-mib) rather than hold frames without bound.")]
pub struct RecordArgs {
    /// The provider whose protocols are recorded (names the cassettes' provider
    /// and which fields hold audio).
    #[arg(long, value_parser = parse_provider)]
    provider: &'static ProviderSpec,
    /// Where to forward (default: the provider's public endpoint, its registry `api_origin`). http(s) and
    /// ws(s) URLs both work; a path prefix is kept.
    #[arg(long)]
    upstream: Option<String>,
    /// Folder for cassettes and the report (created if missing).
    #[arg(long, default_value = "recordings")]
    out: PathBuf,
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8766)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Also listen with TLS on this port (0 picks one), with a certificate
    /// generated at start; the Gemini SDK only connects with wss://.
    #[arg(long, value_name = "PORT")]
    tls_port: Option<u16>,
    /// Write the CA of the TLS listener here (clients trust it via SSL_CERT_FILE).
    #[arg(long, value_name = "FILE", requires = "tls_port")]
    ca_file: Option<PathBuf>,
    /// Also trust this CA (PEM) for the upstream, besides the system's roots.
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Scrub the value of this environment variable wherever it appears
    /// (repeatable). The provider's own key variables (OPENAI_API_KEY,
    /// GEMINI_API_KEY / GOOGLE_API_KEY, DASHSCOPE_API_KEY) are scrubbed
    /// whenever they are set.
    #[arg(
        long = "secret-env",
        value_name = "VAR",
        env = "UNDERSTUDY_SECRET_ENV",
        value_delimiter = ','
    )]
    secret_env: Vec<String>,
    /// Also scrub this request/response header (repeatable).
    #[arg(long = "scrub-header", value_name = "NAME")]
    scrub_headers: Vec<String>,
    /// Also scrub this query parameter (repeatable).
    #[arg(long = "scrub-query", value_name = "NAME")]
    scrub_query: Vec<String>,
    /// Most frames a session may have waiting for its cassette writer. When
    /// the disk falls behind, the proxy waits (stops reading both sides)
    /// rather than buffering without bound or dropping frames; the waits are
    /// counted in record-report.json (`write_queue`).
    #[arg(long, value_name = "FRAMES", default_value_t = WriteQueueLimits::DEFAULT_FRAMES as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    write_queue_frames: u32,
    /// Most payload MiB a session may have waiting for its cassette writer
    /// (the same backpressure; one frame larger than this passes alone).
    #[arg(long, value_name = "MIB", default_value_t = (WriteQueueLimits::DEFAULT_BYTES >> 20) as u32, value_parser = clap::value_parser!(u32).range(1..=4095))]
    write_queue_mib: u32,
}

/// Looks the provider up in the adapters' registry (aliases included).
fn parse_provider(name: &str) -> Result<&'static ProviderSpec, String> {
    understudy_recorder::provider(name).map_err(|e| e.to_string())
}

/// The scrubber the arguments ask for: standard credentials, the named
/// variables' values, and the provider's key variables when set. Built before
/// logging starts, because the logs are scrubbed with it too.
pub fn scrubber(args: &RecordArgs) -> Result<Scrubber> {
    let mut scrubber = Scrubber::standard();
    for name in &args.scrub_headers {
        scrubber = scrubber.header(name);
    }
    for name in &args.scrub_query {
        scrubber = scrubber.query_param(name);
    }
    for var in &args.secret_env {
        let var = var.trim();
        if var.is_empty() {
            continue;
        }
        let Ok(value) = std::env::var(var) else {
            bail!("--secret-env {var}: the variable is not set");
        };
        scrubber = scrubber
            .secret(var, value)
            .with_context(|| format!("--secret-env {var}"))?;
    }
    for var in args.provider.key_env_vars {
        let already = scrubber.labels().any(|l| l == *var);
        if let (false, Ok(value)) = (already, std::env::var(var)) {
            // A key too short to scrub safely is still scrubbed where it
            // stands (headers, query); only the everywhere-search skips it.
            if let Ok(next) = scrubber.clone().secret(*var, value) {
                scrubber = next;
            }
        }
    }
    Ok(scrubber)
}

/// Runs the recorder until Ctrl-C with the log writer's scrubber `logs`
/// (built by [`scrubber`]), which also learns each session's credentials.
pub async fn run(args: RecordArgs, logs: LogScrubber) -> Result<()> {
    let scrubber = logs.read().unwrap_or_else(|e| e.into_inner()).clone();
    let upstream = args
        .upstream
        .clone()
        .unwrap_or_else(|| args.provider.api_origin.to_owned());
    let trust = match &args.upstream_ca {
        Some(path) => TlsTrust::SystemAnd(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading --upstream-ca {}", path.display()))?,
        ),
        None => TlsTrust::System,
    };
    let labels: Vec<String> = scrubber.labels().map(str::to_owned).collect();
    if let Some(warning) = crate::options::exposure_warning(
        args.host,
        "Anyone who reaches the proxy talks to the upstream through it, and what they \
         send is recorded.",
    ) {
        eprintln!("{warning}");
    }
    let mut builder = Recorder::builder(args.provider, upstream)
        .out(&args.out)
        .scrubber(scrubber)
        .trust(trust)
        .bind(SocketAddr::new(args.host, args.port))
        .write_queue(WriteQueueLimits {
            frames: args.write_queue_frames as usize,
            bytes: (args.write_queue_mib as usize) << 20,
        })
        .on_credentials(move |learned| {
            logs.write()
                .unwrap_or_else(|e| e.into_inner())
                .absorb(learned)
        })
        .on_session(|summary| {
            let mut stdout = std::io::stdout();
            let _ = writeln!(stdout, "{}", summary.line()).and_then(|()| stdout.flush());
        });
    if let Some(port) = args.tls_port {
        builder = builder.tls(SocketAddr::new(args.host, port));
    }
    let recorder = builder.start().await.context("starting the recorder")?;
    if let (Some(path), Some(pem)) = (&args.ca_file, recorder.ca_pem()) {
        std::fs::write(path, pem)
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
    }
    let report = recorder.report();
    let mut banner = format!("understudy recording on {}\n", recorder.url());
    if let Some(tls) = recorder.tls_url() {
        banner.push_str(&format!("understudy recording TLS on {tls}\n"));
    }
    banner.push_str(&format!(
        "  provider {}, upstream {}, cassettes in {}\n  scrubbing credential headers and query keys{}\n",
        report.provider,
        report.upstream,
        args.out.display(),
        if labels.is_empty() {
            String::new()
        } else {
            format!(", and the values of {}", labels.join(", "))
        }
    ));
    announce_and_wait_for_stop(&banner).await?;
    eprintln!("stopping: writing open sessions");
    let report = recorder.shutdown().await;
    let incomplete = report.sessions.iter().filter(|s| !s.complete).count();
    println!(
        "{} sessions recorded ({incomplete} incomplete); report in {}",
        report.sessions.len(),
        args.out.join(REPORT_FILE).display()
    );
    Ok(())
}

/// Prints the banner (its first lines are what scripts read for the address)
/// and waits for Ctrl-C (SIGINT) or SIGTERM, which a supervisor (systemd,
/// Docker, Kubernetes) sends: both end open sessions as incomplete cassettes.
async fn announce_and_wait_for_stop(banner: &str) -> Result<()> {
    // A closed stdout (a supervisor that stopped reading) must not stop the recorder.
    let mut stdout = std::io::stdout();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C"),
            _ = term.recv() => {
                tracing::info!("SIGTERM received");
                Ok(())
            }
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}

/// The log writer's scrubber, shared with the recorder so it can learn each
/// session's credentials.
pub type LogScrubber = std::sync::Arc<std::sync::RwLock<Scrubber>>;

/// A log writer that scrubs each formatted event before it reaches stderr, so
/// no secret reaches the logs whatever a dependency chooses to log: every
/// form of a named secret is replaced, and any piece of one at least
/// [`understudy_fixtures::MIN_FRAGMENT_LEN`] bytes long is masked too.
#[derive(Clone)]
pub struct ScrubbingStderr(pub LogScrubber);

/// One log event, buffered until it is complete.
pub struct ScrubbedEvent {
    scrubber: LogScrubber,
    buffer: Vec<u8>,
}

impl std::io::Write for ScrubbedEvent {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbedEvent {
    fn drop(&mut self) {
        let scrubber = self.scrubber.read().unwrap_or_else(|e| e.into_inner());
        // Whole secrets (in any encoded form) and pieces of them: a key split
        // across two frames reaches the log as two events, half in each.
        let clean = scrubber.fragments(&self.buffer);
        let _ = std::io::stderr().write_all(&clean);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbingStderr {
    type Writer = ScrubbedEvent;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedEvent {
            scrubber: std::sync::Arc::clone(&self.0),
            buffer: Vec::new(),
        }
    }
}
