//! The server under test: a mock started in-process on a runtime of its own,
//! or an external `understudy serve` reached by URL (so an older build can be
//! measured the same way).
//!
//! The in-process mock runs on its own tokio runtime whose threads are named
//! [`SERVER_THREADS`]; the benchmark's clients run on another. That keeps the
//! two apart when CPU is counted, though they share the machine's cores (and,
//! in-process, one address space: RSS then includes the clients, measured
//! only when they are idle).

use crate::error::{BenchError, Result};
use crate::procstat;
use understudy_mock::{JournalCaps, JournalMode, MockServer, MockServerBuilder};

/// Name prefix of the in-process server's runtime threads.
pub const SERVER_THREADS: &str = "mock-server";

/// A tokio runtime of `threads` workers named `name` (blocking threads too).
pub fn runtime(name: &str, threads: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|source| BenchError::Io {
            what: format!("starting the {name} runtime"),
            source,
        })
}

/// [`runtime`], its threads at nice `nice` (Linux; elsewhere at normal
/// priority): load that should yield to everything else on the machine.
pub fn niced_runtime(name: &str, threads: usize, nice: i32) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .on_thread_start(move || lower_priority(nice))
        .enable_all()
        .build()
        .map_err(|source| BenchError::Io {
            what: format!("starting the {name} runtime"),
            source,
        })
}

/// Sets the calling thread's nice value.
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    // SAFETY: setpriority takes plain integers; with PRIO_PROCESS and who 0
    // Linux sets the calling thread's nice value only.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

/// How to reach an external server, from the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ExternalArgs {
    /// Measure an external `understudy serve` at this URL
    /// (`http://127.0.0.1:8765`) instead of starting the mock in-process.
    /// Start it with the engine the subcommand needs (see its help).
    #[arg(long)]
    pub server_url: Option<String>,
    /// Process id of the external server, for its RSS and CPU
    /// (without it they are reported as n/a).
    #[arg(long, requires = "server_url")]
    pub server_pid: Option<u32>,
    /// Worker threads of the in-process server's runtime (default: the
    /// machine's cores).
    #[arg(long)]
    pub server_threads: Option<usize>,
}

/// What an in-process mock is started with.
pub struct InProcess {
    /// The builder, already given its engine.
    pub builder: MockServerBuilder,
    /// Journal detail.
    pub journal: JournalMode,
    /// Journal caps.
    pub caps: JournalCaps,
}

/// The running server under test.
pub struct Target {
    /// `http://host:port`.
    pub http: String,
    /// `ws://host:port`.
    pub ws: String,
    kind: Kind,
}

enum Kind {
    InProcess {
        // Dropped before the runtime (field order), so the server is told to
        // stop while its runtime still runs.
        server: Option<Box<MockServer>>,
        runtime: Option<tokio::runtime::Runtime>,
    },
    External {
        pid: Option<u32>,
    },
}

impl Target {
    /// The respond engine at `speed` with a journal of `journal` within
    /// `caps` (in-process), or the external server `external` names.
    pub fn respond(
        external: &ExternalArgs,
        speed: f64,
        journal: JournalMode,
        caps: JournalCaps,
    ) -> Result<Target> {
        Target::start(external, || {
            Ok(InProcess {
                builder: MockServer::builder()
                    .respond(understudy_mock::ResponderConfig::with_voice(
                        understudy_mock::bundled_voice()?,
                    ))
                    .speed(speed),
                journal,
                caps,
            })
        })
    }

    /// Starts the in-process mock, or points at the external one.
    pub fn start(
        external: &ExternalArgs,
        local: impl FnOnce() -> Result<InProcess>,
    ) -> Result<Target> {
        if let Some(url) = &external.server_url {
            let http = url.trim_end_matches('/').to_owned();
            let ws = http
                .strip_prefix("http://")
                .map(|rest| format!("ws://{rest}"))
                .ok_or_else(|| {
                    BenchError::Usage(format!("--server-url must be http://HOST:PORT, not {url}"))
                })?;
            return Ok(Target {
                http,
                ws,
                kind: Kind::External {
                    pid: external.server_pid,
                },
            });
        }
        let threads = external.server_threads.unwrap_or_else(cores);
        let runtime = runtime(SERVER_THREADS, threads)?;
        let local = local()?;
        let builder = local
            .builder
            .journal(local.journal)
            .journal_caps(local.caps);
        let server = runtime.block_on(builder.start())?;
        Ok(Target {
            http: server.url(),
            ws: format!("ws://{}", server.address()),
            kind: Kind::InProcess {
                server: Some(Box::new(server)),
                runtime: Some(runtime),
            },
        })
    }

    /// `in-process` or `external`.
    pub fn label(&self) -> &'static str {
        match self.kind {
            Kind::InProcess { .. } => "in-process",
            Kind::External { .. } => "external",
        }
    }

    /// The server's resident memory in bytes, when it can be read.
    pub fn rss_bytes(&self) -> Option<u64> {
        match self.kind {
            Kind::InProcess { .. } => procstat::rss_bytes(None).ok(),
            Kind::External { pid: Some(pid) } => procstat::rss_bytes(Some(pid)).ok(),
            Kind::External { pid: None } => None,
        }
    }

    /// CPU nanoseconds the server has used so far, when they can be read.
    pub fn cpu_ns(&self) -> Option<u64> {
        match self.kind {
            // The sessions' runtime and the threads that end their turns.
            Kind::InProcess { .. } => Some(
                procstat::threads_cpu_ns(SERVER_THREADS).ok()?
                    + procstat::threads_cpu_ns(understudy_mock::TURN_THREADS).ok()?,
            ),
            Kind::External { pid: Some(pid) } => procstat::process_cpu_ns(pid).ok(),
            Kind::External { pid: None } => None,
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Kind::InProcess { server, runtime } = &mut self.kind {
            drop(server.take());
            if let Some(runtime) = runtime.take() {
                runtime.shutdown_background();
            }
        }
    }
}

/// The machine's cores (at least one).
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
