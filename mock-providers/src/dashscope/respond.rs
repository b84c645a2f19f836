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
//!
//! What differs by model comes from the model's row
//! ([`understudy_adapters::dashscope::models`]) and the [`OmniSettings`]
//! (see [`super::omni`]): the default voice; `tools` accepted but echoed empty
//! and never called where the family has none; the session echoed flat or
//! nested (3.8); the refusals of 3.5/3.8 (a second `response.create` while one
//! runs, a second result for one call, a `message` item on 3.8, web search
//! with tools); `function_call_arguments.done` naming the function (§10.6);
//! and whether `session.finish` is acknowledged (not on 3.8).

use super::omni::{self, OmniSettings, ToolOutputs};
use super::rate_check::{RateCheck, RateVerdict};
use super::{error_frame, layer, DashScopeExpiry, SetupFault, MAX_SESSION};
use crate::engine::{Note, SessionEngine};
use crate::openai::respond::Responder;
use crate::protocol::FrameSummary;
use crate::timeline::{Outgoing, Timeline};
use crate::ResponderConfig;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::audio::Pcm;
use understudy_adapters::dashscope::models::{family, OmniFamily};
use understudy_adapters::dashscope::wire::{
    ClientEvent, ItemCreate, ResponseCreate as DsResponseCreate, Session,
};
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
    /// The model's row: what this session's model does.
    family: &'static OmniFamily,
    /// Switchable Qwen-Omni behaviour (finish acknowledgement, error codes).
    settings: OmniSettings,
    /// Calls that already have a result.
    tool_outputs: ToolOutputs,
    /// Function names of the calls in the running response, by item id
    /// (for `function_call_arguments.done`; cleared at `response.done`).
    call_names: HashMap<String, String>,
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
fn default_session(model: &str, family: &OmniFamily) -> Session {
    Session {
        model: Some(model.into()),
        modalities: Some(vec!["text".into(), "audio".into()]),
        voice: Some(family.default_voice.into()),
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
    pub fn new(model: &str, config: ResponderConfig, seed: u64, fault: Option<SetupFault>) -> Self {
        Self::with_family(model, family(model), config, seed, fault)
    }

    /// A responder for `model` that follows `family`'s rules rather than the
    /// Qwen-Omni row the name would pick: for another dialect on this engine
    /// (Qwen-Audio-Realtime states its own rules, such as tools and text
    /// turns, which no Omni row has together).
    pub fn with_family(
        model: &str,
        family: &'static OmniFamily,
        mut config: ResponderConfig,
        seed: u64,
        fault: Option<SetupFault>,
    ) -> Self {
        let session = default_session(model, family);
        let settings = (*config.dashscope_omni).clone();
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
            family,
            settings,
            tool_outputs: ToolOutputs::default(),
            call_names: HashMap::new(),
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

    /// Refuses a client event with a DashScope `error`; the session goes on.
    /// The error names the refused event's `event_id` (the v2 SDK reads
    /// `error.event_id` to drop a refused `response.create` from its pending
    /// ones; OpenAI beta, which the protocol copies, sends it the same way).
    fn refuse(
        &mut self,
        now: Instant,
        event_id: Option<&str>,
        code: &str,
        message: &str,
        param: Option<&str>,
    ) {
        self.notes
            .push(Note::new("refused", format!("{code}: {message}")));
        let text = error_frame("invalid_request_error", code, message, param);
        let text = match (serde_json::from_str::<Value>(&text), event_id) {
            (Ok(mut frame), Some(id)) => {
                frame["error"]["event_id"] = json!(id);
                frame.to_string()
            }
            _ => text,
        };
        self.own.push(now, Outgoing::text("error", text));
    }

    /// `conversation.item.create`: refused for a `message` item where the
    /// family takes none, and for a second result of one call.
    fn on_item_create(&mut self, create: &ItemCreate, now: Instant) {
        let item = &create.item;
        if item.kind == "message" && !self.family.message_items {
            let code = self.settings.codes.message_item.clone();
            let message = format!(
                "Model {} accepts only function_call_output and mcp_approval_response items.",
                self.family.name
            );
            return self.refuse(
                now,
                create.event_id.as_deref(),
                &code,
                &message,
                Some("item.type"),
            );
        }
        if item.kind == "function_call_output" {
            let call_id = item.call_id.as_deref().unwrap_or_default();
            if !self.tool_outputs.first(call_id) {
                let code = self.settings.codes.duplicate_tool_output.clone();
                let message = format!("Duplicate function call output for call_id {call_id}.");
                return self.refuse(
                    now,
                    create.event_id.as_deref(),
                    &code,
                    &message,
                    Some("item.call_id"),
                );
            }
        }
        let forward = ConversationItemCreate {
            item: (**item).clone(),
            previous_item_id: create.previous_item_id.clone(),
            ..Default::default()
        };
        self.forward(OpenAiEvent::ConversationItemCreate(forward), now);
    }

    /// `response.create`: one response at a time.
    fn on_response_create(&mut self, create: &DsResponseCreate, now: Instant) {
        if let Some(active) = self.inner.active_response(now) {
            let message = format!(
                "Conversation already has an active response: {active}. Wait until it is done."
            );
            let code = self.settings.codes.active_response.clone();
            return self.refuse(now, create.event_id.as_deref(), &code, &message, None);
        }
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

    /// `session.finish`: the rest of the output, `session.finished` unless
    /// the family (or the settings) say it is not acknowledged, then a close.
    fn on_finish(&mut self, now: Instant) {
        self.finishing = true;
        let at = self.inner.quiet_at().map_or(now, |quiet| quiet.max(now));
        if self.settings.finish_ack.unwrap_or(self.family.finish_ack) {
            let id = self.event_id();
            let finished = json!({"event_id": id, "type": "session.finished"}).to_string();
            self.own.push(
                at,
                Outgoing::Text {
                    event_type: Arc::from("session.finished"),
                    text: Arc::from(finished),
                },
            );
        }
        self.own.push(
            at,
            Outgoing::Close {
                code: 1000,
                reason: String::new(),
            },
        );
    }

    fn event_id(&mut self) -> String {
        self.next_id += 1;
        format!("event_{:032x}", self.next_id)
    }

    fn forward(&mut self, event: OpenAiEvent, now: Instant) {
        let summary = layer::forwarded(event.event_type());
        self.inner.on_client_event(&event, &summary, now);
    }

    fn on_session_update(
        &mut self,
        update: Option<&Session>,
        event_id: Option<&str>,
        now: Instant,
    ) {
        if let Some(fault) = self.fault.take() {
            fault.inject(now, &mut self.own, &mut self.notes);
            return;
        }
        if let Some(update) = update {
            let mut update = update.clone();
            omni::flatten_update(&mut update);
            let shapeless: Vec<String> = update
                .tools
                .iter()
                .flatten()
                .filter(|t| t.function.is_none())
                .map(|t| match t.extra.get("name").and_then(Value::as_str) {
                    Some(name) => format!("`{name}`"),
                    None => "(unnamed)".to_owned(),
                })
                .collect();
            if !shapeless.is_empty() {
                // DashScope takes tools in the Chat-Completions shape
                // (`{type, function: {name, …}}`, §10.5); what it does with
                // OpenAI Realtime's flat `{type, name, parameters}` is
                // unconfirmed. The engine cannot call them, so say so rather
                // than drop them silently.
                let detail = format!(
                    "tools {} have no `function` object (OpenAI Realtime's flat shape?); \
                     DashScope takes {{\"type\":\"function\",\"function\":{{\"name\",…}}}}: \
                     they will never be called",
                    shapeless.join(", ")
                );
                tracing::warn!(%detail, "dashscope session.update");
                self.notes.push(Note::new("tools.shape", detail));
            }
            if !self.family.tools && update.tools.as_ref().is_some_and(|t| !t.is_empty()) {
                // Accepted, echoed empty, never called (§10.8).
                self.notes.push(Note::new(
                    "tools.ignored",
                    format!(
                        "{} has no function calling; tools dropped",
                        self.family.name
                    ),
                ));
                update.tools = Some(vec![]);
            }
            if self.family.search && omni::search_with_tools(&self.session, &update) {
                let code = self.settings.codes.search_with_tools.clone();
                return self.refuse(
                    now,
                    event_id,
                    &code,
                    "enable_search and tools cannot be used together.",
                    Some("session.enable_search"),
                );
            }
            merge(&mut self.session, &update);
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
    fn patch(&mut self, frame: Outgoing) -> Outgoing {
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
                | "response.output_item.added"
                | "response.function_call_arguments.done"
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
                let mut view = omni::session_view(&self.session, self.family);
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
            "response.output_item.added" => {
                let item = event.get("item");
                if let (Some(id), Some(name)) = (
                    item.and_then(|i| i.get("id")).and_then(Value::as_str),
                    item.and_then(|i| i.get("name")).and_then(Value::as_str),
                ) {
                    self.call_names.insert(id.to_owned(), name.to_owned());
                }
                return frame;
            }
            "response.function_call_arguments.done" => {
                // §10.6: the done event names the function (OpenAI beta's does not).
                let name = event
                    .get("item_id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.call_names.get(id));
                if let Some(name) = name {
                    event.insert("name".into(), json!(name));
                }
            }
            "response.created" | "response.done" => {
                if event_type.as_ref() == "response.done" {
                    self.call_names.clear();
                }
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
        // A turn the inner engine set aside ends before this event is read.
        self.inner.settle();
        if self.finishing {
            self.notes.push(Note::new(
                "after_finish",
                format!("`{}` after session.finish; ignored", event.event_type()),
            ));
            return;
        }
        match event {
            ClientEvent::SessionUpdate(update) => {
                self.on_session_update(update.session.as_deref(), update.event_id.as_deref(), now)
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
            ClientEvent::ConversationItemCreate(create) => self.on_item_create(create, now),
            ClientEvent::ResponseCreate(create) => self.on_response_create(create, now),
            ClientEvent::ResponseCancel(cancel) => {
                let forward = ResponseCancel {
                    response_id: cancel.response_id.clone(),
                    ..Default::default()
                };
                self.forward(OpenAiEvent::ResponseCancel(forward), now);
            }
            ClientEvent::SessionFinish(_) => self.on_finish(now),
            ClientEvent::Unknown(_) => {}
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        let frames = self.inner.pop_due(now);
        let mut due: Vec<Outgoing> = frames.into_iter().map(|f| self.patch(f)).collect();
        due.extend(self.own.pop_due(now));
        due
    }

    fn next_deadline(&self) -> Option<Instant> {
        layer::earliest(self.inner.next_deadline(), self.own.next_deadline())
    }

    fn take_notes(&mut self) -> Vec<Note> {
        layer::take_notes(&mut self.notes, self.inner.take_notes())
    }

    fn has_deferred(&self) -> bool {
        self.inner.has_deferred()
    }

    fn run_deferred(&mut self) {
        self.inner.settle();
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
        layer::sent_json(responder.pop_due(until))
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

    fn responder(model: &str) -> (DashScopeResponder, Instant) {
        let voice = Arc::from(vec![0i16; 2_400]);
        let mut config = ResponderConfig::with_voice(voice);
        config.speed = 100.0;
        let mut responder = DashScopeResponder::new(model, config, 7, None);
        let now = Instant::now();
        responder.on_connect(now);
        (responder, now)
    }

    fn send(responder: &mut DashScopeResponder, now: Instant, json: Value) {
        responder.on_client_event(&event(json), &summary(), now);
    }

    fn errors(events: &[Value]) -> Vec<String> {
        events
            .iter()
            .filter(|e| e["type"] == "error")
            .map(|e| e["error"]["code"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    const V38: &str = "qwen3.8-omni-flash-realtime";

    fn weather_tool() -> Value {
        json!([{"type": "function", "function": {"name": "get_weather", "description": "d",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    }

    /// A 3.5 session asked (by a text item, which the wire refuses but the
    /// engine takes) about the weather, with the tool configured.
    fn tool_turn(model: &str) -> (DashScopeResponder, Instant, Vec<Value>) {
        let (mut r, now) = responder(model);
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {
            "modalities": ["text"], "turn_detection": null, "tools": weather_tool()}}),
        );
        r.inner.on_client_event(
            &OpenAiEvent::ConversationItemCreate(ConversationItemCreate {
                item: serde_json::from_value(json!({"type": "message", "role": "user",
                    "content": [{"type": "input_text", "text": "What is the weather in Paris?"}]}))
                .unwrap(),
                ..Default::default()
            }),
            &summary(),
            now,
        );
        send(&mut r, now, json!({"type": "response.create"}));
        let events = sent(&mut r, now + Duration::from_secs(60));
        (r, now, events)
    }

    #[test]
    fn the_38_session_is_echoed_nested_with_vad_defaults() {
        let (mut r, now) = responder(V38);
        let created = sent(&mut r, now);
        assert_eq!(
            created[0]["session"]["audio"]["output"]["voice"], "Tina",
            "3.8's default voice"
        );
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {
            "modalities": ["text", "audio"], "turn_detection": {"type": "semantic_vad"},
            "audio": {"output": {"voice": "longanlingxin", "format": {"type": "pcm", "sample_rate": 24000}},
                      "input": {"format": {"type": "pcm", "sample_rate": 16000}}}}}),
        );
        let events = sent(&mut r, now);
        let updated = &events
            .iter()
            .find(|e| e["type"] == "session.updated")
            .unwrap()["session"];
        assert_eq!(updated["audio"]["output"]["voice"], "longanlingxin");
        assert!(updated.get("voice").is_none());
        assert_eq!(updated["turn_detection"]["type"], "semantic_vad");
        assert_eq!(updated["turn_detection"]["create_response"], true);
        assert_eq!(updated["turn_detection"]["interrupt_response"], true);
    }

    #[test]
    fn tools_in_openai_realtime_flat_shape_are_noted_not_dropped_silently() {
        let (mut r, now) = responder("qwen3.5-omni-flash-realtime");
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {"tools": [
                {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
            ]}}),
        );
        let note = r
            .notes
            .iter()
            .find(|n| n.label == "tools.shape")
            .expect("a tools.shape note");
        assert!(note.detail.contains("`get_weather`"), "{}", note.detail);
        // The Chat-Completions shape is not noted.
        let (mut r, now) = responder("qwen3.5-omni-flash-realtime");
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {"tools": weather_tool()}}),
        );
        assert!(r.notes.iter().all(|n| n.label != "tools.shape"));
        assert_eq!(
            r.session.tools.as_ref().map(Vec::len),
            Some(1),
            "the update applied"
        );
    }

    #[test]
    fn legacy_models_echo_tools_empty_and_never_call() {
        let (_, _, events) = tool_turn("qwen3-omni-flash-realtime");
        let updated = events
            .iter()
            .find(|e| e["type"] == "session.updated")
            .unwrap();
        assert_eq!(updated["session"]["tools"], json!([]));
        assert!(events
            .iter()
            .all(|e| e["type"] != "response.function_call_arguments.done"));
    }

    #[test]
    fn a_35_call_goes_out_in_the_function_call_sequence_naming_the_function() {
        let (_, _, events) = tool_turn("qwen3.5-omni-flash-realtime");
        let kinds: Vec<&str> = events
            .iter()
            .filter_map(|e| e["type"].as_str())
            .filter(|t| t.starts_with("response.") || t.starts_with("conversation."))
            .collect();
        let call: Vec<&str> = kinds
            .iter()
            .copied()
            .skip_while(|t| *t != "response.created")
            .collect();
        assert_eq!(
            call,
            [
                "response.created",
                "response.output_item.added",
                "conversation.item.created",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.done"
            ]
        );
        let done = events
            .iter()
            .find(|e| e["type"] == "response.function_call_arguments.done")
            .unwrap();
        assert_eq!(done["name"], "get_weather");
        assert!(done["call_id"].is_string());
    }

    #[test]
    fn a_second_response_create_while_one_runs_is_refused_and_the_session_goes_on() {
        let (mut r, now) = responder(V38);
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {"instructions": "Say hi."}}),
        );
        send(&mut r, now, json!({"type": "response.create"}));
        send(
            &mut r,
            now,
            json!({"type": "response.create", "event_id": "event_2"}),
        );
        let events = sent(&mut r, now + Duration::from_secs(60));
        let refusal = events.iter().find(|e| e["type"] == "error").unwrap();
        assert_eq!(
            refusal["error"]["event_id"], "event_2",
            "names the refused event"
        );
        assert_eq!(
            errors(&events),
            ["conversation_already_has_active_response"]
        );
        let created = events
            .iter()
            .filter(|e| e["type"] == "response.created")
            .count();
        assert_eq!(created, 1);
        // Once it is done, a new one is taken.
        let later = now + Duration::from_secs(61);
        send(&mut r, later, json!({"type": "response.create"}));
        let events = sent(&mut r, later + Duration::from_secs(60));
        assert!(errors(&events).is_empty());
        assert!(events.iter().any(|e| e["type"] == "response.done"));
    }

    #[test]
    fn refusal_codes_are_settings() {
        let voice = Arc::from(vec![0i16; 2_400]);
        let mut config = ResponderConfig::with_voice(voice);
        config.dashscope_omni.codes.message_item = "invalid_parameter".into();
        let mut r = DashScopeResponder::new(V38, config, 7, None);
        let now = Instant::now();
        send(
            &mut r,
            now,
            json!({"type": "conversation.item.create", "item": {"type": "message",
            "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}),
        );
        assert_eq!(errors(&sent(&mut r, now)), ["invalid_parameter"]);
    }

    #[test]
    fn message_items_are_refused_on_38_and_a_call_takes_one_result() {
        let (mut r, now) = responder(V38);
        send(
            &mut r,
            now,
            json!({"type": "conversation.item.create", "item": {"type": "message",
            "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}),
        );
        let output = json!({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": "call_1", "output": "{}"}});
        send(&mut r, now, output.clone());
        send(&mut r, now, output);
        let events = sent(&mut r, now);
        assert_eq!(errors(&events), ["invalid_value", "invalid_value"]);
        let refusals: Vec<&Value> = events.iter().filter(|e| e["type"] == "error").collect();
        assert_eq!(refusals[0]["error"]["param"], "item.type");
        assert_eq!(refusals[1]["error"]["param"], "item.call_id");
        assert_eq!(refusals[0]["error"]["type"], "invalid_request_error");
        let created: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "conversation.item.created")
            .collect();
        assert_eq!(created.len(), 1, "only the first result entered");
        assert_eq!(created[0]["item"]["type"], "function_call_output");
    }

    #[test]
    fn search_with_tools_is_refused_where_search_exists() {
        let (mut r, now) = responder("qwen3.5-omni-plus-realtime");
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {
            "enable_search": true, "tools": weather_tool()}}),
        );
        let events = sent(&mut r, now);
        assert_eq!(errors(&events), ["invalid_value"]);
        assert!(events.iter().all(|e| e["type"] != "session.updated"));
        send(
            &mut r,
            now,
            json!({"type": "session.update", "session": {"enable_search": true}}),
        );
        assert!(errors(&sent(&mut r, now)).is_empty());
    }

    fn finish(model: &str, ack: Option<bool>) -> Vec<String> {
        let voice = Arc::from(vec![0i16; 2_400]);
        let mut config = ResponderConfig::with_voice(voice);
        config.dashscope_omni.finish_ack = ack;
        let mut r = DashScopeResponder::new(model, config, 7, None);
        let now = Instant::now();
        r.on_connect(now);
        send(&mut r, now, json!({"type": "session.finish"}));
        r.pop_due(now + Duration::from_secs(1))
            .into_iter()
            .map(|f| match f {
                Outgoing::Text { event_type, .. } => event_type.to_string(),
                Outgoing::Close { .. } => "close".into(),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn session_finish_is_acknowledged_per_family_and_switchably() {
        assert_eq!(finish(V38, None), ["session.created", "close"]);
        assert_eq!(
            finish("qwen3.5-omni-flash-realtime", None),
            ["session.created", "session.finished", "close"]
        );
        assert_eq!(
            finish(V38, Some(true)),
            ["session.created", "session.finished", "close"]
        );
    }
}
