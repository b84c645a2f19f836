//! The Gemini Live respond engine: answers any conversation the way the Live
//! API does, without a cassette.
//!
//! `setup` must come first (anything else closes 1007), a bad key or model
//! closes the session after it (1007 / 1008), and `setupComplete` answers it.
//! Turns end by server VAD over the audio, by `activityEnd` (manual turns), by
//! `audioStreamEnd`, by a complete `clientContent` turn or by streamed text.
//! Answers are spoken in the bundled voice as `modelTurn` audio with
//! `outputTranscription`, then `generationComplete`, then `turnComplete` with
//! `usageMetadata`; a tool call pauses the turn until `toolResponse`. User
//! speech during an answer sends `interrupted` then `turnComplete` (and
//! `toolCallCancellation` for a pending call). With `sessionResumption` on,
//! every completed turn sends a new handle, and a later connection that sets
//! up with that handle continues the same conversation. A connection limit
//! sends `goAway {timeLeft}` and then closes. The responder's session limit
//! does the same: Gemini's session-level limit is bound by tokens (context
//! size, or 15 minutes of audio without compression), while the connection
//! limit (about 10 minutes) is what clients cross in practice, and the service
//! ends a connection with `goAway` then a close; with both limits set, the
//! shorter wins. All frames go out binary, as the hosted service sends them.

use super::calls::{Calls, PendingCall, Scheduling};
use super::setup_rules::{self, field, Refusal};
use super::{decode_base64, INVALID_ARGUMENT};
use crate::engine::{Note, SessionEngine, SetAside};
use crate::openai::reply::{decide, Reply};
use crate::protocol::{FrameSummary, Protocol};
use crate::speech::KnownSpeech;
use crate::timeline::{Outgoing, Timeline};
use crate::vad::{EnergyVad, VadConfig, VadEvent};
use crate::ResponderConfig;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::audio::pcm16_duration_ms;
use understudy_adapters::gemini::codec::rate_of;
use understudy_adapters::gemini::models::{model_family, GeminiModel, ToolBehavior};
use understudy_adapters::gemini::wire::{ClientMessage, Content, FunctionResponse, Setup};
use understudy_adapters::openai::wire::objects::{ContentPart, Item, Tool};

/// Output rate.
const RATE: u32 = 24_000;

/// How many `customVocabulary` entries the transcription honours.
const MAX_VOCABULARY: usize = 100;

/// What a non-blocking call's model says while the call runs.
pub const FILLER: &str = "One moment, I am working on that.";

/// The thought an answer starts with when `includeThoughts` is on.
pub const THOUGHT: &str = "Working out what to say.";

/// An answer waiting until the model is idle.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Deferred {
    /// Speak this (a tool result's answer, decided when it arrived).
    Say(String),
    /// Answer the conversation as it then stands (the user's turn that
    /// an `INTERRUPT` result went before).
    Respond,
}

/// Conversations kept for resumption, by handle, shared by every session of a mock.
pub type ResumptionStore = Arc<Mutex<HashMap<String, Vec<Item>>>>;

/// Connection-level settings of the Gemini engine.
#[derive(Debug, Clone, Default)]
pub struct GeminiSettings {
    /// Close each connection after this long, warning with `goAway` first.
    pub connection_limit: Option<Duration>,
    /// Conversations to resume, shared across connections.
    pub store: ResumptionStore,
}

/// The respond engine for one Gemini Live connection.
pub struct GeminiResponder {
    config: ResponderConfig,
    settings: GeminiSettings,
    authorised: bool,
    session: u64,
    set_up: bool,
    audio_out: bool,
    transcribe_input: bool,
    transcribe_output: bool,
    resumption: bool,
    manual: bool,
    interrupts: bool,
    tools: Vec<Tool>,
    /// The text of `setup.systemInstruction`, for the reply rule.
    instructions: Option<String>,
    conversation: Vec<Item>,
    /// Length of each user audio item, by position in the conversation.
    audio_ms: HashMap<usize, f64>,
    vad: Option<EnergyVad>,
    input_rate: u32,
    buffer: Vec<u8>,
    pending_images: usize,
    turn: u64,
    responding: Option<Arc<str>>,
    /// The session's model family (the fallback row until `setup`).
    row: &'static GeminiModel,
    /// Each declared function's behaviour, the row's default applied.
    behaviors: HashMap<String, ToolBehavior>,
    pending: Calls,
    /// Answers waiting for the model to be idle (`WHEN_IDLE` results, the
    /// user's answer after an `INTERRUPT` result that waited for the user).
    deferred: VecDeque<Deferred>,
    /// An `INTERRUPT` result waiting for the user to finish speaking (3.8).
    after_user: Option<String>,
    /// Manual activity in progress (`activityStart` without `activityEnd`).
    in_activity: bool,
    /// `thinkingConfig.includeThoughts`: answers begin with a thought part.
    include_thoughts: bool,
    /// `historyConfig.initialHistoryInClientContent`, until the seed's
    /// `turnComplete`: `clientContent` is history, not a request.
    seeding: bool,
    /// `customVocabulary` of the input transcription: spellings to use.
    vocabulary: Vec<String>,
    handles: u64,
    calls: u64,
    /// When the answer in progress will have gone out completely.
    turn_done_at: Option<Instant>,
    timeline: Timeline,
    closed: bool,
    notes: Vec<Note>,
    /// The end of a user turn, set aside for the transport to run off the
    /// session task (see [`SessionEngine::has_deferred`]).
    set_aside: SetAside<GeminiResponder>,
}

impl GeminiResponder {
    /// A responder for one connection; `authorised` says whether the key was good.
    pub fn new(
        config: ResponderConfig,
        settings: GeminiSettings,
        authorised: bool,
        session: u64,
    ) -> Self {
        GeminiResponder {
            config,
            settings,
            authorised,
            session,
            set_up: false,
            audio_out: true,
            transcribe_input: false,
            transcribe_output: false,
            resumption: false,
            manual: false,
            interrupts: true,
            tools: Vec::new(),
            instructions: None,
            conversation: Vec::new(),
            audio_ms: HashMap::new(),
            vad: None,
            input_rate: 16_000,
            buffer: Vec::new(),
            pending_images: 0,
            turn: 0,
            responding: None,
            row: model_family(""),
            behaviors: HashMap::new(),
            pending: Calls::default(),
            deferred: VecDeque::new(),
            after_user: None,
            in_activity: false,
            include_thoughts: false,
            seeding: false,
            vocabulary: Vec::new(),
            handles: 0,
            calls: 0,
            turn_done_at: None,
            timeline: Timeline::new(),
            closed: false,
            notes: Vec::new(),
            set_aside: SetAside::default(),
        }
    }

    /// Runs the end of a turn set aside by the last client event, if any,
    /// here and now (the transport runs it off the session task first; a
    /// driver that does not still gets the same frames).
    fn settle(&mut self) {
        while let Some(step) = self.set_aside.take() {
            step(self);
        }
    }

    fn delay(&self, ms: f64) -> Duration {
        Duration::from_secs_f64(ms.max(0.0) / 1000.0 / self.config.speed.max(1e-6))
    }

    fn send(&mut self, at: Instant, message: Value, tag: Option<&Arc<str>>) {
        let frame = Outgoing::Binary {
            event_type: Arc::from(super::GeminiProtocol.kind_of(&message).as_str()),
            data: Arc::from(message.to_string().into_bytes()),
        };
        self.timeline.push_tagged(at, frame, tag.cloned());
    }

    fn close(&mut self, now: Instant, code: u16, reason: &str) {
        self.closed = true;
        self.timeline.push(
            now,
            Outgoing::Close {
                code,
                reason: reason.to_owned(),
            },
        );
    }

    fn on_setup(&mut self, setup: &Setup, now: Instant) {
        if !self.authorised {
            return self.close(now, 1007, "API key not valid. Please pass a valid API key.");
        }
        let model = setup.model.clone().unwrap_or_default();
        if !(model.starts_with("models/") && model.contains("gemini")) {
            let reason = format!("{model} is not found for API version v1beta, or is not supported for bidiGenerateContent.");
            return self.close(now, 1008, &reason);
        }
        let modalities = setup
            .generation_config
            .as_ref()
            .and_then(|g| g.response_modalities.clone())
            .unwrap_or_else(|| vec!["AUDIO".into()]);
        if modalities.len() != 1 {
            return self.close(now, INVALID_ARGUMENT.0, INVALID_ARGUMENT.1);
        }
        self.row = model_family(&model);
        match setup_rules::check(setup, self.row, &self.config.gemini) {
            Ok(()) => {}
            Err(Refusal::Close(code, reason)) => return self.close(now, code, &reason),
            Err(Refusal::Silence(why)) => {
                // Set up in the client's eyes never: nothing more is answered.
                self.notes.push(Note::new("setup", why));
                self.closed = true;
                return;
            }
        }
        self.read_new_setup_fields(setup);
        self.audio_out = modalities[0].eq_ignore_ascii_case("AUDIO");
        self.transcribe_input = setup.input_audio_transcription.is_some();
        self.transcribe_output = setup.output_audio_transcription.is_some();
        let detection = setup.realtime_input_config.as_ref();
        self.manual = detection
            .and_then(|c| c.automatic_activity_detection.as_ref())
            .and_then(|a| a.disabled)
            .unwrap_or(false);
        self.interrupts =
            detection.and_then(|c| c.activity_handling.as_deref()) != Some("NO_INTERRUPTION");
        let silence = detection
            .and_then(|c| c.automatic_activity_detection.as_ref())
            .and_then(|a| a.silence_duration_ms)
            .unwrap_or(500);
        self.vad = (!self.manual).then(|| {
            EnergyVad::new(
                VadConfig::from_provider_threshold(0.5, u64::from(silence)),
                self.input_rate,
            )
        });
        self.set_tools(setup.tools.iter().flatten());
        if let Some(instructions) = setup.system_instruction.as_ref() {
            self.set_instructions(instructions);
        }
        if let Some(resumption) = &setup.session_resumption {
            self.resumption = true;
            if let Some(handle) = resumption.handle.as_deref().filter(|h| !h.is_empty()) {
                let saved = self
                    .settings
                    .store
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(handle)
                    .cloned();
                match saved {
                    Some(conversation) => {
                        self.notes.push(Note::new(
                            "resumed",
                            format!("{handle}: {} items", conversation.len()),
                        ));
                        self.conversation = conversation;
                    }
                    // Unconfirmed: the service's answer to an unknown handle.
                    None => {
                        return self.close(
                            now,
                            INVALID_ARGUMENT.0,
                            "Session resumption handle is invalid or expired.",
                        )
                    }
                }
            }
        }
        self.set_up = true;
        self.send(now, json!({"setupComplete": {}}), None);
        self.resumption_update(now);
    }

    /// The late-2026 setup fields this engine acts on (the rest is accepted
    /// and, as the service does, not echoed).
    fn read_new_setup_fields(&mut self, setup: &Setup) {
        let generation = setup.generation_config.as_ref();
        self.include_thoughts = generation
            .and_then(|g| g.thinking_config.as_ref())
            .and_then(|t| field(t, "includeThoughts", "include_thoughts"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.seeding = setup
            .history_config
            .as_ref()
            .and_then(|h| {
                field(
                    h,
                    "initialHistoryInClientContent",
                    "initial_history_in_client_content",
                )
            })
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.vocabulary = setup
            .input_audio_transcription
            .as_ref()
            .and_then(|t| field(t, "customVocabulary", "custom_vocabulary"))
            .and_then(Value::as_array)
            .map(|words| {
                words
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|w| !w.trim().is_empty())
                    .take(MAX_VOCABULARY)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        self.notes.push(Note::new(
            "setup",
            format!("model family {}", self.row.family),
        ));
    }

    /// The declared functions, each with its behaviour (the row's default
    /// where none is declared).
    fn set_tools<'t>(
        &mut self,
        tools: impl Iterator<Item = &'t understudy_adapters::gemini::wire::Tool>,
    ) {
        let declarations: Vec<_> = tools
            .flat_map(|t| t.function_declarations.iter().flatten())
            .collect();
        self.behaviors = declarations
            .iter()
            .filter_map(|f| {
                let name = f.name.clone()?;
                Some((name, self.row.behavior_of(f.behavior.as_deref())))
            })
            .collect();
        self.tools = declarations
            .into_iter()
            .map(|f| Tool {
                kind: Some("function".into()),
                name: f.name.clone(),
                description: f.description.clone(),
                parameters: f.parameters.clone(),
                ..Default::default()
            })
            .collect();
    }

    fn set_instructions(&mut self, instructions: &Content) {
        let text: String = instructions
            .parts
            .iter()
            .flatten()
            .filter_map(|p| p.text.clone())
            .collect::<Vec<_>>()
            .join("\n");
        self.notes
            .push(Note::new("setup", format!("instructions: {text:?}")));
        self.instructions = Some(text);
    }

    fn resumption_update(&mut self, at: Instant) {
        if !self.resumption {
            return;
        }
        self.handles += 1;
        let handle = format!("understudy-s{}-h{}", self.session, self.handles);
        self.settings
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(handle.clone(), self.conversation.clone());
        self.send(
            at,
            json!({"sessionResumptionUpdate": {"newHandle": handle, "resumable": true}}),
            None,
        );
    }

    fn on_audio(&mut self, data: &str, mime: &str, now: Instant) {
        let Some(bytes) = decode_base64(data) else {
            return;
        };
        let rate = rate_of(mime).unwrap_or(16_000);
        if rate != self.input_rate {
            self.input_rate = rate;
            if let Some(vad) = self.vad.as_mut() {
                *vad = EnergyVad::new(VadConfig::default(), rate);
            }
        }
        self.buffer.extend_from_slice(&bytes);
        let samples: Vec<i16> = bytes
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect();
        let events = match self.vad.as_mut() {
            Some(vad) => vad.push(&samples),
            None => return,
        };
        self.on_vad(events, now);
    }

    /// Acts on what the VAD heard. The end of a turn (recognising the
    /// audio, deciding and voicing the answer) and whatever follows it are
    /// set aside for the transport to run off the session task.
    fn on_vad(&mut self, events: Vec<VadEvent>, now: Instant) {
        let mut events = events.into_iter();
        while let Some(event) = events.next() {
            match event {
                VadEvent::SpeechStarted { at_ms } => {
                    self.notes
                        .push(Note::new("vad", format!("speech started at {at_ms} ms")));
                    self.interrupt(now);
                }
                VadEvent::SpeechStopped { at_ms } => {
                    let rest: Vec<VadEvent> = events.collect();
                    self.set_aside.push(now, move |me: &mut GeminiResponder| {
                        me.notes
                            .push(Note::new("vad", format!("speech stopped at {at_ms} ms")));
                        me.end_user_turn(now);
                        if !rest.is_empty() {
                            me.on_vad(rest, now);
                        }
                    });
                    return;
                }
            }
        }
    }

    /// User activity during an answer: `interrupted`, then `turnComplete`.
    fn interrupt(&mut self, now: Instant) {
        if !self.interrupts {
            return;
        }
        let Some(tag) = self.responding.take() else {
            return;
        };
        let withdrawn = self.timeline.withdraw(&tag);
        self.notes.push(Note::new(
            "barge_in",
            format!("turn {tag} interrupted; {withdrawn} frames withdrawn"),
        ));
        self.cancel_blocking_calls(now);
        self.send(now, json!({"serverContent": {"interrupted": true}}), None);
        let done = self.turn_complete(None);
        self.send(now, done, None);
        self.turn += 1;
    }

    /// New input cancels the pending blocking calls. Models that auto-cancel
    /// (3.8) drop them from the context and send `toolCallCancellation` only
    /// when the settings say so; the others always send it.
    fn cancel_blocking_calls(&mut self, now: Instant) {
        let cancelled = self.pending.cancel_blocking();
        if cancelled.is_empty() {
            return;
        }
        if self.row.blocking_auto_cancel {
            self.conversation.retain(|item| {
                !(item.kind == "function_call"
                    && item
                        .call_id
                        .as_ref()
                        .is_some_and(|id| cancelled.contains(id)))
            });
            self.notes.push(Note::new(
                "tool_call",
                format!("new input cancelled blocking call(s) {cancelled:?}"),
            ));
        }
        if !self.row.blocking_auto_cancel || self.config.gemini.blocking_cancel_frame {
            self.send(
                now,
                json!({"toolCallCancellation": {"ids": cancelled}}),
                None,
            );
        }
    }

    /// `serverContent.turnComplete` (with a sibling `usageMetadata` when
    /// given); on models that report it, with `interactionStatus`:
    /// `IN_PROGRESS` while a call is outstanding or an answer is waiting,
    /// else `IDLE` (never `IDLE` early: the SDK's `receive()` stops there).
    fn turn_complete(&self, usage: Option<Value>) -> Value {
        let mut content = json!({"turnComplete": true});
        if self.row.emits_interaction_status {
            let busy = self.pending.outstanding() || !self.deferred.is_empty();
            content["interactionStatus"] = json!(if busy { "IN_PROGRESS" } else { "IDLE" });
        }
        match usage {
            Some(usage) => json!({"serverContent": content, "usageMetadata": usage}),
            None => json!({"serverContent": content}),
        }
    }

    /// Whether the user is speaking (server VAD or a manual activity).
    fn user_speaking(&self) -> bool {
        self.in_activity || self.vad.as_ref().is_some_and(EnergyVad::is_speaking)
    }

    /// Starts a new turn that says `text`.
    fn say(&mut self, text: String, now: Instant) {
        let tag: Arc<str> = Arc::from(format!("turn_{}", self.turn).as_str());
        self.responding = Some(Arc::clone(&tag));
        let start = now + self.delay(self.config.first_audio_ms as f64);
        self.speak(&tag, start, text);
    }

    /// Cuts the model's output for an `INTERRUPT` result: what was not sent
    /// is withdrawn, then `interrupted` (a setting) and `turnComplete`.
    fn cut(&mut self, now: Instant) {
        let Some(tag) = self.responding.take() else {
            return;
        };
        let withdrawn = self.timeline.withdraw(&tag);
        self.turn_done_at = None;
        self.notes.push(Note::new(
            "tool_result",
            format!("an INTERRUPT result cut turn {tag}; {withdrawn} frames withdrawn"),
        ));
        if self.config.gemini.interrupt_sends_interrupted {
            self.send(now, json!({"serverContent": {"interrupted": true}}), None);
        }
        // The result's answer follows at once: the interaction goes on.
        let mut done = self.turn_complete(None);
        if self.row.emits_interaction_status {
            done["serverContent"]["interactionStatus"] = json!("IN_PROGRESS");
        }
        self.send(now, done, None);
        self.turn += 1;
    }

    /// One function response: ignored when its call was cancelled; a
    /// blocking call's resumes the paused turn once every blocking call is
    /// answered; a non-blocking call's is voiced as its `scheduling` says.
    fn on_function_response(&mut self, result: &FunctionResponse, now: Instant) {
        let id = result.id.clone().unwrap_or_default();
        if self.pending.was_cancelled(&id) {
            self.notes.push(Note::new(
                "tool_result",
                format!("late response to cancelled call {id} ignored"),
            ));
            return;
        }
        let scheduling = match result.scheduling.as_deref() {
            None => None,
            Some(value) => match Scheduling::from_wire(value) {
                Some(scheduling) => Some(scheduling),
                None => return self.close(now, INVALID_ARGUMENT.0, INVALID_ARGUMENT.1),
            },
        };
        if scheduling.is_some()
            && self.row.scheduling
            && !self.row.sends_scheduling
            && self.config.gemini.reject_scheduling_where_stripped
        {
            return self.close(
                now,
                INVALID_ARGUMENT.0,
                setup_rules::SCHEDULING_NOT_SUPPORTED,
            );
        }
        self.conversation.push(Item {
            kind: "function_call_output".into(),
            call_id: result.id.clone(),
            output: result.response.as_ref().map(Value::to_string),
            ..Default::default()
        });
        let more = result.will_continue == Some(true) && self.row.will_continue;
        let call = if more {
            self.pending.get(&id).cloned()
        } else {
            self.pending.take(&id)
        };
        // A response to no pending call stays in the context, unanswered.
        let Some(call) = call else {
            return;
        };
        if call.behavior == ToolBehavior::Blocking {
            if !self.pending.blocking_pending() {
                self.resume_paused_turn(now);
            }
            return;
        }
        let scheduling = scheduling
            .filter(|_| self.row.scheduling)
            .unwrap_or(Scheduling::WhenIdle);
        self.deliver(scheduling, now);
    }

    /// The paused turn continues with the answer to the blocking call(s).
    fn resume_paused_turn(&mut self, now: Instant) {
        let tag = self
            .responding
            .clone()
            .unwrap_or_else(|| Arc::from(format!("turn_{}", self.turn).as_str()));
        self.responding = Some(Arc::clone(&tag));
        let reply = decide(
            &self.conversation,
            &self.tools,
            self.instructions.as_deref(),
            |_| 0.0,
        );
        if let Reply::Speak(text) = reply {
            let start = now + self.delay(self.config.first_audio_ms as f64);
            self.speak(&tag, start, text);
        }
    }

    /// A non-blocking call's result, voiced per `scheduling`.
    fn deliver(&mut self, scheduling: Scheduling, now: Instant) {
        let text = match decide(
            &self.conversation,
            &self.tools,
            self.instructions.as_deref(),
            |_| 0.0,
        ) {
            Reply::Speak(text) => text,
            Reply::Call { .. } => return,
        };
        match scheduling {
            Scheduling::Silent => {
                self.notes.push(Note::new(
                    "tool_result",
                    "SILENT result added to the context",
                ));
                let idle = self.responding.is_none() && self.deferred.is_empty();
                if self.row.emits_interaction_status && idle && !self.pending.outstanding() {
                    // The work is over: the interaction is idle again.
                    let done = self.turn_complete(None);
                    self.send(now, done, None);
                }
            }
            Scheduling::WhenIdle => {
                if self.responding.is_some() || self.user_speaking() {
                    self.deferred.push_back(Deferred::Say(text));
                } else {
                    self.say(text, now);
                }
            }
            Scheduling::Interrupt => {
                if self.user_speaking() && self.row.interrupt_waits_for_user {
                    self.notes.push(Note::new(
                        "tool_result",
                        "INTERRUPT result waits for the user to finish speaking",
                    ));
                    self.after_user = Some(text);
                } else {
                    self.cut(now);
                    self.say(text, now);
                }
            }
        }
    }

    /// When the model has gone idle: the next deferred answer, if any.
    fn idle_work(&mut self, now: Instant) {
        if self.responding.is_some() || self.user_speaking() || self.closed {
            return;
        }
        match self.deferred.pop_front() {
            Some(Deferred::Say(text)) => self.say(text, now),
            Some(Deferred::Respond) => self.respond(now),
            None => {}
        }
    }

    /// `clientContent` while history is being seeded: the turns join the
    /// conversation with their roles, nothing is generated.
    fn seed(&mut self, content: &understudy_adapters::gemini::wire::ClientContent) {
        for turn in content.turns.iter().flatten() {
            let text: String = turn
                .parts
                .iter()
                .flatten()
                .filter_map(|p| p.text.clone())
                .collect::<Vec<_>>()
                .join(" ");
            let model = turn.role.as_deref() == Some("model");
            self.conversation.push(Item {
                id: Some(format!("seed_{}", self.conversation.len())),
                kind: "message".into(),
                role: Some(if model { "assistant" } else { "user" }.into()),
                content: Some(vec![ContentPart {
                    kind: if model { "output_text" } else { "input_text" }.into(),
                    text: Some(text),
                    ..Default::default()
                }]),
                ..Default::default()
            });
        }
        if content.turn_complete == Some(true) {
            self.seeding = false;
            self.notes.push(Note::new(
                "history",
                format!("seeded {} items", self.conversation.len()),
            ));
        }
    }

    fn end_user_turn(&mut self, now: Instant) {
        let audio = std::mem::take(&mut self.buffer);
        let ms = pcm16_duration_ms(audio.len(), self.input_rate);
        self.config.before_recognition();
        let heard = KnownSpeech::bundled().transcribe(&audio, self.input_rate);
        let mut parts: Vec<ContentPart> = std::iter::repeat_with(|| ContentPart {
            kind: "input_image".into(),
            ..Default::default()
        })
        .take(std::mem::take(&mut self.pending_images))
        .collect();
        parts.push(ContentPart {
            kind: "input_audio".into(),
            transcript: Some(heard.map(str::to_owned)),
            ..Default::default()
        });
        self.conversation.push(Item {
            id: Some(format!("user_{}", self.conversation.len())),
            kind: "message".into(),
            role: Some("user".into()),
            content: Some(parts),
            ..Default::default()
        });
        let mut at = now;
        match heard {
            Some(text) if self.transcribe_input => {
                let text = bias(text, &self.vocabulary);
                for chunk in text.split_inclusive(' ').collect::<Vec<_>>().chunks(3) {
                    self.send(
                        at,
                        json!({"serverContent": {"inputTranscription": {"text": chunk.concat()}}}),
                        None,
                    );
                    at += self.delay(20.0);
                }
            }
            Some(_) => {}
            None => self.notes.push(Note::new(
                "speech",
                format!("{ms:.0} ms of audio that is not a bundled utterance; answered by length"),
            )),
        }
        self.audio_ms.insert(self.conversation.len() - 1, ms);
        match self.after_user.take() {
            // 3.8: the INTERRUPT result that waited goes first, then the answer.
            Some(text) => {
                self.deferred.push_front(Deferred::Respond);
                self.say(text, at);
            }
            None => self.respond(at),
        }
    }

    fn user_text(&mut self, text: &str, now: Instant, respond: bool) {
        self.interrupt(now);
        self.conversation.push(Item {
            id: Some(format!("user_{}", self.conversation.len())),
            kind: "message".into(),
            role: Some("user".into()),
            content: Some(vec![ContentPart {
                kind: "input_text".into(),
                text: Some(text.to_owned()),
                ..Default::default()
            }]),
            ..Default::default()
        });
        if respond {
            self.respond(now);
        }
    }

    fn respond(&mut self, now: Instant) {
        let reply = {
            let lengths = &self.audio_ms;
            let conversation = &self.conversation;
            let instructions = self.instructions.as_deref();
            decide(conversation, &self.tools, instructions, |item| {
                conversation
                    .iter()
                    .position(|i| std::ptr::eq(i, item))
                    .and_then(|i| lengths.get(&i))
                    .copied()
                    .unwrap_or(0.0)
            })
        };
        let tag: Arc<str> = Arc::from(format!("turn_{}", self.turn).as_str());
        self.responding = Some(Arc::clone(&tag));
        let start = now + self.delay(self.config.first_audio_ms as f64);
        match reply {
            Reply::Call { name, arguments } => {
                self.calls += 1;
                let id = format!("function-call-{}-{}", self.session, self.calls);
                let behavior = self
                    .behaviors
                    .get(&name)
                    .copied()
                    .unwrap_or(self.row.tool_behavior_default);
                let call = PendingCall {
                    id: id.clone(),
                    name: name.clone(),
                    behavior,
                };
                if !self.pending.add(call) {
                    let busy = "I am still working on several things; ask me again later.";
                    return self.speak(&tag, start, busy.to_owned());
                }
                let args: Value = serde_json::from_str(&arguments).unwrap_or_else(|_| json!({}));
                self.conversation.push(Item {
                    kind: "function_call".into(),
                    call_id: Some(id.clone()),
                    name: Some(name.clone()),
                    arguments: Some(arguments),
                    ..Default::default()
                });
                self.send(start, json!({"toolCall": {"functionCalls": [{"id": id, "name": name, "args": args}]}}), Some(&tag));
                if behavior == ToolBehavior::NonBlocking {
                    // The model keeps talking while the call runs, and ends its turn.
                    let filler_at = start + self.delay(20.0);
                    self.speak(&tag, filler_at, FILLER.to_owned());
                }
            }
            Reply::Speak(text) => self.speak(&tag, start, text),
        }
    }

    fn speak(&mut self, tag: &Arc<str>, start: Instant, text: String) {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        let mut at = start;
        if self.include_thoughts {
            self.send(at, json!({"serverContent": {"modelTurn": {"role": "model", "parts": [{"text": THOUGHT, "thought": true}]}}}), Some(tag));
        }
        let combined = self.row.multi_part_server_messages;
        if self.audio_out {
            let pcm = crate::voice::speak(
                &self.config.voice,
                &text,
                RATE,
                crate::responder_config::ANSWER_MS,
            );
            let chunk = (RATE as u64 * self.config.chunk_ms / 1000) as usize;
            let chunks = pcm.len().div_ceil(chunk.max(1)).max(1);
            for i in 0..chunks {
                let end = ((i + 1) * chunk).min(pcm.len());
                let bytes: Vec<u8> = pcm[i * chunk..end]
                    .iter()
                    .flat_map(|s| s.to_le_bytes())
                    .collect();
                let data =
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
                let said: String = words
                    .iter()
                    .enumerate()
                    .filter(|(w, _)| w * chunks / words.len().max(1) == i)
                    .map(|(_, w)| *w)
                    .collect();
                let audio = json!({"role": "model", "parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": data}}]});
                if combined && self.transcribe_output && !said.is_empty() {
                    // 3.x: one message may carry the audio and its transcript.
                    self.send(at, json!({"serverContent": {"modelTurn": audio, "outputTranscription": {"text": said}}}), Some(tag));
                    at += self.delay(self.config.chunk_ms as f64 * self.config.pace);
                    continue;
                }
                self.send(
                    at,
                    json!({"serverContent": {"modelTurn": audio}}),
                    Some(tag),
                );
                if self.transcribe_output && !said.is_empty() {
                    self.send(
                        at,
                        json!({"serverContent": {"outputTranscription": {"text": said}}}),
                        Some(tag),
                    );
                }
                at += self.delay(self.config.chunk_ms as f64 * self.config.pace);
            }
        } else {
            for word in &words {
                self.send(at, json!({"serverContent": {"modelTurn": {"role": "model", "parts": [{"text": word}]}}}), Some(tag));
                at += self.delay(40.0 * self.config.pace);
            }
        }
        self.send(
            at,
            json!({"serverContent": {"generationComplete": true}}),
            Some(tag),
        );
        let output_words = words.len() as u64;
        let usage = json!({"promptTokenCount": 20 + self.conversation.len() as u64 * 8, "responseTokenCount": output_words * 4,
                           "totalTokenCount": 20 + self.conversation.len() as u64 * 8 + output_words * 4,
                           "responseTokensDetails": [{"modality": if self.audio_out { "AUDIO" } else { "TEXT" }, "tokenCount": output_words * 4}]});
        let done = self.turn_complete(Some(usage));
        self.send(at, done, Some(tag));
        self.conversation.push(Item {
            kind: "message".into(),
            role: Some("assistant".into()),
            content: Some(vec![ContentPart {
                kind: "output_audio".into(),
                transcript: Some(Some(text)),
                ..Default::default()
            }]),
            ..Default::default()
        });
        self.turn_done_at = Some(at);
    }
}

impl GeminiResponder {
    /// How long this connection lives: the shorter of the connection limit
    /// and the responder's session limit, when either is set.
    fn lifetime(&self) -> Option<Duration> {
        match (self.settings.connection_limit, self.config.session_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn finish_turn_if_done(&mut self, now: Instant) {
        if self.turn_done_at.is_some_and(|at| at <= now) {
            self.turn_done_at = None;
            self.responding = None;
            self.turn += 1;
            self.resumption_update(now);
            self.idle_work(now);
        }
    }
}

impl SessionEngine<ClientMessage> for GeminiResponder {
    fn label(&self) -> String {
        "respond".into()
    }

    fn on_connect(&mut self, now: Instant) {
        if let Some(limit) = self.lifetime() {
            let warning = limit
                .min(Duration::from_secs(10))
                .div_f64(2.0)
                .max(Duration::from_millis(100))
                .min(limit);
            let time_left = format!("{}s", warning.as_secs_f64());
            self.send(
                now + (limit - warning),
                json!({"goAway": {"timeLeft": time_left}}),
                None,
            );
            self.timeline.push(
                now + limit,
                Outgoing::Close {
                    code: super::LIFETIME_CLOSE.0,
                    reason: super::LIFETIME_CLOSE.1.into(),
                },
            );
        }
    }

    fn on_client_event(&mut self, message: &ClientMessage, _summary: &FrameSummary, now: Instant) {
        self.settle();
        if self.closed {
            return;
        }
        if !self.set_up {
            match &message.setup {
                Some(setup) => self.on_setup(setup, now),
                None => self.close(now, INVALID_ARGUMENT.0, INVALID_ARGUMENT.1),
            }
            return;
        }
        if message.setup.is_some() {
            return self.close(now, INVALID_ARGUMENT.0, INVALID_ARGUMENT.1);
        }
        if let Some(content) = message.client_content.as_ref().filter(|_| self.seeding) {
            self.seed(content);
        } else if let Some(content) = &message.client_content {
            let text: String = content
                .turns
                .iter()
                .flatten()
                .flat_map(|t| t.parts.iter().flatten())
                .filter_map(|p| p.text.clone())
                .collect::<Vec<_>>()
                .join(" ");
            self.user_text(&text, now, content.turn_complete == Some(true));
        }
        if let Some(response) = &message.tool_response {
            for result in response.function_responses.iter().flatten() {
                self.on_function_response(result, now);
                if self.closed {
                    return;
                }
            }
        }
        if let Some(update) = &message.context_update {
            if let Some(instructions) = &update.system_instruction {
                self.set_instructions(instructions);
            }
            if let Some(tools) = &update.tools {
                self.set_tools(tools.tools.iter().flatten());
                self.notes.push(Note::new(
                    "context_update",
                    format!("{} functions declared", self.tools.len()),
                ));
            }
        }
        if let Some(input) = &message.realtime_input {
            self.seeding = false;
            if let Some(blob) = &input.audio {
                let mime = blob.mime_type.clone().unwrap_or_default();
                self.on_audio(blob.data.as_deref().unwrap_or(""), &mime, now);
            }
            for blob in input.media_chunks.iter().flatten() {
                // Only the last part of a message may be set aside: what
                // follows a turn's end must come after it.
                self.settle();
                let mime = blob.mime_type.clone().unwrap_or_default();
                if mime.starts_with("audio/") {
                    self.on_audio(blob.data.as_deref().unwrap_or(""), &mime, now);
                } else {
                    self.pending_images += 1;
                }
            }
            let more = input.video.is_some()
                || input.text.is_some()
                || input.activity_start.is_some()
                || input.activity_end.is_some()
                || input.audio_stream_end == Some(true);
            if more {
                self.settle();
            }
            if input.video.is_some() {
                self.pending_images += 1;
            }
            if let Some(text) = &input.text {
                self.user_text(text, now, true);
            }
            if input.activity_start.is_some() {
                self.in_activity = true;
                self.interrupt(now);
                self.buffer.clear();
            }
            if input.activity_end.is_some() {
                self.in_activity = false;
                self.set_aside
                    .push(now, move |me: &mut GeminiResponder| me.end_user_turn(now));
                if input.audio_stream_end == Some(true) {
                    self.settle();
                }
            }
            if input.audio_stream_end == Some(true)
                && self.vad.as_ref().is_some_and(EnergyVad::is_speaking)
            {
                if let Some(vad) = self.vad.as_mut() {
                    vad.reset();
                }
                self.set_aside
                    .push(now, move |me: &mut GeminiResponder| me.end_user_turn(now));
            }
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        self.settle();
        let due = self.timeline.pop_due(now);
        self.finish_turn_if_done(now);
        due
    }

    fn next_deadline(&self) -> Option<Instant> {
        // Work set aside is due at once: popping runs it.
        [self.set_aside.at(), self.timeline.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn take_notes(&mut self) -> Vec<Note> {
        self.settle();
        std::mem::take(&mut self.notes)
    }

    fn has_deferred(&self) -> bool {
        self.set_aside.is_pending()
    }

    fn run_deferred(&mut self) {
        self.settle();
    }
}

/// `text` with each `customVocabulary` entry spelled as given wherever it
/// occurs as a whole word in another case ("domain biasing").
fn bias(text: &str, vocabulary: &[String]) -> String {
    text.split_inclusive(' ')
        .map(|word| {
            let bare = word.trim_end_matches(|c: char| !c.is_alphanumeric());
            let tail = &word[bare.len()..];
            vocabulary
                .iter()
                .find(|v| v.eq_ignore_ascii_case(bare))
                .map_or_else(|| word.to_owned(), |v| format!("{v}{tail}"))
        })
        .collect()
}

#[cfg(test)]
#[path = "respond_tests.rs"]
mod tests;
