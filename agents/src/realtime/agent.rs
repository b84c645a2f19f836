//! The agent's public entry: the [`RealtimeAgent`] handle the front end
//! holds, and [`AgentInput`], its side of the agent's input.
//!
//! One task owns the model session. It waits on several things at once —
//! input from the front end, events from the model, results from tool tasks,
//! and, while the session is down, the back-off timer and the connection
//! attempt. Nothing in it blocks on a tool, so audio keeps streaming both
//! ways while calls run. Every provider difference it needs is read from
//! [`Capabilities`] or from the session configuration; it never asks which
//! provider it is talking to.
//!
//! The task is split by job. `runner` holds the task's state, its event loop
//! and every method of the `Runner` (the I/O glue); the other modules are
//! parts that own their state and make decisions, without I/O:
//!
//! - `front_end`: what each front-end command becomes;
//! - `model_events`: what each model event means for the agent;
//! - `connection`: the model session's state (ready, lost, back-off between
//!   attempts, which report each change earns) and the configuration a new
//!   session gets;
//! - `handover`: moving to a new connection before the provider closes the
//!   current one (`GoAway`), which handle to resume with and what to send it
//!   again, and the session's lifetime and context budget;
//! - `outbox` and `input_buffer`: sending to the model, and holding input
//!   (bounded) while no session is ready;
//! - `barge_in`: what the front end has played, and cutting the agent off;
//! - `tool_calls`: running calls, their results (with the scheduling a
//!   background call's result carries) and the follow-up request;
//! - `interaction`: whether the model is still working on a reply (a model
//!   that reports an interaction status is done at `IDLE`, not at a
//!   response's end);
//! - `delegation`: which tool answers a delegated request (a dialect that
//!   delegates names no tool);
//! - `silence`: keeping a session whose clock runs on input audio moving
//!   while the front end sends none.

mod barge_in;
mod connection;
mod delegation;
mod front_end;
mod handover;
mod input;
mod input_buffer;
mod interaction;
mod model_events;
mod outbox;
mod runner;
mod silence;
mod tool_calls;

pub use input::AgentInput;

use super::config::AgentConfig;
use super::connect::{Connector, SharedConnector};
use super::events::AgentEvent;
use super::tools::ToolRegistry;
use super::transcript::Transcript;
use runner::Runner;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use understudy_adapters::{Capabilities, ClientError};

/// Errors of the agent handle.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeAgentError {
    /// The first model session could not be opened (after retrying, where
    /// retrying could help).
    #[error("could not open the model session: {0}")]
    Connect(#[from] ClientError),
    /// The agent has stopped; the input was not taken.
    #[error("the agent has stopped")]
    Stopped,
}

/// A running realtime voice agent.
///
/// Start it with [`RealtimeAgent::start`], feed it through [`AgentInput`]
/// ([`RealtimeAgent::input`]), read [`AgentEvent`]s with
/// [`RealtimeAgent::next_event`]. Events are queued without bound so that a
/// slow reader never stalls the model session; read them.
#[derive(Debug)]
pub struct RealtimeAgent {
    input: AgentInput,
    events: mpsc::UnboundedReceiver<AgentEvent>,
    transcript: Arc<Mutex<Transcript>>,
    capabilities: Capabilities,
    task: JoinHandle<()>,
}

impl RealtimeAgent {
    /// Opens the model session through `connector`, configures it from
    /// `config` with `tools` declared, and starts the agent.
    ///
    /// A first connection that fails in a way that may pass (unreachable,
    /// overloaded) is retried under `config.reconnect`; the error is returned
    /// when every attempt failed or the server refused the request outright.
    /// The session's acknowledgement is awaited by the running agent (see
    /// [`AgentConfig::setup_timeout`]): `SessionReady` says it came.
    pub async fn start(
        connector: impl Connector,
        config: AgentConfig,
        tools: ToolRegistry,
    ) -> Result<RealtimeAgent, RealtimeAgentError> {
        let connector: SharedConnector = Arc::new(connector);
        let client = connection::first_connection(&connector, &config.reconnect).await?;
        let capabilities = client.capabilities().clone();
        let (input, inputs) = AgentInput::channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let transcript = Arc::new(Mutex::new(Transcript::default()));
        let runner = Runner::new(
            connector,
            config,
            tools,
            capabilities.clone(),
            inputs,
            event_tx,
            Arc::clone(&transcript),
        );
        let task = tokio::spawn(runner.run(client));
        Ok(RealtimeAgent {
            input,
            events,
            transcript,
            capabilities,
            task,
        })
    }

    /// A handle for sending input (clone it into other tasks).
    pub fn input(&self) -> AgentInput {
        self.input.clone()
    }

    /// The next event, or `None` once the agent has stopped and every event
    /// was read.
    pub async fn next_event(&mut self) -> Option<AgentEvent> {
        self.events.recv().await
    }

    /// A copy of the transcript so far.
    pub fn transcript(&self) -> Transcript {
        self.transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What the model's dialect supports.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Closes the session and waits for the agent to stop; returns the
    /// events that were still unread.
    pub async fn close(mut self) -> Vec<AgentEvent> {
        let _ = self.input.close().await;
        let mut rest = Vec::new();
        while let Some(event) = self.events.recv().await {
            rest.push(event);
        }
        let _ = self.task.await;
        rest
    }
}
