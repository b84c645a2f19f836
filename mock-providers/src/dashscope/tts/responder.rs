//! The Qwen-TTS respond engine: buffers appended text, cuts it into
//! responses (at sentence ends in `server_commit` mode, on commits in
//! `commit` mode, the rest on `session.finish`), speaks each in the bundled
//! voice one after another, and withdraws queued audio on cancel.

use super::{SENTENCE_ENDS, UPDATE_TOO_LATE, UTTERANCE_MS};
use crate::dashscope::{error_frame, SetupFault};
use crate::engine::{Note, SessionEngine};
use crate::protocol::FrameSummary;
use crate::timeline::{Outgoing, Timeline};
use crate::ResponderConfig;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::time::Instant;
use understudy_adapters::audio::Pcm;
use understudy_adapters::dashscope::tts::wire::{Mode, TtsClientEvent, TtsSession};

/// The respond engine for one Qwen-TTS session.
pub struct TtsResponder {
    pub(super) config: ResponderConfig,
    session: TtsSession,
    pub(super) buffer: String,
    /// Text was appended since the last commit (or clear): a commit now is
    /// acknowledged even if segmentation already spoke the text.
    appended_since_commit: bool,
    /// `server_commit` mode: when the buffer is next cut at its last sentence end.
    segment_at: Option<Instant>,
    /// Synthesis has begun: settings can no longer change.
    started: bool,
    finishing: bool,
    /// When the last scheduled response ends: the next one starts after it.
    busy_until: Option<Instant>,
    /// Responses still going out, with their item ids, oldest first.
    in_flight: Vec<(String, String, Instant)>,
    timeline: Timeline,
    next_id: u64,
    notes: Vec<Note>,
    /// The set-up fault to inject on the first `session.update`, if any.
    fault: Option<SetupFault>,
}

impl TtsResponder {
    /// A responder for `model`; `seed` makes its ids unique.
    pub fn new(model: &str, config: ResponderConfig, seed: u64) -> Self {
        TtsResponder {
            config,
            session: TtsSession {
                object: Some("realtime.session".into()),
                model: Some(model.into()),
                voice: Some("Cherry".into()),
                mode: Some(Mode::ServerCommit.as_str().into()),
                language_type: Some("Auto".into()),
                response_format: Some("pcm".into()),
                sample_rate: Some(24_000),
                ..Default::default()
            },
            buffer: String::new(),
            appended_since_commit: false,
            segment_at: None,
            started: false,
            finishing: false,
            busy_until: None,
            in_flight: Vec::new(),
            timeline: Timeline::new(),
            next_id: seed << 32,
            notes: Vec::new(),
            fault: None,
        }
    }

    /// With a set-up fault: the first `session.update` is answered the way
    /// `fault` says instead of `session.updated` (as on Qwen-Omni sessions).
    pub fn with_fault(mut self, fault: Option<SetupFault>) -> Self {
        self.fault = fault;
        self
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:024x}", self.next_id)
    }

    fn send(&mut self, at: Instant, event: Value, tag: Option<&Arc<str>>) {
        let event_type = event["type"].as_str().unwrap_or("").to_owned();
        let id = self.id("event");
        let frame = Outgoing::with_event_id(&event_type, &event, id);
        self.timeline.push_tagged(at, frame, tag.cloned());
    }

    fn error(&mut self, now: Instant, code: &str, message: &str, param: Option<&str>) {
        let text = error_frame("invalid_request_error", code, message, param);
        self.timeline.push(now, Outgoing::text("error", text));
    }

    fn session_event(&self, event_type: &str) -> Value {
        json!({"type": event_type, "session": self.session})
    }

    /// Speaks `text` as one response, after any response still going out.
    fn respond(&mut self, text: String, now: Instant) {
        self.started = true;
        let response_id = self.id("resp");
        let item_id = self.id("item");
        let tag: Arc<str> = Arc::from(response_id.as_str());
        let start = self.busy_until.map_or(now, |busy| busy.max(now));
        let rate = self.session.sample_rate.unwrap_or(24_000);
        let samples = crate::voice::speak(&self.config.voice, &text, rate, UTTERANCE_MS);
        let wav = self.session.response_format.as_deref() == Some("wav");
        let mut bytes: Vec<u8> = Pcm::from_samples(&samples).0;
        if wav {
            bytes = wav_bytes(&bytes, rate);
        }
        let part = json!({"type": "audio"});
        let item = |status: &str| {
            json!({"id": item_id, "object": "realtime.item", "type": "message",
                   "role": "assistant", "status": status, "content": [part]})
        };
        let voice = self.session.voice.clone();
        let response = |status: &str, output: Value| {
            json!({"id": response_id, "object": "realtime.response", "status": status,
                   "voice": voice, "output": output})
        };
        self.send(
            start,
            json!({"type": "response.created", "response": response("in_progress", json!([]))}),
            Some(&tag),
        );
        self.send(start, json!({"type": "response.output_item.added", "response_id": response_id, "output_index": 0, "item": item("in_progress")}), Some(&tag));
        self.send(start, json!({"type": "response.content_part.added", "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0, "part": part}), Some(&tag));
        let mut at = start + self.config.delay(self.config.first_audio_ms as f64);
        let chunk_bytes = (rate as u64 * self.config.chunk_ms / 1000 * 2).max(2) as usize;
        for chunk in bytes.chunks(chunk_bytes) {
            self.send(at, json!({"type": "response.audio.delta", "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0, "delta": Pcm(chunk.to_vec()).to_base64()}), Some(&tag));
            let chunk_ms = chunk.len() as f64 / 2.0 / f64::from(rate) * 1000.0;
            at += self.config.delay(chunk_ms * self.config.pace);
        }
        let refs = json!({"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0});
        let done = |kind: &str, extra: Value| {
            let mut event = refs.clone();
            event["type"] = json!(kind);
            if let (Value::Object(map), Value::Object(more)) = (&mut event, extra) {
                map.extend(more);
            }
            event
        };
        let audio_done = done("response.audio.done", json!({}));
        let part_done = done("response.content_part.done", json!({"part": part}));
        self.send(at, audio_done, Some(&tag));
        self.send(at, part_done, Some(&tag));
        self.send(at, json!({"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": item("completed")}), Some(&tag));
        let mut finished = response("completed", json!([item("completed")]));
        finished["usage"] = json!({"characters": text.chars().count()});
        self.send(
            at,
            json!({"type": "response.done", "response": finished}),
            Some(&tag),
        );
        self.busy_until = Some(at);
        self.in_flight.push((response_id, item_id, at));
        self.notes.push(Note::new(
            "tts.response",
            format!(
                "{} characters, {} bytes of audio",
                text.chars().count(),
                bytes.len()
            ),
        ));
    }

    /// In `server_commit` mode: plans a cut once the buffer holds a sentence
    /// end (one holdback after the first one seen).
    fn plan_segment(&mut self, now: Instant) {
        if self.config.tts_holdback.is_zero() {
            self.speak_complete_sentences(now);
        } else if self.segment_at.is_none() && self.buffer.contains(SENTENCE_ENDS) {
            let holdback = self.config.tts_holdback.as_secs_f64() * 1000.0;
            self.segment_at = Some(now + self.config.delay(holdback));
        }
    }

    /// In `server_commit` mode: speaks the buffer up to its last sentence end.
    fn speak_complete_sentences(&mut self, now: Instant) {
        let Some(cut) = self
            .buffer
            .char_indices()
            .rfind(|(_, c)| SENTENCE_ENDS.contains(c))
            .map(|(i, c)| i + c.len_utf8())
        else {
            return;
        };
        let rest = self.buffer.split_off(cut);
        let piece = std::mem::replace(&mut self.buffer, rest);
        if !piece.trim().is_empty() {
            self.respond(piece, now);
        }
    }

    fn cancel(&mut self, now: Instant) {
        self.in_flight.retain(|(_, _, end)| *end > now);
        let Some((response_id, _, _)) = self.in_flight.first().cloned() else {
            self.error(
                now,
                "response_cancel_not_active",
                "There is no active response to cancel.",
                None,
            );
            return;
        };
        // Everything still queued goes, the one speaking ends as cancelled.
        for (id, _, _) in std::mem::take(&mut self.in_flight) {
            self.timeline.withdraw(&id);
        }
        self.busy_until = None;
        self.send(
            now,
            json!({"type": "response.done", "response": {"id": response_id, "object": "realtime.response", "status": "cancelled", "output": []}}),
            None,
        );
        self.notes
            .push(Note::new("tts.cancel", format!("{response_id} cancelled")));
    }
}

/// PCM16 mono bytes with a 44-byte WAV header.
fn wav_bytes(pcm: &[u8], rate: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(pcm.len() + 44);
    let data = pcm.len() as u32;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.extend_from_slice(pcm);
    out
}

impl SessionEngine<TtsClientEvent> for TtsResponder {
    fn label(&self) -> String {
        "respond".into()
    }

    fn on_connect(&mut self, now: Instant) {
        self.session.id = Some(self.id("sess"));
        let created = self.session_event("session.created");
        self.send(now, created, None);
        // The session limit ends TTS sessions as it ends Qwen-Omni ones.
        if let Some(limit) = self.config.session_limit {
            for frame in self.config.dashscope_expiry.frames(limit) {
                self.timeline.push(now + limit, frame);
            }
        }
    }

    fn on_client_event(&mut self, event: &TtsClientEvent, _summary: &FrameSummary, now: Instant) {
        if self.finishing {
            self.notes.push(Note::new(
                "tts.after_finish",
                format!("`{}` after session.finish; ignored", event.event_type()),
            ));
            return;
        }
        match event {
            TtsClientEvent::SessionUpdate(update) => {
                if let Some(fault) = self.fault.take() {
                    fault.inject(now, &mut self.timeline, &mut self.notes);
                    return;
                }
                if self.started {
                    self.error(now, "invalid_value", UPDATE_TOO_LATE, None);
                    return;
                }
                merge_session(&mut self.session, &update.session);
                let updated = self.session_event("session.updated");
                self.send(now, updated, None);
            }
            TtsClientEvent::InputTextBufferAppend(append) => {
                self.buffer.push_str(&append.text);
                self.appended_since_commit |= !append.text.trim().is_empty();
                let mode = self.session.mode.as_deref().and_then(Mode::from_wire);
                if mode.unwrap_or_default() == Mode::ServerCommit {
                    self.plan_segment(now);
                }
            }
            TtsClientEvent::InputTextBufferCommit(_) => {
                let appended = std::mem::take(&mut self.appended_since_commit);
                if !appended && self.buffer.trim().is_empty() {
                    // Unconfirmed code: named like Omni's empty audio commit.
                    self.error(
                        now,
                        "input_text_buffer_commit_empty",
                        "Error committing input text buffer: the buffer is empty.",
                        None,
                    );
                    return;
                }
                self.segment_at = None;
                let item_id = self.id("item");
                self.send(
                    now,
                    json!({"type": "input_text_buffer.committed", "item_id": item_id}),
                    None,
                );
                let text = std::mem::take(&mut self.buffer);
                if !text.trim().is_empty() {
                    self.respond(text, now);
                }
            }
            TtsClientEvent::InputTextBufferClear(_) => {
                self.buffer.clear();
                self.segment_at = None;
                self.appended_since_commit = false;
                self.send(now, json!({"type": "input_text_buffer.cleared"}), None);
            }
            TtsClientEvent::ResponseCancel(_) => self.cancel(now),
            TtsClientEvent::SessionFinish(_) => {
                self.segment_at = None;
                let text = std::mem::take(&mut self.buffer);
                if !text.trim().is_empty() {
                    self.respond(text, now);
                }
                self.finishing = true;
                let at = self.busy_until.map_or(now, |busy| busy.max(now));
                self.send(at, json!({"type": "session.finished"}), None);
                self.timeline.push(
                    at,
                    Outgoing::Close {
                        code: 1000,
                        reason: "session finished".into(),
                    },
                );
            }
            TtsClientEvent::Unknown(_) => {}
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        if let Some(at) = self.segment_at.filter(|at| *at <= now) {
            self.segment_at = None;
            self.speak_complete_sentences(at);
        }
        self.timeline.pop_due(now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        match (self.timeline.next_deadline(), self.segment_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }
}

/// Applies the fields a `session.update` sets.
fn merge_session(session: &mut TtsSession, update: &TtsSession) {
    macro_rules! take {
        ($($field:ident),*) => {$(
            if update.$field.is_some() {
                session.$field = update.$field.clone();
            }
        )*};
    }
    take!(
        voice,
        mode,
        language_type,
        response_format,
        sample_rate,
        speech_rate,
        volume,
        pitch_rate
    );
    for (key, value) in &update.extra {
        session.extra.insert(key.clone(), value.clone());
    }
}
