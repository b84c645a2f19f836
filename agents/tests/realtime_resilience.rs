//! The RealtimeAgent when the provider misbehaves, over real sockets against
//! the in-process mock: a session that never acknowledges its configuration,
//! a first connection that fails, a connection going away (`GoAway`), a tool
//! call the provider withdraws, and input dropped while reconnecting.
//!
//! As in `realtime_agent.rs`, no assertion depends on how fast the machine
//! is: slow steps are gated by the test (a connector that counts or waits, a
//! tool that waits to be released), and every wait has a generous deadline.
//! The only short timeouts are ones that *must* fire (a provider that never
//! answers), so a slow machine cannot make them flake.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::time::timeout;
use understudy_adapters::{dashscope, gemini, openai, registry, SessionConfig, TurnDetection};
use understudy_agents::realtime::{
    connector_fn, tool_fn, AgentConfig, AgentEvent, Connector, RealtimeAgent, RealtimeAgentError,
    ReconnectPolicy, ToolError, ToolRegistry, TranscriptEntry,
};
use understudy_mock::{EntryKind, MockServer, ResponderConfig};

fn voice() -> ResponderConfig {
    ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap())
}

async fn server(speed: f64) -> MockServer {
    MockServer::builder()
        .respond(voice())
        .speed(speed)
        .start()
        .await
        .unwrap()
}

fn spoken(transcription: &str) -> SessionConfig {
    SessionConfig {
        turn_detection: Some(TurnDetection::server_vad()),
        input_transcription: Some(transcription.into()),
        ..Default::default()
    }
}

fn dashscope_at(server: &MockServer) -> registry::ConnectOptions {
    dashscope::connect_options(server.dashscope_url(), QWEN_FLASH).api_key("sk-test")
}

/// OpenAI options for a port nobody listens on.
fn nobody() -> registry::ConnectOptions {
    openai::connect_options("ws://127.0.0.1:9/v1", openai::Dialect::Ga, "gpt-realtime")
}

/// Quick back-off, `attempts` attempts.
fn quick(attempts: u32) -> ReconnectPolicy {
    ReconnectPolicy {
        max_attempts: attempts,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    }
}

/// Wraps a connector so the test can count its connection attempts.
fn counted(inner: impl Connector, count: Arc<AtomicU32>) -> impl Connector {
    let inner: Arc<dyn Connector> = Arc::new(inner);
    connector_fn(move || {
        let inner = Arc::clone(&inner);
        count.fetch_add(1, Ordering::SeqCst);
        async move { inner.connect().await }
    })
}

// ---- a session that never acknowledges its configuration -------------------------

#[tokio::test]
async fn a_session_that_never_acknowledges_its_setup_is_replaced() {
    // The first connection goes to a DashScope that never answers
    // `session.update`; the next ones to a healthy one.
    let silent = MockServer::builder()
        .respond(voice())
        .speed(8.0)
        .setup_fault(understudy_mock::SetupFault::Silent)
        .start()
        .await
        .unwrap();
    let healthy = server(8.0).await;
    let (first, rest) = (dashscope_at(&silent), dashscope_at(&healthy));
    let count = Arc::new(AtomicU32::new(0));
    let calls = Arc::clone(&count);
    let connector = connector_fn(move || {
        let options = if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            first.clone()
        } else {
            rest.clone()
        };
        async move { registry::connect(&options).await }
    });
    let config = AgentConfig {
        reconnect: quick(3),
        // Long enough for a healthy mock on a loaded machine; the silent one
        // never answers, so this always fires for it.
        setup_timeout: Duration::from_secs(3),
        ..AgentConfig::new(spoken("gummy-realtime-v1"))
    };
    let mut agent = RealtimeAgent::start(connector, config, ToolRegistry::new())
        .await
        .unwrap();
    // Spoken at once: held until a session is ready, not sent into the void.
    say(&agent, "user-weather-16k.wav", 1_200).await;
    let events = until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    let reason = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::Disconnected { reason } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the silent session was given up: {:?}", kinds(&events)));
    assert!(reason.contains("acknowledge"), "{reason}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Reconnecting { attempt: 1, .. })),
        "{:?}",
        kinds(&events)
    );
    assert!(
        matches!(
            events.last(),
            Some(AgentEvent::SessionReady { connection: 2, .. })
        ),
        "the first session to be ready is announced as such: {:?}",
        events.last()
    );
    let (answer, _) = next_answer(&mut agent).await;
    assert_eq!(answer, format!("You said: {WEATHER_Q}"));
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // The silent session got its configuration and nothing else: the speech
    // waited for a session that had said it was ready.
    let journal = &silent.journal()[0];
    assert!(journal.find(EntryKind::Note, "fault").next().is_some());
    let labels = client_labels(journal);
    assert!(labels.contains(&"session.update"), "{labels:?}");
    assert!(
        !labels.iter().any(|l| l.contains("append")),
        "no audio went to the unacknowledged session: {labels:?}"
    );
    agent.close().await;
}

#[tokio::test]
async fn a_provider_that_never_acknowledges_is_given_up_on() {
    let silent = MockServer::builder()
        .respond(voice())
        .setup_fault(understudy_mock::SetupFault::Silent)
        .start()
        .await
        .unwrap();
    let config = AgentConfig {
        reconnect: quick(2),
        setup_timeout: Duration::from_millis(200),
        ..AgentConfig::default()
    };
    let mut agent = RealtimeAgent::start(dashscope_at(&silent), config, ToolRegistry::new())
        .await
        .unwrap();
    let events = until(&mut agent, |e| matches!(e, AgentEvent::Closed { .. })).await;
    let attempts: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2], "{:?}", kinds(&events));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::SessionReady { .. })),
        "{:?}",
        kinds(&events)
    );
    assert!(events.iter().any(
        |e| matches!(e, AgentEvent::Error { fatal: true, code, .. } if code == "session_lost")
    ));
    assert_eq!(silent.journal().len(), 3, "one connection per attempt");
}

// ---- the first connection ---------------------------------------------------------

#[tokio::test]
async fn a_failing_first_connection_is_retried_under_the_policy() {
    let server = server(8.0).await;
    let healthy = openai::connect_options(
        server.openai_base_url(),
        openai::Dialect::Ga,
        "gpt-realtime",
    )
    .api_key("sk-test");
    let count = Arc::new(AtomicU32::new(0));
    let calls = Arc::clone(&count);
    // Nobody listens for the first two attempts.
    let connector = connector_fn(move || {
        let options = if calls.fetch_add(1, Ordering::SeqCst) < 2 {
            nobody()
        } else {
            healthy.clone()
        };
        async move { registry::connect(&options).await }
    });
    let config = AgentConfig {
        reconnect: quick(3),
        ..AgentConfig::default()
    };
    let mut agent = RealtimeAgent::start(connector, config, ToolRegistry::new())
        .await
        .expect("the third attempt connects");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let events = until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    assert!(
        matches!(
            events.last(),
            Some(AgentEvent::SessionReady { connection: 1, .. })
        ),
        "failed attempts open no connection: {:?}",
        kinds(&events)
    );
    agent.input().text("Still there?").await.unwrap();
    let (answer, _) = next_answer(&mut agent).await;
    assert_eq!(answer, "You said: Still there?");
    agent.close().await;
}

#[tokio::test]
async fn start_fails_when_every_first_attempt_fails() {
    let count = Arc::new(AtomicU32::new(0));
    let config = AgentConfig {
        reconnect: quick(2),
        ..AgentConfig::default()
    };
    let result = RealtimeAgent::start(
        counted(nobody(), Arc::clone(&count)),
        config.clone(),
        ToolRegistry::new(),
    )
    .await;
    assert!(
        matches!(result, Err(RealtimeAgentError::Connect(_))),
        "{result:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3, "one try and two retries");

    // A refusal that repeating cannot fix (a bad key) fails at once.
    let guarded = MockServer::builder()
        .respond(voice())
        .require_auth(vec!["sk-right".into()])
        .start()
        .await
        .unwrap();
    let count = Arc::new(AtomicU32::new(0));
    let wrong_key =
        dashscope::connect_options(guarded.dashscope_url(), QWEN_FLASH).api_key("sk-wrong");
    let result = RealtimeAgent::start(
        counted(wrong_key, Arc::clone(&count)),
        config,
        ToolRegistry::new(),
    )
    .await;
    let Err(RealtimeAgentError::Connect(error)) = result else {
        panic!("{result:?}")
    };
    assert!(error.to_string().contains("401"), "{error}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

// ---- GoAway: moving to a new connection before the old one closes --------------------

#[tokio::test]
async fn go_away_moves_to_a_resumed_session_without_losing_input() {
    // Each connection lives 8 s; `goAway` comes at 4 s.
    let server = MockServer::builder()
        .respond(voice())
        .speed(8.0)
        .connection_limit(Duration::from_secs(8))
        .start()
        .await
        .unwrap();
    let options = gemini::connect_options(server.gemini_base_url(), GEMINI).api_key("k");
    // The second connection (the handover's) says it was asked for, then
    // waits until the test lets it through.
    let asked = Arc::new(Notify::new());
    let gate = Arc::new(Semaphore::new(0));
    let count = Arc::new(AtomicU32::new(0));
    let connector = {
        let (asked, gate, count) = (Arc::clone(&asked), Arc::clone(&gate), Arc::clone(&count));
        connector_fn(move || {
            let options = options.clone();
            let (asked, gate) = (Arc::clone(&asked), Arc::clone(&gate));
            let n = count.fetch_add(1, Ordering::SeqCst);
            async move {
                if n > 0 {
                    asked.notify_one();
                    gate.acquire().await.expect("gate open").forget();
                }
                registry::connect(&options).await
            }
        })
    };
    let mut agent = RealtimeAgent::start(
        connector,
        AgentConfig::new(spoken("default")),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    say(&agent, "user-weather-16k.wav", 1_200).await;
    let (first, _) = next_answer(&mut agent).await;
    assert_eq!(first, format!("You said: {WEATHER_Q}"));

    // `goAway` came: the agent asked for the next connection.
    timeout(Duration::from_secs(20), asked.notified())
        .await
        .expect("the agent opens a new connection on goAway");
    // The user starts a turn on the old connection: speech without the
    // silence that would end it (the clip's own trailing silence cut off).
    let (pcm, rate) = clip("user-order-16k.wav");
    let spoken_part = &pcm[..(rate as usize * 2 * 2_750 / 1_000)];
    for chunk in spoken_part.chunks(rate as usize / 10 * 2) {
        agent.input().audio(chunk.to_vec(), rate).await.unwrap();
    }
    gate.add_permits(1);
    let events = until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    assert!(
        matches!(
            events.last(),
            Some(AgentEvent::SessionReady { connection: 2, .. })
        ),
        "{:?}",
        events.last()
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            AgentEvent::Disconnected { .. }
                | AgentEvent::Reconnecting { .. }
                | AgentEvent::Error { .. }
        )),
        "a planned move is no outage: {:?}",
        kinds(&events)
    );
    // The turn ends on the new connection, which heard its beginning again.
    agent
        .input()
        .audio(vec![0u8; rate as usize * 2 * 1_200 / 1_000], rate)
        .await
        .unwrap();
    let (second, _) = next_answer(&mut agent).await;
    assert!(second.starts_with("You said: Can you check"), "{second}");
    assert_eq!(count.load(Ordering::SeqCst), 2);

    let journal = server.journal();
    assert_eq!(journal.len(), 2);
    assert!(
        journal[1].find(EntryKind::Note, "resumed").next().is_some(),
        "the new connection resumed the conversation"
    );
    // Both connections count turns from zero: the transcript keeps them apart.
    assert_eq!(
        agent.transcript().agent_turns(),
        vec![first.as_str(), second.as_str()]
    );
    agent.close().await;
}

// ---- a tool call the provider withdraws ------------------------------------------------

#[tokio::test]
async fn a_tool_call_gemini_cancels_is_stopped_and_never_answered() {
    let server = server(8.0).await;
    let gate = Arc::new(Semaphore::new(0));
    let finished = Arc::new(AtomicU32::new(0));
    let tools = {
        let (gate, finished) = (Arc::clone(&gate), Arc::clone(&finished));
        ToolRegistry::new().with(tool_fn(
            "get_weather",
            "Weather for a city",
            json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
            move |_args: Value| {
                let (gate, finished) = (Arc::clone(&gate), Arc::clone(&finished));
                async move {
                    let _permit = gate
                        .acquire()
                        .await
                        .map_err(|e| ToolError::Failed(e.to_string()))?;
                    finished.fetch_add(1, Ordering::SeqCst);
                    Ok(json!({"sky": "clear"}))
                }
            },
        ))
    };
    let options = gemini::connect_options(server.gemini_base_url(), GEMINI).api_key("k");
    let mut agent = RealtimeAgent::start(options, AgentConfig::new(spoken("default")), tools)
        .await
        .unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    say(&agent, "user-weather-16k.wav", 1_200).await;
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallStarted { .. })
    })
    .await;
    let Some(AgentEvent::ToolCallStarted { call_id, .. }) = events.last().cloned() else {
        unreachable!()
    };
    // The user speaks while the call is pending: Gemini withdraws it.
    say(&agent, "user-interrupt-16k.wav", 1_200).await;
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallCancelled { .. })
    })
    .await;
    assert!(
        matches!(events.last(), Some(AgentEvent::ToolCallCancelled { call_id: c }) if *c == call_id),
        "{:?}",
        events.last()
    );
    // Released now, the withdrawn call does not run on, and the agent goes on
    // to answer what the user said instead.
    gate.add_permits(1);
    let (answer, events) = next_answer(&mut agent).await;
    assert!(answer.starts_with("You said: Wait, stop"), "{answer}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolCallFinished { .. })),
        "{:?}",
        kinds(&events)
    );
    assert_eq!(finished.load(Ordering::SeqCst), 0, "the call was stopped");
    let entries = agent.transcript().entries().to_vec();
    let call = entries
        .iter()
        .position(|e| matches!(e, TranscriptEntry::ToolCall { call_id: c, .. } if *c == call_id))
        .expect("the call is in the transcript");
    assert!(
        matches!(&entries[call + 1..], [TranscriptEntry::ToolCancelled { call_id: c }, ..] if *c == call_id),
        "{entries:?}"
    );
    assert!(!entries
        .iter()
        .any(|e| matches!(e, TranscriptEntry::ToolResult { .. })));
    let journal = &server.journal()[0];
    assert!(
        !client_labels(journal).contains(&"toolResponse"),
        "no result is sent for a withdrawn call: {:?}",
        client_labels(journal)
    );
    agent.close().await;
}

// ---- input dropped while reconnecting --------------------------------------------------

#[tokio::test]
async fn input_past_the_buffer_bound_is_dropped_oldest_first_and_reported() {
    // OpenAI sessions expire after 300 ms; the reconnect is held by the test.
    let mut responder = voice();
    responder.session_limit = Some(Duration::from_millis(300));
    let server = MockServer::builder()
        .respond(responder)
        .speed(8.0)
        .start()
        .await
        .unwrap();
    let options = openai::connect_options(
        server.openai_base_url(),
        openai::Dialect::Ga,
        "gpt-realtime",
    )
    .api_key("sk-test");
    let gate = Arc::new(Semaphore::new(0));
    let count = Arc::new(AtomicU32::new(0));
    let connector = {
        let gate = Arc::clone(&gate);
        connector_fn(move || {
            let options = options.clone();
            let gate = Arc::clone(&gate);
            let n = count.fetch_add(1, Ordering::SeqCst);
            async move {
                if n > 0 {
                    gate.acquire().await.expect("gate open").forget();
                }
                registry::connect(&options).await
            }
        })
    };
    let config = AgentConfig {
        reconnect: quick(3),
        input_buffer_ms: 500,
        ..AgentConfig::default()
    };
    let mut agent = RealtimeAgent::start(connector, config, ToolRegistry::new())
        .await
        .unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::Disconnected { .. })).await;
    // 2 s of audio in 100 ms chunks while the session is down: 500 ms fit.
    let rate = 24_000;
    for _ in 0..20 {
        agent
            .input()
            .audio(vec![0u8; rate / 10 * 2], rate as u32)
            .await
            .unwrap();
    }
    let early = until(&mut agent, |e| matches!(e, AgentEvent::InputDropped { .. })).await;
    assert!(
        !early
            .iter()
            .any(|e| matches!(e, AgentEvent::Reconnected { .. })),
        "the drop is reported while it happens: {:?}",
        kinds(&early)
    );
    gate.add_permits(1);
    let events = until(&mut agent, |e| matches!(e, AgentEvent::Reconnected { .. })).await;
    let drops: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::InputDropped { audio_ms } => Some(*audio_ms),
            _ => None,
        })
        .collect();
    assert_eq!(
        drops,
        [1_500],
        "the outage's total, once more with the reconnect: {:?}",
        kinds(&events)
    );
    let Some(AgentEvent::Reconnected {
        delivered_inputs, ..
    }) = events.last()
    else {
        unreachable!()
    };
    assert_eq!(*delivered_inputs, 5, "the newest 500 ms went out");
    agent.close().await;
}
