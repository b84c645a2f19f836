//! The RealtimeAgent over real sockets against the in-process mock, on each
//! realtime dialect a client reaches by provider and model (OpenAI's
//! Realtime API and GPT-Live, Gemini Live, Qwen-Omni) where its capabilities
//! allow: a spoken turn, a tool round trip with a slow tool (a delegated
//! request where the dialect delegates), barge-in, a reconnect with buffered
//! input, and resampling at the edges.
//!
//! No assertion depends on how fast the machine is: slow steps are gated by
//! the test (a tool that waits to be released, a connector that waits before
//! reconnecting), and every wait has a generous deadline.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use understudy_adapters::registry::{self, DialectKind, DialectSpec};
use understudy_adapters::{openai, Capabilities, ResponseStatus, SessionConfig, TurnDetection};
use understudy_agents::realtime::{
    connector_fn, tool_fn, AgentConfig, AgentEvent, Connector, RealtimeAgent, ReconnectPolicy,
    SilenceFill, ToolError, ToolRegistry, TranscriptEntry,
};
use understudy_mock::{EntryKind, MockServer, ResponderConfig, SessionJournal};

const QWEN_PLUS: &str = "qwen3.5-omni-plus-realtime";
const BERLIN: &str = "You said: Wait, stop. Actually, tell me about Berlin instead.";

/// A realtime dialect the tests run on: the registry's entry.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Provider(&'static DialectSpec);

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.id)
    }
}

/// The default realtime dialect of the provider the registry calls `name`.
fn named(name: &str) -> Provider {
    Provider(registry::provider(name).unwrap().realtime())
}

/// The tests' matrix: every realtime dialect a client reaches by naming a
/// provider and a model — each provider's default, and those a model name
/// chooses (`gpt-live-*` → GPT-Live). The retired OpenAI beta, reached only
/// by its header, answers every session with an error and is left out.
fn all() -> impl Iterator<Item = Provider> {
    registry::providers().iter().flat_map(|provider| {
        provider
            .dialects()
            .filter(move |d| {
                d.kind == DialectKind::RealtimeSession
                    && (d.id == provider.realtime_dialect || !d.model_prefixes.is_empty())
            })
            .map(Provider)
    })
}

/// The agent's configuration for spoken sessions on `provider`. Where the
/// session's clock runs on input audio (GPT-Live), the agent's silence
/// runs it `pace` times faster than real time: the mock answers on that
/// clock, so the test need not wait in real time.
fn spoken_config(provider: Provider, pace: f64) -> AgentConfig {
    AgentConfig {
        silence_fill: Some(SilenceFill {
            pace,
            ..SilenceFill::default()
        }),
        ..AgentConfig::new(provider.spoken())
    }
}

impl Provider {
    /// What the dialect supports for `model` (its default without one).
    fn caps(self, model: Option<&str>) -> Capabilities {
        let dialect = self.dialect();
        dialect
            .capabilities(model.unwrap_or(dialect.default_model))
            .unwrap()
    }

    /// The native input rate of the clips this provider hears (its realtime
    /// dialect's, for the default model).
    fn clip_rate(self) -> u32 {
        let dialect = self.dialect();
        dialect
            .capabilities(dialect.default_model)
            .unwrap()
            .input_sample_rate
    }

    fn clip(self, what: &str) -> String {
        format!("user-{what}-{}k.wav", self.clip_rate() / 1000)
    }

    /// The registry's entry.
    fn dialect(self) -> &'static DialectSpec {
        self.0
    }

    /// Spoken sessions: server VAD and input transcription (the model name is
    /// a provider detail the test, not the agent, knows: the registry's).
    fn spoken(self) -> SessionConfig {
        SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            input_transcription: self.dialect().transcription_model.map(str::to_owned),
            ..Default::default()
        }
    }

    fn connector(self, server: &MockServer, model: Option<&str>) -> Box<dyn Connector> {
        let dialect = self.dialect();
        let origin = server.url().replacen("http://", "ws://", 1);
        let model = model.unwrap_or(dialect.default_model);
        Box::new(
            registry::ConnectOptions::new(dialect, dialect.connect.base_url_at(&origin), model)
                .api_key("sk-test"),
        )
    }
}

async fn server(speed: f64) -> MockServer {
    server_with(
        ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap()),
        speed,
        None,
    )
    .await
}

async fn server_with(
    config: ResponderConfig,
    speed: f64,
    connection_limit: Option<Duration>,
) -> MockServer {
    let mut builder = MockServer::builder().respond(config).speed(speed);
    if let Some(limit) = connection_limit {
        builder = builder.connection_limit(limit);
    }
    builder.start().await.unwrap()
}

async fn start(
    provider: Provider,
    server: &MockServer,
    model: Option<&str>,
    config: AgentConfig,
    tools: ToolRegistry,
) -> RealtimeAgent {
    RealtimeAgent::start(provider.connector(server, model), config, tools)
        .await
        .unwrap_or_else(|e| panic!("{provider:?}: {e}"))
}

// ---- a spoken turn ---------------------------------------------------------------

#[tokio::test]
async fn a_spoken_turn_is_answered_on_every_provider() {
    for provider in all() {
        let server = server(8.0).await;
        let mut agent = start(
            provider,
            &server,
            None,
            spoken_config(provider, 4.0),
            ToolRegistry::new(),
        )
        .await;
        until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
        say(&agent, &provider.clip("weather"), 1_200).await;
        let (answer, events) = next_answer(&mut agent).await;
        assert_eq!(answer, format!("You said: {WEATHER_Q}"), "{provider:?}");
        let audio: usize = events
            .iter()
            .map(|e| match e {
                AgentEvent::Audio {
                    pcm, sample_rate, ..
                } => {
                    assert_eq!(
                        *sample_rate, 24_000,
                        "{provider:?}: the model's rate passes through"
                    );
                    pcm.len()
                }
                _ => 0,
            })
            .sum();
        assert!(
            audio >= 48_000,
            "{provider:?}: a second of audio or more, got {audio} bytes"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, AgentEvent::TranscriptDone { text, .. } if *text == answer)),
            "{provider:?}"
        );
        if agent.capabilities().vad_events {
            assert!(
                events
                    .iter()
                    .any(|e| matches!(e, AgentEvent::UserSpeechStarted { .. })),
                "{provider:?}: {:?}",
                kinds(&events)
            );
        }
        // The user's transcript may settle after the answer starts (OpenAI);
        // it still takes the user's place in the transcript.
        let events = if events
            .iter()
            .any(|e| matches!(e, AgentEvent::UserTranscript { .. }))
        {
            events
        } else {
            until(&mut agent, |e| {
                matches!(e, AgentEvent::UserTranscript { .. })
            })
            .await
        };
        assert!(events
            .iter()
            .any(|e| matches!(e, AgentEvent::UserTranscript { text, .. } if text == WEATHER_Q)));
        let transcript = agent.transcript();
        assert_eq!(
            transcript.user_turns(),
            vec![Some(WEATHER_Q)],
            "{provider:?}"
        );
        assert_eq!(
            transcript.agent_turns(),
            vec![answer.as_str()],
            "{provider:?}"
        );
        assert!(
            matches!(transcript.entries()[0], TranscriptEntry::User { .. }),
            "{provider:?}: the user spoke first: {:?}",
            transcript.entries()
        );
        let rest = agent.close().await;
        assert!(
            matches!(rest.last(), Some(AgentEvent::Closed { .. })),
            "{provider:?}: {:?}",
            kinds(&rest)
        );
    }
}

// ---- a tool round trip -----------------------------------------------------------

/// `get_weather`, which waits until the test releases it, then 300 ms more.
fn gated_weather(gate: Arc<Semaphore>) -> ToolRegistry {
    ToolRegistry::new().with(tool_fn(
        "get_weather",
        "Weather for a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        move |args: Value| {
            let gate = Arc::clone(&gate);
            async move {
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|e| ToolError::Failed(e.to_string()))?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let city = args["city"].as_str().unwrap_or("nowhere");
                assert_eq!(city, "Paris");
                Ok(json!({"sky": "clear"}))
            }
        },
    ))
}

fn audio_frames(journal: &SessionJournal) -> usize {
    client_labels(journal)
        .iter()
        .filter(|l| l.contains("append") || l.contains("audio"))
        .count()
}

/// The words of the bundled order clip, which a delegating model hands over.
const ORDER_Q: &str = "Can you check the status of order A seventeen?";
/// What the delegated request's tool answers (the model speaks it).
const SHIPPED: &str = "Order A seventeen has shipped.";
/// What the mock's delegating model says while the request runs.
const CHECKING: &str = "Okay, checking now.";

/// `delegate`, the tool a delegating dialect's requests go to by default:
/// it waits until the test releases it, then 300 ms more, and checks that
/// it was handed the user's words.
fn gated_delegate(gate: Arc<Semaphore>) -> ToolRegistry {
    ToolRegistry::new().with(tool_fn(
        "delegate",
        "Answers a request the model hands over",
        json!({"type":"object","properties":{"request":{"type":"string"}},"required":["request"]}),
        move |args: Value| {
            let gate = Arc::clone(&gate);
            async move {
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|e| ToolError::Failed(e.to_string()))?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                assert_eq!(args["request"], ORDER_Q);
                assert!(
                    args["offset_ms"].as_u64().is_some_and(|ms| ms > 0),
                    "{args}"
                );
                Ok(json!(SHIPPED))
            }
        },
    ))
}

/// The answer that ends with `result`, read past the model's spoken
/// acknowledgement of a delegated request (which may also run straight into
/// the result, as one reply).
async fn delegated_answer(agent: &mut RealtimeAgent, result: &str) -> String {
    for _ in 0..4 {
        let (answer, _) = next_answer(agent).await;
        if answer.ends_with(result) {
            return answer;
        }
        assert!(
            CHECKING.ends_with(answer.trim()),
            "only the acknowledgement comes before the result: {answer:?}"
        );
    }
    panic!("no answer ended with {result:?}");
}

#[tokio::test]
async fn a_slow_tool_runs_while_the_agent_keeps_streaming() {
    for provider in all() {
        let server = server(8.0).await;
        let gate = Arc::new(Semaphore::new(0));
        let model = (provider == named("dashscope")).then_some(QWEN_PLUS);
        // A delegating dialect names no tool and writes no arguments: the
        // request goes to the tool routed for it (`delegate` by default)
        // with the user's words, and the model speaks its answer.
        let delegated = provider.caps(model).delegated_tools;
        let (tools, expected_output) = if delegated {
            (gated_delegate(Arc::clone(&gate)), SHIPPED)
        } else {
            (gated_weather(Arc::clone(&gate)), r#"{"sky":"clear"}"#)
        };
        let mut agent = start(
            provider,
            &server,
            model,
            spoken_config(provider, 4.0),
            tools,
        )
        .await;
        until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
        if agent.capabilities().text_input {
            agent
                .input()
                .text("What is the weather in Paris?")
                .await
                .unwrap();
        } else if delegated {
            say(&agent, &provider.clip("order"), 1_200).await;
        } else {
            say(&agent, &provider.clip("weather"), 1_200).await;
        }
        let events = until(&mut agent, |e| {
            matches!(e, AgentEvent::ToolCallStarted { .. })
        })
        .await;
        let Some(AgentEvent::ToolCallStarted {
            name, arguments, ..
        }) = events.last()
        else {
            unreachable!()
        };
        if delegated {
            let arguments: Value = serde_json::from_str(arguments).unwrap();
            assert_eq!(name, "delegate", "{provider:?}");
            assert_eq!(arguments["request"], ORDER_Q, "{provider:?}");
        } else {
            assert_eq!(
                (name.as_str(), arguments.as_str()),
                ("get_weather", r#"{"city":"Paris"}"#)
            );
        }

        // While the tool is held, the agent keeps going both ways: user audio
        // reaches the provider, and the provider's events reach the front end.
        let before = audio_frames(&server.journal()[0]);
        let rate = provider.clip_rate();
        agent
            .input()
            .audio(vec![0u8; rate as usize / 5 * 2], rate)
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while audio_frames(&server.journal()[0]) == before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{provider:?}: audio stalled behind the tool"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if agent.capabilities().response_after_tool_result {
            // The response that made the call ends while the tool still runs.
            let events = until(&mut agent, is_done).await;
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, AgentEvent::ToolCallFinished { .. })),
                "{provider:?}"
            );
        }
        gate.add_permits(1);
        let events = until(&mut agent, |e| {
            matches!(e, AgentEvent::ToolCallFinished { .. })
        })
        .await;
        assert!(
            matches!(
                events.last(),
                Some(AgentEvent::ToolCallFinished { output, is_error: false, .. }) if output == expected_output
            ),
            "{provider:?}: {:?}",
            events.last()
        );
        let answer = if delegated {
            delegated_answer(&mut agent, SHIPPED).await
        } else {
            let (answer, _) = next_answer(&mut agent).await;
            assert_eq!(answer, "Here is what I found: sky clear.", "{provider:?}");
            answer
        };

        // A follow-up was asked for exactly where the dialect needs it.
        let journal = &server.journal()[0];
        let labels = client_labels(journal);
        let is_result = |l: &&str| {
            matches!(
                *l,
                "conversation.item.create" | "toolResponse" | "session.commentary.append"
            )
        };
        let result_at = labels
            .iter()
            .rposition(is_result)
            .expect("the result went to the model");
        let creates_after = labels[result_at..]
            .iter()
            .filter(|l| **l == "response.create")
            .count();
        let expected = usize::from(agent.capabilities().response_after_tool_result);
        assert_eq!(creates_after, expected, "{provider:?}: {labels:?}");

        let entries = agent.transcript().entries().to_vec();
        let call = entries
            .iter()
            .position(|e| matches!(e, TranscriptEntry::ToolCall { .. }))
            .expect("the call is in the transcript");
        // The result follows the call; a delegating model's spoken
        // acknowledgement may come between them.
        let result = entries[call + 1..]
            .iter()
            .position(|e| matches!(e, TranscriptEntry::ToolResult { .. }))
            .map(|i| i + call + 1)
            .expect("the result is in the transcript");
        assert!(
            result == call + 1 || agent.capabilities().delegated_tools,
            "{provider:?}: {entries:?}"
        );
        assert!(
            matches!(&entries[result], TranscriptEntry::ToolResult { output, is_error: false, .. } if output == expected_output),
            "{provider:?}: {entries:?}"
        );
        // The answer is the agent's last turn (a delegating model's reply may
        // have begun, with its acknowledgement, before the result came).
        let last_agent = entries
            .iter()
            .rev()
            .find_map(|e| match e {
                TranscriptEntry::Agent { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .expect("the agent answered");
        assert!(
            last_agent == answer
                || (agent.capabilities().delegated_tools && last_agent.ends_with(&answer)),
            "{provider:?}: {answer:?} in {entries:?}"
        );
        if !agent.capabilities().delegated_tools {
            assert!(
                matches!(entries.last(), Some(TranscriptEntry::Agent { .. })),
                "{provider:?}: {entries:?}"
            );
        }
        agent.close().await;
    }
}

#[tokio::test]
async fn a_failing_tool_tells_the_model_and_the_agent_carries_on() {
    let server = server(8.0).await;
    let tools = ToolRegistry::new().with(tool_fn(
        "get_weather",
        "Weather for a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        |_| async move { panic!("the weather service exploded") },
    ));
    let mut agent = start(
        named("openai"),
        &server,
        None,
        AgentConfig::default(),
        tools,
    )
    .await;
    agent
        .input()
        .text("What is the weather in Paris?")
        .await
        .unwrap();
    let events = until(&mut agent, |e| {
        matches!(e, AgentEvent::ToolCallFinished { .. })
    })
    .await;
    assert!(matches!(
        events.last(),
        Some(AgentEvent::ToolCallFinished { output, is_error: true, .. }) if output.contains("exploded")
    ));
    let (answer, _) = next_answer(&mut agent).await;
    assert!(answer.starts_with("Here is what I found"), "{answer}");
    agent.input().text("Still there?").await.unwrap();
    let (answer, _) = next_answer(&mut agent).await;
    assert_eq!(answer, "You said: Still there?");
    agent.close().await;
}

// ---- barge-in --------------------------------------------------------------------

#[tokio::test]
async fn barge_in_cuts_the_answer_on_every_provider() {
    for provider in all() {
        // Real-time pace: answers last long enough to talk over.
        let server = server(1.0).await;
        let mut agent = start(
            provider,
            &server,
            None,
            AgentConfig::new(provider.spoken()),
            ToolRegistry::new(),
        )
        .await;
        until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
        if agent.capabilities().text_input {
            agent
                .input()
                .text("Tell me a long story about the sea and the ships")
                .await
                .unwrap();
        } else {
            say(&agent, &provider.clip("weather"), 1_200).await;
        }
        // Three chunks (300 ms) delivered, of which the front end has played
        // 120 ms when the user starts talking.
        let mut chunks = 0;
        let events = until(&mut agent, |e| {
            chunks += usize::from(matches!(e, AgentEvent::Audio { .. }));
            chunks == 3
        })
        .await;
        let Some(AgentEvent::Audio {
            item_id,
            response_id,
            ..
        }) = events.last().cloned()
        else {
            unreachable!()
        };
        agent.input().played(&item_id, 120).await.unwrap();
        say(&agent, &provider.clip("interrupt"), 1_200).await;
        let events = until(&mut agent, |e| matches!(e, AgentEvent::Interrupted { .. })).await;
        let Some(AgentEvent::Interrupted {
            response_id: cut,
            item_id: cut_item,
            played_ms,
        }) = events.last().cloned()
        else {
            unreachable!()
        };
        assert_eq!(cut.as_deref(), Some(response_id.as_str()), "{provider:?}");
        assert_eq!(cut_item.as_deref(), Some(item_id.as_str()), "{provider:?}");
        assert_eq!(played_ms, Some(120), "{provider:?}");
        let events = until(
            &mut agent,
            |e| matches!(e, AgentEvent::ResponseDone { response_id: r, .. } if *r == response_id),
        )
        .await;
        assert!(
            matches!(
                events.last(),
                Some(AgentEvent::ResponseDone {
                    status: ResponseStatus::Cancelled,
                    ..
                })
            ),
            "{provider:?}"
        );
        assert!(
            !events.iter().any(
                |e| matches!(e, AgentEvent::Audio { response_id: r, .. } if *r == response_id)
            ),
            "{provider:?}: no audio of the cut response after the barge-in"
        );
        let (answer, events) = next_answer(&mut agent).await;
        assert_eq!(answer, BERLIN, "{provider:?}: {events:?}");

        let transcript = agent.transcript();
        let cut_turn = transcript
            .entries()
            .iter()
            .find_map(|e| match e {
                TranscriptEntry::Agent {
                    item_id: i,
                    text,
                    interrupted,
                    ..
                } if *i == item_id => Some((text.clone(), *interrupted)),
                _ => None,
            })
            .expect("the cut turn is in the transcript");
        assert!(cut_turn.1, "{provider:?}: marked interrupted");
        assert!(
            cut_turn.0.len() < "You said: Tell me a long story about the sea and the ships".len(),
            "{provider:?}: only what was heard is kept: {:?}",
            cut_turn.0
        );

        // The provider's VAD cancelled by itself: the agent did not cancel
        // again. Where the dialect truncates, it truncated to what was played.
        let journal = &server.journal()[0];
        let labels = client_labels(journal);
        assert!(
            !labels.contains(&"response.cancel"),
            "{provider:?}: {labels:?}"
        );
        let truncates: Vec<&str> = journal
            .find(EntryKind::Client, "conversation.item.truncate")
            .map(|e| e.detail.as_str())
            .collect();
        if agent.capabilities().truncation {
            assert_eq!(truncates.len(), 1, "{provider:?}");
            let frame: Value = serde_json::from_str(truncates[0]).unwrap();
            assert_eq!(frame["audio_end_ms"], 120, "{}", truncates[0]);
            assert_eq!(frame["item_id"], item_id.as_str());
            assert!(
                journal
                    .find(EntryKind::Server, "conversation.item.truncated")
                    .next()
                    .is_some(),
                "{provider:?}: the provider accepted the truncation"
            );
        } else {
            assert!(truncates.is_empty(), "{provider:?}");
        }
        agent.close().await;
    }
}

#[tokio::test]
async fn the_stop_button_cancels_where_the_provider_would_not() {
    let server = server(1.0).await;
    let mut agent = start(
        named("openai"),
        &server,
        None,
        AgentConfig::default(),
        ToolRegistry::new(),
    )
    .await;
    agent
        .input()
        .text("Tell me a long story about the sea and the ships")
        .await
        .unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::Audio { .. })).await;
    agent.input().interrupt().await.unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::Interrupted { .. })).await;
    let events = until(&mut agent, is_done).await;
    assert!(matches!(
        events.last(),
        Some(AgentEvent::ResponseDone {
            status: ResponseStatus::Cancelled,
            ..
        })
    ));
    assert!(
        !events.iter().any(|e| matches!(e, AgentEvent::Error { .. })),
        "{:?}",
        kinds(&events)
    );
    let journal = &server.journal()[0];
    assert_eq!(
        journal.find(EntryKind::Client, "response.cancel").count(),
        1
    );
    agent.close().await;
}

// ---- reconnect -------------------------------------------------------------------

/// Wraps a connector so that every connection after the first waits for a
/// permit: the test decides when the agent may come back.
fn gated(inner: Box<dyn Connector>, gate: Arc<Semaphore>) -> impl Connector {
    let inner: Arc<dyn Connector> = Arc::from(inner);
    let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
    connector_fn(move || {
        let inner = Arc::clone(&inner);
        let gate = Arc::clone(&gate);
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n > 0 {
                gate.acquire().await.expect("gate open").forget();
            }
            inner.connect().await
        }
    })
}

#[tokio::test]
async fn a_lost_session_comes_back_and_buffered_input_is_delivered() {
    for provider in all() {
        let mut responder = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
        // This test wants the order question answered, not handed over: the
        // mock's delegating model (GPT-Live) delegates on words like "check".
        responder.live.delegate_words.clear();
        let mut limit = None;
        if provider == named("gemini") {
            limit = Some(Duration::from_millis(1_500)); // goAway, then close 1001
        } else {
            responder.session_limit = Some(Duration::from_millis(1_500)); // session_expired, close 1001
        }
        let server = server_with(responder, 8.0, limit).await;
        let gate = Arc::new(Semaphore::new(0));
        // The first answer must be over before the 1.5 s limit.
        let mut config = spoken_config(provider, 8.0);
        config.reconnect = ReconnectPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
        };
        let connector = gated(provider.connector(&server, None), Arc::clone(&gate));
        let mut agent = RealtimeAgent::start(connector, config, ToolRegistry::new())
            .await
            .unwrap();
        // A first exchange, so there is a conversation to carry over.
        say(&agent, &provider.clip("order"), 1_200).await;
        let (first, _) = next_answer(&mut agent).await;
        assert!(
            first.starts_with("You said: Can you check"),
            "{provider:?}: {first}"
        );

        until(&mut agent, |e| matches!(e, AgentEvent::Disconnected { .. })).await;
        // The session is down (the connector is held): this is buffered.
        say(&agent, &provider.clip("weather"), 1_200).await;
        gate.add_permits(1);
        let events = until(&mut agent, |e| matches!(e, AgentEvent::Reconnected { .. })).await;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, AgentEvent::Reconnecting { attempt: 1, .. })),
            "{provider:?}: {:?}",
            kinds(&events)
        );
        let Some(AgentEvent::Reconnected {
            resumed,
            delivered_inputs,
            ..
        }) = events.last().cloned()
        else {
            unreachable!()
        };
        assert!(
            delivered_inputs > 10,
            "{provider:?}: the buffered speech went out: {delivered_inputs}"
        );
        assert_eq!(resumed, agent.capabilities().resumption, "{provider:?}");
        let (answer, _) = next_answer(&mut agent).await;
        assert_eq!(answer, format!("You said: {WEATHER_Q}"), "{provider:?}");

        let journal = server.journal();
        assert!(
            journal.len() >= 2,
            "{provider:?}: a second session was opened"
        );
        let second = &journal[1];
        if resumed {
            assert!(
                second.find(EntryKind::Note, "resumed").next().is_some(),
                "{provider:?}"
            );
        } else {
            // The configuration goes in `session.update`, or in GPT-Live's
            // first frame, `session.start`.
            let config = client_labels(second)
                .iter()
                .position(|l| *l == "session.update" || *l == "session.start")
                .map(|i| {
                    second
                        .entries
                        .iter()
                        .filter(|e| e.kind == EntryKind::Client)
                        .nth(i)
                        .unwrap()
                        .detail
                        .clone()
                })
                .expect("the new session was configured");
            assert!(
                (config.contains("## Most recent turns")
                    || config.contains("## Summary of the conversation so far"))
                    && config.contains("order A seventeen"),
                "{provider:?}: the new session is briefed with the conversation: {config}"
            );
        }
        agent.close().await;
    }
}

#[tokio::test]
async fn giving_up_after_the_last_attempt_is_said_plainly() {
    // The provider ends the session after 300 ms; after that nobody answers.
    let mut responder = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    responder.session_limit = Some(Duration::from_millis(300));
    let server = server_with(responder, 8.0, None).await;
    let options = openai::connect_options(
        server.openai_base_url(),
        openai::Dialect::Ga,
        "gpt-realtime",
    );
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let connector = connector_fn(move || {
        let options = options.clone();
        let first = first.swap(false, std::sync::atomic::Ordering::SeqCst);
        async move {
            if first {
                registry::connect(&options).await
            } else {
                // Nobody listens here any more.
                let dead = openai::connect_options(
                    "ws://127.0.0.1:9/v1",
                    openai::Dialect::Ga,
                    "gpt-realtime",
                );
                registry::connect(&dead).await
            }
        }
    });
    let config = AgentConfig {
        reconnect: ReconnectPolicy {
            max_attempts: 2,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
        ..AgentConfig::default()
    };
    let mut agent = RealtimeAgent::start(connector, config, ToolRegistry::new())
        .await
        .unwrap();
    until(&mut agent, |e| matches!(e, AgentEvent::SessionReady { .. })).await;
    let events = until(&mut agent, |e| matches!(e, AgentEvent::Closed { .. })).await;
    let attempts: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2]);
    assert!(events.iter().any(
        |e| matches!(e, AgentEvent::Error { fatal: true, code, .. } if code == "session_lost")
    ));
    assert!(
        agent.input().text("anyone?").await.is_err(),
        "the input side says the agent stopped"
    );
}

// ---- resampling at the edges -----------------------------------------------------

#[tokio::test]
async fn audio_is_resampled_at_both_edges() {
    // DashScope takes 16 kHz; this front end records at 24 kHz and plays at 16 kHz.
    let server = server(8.0).await;
    let mut config = AgentConfig::new(named("dashscope").spoken());
    config.output_sample_rate = Some(16_000);
    let mut agent = start(
        named("dashscope"),
        &server,
        None,
        config,
        ToolRegistry::new(),
    )
    .await;
    say(&agent, "user-weather-24k.wav", 1_200).await;
    let (answer, events) = next_answer(&mut agent).await;
    assert!(
        answer.starts_with("I heard"),
        "speech was heard (not recognised: it was resampled): {answer}"
    );
    let mut bytes = 0;
    for event in &events {
        if let AgentEvent::Audio {
            pcm, sample_rate, ..
        } = event
        {
            assert_eq!(*sample_rate, 16_000);
            bytes += pcm.len();
        }
    }
    assert!(
        bytes > 16_000,
        "about a second or more of 16 kHz audio: {bytes}"
    );
    let journal = &server.journal()[0];
    assert!(
        journal
            .find(EntryKind::Note, "input_rate.ok")
            .next()
            .is_some(),
        "the provider's rate check found 16 kHz audio"
    );
    assert!(journal
        .find(EntryKind::Note, "input_rate.suspicious")
        .next()
        .is_none());
    agent.close().await;
}
