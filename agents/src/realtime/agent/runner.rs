//! The agent task: its state, the loop that waits on everything at once,
//! and the glue that hands each wake-up to the part whose job it is (the
//! connection, the outbox, the front end's audio, the answers and barge-in,
//! the tool calls, the handover and the session's lifetime each own their
//! state and decisions in their own module, with no I/O). Every method of
//! the runner lives here: it does the I/O those decisions call for.

use super::barge_in::{provider_cancels, Answers, Trigger};
use super::connection::{
    compose_session, deadline, next_connection, next_model_event, retry_timer, setup_timed_out,
    Connection,
};
use super::delegation;
use super::front_end::{refusal, UserAudio};
use super::handover::{context_budget, conversation_chars, Handover, Lifetime};
use super::input::Command;
use super::interaction::Interaction;
use super::model_events::{react, Reaction};
use super::outbox::{unsendable, Outbox};
use super::silence::{silence, Filler};
use super::tool_calls::{self, Finished, ToolCalls};
use crate::realtime::config::AgentConfig;
use crate::realtime::connect::SharedConnector;
use crate::realtime::events::AgentEvent;
use crate::realtime::tools::{CallOutcome, ToolRegistry};
use crate::realtime::transcript::{Transcript, TranscriptEntry};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio::time::Instant;
use understudy_adapters::{
    Capabilities, ClientError, ClientInput, ModelEvent, Pcm, RealtimeClient, ResponseOptions,
    SessionConfig, TimedEvent, ToolBehavior,
};

/// How long a polite goodbye (DashScope's `session.finish`) may take.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

/// What woke the agent task.
enum Step {
    /// The front end sent something (`None`: every input handle is gone).
    Input(Option<Command>),
    /// The model sent something, stamped with when its frame arrived
    /// (`None`: its event stream ended).
    Model(Option<TimedEvent>),
    /// A tool call finished.
    Tool(CallOutcome),
    /// The back-off pause is over: try to connect.
    Retry,
    /// A connection attempt finished.
    Connected(Result<RealtimeClient, ClientError>),
    /// The new connection did not acknowledge its configuration in time.
    SetupTimedOut,
    /// A planned move to a new connection must happen now.
    HandoverDue,
    /// The provider will end the session soon: plan the move.
    SessionEnding,
    /// The front end has paused and the session's clock runs on input
    /// audio: silence is due.
    Silence,
}

/// Everything the agent task owns. The fields are grouped by the module that
/// looks after them; where a part owns its state and decisions (`outbox`,
/// `user_audio`, `answers`, `calls`, `handover`, `life`), the methods here
/// only wire events to it. The connection's state and decisions are
/// `conn`'s ([`Connection`]), and what a model event means is
/// [`react`]'s; this file is the whole `impl Runner`: the I/O around those
/// decisions (opening, configuring, losing and closing connections,
/// sending, reporting).
pub(super) struct Runner {
    // ---- set at start --------------------------------------------------------
    /// Opens new model sessions.
    pub(super) connector: SharedConnector,
    /// The agent's configuration.
    pub(super) config: AgentConfig,
    /// The tools the model may call.
    pub(super) tools: ToolRegistry,
    /// What the current session's dialect supports.
    pub(super) caps: Capabilities,

    // ---- the front end -------------------------------------------------------
    /// Commands from [`super::AgentInput`].
    pub(super) inputs: mpsc::Receiver<Command>,
    /// Events for the front end.
    pub(super) events: mpsc::UnboundedSender<AgentEvent>,
    /// The transcript, shared with the handle.
    pub(super) transcript: Arc<Mutex<Transcript>>,
    /// User audio on its way to the model's input rate.
    pub(super) user_audio: UserAudio,
    /// Silence owed to a session whose clock runs on input audio.
    pub(super) silence: Filler,

    // ---- the connection (`connection`) ----------------------------------------
    /// The model session and the state of getting (and keeping) one.
    pub(super) conn: Connection,
    /// The agent has stopped; the loop ends.
    pub(super) finished: bool,

    // ---- moving before the provider closes (`handover`) -----------------------
    /// The resumption state (handle, inputs to send again, the planned
    /// switch) and the standby connection of a planned move.
    pub(super) handover: Handover,
    /// When the current session will end and how big its context grew.
    pub(super) life: Lifetime,
    /// The summary length the current session's instructions carry.
    pub(super) summary_chars: Option<usize>,

    // ---- sending (`outbox`) -----------------------------------------------------
    /// Inputs waiting for a ready session.
    pub(super) outbox: Outbox,

    // ---- answers and barge-in (`barge_in`) ------------------------------------
    /// The response in progress, the responses cut, and the audio items
    /// forwarded with how much of each was played.
    pub(super) answers: Answers,

    // ---- tools (`tool_calls`) -------------------------------------------------
    /// Calls under way and the follow-up bookkeeping.
    pub(super) calls: ToolCalls,
    /// Whether the model is still working on a reply (`interaction`).
    pub(super) interaction: Interaction,
}

impl Runner {
    /// A runner for a session about to open, talking to the front end
    /// through `inputs`, `events` and `transcript`.
    pub(super) fn new(
        connector: SharedConnector,
        config: AgentConfig,
        tools: ToolRegistry,
        caps: Capabilities,
        inputs: mpsc::Receiver<Command>,
        events: mpsc::UnboundedSender<AgentEvent>,
        transcript: Arc<Mutex<Transcript>>,
    ) -> Runner {
        let outbox = Outbox::new(config.input_buffer_ms);
        let handover = Handover::new(config.input_buffer_ms);
        let silence = Filler::new(config.silence_fill.clone());
        Runner {
            connector,
            config,
            tools,
            caps,
            inputs,
            events,
            transcript,
            user_audio: UserAudio::default(),
            silence,
            conn: Connection::default(),
            finished: false,
            handover,
            life: Lifetime::new(),
            summary_chars: None,
            outbox,
            answers: Answers::default(),
            calls: ToolCalls::new(),
            interaction: Interaction::default(),
        }
    }

    /// Runs the agent on its first connection until it stops.
    pub(super) async fn run(mut self, client: RealtimeClient) {
        self.open(client, false).await;
        while !self.finished {
            let handover_due = self.handover.due_at();
            let session_ending = self.session_ending_at();
            let step = tokio::select! {
                command = self.inputs.recv() => Step::Input(command),
                event = next_model_event(&mut self.conn.client) => Step::Model(event),
                Some(outcome) = self.calls.finished.recv() => Step::Tool(outcome),
                () = retry_timer(&self.conn.outage) => Step::Retry,
                result = next_connection(&mut self.conn.connecting) => Step::Connected(result),
                () = deadline(self.conn.setup_deadline) => Step::SetupTimedOut,
                () = deadline(handover_due) => Step::HandoverDue,
                () = deadline(session_ending) => Step::SessionEnding,
                () = deadline(self.silence.next_at()) => Step::Silence,
            };
            match step {
                Step::Input(Some(command)) => self.on_command(command).await,
                Step::Input(None) => self.close("every input handle was dropped").await,
                Step::Model(Some(timed)) => self.on_model_event(timed).await,
                Step::Model(None) => self.on_session_ended("the event stream ended".into()).await,
                Step::Tool(outcome) => self.on_tool_done(outcome).await,
                Step::Retry => self.retry(),
                Step::Connected(Ok(client)) => {
                    let serving = self.conn.client.is_some();
                    if let Some(client) = self.handover.keep_standby(client, serving) {
                        self.open(client, true).await
                    }
                }
                Step::Connected(Err(error)) => match self.conn.attempt_failed(&error) {
                    Some(reason) => self.on_session_ended(reason).await,
                    // The old connection still serves: its close will go
                    // through the reconnect path.
                    None => drop(self.handover.abandon()),
                },
                Step::SetupTimedOut => {
                    let reason = setup_timed_out(self.config.setup_timeout);
                    self.on_session_ended(reason).await
                }
                Step::HandoverDue => {}
                Step::SessionEnding => self.on_session_ending(),
                Step::Silence => self.fill_silence().await,
            }
            self.maybe_hand_over().await;
        }
        self.calls.abort_all();
    }

    /// Tells the front end (a front end that stopped listening is no error).
    pub(super) fn emit(&self, event: AgentEvent) {
        let _ = self.events.send(event);
    }

    /// The shared transcript (a poisoned lock is still usable: entries are
    /// only ever appended or cut).
    pub(super) fn transcript(&self) -> MutexGuard<'_, Transcript> {
        self.transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    // ---- the connection (`connection`) ----------------------------------------

    /// The configuration a new session gets (see [`compose_session`]);
    /// `with_context` carries the conversation so far into it. A session
    /// that resumes its lineage gets the configuration that lineage started
    /// with; one that does not starts a lineage with its own.
    pub(super) async fn session_config(
        &mut self,
        with_context: bool,
        resending: bool,
    ) -> SessionConfig {
        if self.conn.resuming {
            if let Some(config) = self.handover.lineage_config() {
                self.summary_chars = None;
                return config.clone();
            }
        }
        let conversation = (with_context && self.config.context_chars > 0)
            .then(|| crate::realtime::compaction::lines_of(self.transcript().entries()));
        let (session, summary_chars) = compose_session(
            &self.config,
            &self.caps,
            &self.tools,
            conversation,
            resending,
        )
        .await;
        self.summary_chars = summary_chars;
        if !self.conn.resuming {
            self.handover.started_lineage(&session);
        }
        session
    }

    /// Forgets ids of the previous connection: a new connection may mint the
    /// same ones again (Gemini counts turns from `turn_0` on each), and none
    /// of the old connection's events can arrive any more.
    pub(super) fn new_id_space(&mut self) {
        self.answers.new_id_space();
        self.interaction.reset();
        self.transcript().new_connection();
    }

    /// Starts a connection attempt; the loop keeps serving the front end
    /// (buffering its input, or closing) while it is under way.
    pub(super) fn retry(&mut self) {
        if let Some(attempt) = self.conn.retry_due() {
            tracing::info!(attempt, "reconnecting the model session");
            self.conn.connect(&self.connector);
        }
    }

    /// Takes a fresh connection: resume where possible, configure, wait for
    /// the acknowledgement (inputs are buffered until then).
    pub(super) async fn open(&mut self, mut client: RealtimeClient, after_outage: bool) {
        self.caps = client.capabilities().clone();
        self.silence.stop();
        self.handover.abandon();
        self.life.opened(Instant::now(), &self.caps.limits);
        self.conn.opening(Instant::now(), self.config.setup_timeout);
        self.user_audio.reset();
        let fresh = self.life.take_fresh();
        let handle = self
            .handover
            .resume_with(fresh, self.caps.resumption && after_outage);
        self.conn.resuming = handle.is_some();
        let mut result = Ok(());
        if let Some(handle) = handle {
            result = client.send(&ClientInput::Resume { handle }).await;
        }
        // What the old session was sent and never answered: a resumed
        // conversation has not seen it after its handle, a fresh one not at
        // all. It goes first, before what waited, so no turn is lost.
        let unseen = self.handover.take_unanswered();
        if result.is_ok() {
            let config = self
                .session_config(after_outage && !self.conn.resuming, !unseen.is_empty())
                .await;
            result = client.send(&ClientInput::Session(config)).await;
        }
        self.conn.opened(client);
        self.new_id_space();
        self.outbox.prepend(unseen);
        let chars = conversation_chars(self.transcript().entries());
        self.life.context_from(chars);
        if let Err(error) = result {
            self.on_session_ended(format!("could not configure the session: {error}"))
                .await;
        }
    }

    /// The provider acknowledged the session (its frame arrived at
    /// `acknowledged_at`): deliver what waited.
    pub(super) async fn on_ready(&mut self, acknowledged_at: Instant) {
        self.silence
            .ready(self.caps.continuous_input, Instant::now());
        let pending = self.outbox.take_all();
        let dropped_ms = self.outbox.take_dropped_ms();
        let reports = self.conn.ready(
            pending.len(),
            dropped_ms,
            acknowledged_at,
            self.summary_chars,
        );
        reports.into_iter().for_each(|event| self.emit(event));
        let mut pending = pending.into_iter();
        while let Some(input) = pending.next() {
            self.deliver(input).await;
            if !self.conn.ready {
                // Lost again: the failed input went back to the buffer; the
                // rest follows it, in order, for the next session.
                for input in pending.by_ref() {
                    self.buffer_input(input);
                }
            }
        }
        self.maybe_follow_up().await;
    }

    /// The session is gone (closed, failed, or could not be opened): tell the
    /// front end, and schedule the next attempt or give up.
    pub(super) async fn on_session_ended(&mut self, reason: String) {
        let resume_failed = self.conn.resume_failed();
        self.silence.stop();
        if let Some(client) = self.conn.drop_client() {
            let _ = client.close().await;
        }
        let standby = self.handover.abandon();
        if self.finished {
            return;
        }
        if let Some(standby) = standby {
            // A handover had the next connection open already: it is the
            // first reconnect attempt.
            self.conn.reuse(standby);
        }
        tracing::warn!(%reason, "model session lost");
        self.answers.abandon();
        if resume_failed {
            // The handle may be what the provider refused: start afresh next time.
            self.handover.forget_handle();
        }
        let (reports, gave_up) = self
            .conn
            .lose(&reason, &self.config.reconnect, Instant::now());
        reports.into_iter().for_each(|event| self.emit(event));
        self.finished = gave_up;
    }

    /// Stops the agent: running calls are aborted, the session is ended the
    /// way the dialect ends it, and the front end hears `Closed`.
    pub(super) async fn close(&mut self, reason: &str) {
        self.finished = true;
        self.conn.connecting = None;
        self.calls.abort_all();
        if let Some(standby) = self.handover.abandon() {
            let _ = standby.close().await;
        }
        if let Some(mut client) = self.conn.drop_client() {
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

    // ---- the front end (`front_end`) ------------------------------------------

    /// Handles one command from [`super::AgentInput`]: input the dialect
    /// cannot take is refused, the rest becomes model input, a playback
    /// report, a barge-in or the end of the session.
    pub(super) async fn on_command(&mut self, command: Command) {
        if let Some(message) = refusal(&self.caps, &command) {
            self.emit(AgentEvent::Error {
                code: "unsupported_input".into(),
                message,
                fatal: false,
            });
            return;
        }
        match command {
            Command::Audio { pcm, sample_rate } => {
                self.silence.heard(Instant::now());
                let target = self.caps.input_sample_rate;
                let pcm = self.user_audio.resample(&pcm, sample_rate, target);
                if !pcm.is_empty() {
                    self.deliver(ClientInput::Audio {
                        pcm: Pcm(pcm),
                        sample_rate: target,
                    })
                    .await;
                }
            }
            Command::Text(text) => {
                // A typed message: the agent stops talking and answers it.
                self.barge_in(Trigger::FrontEnd).await;
                self.calls.block_follow_up();
                self.transcript().push(TranscriptEntry::User {
                    item_id: None,
                    text: Some(text.clone()),
                });
                self.deliver(ClientInput::Text { text }).await;
                self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
                    .await;
            }
            Command::Image { mime_type, data } => {
                self.deliver(ClientInput::Image {
                    mime_type,
                    data: Pcm(data),
                })
                .await;
            }
            Command::Commit => {
                self.calls.block_follow_up();
                self.deliver(ClientInput::CommitAudio).await;
                self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
                    .await;
            }
            Command::Playback { item_id, played_ms } => self.answers.played(&item_id, played_ms),
            Command::Interrupt => self.barge_in(Trigger::FrontEnd).await,
            Command::Close => self.close("closed by the front end").await,
        }
    }

    // ---- sending (`outbox`) ---------------------------------------------------

    /// Sends now if the session is ready, else holds it in the outbox. A
    /// send that fails on the socket holds the input and treats the session
    /// as lost; one the dialect cannot encode is reported and dropped.
    pub(super) async fn deliver(&mut self, input: ClientInput) {
        let Some(client) = self.conn.ready_client() else {
            self.buffer_input(input);
            return;
        };
        match client.send(&input).await {
            // Kept until answered: a session lost before the answer gets it again.
            Ok(()) => self.handover.on_sent(input),
            Err(ClientError::Encode(error)) => self.emit(unsendable(&input, &error)),
            Err(error) => {
                self.buffer_input(input);
                self.on_session_ended(format!("send failed: {error}")).await;
            }
        }
    }

    /// Like [`Runner::deliver`], but an input the dialect cannot encode is
    /// only logged, and nothing is kept for a lost session: the agent asked
    /// for it on its own (a cancel, a truncate), not the front end.
    pub(super) async fn deliver_quietly(&mut self, input: ClientInput) {
        // A cancel or truncate for a lost session means nothing.
        let Some(client) = self.conn.ready_client() else {
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

    /// Sends the silence due to a session whose clock runs on input audio
    /// (the front end has paused). It is not kept for a lost session:
    /// silence owed to a session that is gone is owed to nobody. A send
    /// that fails only stops the filling: the socket is closing, and its
    /// event stream reports why (the provider's own reason, such as
    /// `session closed: expired`, rather than the failed write).
    async fn fill_silence(&mut self) {
        let ms = self.silence.take_due(Instant::now());
        let Some(client) = self.conn.ready_client().filter(|_| ms > 0) else {
            return;
        };
        let sample_rate = self.caps.input_sample_rate;
        tracing::trace!(ms, "silence while the front end pauses");
        let input = ClientInput::Audio {
            pcm: Pcm(silence(ms, sample_rate)),
            sample_rate,
        };
        if let Err(error) = client.send(&input).await {
            tracing::debug!(%error, "silence not sent; the session's end will say why");
            self.silence.stop();
        }
    }

    /// Holds an input for the next ready session, passing on the outbox's
    /// warning when audio has to be dropped.
    pub(super) fn buffer_input(&mut self, input: ClientInput) {
        if let Some(warning) = self.outbox.hold(input) {
            self.emit(warning);
        }
    }

    // ---- the model's events (`model_events`) -----------------------------------

    /// Handles one event of the model session as [`react`] reads it;
    /// `received_at` (when its frame arrived) is what latency figures are
    /// measured to.
    async fn on_model_event(&mut self, timed: TimedEvent) {
        let TimedEvent {
            event, received_at, ..
        } = timed;
        // New handles and answered turns, for a later resumption.
        self.handover.on_event(&event);
        match react(event, &self.caps, self.config.barge_in) {
            Reaction::Nothing => {}
            Reaction::Session {
                session_id,
                expires_at,
                acknowledged,
            } => {
                if let Some(session_id) = session_id {
                    self.conn.session_id = Some(session_id);
                }
                if let Some(expires_at) = expires_at {
                    self.life.announced(expires_at, SystemTime::now());
                }
                if acknowledged && !self.conn.ready {
                    self.on_ready(Instant::from_std(received_at)).await;
                }
            }
            Reaction::Ended(reason) => self.on_session_ended(reason).await,
            Reaction::GoAway(time_left_ms) => self.on_go_away(time_left_ms),
            Reaction::Emit(event) => self.emit(event),
            Reaction::SpeechStarted { item_id, barge_in } => {
                self.emit(AgentEvent::UserSpeechStarted { item_id });
                self.calls.block_follow_up();
                if barge_in {
                    self.barge_in(Trigger::Speech).await;
                }
            }
            Reaction::InputCommitted(item_id) => self.transcript().user_pending(&item_id),
            Reaction::UserHeard { item_id, text } => {
                self.transcript().user_heard(&item_id, &text);
                self.emit(AgentEvent::UserTranscript { item_id, text });
            }
            Reaction::ResponseStarted(response_id) => {
                self.answers.started(&response_id);
                self.interaction.response_started(&self.caps);
                self.emit(AgentEvent::ResponseStarted { response_id });
            }
            Reaction::Audio {
                response_id,
                item_id,
                pcm,
                sample_rate,
            } => self.on_audio(response_id, item_id, pcm, sample_rate),
            Reaction::Answer { response_id, event } => self.on_answer(&response_id, event),
            Reaction::ToolCall {
                call_id,
                name,
                arguments,
            } => self.on_tool_call(call_id, name, arguments),
            Reaction::ToolCallsCancelled(call_ids) => self.on_tool_calls_cancelled(call_ids),
            Reaction::ToolCallInBackground(call_id) => {
                if self.calls.mark_background(&call_id) {
                    self.emit(AgentEvent::ToolCallInBackground { call_id });
                }
            }
            Reaction::InteractionStatus(status) => {
                let event = self.interaction.reported(&status);
                self.emit(event);
                // The reply may be finished now: what waited for it goes.
                self.maybe_follow_up().await;
            }
            Reaction::Interrupted => self.barge_in(Trigger::Provider).await,
            Reaction::ResponseDone {
                response_id,
                status,
            } => {
                self.answers.done(&response_id);
                self.emit(AgentEvent::ResponseDone {
                    response_id,
                    status,
                });
                // The response's usage, if counted, follows as its own event.
                self.on_context_grown(None);
                self.maybe_follow_up().await;
            }
            Reaction::ContextGrown(tokens) => self.on_context_grown(tokens),
        }
    }

    /// Part of the answer `response_id`: recorded (its text) and forwarded,
    /// unless a barge-in cut that response.
    fn on_answer(&mut self, response_id: &str, event: AgentEvent) {
        if self.answers.suppressed(response_id) {
            return;
        }
        match &event {
            AgentEvent::TranscriptDelta { item_id, delta, .. } => {
                let at = self.answers.delivered_ms(item_id);
                self.transcript()
                    .agent_delta(response_id, item_id, delta, at);
            }
            AgentEvent::TranscriptDone { item_id, text, .. } => {
                self.transcript().agent_done(response_id, item_id, text)
            }
            _ => {}
        }
        self.emit(event);
    }

    // ---- answers and barge-in (`barge_in`) -------------------------------------

    /// Forwards model audio to the front end, at its rate, unless the
    /// response or item was cut.
    pub(super) fn on_audio(
        &mut self,
        response_id: String,
        item_id: String,
        pcm: Pcm,
        sample_rate: u32,
    ) {
        let target = self.config.output_sample_rate;
        if let Some((pcm, sample_rate)) =
            self.answers
                .audio(&response_id, &item_id, &pcm, sample_rate, target)
        {
            self.emit(AgentEvent::Audio {
                response_id,
                item_id,
                pcm,
                sample_rate,
            });
        }
    }

    /// Cuts the agent off as [`Answers::cut`] decides: cancel the response
    /// where the provider will not, truncate the model's memory to what was
    /// heard where it can, cut the transcript the same way, tell the front
    /// end to stop playing.
    pub(super) async fn barge_in(&mut self, trigger: Trigger) {
        let turn_detection = self.config.session.turn_detection.as_ref();
        let provider_cancels = provider_cancels(trigger, turn_detection, self.caps.server_vad);
        let Some(cut) = self.answers.cut(provider_cancels) else {
            return;
        };
        if let Some(response_id) = cut.cancel {
            self.deliver_quietly(ClientInput::CancelResponse {
                response_id: Some(response_id),
            })
            .await;
        }
        if let Some(item_id) = &cut.item_id {
            self.transcript().agent_interrupted(item_id, cut.played_ms);
            if let (true, Some(heard)) = (self.caps.truncation, cut.played_ms) {
                self.deliver_quietly(ClientInput::Truncate {
                    item_id: item_id.clone(),
                    content_index: 0,
                    audio_end_ms: heard,
                })
                .await;
            }
        }
        self.calls.block_follow_up();
        let (response_id, item_id, played_ms) = (cut.response_id, cut.item_id, cut.played_ms);
        tracing::info!(?trigger, ?response_id, ?played_ms, "barge-in");
        self.emit(AgentEvent::Interrupted {
            response_id,
            item_id,
            played_ms,
        });
    }

    // ---- moving before the provider closes (`handover`) ------------------------

    /// The provider will close this connection in `time_left_ms`: open the
    /// next one now and plan the switch.
    pub(super) fn on_go_away(&mut self, time_left_ms: Option<u64>) {
        let left = Duration::from_millis(time_left_ms.unwrap_or(0));
        tracing::info!(
            ?left,
            "the provider will close the connection; moving to a new one"
        );
        if self.finished || !self.conn.serving() {
            return; // already getting a new session
        }
        if !self.handover.plan(time_left_ms) {
            return; // already moving: the earlier deadline stands
        }
        self.conn.connect(&self.connector);
    }

    /// When to plan the move before the provider ends the session, once the
    /// session is ready and no move is planned yet.
    fn session_ending_at(&self) -> Option<Instant> {
        if !self.conn.ready || self.handover.planned() || self.conn.client.is_none() {
            return None;
        }
        self.life.ending_at(self.config.handover_margin)
    }

    /// The session's end is near: move as after the provider's `GoAway`.
    fn on_session_ending(&mut self) {
        let Some(end) = self.life.take_end() else {
            return;
        };
        let left = end.saturating_duration_since(Instant::now());
        tracing::info!(
            ?left,
            "the provider will end the session; moving to a new one"
        );
        self.on_go_away(Some(left.as_millis() as u64));
    }

    /// Notes the context's size after a turn (`reported` by the provider's
    /// usage, when it says) and, past the budget, plans a move to a fresh,
    /// compacted session at the next quiet moment.
    pub(super) fn on_context_grown(&mut self, reported: Option<u64>) {
        let budget = context_budget(
            self.config.context_budget_tokens,
            self.caps.limits.context_tokens,
        );
        let chars = conversation_chars(self.transcript().entries());
        let Some(tokens) = self.life.context_grown(reported, chars, budget) else {
            return;
        };
        if self.handover.planned() || !self.conn.serving() {
            return;
        }
        tracing::info!(
            tokens,
            budget = budget.unwrap_or(tokens),
            "the context is near its budget; moving to a compacted session"
        );
        self.life.compact_next();
        // No provider deadline: switch at the next quiet moment.
        self.on_go_away(Some(60_000));
    }

    /// Switches to the standby connection if it is time: between turns, or
    /// at the deadline whatever is going on (the answer in progress is cut,
    /// as the provider's close would cut it).
    async fn maybe_hand_over(&mut self) {
        let Some(by) = self.handover.due_at() else {
            return;
        };
        let between_turns = !self.replying() && !self.calls.waiting_in(self.conn.epoch);
        let quiet = self.conn.ready && between_turns;
        if !self.handover.switch_due(quiet) {
            return;
        }
        let overdue = Instant::now() >= by;
        let Some(standby) = self.handover.abandon() else {
            return;
        };
        tracing::info!(overdue, "switching to the new connection");
        self.conn.switching(Instant::now());
        self.answers.abandon();
        if let Some(old) = self.conn.drop_client() {
            let _ = old.close().await;
        }
        self.open(standby, true).await;
    }

    // ---- tools (`tool_calls`) -------------------------------------------------

    /// The model called a tool: record it and start it. A delegated
    /// request (the dialect delegates rather than calls) goes to the tool
    /// the configuration's route names, or fails at once saying why.
    pub(super) fn on_tool_call(&mut self, call_id: String, name: String, arguments: String) {
        let name = if self.caps.delegated_tools {
            match delegation::route(&self.config.delegation, &self.tools) {
                Ok(tool) => tool,
                Err(reason) => {
                    tracing::warn!(%call_id, %reason, "a delegated request has no tool");
                    let (entry, event) = tool_calls::started(&call_id, &name, &arguments);
                    self.transcript().push(entry);
                    self.emit(event);
                    self.calls.refuse(call_id, name, reason, self.conn.epoch);
                    return;
                }
            }
        } else {
            name
        };
        let (entry, event) = tool_calls::started(&call_id, &name, &arguments);
        self.transcript().push(entry);
        self.emit(event);
        let timeout = self.config.tool_timeout;
        // Declared non-blocking: the model goes on while it runs (the agent
        // never holds the conversation for a call in any case).
        let background =
            self.tools.behavior_for(&name, &self.caps) == Some(ToolBehavior::NonBlocking);
        self.calls.start(
            &self.tools,
            call_id,
            name,
            arguments,
            timeout,
            self.conn.epoch,
            background,
        );
    }

    /// The provider withdrew calls: stop those still running; no result is
    /// sent for them.
    pub(super) fn on_tool_calls_cancelled(&mut self, call_ids: Vec<String>) {
        for call_id in call_ids {
            if self.calls.withdraw(&call_id) {
                self.transcript().push(TranscriptEntry::ToolCancelled {
                    call_id: call_id.clone(),
                });
                self.emit(AgentEvent::ToolCallCancelled { call_id });
            }
        }
    }

    /// A call finished: record it and send the result to the session that
    /// made the call (a session that never heard of it gets nothing).
    pub(super) async fn on_tool_done(&mut self, outcome: CallOutcome) {
        let finished = self.calls.finish(&outcome.call_id, self.conn.epoch);
        if finished == Finished::Withdrawn {
            return;
        }
        let call_id = outcome.call_id.clone();
        // A background call's result says when it is voiced, where the model
        // honours that.
        let scheduled = self.caps.tool_result_scheduling
            && matches!(finished, Finished::Send { background: true });
        let (entry, event, result) = tool_calls::finished(outcome, scheduled);
        self.transcript().push(entry);
        self.emit(event);
        if finished == Finished::Stale {
            tracing::info!(%call_id, "result of a call from a lost session; the new session never saw the call");
            return;
        }
        self.deliver(result).await;
        self.maybe_follow_up().await;
    }

    /// Whether the model is answering: a response is running, or (on a model
    /// that reports its interaction status) the reply is not finished until
    /// it says `IDLE`.
    fn replying(&self) -> bool {
        self.answers.running() || self.interaction.busy()
    }

    /// Asks for the answer to tool results when [`ToolCalls`] says it is
    /// time.
    pub(super) async fn maybe_follow_up(&mut self) {
        let busy = self.replying() || !self.conn.ready;
        let needs_asking = self.caps.response_after_tool_result;
        if self
            .calls
            .take_follow_up(self.conn.epoch, needs_asking, busy)
        {
            self.deliver(ClientInput::CreateResponse(ResponseOptions::default()))
                .await;
        }
    }
}
