//! Conformance through the realtime agent: the runner drives a full
//! [`RealtimeAgent`] (not a bare adapter) against the in-process mock of each
//! provider, the way a front end would, and checks what the front end sees —
//! event order, the transcript, and time to first audio.
//!
//! For every provider:
//! - `agent.<p>.tool.round-trip`: a spoken question calls a tool; the result
//!   goes back and the answer is spoken;
//! - `agent.<p>.barge-in.during-tool`: the user speaks while a slow tool call
//!   is pending; the new question is answered and the stale tool answer is
//!   never spoken;
//! - `agent.<p>.reconnect`: the provider ends the session; the agent comes
//!   back (resuming where the dialect can) and the next turn is answered.
//!
//! And rooms: `room.debate.openai-dashscope`, two agents on different
//! providers taking three turns each in a [`ChatRoom`], hearing each other as
//! audio; `room.round-robin.three-providers`, one agent per provider.

use crate::family::RunOptions;
use crate::grade::{blank, check, conclude, failed_result, ms, CaseResult, CheckResult};
use crate::schedule::Job;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::time::timeout;
use understudy_adapters::registry::{table, ConnectOptions};
use understudy_adapters::{
    Capabilities, DialectSpec, ResponseStatus, SessionConfig, TurnDetection,
};

/// The DashScope model the cases use (tool-capable: the 3.5 family).
const DASHSCOPE_MODEL: &str = "qwen3.5-omni-plus-realtime";
use understudy_agents::realtime::{
    tool_fn, AgentConfig, AgentEvent, Connector, RealtimeAgent, ReconnectPolicy, ToolError,
    ToolRegistry, TranscriptEntry,
};
use understudy_agents::room::turns::RoundRobin;
use understudy_agents::room::{ChatRoom, RealtimeMember, RoomConfig, RoomEvent, TurnEndReason};
use understudy_mock::{MockServer, ResponderConfig};

const WEATHER_Q: &str = "What is the weather like in Paris today?";
const WEATHER_A: &str = "Here is what I found: temperature_c 18, sky clear.";
const BERLIN_A: &str = "You said: Wait, stop. Actually, tell me about Berlin instead.";
/// How long one wait for the agent may take.
const WAIT: Duration = Duration::from_secs(20);
/// How long a whole case may take.
const CASE_LIMIT: Duration = Duration::from_secs(90);

/// What the agent cases run on: one provider's realtime dialect (a registry
/// entry, which names the provider) and the model they ask for. The cases
/// read its capabilities and registry data, never which provider it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Provider {
    dialect: &'static DialectSpec,
    model: &'static str,
}

/// OpenAI Realtime (GA).
const OPENAI: Provider = Provider {
    dialect: &table::OPENAI_GA,
    model: "gpt-realtime",
};
/// DashScope Qwen-Omni, a tool-capable model.
const DASHSCOPE: Provider = Provider {
    dialect: &table::DASHSCOPE_OMNI,
    model: DASHSCOPE_MODEL,
};
/// Gemini Live.
const GEMINI: Provider = Provider {
    dialect: &table::GEMINI_LIVE,
    model: crate::scenario::GEMINI_MODEL,
};

/// OpenAI GPT-Live (`/v1/live/sessions`): not one of [`PROVIDERS`] (its
/// agent cases are its own, `openai.live.handover.*`).
pub(crate) const OPENAI_LIVE: Provider = Provider {
    dialect: &table::OPENAI_LIVE,
    model: crate::scenario::live::LIVE_MODEL,
};

/// One per provider, in the registry's order.
pub(crate) const PROVIDERS: [Provider; 3] = [OPENAI, DASHSCOPE, GEMINI];

impl Provider {
    /// The provider's name (`openai`), as case ids spell it.
    pub(crate) fn id(self) -> &'static str {
        self.dialect.provider_spec().name
    }

    /// The dialect's registry id (`openai-live`).
    pub(crate) fn dialect_id(self) -> &'static str {
        self.dialect.id
    }

    /// The bundled clip of `what`, at the rate this provider hears natively.
    pub(crate) fn clip(self, what: &str) -> String {
        let khz = self.capabilities().input_sample_rate / 1000;
        format!("user-{what}-{khz}k.wav")
    }

    /// What the dialect and model [`Provider::connector`] reaches can do:
    /// what the cases read instead of matching on the provider.
    pub(crate) fn capabilities(self) -> Capabilities {
        self.dialect
            .capabilities(self.model)
            .unwrap_or_else(|| Capabilities::none(self.dialect.id))
    }

    /// The session the front end asks for: server VAD, user transcription
    /// with the dialect's transcription model.
    pub(crate) fn spoken(self) -> SessionConfig {
        SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            input_transcription: self.dialect.transcription_model.map(str::to_owned),
            ..Default::default()
        }
    }

    /// How to reach this provider's mock (a tool-capable model on DashScope).
    fn connector(self, server: &MockServer) -> Box<dyn Connector> {
        let origin = server.url().replacen("http://", "ws://", 1);
        Box::new(
            ConnectOptions::new(
                self.dialect,
                self.dialect.connect.base_url_at(&origin),
                self.model,
            )
            .api_key("understudy-conformance-key"),
        )
    }
}

/// The case kinds, with what each shows.
const KINDS: [(&str, &str); 3] = [
    ("tool.round-trip", "a spoken question calls a tool through the agent; the answer is spoken"),
    (
        "barge-in.during-tool",
        "the user speaks while a slow tool call is pending: the new question is answered, the stale tool answer never spoken",
    ),
    ("reconnect", "the provider ends the session; the agent comes back and the next turn is answered"),
];

/// The ids of every agent case, with descriptions.
pub fn case_ids() -> Vec<(String, String)> {
    PROVIDERS
        .iter()
        .flat_map(|p| {
            KINDS.map(|(kind, what)| {
                (
                    format!("agent.{}.{kind}", p.id()),
                    format!("{}: {what}", p.id()),
                )
            })
        })
        .collect()
}

/// The ids of the room cases, with descriptions.
pub fn room_case_ids() -> Vec<(String, String)> {
    ROOMS
        .iter()
        .map(|(id, description, _, _)| ((*id).to_owned(), (*description).to_owned()))
        .collect()
}

/// One job per agent case the options select; each starts its own mock.
pub fn agent_jobs(options: &RunOptions) -> Vec<Job<'static>> {
    let speed = options.speed;
    PROVIDERS
        .iter()
        .flat_map(|provider| KINDS.map(|(kind, what)| (*provider, kind, what)))
        .filter_map(|(provider, kind, what)| {
            let id = format!("agent.{}.{kind}", provider.id());
            let description = format!("{}: {what}", provider.id());
            options.selects(&id).then(|| {
                let case = async move {
                    match kind {
                        "tool.round-trip" => tool_round_trip(provider, speed).await,
                        "barge-in.during-tool" => barge_in_during_tool(provider, speed).await,
                        _ => reconnect(provider, speed).await,
                    }
                };
                let dialect = format!("agent/{}", provider.id());
                Job::new(
                    id.clone(),
                    description.clone(),
                    graded(id, description, dialect, case),
                )
            })
        })
        .collect()
}

/// Runs `case` within [`CASE_LIMIT`] and grades what it returns.
async fn graded(
    id: String,
    description: String,
    dialect: String,
    case: impl std::future::Future<Output = Outcome>,
) -> CaseResult {
    let started = Instant::now();
    let outcome = timeout(CASE_LIMIT, case)
        .await
        .unwrap_or_else(|_| Err(format!("the case did not finish within {CASE_LIMIT:?}")));
    match outcome {
        Ok((checks, first_audio)) => {
            let mut result = blank(id, &description);
            result.dialect = dialect;
            result.checks = checks;
            result.time_to_first_sound_ms = first_audio.map(ms);
            conclude(result, started)
        }
        Err(problem) => failed_result(&id, &description, problem),
    }
}

/// A room case: id, what it shows, its members (name, provider; the first
/// speaks first), and how many turns each takes.
type RoomCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, Provider)],
    usize,
);

/// The room cases.
const ROOMS: [RoomCase; 2] = [
    (
        "room.debate.openai-dashscope",
        "two agents on different providers (OpenAI, DashScope) debate three turns each in a ChatRoom, hearing each other as audio",
        &[("pro", OPENAI), ("contra", DASHSCOPE)],
        3,
    ),
    (
        "room.round-robin.three-providers",
        "an OpenAI, a DashScope and a Gemini agent take two turns each in a round-robin ChatRoom, hearing each other as audio",
        &[
            ("openai", OPENAI),
            ("dashscope", DASHSCOPE),
            ("gemini", GEMINI),
        ],
        2,
    ),
];

/// One job per room case the options select; each starts its own mock.
pub fn room_jobs(options: &RunOptions) -> Vec<Job<'static>> {
    let speed = options.speed;
    ROOMS
        .into_iter()
        .filter(|(id, ..)| options.selects(id))
        .map(|(id, description, members, rounds)| {
            let case = room_turns(speed, members, rounds);
            Job::new(
                id,
                description,
                graded(id.into(), description.into(), "room".into(), case),
            )
        })
        .collect()
}

/// `members` take `rounds` turns each, round robin, after the user opens.
async fn room_turns(speed: f64, members: &[(&str, Provider)], rounds: usize) -> Outcome {
    let server = mock(speed, voice()).await?;
    // Manual turns: the room, not each model's VAD, decides who speaks.
    let manual = || {
        AgentConfig::new(SessionConfig {
            turn_detection: Some(TurnDetection::Manual),
            ..Default::default()
        })
    };
    let mut builder = ChatRoom::builder()
        .config(RoomConfig {
            queue_capacity: 4096,
            silence_timeout: Duration::from_secs(20),
            ..RoomConfig::default()
        })
        .turns(RoundRobin::new());
    for (name, provider) in members {
        let agent =
            RealtimeAgent::start(provider.connector(&server), manual(), ToolRegistry::new())
                .await
                .map_err(|e| format!("{name}: {e}"))?;
        builder = builder.member(*name, RealtimeMember::new(agent));
    }
    let mut room = builder.start().map_err(|e| e.to_string())?;
    // The user opens (everyone hears it); the commit gives the floor.
    let (pcm, rate) = crate::assets::clip("user-weather-24k.wav")?;
    for chunk in pcm.chunks(rate as usize / 10 * 2) {
        room.input()
            .audio(chunk.to_vec(), rate)
            .await
            .map_err(|e| e.to_string())?;
    }
    let opened = Instant::now();
    room.input().commit().await.map_err(|e| e.to_string())?;
    let total = members.len() * rounds;
    let mut events: Vec<(Instant, RoomEvent)> = Vec::new();
    let mut ended = 0;
    while ended < total {
        match timeout(WAIT * 3, room.next_event()).await {
            Ok(Some(event)) => {
                if matches!(event, RoomEvent::TurnEnded { .. }) {
                    ended += 1;
                }
                events.push((Instant::now(), event));
            }
            Ok(None) => return Err(format!("the room closed after {ended} turns")),
            Err(_) => {
                return Err(format!(
                    "no turn ended within {:?} ({ended} so far)",
                    WAIT * 3
                ))
            }
        }
    }
    let _ = room.close().await;
    let order: Vec<&str> = (0..total).map(|i| members[i % members.len()].0).collect();
    let turns: Vec<(String, TurnEndReason)> = events
        .iter()
        .filter_map(|(_, e)| match e {
            RoomEvent::TurnEnded { member, reason, .. } => Some((member.to_string(), *reason)),
            _ => None,
        })
        .collect();
    let expected: Vec<(String, TurnEndReason)> = order
        .iter()
        .map(|m| (m.to_string(), TurnEndReason::Finished))
        .collect();
    let said: Vec<(String, String)> = events
        .iter()
        .filter_map(|(_, e)| match e {
            RoomEvent::Member {
                member,
                event: AgentEvent::TranscriptDone { text, .. },
            } => Some((member.to_string(), text.clone())),
            _ => None,
        })
        .collect();
    let speakers: Vec<&str> = said.iter().map(|(m, _)| m.as_str()).collect();
    // The first speaker heard the user's clip; every later one heard an agent
    // (the mock answers speech it does not know by its length).
    let heard_right = said
        .first()
        .is_some_and(|(_, t)| *t == format!("You said: {WEATHER_Q}"))
        && said
            .iter()
            .skip(1)
            .all(|(_, text)| text.starts_with("I heard "));
    let disorder = events
        .iter()
        .any(|(_, e)| matches!(e, RoomEvent::OutOfTurn { .. } | RoomEvent::Overflow { .. }));
    let first_audio = events.iter().find_map(|(at, e)| {
        matches!(
            e,
            RoomEvent::Member {
                event: AgentEvent::Audio { .. },
                ..
            }
        )
        .then(|| at.duration_since(opened))
    });
    Ok((
        vec![
            check(
                "every member takes its turns in order, each finished",
                turns == expected,
                format!("turns: {turns:?}"),
            ),
            check(
                "each turn is spoken and answers what was heard",
                speakers == order && heard_right,
                format!("said: {said:?}"),
            ),
            check(
                "nobody spoke out of turn and no queue overflowed",
                !disorder,
                "no out-of-turn or overflow events".into(),
            ),
        ],
        first_audio,
    ))
}

/// What a case returns: its checks and the front end's time to first audio.
type Outcome = Result<(Vec<CheckResult>, Option<Duration>), String>;

pub(crate) async fn mock(speed: f64, responder: ResponderConfig) -> Result<MockServer, String> {
    MockServer::builder()
        .respond(responder)
        .speed(speed)
        .start()
        .await
        .map_err(|e| format!("mock: {e}"))
}

pub(crate) fn voice() -> ResponderConfig {
    crate::assets::speaking()
}

/// `get_weather`, answering once `gate` lets it.
fn weather_tool(gate: Arc<Semaphore>) -> ToolRegistry {
    ToolRegistry::new().with(tool_fn(
        "get_weather",
        "Get the current weather for a city.",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        move |_args: Value| {
            let gate = Arc::clone(&gate);
            async move {
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|e| ToolError::Failed(e.to_string()))?;
                Ok(json!({"temperature_c": 18, "sky": "clear"}))
            }
        },
    ))
}

/// The agent as a front end sees it: events read so far, and when the user's
/// last audio went out.
pub(crate) struct FrontEnd {
    pub(crate) agent: RealtimeAgent,
    pub(crate) seen: Vec<(Instant, AgentEvent)>,
    spoke_at: Option<Instant>,
}

impl FrontEnd {
    pub(crate) async fn start(
        provider: Provider,
        server: &MockServer,
        config: AgentConfig,
        tools: ToolRegistry,
    ) -> Result<Self, String> {
        let agent = RealtimeAgent::start(provider.connector(server), config, tools)
            .await
            .map_err(|e| format!("the agent did not start: {e}"))?;
        let mut front = FrontEnd {
            agent,
            seen: Vec::new(),
            spoke_at: None,
        };
        front
            .until("session ready", |e| {
                matches!(e, AgentEvent::SessionReady { .. })
            })
            .await?;
        Ok(front)
    }

    /// Speaks a bundled clip (plus a second of silence) in 100 ms chunks.
    pub(crate) async fn say(&mut self, clip: &str) -> Result<(), String> {
        let (clip, rate) = crate::assets::clip(clip)?;
        let mut pcm = clip.to_vec();
        pcm.extend(vec![0u8; rate as usize * 2]);
        let input = self.agent.input();
        for chunk in pcm.chunks(rate as usize / 10 * 2) {
            input
                .audio(chunk.to_vec(), rate)
                .await
                .map_err(|e| e.to_string())?;
        }
        self.spoke_at = Some(Instant::now());
        Ok(())
    }

    /// Reads events until `stop` matches one; the index of that event.
    async fn until(
        &mut self,
        what: &str,
        mut stop: impl FnMut(&AgentEvent) -> bool,
    ) -> Result<usize, String> {
        loop {
            match timeout(WAIT, self.agent.next_event()).await {
                Ok(Some(event)) => {
                    let done = stop(&event);
                    self.seen.push((Instant::now(), event));
                    if done {
                        return Ok(self.seen.len() - 1);
                    }
                }
                Ok(None) => {
                    return Err(format!(
                        "the agent stopped while waiting for {what}; saw {}",
                        self.kinds()
                    ))
                }
                Err(_) => return Err(format!("no {what} within {WAIT:?}; saw {}", self.kinds())),
            }
        }
    }

    /// Reads until a response completes; what it said.
    pub(crate) async fn answer(&mut self) -> Result<String, String> {
        let done = self
            .until("a completed answer", |e| {
                matches!(
                    e,
                    AgentEvent::ResponseDone {
                        status: ResponseStatus::Completed,
                        ..
                    }
                )
            })
            .await?;
        let start = self.seen[..done]
            .iter()
            .rposition(|(_, e)| matches!(e, AgentEvent::ResponseStarted { .. }))
            .unwrap_or(0);
        Ok(self.seen[start..done]
            .iter()
            .filter_map(|(_, e)| match e {
                AgentEvent::TranscriptDelta { delta, .. } => Some(delta.as_str()),
                _ => None,
            })
            .collect())
    }

    /// Reads whatever arrives for `quiet`; what was said in it.
    pub(crate) async fn listen(&mut self, quiet: Duration) -> String {
        let until = tokio::time::Instant::now() + quiet;
        let mut said = String::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(until, self.agent.next_event()).await {
            if let AgentEvent::TranscriptDelta { delta, .. } = &event {
                said.push_str(delta);
            }
            self.seen.push((Instant::now(), event));
        }
        said
    }

    /// From the user's last audio to the first agent audio after it.
    fn first_audio(&self) -> Option<Duration> {
        let spoke = self.spoke_at?;
        self.seen
            .iter()
            .find(|(at, e)| *at >= spoke && matches!(e, AgentEvent::Audio { .. }))
            .map(|(at, _)| at.duration_since(spoke))
    }

    fn position(&self, matches: impl Fn(&AgentEvent) -> bool) -> Option<usize> {
        self.seen.iter().position(|(_, e)| matches(e))
    }

    fn kinds(&self) -> String {
        let start = self.seen.len().saturating_sub(10);
        self.seen[start..]
            .iter()
            .map(|(_, e)| {
                serde_json::to_value(e)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn tool_round_trip(provider: Provider, speed: f64) -> Outcome {
    let server = mock(speed, voice()).await?;
    let gate = Arc::new(Semaphore::new(u32::MAX as usize >> 4));
    let mut front = FrontEnd::start(
        provider,
        &server,
        AgentConfig::new(provider.spoken()),
        weather_tool(gate),
    )
    .await?;
    front.say(&provider.clip("weather")).await?;
    let mut answer = front.answer().await?;
    if answer.is_empty() {
        // The response that made the call said nothing; the answer follows.
        answer = front.answer().await?;
    }
    let mut checks = vec![check(
        "the tool's answer is spoken",
        answer == WEATHER_A,
        format!("said {answer:?}"),
    )];
    let called = front.position(|e| matches!(e, AgentEvent::ToolCallStarted { name, arguments, .. } if name == "get_weather" && arguments == r#"{"city":"Paris"}"#));
    let finished = front.position(|e| {
        matches!(
            e,
            AgentEvent::ToolCallFinished {
                is_error: false,
                ..
            }
        )
    });
    let spoken = front
        .position(|e| matches!(e, AgentEvent::TranscriptDone { text, .. } if text == WEATHER_A));
    checks.push(check(
        "call, result, answer in order",
        matches!((called, finished, spoken), (Some(a), Some(b), Some(c)) if a < b && b < c),
        format!("positions: call {called:?}, result {finished:?}, answer {spoken:?}"),
    ));
    checks.push(transcript_check(
        &front.agent,
        &["user", "tool call", "tool result", "agent"],
    ));
    let first = front.first_audio();
    let _ = front.agent.close().await;
    Ok((checks, first))
}

async fn barge_in_during_tool(provider: Provider, speed: f64) -> Outcome {
    let server = mock(speed, voice()).await?;
    let gate = Arc::new(Semaphore::new(0));
    let mut front = FrontEnd::start(
        provider,
        &server,
        AgentConfig::new(provider.spoken()),
        weather_tool(Arc::clone(&gate)),
    )
    .await?;
    front.say(&provider.clip("weather")).await?;
    front
        .until("the tool call", |e| {
            matches!(e, AgentEvent::ToolCallStarted { .. })
        })
        .await?;
    front.say(&provider.clip("interrupt")).await?;
    let mut answer = front.answer().await?;
    while answer.is_empty() {
        answer = front.answer().await?;
    }
    let mut checks = vec![check(
        "the new question is answered",
        answer == BERLIN_A,
        format!("said {answer:?}"),
    )];
    // The slow tool finishes after the barge-in: its answer must not be spoken.
    gate.add_permits(1);
    let later = front
        .listen(Duration::from_secs(3).div_f64(speed.max(1.0)))
        .await;
    let stale = front
        .seen
        .iter()
        .any(|(_, e)| matches!(e, AgentEvent::TranscriptDone { text, .. } if text == WEATHER_A));
    checks.push(check(
        "the stale tool answer is never spoken",
        !stale && !later.contains("Here is what I found"),
        format!("said after the tool finished: {later:?}"),
    ));
    // Every call is settled: answered (kept in the conversation) or cancelled.
    let settled = front.position(|e| {
        matches!(
            e,
            AgentEvent::ToolCallFinished { .. } | AgentEvent::ToolCallCancelled { .. }
        )
    });
    checks.push(check(
        "the pending call is settled, not left dangling",
        settled.is_some(),
        format!("last events: {}", front.kinds()),
    ));
    let first = front.first_audio();
    let _ = front.agent.close().await;
    Ok((checks, first))
}

async fn reconnect(provider: Provider, speed: f64) -> Outcome {
    let mut responder = voice();
    // Short lives, reached after the first turn; each mock dialect ends them
    // its provider's way (goAway then close on Gemini, session_expired on
    // OpenAI, a close on DashScope). The first turn (a ~3 s clip and its
    // answer) must be over before the end: with 4 s a loaded machine (the
    // whole suite side by side on 2 cores) sometimes still had the answer in
    // flight, and Gemini says a session is not resumable mid-generation.
    responder.session_limit = Some(Duration::from_secs(8).div_f64(speed.max(1.0)));
    let server = mock(speed, responder).await?;
    let mut config = AgentConfig::new(provider.spoken());
    config.reconnect = ReconnectPolicy {
        max_attempts: 5,
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
    };
    let mut front = FrontEnd::start(provider, &server, config, ToolRegistry::new()).await?;
    front.say(&provider.clip("order")).await?;
    let first = front.answer().await?;
    // Lost and reopened, or moved before the announced end (goAway,
    // expires_at): either way the agent reports the switch and how it went.
    front
        .until("the move to a new session", |e| {
            matches!(e, AgentEvent::SessionSwitched { .. })
        })
        .await?;
    let resumed = front.seen.iter().rev().find_map(|(_, e)| match e {
        AgentEvent::SessionSwitched { resumed, .. } => Some(*resumed),
        _ => None,
    });
    front.say(&provider.clip("weather")).await?;
    let second = front.answer().await?;
    let resumption = front.agent.capabilities().resumption;
    let checks = vec![
        check(
            "the first turn is answered",
            first.starts_with("You said: Can you check"),
            format!("said {first:?}"),
        ),
        check(
            "the session comes back, resumed where the dialect can",
            resumed == Some(resumption),
            format!("resumed {resumed:?}; capabilities.resumption {resumption}"),
        ),
        check(
            "the next turn is answered after the reconnect",
            second == format!("You said: {WEATHER_Q}"),
            format!("said {second:?}"),
        ),
    ];
    let first_audio = front.first_audio();
    let _ = front.agent.close().await;
    Ok((checks, first_audio))
}

/// The transcript holds these kinds of entries, in this order (others may sit between).
fn transcript_check(agent: &RealtimeAgent, wanted: &[&str]) -> CheckResult {
    let transcript = agent.transcript();
    let kinds: Vec<&str> = transcript
        .entries()
        .iter()
        .map(|e| match e {
            TranscriptEntry::User { .. } => "user",
            TranscriptEntry::Agent { .. } => "agent",
            TranscriptEntry::ToolCall { .. } => "tool call",
            TranscriptEntry::ToolResult { .. } => "tool result",
            TranscriptEntry::ToolCancelled { .. } => "tool cancelled",
        })
        .collect();
    let mut rest = kinds.iter();
    let in_order = wanted.iter().all(|w| rest.any(|k| k == w));
    check(
        "the transcript keeps the turns in order",
        in_order,
        format!("transcript: {kinds:?}; wanted {wanted:?}"),
    )
}
