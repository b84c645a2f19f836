//! `agent-memory`: does the agent server give memory back when its sessions
//! end? The server runs as a process of its own (so its RSS is its own): the
//! `understudy agent` binary given with `--agent-bin`, or by default this
//! bench re-run as a hidden `agent-server` that starts the same
//! `DeployServer` over an in-process mock, as `understudy agent` does.
//!
//! N front ends each open a session (`client_session_create`, then wait for
//! `agent_ready`: the agent and its provider connection are up) and stay
//! idle. The server's RSS and descriptors are read before, with all N open,
//! and after they all closed (twice: 1 s and `--settle` s after), with the
//! share of the growth that came back.

use crate::error::{BenchError, Result};
use crate::procstat;
use crate::report::{mib, or_na, progress, Report, Table};
use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Options of `agent-memory`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Idle sessions opened at once.
    #[arg(long, default_value_t = 2_000)]
    pub sessions: usize,
    /// Sessions being opened at a time.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Seconds to wait after the last close before the last reading.
    #[arg(long, default_value_t = 5.0)]
    pub settle: f64,
    /// The `understudy` binary to measure (`understudy agent --port 0` is
    /// run with its in-process mock). Default: this bench's own agent server
    /// (the same library code, no `understudy` build needed).
    #[arg(long, value_name = "PATH")]
    pub agent_bin: Option<PathBuf>,
}

/// Options of the hidden `agent-server` (what `agent-memory` runs by default).
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Session cap of the agent server and of its in-process mock.
    #[arg(long, default_value_t = 2_000)]
    pub max_sessions: usize,
}

/// The front end's socket.
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One reading of the server process.
struct Reading {
    label: &'static str,
    open: usize,
    rss: Option<u64>,
    fds: Option<usize>,
}

/// The agent server process; killed when dropped.
struct Server {
    child: Child,
    ws: String,
    /// Its standard output, kept open (a closed pipe could fail its writes).
    _stdout: Option<BufReader<std::process::ChildStdout>>,
}

impl Server {
    /// Starts the server `args` names and reads its URL from its first line.
    fn start(args: &Args) -> Result<Server> {
        let cap = (args.sessions + 16).to_string();
        let mut command = match &args.agent_bin {
            Some(bin) => {
                let mut command = Command::new(bin);
                command.args(["agent", "--port", "0", "--idle-timeout", "off"]);
                command.args(["--max-sessions", &cap]);
                command
            }
            None => {
                let me = std::env::current_exe().map_err(|source| BenchError::Io {
                    what: "finding the bench binary".into(),
                    source,
                })?;
                let mut command = Command::new(me);
                command.args(["agent-server", "--max-sessions", &cap]);
                command
            }
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| BenchError::Io {
                what: format!("starting {command:?}"),
                source,
            })?;
        let mut stdout = child.stdout.take().map(BufReader::new);
        let first = stdout.as_mut().and_then(|out| {
            let mut line = String::new();
            out.read_line(&mut line).ok().map(|_| line)
        });
        let ws = first
            .as_deref()
            .and_then(|line| line.split_whitespace().find(|w| w.starts_with("ws://")))
            .map(str::to_owned);
        let mut server = Server {
            child,
            ws: String::new(),
            _stdout: stdout,
        };
        server.ws = ws.ok_or_else(|| {
            BenchError::Protocol(format!("the agent server printed no ws:// URL: {first:?}"))
        })?;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn read(&self, label: &'static str, open: usize) -> Reading {
        Reading {
            label,
            open,
            rss: procstat::rss_bytes(Some(self.pid())).ok(),
            fds: std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
                .ok()
                .map(|dir| dir.count()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens session `i` and waits until its agent is ready.
async fn open_session(ws: &str, i: usize) -> Result<Socket> {
    let url = format!("{ws}/ws/bench/s{i}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    let create = serde_json::json!({"type": "client_session_create", "config": {
        "instructions": "Be brief.", "agent_name": "bench", "model_provider": "openai"}});
    socket
        .send(Message::Text(create.to_string().into()))
        .await?;
    tokio::time::timeout(Duration::from_secs(30), agent_ready(&mut socket))
        .await
        .map_err(|_| BenchError::Protocol(format!("session {i}: no agent_ready in 30 s")))??;
    Ok(socket)
}

/// Reads until `agent_ready` (the agent and its provider session are up).
async fn agent_ready(socket: &mut Socket) -> Result<()> {
    while let Some(message) = socket.next().await {
        if let Message::Text(text) = message? {
            match crate::client::event_type(text.as_str()).as_deref() {
                Some("agent_ready") => return Ok(()),
                Some("server_error") => return Err(BenchError::Protocol(text.to_string())),
                _ => {}
            }
        }
    }
    Err(BenchError::Protocol("closed before agent_ready".into()))
}

/// Runs the benchmark.
pub async fn run(args: &Args) -> Result<Report> {
    if args.sessions == 0 {
        return Err(BenchError::Usage("--sessions must be at least 1".into()));
    }
    let server = Server::start(args)?;
    progress(format!(
        "agent server pid {} at {}",
        server.pid(),
        server.ws
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut readings = vec![server.read("before", 0)];
    progress(format!(
        "opening {} idle sessions, {} at a time",
        args.sessions, args.concurrency
    ));
    let ws = server.ws.clone();
    let opened: Vec<Result<Socket>> = futures_util::stream::iter(0..args.sessions)
        .map(|i| {
            let ws = ws.clone();
            async move { open_session(&ws, i).await }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let mut sockets = Vec::with_capacity(opened.len());
    let mut failed = 0;
    for outcome in opened {
        match outcome {
            Ok(socket) => sockets.push(socket),
            Err(error) => {
                if failed == 0 {
                    progress(format!("a session failed: {error}"));
                }
                failed += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    readings.push(server.read("all open", sockets.len()));
    progress(format!("closing {} sessions", sockets.len()));
    futures_util::stream::iter(sockets)
        .for_each_concurrent(args.concurrency.max(1), |mut socket| async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), socket.close(None)).await;
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    readings.push(server.read("closed +1s", 0));
    let settle = Duration::from_secs_f64(args.settle.max(1.0));
    tokio::time::sleep(settle.saturating_sub(Duration::from_secs(1))).await;
    readings.push(server.read("closed +settle", 0));
    Ok(report(args, &readings, failed, settle))
}

fn report(args: &Args, readings: &[Reading], failed: usize, settle: Duration) -> Report {
    let mut table = Table::new(
        "agent server process: RSS and descriptors",
        &["point", "open_sessions", "rss_mib", "fds"],
    );
    for r in readings {
        table.row(vec![
            r.label.to_owned(),
            r.open.to_string(),
            or_na(r.rss, mib),
            or_na(r.fds, |n| n.to_string()),
        ]);
    }
    let mut verdict = Table::new(
        "memory returned after the sessions closed",
        &[
            "sessions",
            "failed",
            "growth_mib",
            "kept_after_settle_mib",
            "returned_pct",
            "settle_s",
        ],
    );
    let rss = |label: &str| {
        readings
            .iter()
            .find(|r| r.label == label)
            .and_then(|r| r.rss)
    };
    let (before, open, after) = (rss("before"), rss("all open"), rss("closed +settle"));
    let growth = before.zip(open).map(|(b, o)| o.saturating_sub(b));
    let kept = before.zip(after).map(|(b, a)| a.saturating_sub(b));
    let returned = growth
        .zip(kept)
        .filter(|(g, _)| *g > 0)
        .map(|(g, k)| 100.0 * (1.0 - k as f64 / g as f64));
    verdict.row(vec![
        args.sessions.to_string(),
        failed.to_string(),
        or_na(growth, mib),
        or_na(kept, mib),
        or_na(returned, |p| format!("{p:.0}")),
        format!("{:.0}", settle.as_secs_f64()),
    ]);
    Report {
        command: "agent-memory",
        server: if args.agent_bin.is_some() {
            "external"
        } else {
            "child"
        },
        tables: vec![table, verdict],
    }
}

/// The hidden `agent-server`: the deployment server over an in-process mock
/// (respond engine, no journal), as `understudy agent` runs it; prints its
/// URL on the first line and serves until its standard input closes.
pub fn serve(args: &ServerArgs) -> Result<()> {
    use understudy_agents::deploy::{
        DeployConfig, DeployServer, Gate, ProviderEndpoint, Providers,
    };
    let runtime = crate::target::runtime("agent-server", crate::target::cores())?;
    runtime.block_on(async {
        let voice = understudy_mock::bundled_voice()?;
        let mock = understudy_mock::MockServer::builder()
            .respond(understudy_mock::ResponderConfig::with_voice(voice))
            .journal(understudy_mock::JournalMode::Off)
            .max_sessions(args.max_sessions)
            .start()
            .await?;
        let openai = understudy_adapters::registry::provider("openai")
            .map_err(|e| BenchError::Usage(e.to_string()))?;
        let providers = Providers::new(openai).with(
            openai,
            ProviderEndpoint::new(mock.openai_base_url()).api_key("sk-bench"),
        );
        let mut config = DeployConfig::new(providers);
        config.gate = Gate {
            slots: understudy_adapters::serve_limits::SessionSlots::new(args.max_sessions),
            timeouts: understudy_adapters::serve_limits::ServeTimeouts {
                idle: None,
                ..Default::default()
            },
            ..Gate::default()
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let server = DeployServer::start(addr, config)
            .await
            .map_err(|e| BenchError::Protocol(format!("starting the agent server: {e}")))?;
        println!("understudy agent serving on {}", server.url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // Until the bench closes our standard input (or goes away).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        })
        .await;
        server.shutdown().await;
        mock.shutdown().await;
        Ok::<(), BenchError>(())
    })
}
