//! The respond engine: a protocol-faithful OpenAI Realtime server that answers
//! any conversation without a cassette.
//!
//! It keeps the session, the conversation and the input buffer; runs an energy
//! VAD over appended audio when turn detection is on; answers with words from
//! [`reply::decide`](super::reply::decide) spoken in the bundled voice; calls
//! tools when the rule says so; and cancels on barge-in or `response.cancel`,
//! reporting exactly the audio and transcript that had already gone out. Event
//! orders follow §7 of the protocol notes, in the GA or beta dialect.

use super::plan::ResponsePlan;
use super::reply::{decide, Reply};
use crate::dashscope::DashScopeExpiry;
use crate::engine::{Note, SessionEngine};
use crate::protocol::FrameSummary;
use crate::speech::KnownSpeech;
use crate::timeline::{Outgoing, Timeline};
use crate::vad::{EnergyVad, VadConfig, VadEvent};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::audio::{pcm16_duration_ms, Pcm};
use understudy_adapters::openai::wire::client::ResponseCreate;
use understudy_adapters::openai::wire::objects::{
    AudioFormatSpec, AudioInput, AudioOutput, ContentPart, ErrorDetail, Item, Response, Session,
    SessionAudio, StatusDetails, TokenDetails, Tool, TurnDetection, Usage,
};
use understudy_adapters::openai::wire::server::{
    BufferCommitted, ContentDelta, ContentPartEvent, ContentRef, ErrorEvent,
    FunctionCallArgumentsDelta, FunctionCallArgumentsDone, InputTranscriptionCompleted, ItemEvent,
    ItemRef, ItemTruncated, Opaque, OutputItemEvent, ResponseEvent, SessionEvent, SpeechStarted,
    SpeechStopped, TextDone, TranscriptDone,
};
use understudy_adapters::openai::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai::Dialect;

/// The output PCM rate (both OpenAI dialects and DashScope answer at 24 kHz).
const RATE: u32 = 24_000;
/// Shortest buffer a commit accepts.
const MIN_COMMIT_MS: f64 = 100.0;

/// How the responder paces and voices its answers.
#[derive(Debug, Clone)]
pub struct ResponderConfig {
    /// Delay between `response.created` and the first audio delta (model "thinking").
    pub first_audio_ms: u64,
    /// Audio carried by each delta, in milliseconds.
    pub chunk_ms: u64,
    /// Wall-clock milliseconds per millisecond of audio streamed (0.5 = twice real time).
    pub pace: f64,
    /// Divides every delay (2.0 = everything twice as fast).
    pub speed: f64,
    /// The voice every answer is spoken in: PCM16 mono at 24 kHz.
    pub voice: Arc<[i16]>,
    /// End sessions after this long, each dialect its own way: OpenAI an
    /// `error` `session_expired` then close 1001 (and `session.expires_at` says
    /// when); DashScope as [`dashscope_expiry`](Self::dashscope_expiry) says;
    /// Gemini `goAway {timeLeft}` then close, like a connection limit (the
    /// shorter of the two wins).
    pub session_limit: Option<Duration>,
    /// How a DashScope session ends at [`session_limit`](Self::session_limit)
    /// (the service's exact way is unconfirmed).
    pub dashscope_expiry: DashScopeExpiry,
    /// Qwen-TTS realtime, `server_commit` mode: how long the mock waits after
    /// a sentence end before it cuts and speaks the buffer (divided by
    /// `speed`). A commit within it takes the whole buffer as one response,
    /// acknowledged before the response starts, as in the captured flow. The
    /// service's segmentation is undocumented (*unconfirmed*); the default,
    /// zero, speaks each sentence as soon as it is complete (lowest first
    /// audio), and a commit that finds it all spoken is still acknowledged.
    pub tts_holdback: Duration,
}

impl ResponderConfig {
    /// Defaults (180 ms to first audio, 100 ms chunks streamed at twice real
    /// time) with the given voice.
    pub fn with_voice(voice: Arc<[i16]>) -> Self {
        ResponderConfig {
            first_audio_ms: 180,
            chunk_ms: 100,
            pace: 0.5,
            speed: 1.0,
            voice,
            session_limit: None,
            dashscope_expiry: DashScopeExpiry::default(),
            tts_holdback: Duration::ZERO,
        }
    }
}

/// Shortest and longest spoken answer, in milliseconds.
pub(crate) const ANSWER_MS: (u64, u64) = (1000, 6000);

/// What an in-progress response is producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Audio,
    Text,
    Call,
}

/// How a response that ran to its end finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Said everything.
    Completed,
    /// Stopped at the response's `max_output_tokens`.
    MaxOutputTokens,
}

impl Ending {
    /// The response's status and `status_details.reason`.
    fn status(self) -> (&'static str, Option<&'static str>) {
        match self {
            Ending::Completed => ("completed", None),
            Ending::MaxOutputTokens => ("incomplete", Some("max_output_tokens")),
        }
    }

    /// The output item's status.
    fn item_status(self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::MaxOutputTokens => "incomplete",
        }
    }
}

/// The response being generated, with the schedule needed to know what went out.
#[derive(Debug)]
struct Active {
    id: String,
    item_id: String,
    output: Output,
    /// Deadline of each audio (or text) chunk, and the transcript words it carries.
    chunks: Vec<(Instant, String)>,
    item_announced_at: Instant,
    done_at: Instant,
    /// The output item as it will be when complete (out-of-band responses
    /// keep it only here, not in the conversation).
    item: Item,
}

/// Deterministic id source (`item_…`, `resp_…`).
#[derive(Debug)]
struct Ids {
    state: u64,
}

impl Ids {
    fn new(seed: u64) -> Self {
        Ids {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    fn next(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(prefix.len() + 17);
        out.push_str(prefix);
        out.push('_');
        for _ in 0..16 {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            out.push(ALPHABET[(self.state % ALPHABET.len() as u64) as usize] as char);
        }
        out
    }
}

/// The respond engine for one session.
pub struct Responder {
    dialect: Dialect,
    config: ResponderConfig,
    ids: Ids,
    session: Session,
    conversation: Vec<Item>,
    item_audio_ms: HashMap<String, f64>,
    buffer: Vec<u8>,
    /// Rate of the audio the client appends (24 kHz OpenAI, 16 kHz DashScope).
    input_rate: u32,
    /// Image frames received since the last commit; they join the next user item.
    pending_images: usize,
    /// Runs over all appended audio so its clock counts from the session start;
    /// its events only matter while turn detection is on.
    vad: EnergyVad,
    speech_item: Option<String>,
    active: Option<Active>,
    /// The settings of the latest response (its `response.create` overrides
    /// over the session's).
    plan: ResponsePlan,
    last_pop: Option<Instant>,
    timeline: Timeline,
    notes: Vec<Note>,
}

impl Responder {
    /// A responder for a new session of `model` in `dialect`; `seed` makes its ids unique.
    pub fn new(dialect: Dialect, model: &str, config: ResponderConfig, seed: u64) -> Self {
        let mut ids = Ids::new(seed);
        let mut session = default_session(dialect, model, &mut ids);
        if let Some(limit) = config.session_limit {
            session.expires_at = Some(expires_at(limit));
        }
        let plan = ResponsePlan::new(dialect, &session, None);
        let mut responder = Responder {
            dialect,
            config,
            ids,
            session,
            conversation: Vec::new(),
            item_audio_ms: HashMap::new(),
            buffer: Vec::new(),
            input_rate: RATE,
            pending_images: 0,
            vad: EnergyVad::new(VadConfig::default(), RATE),
            speech_item: None,
            active: None,
            plan,
            last_pop: None,
            timeline: Timeline::new(),
            notes: Vec::new(),
        };
        responder.configure_vad();
        responder
    }

    /// Takes input audio at `rate` instead of 24 kHz (DashScope: 16 kHz).
    pub fn with_input_rate(mut self, rate: u32) -> Self {
        self.input_rate = rate;
        self.vad = EnergyVad::new(VadConfig::default(), rate);
        self.configure_vad();
        self
    }

    /// Applies session settings without answering (a dialect's own defaults).
    pub fn configure(&mut self, update: &Session) {
        merge_session(&mut self.session, update);
        self.configure_vad();
    }

    /// The effective session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// An image frame arrived: it joins the next committed user item.
    pub fn attach_image(&mut self) {
        self.pending_images += 1;
    }

    /// When everything scheduled so far will have gone out.
    pub fn quiet_at(&self) -> Option<Instant> {
        self.timeline.last_deadline()
    }

    fn delay(&self, ms: f64) -> Duration {
        Duration::from_secs_f64((ms.max(0.0) / 1000.0) / self.config.speed.max(1e-6))
    }

    fn emit(&mut self, at: Instant, event: ServerEvent, tag: Option<&Arc<str>>) {
        let frame = Outgoing::with_event_id(event.event_type(), &event, self.ids.next("event"));
        self.timeline.push_tagged(at, frame, tag.cloned());
    }

    /// The error for a client event naming an item the conversation does not have.
    fn item_not_found(&mut self, now: Instant, item_id: &str, event_id: Option<&str>) {
        self.error(
            now,
            "invalid_value",
            format!("Item with item_id '{item_id}' not found."),
            Some("item_id"),
            event_id,
        );
    }

    fn error(
        &mut self,
        now: Instant,
        code: &str,
        message: String,
        param: Option<&str>,
        event_id: Option<&str>,
    ) {
        let event = ServerEvent::Error(ErrorEvent {
            error: ErrorDetail {
                kind: "invalid_request_error".into(),
                code: Some(Some(code.into())),
                message,
                param: Some(param.map(str::to_owned)),
                event_id: Some(event_id.map(str::to_owned)),
                ..Default::default()
            },
            ..Default::default()
        });
        self.emit(now, event, None);
    }

    // ---- session ---------------------------------------------------------------

    fn turn_detection(&self) -> Option<TurnDetection> {
        let setting = match self.dialect {
            Dialect::Ga => self
                .session
                .audio
                .as_ref()
                .and_then(|a| a.input.as_ref())
                .and_then(|i| i.turn_detection.clone()),
            Dialect::Beta => self.session.turn_detection.clone(),
        };
        setting.flatten()
    }

    fn configure_vad(&mut self) {
        if let Some(td) = self.turn_detection() {
            self.vad.reconfigure(VadConfig::from_provider_threshold(
                td.threshold.unwrap_or(0.5),
                u64::from(td.silence_duration_ms.unwrap_or(500)),
            ));
        }
    }

    fn on_session_update(&mut self, update: &Session, now: Instant) {
        merge_session(&mut self.session, update);
        self.configure_vad();
        let event = ServerEvent::SessionUpdated(SessionEvent {
            session: Box::new(self.session.clone()),
            ..Default::default()
        });
        self.emit(now, event, None);
    }

    // ---- input -----------------------------------------------------------------

    fn on_append(&mut self, audio: &str, now: Instant) {
        let Ok(pcm) = Pcm::from_base64(audio) else {
            return; // validated by the transport; unreachable in practice
        };
        self.buffer.extend_from_slice(&pcm.0);
        let samples: Vec<i16> = pcm.samples().collect();
        let events = self.vad.push(&samples);
        let Some(td) = self.turn_detection() else {
            return; // manual turns: the client commits
        };
        for event in events {
            match event {
                VadEvent::SpeechStarted { at_ms } => {
                    let item_id = self.ids.next("item");
                    self.speech_item = Some(item_id.clone());
                    self.notes
                        .push(Note::new("vad", format!("speech started at {at_ms} ms")));
                    let started = ServerEvent::SpeechStarted(SpeechStarted {
                        audio_start_ms: at_ms,
                        item_id,
                        ..Default::default()
                    });
                    self.emit(now, started, None);
                    if td.interrupt_response.unwrap_or(true) && self.active.is_some() {
                        self.notes
                            .push(Note::new("barge_in", "user speech cancels the response"));
                        self.cancel(now, "turn_detected");
                    }
                }
                VadEvent::SpeechStopped { at_ms } => {
                    let item_id = self
                        .speech_item
                        .take()
                        .unwrap_or_else(|| self.ids.next("item"));
                    self.notes
                        .push(Note::new("vad", format!("speech stopped at {at_ms} ms")));
                    let stopped = ServerEvent::SpeechStopped(SpeechStopped {
                        audio_end_ms: at_ms,
                        item_id: item_id.clone(),
                        ..Default::default()
                    });
                    self.emit(now, stopped, None);
                    self.commit(item_id, now);
                    if td.create_response.unwrap_or(true) {
                        if self.active.is_some() {
                            self.notes.push(Note::new(
                                "vad",
                                "turn ended while a response is active; no new response",
                            ));
                        } else {
                            self.start_response(now, None);
                        }
                    }
                }
            }
        }
    }

    fn commit(&mut self, item_id: String, now: Instant) {
        let audio = std::mem::take(&mut self.buffer);
        let ms = pcm16_duration_ms(audio.len(), self.input_rate);
        let heard = KnownSpeech::bundled().transcribe(&audio, self.input_rate);
        self.item_audio_ms.insert(item_id.clone(), ms);
        let previous = self.conversation.last().and_then(|i| i.id.clone());
        let committed = ServerEvent::InputAudioBufferCommitted(BufferCommitted {
            previous_item_id: Some(previous.clone()),
            item_id: item_id.clone(),
            ..Default::default()
        });
        self.emit(now, committed, None);
        let item = Item {
            id: Some(item_id.clone()),
            object: Some("realtime.item".into()),
            kind: "message".into(),
            role: Some("user".into()),
            status: Some("completed".into()),
            content: Some(
                std::iter::repeat_with(|| ContentPart {
                    kind: "input_image".into(),
                    ..Default::default()
                })
                .take(std::mem::take(&mut self.pending_images))
                .chain(std::iter::once(ContentPart {
                    kind: "input_audio".into(),
                    transcript: Some(None),
                    ..Default::default()
                }))
                .collect(),
            ),
            ..Default::default()
        };
        self.add_item(item, previous, now);
        self.transcribe(&item_id, heard, ms, now);
    }

    /// Emits the input transcription of a committed item (when the session
    /// asks for one) and records what was said for the reply rule.
    fn transcribe(&mut self, item_id: &str, heard: Option<&'static str>, ms: f64, now: Instant) {
        let Some(transcript) = heard else {
            self.notes.push(Note::new(
                "speech",
                format!("{ms:.0} ms of audio that is not a bundled utterance; answered by length"),
            ));
            return;
        };
        self.notes
            .push(Note::new("speech", format!("recognised: {transcript:?}")));
        if let Some(item) = self
            .conversation
            .iter_mut()
            .find(|i| i.id.as_deref() == Some(item_id))
        {
            for part in item
                .content
                .iter_mut()
                .flatten()
                .filter(|p| p.kind == "input_audio")
            {
                part.transcript = Some(Some(transcript.to_owned()));
            }
        }
        let enabled = match self.dialect {
            Dialect::Ga => self
                .session
                .audio
                .as_ref()
                .and_then(|a| a.input.as_ref())
                .is_some_and(|i| matches!(i.transcription, Some(Some(_)))),
            Dialect::Beta => matches!(self.session.input_audio_transcription, Some(Some(_))),
        };
        if enabled {
            let event = ServerEvent::InputTranscriptionCompleted(InputTranscriptionCompleted {
                item_id: item_id.to_owned(),
                content_index: 0,
                transcript: transcript.to_owned(),
                usage: Some(
                    json!({"type": "duration", "seconds": (ms / 1000.0 * 10.0).round() / 10.0}),
                ),
                ..Default::default()
            });
            self.emit(now + self.delay(50.0), event, None);
        }
    }

    /// Appends an item and acknowledges it in the dialect's way.
    fn add_item(&mut self, item: Item, previous: Option<String>, now: Instant) {
        self.conversation.push(item.clone());
        let event = |item: Item| ItemEvent {
            previous_item_id: Some(previous.clone()),
            item,
            ..Default::default()
        };
        let ack = ServerEvent::item_added(self.dialect, event(item.clone()));
        self.emit(now, ack, None);
        if self.dialect == Dialect::Ga {
            self.emit(now, ServerEvent::ConversationItemDone(event(item)), None);
        }
    }

    fn on_item_create(&mut self, mut item: Item, now: Instant) {
        if item.id.is_none() {
            item.id = Some(self.ids.next("item"));
        }
        item.object = Some("realtime.item".into());
        if item.status.is_none() {
            item.status = Some("completed".into());
        }
        let previous = self.conversation.last().and_then(|i| i.id.clone());
        self.add_item(item, previous, now);
    }

    // ---- responses -------------------------------------------------------------

    /// The tools a response may call: its own, else the session's; none under
    /// `tool_choice: "none"` (its own, else the session's).
    fn tools(&self, overrides: Option<&ResponseCreate>) -> Vec<Tool> {
        let params = overrides.and_then(|c| c.response.as_ref());
        let choice = params
            .and_then(|r| r.tool_choice.as_ref())
            .or(self.session.tool_choice.as_ref());
        if choice.and_then(Value::as_str) == Some("none") {
            return Vec::new();
        }
        params
            .and_then(|r| r.tools.clone())
            .or_else(|| self.session.tools.clone())
            .unwrap_or_default()
    }

    /// The instructions a response runs under: its own, else the session's.
    fn instructions<'a>(&'a self, overrides: Option<&'a ResponseCreate>) -> Option<&'a str> {
        overrides
            .and_then(|c| c.response.as_ref())
            .and_then(|r| r.instructions.as_deref())
            .or(self.session.instructions.as_deref())
    }

    fn start_response(&mut self, now: Instant, overrides: Option<&ResponseCreate>) {
        self.plan = ResponsePlan::new(
            self.dialect,
            &self.session,
            overrides.and_then(|c| c.response.as_ref()),
        );
        let tools = self.tools(overrides);
        let reply = {
            let audio_ms = &self.item_audio_ms;
            let instructions = self.instructions(overrides);
            decide(&self.conversation, &tools, instructions, |item| {
                item.id
                    .as_ref()
                    .and_then(|id| audio_ms.get(id))
                    .copied()
                    .unwrap_or(0.0)
            })
        };
        let output = match (&reply, self.plan.audio) {
            (Reply::Call { .. }, _) => Output::Call,
            (Reply::Speak(_), true) => Output::Audio,
            (Reply::Speak(_), false) => Output::Text,
        };
        let response_id = self.ids.next("resp");
        let item_id = self.ids.next("item");
        let tag: Arc<str> = Arc::from(response_id.as_str());
        let created = ServerEvent::ResponseCreated(ResponseEvent {
            response: self.response_object(&response_id, "in_progress", None, vec![], false),
            ..Default::default()
        });
        self.emit(now, created, Some(&tag));
        let announce_at = now + self.delay(20.0);
        let active = match reply {
            Reply::Call { name, arguments } => {
                self.schedule_call(&tag, &item_id, announce_at, name, arguments)
            }
            Reply::Speak(text) => {
                // Under `max_output_tokens` the answer stops early and the
                // response ends incomplete, as the service reports it.
                let (text, ending) = match self.plan.word_limit(&text) {
                    Some(words) => (
                        text.split_inclusive(' ')
                            .take(words)
                            .collect::<String>()
                            .trim_end()
                            .to_owned(),
                        Ending::MaxOutputTokens,
                    ),
                    None => (text, Ending::Completed),
                };
                self.schedule_speech(&tag, &item_id, announce_at, output, text, ending)
            }
        };
        self.active = Some(active);
    }

    fn announce_item(&mut self, tag: &Arc<str>, at: Instant, item: Item) {
        let added = ServerEvent::ResponseOutputItemAdded(OutputItemEvent {
            response_id: tag.to_string(),
            output_index: 0,
            item: item.clone(),
            ..Default::default()
        });
        self.emit(at, added, Some(tag));
        if self.plan.out_of_band {
            // Not added to the conversation: no item acknowledgement.
            return;
        }
        let previous = self.conversation.last().and_then(|i| i.id.clone());
        let ack = ItemEvent {
            previous_item_id: Some(previous),
            item,
            ..Default::default()
        };
        let ack = ServerEvent::item_added(self.dialect, ack);
        self.emit(at, ack, Some(tag));
    }

    fn schedule_call(
        &mut self,
        tag: &Arc<str>,
        item_id: &str,
        at: Instant,
        name: String,
        arguments: String,
    ) -> Active {
        let call_id = self.ids.next("call");
        let mut item = Item {
            id: Some(item_id.into()),
            object: Some("realtime.item".into()),
            kind: "function_call".into(),
            status: Some("in_progress".into()),
            call_id: Some(call_id.clone()),
            name: Some(name.clone()),
            arguments: Some(String::new()),
            ..Default::default()
        };
        self.announce_item(tag, at, item.clone());
        let split = arguments
            .char_indices()
            .nth(arguments.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        let mut t = at + self.delay(self.config.first_audio_ms as f64);
        for piece in [&arguments[..split], &arguments[split..]] {
            if piece.is_empty() {
                continue;
            }
            let delta = ServerEvent::FunctionCallArgumentsDelta(FunctionCallArgumentsDelta {
                response_id: tag.to_string(),
                item_id: item_id.into(),
                output_index: 0,
                call_id: call_id.clone(),
                delta: piece.into(),
                ..Default::default()
            });
            self.emit(t, delta, Some(tag));
            t += self.delay(30.0);
        }
        let done = ServerEvent::FunctionCallArgumentsDone(FunctionCallArgumentsDone {
            response_id: tag.to_string(),
            item_id: item_id.into(),
            output_index: 0,
            call_id,
            // The beta event has no `name` (its SDK schema rejects one).
            name: (self.dialect == Dialect::Ga).then(|| name.clone()),
            arguments: arguments.clone(),
            ..Default::default()
        });
        self.emit(t, done, Some(tag));
        item.status = Some("completed".into());
        item.arguments = Some(arguments);
        self.finish_item(tag, t, item.clone(), "completed", None);
        self.remember(item.clone());
        Active {
            id: tag.to_string(),
            item_id: item_id.into(),
            output: Output::Call,
            chunks: vec![],
            item_announced_at: at,
            done_at: t,
            item,
        }
    }

    fn schedule_speech(
        &mut self,
        tag: &Arc<str>,
        item_id: &str,
        at: Instant,
        output: Output,
        text: String,
        ending: Ending,
    ) -> Active {
        let audio = output == Output::Audio;
        let mut item = Item {
            id: Some(item_id.into()),
            object: Some("realtime.item".into()),
            kind: "message".into(),
            role: Some("assistant".into()),
            status: Some("in_progress".into()),
            content: Some(vec![]),
            ..Default::default()
        };
        self.announce_item(tag, at, item.clone());
        let part = |transcript: &str| ContentPart {
            kind: if audio { "audio" } else { "text" }.into(),
            transcript: audio.then(|| Some(transcript.to_owned())),
            text: (!audio).then(|| transcript.to_owned()),
            ..Default::default()
        };
        self.emit(at, content_part(true, tag, item_id, part("")), Some(tag));

        let pcm = if audio {
            self.voice_for(&text)
        } else {
            Vec::new()
        };
        let chunk_samples = (RATE as u64 * self.config.chunk_ms / 1000) as usize;
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        let n_chunks = if audio {
            pcm.len().div_ceil(chunk_samples.max(1)).max(1)
        } else {
            words.len().max(1)
        };
        let first = at + self.delay(self.config.first_audio_ms as f64);
        let step = if audio {
            self.config.chunk_ms as f64 * self.config.pace
        } else {
            40.0 * self.config.pace
        };
        let mut chunks = Vec::with_capacity(n_chunks);
        for i in 0..n_chunks {
            let t = first + self.delay(step * i as f64);
            let said: String = words
                .iter()
                .enumerate()
                .filter(|(w, _)| w * n_chunks / words.len().max(1) == i)
                .map(|(_, w)| *w)
                .collect();
            let scope = |delta: String| ContentDelta {
                response_id: tag.to_string(),
                item_id: item_id.into(),
                output_index: 0,
                content_index: 0,
                delta,
                ..Default::default()
            };
            if !said.is_empty() {
                let event = if audio {
                    ServerEvent::audio_transcript_delta(self.dialect, scope(said.clone()))
                } else {
                    ServerEvent::text_delta(self.dialect, scope(said.clone()))
                };
                self.emit(t, event, Some(tag));
            }
            if audio {
                let end = ((i + 1) * chunk_samples).min(pcm.len());
                let bytes = Pcm::from_samples(&pcm[i * chunk_samples..end]).to_base64();
                let event = ServerEvent::audio_delta(self.dialect, scope(bytes));
                self.emit(t, event, Some(tag));
            }
            chunks.push((t, said));
        }
        let end = first + self.delay(step * n_chunks as f64);
        self.close_content(tag, item_id, end, audio, &text);
        let (status, reason) = ending.status();
        item.status = Some(ending.item_status().into());
        item.content = Some(vec![assistant_part(self.dialect, audio, &text)]);
        self.finish_item(tag, end, item.clone(), status, reason);
        self.item_audio_ms
            .insert(item_id.into(), pcm.len() as f64 * 1000.0 / RATE as f64);
        self.remember(item.clone());
        Active {
            id: tag.to_string(),
            item_id: item_id.into(),
            output,
            chunks,
            item_announced_at: at,
            done_at: end,
            item,
        }
    }

    /// Adds a response's output item to the conversation, unless the
    /// response is out of band (`conversation: "none"`).
    fn remember(&mut self, item: Item) {
        if !self.plan.out_of_band {
            self.conversation.push(item);
        }
    }

    /// `*.done` events closing an audio or text part.
    fn close_content(
        &mut self,
        tag: &Arc<str>,
        item_id: &str,
        at: Instant,
        audio: bool,
        said: &str,
    ) {
        let scope = ContentRef {
            response_id: tag.to_string(),
            item_id: item_id.into(),
            output_index: 0,
            content_index: 0,
            ..Default::default()
        };
        if audio {
            let done = ServerEvent::audio_done(self.dialect, scope.clone());
            self.emit(at, done, Some(tag));
            let transcript = TranscriptDone {
                response_id: scope.response_id.clone(),
                item_id: scope.item_id.clone(),
                transcript: said.into(),
                ..Default::default()
            };
            let done = ServerEvent::audio_transcript_done(self.dialect, transcript);
            self.emit(at, done, Some(tag));
        } else {
            let text = TextDone {
                response_id: scope.response_id.clone(),
                item_id: scope.item_id.clone(),
                text: said.into(),
                ..Default::default()
            };
            let done = ServerEvent::text_done(self.dialect, text);
            self.emit(at, done, Some(tag));
        }
        let part = ContentPart {
            kind: if audio { "audio" } else { "text" }.into(),
            transcript: audio.then(|| Some(said.to_owned())),
            text: (!audio).then(|| said.to_owned()),
            ..Default::default()
        };
        self.emit(at, content_part(false, tag, item_id, part), Some(tag));
    }

    /// `response.output_item.done`, the GA item `done`, and `response.done`.
    fn finish_item(
        &mut self,
        tag: &Arc<str>,
        at: Instant,
        item: Item,
        status: &str,
        reason: Option<&str>,
    ) {
        let done = ServerEvent::ResponseOutputItemDone(OutputItemEvent {
            response_id: tag.to_string(),
            output_index: 0,
            item: item.clone(),
            ..Default::default()
        });
        self.emit(at, done, Some(tag));
        if self.dialect == Dialect::Ga && !self.plan.out_of_band {
            let previous = self
                .conversation
                .iter()
                .rev()
                .find(|i| i.id != item.id)
                .and_then(|i| i.id.clone());
            let done = ServerEvent::ConversationItemDone(ItemEvent {
                previous_item_id: Some(previous),
                item: item.clone(),
                ..Default::default()
            });
            self.emit(at, done, Some(tag));
        }
        self.finish_response(tag, at, status, reason, vec![item]);
    }

    fn finish_response(
        &mut self,
        tag: &Arc<str>,
        at: Instant,
        status: &str,
        reason: Option<&str>,
        output: Vec<Item>,
    ) {
        let response = self.response_object(tag, status, reason, output, true);
        let done = ServerEvent::ResponseDone(ResponseEvent {
            response,
            ..Default::default()
        });
        self.emit(at, done, Some(tag));
    }

    fn cancel(&mut self, now: Instant, reason: &str) {
        let Some(active) = self.active.take() else {
            return;
        };
        let withdrawn = self.timeline.withdraw(&active.id);
        let sent_until = self.last_pop;
        let was_sent = |t: Instant| sent_until.is_some_and(|s| t <= s);
        let sent: Vec<&(Instant, String)> =
            active.chunks.iter().filter(|(t, _)| was_sent(*t)).collect();
        let said: String = sent.iter().map(|(_, w)| w.as_str()).collect();
        self.notes.push(Note::new(
            "cancel",
            format!(
                "response {} cancelled ({reason}) after {} of {} chunks; {withdrawn} frames withdrawn",
                active.id,
                sent.len(),
                active.chunks.len()
            ),
        ));
        let tag: Arc<str> = Arc::from(active.id.as_str());
        if !was_sent(active.item_announced_at) {
            // Nothing of the item reached the client: the response ends empty.
            self.conversation
                .retain(|i| i.id.as_deref() != Some(&active.item_id));
            self.finish_response(&tag, now, "cancelled", Some(reason), vec![]);
            return;
        }
        let audio = active.output == Output::Audio;
        if active.output != Output::Call {
            self.close_content(&tag, &active.item_id, now, audio, &said);
        }
        let mut item = self
            .conversation
            .iter()
            .find(|i| i.id.as_deref() == Some(&active.item_id))
            .cloned()
            .unwrap_or_else(|| active.item.clone());
        item.status = Some("incomplete".into());
        if active.output != Output::Call {
            item.content = Some(vec![assistant_part(self.dialect, audio, &said)]);
            let played_ms = (sent.len() as u64 * self.config.chunk_ms) as f64;
            self.item_audio_ms.insert(active.item_id.clone(), played_ms);
        }
        if let Some(slot) = self.conversation.iter_mut().find(|i| i.id == item.id) {
            *slot = item.clone();
        }
        self.finish_item(&tag, now, item, "cancelled", Some(reason));
    }

    fn response_object(
        &self,
        id: &str,
        status: &str,
        reason: Option<&str>,
        output: Vec<Item>,
        done: bool,
    ) -> Response {
        let status_details = match (done, status) {
            (true, "completed") | (false, _) => None,
            (true, other) => Some(StatusDetails {
                kind: Some(other.into()),
                reason: reason.map(str::to_owned),
                ..Default::default()
            }),
        };
        let usage = done.then(|| self.usage(&output));
        let mut response = Response {
            id: Some(id.into()),
            object: Some("realtime.response".into()),
            status: Some(status.into()),
            status_details: Some(status_details),
            output: Some(output),
            usage: Some(usage),
            ..Default::default()
        };
        let conversation_id = format!("conv_{}", &self.ids_suffix());
        self.plan
            .report(self.dialect, &mut response, conversation_id);
        response
    }

    fn ids_suffix(&self) -> String {
        self.session
            .id
            .as_deref()
            .and_then(|id| id.strip_prefix("sess_"))
            .unwrap_or("0")
            .to_owned()
    }

    fn usage(&self, output: &[Item]) -> Usage {
        let words = |items: &[Item]| -> u64 {
            items
                .iter()
                .flat_map(|i| i.content.iter().flatten())
                .map(|p| {
                    let text = p
                        .text
                        .clone()
                        .or_else(|| p.transcript.clone().flatten())
                        .unwrap_or_default();
                    text.split_whitespace().count() as u64
                })
                .sum()
        };
        let input_audio: f64 = self.item_audio_ms.values().sum();
        let input_text = words(&self.conversation) + 20;
        let input_audio_tokens = (input_audio / 100.0) as u64;
        let output_text = words(output);
        let output_audio_tokens = output_text * 3;
        let input = input_text + input_audio_tokens;
        let out = output_text + output_audio_tokens;
        Usage {
            total_tokens: Some(input + out),
            input_tokens: Some(input),
            output_tokens: Some(out),
            input_token_details: Some(TokenDetails {
                text_tokens: Some(input_text),
                audio_tokens: Some(input_audio_tokens),
                cached_tokens: Some(0),
                ..Default::default()
            }),
            output_token_details: Some(TokenDetails {
                text_tokens: Some(output_text),
                audio_tokens: Some(output_audio_tokens),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The answer's audio: the bundled voice, long enough for the words.
    fn voice_for(&self, text: &str) -> Vec<i16> {
        crate::voice::speak(&self.config.voice, text, RATE, ANSWER_MS)
    }

    // ---- other client events ---------------------------------------------------

    fn on_truncate(
        &mut self,
        item_id: &str,
        content_index: u32,
        audio_end_ms: u64,
        event_id: Option<&str>,
        now: Instant,
    ) {
        let Some(item) = self
            .conversation
            .iter()
            .find(|i| i.id.as_deref() == Some(item_id))
        else {
            return self.item_not_found(now, item_id, event_id);
        };
        if item.role.as_deref() != Some("assistant") {
            return self.error(
                now,
                "invalid_value",
                "Only assistant messages can be truncated.".into(),
                Some("item_id"),
                event_id,
            );
        }
        let available = self.item_audio_ms.get(item_id).copied().unwrap_or(0.0);
        if audio_end_ms as f64 > available + 1.0 {
            return self.error(
                now,
                "invalid_value",
                format!(
                    "Audio content of {available:.0}ms is already shorter than {audio_end_ms}ms"
                ),
                Some("audio_end_ms"),
                event_id,
            );
        }
        self.item_audio_ms
            .insert(item_id.into(), audio_end_ms as f64);
        let event = ServerEvent::ConversationItemTruncated(ItemTruncated {
            item_id: item_id.into(),
            content_index,
            audio_end_ms,
            ..Default::default()
        });
        self.emit(now, event, None);
    }
}

impl SessionEngine<ClientEvent> for Responder {
    fn label(&self) -> String {
        "respond".into()
    }

    fn on_connect(&mut self, now: Instant) {
        let created = ServerEvent::SessionCreated(SessionEvent {
            session: Box::new(self.session.clone()),
            ..Default::default()
        });
        self.emit(now, created, None);
        if let Some(limit) = self.config.session_limit {
            let message = format!(
                "Your session hit the maximum duration of {}.",
                describe(limit)
            );
            let at = now + limit;
            let expired = ServerEvent::Error(ErrorEvent {
                error: ErrorDetail {
                    kind: "invalid_request_error".into(),
                    code: Some(Some("session_expired".into())),
                    message: message.clone(),
                    param: Some(None),
                    event_id: Some(None),
                    ..Default::default()
                },
                ..Default::default()
            });
            self.emit(at, expired, None);
            self.timeline.push(
                at,
                Outgoing::Close {
                    code: 1001,
                    reason: message,
                },
            );
        }
    }

    fn on_client_event(&mut self, event: &ClientEvent, _summary: &FrameSummary, now: Instant) {
        let event_id = event.event_id().map(str::to_owned);
        let event_id = event_id.as_deref();
        match event {
            ClientEvent::SessionUpdate(update) => self.on_session_update(&update.session, now),
            ClientEvent::InputAudioBufferAppend(append) => self.on_append(&append.audio, now),
            ClientEvent::InputAudioBufferCommit(_) => {
                let ms = pcm16_duration_ms(self.buffer.len(), self.input_rate);
                if ms < MIN_COMMIT_MS {
                    return self.error(
                        now,
                        "input_audio_buffer_commit_empty",
                        format!("Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms:.2}ms of audio."),
                        None,
                        event_id,
                    );
                }
                self.vad.reset();
                let item_id = self
                    .speech_item
                    .take()
                    .unwrap_or_else(|| self.ids.next("item"));
                self.commit(item_id, now);
            }
            ClientEvent::InputAudioBufferClear(_) => {
                self.buffer.clear();
                self.speech_item = None;
                self.vad.reset();
                self.emit(
                    now,
                    ServerEvent::InputAudioBufferCleared(Opaque::default()),
                    None,
                );
            }
            ClientEvent::ConversationItemCreate(create) => {
                self.on_item_create(create.item.clone(), now)
            }
            ClientEvent::ConversationItemRetrieve(r) => {
                match self
                    .conversation
                    .iter()
                    .find(|i| i.id.as_deref() == Some(&r.item_id))
                    .cloned()
                {
                    Some(item) => {
                        let event = ServerEvent::ConversationItemRetrieved(ItemEvent {
                            item,
                            ..Default::default()
                        });
                        self.emit(now, event, None);
                    }
                    None => self.item_not_found(now, &r.item_id, event_id),
                }
            }
            ClientEvent::ConversationItemTruncate(t) => {
                self.on_truncate(&t.item_id, t.content_index, t.audio_end_ms, event_id, now)
            }
            ClientEvent::ConversationItemDelete(d) => {
                let before = self.conversation.len();
                self.conversation
                    .retain(|i| i.id.as_deref() != Some(&d.item_id));
                if self.conversation.len() == before {
                    self.item_not_found(now, &d.item_id, event_id);
                } else {
                    let event = ServerEvent::ConversationItemDeleted(ItemRef {
                        item_id: d.item_id.clone(),
                        ..Default::default()
                    });
                    self.emit(now, event, None);
                }
            }
            ClientEvent::ResponseCreate(create) => {
                if let Some(active) = &self.active {
                    let message = format!("Conversation already has an active response in progress: {}. Wait until the response is finished before creating a new one.", active.id);
                    return self.error(
                        now,
                        "conversation_already_has_active_response",
                        message,
                        None,
                        event_id,
                    );
                }
                self.start_response(now, Some(create));
            }
            ClientEvent::ResponseCancel(_) => {
                if self.active.is_none() {
                    return self.error(
                        now,
                        "response_cancel_not_active",
                        "Cancellation failed: no active response found.".into(),
                        None,
                        event_id,
                    );
                }
                self.cancel(now, "client_cancelled");
            }
            ClientEvent::OutputAudioBufferClear(_) => self.error(
                now,
                "invalid_value",
                "output_audio_buffer.clear is only supported for WebRTC and SIP sessions.".into(),
                Some("type"),
                event_id,
            ),
            ClientEvent::TranscriptionSessionUpdate(update) => {
                let mut extra = serde_json::Map::new();
                extra.insert("session".into(), update.session.clone());
                let event = ServerEvent::TranscriptionSessionUpdated(Opaque {
                    extra: extra.into(),
                    ..Default::default()
                });
                self.emit(now, event, None);
            }
            ClientEvent::Unknown(_) => {}
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        self.last_pop = Some(now);
        let due = self.timeline.pop_due(now);
        if self.active.as_ref().is_some_and(|a| a.done_at <= now) {
            self.active = None;
        }
        due
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timeline.next_deadline()
    }

    fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }
}

fn describe(limit: Duration) -> String {
    let secs = limit.as_secs();
    if secs >= 60 && secs % 60 == 0 {
        format!("{} minutes", secs / 60)
    } else {
        format!("{} seconds", limit.as_secs_f64())
    }
}

fn content_part(added: bool, tag: &Arc<str>, item_id: &str, part: ContentPart) -> ServerEvent {
    let event = ContentPartEvent {
        response_id: tag.to_string(),
        item_id: item_id.into(),
        output_index: 0,
        content_index: 0,
        part,
        ..Default::default()
    };
    if added {
        ServerEvent::ResponseContentPartAdded(event)
    } else {
        ServerEvent::ResponseContentPartDone(event)
    }
}

/// The content part of an assistant item: GA `output_audio`/`output_text`, beta `audio`/`text`.
fn assistant_part(dialect: Dialect, audio: bool, said: &str) -> ContentPart {
    let kind = match (dialect, audio) {
        (Dialect::Ga, true) => "output_audio",
        (Dialect::Ga, false) => "output_text",
        (Dialect::Beta, true) => "audio",
        (Dialect::Beta, false) => "text",
    };
    ContentPart {
        kind: kind.into(),
        transcript: audio.then(|| Some(said.to_owned())),
        text: (!audio).then(|| said.to_owned()),
        ..Default::default()
    }
}

fn default_turn_detection() -> TurnDetection {
    TurnDetection {
        kind: "server_vad".into(),
        threshold: Some(0.5),
        prefix_padding_ms: Some(300),
        silence_duration_ms: Some(500),
        idle_timeout_ms: None,
        create_response: Some(true),
        interrupt_response: Some(true),
        ..Default::default()
    }
}

fn default_session(dialect: Dialect, model: &str, ids: &mut Ids) -> Session {
    let mut session = Session {
        id: Some(ids.next("sess")),
        object: Some("realtime.session".into()),
        model: Some(model.into()),
        expires_at: Some(unix_now() + 3600),
        instructions: Some(String::new()),
        tools: Some(vec![]),
        tool_choice: Some(json!("auto")),
        ..Default::default()
    };
    match dialect {
        Dialect::Ga => {
            session.kind = Some("realtime".into());
            session.output_modalities = Some(vec!["audio".into()]);
            session.max_output_tokens = Some(json!("inf"));
            for key in ["tracing", "prompt", "include"] {
                session.extra.insert(key.into(), Value::Null);
            }
            let pcm = || AudioFormatSpec {
                kind: "audio/pcm".into(),
                rate: Some(RATE),
                ..Default::default()
            };
            session.audio = Some(SessionAudio {
                input: Some(AudioInput {
                    format: Some(pcm()),
                    transcription: Some(None),
                    noise_reduction: Some(None),
                    turn_detection: Some(Some(default_turn_detection())),
                    ..Default::default()
                }),
                output: Some(AudioOutput {
                    format: Some(pcm()),
                    voice: Some(json!("alloy")),
                    speed: Some(1.0),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        Dialect::Beta => {
            session.modalities = Some(vec!["text".into(), "audio".into()]);
            session.voice = Some("alloy".into());
            session.input_audio_format = Some("pcm16".into());
            session.output_audio_format = Some("pcm16".into());
            session.input_audio_transcription = Some(None);
            let mut td = default_turn_detection();
            td.idle_timeout_ms = None;
            session.turn_detection = Some(Some(td));
            session.temperature = Some(0.8);
            session.max_response_output_tokens = Some(json!("inf"));
        }
    }
    session
}

/// The unix time (whole seconds, rounded up) at which a session starting now
/// and ending after `limit` is forced to end: `session.expires_at`.
pub(crate) fn expires_at(limit: Duration) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + limit).as_secs_f64().ceil() as i64
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Applies the fields present in `update` to `session`, nested GA audio included.
fn merge_session(session: &mut Session, update: &Session) {
    macro_rules! take {
        ($($field:ident),*) => { $( if update.$field.is_some() { session.$field = update.$field.clone(); } )* };
    }
    take!(
        kind,
        instructions,
        output_modalities,
        modalities,
        voice,
        input_audio_format,
        output_audio_format,
        input_audio_transcription,
        input_audio_noise_reduction,
        turn_detection,
        tools,
        tool_choice,
        temperature,
        max_output_tokens,
        max_response_output_tokens
    );
    if let Some(audio) = &update.audio {
        let target = session.audio.get_or_insert_with(Default::default);
        if let Some(input) = &audio.input {
            let t = target.input.get_or_insert_with(Default::default);
            if input.format.is_some() {
                t.format = input.format.clone();
            }
            if input.transcription.is_some() {
                t.transcription = input.transcription.clone();
            }
            if input.noise_reduction.is_some() {
                t.noise_reduction = input.noise_reduction.clone();
            }
            if let Some(td) = &input.turn_detection {
                // A partial turn_detection object fills in from the defaults.
                t.turn_detection = Some(td.clone().map(|mut td| {
                    let d = default_turn_detection();
                    if td.kind == "server_vad" {
                        td.threshold = td.threshold.or(d.threshold);
                        td.prefix_padding_ms = td.prefix_padding_ms.or(d.prefix_padding_ms);
                        td.silence_duration_ms = td.silence_duration_ms.or(d.silence_duration_ms);
                        td.idle_timeout_ms = td.idle_timeout_ms.or(Some(None));
                    }
                    td.create_response = td.create_response.or(d.create_response);
                    td.interrupt_response = td.interrupt_response.or(d.interrupt_response);
                    td
                }));
            }
        }
        if let Some(output) = &audio.output {
            let t = target.output.get_or_insert_with(Default::default);
            if output.format.is_some() {
                t.format = output.format.clone();
            }
            if output.voice.is_some() {
                t.voice = output.voice.clone();
            }
            if output.speed.is_some() {
                t.speed = output.speed;
            }
        }
    }
    for (key, value) in &update.extra {
        session.extra.insert(key.clone(), value.clone());
    }
}
