//! `understudy-bench`: load benchmarks for the mock server.
//!
//! Multi-session load runs that criterion's one-function loops do not fit:
//! each subcommand starts the mock in-process (or measures an external
//! `understudy serve` given `--server-url`), drives it with WebSocket clients
//! that send what a real client sends, prints progress on stderr and a final
//! table on stdout (`--json` for one JSON document).
//!
//! - `agent-memory`: does `understudy agent` give memory back once its
//!   sessions end?
//! - `journal-memory`: does the journal stay bounded over many sessions?
//! - `journal-reads`: do inspector reads move live sessions' first audio?
//! - `overload`: a burst of connects past the session cap: is every one
//!   served or refused (429) within 1 s?
//! - `replay-throughput`: frames/s and CPU per frame of replay against a
//!   no-logic WebSocket server sending the same frames.
//! - `respond-capacity`: real-time voice sessions against the respond
//!   engine with VAD, ramping N until its audio deltas' lateness p99 passes
//!   20 ms.
//! - `paced-replay`: lateness of replayed audio deltas due 20 ms apart,
//!   against the no-logic server sending on the same schedule.

mod agent_memory;
mod baseline;
mod cassette;
mod client;
mod error;
mod inspect;
mod journal_memory;
mod journal_reads;
mod load;
mod overload;
mod paced_replay;
mod procstat;
mod replay_throughput;
mod report;
mod respond_capacity;
mod stats;
mod target;

use clap::{Parser, Subcommand};
use error::Result;
use std::process::ExitCode;

/// Load benchmarks for the understudy mock server.
#[derive(Debug, Parser)]
#[command(name = "understudy-bench", version, about, long_about = None)]
struct Cli {
    /// Print the results as one JSON document instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Worker threads of the clients' runtime (default: the machine's cores).
    #[arg(long, global = true)]
    client_threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// N idle agent sessions (each with its agent and provider connection)
    /// opened, then closed: the agent server's RSS and descriptors before,
    /// with all open, and after, and the share of the growth returned.
    AgentMemory(agent_memory::Args),
    /// The agent server `agent-memory` measures by default (internal).
    #[command(hide = true)]
    AgentServer(agent_memory::ServerArgs),
    /// N short text sessions, C at a time: server RSS after 1,000 and after
    /// N, the difference (target: within 50 MB), and the journal's caps and
    /// evictions.
    JournalMemory(journal_memory::Args),
    /// With N sessions journalled, live text sessions' TTFA p50/p99 alone and
    /// while readers loop over the inspector's session routes, and the p99
    /// difference (target: under 5 ms).
    JournalReads(journal_reads::Args),
    /// N sessions each replaying one turn of 500 audio deltas as fast as the
    /// server sends: frames/s and server CPU µs per frame, the mock's replay
    /// against a no-logic tokio-tungstenite server, per N; `--repeat 5` runs
    /// the same load five times on the same servers.
    ReplayThroughput(replay_throughput::Args),
    /// 8,000 connects in 1 s against a session cap: counts served, refused
    /// (429), timed out and reset, and the time to answer.
    Overload(overload::Args),
    /// N sessions each replaying one turn of 500 audio deltas due 20 ms
    /// apart: lateness p50/p99/max of each delta against its due time, the
    /// mock's replay against a no-logic server on the same schedule, per N.
    PacedReplay(paced_replay::Args),
    /// N real-time voice sessions (a speech clip, then silence, in 20 ms
    /// chunks) against the respond engine with server VAD, N ramping until
    /// the answers' audio deltas' lateness p99 passes 20 ms: p50/p99 per N
    /// and the largest N within the limit.
    RespondCapacity(respond_capacity::Args),
    /// Writes replay-throughput's synthesized cassette to a folder, for an
    /// external `understudy serve --cassettes DIR`.
    WriteCassette(replay_throughput::WriteArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    let cli = Cli::parse();
    if let Command::AgentServer(args) = &cli.command {
        return match agent_memory::serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("understudy-bench agent-server: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&cli) {
        Ok(report) => {
            report.print(cli.json);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("understudy-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<report::Report> {
    let clients = target::runtime(
        "bench-client",
        cli.client_threads.unwrap_or_else(target::cores),
    )?;
    match &cli.command {
        Command::JournalMemory(args) => {
            let target = journal_memory::target(args)?;
            clients.block_on(journal_memory::run(args, &target))
        }
        Command::JournalReads(args) => {
            let target = journal_reads::target(args)?;
            clients.block_on(journal_reads::run(args, &target))
        }
        Command::ReplayThroughput(args) => {
            let target = replay_throughput::target(args)?;
            clients.block_on(replay_throughput::run(args, &target))
        }
        Command::PacedReplay(args) => {
            let target = paced_replay::target(args)?;
            clients.block_on(paced_replay::run(args, &target))
        }
        Command::RespondCapacity(args) => {
            let target = respond_capacity::target(args)?;
            clients.block_on(respond_capacity::run(args, &target))
        }
        Command::Overload(args) => {
            let target = overload::target(args)?;
            clients.block_on(overload::run(args, &target))
        }
        Command::WriteCassette(args) => replay_throughput::write_cassette(args),
        Command::AgentMemory(args) => clients.block_on(agent_memory::run(args)),
        // Served by `main` (a server prints its URL, not a report).
        Command::AgentServer(_) => Err(error::BenchError::Usage(
            "agent-server serves; it measures nothing".into(),
        )),
    }
}
