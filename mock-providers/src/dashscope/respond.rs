//! The Qwen-Omni respond engine.
//!
//! Qwen-Omni realtime is documented as a close copy of OpenAI's beta Realtime
//! protocol, and its turn-taking, VAD, response and cancellation behaviour is
//! the same, so this engine drives the OpenAI-family responder in its beta
//! behaviour and translates at the edges where DashScope differs:
//!
//! - in: its own session shape (Chat-Completions tools, `pcm`/`pcm16` names,
//!   sampling fields), 16 kHz audio, JPEG frames (`input_image_buffer.append`),
//!   and `session.finish`;
//! - out: its session and response objects (usage as `input_tokens_details`),
//!   and content parts carrying `text` where OpenAI has `transcript`;
//! - its own behaviour: `session.finished` then a close after the last output,
//!   set-up faults on demand, a check that the input audio really is 16 kHz,
//!   and its own end at the session limit ([`DashScopeExpiry`]: a close, or
//!   an `error` then a close; which one the service does is unconfirmed),
//!   announced by `expires_at` in `session.created` (120 minutes without a
//!   limit; the field is in OpenAI's beta shape, its presence here unconfirmed).

use super::rate_check::{RateCheck, RateVerdict};
use super::{DashScopeExpiry, SetupFault, MAX_SESSION};
use crate::engine::{Note, SessionEngine};
use crate::openai::respond::Responder;
use crate::protocol::FrameSummary;
use crate::timeline::{Outgoing, Timeline};
use crate::ResponderConfig;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::audio::Pcm;
use understudy_adapters::dashscope::wire::{ClientEvent, Session};
use understudy_adapters::dashscope::INPUT_RATE;
use understudy_adapters::openai::wire::client::{
    ConversationItemCreate, InputAudioBufferAppend, ResponseCancel, ResponseCreate, SessionUpdate,
};
use understudy_adapters::openai::wire::objects::{self, ResponseParams, Tool, Transcription};
use understudy_adapters::openai::wire::ClientEvent as OpenAiEvent;
use understudy_adapters::openai::Dialect;

/// The respond engine for one Qwen-Omni session.
pub struct DashScopeResponder {
    inner: Responder,
    session: Session,
    fault: Option<SetupFault>,
    rate_check: RateCheck,
    own: Timeline,
    finishing: bool,
    next_id: u64,
    /// The forced end, if limited, and how it is announced.
    limit: Option<(Duration, DashScopeExpiry)>,
    /// `session.expires_at`: unix seconds of the forced end.
    expires_at: i64,
    notes: Vec<Note>,
}

/// The session a new connection gets (the protocol notes' example).
fn default_session(model: &str) -> Session {
    let voice = if model.contains("turbo") {
        "Chelsie"
    } else {
        "Cherry"
    };
    Session {
        model: Some(model.into()),
        modalities: Some(vec!["text".into(), "audio".into()]),
        voice: Some(voice.into()),
        input_audio_format: Some("pcm".into()),
        output_audio_format: Some("pcm".into()),
        instructions: Some(String::new()),
        input_audio_transcription: Some(Some(json!({"model": "qwen3-asr-flash-realtime"}))),
        turn_detection: Some(Some(objects::TurnDetection {
            kind: "server_vad".into(),
            threshold: Some(0.5),
            prefix_padding_ms: Some(300),
            silence_duration_ms: Some(800),
            create_response: Some(true),
            interrupt_response: Some(true),
            ..Default::default()
        })),
        tools: Some(vec![]),
        tool_choice: Some(json!("auto")),
        temperature: Some(0.8),
        ..Default::default()
    }
}

impl DashScopeResponder {
    /// A responder for `model`; `seed` makes its ids unique; `fault` makes set-up fail.
    pub fn new(
        model: &str,
        mut config: ResponderConfig,
        seed: u64,
        fault: Option<SetupFault>,
    ) -> Self {
        let session = default_session(model);
        // The limit is enforced here, the DashScope way, not by the OpenAI engine.
        let limit = config
            .session_limit
            .take()
            .map(|limit| (limit, config.dashscope_expiry));
        let expires_at =
            crate::responder_config::expires_at(limit.map_or(MAX_SESSION, |(limit, _)| limit));
        let mut inner =
            Responder::new(Dialect::Beta, model, config, seed).with_input_rate(INPUT_RATE);
        inner.configure(&to_openai_session(&session));
        DashScopeResponder {
            inner,
            session,
            fault,
            rate_check: RateCheck::new(INPUT_RATE),
            own: Timeline::new(),
            finishing: false,
            next_id: seed << 32,
            limit,
            expires_at,
            notes: Vec::new(),
        }
    }

    /// Schedules the forced end of a limited session: an optional `error`,
    /// then close 1001 with the reason.
    fn schedule_expiry(&mut self, now: Instant) {
        let Some((limit, style)) = self.limit else {
            return;
        };
        for frame in style.frames(limit) {
            self.own.push(now + limit, frame);
        }
    }

    fn event_id(&mut self) -> String {
        self.next_id += 1;
        format!("event_{:032x}", self.next_id)
    }

    fn forward(&mut self, event: OpenAiEvent, now: Instant) {
        let summary = FrameSummary {
            event_type: event.event_type().to_owned(),
            key: Value::Null,
            audio_ms: None,
        };
        self.inner.on_client_event(&event, &summary, now);
    }

    fn on_session_update(&mut self, update: Option<&Session>, now: Instant) {
        if let Some(fault) = self.fault.take() {
            fault.inject(now, &mut self.own, &mut self.notes);
            return;
        }
        if let Some(update) = update {
            merge(&mut self.session, update);
        }
        let session = Box::new(to_openai_session(&self.session));
        self.forward(
            OpenAiEvent::SessionUpdate(SessionUpdate {
                session,
                ..Default::default()
            }),
            now,
        );
    }

    fn check_rate(&mut self, audio: &str) {
        let Ok(pcm) = Pcm::from_base64(audio) else {
            return;
        };
        let samples: Vec<i16> = pcm.samples().collect();
        match self.rate_check.push(&samples) {
            Some(RateVerdict::Suspicious { median_f0 }) => self.notes.push(Note::new(
                "input_rate.suspicious",
                format!(
                    "median speech pitch {median_f0:.0} Hz at 16 kHz is implausibly low (speech is usually 85–255 Hz): \
                     this sounds like audio recorded at 24 kHz sent as 16 kHz"
                ),
            )),
            Some(RateVerdict::Plausible { median_f0 }) => self
                .notes
                .push(Note::new("input_rate.ok", format!("median speech pitch {median_f0:.0} Hz: consistent with 16 kHz"))),
            None => {}
        }
    }

    /// Rewrites an outgoing frame into DashScope's shapes where they differ.
    fn patch(&self, frame: Outgoing) -> Outgoing {
        let Outgoing::Text { event_type, text } = &frame else {
            return frame;
        };
        let needs = matches!(
            &**event_type,
            "session.created"
                | "session.updated"
                | "response.created"
                | "response.done"
                | "response.content_part.added"
                | "response.content_part.done"
        );
        if !needs {
            return frame;
        }
        let Ok(Value::Object(mut event)) = serde_json::from_str::<Value>(text) else {
            return frame;
        };
        match &**event_type {
            "session.created" | "session.updated" => {
                let inner = event.remove("session").unwrap_or(Value::Null);
                let mut view = serde_json::to_value(&self.session).unwrap_or(Value::Null);
                for key in ["id", "object", "model"] {
                    if let (Some(v), Value::Object(map)) = (inner.get(key), &mut view) {
                        map.insert(key.into(), v.clone());
                    }
                }
                if let Value::Object(map) = &mut view {
                    map.insert("expires_at".into(), json!(self.expires_at));
                }
                event.insert("session".into(), view);
            }
            "response.created" | "response.done" => {
                if let Some(Value::Object(response)) = event.get_mut("response") {
                    dashscope_response(
                        response,
                        self.session.output_audio_format.as_deref().unwrap_or("pcm"),
                    );
                }
            }
            "conversation.item.input_audio_transcription.completed" => {
                // DashScope's completed transcription carries no usage.
                event.remove("usage");
            }
            _ => {
                if let Some(Value::Object(part)) = event.get_mut("part") {
                    if let Some(transcript) = part.remove("transcript") {
                        part.insert("text".into(), transcript);
                    }
                }
            }
        }
        Outgoing::Text {
            event_type: Arc::clone(event_type),
            text: Arc::from(Value::Object(event).to_string()),
        }
    }
}

/// DashScope's response object: its own field set and usage spelling.
fn dashscope_response(response: &mut Map<String, Value>, output_format: &str) {
    for key in ["temperature", "max_output_tokens", "metadata"] {
        response.remove(key);
    }
    response.insert("output_audio_format".into(), json!(output_format));
    if let Some(Value::Object(usage)) = response.get_mut("usage") {
        for (openai, dashscope) in [
            ("input_token_details", "input_tokens_details"),
            ("output_token_details", "output_tokens_details"),
        ] {
            if let Some(details) = usage.remove(openai) {
                usage.insert(dashscope.into(), details);
            }
        }
    }
}

/// Applies the fields present in `update`; a partial `turn_detection` keeps
/// the service defaults for what it leaves out.
fn merge(session: &mut Session, update: &Session) {
    macro_rules! take {
        ($($field:ident),*) => { $( if update.$field.is_some() { session.$field = update.$field.clone(); } )* };
    }
    take!(
        modalities,
        voice,
        input_audio_format,
        output_audio_format,
        instructions,
        input_audio_transcription,
        tools,
        tool_choice,
        temperature
    );
    if let Some(td) = &update.turn_detection {
        session.turn_detection = Some(td.clone().map(|mut td| {
            td.create_response = td.create_response.or(Some(true));
            td.interrupt_response = td.interrupt_response.or(Some(true));
            td
        }));
    }
    for (key, value) in &update.extra {
        session.extra.insert(key.clone(), value.clone());
    }
}

/// The beta-shaped session the shared responder runs on.
fn to_openai_session(session: &Session) -> objects::Session {
    objects::Session {
        modalities: session.modalities.clone(),
        voice: session.voice.clone(),
        input_audio_format: session.input_audio_format.clone(),
        output_audio_format: session.output_audio_format.clone(),
        instructions: session.instructions.clone(),
        input_audio_transcription: session
            .input_audio_transcription
            .clone()
            .map(|t| t.and_then(|v| serde_json::from_value::<Transcription>(v).ok())),
        turn_detection: session.turn_detection.clone(),
        tools: session.tools.as_ref().map(|tools| {
            tools
                .iter()
                .filter_map(|t| t.function.as_ref())
                .map(|f| Tool {
                    kind: Some("function".into()),
                    name: f.name.clone(),
                    description: f.description.clone(),
                    parameters: f.parameters.clone(),
                    ..Default::default()
                })
                .collect()
        }),
        tool_choice: session.tool_choice.clone(),
        temperature: session.temperature,
        ..Default::default()
    }
}

impl SessionEngine<ClientEvent> for DashScopeResponder {
    fn label(&self) -> String {
        "respond".into()
    }

    fn on_connect(&mut self, now: Instant) {
        self.inner.on_connect(now);
        self.schedule_expiry(now);
    }

    fn on_client_event(&mut self, event: &ClientEvent, _summary: &FrameSummary, now: Instant) {
        if self.finishing {
            self.notes.push(Note::new(
                "after_finish",
                format!("`{}` after session.finish; ignored", event.event_type()),
            ));
            return;
        }
        match event {
            ClientEvent::SessionUpdate(update) => {
                self.on_session_update(update.session.as_deref(), now)
            }
            ClientEvent::InputAudioBufferAppend(append) => {
                self.check_rate(&append.audio);
                let forward = InputAudioBufferAppend {
                    audio: append.audio.clone(),
                    ..Default::default()
                };
                self.forward(OpenAiEvent::InputAudioBufferAppend(forward), now);
            }
            ClientEvent::InputAudioBufferCommit(_) => {
                self.forward(OpenAiEvent::InputAudioBufferCommit(Default::default()), now)
            }
            ClientEvent::InputAudioBufferClear(_) => {
                self.forward(OpenAiEvent::InputAudioBufferClear(Default::default()), now)
            }
            ClientEvent::InputImageBufferAppend(image) => {
                self.notes.push(Note::new(
                    "image",
                    format!("JPEG frame, {} base64 chars", image.image.len()),
                ));
                self.inner.attach_image();
            }
            ClientEvent::ConversationItemCreate(create) => {
                let forward = ConversationItemCreate {
                    item: (*create.item).clone(),
                    previous_item_id: create.previous_item_id.clone(),
                    ..Default::default()
                };
                self.forward(OpenAiEvent::ConversationItemCreate(forward), now);
            }
            ClientEvent::ResponseCreate(create) => {
                let response = create
                    .response
                    .clone()
                    .and_then(|v| serde_json::from_value::<ResponseParams>(v).ok());
                self.forward(
                    OpenAiEvent::ResponseCreate(ResponseCreate {
                        response,
                        ..Default::default()
                    }),
                    now,
                );
            }
            ClientEvent::ResponseCancel(cancel) => {
                let forward = ResponseCancel {
                    response_id: cancel.response_id.clone(),
                    ..Default::default()
                };
                self.forward(OpenAiEvent::ResponseCancel(forward), now);
            }
            ClientEvent::SessionFinish(_) => {
                self.finishing = true;
                let at = self.inner.quiet_at().map_or(now, |quiet| quiet.max(now));
                let id = self.event_id();
                let finished = json!({"event_id": id, "type": "session.finished"}).to_string();
                self.own.push(
                    at,
                    Outgoing::Text {
                        event_type: Arc::from("session.finished"),
                        text: Arc::from(finished),
                    },
                );
                self.own.push(
                    at,
                    Outgoing::Close {
                        code: 1000,
                        reason: String::new(),
                    },
                );
            }
            ClientEvent::Unknown(_) => {}
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut due: Vec<Outgoing> = self
            .inner
            .pop_due(now)
            .into_iter()
            .map(|f| self.patch(f))
            .collect();
        due.extend(self.own.pop_due(now));
        due
    }

    fn next_deadline(&self) -> Option<Instant> {
        match (self.inner.next_deadline(), self.own.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn take_notes(&mut self) -> Vec<Note> {
        let mut notes = std::mem::take(&mut self.notes);
        notes.extend(self.inner.take_notes());
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: Value) -> ClientEvent {
        serde_json::from_value(json).expect("a valid client event")
    }

    fn summary() -> FrameSummary {
        FrameSummary {
            event_type: String::new(),
            key: Value::Null,
            audio_ms: None,
        }
    }

    /// Everything a responder sends up to `until`, as JSON events.
    fn sent(responder: &mut DashScopeResponder, until: Instant) -> Vec<Value> {
        responder
            .pop_due(until)
            .into_iter()
            .filter_map(|frame| match frame {
                Outgoing::Text { text, .. } => serde_json::from_str(&text).ok(),
                _ => None,
            })
            .collect()
    }

    // The mock refuses text items on the wire (Qwen-Omni's capabilities say
    // no text input) and no bundled utterance asks a question, so the engine
    // is driven directly.
    #[test]
    fn a_question_is_answered_from_the_session_instructions() {
        let voice = Arc::from(vec![0i16; 2_400]);
        let mut config = ResponderConfig::with_voice(voice);
        config.speed = 100.0;
        let mut responder = DashScopeResponder::new("qwen3-omni-flash-realtime", config, 7, None);
        let now = Instant::now();
        responder.on_connect(now);
        let update = event(json!({"type": "session.update", "session": {
            "modalities": ["text"],
            "instructions": "Remember that my order is A17.\n(3 turns summarized)"}}));
        responder.on_client_event(&update, &summary(), now);
        let ask = event(json!({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "What did I say my order is?"}]}}));
        responder.on_client_event(&ask, &summary(), now);
        responder.on_client_event(&event(json!({"type": "response.create"})), &summary(), now);
        let events = sent(&mut responder, now + std::time::Duration::from_secs(60));
        let done = events
            .iter()
            .find(|e| e["type"] == "response.text.done")
            .expect("response.text.done");
        assert_eq!(done["text"], "You said my order is A17.");
    }
}
