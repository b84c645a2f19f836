//! `overload`: many connects in a short time (8,000 in 1 s by default)
//! against a server with a session cap. Every connect should be served
//! (upgrade and first frame) or refused the provider's way (`429`) within
//! 1 s; none should hang or be reset.
//!
//! Each connect is an OpenAI Realtime upgrade (`/v1/realtime`), started at
//! its slot in the window (evenly spread). A served session is held open
//! until every connect has its outcome, so the cap fills as it would under
//! a real burst; then all are closed.

use crate::error::Result;
use crate::report::{Report, Table};
use crate::stats::summarise;
use crate::target::{ExternalArgs, InProcess, Target};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Error as WsError;
use understudy_mock::{MockServer, DEFAULT_MAX_SESSIONS};

/// `overload`'s flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Connects in all.
    #[arg(long, default_value_t = 8_000)]
    pub connects: usize,
    /// Window the connects are spread over, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    pub over_ms: u64,
    /// A connect with no answer after this many milliseconds counts as timed out.
    #[arg(long, default_value_t = 10_000)]
    pub give_up_ms: u64,
    /// The answer time the target asks for (counted as `within target`).
    #[arg(long, default_value_t = 1_000)]
    pub target_ms: u64,
    /// In-process: the mock's `--max-sessions`.
    #[arg(long, default_value_t = DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// The server (external: `understudy serve` with the respond engine).
    #[command(flatten)]
    pub external: ExternalArgs,
}

/// Starts the target for `args`.
pub fn target(args: &Args) -> Result<Target> {
    let max = args.max_sessions;
    Target::start(&args.external, || {
        Ok(InProcess {
            builder: MockServer::builder()
                .respond(understudy_mock::ResponderConfig::with_voice(
                    understudy_mock::bundled_voice()?,
                ))
                .max_sessions(max),
            journal: understudy_mock::JournalMode::Off,
            caps: Default::default(),
        })
    })
}

/// How one connect ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Upgraded, and the first frame arrived.
    Served,
    /// `429` at the upgrade.
    Refused,
    /// Another HTTP status at the upgrade.
    OtherStatus,
    /// No answer before `--give-up-ms`.
    TimedOut,
    /// The connection was refused, reset or closed without an answer.
    Reset,
}

/// Runs the burst and reports.
pub async fn run(args: &Args, target: &Target) -> Result<Report> {
    let url = format!("{}/v1/realtime?model=gpt-realtime", target.ws);
    let give_up = Duration::from_millis(args.give_up_ms);
    let start = Instant::now() + Duration::from_millis(50);
    let step = Duration::from_millis(args.over_ms) / (args.connects.max(1) as u32);
    let (release, released) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::with_capacity(args.connects);
    for i in 0..args.connects {
        let url = url.clone();
        let mut released = released.clone();
        let at = start + step * (i as u32);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let began = Instant::now();
            let attempt = async {
                match tokio_tungstenite::connect_async(url.as_str()).await {
                    Ok((mut socket, _)) => match socket.next().await {
                        Some(Ok(_)) => (Outcome::Served, Some(socket)),
                        _ => (Outcome::Reset, None),
                    },
                    Err(WsError::Http(response)) if response.status() == 429 => {
                        (Outcome::Refused, None)
                    }
                    Err(WsError::Http(_)) => (Outcome::OtherStatus, None),
                    Err(_) => (Outcome::Reset, None),
                }
            };
            let (outcome, socket) = match tokio::time::timeout(give_up, attempt).await {
                Ok(done) => done,
                Err(_) => (Outcome::TimedOut, None),
            };
            let _ = done_tx.send((outcome, began.elapsed()));
            // Hold a served session until every connect is answered.
            if let Some(mut socket) = socket {
                let _ = released.wait_for(|r| *r).await;
                let _ = socket.close(None).await;
            }
        });
        tasks.push(done_rx);
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(done) = task.await {
            outcomes.push(done);
        }
    }
    let _ = release.send(true);
    crate::report::progress(format!("overload: {} connects answered", outcomes.len()));
    let count = |kind: Outcome| outcomes.iter().filter(|(o, _)| *o == kind).count();
    let answered: Vec<Duration> = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, Outcome::Served | Outcome::Refused))
        .map(|(_, t)| *t)
        .collect();
    let within = answered
        .iter()
        .filter(|t| **t <= Duration::from_millis(args.target_ms))
        .count();
    let summary = summarise(&answered);
    let mut table = Table::new(
        format!(
            "{} connects over {} ms (time to answer: served or refused)",
            args.connects, args.over_ms
        ),
        &[
            "connects",
            "served",
            "refused 429",
            "other status",
            "timed out",
            "reset",
            "within target",
            "p50 ms",
            "p99 ms",
            "max ms",
        ],
    );
    table.row(vec![
        outcomes.len().to_string(),
        count(Outcome::Served).to_string(),
        count(Outcome::Refused).to_string(),
        count(Outcome::OtherStatus).to_string(),
        count(Outcome::TimedOut).to_string(),
        count(Outcome::Reset).to_string(),
        within.to_string(),
        format!("{:.1}", summary.p50_ms),
        format!("{:.1}", summary.p99_ms),
        format!("{:.1}", summary.max_ms),
    ]);
    Ok(Report {
        command: "overload",
        server: target.label(),
        tables: vec![table],
    })
}
