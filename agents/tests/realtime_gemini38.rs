//! The RealtimeAgent on Gemini 3.8 Live's tools, against the in-process mock
//! (respond engine) on `gemini-3.8-live` and
//! `gemini-3.8-live-extended-thinking`: a slow background (non-blocking)
//! call while the user asks something else, a blocking call cancelled by
//! new input, a `SILENT` result that is never spoken, and Extended
//! Thinking's reply, busy until `IDLE`.
//!
//! The agent decides from capabilities alone; the model names here are the
//! test's, which picks what the mock plays. Slow steps are gated by the test
//! (a tool that waits to be released), and every wait has a deadline.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use understudy_adapters::registry::{self, table::GEMINI_LIVE};
use understudy_adapters::{SessionConfig, ToolBehavior, ToolResultScheduling};
use understudy_agents::realtime::{
    tool_fn, AgentConfig, AgentEvent, FnTool, RealtimeAgent, ToolError, ToolRegistry,
};
use understudy_mock::{EntryKind, JournalMode, MockServer, ResponderConfig};

const LIVE_38: &str = "gemini-3.8-live";
const EXTENDED_THINKING: &str = "gemini-3.8-live-extended-thinking";
const WEATHER: &str = "What's the weather in Paris?";
const OTHER: &str = "Remember that the code is 42.";

async fn server() -> MockServer {
    server_at(8.0).await
}

async fn server_at(speed: f64) -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(speed)
        .journal(JournalMode::Full)
        .start()
        .await
        .unwrap()
}

async fn start(server: &MockServer, model: &str, tools: ToolRegistry) -> RealtimeAgent {
    start_with(
        server,
        model,
        tools,
        AgentConfig::new(SessionConfig::default()),
    )
    .await
}

async fn start_with(
    server: &MockServer,
    model: &str,
    tools: ToolRegistry,
    config: AgentConfig,
) -> RealtimeAgent {
    let origin = server.url().replacen("http://", "ws://", 1);
    let connector = registry::ConnectOptions::new(
        &GEMINI_LIVE,
        GEMINI_LIVE.connect.base_url_at(&origin),
        model,
    )
    .api_key("sk-test");
    let mut agent = RealtimeAgent::start(connector, config, tools)
        .await
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    agent
}

/// Sets a flag when dropped: a tool task that was aborted drops its future.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A weather tool that answers once `gate` lets it, flagging `dropped` if
/// its call is dropped (aborted) first.
fn weather(gate: Arc<Semaphore>, dropped: Arc<AtomicBool>) -> impl Fn(Value) -> ToolFutureOf {
    move |args: Value| {
        let gate = Arc::clone(&gate);
        let guard = Dropped(Arc::clone(&dropped));
        Box::pin(async move {
            let _permit = gate
                .acquire()
                .await
                .map_err(|e| ToolError::Failed(e.to_string()))?;
            std::mem::forget(guard); // finished: not dropped
            Ok(json!({"city": args["city"], "sky": "clear"}))
        })
    }
}

type ToolFutureOf =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, ToolError>> + Send>>;

fn schema() -> Value {
    json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})
}

/// A test's weather tool: its gate (how many calls may finish) and whether
/// a call was dropped before it finished.
struct Weather {
    gate: Arc<Semaphore>,
    dropped: Arc<AtomicBool>,
}

impl Weather {
    fn new(permits: usize) -> Self {
        Weather {
            gate: Arc::new(Semaphore::new(permits)),
            dropped: Arc::new(AtomicBool::new(false)),
        }
    }

    fn tool(&self) -> FnTool<impl Fn(Value) -> ToolFutureOf + Send + Sync + 'static> {
        tool_fn(
            "get_weather",
            "Weather for a city",
            schema(),
            weather(Arc::clone(&self.gate), Arc::clone(&self.dropped)),
        )
    }
}

/// The client frames the mock journalled whose type is `label`, whole.
fn client_frames(server: &MockServer, label: &str) -> Vec<String> {
    server
        .journal()
        .iter()
        .flat_map(|s| s.entries.clone())
        .filter(|e| e.kind == EntryKind::Client && e.label == label)
        .map(|e| e.detail)
        .collect()
}

fn started(events: &[AgentEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, AgentEvent::ResponseStarted { .. }))
        .count()
}

#[tokio::test]
async fn a_slow_background_call_lets_another_question_be_answered_first() {
    let server = server().await;
    let weather = Weather::new(0);
    let tools = ToolRegistry::new().with(weather.tool());
    let mut agent = start(&server, LIVE_38, tools).await;
    agent.input().text(WEATHER).await.unwrap();
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallInBackground { .. })
    })
    .await;
    assert!(
        events.iter().any(
            |e| matches!(e, AgentEvent::ToolCallStarted { name, .. } if name == "get_weather")
        ),
        "{:?}",
        kinds(&events)
    );
    // The call's own turn (the model's filler) ends while the tool runs.
    until(&mut agent, is_done).await;

    // The user asks something else; it is answered while the call is held.
    agent.input().text(OTHER).await.unwrap();
    let (answer, events) = next_answer(&mut agent).await;
    assert!(answer.contains("42"), "{answer}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolCallFinished { .. })),
        "the tool was still held"
    );

    // Released, its result goes back and is spoken after.
    weather.gate.add_permits(1);
    until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallFinished { .. })
    })
    .await;
    let (answer, _) = next_answer(&mut agent).await;
    assert!(answer.contains("clear"), "the result is spoken: {answer}");

    // On the wire: the tool was declared non-blocking by the agent, and its
    // result carries the default scheduling.
    let setup = client_frames(&server, "setup").join("");
    assert!(setup.contains(r#""behavior":"NON_BLOCKING""#), "{setup}");
    let results = client_frames(&server, "toolResponse");
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        results[0].contains(r#""scheduling":"WHEN_IDLE""#),
        "{results:?}"
    );
    agent.close().await;
}

#[tokio::test]
async fn a_blocking_call_is_cancelled_by_new_input_and_its_tool_aborted() {
    let server = server().await;
    let weather = Weather::new(0);
    let tools = ToolRegistry::new().with(weather.tool().with_behavior(ToolBehavior::Blocking));
    let mut agent = start(&server, LIVE_38, tools).await;
    agent.input().text(WEATHER).await.unwrap();
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallStarted { .. })
    })
    .await;
    let Some(AgentEvent::ToolCallStarted { call_id, .. }) = events.last().cloned() else {
        unreachable!()
    };

    // New input while the blocking call is pending cancels it.
    agent.input().text(OTHER).await.unwrap();
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallCancelled { .. })
    })
    .await;
    assert!(
        matches!(events.last(), Some(AgentEvent::ToolCallCancelled { call_id: c }) if *c == call_id)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolCallInBackground { .. })),
        "a blocking call is not a background one"
    );
    let (answer, _) = next_answer(&mut agent).await;
    assert!(answer.contains("42"), "the new input is answered: {answer}");
    assert!(
        weather.dropped.load(Ordering::SeqCst),
        "the tool's task was aborted"
    );
    // Releasing the gate now changes nothing: the call is gone.
    weather.gate.add_permits(1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let setup = client_frames(&server, "setup").join("");
    assert!(setup.contains(r#""behavior":"BLOCKING""#), "{setup}");
    assert!(
        client_frames(&server, "toolResponse").is_empty(),
        "no result is sent for a cancelled call"
    );
    let rest = agent.close().await;
    assert!(
        !rest
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolCallFinished { .. })),
        "{:?}",
        kinds(&rest)
    );
}

#[tokio::test]
async fn a_silent_result_is_never_spoken() {
    let server = server().await;
    let weather = Weather::new(1);
    let tools =
        ToolRegistry::new().with(weather.tool().with_scheduling(ToolResultScheduling::Silent));
    let mut agent = start(&server, LIVE_38, tools).await;
    agent.input().text(WEATHER).await.unwrap();
    // The call finishes at once; the filler turn ends on its own.
    let (mut finished, mut filler_done) = (false, false);
    until(&mut agent, |e| {
        finished |= matches!(e, AgentEvent::ToolCallFinished { .. });
        filler_done |= is_done(e);
        finished && filler_done
    })
    .await;
    // Time in which a WHEN_IDLE result would be answered (the mock plays
    // at 8x): nothing starts.
    let quiet = tokio::time::timeout(Duration::from_millis(1_500), async {
        until(&mut agent, |e| {
            matches!(e, AgentEvent::ResponseStarted { .. })
        })
        .await
    })
    .await;
    assert!(quiet.is_err(), "a response started for the SILENT result");

    agent.input().text(OTHER).await.unwrap();
    let (answer, events) = next_answer(&mut agent).await;
    assert_eq!(started(&events), 1, "{:?}", kinds(&events));
    assert!(
        answer.contains("42") && !answer.contains("clear"),
        "{answer}"
    );
    let results = client_frames(&server, "toolResponse");
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        results[0].contains(r#""scheduling":"SILENT""#),
        "{results:?}"
    );
    agent.close().await;
}

#[tokio::test]
async fn extended_thinking_is_busy_until_idle() {
    let server = server().await;
    let weather = Weather::new(1);
    let tools = ToolRegistry::new().with(weather.tool());
    let mut agent = start(&server, EXTENDED_THINKING, tools).await;
    assert!(agent.capabilities().interaction_status);
    agent.input().text(WEATHER).await.unwrap();
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::InteractionStatus { busy: false, .. })
    })
    .await;
    let statuses: Vec<(usize, bool, &str)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            AgentEvent::InteractionStatus { busy, status } => Some((i, *busy, status.as_str())),
            _ => None,
        })
        .collect();
    let dones: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| is_done(e))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        statuses.iter().map(|s| (s.1, s.2)).collect::<Vec<_>>(),
        [(true, "IN_PROGRESS"), (false, "IDLE")],
        "{:?}",
        kinds(&events)
    );
    // The first segment's end was not the reply's: more followed it (the
    // answer from the tool's result), and IDLE came after the last.
    assert_eq!(dones.len(), 2, "{:?}", kinds(&events));
    assert!(dones[0] < statuses[0].0 && statuses[0].0 < dones[1] && dones[1] < statuses[1].0);
    let answer = said(&events[statuses[0].0..]);
    assert!(answer.contains("clear"), "{answer}");
    agent.close().await;
}

/// A reply is not finished at a segment's end: a move to a compacted session
/// (the context budget is spent after the first segment) waits for `IDLE`,
/// so the answer from the tool's result is heard in full on the old session.
#[tokio::test]
async fn extended_thinking_moves_to_a_new_session_only_once_idle() {
    // Real time: the gap between the segments is long enough for the new
    // connection to be ready in it.
    let server = server_at(1.0).await;
    let weather = Weather::new(1);
    let tools = ToolRegistry::new().with(weather.tool());
    let mut config = AgentConfig::new(SessionConfig::default());
    config.context_budget_tokens = Some(1);
    let mut agent = start_with(&server, EXTENDED_THINKING, tools, config).await;
    agent.input().text(WEATHER).await.unwrap();
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::SessionSwitched { .. })
    })
    .await;
    let idle = events
        .iter()
        .position(|e| matches!(e, AgentEvent::InteractionStatus { busy: false, .. }));
    assert!(
        idle.is_some(),
        "switched before the reply was finished: {:?}",
        kinds(&events)
    );
    let answer = said(&events);
    assert!(
        answer.contains("clear"),
        "the whole reply was heard: {answer}"
    );
    agent.close().await;
}
