//! The agent itself: a handle for the front end, and the task that runs the
//! conversation.
//!
//! One task owns the model session. It waits on three things at once — input
//! from the front end, events from the model, results from tool tasks — plus,
//! while the session is down, the back-off timer. Nothing in it blocks on a
//! tool, so audio keeps streaming both ways while calls run. Every provider
//! difference it needs is read from [`Capabilities`] or from the session
//! configuration; it never asks which provider it is talking to.

use super::config::AgentConfig;
use super::connect::{Connector, SharedConnector};
use super::events::AgentEvent;
use super::resample::Resampler;
use super::tools::{spawn_call, CallOutcome, ToolRegistry};
use super::transcript::{Transcript, TranscriptEntry};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;
use understudy_adapters::{
    Capabilities, ClientError, ClientInput, EncodeError, ModelEvent, Pcm, RealtimeClient,
    ResponseOptions, SessionConfig, TurnDetection,
};

/// How many front-end inputs may wait for the agent task.
const INPUT_QUEUE: usize = 1024;
/// How long a polite goodbye (DashScope's `session.finish`) may take.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

/// Errors of the agent handle.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeAgentError {
    /// The first model session could not be opened.
    #[error("could not open the model session: {0}")]
    Connect(#[from] ClientError),
    /// The agent has stopped; the input was not taken.
    #[error("the agent has stopped")]
    Stopped,
}

/// An input from the front end.
#[derive(Debug)]
enum Command {
    Audio { pcm: Vec<u8>, sample_rate: u32 },
    Text(String),
    Image { mime_type: String, data: Vec<u8> },
    Commit,
    Playback { item_id: String, played_ms: u64 },
    Interrupt,
    Close,
}

/// The front end's side of the agent's input: cheap to clone, usable from
/// any task.
#[derive(Debug, Clone)]
pub struct AgentInput {
    tx: mpsc::Sender<Command>,
}

impl AgentInput {
    async fn send(&self, command: Command) -> Result<(), RealtimeAgentError> {
        self.tx
            .send(command)
            .await
            .map_err(|_| RealtimeAgentError::Stopped)
    }

    /// User audio, PCM16 mono at `sample_rate` (resampled to the model's rate).
    pub async fn audio(&self, pcm: Vec<u8>, sample_rate: u32) -> Result<(), RealtimeAgentError> {
        self.send(Command::Audio { pcm, sample_rate }).await
    }

    /// A typed user message; the agent stops talking and answers it. Refused
    /// with an `Error` event where the dialect takes no text.
    pub async fn text(&self, text: impl Into<String>) -> Result<(), RealtimeAgentError> {
        self.send(Command::Text(text.into())).await
    }

    /// An image (camera frame, screenshot) for the model to see.
    pub async fn image(
        &self,
        mime_type: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<(), RealtimeAgentError> {
        self.send(Command::Image {
            mime_type: mime_type.into(),
            data,
        })
        .await
    }

    /// Ends the user's turn by hand (push-to-talk, manual turn detection) and
    /// asks for an answer.
    pub async fn commit(&self) -> Result<(), RealtimeAgentError> {
        self.send(Command::Commit).await
    }

    /// How much of an audio item the front end has actually played, in
    /// milliseconds. Barge-in truncates to this; report the final position
    /// when an item finishes playing.
    pub async fn played(
        &self,
        item_id: impl Into<String>,
        played_ms: u64,
    ) -> Result<(), RealtimeAgentError> {
        self.send(Command::Playback {
            item_id: item_id.into(),
            played_ms,
        })
        .await
    }

    /// The stop button: cut the agent off as if the user had spoken.
    pub async fn interrupt(&self) -> Result<(), RealtimeAgentError> {
        self.send(Command::Interrupt).await
    }

    /// Ends the session; the event stream ends after `Closed`.
    pub async fn close(&self) -> Result<(), RealtimeAgentError> {
        self.send(Command::Close).await
    }
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
    pub async fn start(
        connector: impl Connector,
        config: AgentConfig,
        tools: ToolRegistry,
    ) -> Result<RealtimeAgent, RealtimeAgentError> {
        let connector: SharedConnector = Arc::new(connector);
        let client = connector.connect().await?;
        let capabilities = client.capabilities().clone();
        let (input_tx, input_rx) = mpsc::channel(INPUT_QUEUE);
        let (event_tx, events) = mpsc::unbounded_channel();
        let (tool_tx, tool_rx) = mpsc::unbounded_channel();
        let transcript = Arc::new(Mutex::new(Transcript::default()));
        let runner = Runner {
            connector,
            config,
            tools,
            caps: capabilities.clone(),
            client: None,
            ready: false,
            connections: 0,
            epoch: 0,
            finished: false,
            inputs: input_rx,
            events: event_tx,
            transcript: Arc::clone(&transcript),
            tool_tx,
            tool_rx,
            running: HashMap::new(),
            unanswered_results: 0,
            followup_blocked: false,
            response: None,
            suppressed: HashSet::new(),
            items: HashMap::new(),
            last_audio_item: None,
            in_resampler: None,
            out_resampler: None,
            buffer: VecDeque::new(),
            buffered_audio_ms: 0.0,
            dropped_audio_ms: 0.0,
            outage: None,
            connecting: None,
            resume_handle: None,
            resuming: false,
            session_id: None,
        };
        let task = tokio::spawn(runner.run(client));
        Ok(RealtimeAgent {
            input: AgentInput { tx: input_tx },
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

/// One response in progress.
#[derive(Debug)]
struct Response {
    id: String,
    interrupted: bool,
}

/// What the agent knows about one audio item it forwarded.
#[derive(Debug)]
struct ItemAudio {
    response_id: String,
    /// Audio delivered to the front end, in milliseconds of model audio.
    delivered_ms: f64,
    /// The front end's last playback report.
    played_ms: Option<u64>,
    /// Barge-in already dealt with it.
    cut: bool,
}

impl ItemAudio {
    /// Still playing on the front end, as far as its reports say.
    fn playing(&self) -> bool {
        !self.cut
            && self
                .played_ms
                .is_some_and(|p| (p as f64) + 1.0 < self.delivered_ms)
    }

    /// What was heard: the last report, or everything delivered.
    fn heard_ms(&self) -> u64 {
        let delivered = self.delivered_ms.floor() as u64;
        self.played_ms.map_or(delivered, |p| p.min(delivered))
    }
}

/// A running tool call.
#[derive(Debug)]
struct Running {
    abort: AbortHandle,
    /// The session lineage the call belongs to (a non-resumed reconnect starts
    /// a new one, whose model never heard of the call).
    epoch: u32,
}

/// The session is down and the agent is getting it back.
#[derive(Debug)]
struct Outage {
    attempt: u32,
    /// When to try; `None` while a new connection waits to be acknowledged.
    retry_at: Option<Instant>,
}

/// A connection attempt in flight (owned, so that closing can drop it).
type Connecting = Pin<Box<dyn Future<Output = Result<RealtimeClient, ClientError>> + Send>>;

/// What woke the agent task.
enum Step {
    Input(Option<Command>),
    Model(Option<ModelEvent>),
    Tool(CallOutcome),
    Retry,
    Connected(Result<RealtimeClient, ClientError>),
}

/// Why the agent cuts its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Provider VAD heard the user.
    Speech,
    /// The provider says it interrupted the response itself.
    Provider,
    /// The front end asked (stop button, typed message).
    FrontEnd,
}

struct Runner {
    connector: SharedConnector,
    config: AgentConfig,
    tools: ToolRegistry,
    caps: Capabilities,
    client: Option<RealtimeClient>,
    /// The provider acknowledged the session configuration.
    ready: bool,
    connections: u32,
    epoch: u32,
    finished: bool,
    inputs: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<AgentEvent>,
    transcript: Arc<Mutex<Transcript>>,
    tool_tx: mpsc::UnboundedSender<CallOutcome>,
    tool_rx: mpsc::UnboundedReceiver<CallOutcome>,
    running: HashMap<String, Running>,
    /// Tool results sent since the last follow-up request.
    unanswered_results: usize,
    /// The user took the floor since the calls were made: no follow-up.
    followup_blocked: bool,
    response: Option<Response>,
    /// Responses cut by a barge-in: their late deltas are dropped.
    suppressed: HashSet<String>,
    items: HashMap<String, ItemAudio>,
    last_audio_item: Option<String>,
    in_resampler: Option<Resampler>,
    out_resampler: Option<(String, Resampler)>,
    /// Inputs waiting for a ready session.
    buffer: VecDeque<ClientInput>,
    buffered_audio_ms: f64,
    dropped_audio_ms: f64,
    outage: Option<Outage>,
    connecting: Option<Connecting>,
    resume_handle: Option<String>,
    /// The current connection was opened with a resumption handle.
    resuming: bool,
    session_id: Option<String>,
}

async fn next_model_event(client: &mut Option<RealtimeClient>) -> Option<ModelEvent> {
    match client {
        Some(client) => client.next_event().await,
        None => std::future::pending().await,
    }
}

async fn connection(connecting: &mut Option<Connecting>) -> Result<RealtimeClient, ClientError> {
    match connecting {
        Some(attempt) => {
            let result = attempt.await;
            *connecting = None;
            result
        }
        None => std::future::pending().await,
    }
}

async fn retry_timer(outage: &Option<Outage>) {
    match outage.as_ref().and_then(|o| o.retry_at) {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Runner {
    async fn run(mut self, client: RealtimeClient) {
        self.open(client, false).await;
        while !self.finished {
            let step = tokio::select! {
                command = self.inputs.recv() => Step::Input(command),
                event = next_model_event(&mut self.client) => Step::Model(event),
                Some(outcome) = self.tool_rx.recv() => Step::Tool(outcome),
                () = retry_timer(&self.outage) => Step::Retry,
                result = connection(&mut self.connecting) => Step::Connected(result),
            };
            match step {
                Step::Input(Some(command)) => self.on_command(command).await,
                Step::Input(None) => self.close("every input handle was dropped").await,
                Step::Model(Some(event)) => self.on_model_event(event).await,
                Step::Model(None) => self.on_session_ended("the event stream ended".into()).await,
                Step::Tool(outcome) => self.on_tool_done(outcome).await,
                Step::Retry => self.retry(),
                Step::Connected(Ok(client)) => self.open(client, true).await,
                Step::Connected(Err(error)) => {
                    let attempt = self.outage.as_ref().map_or(0, |o| o.attempt);
                    self.on_session_ended(format!("reconnect attempt {attempt} failed: {error}"))
                        .await
                }
            }
        }
        for (_, call) in self.running.drain() {
            call.abort.abort();
        }
    }

    fn emit(&self, event: AgentEvent) {
        let _ = self.events.send(event);
    }

    fn transcript(&self) -> std::sync::MutexGuard<'_, Transcript> {
        self.transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    // ---- the session -------------------------------------------------------------

    /// The configuration a new session gets; `with_context` adds the
    /// conversation so far to the instructions.
    fn session_config(&self, with_context: bool) -> SessionConfig {
        let mut session = self.config.session.clone();
        session.tools = if self.caps.tool_calls {
            self.tools.specs()
        } else {
            if !self.tools.is_empty() {
                tracing::warn!(
                    dialect = %self.caps.dialect,
                    "the dialect has no function calling; tools are not declared"
                );
            }
            Vec::new()
        };
        if with_context && self.config.context_chars > 0 {
            let context = self.transcript().as_context(self.config.context_chars);
            if !context.is_empty() {
                let base = session.instructions.take().unwrap_or_default();
                session.instructions = Some(
                    format!("{base}\n\n## Conversation so far\n{context}")
                        .trim_start()
                        .to_owned(),
                );
            }
        }
        session
    }

    /// Takes a fresh connection: resume where possible, configure, wait for
    /// the acknowledgement (inputs are buffered until then).
    async fn open(&mut self, mut client: RealtimeClient, after_outage: bool) {
        self.caps = client.capabilities().clone();
        self.connections += 1;
        self.ready = false;
        self.in_resampler = None;
        let handle = self
            .resume_handle
            .clone()
            .filter(|_| self.caps.resumption && after_outage);
        self.resuming = handle.is_some();
        let mut result = Ok(());
        if let Some(handle) = handle {
            tracing::info!("resuming the model session with its handle");
            result = client.send(&ClientInput::Resume { handle }).await;
        }
        if result.is_ok() {
            let config = self.session_config(after_outage && !self.resuming);
            result = client.send(&ClientInput::Session(config)).await;
        }
        if !self.resuming {
            self.epoch += 1;
        }
        self.client = Some(client);
        if let Err(error) = result {
            self.on_session_ended(format!("could not configure the session: {error}"))
                .await;
        }
    }

    /// The provider acknowledged the session: deliver what waited.
    async fn on_ready(&mut self) {
        self.ready = true;
        let pending: Vec<ClientInput> = self.buffer.drain(..).collect();
        let delivered = pending.len();
        self.buffered_audio_ms = 0.0;
        match self.outage.take() {
            Some(outage) => {
                if self.dropped_audio_ms > 0.0 {
                    self.emit(AgentEvent::InputDropped {
                        audio_ms: self.dropped_audio_ms as u64,
                    });
                }
                self.emit(AgentEvent::Reconnected {
                    attempt: outage.attempt,
                    resumed: self.resuming,
                    delivered_inputs: delivered,
                })
            }
            None => self.emit(AgentEvent::SessionReady {
                session_id: self.session_id.clone(),
                connection: self.connections,
            }),
        }
        self.dropped_audio_ms = 0.0;
        for input in pending {
            self.deliver(input).await;
            if !self.ready {
                break; // lost again; the rest went back to the buffer
            }
        }
        self.maybe_follow_up().await;
    }

    async fn on_session_ended(&mut self, reason: String) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        self.ready = false;
        if self.finished {
            return;
        }
        tracing::warn!(%reason, "model session lost");
        if let Some(response) = self.response.take() {
            self.suppressed.insert(response.id);
        }
        if self.resuming {
            // The handle may be what the provider refused: start afresh next time.
            self.resume_handle = None;
        }
        let attempt = match &self.outage {
            Some(outage) => outage.attempt + 1,
            None => {
                self.emit(AgentEvent::Disconnected {
                    reason: reason.clone(),
                });
                1
            }
        };
        let policy = &self.config.reconnect;
        if attempt > policy.max_attempts {
            let message = format!(
                "model session lost ({reason}); gave up after {} reconnect attempts",
                policy.max_attempts
            );
            self.emit(AgentEvent::Error {
                code: "session_lost".into(),
                message: message.clone(),
                fatal: true,
            });
            self.emit(AgentEvent::Closed { reason: message });
            self.finished = true;
            return;
        }
        let delay = policy.delay(attempt);
        self.outage = Some(Outage {
            attempt,
            retry_at: Some(Instant::now() + delay),
        });
        self.emit(AgentEvent::Reconnecting {
            attempt,
            delay_ms: delay.as_millis() as u64,
        });
    }

    /// Starts a connection attempt; the loop keeps serving the front end
    /// (buffering its input, or closing) while it is under way.
    fn retry(&mut self) {
        let Some(outage) = self.outage.as_mut() else {
            return;
        };
        outage.retry_at = None;
        tracing::info!(attempt = outage.attempt, "reconnecting the model session");
        let connector = Arc::clone(&self.connector);
        self.connecting = Some(Box::pin(async move { connector.connect().await }));
    }

    async fn close(&mut self, reason: &str) {
        self.finished = true;
        self.connecting = None;
        for (_, call) in self.running.drain() {
            call.abort.abort();
        }
        if let Some(mut client) = self.client.take() {
            if client.send(&ClientInput::EndSession).await.is_ok() && self.caps.end_handshake {
                // Let the provider flush and confirm before the socket goes.
                let _ = tokio::time::timeout(GOODBYE_WAIT, async {
                    while let Some(event) = client.next_event().await {
                        if matches!(event, ModelEvent::SessionEnded { .. }) {
                            break;
                        }
                    }
                })
                .await;
            }
            let _ = client.close().await;
        }
        self.emit(AgentEvent::Closed {
            reason: reason.to_owned(),
        });
    }

    // ---- sending -----------------------------------------------------------------

    /// Sends now if the session is ready, else buffers. A send that fails on
    /// the socket buffers the input and treats the session as lost; one the
    /// dialect cannot encode is reported and dropped.
    async fn deliver(&mut self, input: ClientInput) {
        if !self.ready {
            self.buffer_input(input);
            return;
        }
        let Some(client) = self.client.as_mut() else {
            self.buffer_input(input);
            return;
        };
        match client.send(&input).await {
            Ok(()) => {}
            Err(ClientError::Encode(error)) => self.report_unsendable(&input, &error),
            Err(error) => {
                self.buffer_input(input);
                self.on_session_ended(format!("send failed: {error}")).await;
            }
        }
    }

    fn report_unsendable(&self, input: &ClientInput, error: &EncodeError) {
        tracing::warn!(%error, "input not sent");
        let kind = serde_json::to_value(input)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default();
        self.emit(AgentEvent::Error {
            code: "unsupported_input".into(),
            message: format!("{kind}: {error}"),
            fatal: false,
        });
    }

    fn buffer_input(&mut self, input: ClientInput) {
        if let ClientInput::Audio { pcm, sample_rate } = &input {
            self.buffered_audio_ms += pcm.duration_ms(*sample_rate);
        }
        self.buffer.push_back(input);
        let bound = self.config.input_buffer_ms as f64;
        let mut dropped_now = 0.0;
        while self.buffered_audio_ms > bound {
            let Some(index) = self
                .buffer
                .iter()
                .position(|i| matches!(i, ClientInput::Audio { .. }))
            else {
                break;
            };
            if let Some(ClientInput::Audio { pcm, sample_rate }) = self.buffer.remove(index) {
                let ms = pcm.duration_ms(sample_rate);
                self.buffered_audio_ms -= ms;
                dropped_now += ms;
            }
        }
        if dropped_now > 0.0 {
            let first = self.dropped_audio_ms == 0.0;
            self.dropped_audio_ms += dropped_now;
            if first {
                tracing::warn!(
                    "input buffer full while the session is down; dropping oldest audio"
                );
                self.emit(AgentEvent::InputDropped {
                    audio_ms: self.dropped_audio_ms as u64,
                });
            }
        }
    }

    // ---- front-end input ---------------------------------------------------------

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Audio { pcm, sample_rate } => {
                let target = self.caps.input_sample_rate;
                let resampler = match &mut self.in_resampler {
                    Some(r) if r.from_rate() == sample_rate && r.to_rate() == target => r,
                    slot => slot.insert(Resampler::new(sample_rate, target)),
                };
                let pcm = resampler.process(&pcm);
                if !pcm.is_empty() {
                    self.deliver(ClientInput::Audio {
                        pcm: Pcm(pcm),
                        sample_rate: target,
                    })
                    .await;
                }
            }
            Command::Text(text) => {
                if !self.caps.text_input {
                    self.emit(AgentEvent::Error {
                        code: "unsupported_input".into(),
                        message: format!("{} takes no text input", self.caps.dialect),
                        fatal: false,
                    });
                    return;
                }
                self.barge_in(Trigger::FrontEnd).await;
                self.followup_blocked = true;
                self.transcript().push(TranscriptEntry::User {
                    item_id: None,
                    text: Some(text.clone()),
                });
                self.deliver(ClientInput::Text { text }).await;
                self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
                    .await;
            }
            Command::Image { mime_type, data } => {
                if !self.caps.image_input {
                    self.emit(AgentEvent::Error {
                        code: "unsupported_input".into(),
                        message: format!("{} takes no images", self.caps.dialect),
                        fatal: false,
                    });
                    return;
                }
                self.deliver(ClientInput::Image {
                    mime_type,
                    data: Pcm(data),
                })
                .await;
            }
            Command::Commit => {
                self.followup_blocked = true;
                self.deliver(ClientInput::CommitAudio).await;
                self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
                    .await;
            }
            Command::Playback { item_id, played_ms } => {
                if let Some(item) = self.items.get_mut(&item_id) {
                    item.played_ms = Some(item.played_ms.map_or(played_ms, |p| p.max(played_ms)));
                }
            }
            Command::Interrupt => self.barge_in(Trigger::FrontEnd).await,
            Command::Close => self.close("closed by the front end").await,
        }
    }

    // ---- model events ------------------------------------------------------------

    async fn on_model_event(&mut self, event: ModelEvent) {
        match event {
            ModelEvent::SessionCreated { session_id, .. } => {
                self.session_id = Some(session_id);
                if !self.ready {
                    self.on_ready().await;
                }
            }
            ModelEvent::SessionUpdated { .. } => {
                if !self.ready {
                    self.on_ready().await;
                }
            }
            ModelEvent::SessionEnded { reason, close_code } => {
                let reason = match close_code {
                    Some(code) => format!("{reason} (close {code})"),
                    None => reason,
                };
                self.on_session_ended(reason).await;
            }
            ModelEvent::GoAway { time_left_ms } => {
                tracing::info!(?time_left_ms, "the provider will close the session soon");
            }
            ModelEvent::ResumptionHandle { handle, resumable } => {
                if let (Some(handle), true) = (handle, resumable) {
                    self.resume_handle = Some(handle);
                }
            }
            ModelEvent::SpeechStarted { item_id, .. } => {
                self.emit(AgentEvent::UserSpeechStarted { item_id });
                self.followup_blocked = true;
                if self.config.barge_in {
                    self.barge_in(Trigger::Speech).await;
                }
            }
            ModelEvent::SpeechStopped { item_id, .. } => {
                self.emit(AgentEvent::UserSpeechStopped { item_id });
            }
            ModelEvent::InputCommitted { item_id } => self.transcript().user_pending(&item_id),
            ModelEvent::InputCleared => {}
            ModelEvent::InputTranscriptDelta { item_id, delta } => {
                self.emit(AgentEvent::UserTranscriptDelta { item_id, delta });
            }
            ModelEvent::InputTranscriptDone {
                item_id,
                transcript,
            } => {
                self.transcript().user_heard(&item_id, &transcript);
                self.emit(AgentEvent::UserTranscript {
                    item_id,
                    text: transcript,
                });
            }
            ModelEvent::InputTranscriptFailed { item_id, error } => {
                tracing::warn!(%item_id, %error, "the provider could not transcribe a user turn");
            }
            ModelEvent::ResponseCreated { response_id } => {
                self.response = Some(Response {
                    id: response_id.clone(),
                    interrupted: false,
                });
                self.emit(AgentEvent::ResponseStarted { response_id });
            }
            ModelEvent::AudioDelta {
                response_id,
                item_id,
                pcm,
                sample_rate,
            } => self.on_audio(response_id, item_id, pcm, sample_rate),
            ModelEvent::AudioDone {
                response_id,
                item_id,
            } => {
                if !self.suppressed.contains(&response_id) {
                    self.emit(AgentEvent::AudioDone {
                        response_id,
                        item_id,
                    });
                }
            }
            ModelEvent::TranscriptDelta {
                response_id,
                item_id,
                delta,
            }
            | ModelEvent::TextDelta {
                response_id,
                item_id,
                delta,
            } => {
                if self.suppressed.contains(&response_id) {
                    return;
                }
                let at = self
                    .items
                    .get(&item_id)
                    .map_or(0, |i| i.delivered_ms.floor() as u64);
                self.transcript()
                    .agent_delta(&response_id, &item_id, &delta, at);
                self.emit(AgentEvent::TranscriptDelta {
                    response_id,
                    item_id,
                    delta,
                });
            }
            ModelEvent::TranscriptDone {
                response_id,
                item_id,
                transcript,
            }
            | ModelEvent::TextDone {
                response_id,
                item_id,
                text: transcript,
            } => {
                if self.suppressed.contains(&response_id) {
                    return;
                }
                self.transcript()
                    .agent_done(&response_id, &item_id, &transcript);
                self.emit(AgentEvent::TranscriptDone {
                    response_id,
                    item_id,
                    text: transcript,
                });
            }
            ModelEvent::ToolCallDelta { .. } => {}
            ModelEvent::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => self.on_tool_call(call_id, name, arguments),
            ModelEvent::ToolCallCancelled { call_ids } => {
                for call_id in call_ids {
                    if let Some(call) = self.running.remove(&call_id) {
                        call.abort.abort();
                        self.transcript().push(TranscriptEntry::ToolCancelled {
                            call_id: call_id.clone(),
                        });
                        self.emit(AgentEvent::ToolCallCancelled { call_id });
                    }
                }
            }
            ModelEvent::Interrupted { .. } => self.barge_in(Trigger::Provider).await,
            ModelEvent::Truncated {
                item_id,
                audio_end_ms,
            } => {
                tracing::debug!(%item_id, audio_end_ms, "the provider truncated an item");
            }
            ModelEvent::ResponseDone {
                response_id,
                status,
                ..
            } => {
                if self.response.as_ref().is_some_and(|r| r.id == response_id) {
                    self.response = None;
                }
                self.emit(AgentEvent::ResponseDone {
                    response_id,
                    status,
                });
                self.maybe_follow_up().await;
            }
            ModelEvent::Usage(_) => {}
            ModelEvent::Error(info) => {
                tracing::warn!(code = %info.code, message = %info.message, "provider error");
                self.emit(AgentEvent::Error {
                    code: info.code,
                    message: info.message,
                    fatal: info.fatal,
                });
            }
            ModelEvent::Unrecognized { provider_type } => {
                tracing::debug!(%provider_type, "unrecognised provider event");
            }
        }
    }

    fn on_audio(&mut self, response_id: String, item_id: String, pcm: Pcm, sample_rate: u32) {
        if self.suppressed.contains(&response_id) {
            return; // late audio of a response the user cut off
        }
        let item = self
            .items
            .entry(item_id.clone())
            .or_insert_with(|| ItemAudio {
                response_id: response_id.clone(),
                delivered_ms: 0.0,
                played_ms: None,
                cut: false,
            });
        if item.cut {
            return;
        }
        item.delivered_ms += pcm.duration_ms(sample_rate);
        self.last_audio_item = Some(item_id.clone());
        let target = self.config.output_sample_rate.unwrap_or(sample_rate);
        let resampler = match &mut self.out_resampler {
            Some((item, r)) if *item == item_id && r.from_rate() == sample_rate => r,
            slot => {
                &mut slot
                    .insert((item_id.clone(), Resampler::new(sample_rate, target)))
                    .1
            }
        };
        let pcm = resampler.process(&pcm.0);
        let sample_rate = resampler.to_rate();
        self.emit(AgentEvent::Audio {
            response_id,
            item_id,
            pcm: Pcm(pcm),
            sample_rate,
        });
    }

    /// Whether the provider cancels the response by itself when its VAD hears
    /// the user (all three providers do by default).
    fn provider_interrupts(&self) -> bool {
        match &self.config.session.turn_detection {
            None => self.caps.server_vad,
            Some(TurnDetection::Manual) => false,
            Some(TurnDetection::ServerVad {
                interrupt_response, ..
            })
            | Some(TurnDetection::SemanticVad {
                interrupt_response, ..
            }) => interrupt_response.unwrap_or(true),
        }
    }

    /// Cuts the agent off: cancel the response where the provider will not,
    /// truncate the model's memory to what was heard where it can, cut the
    /// transcript the same way, tell the front end to stop playing.
    async fn barge_in(&mut self, trigger: Trigger) {
        let active = self
            .response
            .as_ref()
            .filter(|r| !r.interrupted)
            .map(|r| r.id.clone());
        let item_id = self.last_audio_item.clone().filter(|id| {
            self.items.get(id).is_some_and(|item| {
                !item.cut && (Some(&item.response_id) == active.as_ref() || item.playing())
            })
        });
        if active.is_none() && item_id.is_none() {
            return;
        }
        if let Some(id) = &active {
            if let Some(response) = self.response.as_mut() {
                response.interrupted = true;
            }
            self.suppressed.insert(id.clone());
            let provider_cancels = match trigger {
                Trigger::Speech => self.provider_interrupts(),
                Trigger::Provider => true,
                Trigger::FrontEnd => false,
            };
            if !provider_cancels {
                self.deliver_quietly(ClientInput::CancelResponse {
                    response_id: Some(id.clone()),
                })
                .await;
            }
        }
        let mut played_ms = None;
        let mut response_id = active;
        if let Some(item_id) = &item_id {
            if let Some(item) = self.items.get_mut(item_id) {
                item.cut = true;
                let heard = item.heard_ms();
                played_ms = Some(heard);
                response_id = response_id.or_else(|| Some(item.response_id.clone()));
                self.suppressed.insert(item.response_id.clone());
            }
            self.transcript().agent_interrupted(item_id, played_ms);
            if let (true, Some(heard)) = (self.caps.truncation, played_ms) {
                self.deliver_quietly(ClientInput::Truncate {
                    item_id: item_id.clone(),
                    content_index: 0,
                    audio_end_ms: heard,
                })
                .await;
            }
        }
        self.followup_blocked = true;
        tracing::info!(?trigger, ?response_id, ?played_ms, "barge-in");
        self.emit(AgentEvent::Interrupted {
            response_id,
            item_id,
            played_ms,
        });
    }

    /// Like [`Runner::deliver`], but an input the dialect cannot encode is
    /// only logged (the agent asked for it on its own, not the front end).
    async fn deliver_quietly(&mut self, input: ClientInput) {
        if !self.ready {
            return; // a cancel or truncate for a lost session means nothing
        }
        let Some(client) = self.client.as_mut() else {
            return;
        };
        match client.send(&input).await {
            Ok(()) => {}
            Err(ClientError::Encode(error)) => {
                tracing::debug!(%error, "the dialect does not take this; skipped")
            }
            Err(error) => self.on_session_ended(format!("send failed: {error}")).await,
        }
    }

    // ---- tools -------------------------------------------------------------------

    fn on_tool_call(&mut self, call_id: String, name: String, arguments: String) {
        self.followup_blocked = false;
        self.transcript().push(TranscriptEntry::ToolCall {
            call_id: call_id.clone(),
            name: name.clone(),
            arguments: arguments.clone(),
        });
        self.emit(AgentEvent::ToolCallStarted {
            call_id: call_id.clone(),
            name: name.clone(),
            arguments: arguments.clone(),
        });
        let abort = spawn_call(
            &self.tools,
            call_id.clone(),
            name,
            arguments,
            self.config.tool_timeout,
            self.tool_tx.clone(),
        );
        self.running.insert(
            call_id,
            Running {
                abort,
                epoch: self.epoch,
            },
        );
    }

    async fn on_tool_done(&mut self, outcome: CallOutcome) {
        let Some(call) = self.running.remove(&outcome.call_id) else {
            return; // withdrawn by the provider meanwhile
        };
        self.transcript().push(TranscriptEntry::ToolResult {
            call_id: outcome.call_id.clone(),
            name: outcome.name.clone(),
            output: outcome.output.clone(),
            is_error: outcome.is_error,
        });
        self.emit(AgentEvent::ToolCallFinished {
            call_id: outcome.call_id.clone(),
            name: outcome.name.clone(),
            output: outcome.output.clone(),
            is_error: outcome.is_error,
        });
        if call.epoch != self.epoch {
            tracing::info!(call_id = %outcome.call_id, "result of a call from a lost session; the new session never saw the call");
            return;
        }
        self.deliver(ClientInput::ToolResult {
            call_id: outcome.call_id,
            name: outcome.name,
            output: outcome.output,
        })
        .await;
        self.unanswered_results += 1;
        self.maybe_follow_up().await;
    }

    /// Asks for the answer to tool results, where the dialect needs asking,
    /// once every call of the batch is in and no response is running.
    async fn maybe_follow_up(&mut self) {
        if self.unanswered_results == 0 {
            return;
        }
        if self.followup_blocked || !self.caps.response_after_tool_result {
            self.unanswered_results = 0;
            return;
        }
        let epoch = self.epoch;
        let waiting = self.running.values().any(|c| c.epoch == epoch);
        if waiting || self.response.is_some() || !self.ready {
            return;
        }
        self.unanswered_results = 0;
        self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
            .await;
    }
}
