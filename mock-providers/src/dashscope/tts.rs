//! The DashScope Qwen-TTS realtime dialect of the mock: the same path as
//! Qwen-Omni (`/api-ws/v1/realtime?model=…tts…`), routed by model.
//!
//! Validation answers with DashScope's `error` event and the session goes on.
//! The respond engine buffers appended text and speaks it in the bundled voice:
//! in `server_commit` mode once the buffer holds a sentence end, after an
//! optional holdback ([`ResponderConfig::tts_holdback`], default none; a mock
//! heuristic: the service's own segmentation is undocumented), in `commit` mode on each
//! commit, and whatever is left on `session.finish`, after which it confirms
//! with `session.finished` and closes (code 1000, *unconfirmed*). Responses
//! are spoken one after another, never overlapping.
//!
//! A commit is answered `input_text_buffer.committed` whenever text was
//! appended since the last commit, even if `server_commit` segmentation has
//! already spoken all of it (the captured flow of protocol notes §5.1: append,
//! commit → committed and one response, no error). Only a commit with nothing
//! appended since the last one gets `input_text_buffer_commit_empty`.
//!
//! Set-up faults ([`super::SetupFault`]) and the session limit apply here as
//! they do to Qwen-Omni sessions.

use super::{error_frame, SetupFault};
use crate::engine::{Note, SessionEngine};
use crate::ResponderConfig;
use crate::protocol::{check_envelope, serde_rejection, FrameError, FrameSummary, Protocol};
use crate::timeline::{Outgoing, Timeline};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::audio::Pcm;
use understudy_adapters::dashscope::tts::wire::{Mode, TtsClientEvent, TtsSession};
use understudy_adapters::dashscope::tts::DIALECT;

/// Output rates the service lists (the SDK docstring adds 22050 and 44100).
const SAMPLE_RATES: &[u32] = &[8000, 16000, 22050, 24000, 44100, 48000];
/// Formats this mock speaks. The service also offers `mp3` and `opus`; the mock
/// refuses those with an error that says so rather than sending wrong bytes.
const FORMATS: &[&str] = &["pcm", "wav"];
/// Formats the service documents.
const SERVICE_FORMATS: &[&str] = &["pcm", "wav", "mp3", "opus"];
/// Sentence ends after which `server_commit` mode speaks (ASCII and full-width).
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '\n', '。', '！', '？', '；'];
/// Shortest and longest utterance per response, in milliseconds.
const UTTERANCE_MS: (u64, u64) = (200, 60_000);
/// The documented message for a settings change once synthesis has begun.
const UPDATE_TOO_LATE: &str =
    "Session update error: session already started or finished or failed.";

/// Qwen-TTS realtime as the session loop sees it.
#[derive(Debug, Clone)]
pub struct DashScopeTtsProtocol {
    /// The model the client asked for.
    pub model: String,
}

impl Protocol for DashScopeTtsProtocol {
    type Event = TtsClientEvent;

    fn name(&self) -> &str {
        DIALECT
    }

    fn parse(&self, text: &str, max_frame_bytes: usize) -> Result<TtsClientEvent, FrameError> {
        let (_, map) = check_envelope(text, max_frame_bytes, TtsClientEvent::KNOWN_TYPES)?;
        if let Some(session) = map.get("session") {
            check_session(session)?;
        }
        let event: TtsClientEvent =
            serde_json::from_value(Value::Object(map)).map_err(|e| serde_rejection(&e))?;
        Ok(event)
    }

    fn summarise(&self, event: &TtsClientEvent) -> FrameSummary {
        FrameSummary {
            event_type: event.event_type().to_owned(),
            key: Value::Null,
            audio_ms: None,
        }
    }

    fn rejection(&self, rejection: &FrameError) -> Vec<Outgoing> {
        vec![Outgoing::text(
            "error",
            error_frame(
                "invalid_request_error",
                rejection.code,
                &rejection.message,
                rejection.param.as_deref(),
            ),
        )]
    }

    /// DashScope refuses a bad key at the HTTP upgrade.
    fn auth_failure(&self) -> Vec<Outgoing> {
        Vec::new()
    }

    fn answers(&self, server_type: &str) -> Option<&'static str> {
        match server_type {
            "session.updated" => Some("session.update"),
            "input_text_buffer.committed" => Some("input_text_buffer.commit"),
            "input_text_buffer.cleared" => Some("input_text_buffer.clear"),
            "session.finished" => Some("session.finish"),
            _ => None,
        }
    }
}

fn invalid(field: &str, message: String) -> FrameError {
    FrameError::new("invalid_value", message).param(format!("session.{field}"))
}

fn check_session(session: &Value) -> Result<(), FrameError> {
    if let Some(voice) = session.get("voice") {
        if voice.as_str().is_none_or(|v| v.trim().is_empty()) {
            return Err(invalid(
                "voice",
                "Invalid voice: a voice name is required.".into(),
            ));
        }
    }
    if let Some(format) = session.get("response_format").and_then(Value::as_str) {
        if !SERVICE_FORMATS.contains(&format) {
            return Err(invalid(
                "response_format",
                format!("Invalid response_format: '{format}'. Supported values are: pcm, wav, mp3, opus."),
            ));
        }
        if !FORMATS.contains(&format) {
            return Err(invalid(
                "response_format",
                format!("response_format '{format}' is not produced by understudy's mock; use pcm or wav."),
            ));
        }
    }
    if let Some(rate) = session.get("sample_rate") {
        let ok = rate
            .as_u64()
            .is_some_and(|r| SAMPLE_RATES.iter().any(|s| u64::from(*s) == r));
        if !ok {
            return Err(invalid(
                "sample_rate",
                format!("Invalid sample_rate: {rate}. Supported values are: 8000, 16000, 22050, 24000, 44100, 48000."),
            ));
        }
    }
    if let Some(mode) = session.get("mode") {
        if mode.as_str().and_then(Mode::from_wire).is_none() {
            return Err(invalid(
                "mode",
                format!("Invalid mode: {mode}. Supported values are: server_commit, commit."),
            ));
        }
    }
    Ok(())
}

/// The respond engine for one Qwen-TTS session.
pub struct TtsResponder {
    config: ResponderConfig,
    session: TtsSession,
    buffer: String,
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

    fn delay(&self, ms: f64) -> Duration {
        Duration::from_secs_f64((ms / 1000.0 / self.config.speed.max(1e-6)).max(0.0))
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
        let mut at = start + self.delay(self.config.first_audio_ms as f64);
        let chunk_bytes = (rate as u64 * self.config.chunk_ms / 1000 * 2).max(2) as usize;
        for chunk in bytes.chunks(chunk_bytes) {
            self.send(at, json!({"type": "response.audio.delta", "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0, "delta": Pcm(chunk.to_vec()).to_base64()}), Some(&tag));
            let chunk_ms = chunk.len() as f64 / 2.0 / f64::from(rate) * 1000.0;
            at += self.delay(chunk_ms * self.config.pace);
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
            self.segment_at = Some(now + self.delay(holdback));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TtsClientEvent, FrameError> {
        DashScopeTtsProtocol {
            model: "qwen3-tts-flash-realtime".into(),
        }
        .parse(text, 1 << 20)
    }

    #[test]
    fn the_sdk_default_session_is_accepted() {
        let frame = r#"{"event_id":"event_1","type":"session.update","session":{"voice":"Cherry","mode":"server_commit","response_format":"pcm","sample_rate":24000}}"#;
        assert!(parse(frame).is_ok());
    }

    #[test]
    fn bad_settings_name_their_field() {
        let cases = [
            (
                r#"{"type":"session.update","session":{"sample_rate":12345}}"#,
                "session.sample_rate",
            ),
            (
                r#"{"type":"session.update","session":{"response_format":"flac"}}"#,
                "session.response_format",
            ),
            (
                r#"{"type":"session.update","session":{"mode":"eager"}}"#,
                "session.mode",
            ),
            (
                r#"{"type":"session.update","session":{"voice":""}}"#,
                "session.voice",
            ),
        ];
        for (frame, param) in cases {
            let error = parse(frame).unwrap_err();
            assert_eq!(
                (error.code, error.param.as_deref()),
                ("invalid_value", Some(param)),
                "{frame}"
            );
        }
        assert_eq!(
            parse(r#"{"type":"input_text_buffer.append"}"#)
                .unwrap_err()
                .code,
            "missing_required_parameter"
        );
        let omni_only = parse(r#"{"type":"input_audio_buffer.append","audio":""}"#).unwrap_err();
        assert_eq!(
            (omni_only.code, omni_only.param.as_deref()),
            ("invalid_value", Some("type"))
        );
    }

    fn frames(responder: &mut TtsResponder, at: Instant) -> Vec<Value> {
        responder
            .pop_due(at)
            .into_iter()
            .filter_map(|f| match f {
                Outgoing::Text { text, .. } => serde_json::from_str(&text).ok(),
                _ => None,
            })
            .collect()
    }

    fn kinds(frames: &[Value]) -> Vec<String> {
        frames
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    fn event(text: &str) -> TtsClientEvent {
        parse(text).unwrap()
    }

    fn feed(responder: &mut TtsResponder, text: &str, now: Instant) {
        let e = event(text);
        let summary = FrameSummary {
            event_type: e.event_type().into(),
            key: Value::Null,
            audio_ms: None,
        };
        responder.on_client_event(&e, &summary, now);
    }

    fn responder() -> TtsResponder {
        let mut config = ResponderConfig::with_voice(Arc::from(vec![100i16; 2400]));
        config.speed = 1000.0;
        TtsResponder::new("qwen3-tts-flash-realtime", config, 1)
    }

    #[test]
    fn server_commit_speaks_each_complete_sentence_then_finishes() {
        let mut r = responder();
        let t0 = Instant::now();
        r.on_connect(t0);
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":"Hello there. How"}"#,
            t0,
        );
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":" are you"}"#,
            t0,
        );
        feed(&mut r, r#"{"type":"session.finish"}"#, t0);
        let later = t0 + Duration::from_secs(3600);
        let all = frames(&mut r, later);
        let kinds = kinds(&all);
        assert_eq!(
            kinds.iter().filter(|k| *k == "response.created").count(),
            2,
            "{kinds:?}"
        );
        assert_eq!(kinds.first().map(String::as_str), Some("session.created"));
        assert_eq!(kinds.last().map(String::as_str), Some("session.finished"));
        let characters: Vec<u64> = all
            .iter()
            .filter(|f| f["type"] == "response.done")
            .map(|f| f["response"]["usage"]["characters"].as_u64().unwrap())
            .collect();
        assert_eq!(
            characters,
            vec!["Hello there.".len() as u64, " How are you".len() as u64]
        );
    }

    #[test]
    fn commit_mode_waits_for_commits_and_refuses_empty_ones_and_late_updates() {
        let mut r = responder();
        let t0 = Instant::now();
        r.on_connect(t0);
        feed(
            &mut r,
            r#"{"type":"session.update","session":{"mode":"commit"}}"#,
            t0,
        );
        feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":"One. Two."}"#,
            t0,
        );
        let before = kinds(&frames(&mut r, t0 + Duration::from_secs(3600)));
        assert!(
            !before.contains(&"response.created".to_owned()),
            "{before:?}"
        );
        assert!(
            before.contains(&"error".to_owned()),
            "empty commit refused: {before:?}"
        );
        feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
        feed(
            &mut r,
            r#"{"type":"session.update","session":{"voice":"Ethan"}}"#,
            t0,
        );
        let after = frames(&mut r, t0 + Duration::from_secs(3600));
        let k = kinds(&after);
        assert_eq!(
            k.iter().filter(|k| *k == "response.created").count(),
            1,
            "{k:?}"
        );
        assert!(k.contains(&"input_text_buffer.committed".to_owned()));
        let late = after
            .iter()
            .find(|f| f["type"] == "error")
            .expect("late update refused");
        assert_eq!(late["error"]["message"], UPDATE_TOO_LATE);
    }

    #[test]
    fn cancel_withdraws_queued_audio() {
        let mut r = responder();
        r.config.speed = 1.0;
        let t0 = Instant::now();
        r.on_connect(t0);
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":"A long sentence to speak. And another one."}"#,
            t0,
        );
        let _ = frames(&mut r, t0);
        feed(
            &mut r,
            r#"{"type":"response.cancel"}"#,
            t0 + Duration::from_millis(1),
        );
        let rest = frames(&mut r, t0 + Duration::from_secs(3600));
        let k = kinds(&rest);
        assert!(!k.contains(&"response.audio.delta".to_owned()), "{k:?}");
        let done = rest.iter().find(|f| f["type"] == "response.done").unwrap();
        assert_eq!(done["response"]["status"], "cancelled");
    }

    fn count(kinds: &[String], kind: &str) -> usize {
        kinds.iter().filter(|k| *k == kind).count()
    }

    #[test]
    fn server_commit_text_then_an_explicit_commit_is_acknowledged_without_error() {
        // AgentScope's flow: deltas, then commit and finish at once. The
        // sentence end was already spoken when the commit lands.
        let mut r = responder();
        let t0 = Instant::now();
        r.on_connect(t0);
        feed(
            &mut r,
            r#"{"type":"session.update","session":{"voice":"Cherry","mode":"server_commit"}}"#,
            t0,
        );
        for delta in ["Hello", " there, this is", " a test."] {
            let frame = json!({"type": "input_text_buffer.append", "text": delta}).to_string();
            feed(&mut r, &frame, t0);
        }
        feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
        feed(&mut r, r#"{"type":"session.finish"}"#, t0);
        let k = kinds(&frames(&mut r, t0 + Duration::from_secs(3600)));
        assert_eq!(count(&k, "error"), 0, "{k:?}");
        assert_eq!(count(&k, "input_text_buffer.committed"), 1, "{k:?}");
        assert_eq!(count(&k, "response.created"), 1, "{k:?}");
        assert_eq!(k.last().map(String::as_str), Some("session.finished"));
    }

    #[test]
    fn a_commit_within_the_holdback_takes_the_buffer_before_any_response() {
        let mut r = responder();
        r.config.tts_holdback = Duration::from_millis(200);
        r.config.speed = 1.0;
        let t0 = Instant::now();
        r.on_connect(t0);
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":"Hello there. How are you?"}"#,
            t0,
        );
        assert!(kinds(&frames(&mut r, t0 + Duration::from_millis(10)))
            .iter()
            .all(|k| k != "response.created"));
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.commit"}"#,
            t0 + Duration::from_millis(10),
        );
        let k = kinds(&frames(&mut r, t0 + Duration::from_secs(3600)));
        assert_eq!(
            k.iter().position(|k| k == "input_text_buffer.committed"),
            Some(0),
            "{k:?}"
        );
        assert_eq!(count(&k, "response.created"), 1, "{k:?}");
        assert_eq!(count(&k, "error"), 0, "{k:?}");
        // Without a commit the holdback ends and the sentence is spoken alone.
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":"One. Two"}"#,
            t0 + Duration::from_secs(3600),
        );
        let k = kinds(&frames(&mut r, t0 + Duration::from_secs(7200)));
        assert_eq!(count(&k, "response.created"), 1, "{k:?}");
        assert_eq!(r.buffer, " Two");
    }

    #[test]
    fn a_commit_with_nothing_appended_since_the_last_one_still_errors() {
        let mut r = responder();
        let t0 = Instant::now();
        r.on_connect(t0);
        feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
        feed(
            &mut r,
            r#"{"type":"input_text_buffer.append","text":"Hi."}"#,
            t0,
        );
        feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
        feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
        let all = frames(&mut r, t0 + Duration::from_secs(3600));
        let k = kinds(&all);
        assert_eq!(count(&k, "error"), 2, "{k:?}");
        assert_eq!(count(&k, "input_text_buffer.committed"), 1, "{k:?}");
        let error = all.iter().find(|f| f["type"] == "error").unwrap();
        assert_eq!(error["error"]["code"], "input_text_buffer_commit_empty");
    }
}
