//! The Qwen-Audio-Realtime respond engine.
//!
//! Qwen-Audio shares Qwen-Omni's turn-taking, response, cancellation and
//! tool-call behaviour, so this engine drives the Qwen-Omni responder
//! ([`DashScopeResponder`], itself the OpenAI-family responder in its beta
//! behaviour) and adds what is Qwen-Audio's own:
//!
//! - its session as the client sees it ([`view`](QwenAudioResponder)): the
//!   family's default voice, `fun-asr` transcription, `max_history_turns`,
//!   `smart_turn` echoed with the thresholds it ignores; the voice and the
//!   voiceprints are taken from the first `session.update` only, and turn
//!   detection cannot change after the first audio;
//! - `smart_turn`: the turn VAD runs at its default level whatever the
//!   client's threshold, and speech below that level is ambient — sent as
//!   `conversation.item.ambient_audio_transcription.delta/.completed` under a
//!   throw-away id, never a turn, never a reply, never a barge-in (the rule
//!   is [`super::ambient`], its levels [`QwenAudioSettings`]);
//! - user transcription as it is spoken: a `.delta {text:"", stash}` once the
//!   words are recognised, and `.delta {text, stash:""}` before
//!   `speech_stopped` (the settled text is sent whole — cumulative, one
//!   reading of an unconfirmed point);
//! - voiceprint registration: `voiceprint_audio_list.in_progress` before
//!   `session.updated`, then `.completed` or `.failed {reason}`;
//! - push-to-talk's commit and clear, ignored (with a note) in VAD modes;
//! - one response at a time, refused with the service's message, and
//!   `response.create` refused in `smart_turn` while the user speaks;
//! - item retrieve and delete ([`super::items`]), and a duplicate item id refused;
//! - no `session.finish` (refused by the protocol as an unknown event); the
//!   client closes.
//!
//! Not modelled: withdrawn turns (`speech_stopped {reason: "turn_invalid"}`)
//! — the mock has no semantic judgement that would withdraw a loud turn.

use super::ambient::{Heard, Segmenter};
use super::items::Items;
use super::settings::QwenAudioSettings;
use crate::dashscope::respond::DashScopeResponder;
use crate::dashscope::{error_frame, layer, SetupFault};
use crate::engine::{Note, SessionEngine};
use crate::protocol::FrameSummary;
use crate::timeline::{Outgoing, Timeline};
use crate::ResponderConfig;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::audio::Pcm;
use understudy_adapters::dashscope::wire::ClientEvent as OmniEvent;
use understudy_adapters::qwen_audio::wire::{
    voiceprint_urls, ClientEvent, Session, SessionUpdate, TurnDetection, VOICEPRINT_URLS,
};
use understudy_adapters::qwen_audio::{family, AudioFamily, INPUT_RATE, TRANSCRIPTION_MODEL};

/// Turn detection in the session: which mode, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `turn_detection: null`: the client commits.
    PushToTalk,
    /// `server_vad`.
    ServerVad,
    /// `smart_turn`.
    SmartTurn,
}

/// The respond engine for one Qwen-Audio session.
pub struct QwenAudioResponder {
    inner: DashScopeResponder,
    /// The session as the client is shown it.
    view: Session,
    settings: QwenAudioSettings,
    /// `voiceprint_delay` at the mock's speed.
    voiceprint_delay: Duration,
    /// How many `session.update`s were applied.
    updates: u32,
    /// Whether audio has been appended (turn detection is fixed from then on).
    audio_started: bool,
    segmenter: Segmenter,
    /// The user item whose speech is in progress (from `speech_started`).
    speaking_item: Option<String>,
    /// The words of the user's speech in progress, once recognised.
    words: Option<&'static str>,
    /// Whether the provisional transcript of `words` has gone out.
    stash_sent: bool,
    /// A response is running.
    responding: bool,
    items: Items,
    /// Frames due before anything the inner responder has queued.
    front: Vec<Outgoing>,
    own: Timeline,
    next_id: u64,
    notes: Vec<Note>,
}

/// The session a new connection gets (the protocol notes' example).
fn default_view(model: &str, family: &AudioFamily) -> Session {
    let mut session = Session {
        model: Some(model.into()),
        modalities: Some(vec!["text".into(), "audio".into()]),
        voice: Some(family.default_voice.into()),
        input_audio_format: Some("pcm".into()),
        output_audio_format: Some("pcm".into()),
        instructions: Some(String::new()),
        input_audio_transcription: Some(Some(json!({"model": TRANSCRIPTION_MODEL}))),
        turn_detection: Some(Some(vad_defaults(TurnDetection {
            kind: "server_vad".into(),
            ..Default::default()
        }))),
        tools: Some(vec![]),
        tool_choice: Some(json!("auto")),
        ..Default::default()
    };
    session.extra.insert("max_history_turns".into(), json!(20));
    session
}

/// The documented defaults for what a `turn_detection` leaves out (echoed
/// in `smart_turn` too, where they are ignored).
fn vad_defaults(mut td: TurnDetection) -> TurnDetection {
    td.threshold = td.threshold.or(Some(0.5));
    td.silence_duration_ms = td.silence_duration_ms.or(Some(800));
    td
}

impl QwenAudioResponder {
    /// A responder for `model`; `seed` makes its ids unique; `fault` makes set-up fail.
    pub fn new(model: &str, config: ResponderConfig, seed: u64, fault: Option<SetupFault>) -> Self {
        let family = family(model);
        let settings = (*config.qwen_audio).clone();
        let voiceprint_delay = config.delay(settings.voiceprint_delay.as_secs_f64() * 1000.0);
        let view = default_view(model, family);
        // The Omni engine's own defaults (server VAD at 0.5 / 800 ms,
        // transcription on) are this view's: it needs no configuring.
        let inner = DashScopeResponder::with_family(
            model,
            &understudy_adapters::qwen_audio::models::OMNI_ENGINE_RULES,
            config,
            seed,
            fault,
        );
        QwenAudioResponder {
            inner,
            view,
            segmenter: Segmenter::new(INPUT_RATE, settings.clone()),
            settings,
            voiceprint_delay,
            updates: 0,
            audio_started: false,
            speaking_item: None,
            words: None,
            stash_sent: false,
            responding: false,
            items: Items::default(),
            front: Vec::new(),
            own: Timeline::new(),
            next_id: seed << 32,
            notes: Vec::new(),
        }
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:x}", self.next_id)
    }

    /// A server event as a frame, with a fresh `event_id` first after `type`.
    fn frame(&mut self, event_type: &str, fields: Value) -> Outgoing {
        let mut event = serde_json::Map::new();
        event.insert("event_id".into(), json!(self.next_id("event")));
        event.insert("type".into(), json!(event_type));
        if let Value::Object(fields) = fields {
            event.extend(fields);
        }
        Outgoing::text(event_type, Value::Object(event).to_string())
    }

    fn error(&mut self, now: Instant, code: &str, message: &str, param: Option<&str>) {
        let text = error_frame("invalid_request_error", code, message, param);
        self.own.push(now, Outgoing::text("error", text));
    }

    fn mode(&self) -> Mode {
        match &self.view.turn_detection {
            Some(Some(td)) if td.kind == "smart_turn" => Mode::SmartTurn,
            Some(Some(_)) => Mode::ServerVad,
            _ => Mode::PushToTalk,
        }
    }

    fn forward(&mut self, event: OmniEvent, now: Instant) {
        self.inner
            .on_client_event(&event, &layer::forwarded(event.event_type()), now);
    }

    fn on_session_update(&mut self, update: &SessionUpdate, now: Instant) {
        let Some(update) = update.session.as_deref() else {
            self.updates += 1;
            self.forward(OmniEvent::SessionUpdate(SessionUpdate::default()), now);
            return;
        };
        if self.audio_started {
            if let Some(param) = self.locked_change(update) {
                let message =
                    format!("{param} can only be changed before the first audio is sent.");
                self.error(
                    now,
                    "invalid_value",
                    &message,
                    Some(&format!("session.{param}")),
                );
                return;
            }
        }
        let first = self.updates == 0;
        self.updates += 1;
        let registered = self.apply(update, first);
        if let Some(urls) = registered {
            let task = self.next_id("vp");
            let started = self.frame(
                "voiceprint_audio_list.in_progress",
                json!({"item_id": task}),
            );
            self.front.push(started);
            let end = match &self.settings.voiceprint_failure {
                None => self.frame("voiceprint_audio_list.completed", json!({"item_id": task})),
                Some(reason) => {
                    let reason = reason.clone();
                    self.frame(
                        "voiceprint_audio_list.failed",
                        json!({"item_id": task, "reason": reason}),
                    )
                }
            };
            self.own.push(now + self.voiceprint_delay, end);
            self.notes.push(Note::new(
                "voiceprint",
                format!("{} voiceprint sample(s) registered as {task}", urls.len()),
            ));
        }
        let inner = inner_session(&self.view);
        self.forward(
            OmniEvent::SessionUpdate(SessionUpdate {
                session: Some(Box::new(inner)),
                ..Default::default()
            }),
            now,
        );
    }

    /// The field a session update would change that is fixed once audio has
    /// flowed, if any.
    fn locked_change(&self, update: &Session) -> Option<&'static str> {
        let kind = |td: &Option<Option<TurnDetection>>| {
            td.as_ref().map(|td| td.as_ref().map(|td| td.kind.clone()))
        };
        if update.turn_detection.is_some()
            && kind(&update.turn_detection) != kind(&self.view.turn_detection)
        {
            return Some("turn_detection");
        }
        match &update.input_audio_format {
            Some(format) if Some(format) != self.view.input_audio_format.as_ref() => {
                Some("input_audio_format")
            }
            _ => None,
        }
    }

    /// Applies `update` to the view; the voiceprint URLs registered by it
    /// (first update, smart_turn), if any.
    fn apply(&mut self, update: &Session, first: bool) -> Option<Vec<String>> {
        let view = &mut self.view;
        macro_rules! take {
            ($($field:ident),*) => { $( if update.$field.is_some() { view.$field = update.$field.clone(); } )* };
        }
        take!(
            modalities,
            input_audio_format,
            output_audio_format,
            instructions,
            tools,
            tool_choice
        );
        if first && update.voice.is_some() {
            view.voice = update.voice.clone();
        } else if update.voice.is_some() && update.voice != view.voice {
            self.notes.push(Note::new(
                "voice_ignored",
                "the voice is set by the first session.update only; later values are ignored",
            ));
        }
        if let Some(transcription) = &update.input_audio_transcription {
            view.input_audio_transcription = Some(
                transcription
                    .as_ref()
                    .map(|_| json!({"model": TRANSCRIPTION_MODEL})),
            );
        }
        let mut registered = None;
        if let Some(td) = &update.turn_detection {
            let earlier = view
                .turn_detection
                .clone()
                .flatten()
                .and_then(|td| voiceprint_urls(&td));
            let new = td.clone().map(|td| {
                let mut td = vad_defaults(td);
                let urls = voiceprint_urls(&td);
                td.extra.remove(VOICEPRINT_URLS);
                let kept = if first { urls.clone() } else { earlier.clone() };
                if first && td.kind == "smart_turn" {
                    registered = urls.filter(|u| !u.is_empty());
                }
                if let (Some(kept), "smart_turn") = (kept, td.kind.as_str()) {
                    td.extra.insert(VOICEPRINT_URLS.into(), json!(kept));
                }
                td
            });
            view.turn_detection = Some(new);
        }
        for (key, value) in update.extra.iter() {
            view.extra.insert(key.clone(), value.clone());
        }
        registered
    }

    fn on_audio(&mut self, audio: &str, now: Instant) {
        self.audio_started = true;
        if self.mode() == Mode::PushToTalk {
            return;
        }
        let Ok(pcm) = Pcm::from_base64(audio) else {
            return;
        };
        let samples: Vec<i16> = pcm.samples().collect();
        for heard in self.segmenter.push(&samples) {
            match heard {
                Heard::UserWords { transcript } => {
                    self.words = Some(transcript);
                    if let Some(item) = self.speaking_item.clone() {
                        let delta = self.stash_delta(&item, transcript);
                        self.own.push(now, delta);
                        self.stash_sent = true;
                    }
                }
                Heard::Ambient { transcript } if self.mode() == Mode::SmartTurn => {
                    let item = self.next_id("item_ambient");
                    let text = transcript.unwrap_or_default();
                    let delta = self.frame(
                        "conversation.item.ambient_audio_transcription.delta",
                        json!({"item_id": item, "content_index": 0, "text": "", "stash": text}),
                    );
                    let done = self.frame(
                        "conversation.item.ambient_audio_transcription.completed",
                        json!({"item_id": item, "content_index": 0, "transcript": text}),
                    );
                    self.own.push(now, delta);
                    self.own.push(now, done);
                    self.notes.push(Note::new(
                        "ambient",
                        format!("speech below the turn level heard as ambient: {text:?}"),
                    ));
                }
                Heard::Ambient { .. } => self.notes.push(Note::new(
                    "vad",
                    "speech below the VAD level (not a turn in server_vad)",
                )),
            }
        }
    }

    fn stash_delta(&mut self, item: &str, transcript: &str) -> Outgoing {
        self.frame(
            "conversation.item.input_audio_transcription.delta",
            json!({"item_id": item, "content_index": 0, "text": "", "stash": transcript}),
        )
    }

    fn on_response_create(&mut self, event: &ClientEvent, now: Instant) {
        if self.responding {
            self.error(
                now,
                "invalid_value",
                "Cannot create response while another response is in progress.",
                Some("response.create"),
            );
            return;
        }
        if self.mode() == Mode::SmartTurn && self.speaking_item.is_some() {
            self.error(
                now,
                "invalid_value",
                "Cannot create response while the user is speaking.",
                Some("response.create"),
            );
            return;
        }
        if let ClientEvent::ResponseCreate(create) = event {
            self.forward(OmniEvent::ResponseCreate(create.clone()), now);
        }
    }

    /// Rewrites one frame of the inner responder into Qwen-Audio's shape and
    /// notes what it says; may add frames around it.
    fn patch(&mut self, frame: Outgoing, out: &mut Vec<Outgoing>) {
        let Outgoing::Text { event_type, text } = &frame else {
            out.push(frame);
            return;
        };
        let Ok(Value::Object(mut event)) = serde_json::from_str::<Value>(text) else {
            out.push(frame);
            return;
        };
        let event_type = Arc::clone(event_type);
        match &*event_type {
            "session.created" | "session.updated" => {
                let inner = event.remove("session").unwrap_or(Value::Null);
                let mut view = serde_json::to_value(&self.view).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut view {
                    for key in ["id", "object"] {
                        if let Some(v) = inner.get(key) {
                            map.insert(key.into(), v.clone());
                        }
                    }
                    map.remove("expires_at");
                }
                event.insert("session".into(), view);
            }
            "response.created" | "response.done" => {
                self.responding = &*event_type == "response.created";
                if let Some(Value::Object(response)) = event.get_mut("response") {
                    response.remove("output_audio_format");
                    response.remove("conversation_id");
                }
            }
            "input_audio_buffer.speech_started" => {
                let item = event
                    .get("item_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.speaking_item = item.clone();
                self.stash_sent = false;
                out.push(frame);
                if let (Some(item), Some(words)) = (item, self.words) {
                    let delta = self.stash_delta(&item, words);
                    out.push(delta);
                    self.stash_sent = true;
                }
                return;
            }
            "input_audio_buffer.speech_stopped" => {
                let item = event
                    .get("item_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let (Some(item), Some(words)) = (item, self.words.take()) {
                    let settled = self.frame(
                        "conversation.item.input_audio_transcription.delta",
                        json!({"item_id": item, "content_index": 0, "text": words, "stash": ""}),
                    );
                    out.push(settled);
                }
                self.speaking_item = None;
                self.stash_sent = false;
                out.push(frame);
                return;
            }
            _ => {}
        }
        let value = Value::Object(event);
        self.items.observe(&value);
        out.push(Outgoing::Text {
            event_type,
            text: Arc::from(value.to_string()),
        });
    }
}

/// The Omni-shaped session the inner responder runs on: `smart_turn` is
/// turn detection at the default level (its thresholds are ignored).
fn inner_session(view: &Session) -> Session {
    let turn_detection = view.turn_detection.clone().map(|td| {
        td.map(|td| match td.kind.as_str() {
            "smart_turn" => vad_defaults(TurnDetection {
                kind: "server_vad".into(),
                ..Default::default()
            }),
            _ => {
                let mut td = td;
                td.extra.clear();
                td
            }
        })
    });
    Session {
        modalities: view.modalities.clone(),
        instructions: view.instructions.clone(),
        input_audio_format: view.input_audio_format.clone(),
        output_audio_format: view.output_audio_format.clone(),
        input_audio_transcription: view.input_audio_transcription.clone(),
        turn_detection,
        tools: view.tools.clone(),
        tool_choice: view.tool_choice.clone(),
        ..Default::default()
    }
}

impl SessionEngine<ClientEvent> for QwenAudioResponder {
    fn label(&self) -> String {
        "respond".into()
    }

    fn on_connect(&mut self, now: Instant) {
        self.inner.on_connect(now);
    }

    fn on_client_event(&mut self, event: &ClientEvent, _summary: &FrameSummary, now: Instant) {
        // A turn the inner engine set aside ends before this event is read.
        self.inner.run_deferred();
        match event {
            ClientEvent::SessionUpdate(update) => self.on_session_update(update, now),
            ClientEvent::InputAudioBufferAppend(append) => {
                self.on_audio(&append.audio, now);
                self.forward(OmniEvent::InputAudioBufferAppend(append.clone()), now);
            }
            ClientEvent::InputAudioBufferCommit(e) | ClientEvent::InputAudioBufferClear(e) => {
                if self.mode() != Mode::PushToTalk {
                    self.notes.push(Note::new(
                        "ignored",
                        format!("`{}` is ignored with turn detection on", event.event_type()),
                    ));
                } else if matches!(event, ClientEvent::InputAudioBufferCommit(_)) {
                    self.forward(OmniEvent::InputAudioBufferCommit(e.clone()), now);
                } else {
                    self.forward(OmniEvent::InputAudioBufferClear(e.clone()), now);
                }
            }
            ClientEvent::ConversationItemCreate(create) => {
                if let Some(id) = create
                    .item
                    .id
                    .as_deref()
                    .filter(|id| self.items.contains(id))
                {
                    let message = format!("Item with id '{id}' already exists.");
                    self.error(now, "invalid_value", &message, Some("item.id"));
                    return;
                }
                self.forward(OmniEvent::ConversationItemCreate(create.clone()), now);
            }
            ClientEvent::ConversationItemRetrieve(e) => match self.items.retrieve(&e.item_id) {
                Some(item) => {
                    let frame = self.frame("conversation.item.retrieved", json!({"item": item}));
                    self.own.push(now, frame);
                }
                None => {
                    let message = format!("Item with id '{}' not found.", e.item_id);
                    self.error(now, "invalid_value", &message, Some("item_id"));
                }
            },
            ClientEvent::ConversationItemDelete(e) => {
                if self.items.delete(&e.item_id) {
                    let frame =
                        self.frame("conversation.item.deleted", json!({"item_id": e.item_id}));
                    self.own.push(now, frame);
                } else {
                    let message = format!("Item with id '{}' not found.", e.item_id);
                    self.error(now, "invalid_value", &message, Some("item_id"));
                }
            }
            ClientEvent::ResponseCreate(_) => self.on_response_create(event, now),
            ClientEvent::ResponseCancel(cancel) => {
                self.forward(OmniEvent::ResponseCancel(cancel.clone()), now)
            }
            ClientEvent::Unknown(_) => {}
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut due = std::mem::take(&mut self.front);
        for frame in self.inner.pop_due(now) {
            self.patch(frame, &mut due);
        }
        due.extend(self.own.pop_due(now));
        due
    }

    fn next_deadline(&self) -> Option<Instant> {
        if !self.front.is_empty() {
            return Some(Instant::now());
        }
        layer::earliest(self.inner.next_deadline(), self.own.next_deadline())
    }

    fn take_notes(&mut self) -> Vec<Note> {
        layer::take_notes(&mut self.notes, self.inner.take_notes())
    }

    fn has_deferred(&self) -> bool {
        self.inner.has_deferred()
    }

    fn run_deferred(&mut self) {
        self.inner.run_deferred();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    fn event(json: Value) -> ClientEvent {
        serde_json::from_value(json).expect("a valid client event")
    }

    fn summary() -> FrameSummary {
        layer::forwarded("")
    }

    fn responder() -> QwenAudioResponder {
        let voice = Arc::from(vec![500i16; 24_000]);
        let mut config = ResponderConfig::with_voice(voice);
        config.speed = 100.0;
        QwenAudioResponder::new("qwen-audio-3.1-realtime-plus", config, 7, None)
    }

    /// Everything sent up to `until`, as JSON events.
    fn sent(responder: &mut QwenAudioResponder, until: Instant) -> Vec<Value> {
        layer::sent_json(responder.pop_due(until))
    }

    fn types(events: &[Value]) -> Vec<&str> {
        events.iter().filter_map(|e| e["type"].as_str()).collect()
    }

    /// A bundled utterance at 16 kHz, every sample shifted right by `shift`
    /// bits, as 100 ms append events, with a second of silence after it.
    fn speak(name: &str, shift: u32) -> Vec<ClientEvent> {
        let (pcm, _) = understudy_fixtures::wav::read_pcm16(
            understudy_fixtures::bundled::audio(name).expect("clip"),
        )
        .expect("wav");
        let mut samples: Vec<i16> = pcm
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]) >> shift)
            .collect();
        samples.extend(vec![0; 16_000]);
        samples
            .chunks(1_600)
            .map(|chunk| {
                let bytes: Vec<u8> = chunk.iter().flat_map(|s| s.to_le_bytes()).collect();
                event(json!({"type": "input_audio_buffer.append", "audio": STANDARD.encode(bytes)}))
            })
            .collect()
    }

    /// Feeds `events` 100 ms apart from `start`; everything sent by the end.
    fn play(
        r: &mut QwenAudioResponder,
        events: &[ClientEvent],
        start: Instant,
    ) -> (Vec<Value>, Instant) {
        let mut now = start;
        let mut out = Vec::new();
        for e in events {
            r.on_client_event(e, &summary(), now);
            out.extend(sent(r, now));
            now += Duration::from_millis(100);
        }
        out.extend(sent(r, now + Duration::from_secs(30)));
        (out, now + Duration::from_secs(30))
    }

    #[test]
    fn voiceprint_progress_comes_before_session_updated_and_completes_later() {
        let mut r = responder();
        let now = Instant::now();
        r.on_connect(now);
        let created = sent(&mut r, now);
        assert_eq!(types(&created), ["session.created"]);
        assert_eq!(created[0]["session"]["voice"], "longanqian_v3.1");
        assert_eq!(
            created[0]["session"]["input_audio_transcription"]["model"],
            "fun-asr"
        );
        assert!(created[0]["session"].get("expires_at").is_none());
        r.on_client_event(
            &event(json!({"type": "session.update", "session": {"voice": "cally_v3.1",
                "turn_detection": {"type": "smart_turn", "voiceprint_audio_urls": ["https://example.com/me.wav"]}}})),
            &summary(),
            now,
        );
        let first = sent(&mut r, now);
        assert_eq!(
            types(&first),
            ["voiceprint_audio_list.in_progress", "session.updated"]
        );
        let session = &first[1]["session"];
        assert_eq!(session["voice"], "cally_v3.1");
        assert_eq!(session["turn_detection"]["type"], "smart_turn");
        assert_eq!(
            session["turn_detection"]["threshold"], 0.5,
            "echoed though ignored"
        );
        assert_eq!(
            session["turn_detection"]["voiceprint_audio_urls"][0],
            "https://example.com/me.wav"
        );
        let later = sent(&mut r, now + Duration::from_secs(1));
        assert_eq!(types(&later), ["voiceprint_audio_list.completed"]);
        assert_eq!(later[0]["item_id"], first[0]["item_id"]);
        // A second update: voice and voiceprints are the first update's.
        r.on_client_event(
            &event(json!({"type": "session.update", "session": {"voice": "longanqian",
                "turn_detection": {"type": "smart_turn", "voiceprint_audio_urls": ["https://example.com/other.wav"]}}})),
            &summary(),
            now,
        );
        let second = sent(&mut r, now + Duration::from_secs(2));
        assert_eq!(types(&second), ["session.updated"]);
        assert_eq!(second[0]["session"]["voice"], "cally_v3.1");
        assert_eq!(
            second[0]["session"]["turn_detection"]["voiceprint_audio_urls"][0],
            "https://example.com/me.wav"
        );
    }

    #[test]
    fn a_failing_voiceprint_is_reported_with_the_configured_reason() {
        let mut config = ResponderConfig::with_voice(Arc::from(vec![0i16; 2_400]));
        config.qwen_audio.voiceprint_failure = Some("download timeout".into());
        let mut r = QwenAudioResponder::new("qwen-audio-3.1-realtime-plus", config, 1, None);
        let now = Instant::now();
        r.on_client_event(
            &event(json!({"type": "session.update", "session": {
                "turn_detection": {"type": "smart_turn", "voiceprint_audio_urls": ["https://x/y.wav"]}}})),
            &summary(),
            now,
        );
        let events = sent(&mut r, now + Duration::from_secs(5));
        let failed = events
            .iter()
            .find(|e| e["type"] == "voiceprint_audio_list.failed")
            .expect("failed");
        assert_eq!(failed["reason"], "download timeout");
    }

    #[test]
    fn in_smart_turn_a_bystander_is_ambient_and_the_user_is_answered() {
        let mut r = responder();
        let now = Instant::now();
        r.on_connect(now);
        r.on_client_event(
            &event(json!({"type": "session.update", "session": {"turn_detection": {"type": "smart_turn"}}})),
            &summary(),
            now,
        );
        let _ = sent(&mut r, now);
        let (ambient, then) = play(&mut r, &speak("user-order-16k.wav", 4), now);
        assert_eq!(
            types(&ambient),
            [
                "conversation.item.ambient_audio_transcription.delta",
                "conversation.item.ambient_audio_transcription.completed"
            ],
            "no turn, no response for a bystander"
        );
        assert_eq!(
            ambient[1]["transcript"],
            "Can you check the status of order A seventeen?"
        );
        let (turn, _) = play(&mut r, &speak("user-weather-16k.wav", 0), then);
        let order = types(&turn);
        let at = |t: &str| {
            order
                .iter()
                .position(|x| *x == t)
                .unwrap_or_else(|| panic!("{t} in {order:?}"))
        };
        assert!(
            at("input_audio_buffer.speech_started")
                < at("conversation.item.input_audio_transcription.delta")
        );
        assert!(
            at("conversation.item.input_audio_transcription.delta")
                < at("input_audio_buffer.speech_stopped")
        );
        assert!(at("input_audio_buffer.speech_stopped") < at("response.created"));
        assert!(at("response.created") < at("response.done"));
        let deltas: Vec<(&Value, &Value)> = turn
            .iter()
            .filter(|e| e["type"] == "conversation.item.input_audio_transcription.delta")
            .map(|e| (&e["text"], &e["stash"]))
            .collect();
        let words = json!("What is the weather like in Paris today?");
        assert_eq!(deltas, [(&json!(""), &words), (&words, &json!(""))]);
        assert!(!order.iter().any(|t| t.contains("ambient")));
        let done = turn.iter().find(|e| e["type"] == "response.done").unwrap();
        assert!(done["response"].get("output_audio_format").is_none());
    }

    #[test]
    fn in_server_vad_quiet_speech_is_neither_ambient_nor_a_turn() {
        let mut r = responder();
        let now = Instant::now();
        r.on_connect(now);
        let _ = sent(&mut r, now);
        let (events, _) = play(&mut r, &speak("user-order-16k.wav", 4), now);
        assert!(events.is_empty(), "{:?}", types(&events));
    }

    #[test]
    fn turn_detection_is_fixed_once_audio_flows_and_one_response_runs_at_a_time() {
        let mut r = responder();
        let now = Instant::now();
        r.on_connect(now);
        let _ = sent(&mut r, now);
        r.on_client_event(&speak("user-weather-16k.wav", 0)[0], &summary(), now);
        r.on_client_event(
            &event(json!({"type": "session.update", "session": {"turn_detection": null}})),
            &summary(),
            now,
        );
        let refused = sent(&mut r, now);
        assert_eq!(types(&refused), ["error"]);
        assert_eq!(refused[0]["error"]["param"], "session.turn_detection");
        let text = event(
            json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Hello there"}]}}),
        );
        r.on_client_event(&text, &summary(), now);
        r.on_client_event(
            &event(json!({"type": "response.create", "response": {}})),
            &summary(),
            now,
        );
        let started = sent(&mut r, now + Duration::from_millis(1));
        assert!(
            types(&started).contains(&"response.created"),
            "{:?}",
            types(&started)
        );
        r.on_client_event(&event(json!({"type": "response.create"})), &summary(), now);
        let second = sent(&mut r, now + Duration::from_millis(1));
        let error = second
            .iter()
            .find(|e| e["type"] == "error")
            .expect("refused");
        assert_eq!(
            error["error"]["message"],
            "Cannot create response while another response is in progress."
        );
        assert_eq!(error["error"]["param"], "response.create");
        let rest = sent(&mut r, now + Duration::from_secs(30));
        assert!(types(&rest).contains(&"response.done"));
    }

    #[test]
    fn items_are_retrieved_as_seen_deleted_once_and_ids_are_unique() {
        let mut r = responder();
        let now = Instant::now();
        r.on_connect(now);
        let create = event(
            json!({"type": "conversation.item.create", "item": {"id": "item_mine", "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Hi"}]}}),
        );
        r.on_client_event(&create, &summary(), now);
        let _ = sent(&mut r, now);
        r.on_client_event(&create, &summary(), now);
        r.on_client_event(
            &event(json!({"type": "conversation.item.retrieve", "item_id": "item_mine"})),
            &summary(),
            now,
        );
        r.on_client_event(
            &event(json!({"type": "conversation.item.delete", "item_id": "item_mine"})),
            &summary(),
            now,
        );
        r.on_client_event(
            &event(json!({"type": "conversation.item.delete", "item_id": "item_mine"})),
            &summary(),
            now,
        );
        let events = sent(&mut r, now);
        assert_eq!(
            types(&events),
            [
                "error",
                "conversation.item.retrieved",
                "conversation.item.deleted",
                "error"
            ]
        );
        assert_eq!(events[0]["error"]["param"], "item.id");
        assert_eq!(events[1]["item"]["content"][0]["text"], "Hi");
        assert_eq!(events[2]["item_id"], "item_mine");
    }

    #[test]
    fn commit_is_ignored_with_turn_detection_on() {
        let mut r = responder();
        let now = Instant::now();
        r.on_connect(now);
        let _ = sent(&mut r, now);
        r.on_client_event(
            &event(json!({"type": "input_audio_buffer.commit"})),
            &summary(),
            now,
        );
        assert!(sent(&mut r, now + Duration::from_secs(1)).is_empty());
        assert!(r.take_notes().iter().any(|n| n.label == "ignored"));
    }
}
