//! Long conversations across session ends: `handover.<provider>.long-conversation`.
//!
//! Twenty user turns (typed; spoken on DashScope, which takes no text) go
//! through a [`RealtimeAgent`](understudy_agents::realtime::RealtimeAgent) to a mock whose sessions
//! (OpenAI, DashScope) or connections (Gemini) end after a few seconds, the
//! provider's way, so that the conversation crosses at least two ends. Facts
//! stated early ("Remember that the code word is falcon.") are asked for
//! later, after the ends: the mock answers them only from what its session
//! holds — the history a resumed Gemini session keeps, or the summary the
//! agent put into a fresh session's instructions. The case reports how many
//! moves there were, how long each kept input waiting, and lost turns (a
//! turn with no answer, or with two), which must be zero.

mod live;

use crate::agent_cases::{mock, voice, FrontEnd, Provider, OPENAI_LIVE, PROVIDERS};
use crate::family::RunOptions;
use crate::grade::{
    blank, check, conclude, failed_result, CaseResult, CheckResult, HandoverReport,
};
use crate::schedule::Job;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use understudy_adapters::{Capabilities, Modality, ResponseStatus, SessionConfig};
use understudy_agents::realtime::{AgentConfig, AgentEvent, ReconnectPolicy, ToolRegistry};

/// How long one whole case may take.
const CASE_LIMIT: Duration = Duration::from_secs(120);

/// A session (Gemini: a connection) lasts this long, at any `--speed`.
///
/// Not scaled by the speed factor: OpenAI and DashScope announce a session's
/// end as whole unix seconds (`expires_at`, rounded up), so an agent that
/// plans its move before the end must take a second off; a session shorter
/// than that resolution cannot be planned for, and the agent would move again
/// as soon as it arrived (at `--speed 4` a 0.75 s session gave some 300
/// moves in twenty turns). The mock's answers still follow the speed factor.
const SESSION_LIFE: Duration = Duration::from_secs(3);

/// The front end waits this long between turns, so that twenty turns take
/// well over two session lives whatever the model's speed (not scaled, for
/// the same reason as [`SESSION_LIFE`]).
const PAUSE: Duration = Duration::from_millis(400);

/// The most moves a conversation that lasted `elapsed` may make when each
/// session lives `life`. A move comes early — a margin of up to a quarter of
/// the life, after a `goAway`'s warning on Gemini — so a session is used for
/// at least half its life; plus one for a move just before the conversation
/// ends. More is a cascade (moving again before the new session could be
/// used), not a handover.
fn most_moves(elapsed: Duration, life: Duration) -> usize {
    (elapsed.as_secs_f64() / (life.as_secs_f64() / 2.0)).ceil() as usize + 1
}

/// What ends each session in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The provider's limit, shortened (`handover.*`).
    SessionEnds,
    /// The agent's context budget: no provider limit at all (`compaction.*`).
    ContextBudget,
}

/// The context budget of the `compaction.*` cases, in tokens: a few turns
/// of the mock's usage reports (spoken turns also count their audio).
fn context_budget(spoken: bool) -> u64 {
    if spoken {
        200
    } else {
        80
    }
}

const TRIGGERS: [Trigger; 2] = [Trigger::SessionEnds, Trigger::ContextBudget];

/// One user turn: typed, or spoken (a bundled clip).
enum Say {
    Typed(String),
    Spoken(&'static str),
}

/// What the user says, and what a faithful answer says.
struct Turn {
    say: Say,
    want: String,
}

impl Turn {
    fn typed(text: String, want: String) -> Self {
        Turn {
            say: Say::Typed(text),
            want,
        }
    }

    fn label(&self) -> String {
        match &self.say {
            Say::Typed(text) => text.clone(),
            Say::Spoken(clip) => format!("(spoken: {clip})"),
        }
    }

    /// Whether the turn asks for a fact stated earlier.
    fn is_recall(&self) -> bool {
        self.want.starts_with("You said ") && !self.want.starts_with("You said:")
    }
}

/// The conversation: typed where the dialect takes text; spoken (bundled
/// clips, which the mock recognises) where `capabilities.text_input` says it
/// does not (DashScope).
fn script(caps: &Capabilities) -> Vec<Turn> {
    if !caps.text_input {
        return spoken_script(20, 5);
    }
    let fact = |subject: &str, value: &str| {
        Turn::typed(
            format!("Remember that {subject} is {value}."),
            format!("Noted: {subject} is {value}."),
        )
    };
    let ask = |subject: &str, value: &str| {
        Turn::typed(
            format!("What did I say {subject} is?"),
            format!("You said {subject} is {value}."),
        )
    };
    let chat = |n: usize| {
        let text = format!("This is small talk number {n}.");
        let want = format!("You said: {text}");
        Turn::typed(text, want)
    };
    let mut turns = vec![fact("the code word", "falcon"), fact("my city", "Lisbon")];
    for n in 1..=17 {
        turns.push(match n {
            6 | 12 => ask("the code word", "falcon"),
            9 => fact("the meeting day", "Thursday"),
            15 => ask("my city", "Lisbon"),
            _ => chat(n),
        });
    }
    turns.push(ask("the meeting day", "Thursday"));
    turns
}

/// `turns` spoken turns: the fact first, small talk, the recall question
/// every `recall_every`th turn.
fn spoken_script(turns: usize, recall_every: usize) -> Vec<Turn> {
    let spoken = |clip: &'static str, want: &str| Turn {
        say: Say::Spoken(clip),
        want: want.to_owned(),
    };
    (0..turns)
        .map(|n| match n {
            0 => spoken("remember", "Noted: the code word is falcon."),
            n if n % recall_every == recall_every - 1 => {
                spoken("recall", "You said the code word is falcon.")
            }
            n if n % 2 == 1 => spoken(
                "weather",
                "You said: What is the weather like in Paris today?",
            ),
            _ => spoken(
                "order",
                "You said: Can you check the status of order A seventeen?",
            ),
        })
        .collect()
}

/// The case ids, with descriptions: each provider's long conversations,
/// then GPT-Live's across its session limit.
pub fn case_ids() -> Vec<(String, String)> {
    TRIGGERS
        .iter()
        .flat_map(|t| PROVIDERS.iter().map(|p| (id(*p, *t), description(*p, *t))))
        .chain(std::iter::once((
            live::ID.to_owned(),
            live::DESCRIPTION.to_owned(),
        )))
        .collect()
}

fn id(provider: Provider, trigger: Trigger) -> String {
    match trigger {
        Trigger::SessionEnds => format!("handover.{}.long-conversation", provider.id()),
        Trigger::ContextBudget => format!("compaction.{}.context-budget", provider.id()),
    }
}

fn description(provider: Provider, trigger: Trigger) -> String {
    let caps = provider.capabilities();
    let how = match (trigger, caps.resumption) {
        (Trigger::ContextBudget, _) => {
            "no provider limit: the agent's context budget (a few turns of usage) makes it move to a fresh session carrying a summary, never a resumed one"
        }
        (_, true) => "sessions end the provider's way; the agent resumes with the newest handle",
        (_, false) => "sessions end the provider's way; the agent moves to a fresh session carrying a summary",
    };
    let said = if caps.text_input {
        "typed"
    } else {
        "spoken: the dialect takes no typed text"
    };
    format!(
        "{}: a 20-turn conversation ({said}) crosses at least two session ends ({how}); every turn answered once, early facts recalled after the ends",
        provider.id()
    )
}

/// One job per case the options select; each starts its own mock.
pub fn handover_jobs(options: &RunOptions) -> Vec<Job<'static>> {
    let speed = options.speed;
    TRIGGERS
        .iter()
        .flat_map(|t| PROVIDERS.iter().map(move |p| (*t, *p)))
        .filter_map(|(trigger, provider)| {
            let id = id(provider, trigger);
            let description = description(provider, trigger);
            options.selects(&id).then(|| {
                let run = run_case(id.clone(), description.clone(), provider, trigger, speed);
                Job::new(id, description, run)
            })
        })
        .chain(
            options
                .selects(live::ID)
                .then(|| live::job(OPENAI_LIVE, speed)),
        )
        .collect()
}

/// Runs one long conversation within [`CASE_LIMIT`] and grades it.
async fn run_case(
    id: String,
    description: String,
    provider: Provider,
    trigger: Trigger,
    speed: f64,
) -> CaseResult {
    let started = Instant::now();
    let outcome = timeout(CASE_LIMIT, long_conversation(provider, trigger, speed))
        .await
        .unwrap_or_else(|_| Err(format!("the case did not finish within {CASE_LIMIT:?}")));
    match outcome {
        Ok(((checks, _), report)) => {
            let mut result = blank(id, &description);
            result.dialect = format!("agent/{}", provider.id());
            result.checks = checks;
            result.handover = Some(report);
            conclude(result, started)
        }
        Err(problem) => failed_result(&id, &description, problem),
    }
}

/// One conversation; its checks and what the moves cost.
async fn long_conversation(
    provider: Provider,
    trigger: Trigger,
    speed: f64,
) -> Result<((Vec<CheckResult>, Option<Duration>), HandoverReport), String> {
    let speed = speed.max(1.0);
    let life = SESSION_LIFE;
    let mut responder = voice();
    if trigger == Trigger::SessionEnds {
        // Each mock dialect ends it its provider's way (goAway on Gemini).
        responder.session_limit = Some(life);
    }
    let server = mock(speed, responder).await?;
    let caps = provider.capabilities();
    let spoken = !caps.text_input;
    let mut config = AgentConfig::new(SessionConfig {
        instructions: Some("You are a helpful assistant.".into()),
        output_modalities: Some(vec![Modality::Text]),
        ..provider.spoken()
    });
    if trigger == Trigger::ContextBudget {
        config.context_budget_tokens = Some(context_budget(spoken));
    }
    config.reconnect = ReconnectPolicy {
        max_attempts: 5,
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
    };
    let mut front = FrontEnd::start(provider, &server, config, ToolRegistry::new()).await?;
    let turns = script(&caps);
    let started = Instant::now();
    let mut answers = Vec::new();
    for turn in &turns {
        match &turn.say {
            Say::Typed(text) => front
                .agent
                .input()
                .text(text.clone())
                .await
                .map_err(|e| format!("typing {text:?}: {e}"))?,
            Say::Spoken(clip) => front.say(&provider.clip(clip)).await?,
        }
        answers.push(front.answer().await?);
        // Pauses let session time pass; the budget needs none.
        let pause = match trigger {
            Trigger::SessionEnds => PAUSE,
            Trigger::ContextBudget => Duration::from_millis(20),
        };
        front.listen(pause).await;
    }
    // Anything still arriving (a second answer to some turn) counts too.
    front.listen(PAUSE).await;
    let elapsed = started.elapsed();
    let (mut checks, report) = conversation_checks(&front, &turns, &answers);
    let resumption = front.agent.capabilities().resumption;
    checks.push(match trigger {
        Trigger::SessionEnds => no_cascade(&report, elapsed, life),
        Trigger::ContextBudget => check(
            "each move starts a fresh session carrying a summary (resuming would keep the full context)",
            report.compacted == report.handovers && report.planned == report.handovers,
            format!(
                "{} moves: {} planned, {} with a summary, {} resumed",
                report.handovers, report.planned, report.compacted, report.resumed
            ),
        ),
    });
    if trigger == Trigger::SessionEnds {
        checks.push(check(
            "each move resumes where the dialect can, else carries a summary",
            report.resumed + report.compacted == report.handovers
                && (resumption || report.resumed == 0),
            format!(
                "{} resumed, {} with a summary; capabilities.resumption {resumption}",
                report.resumed, report.compacted
            ),
        ));
    }
    let _ = front.agent.close().await;
    Ok(((checks, None), report))
}

/// The checks every long conversation makes, whatever ends its sessions: it
/// crosses at least two session ends, loses no turn, gets the answer each turn
/// asked for, and recalls after a move a fact stated before it. Returns them
/// with the report of the moves the front end saw.
fn conversation_checks(
    front: &FrontEnd,
    turns: &[Turn],
    answers: &[String],
) -> (Vec<CheckResult>, HandoverReport) {
    let switches: Vec<&AgentEvent> = front
        .seen
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, AgentEvent::SessionSwitched { .. }))
        .collect();
    let report = HandoverReport::from_events(&switches, turns.len(), completed(front));
    let wrong: Vec<String> = turns
        .iter()
        .zip(answers)
        .enumerate()
        .filter(|(_, (turn, got))| got.trim() != turn.want)
        .map(|(n, (turn, got))| {
            format!(
                "turn {}: {:?} → {got:?}, wanted {:?}",
                n + 1,
                turn.label(),
                turn.want
            )
        })
        .collect();
    let recalls = recalls_after_first_move(front, turns);
    let checks = vec![
        check(
            "the conversation crosses at least two session ends",
            report.handovers >= 2,
            report.summary(),
        ),
        check(
            "every user turn gets exactly one answer (no lost turns)",
            report.lost_turns == 0,
            format!(
                "{} turns, {} completed answers",
                turns.len(),
                completed(front)
            ),
        ),
        check(
            "every answer is the one the turn asked for",
            wrong.is_empty(),
            if wrong.is_empty() {
                format!("all {} answers as expected", turns.len())
            } else {
                wrong.join("; ")
            },
        ),
        check(
            "facts stated before a session end are recalled after it",
            recalls > 0,
            format!("{recalls} recall questions answered after the first move"),
        ),
    ];
    (checks, report)
}

/// Moves come at session ends, not in a cascade: at most as many as the
/// sessions of `life` that fit in `elapsed`.
fn no_cascade(report: &HandoverReport, elapsed: Duration, life: Duration) -> CheckResult {
    check(
        "moves happen at session ends, not in a cascade",
        report.handovers <= most_moves(elapsed, life),
        format!(
            "{} moves in {:.1} s of {:.1} s sessions (at most {})",
            report.handovers,
            elapsed.as_secs_f64(),
            life.as_secs_f64(),
            most_moves(elapsed, life)
        ),
    )
}

/// Completed answers the front end heard.
fn completed(front: &FrontEnd) -> usize {
    front
        .seen
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                AgentEvent::ResponseDone {
                    status: ResponseStatus::Completed,
                    ..
                }
            )
        })
        .count()
}

/// How many recall questions were answered (rightly) after the first move.
fn recalls_after_first_move(front: &FrontEnd, turns: &[Turn]) -> usize {
    let Some(first_move) = front
        .seen
        .iter()
        .position(|(_, e)| matches!(e, AgentEvent::SessionSwitched { .. }))
    else {
        return 0;
    };
    let said: String = front.seen[first_move..]
        .iter()
        .filter_map(|(_, e)| match e {
            AgentEvent::TranscriptDone { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = said.as_str();
    let mut count = 0;
    for turn in turns.iter().filter(|t| t.is_recall()) {
        if let Some(at) = rest.find(turn.want.as_str()) {
            count += 1;
            rest = &rest[at + turn.want.len()..];
        }
    }
    count
}
