//! `openai.live.handover.session-limit`: a GPT-Live conversation carried
//! across session ends by the realtime agent.
//!
//! GPT-Live announces its end in `session.started.session.expires_at` and
//! ends the session there with `session.closed{reason:"expired"}`; it has no
//! resumption, so the agent must move to a fresh session before the end,
//! carrying a summary in its instructions (fixed at `session.start`, which
//! is where a fresh session takes them). The front end is a GPT-Live one: its
//! microphone never closes (the session timeline advances only with input
//! audio), speaking a bundled clip when the user talks and silence
//! otherwise, through the agent as any audio. It streams ten times faster
//! than real time — the mock's clock for the conversation is the audio,
//! while the session limit runs on the wall — so that a dozen spoken turns
//! cross several three-second sessions in a few seconds.
//!
//! The conversation is spoken (the dialect takes no typed text): a fact
//! first, then small talk and questions about the fact; the mock delegates
//! nothing (no delegate words), so every turn is answered in speech.

use super::{conversation_checks, no_cascade, spoken_script, Say, PAUSE, SESSION_LIFE};
use crate::agent_cases::{mock, voice, FrontEnd, Provider};
use crate::grade::{blank, check, conclude, failed_result, CaseResult, HandoverReport};
use crate::schedule::Job;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::time::timeout;
use understudy_agents::realtime::ToolRegistry;
use understudy_agents::realtime::{AgentConfig, AgentInput, ReconnectPolicy};

/// The case id.
pub(super) const ID: &str = "openai.live.handover.session-limit";

/// What the case shows.
pub(super) const DESCRIPTION: &str = "GPT-Live: a 12-turn spoken conversation (the microphone never closes) crosses at least two expires_at session ends; the agent moves to fresh sessions carrying a summary, every turn answered once, the fact recalled after the moves";

/// How long the whole case may take.
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// How much faster than real time the microphone streams.
const MIC_SPEEDUP: u32 = 10;

/// One microphone chunk, in ms of audio.
const CHUNK_MS: u32 = 100;

/// A microphone that never closes: it streams what the user says, and
/// silence in between, into the agent.
struct Microphone {
    say: mpsc::Sender<Vec<u8>>,
    task: tokio::task::JoinHandle<()>,
}

impl Microphone {
    /// Starts streaming `rate` Hz PCM16 into `input`.
    fn open(input: AgentInput, rate: u32) -> Self {
        let (say, mut said) = mpsc::channel::<Vec<u8>>(4);
        let chunk = (rate * CHUNK_MS / 1000) as usize * 2;
        let tick = Duration::from_millis(u64::from(CHUNK_MS / MIC_SPEEDUP));
        let task = tokio::spawn(async move {
            let mut pending: Vec<u8> = Vec::new();
            let mut at = tokio::time::Instant::now();
            loop {
                if pending.is_empty() {
                    if let Ok(words) = said.try_recv() {
                        pending = words;
                    }
                }
                let piece = if pending.is_empty() {
                    vec![0u8; chunk]
                } else {
                    let take = chunk.min(pending.len());
                    pending.drain(..take).collect()
                };
                if input.audio(piece, rate).await.is_err() {
                    return;
                }
                at += tick;
                tokio::time::sleep_until(at).await;
            }
        });
        Microphone { say, task }
    }

    /// The user says `clip` (its words go out next, then silence again).
    async fn say(&self, clip: &str) -> Result<(), String> {
        let (pcm, _) = crate::assets::clip(clip)?;
        self.say
            .send(pcm.to_vec())
            .await
            .map_err(|_| "the microphone stopped".to_owned())
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The job, if the options select the case.
pub(super) fn job(provider: Provider, speed: f64) -> Job<'static> {
    Job::new(ID, DESCRIPTION, run_case(provider, speed))
}

async fn run_case(provider: Provider, speed: f64) -> CaseResult {
    let started = Instant::now();
    let outcome = timeout(CASE_LIMIT, conversation(provider, speed))
        .await
        .unwrap_or_else(|_| Err(format!("the case did not finish within {CASE_LIMIT:?}")));
    match outcome {
        Ok((checks, report)) => {
            let mut result = blank(ID.into(), DESCRIPTION);
            result.dialect = format!("agent/{}", provider.dialect_id());
            result.checks = checks;
            result.handover = Some(report);
            conclude(result, started)
        }
        Err(problem) => failed_result(ID, DESCRIPTION, problem),
    }
}

async fn conversation(
    provider: Provider,
    speed: f64,
) -> Result<(Vec<crate::grade::CheckResult>, HandoverReport), String> {
    let mut responder = voice();
    responder.session_limit = Some(SESSION_LIFE);
    // Every turn answered in speech: nothing is delegated.
    responder.live.delegate_words = Vec::new();
    let server = mock(speed.max(1.0), responder).await?;
    let caps = provider.capabilities();
    let mut config = AgentConfig::new(understudy_adapters::SessionConfig {
        instructions: Some("You are a helpful assistant.".into()),
        ..provider.spoken()
    });
    config.reconnect = ReconnectPolicy {
        max_attempts: 5,
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
    };
    let mut front = FrontEnd::start(provider, &server, config, ToolRegistry::new()).await?;
    let microphone = Microphone::open(front.agent.input(), caps.input_sample_rate);
    // Twelve spoken turns, the recall question every third.
    let turns = spoken_script(12, 3);
    let started = Instant::now();
    let mut answers = Vec::new();
    for turn in &turns {
        if let Say::Spoken(clip) = &turn.say {
            microphone.say(&provider.clip(clip)).await?;
        }
        answers.push(front.answer().await?);
    }
    front.listen(PAUSE).await;
    let elapsed = started.elapsed();
    drop(microphone);
    let (mut checks, report) = conversation_checks(&front, &turns, &answers);
    checks.push(check(
        "each move is planned before expires_at and carries a summary (no resumption)",
        report.planned == report.handovers
            && report.compacted == report.handovers
            && report.resumed == 0,
        format!(
            "{} moves: {} planned, {} with a summary, {} resumed, in {:.1} s",
            report.handovers,
            report.planned,
            report.compacted,
            report.resumed,
            elapsed.as_secs_f64()
        ),
    ));
    checks.push(no_cascade(&report, elapsed, SESSION_LIFE));
    let _ = front.agent.close().await;
    Ok((checks, report))
}
