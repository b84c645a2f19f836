//! The RealtimeAgent on GPT-Live (`openai-live`, reached through the
//! registry by the model name) against the in-process mock, for what only a
//! dialect with its capabilities needs: a clock that runs on input audio
//! (`continuous_input`: the agent streams silence while the front end is
//! quiet, and the session stalls without it), delegated requests
//! (`delegated_tools`: routed to the configured tool, or refused saying
//! why), and the session limit its `session.started` announces (a planned
//! handover, or a plain reason when the agent cannot move).

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use understudy_adapters::registry;
use understudy_agents::realtime::{
    connector_fn, tool_fn, AgentConfig, AgentEvent, Connector, DelegationRoute, RealtimeAgent,
    ReconnectPolicy, SilenceFill, ToolRegistry,
};
use understudy_mock::{EntryKind, MockServer, ResponderConfig, SessionJournal};

const ORDER_Q: &str = "Can you check the status of order A seventeen?";

async fn mock(config: impl FnOnce(&mut ResponderConfig)) -> MockServer {
    let mut responder = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    config(&mut responder);
    MockServer::builder()
        .respond(responder)
        .start()
        .await
        .unwrap()
}

/// `model` of `provider` on `server`, through the registry's choice by model.
fn connector(server: &MockServer, provider: &str, model: &str) -> registry::ConnectOptions {
    let dialect = registry::provider(provider).unwrap().realtime_for(model);
    let origin = server.url().replacen("http://", "ws://", 1);
    registry::ConnectOptions::new(dialect, dialect.connect.base_url_at(&origin), model)
        .api_key("sk-test")
}

/// A GPT-Live agent whose silence runs the session four times faster than
/// real time.
fn fast(config: AgentConfig) -> AgentConfig {
    AgentConfig {
        silence_fill: Some(SilenceFill {
            pace: 4.0,
            ..SilenceFill::default()
        }),
        ..config
    }
}

fn audio_appends(journal: &SessionJournal) -> usize {
    journal
        .find(EntryKind::Client, "session.input_audio.append")
        .count()
}

// ---- a clock that runs on input audio ------------------------------------------

#[tokio::test]
async fn the_agent_streams_silence_while_the_front_end_pauses_and_without_it_the_session_stalls() {
    // With silence: one spoken clip and nothing after it is still answered,
    // the reply ends, and the session's input never stopped.
    let server = mock(|_| {}).await;
    let mut agent = RealtimeAgent::start(
        connector(&server, "openai", "gpt-live-1"),
        fast(AgentConfig::default()),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    assert!(agent.capabilities().continuous_input);
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    say(&agent, "user-weather-24k.wav", 0).await;
    let (answer, _) = next_answer(&mut agent).await;
    assert_eq!(answer, format!("You said: {WEATHER_Q}"));
    let (pcm, _) = clip("user-weather-24k.wav");
    let said_chunks = pcm.len().div_ceil(4_800);
    assert!(
        audio_appends(&server.journal()[0]) > said_chunks + 20,
        "silence followed the clip"
    );
    agent.close().await;

    // Without: the same clip (its own trailing silence lets the reply
    // begin), and the reply never ends: the session's clock stopped.
    let server = mock(|_| {}).await;
    let config = AgentConfig {
        silence_fill: None,
        ..AgentConfig::default()
    };
    let mut agent = RealtimeAgent::start(
        connector(&server, "openai", "gpt-live-1"),
        config,
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    say(&agent, "user-weather-24k.wav", 0).await;
    let mut seen = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_secs(3), agent.next_event()).await
    {
        seen.push(event);
    }
    assert!(
        !seen.iter().any(is_done),
        "the clock stopped with the clip: {:?}",
        kinds(&seen)
    );
    assert_eq!(audio_appends(&server.journal()[0]), said_chunks);
    agent.close().await;
}

#[tokio::test]
async fn a_dialect_with_its_own_clock_gets_no_silence() {
    let server = mock(|_| {}).await;
    let mut agent = RealtimeAgent::start(
        connector(&server, "openai", "gpt-realtime"),
        fast(AgentConfig::default()),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    assert!(!agent.capabilities().continuous_input);
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    agent.input().audio(vec![0u8; 4_800], 24_000).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let journal = &server.journal()[0];
    assert_eq!(
        journal
            .find(EntryKind::Client, "input_audio_buffer.append")
            .count(),
        1,
        "only the front end's audio"
    );
    agent.close().await;
}

// ---- delegated requests ----------------------------------------------------------

/// `lookup_order`, which answers from the request it is handed.
fn lookup_order() -> ToolRegistry {
    ToolRegistry::new().with(tool_fn(
        "lookup_order",
        "Looks an order up from the user's words",
        json!({"type":"object","properties":{"request":{"type":"string"}},"required":["request"]}),
        |args: Value| async move {
            let request = args["request"].as_str().unwrap_or_default().to_owned();
            assert!(args["offset_ms"].is_u64(), "{args}");
            Ok(json!(format!("Order lookup for: {request}")))
        },
    ))
}

#[tokio::test]
async fn a_delegated_request_goes_to_the_only_tool_and_its_result_is_spoken() {
    let server = mock(|_| {}).await;
    let config = AgentConfig {
        delegation: DelegationRoute::OnlyTool,
        ..fast(AgentConfig::default())
    };
    let mut agent = RealtimeAgent::start(
        connector(&server, "openai", "gpt-live-1"),
        config,
        lookup_order(),
    )
    .await
    .unwrap();
    assert!(agent.capabilities().delegated_tools);
    say(&agent, "user-order-24k.wav", 0).await;
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallFinished { .. })
    })
    .await;
    let started = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::ToolCallStarted {
                call_id,
                name,
                arguments,
            } => Some((call_id.clone(), name.clone(), arguments.clone())),
            _ => None,
        })
        .expect("the delegation became a call");
    assert_eq!(started.1, "lookup_order");
    let arguments: Value = serde_json::from_str(&started.2).unwrap();
    assert_eq!(arguments["request"], ORDER_Q);
    let result = format!("Order lookup for: {ORDER_Q}");
    let answer = loop {
        let (answer, _) = next_answer(&mut agent).await;
        if answer.ends_with(&result) {
            break answer;
        }
    };
    assert!(answer.ends_with(&result), "{answer}");
    // The result went back as commentary for that delegation.
    let journal = &server.journal()[0];
    let append = journal
        .find(EntryKind::Client, "session.commentary.append")
        .next()
        .expect("a commentary append");
    let frame: Value = serde_json::from_str(&append.detail).unwrap();
    assert_eq!(frame["delegation_id"], started.0.as_str());
    assert_eq!(frame["content"], result.as_str());
    assert!(journal
        .find(EntryKind::Server, "session.commentary.appended")
        .next()
        .is_some());
    agent.close().await;
}

#[tokio::test]
async fn a_delegated_request_with_no_routed_tool_fails_saying_why() {
    let server = mock(|_| {}).await;
    // The default route is a tool called `delegate`; this agent has only
    // `lookup_order`, and no tool is guessed.
    let mut agent = RealtimeAgent::start(
        connector(&server, "openai", "gpt-live-1"),
        fast(AgentConfig::default()),
        lookup_order(),
    )
    .await
    .unwrap();
    say(&agent, "user-order-24k.wav", 0).await;
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallFinished { .. })
    })
    .await;
    let Some(AgentEvent::ToolCallFinished {
        output, is_error, ..
    }) = events.last()
    else {
        unreachable!()
    };
    assert!(*is_error);
    assert!(
        output.contains("no tool named `delegate`") && output.contains("AgentConfig::delegation"),
        "{output}"
    );
    // The model is told, as for any failed call.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let journal = &server.journal()[0];
        if let Some(append) = journal
            .find(EntryKind::Client, "session.commentary.append")
            .next()
        {
            assert!(append.detail.contains("no tool named"), "{}", append.detail);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no result was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.close().await;
}

// ---- the session limit -------------------------------------------------------------

#[tokio::test]
async fn the_announced_expiry_is_met_by_a_planned_move_to_a_briefed_session() {
    let server = mock(|config| config.session_limit = Some(Duration::from_secs(8))).await;
    let config = AgentConfig {
        handover_margin: Duration::from_secs(4),
        ..fast(AgentConfig::default())
    };
    let mut agent = RealtimeAgent::start(
        connector(&server, "openai", "gpt-live-1"),
        config,
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    say(&agent, "user-weather-24k.wav", 0).await;
    let (answer, _) = next_answer(&mut agent).await;
    assert_eq!(answer, format!("You said: {WEATHER_Q}"));
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::SessionSwitched { .. })
    })
    .await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::Disconnected { .. })),
        "{:?}",
        kinds(&events)
    );
    let Some(AgentEvent::SessionSwitched {
        planned, resumed, ..
    }) = events.last()
    else {
        unreachable!()
    };
    assert!(
        *planned && !*resumed,
        "GPT-Live cannot resume: a fresh session"
    );
    let journal = server.journal();
    assert_eq!(journal.len(), 2);
    // The agent left the old session before it expired.
    assert!(
        !journal[0]
            .find(EntryKind::Server, "session.closed")
            .any(|e| e.detail.contains("expired")),
        "the old session expired under the agent"
    );
    // The new one starts with the conversation in its instructions.
    let start = journal[1]
        .find(EntryKind::Client, "session.start")
        .next()
        .expect("the new session was started");
    assert!(
        start.detail.contains("What is the weather like in Paris"),
        "{}",
        start.detail
    );
    // And it answers.
    say(&agent, "user-order-24k.wav", 0).await;
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallFinished { .. })
    })
    .await;
    assert!(!events.is_empty());
    agent.close().await;
}

#[tokio::test]
async fn an_expiry_the_agent_cannot_move_before_is_reported_as_such() {
    // The next connection never opens: the handover cannot happen, the
    // session expires, and the agent says so.
    let server = mock(|config| config.session_limit = Some(Duration::from_secs(2))).await;
    let gate = Arc::new(Semaphore::new(0));
    let inner: Arc<dyn Connector> = Arc::new(connector(&server, "openai", "gpt-live-1"));
    let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let gated = connector_fn(move || {
        let (inner, gate) = (Arc::clone(&inner), Arc::clone(&gate));
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n > 0 {
                gate.acquire().await.expect("gate open").forget();
            }
            inner.connect().await
        }
    });
    let config = AgentConfig {
        reconnect: ReconnectPolicy::never(),
        ..fast(AgentConfig::default())
    };
    let mut agent = RealtimeAgent::start(gated, config, ToolRegistry::new())
        .await
        .unwrap();
    let events = until(&mut agent, |e| matches!(e, AgentEvent::Closed { .. })).await;
    let disconnected = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::Disconnected { reason } => Some(reason.clone()),
            _ => None,
        })
        .expect("the loss is reported");
    assert_eq!(disconnected, "session closed: expired");
    let Some(AgentEvent::Closed { reason }) = events.last() else {
        unreachable!()
    };
    assert!(reason.contains("session closed: expired"), "{reason}");
}
