//! Conversation turns on the timeline: input audio heard, the user's words
//! transcribed, the model's reply spoken (audio on the track, timed output
//! transcript), delegations created, and barge-in.
//!
//! Barge-in follows the service: when the user starts speaking while the
//! model's voice is on the track, the voice stops [`barge_in_stop_ms`] later
//! (the track goes silent from there) and the reply's transcript fragments
//! from that point on are never sent; no cancel event exists. Delegated work
//! is not cancelled. The new utterance is answered when it ends.
//!
//! [`barge_in_stop_ms`]: crate::openai_live::LiveSettings::barge_in_stop_ms

use super::backend;
use super::hearing::Heard;
use super::mind::Decision;
use super::words::fragments;
use super::Responder;
use crate::engine::Note;
use crate::responder_config::ANSWER_MS;
use tokio::time::Instant;
use understudy_adapters::openai_live::wire::server::{
    DecisionEvent, DelegationCreated, DelegationRef, ResponseEvent, TranscriptDelta,
};
use understudy_adapters::openai_live::wire::ServerEvent;

impl Responder {
    /// `session.input_audio.append` (already validated as base64).
    pub(super) fn on_audio(&mut self, encoded: &str, now: Instant) {
        let Ok(bytes) = super::super::validate::decode_audio(encoded, "audio") else {
            return;
        };
        let samples = self.format.decode(&bytes);
        if self.watched() {
            // Sidebands hear the caller before muting, as PCM16 24 kHz.
            let pcm = super::to_24k(&samples, self.format.rate());
            let reflected = ServerEvent::InputAudioAppend(
                understudy_adapters::openai_live::wire::server::AudioAppend {
                    audio: super::b64(&super::pcm16_bytes(&pcm)),
                    ..Default::default()
                },
            );
            self.mirror(&reflected);
        }
        let deaf = self.fixture_until.is_some();
        let heard = self.hearing.hear(&samples, deaf);
        self.on_heard(heard, now);
    }

    /// Acts on what the input side noticed. The end of an utterance
    /// (recognising it if its words were not heard early, the model's
    /// decision, the reply's voice) and whatever follows it are set aside
    /// for the transport to run off the session task.
    fn on_heard(&mut self, heard: Vec<Heard>, now: Instant) {
        let mut heard = heard.into_iter();
        while let Some(next) = heard.next() {
            match next {
                Heard::Started { at_ms } => self.on_speech_started(at_ms),
                Heard::Recognised { start_ms, found } => {
                    let end_ms = start_ms + found.speech_ms;
                    self.transcribe(found.transcript, start_ms, end_ms);
                }
                Heard::Utterance {
                    start_ms,
                    end_ms,
                    text,
                    announced,
                    unheard,
                } => {
                    let rest: Vec<Heard> = heard.collect();
                    self.set_aside.push(now, move |me: &mut Responder| {
                        me.config.before_recognition();
                        let text = text.or_else(|| unheard.and_then(|u| u.recognise()));
                        me.on_utterance(start_ms, end_ms, text, announced, now);
                        if !rest.is_empty() {
                            me.on_heard(rest, now);
                        }
                    });
                    return;
                }
            }
        }
    }

    /// The user started speaking: barge in on the model's voice.
    fn on_speech_started(&mut self, at_ms: u64) {
        let t = self.t_ms();
        self.notes
            .push(Note::new("vad", format!("speech started at {at_ms} ms")));
        if !self.track.speaking_at(t) && self.track.busy_until() <= t {
            return;
        }
        let cut = t + self.settings.barge_in_stop_ms;
        for tag in self.track.cut(cut) {
            let dropped = self.gate.withdraw_from(&tag, cut);
            self.notes.push(Note::new(
                "barge_in",
                format!("user speech at {at_ms} ms stops {tag} at {cut} ms ({dropped} transcript fragments unsaid)"),
            ));
        }
        self.pending_ack_speech = None;
    }

    /// The user's words, as timed input transcript fragments over
    /// `[start_ms, end_ms]`, each released `input_transcript_lag_ms` after
    /// its end (or now, for a part already behind the timeline): while the
    /// user is still speaking when the words were recognised early.
    fn transcribe(&mut self, text: &str, start_ms: u64, end_ms: u64) {
        let t = self.t_ms();
        self.notes.push(Note::new(
            "speech",
            format!("recognised {text:?} ({start_ms}–{end_ms} ms)"),
        ));
        let lag = self.settings.input_transcript_lag_ms;
        for fragment in fragments(text, start_ms, end_ms, self.settings.fragment_ms) {
            let event = ServerEvent::InputTranscriptDelta(TranscriptDelta {
                delta: fragment.delta,
                start_ms: fragment.start_ms,
                end_ms: fragment.end_ms,
                ..Default::default()
            });
            self.words_end_ms = Some(fragment.end_ms);
            self.gate.hold((fragment.end_ms + lag).max(t), event, None);
        }
        self.remember_in_store("user", text);
    }

    /// An utterance ended: its transcript (unless it was transcribed while
    /// it was spoken, `announced`), then the model's decision.
    fn on_utterance(
        &mut self,
        start_ms: u64,
        end_ms: u64,
        text: Option<&'static str>,
        announced: bool,
        _now: Instant,
    ) {
        let t = self.t_ms();
        match text {
            Some(text) => {
                if !announced {
                    self.transcribe(text, start_ms, end_ms);
                }
            }
            None => self.notes.push(Note::new(
                "speech",
                format!(
                    "{} ms of speech that is not a bundled utterance; answered by length",
                    end_ms - start_ms
                ),
            )),
        }
        let tools = (self.delegation_kind() == "responses").then(|| {
            self.session
                .as_ref()
                .and_then(|s| s.delegation.as_ref())
                .and_then(|d| d.responses.as_ref())
                .and_then(|r| r.tools.clone())
                .unwrap_or_default()
        });
        let words_end_ms = self.words_end_ms.take().unwrap_or(end_ms);
        let decision = self.mind.hear(text, end_ms - start_ms, tools.as_deref());
        let reply_at = (t + self.settings.reply_delay_ms).max(self.track.busy_until());
        match decision {
            Decision::Speak(words) => {
                self.speak(&words, reply_at);
            }
            // A delegation points at the end of the request's last fragment.
            Decision::Delegate => self.delegate(words_end_ms, reply_at),
            Decision::Call { name, arguments } => {
                self.call_backend(words_end_ms, reply_at, &name, &arguments)
            }
        }
    }

    /// Lays `words` on the track from `at_ms` with their timed transcript;
    /// returns the reply's tag and when it ends.
    pub(super) fn speak(&mut self, words: &str, at_ms: u64) -> (String, u64) {
        self.replies += 1;
        let tag = format!("reply_{}", self.replies);
        let rate = self.format.rate();
        let samples = crate::voice::speak(&self.config.voice, words, rate, ANSWER_MS);
        let end_ms = at_ms + samples.len() as u64 * 1000 / u64::from(rate);
        self.track.play(&tag, at_ms, samples);
        for fragment in fragments(words, at_ms, end_ms, self.settings.fragment_ms) {
            let event = ServerEvent::OutputTranscriptDelta(TranscriptDelta {
                delta: fragment.delta,
                start_ms: fragment.start_ms,
                end_ms: fragment.end_ms,
                ..Default::default()
            });
            self.gate.hold(fragment.start_ms, event, Some(tag.clone()));
        }
        self.notes.push(Note::new(
            "reply",
            format!("{tag} {at_ms}–{end_ms} ms: {words:?}"),
        ));
        self.mind.said(words);
        self.remember_in_store("assistant", words);
        (tag, end_ms)
    }

    /// Client (or Decisions) delegation: `session.delegation.created` with the
    /// last input fragment, then the spoken acknowledgement after the delay.
    fn delegate(&mut self, offset_ms: u64, reply_at: u64) {
        let t = self.t_ms();
        let kind = self.delegation_kind().to_owned();
        let id = self.ids.next("item");
        let created = ServerEvent::DelegationCreated(DelegationCreated {
            delegation: DelegationRef {
                id: id.clone(),
                kind: "delegation".into(),
                target: kind.clone(),
                ..Default::default()
            },
            offset_ms,
            ..Default::default()
        });
        self.gate.hold(t, created, None);
        self.notes.push(Note::new(
            "delegation",
            format!("{kind} delegation {id} at {offset_ms} ms"),
        ));
        if kind == "decisions" {
            let model = self.decisions_model();
            let decided = ServerEvent::DecisionEvent(DecisionEvent {
                delegation_id: Some(id.clone()),
                event: super::commands::decision_completed(&model),
                ..Default::default()
            });
            self.gate.hold(t, decided, None);
        } else {
            self.open_delegations.push(id);
        }
        let delay = self.acknowledgement_delay_ms();
        let words = self.settings.acknowledgement.clone();
        let (tag, _) = self.speak(&words, reply_at.max(t + delay));
        self.pending_ack_speech = Some((tag, reply_at.max(t + delay)));
    }

    /// Responses delegation with a function tool: the backend's first
    /// response, ending with the call, and the spoken acknowledgement.
    fn call_backend(&mut self, offset_ms: u64, reply_at: u64, name: &str, arguments: &str) {
        let t = self.t_ms();
        let delegation_id = self.ids.next("item");
        let response_id = self.ids.next("resp");
        let call_id = self.ids.next("call");
        let item_id = self.ids.next("fc");
        let model = self
            .session
            .as_ref()
            .and_then(|s| s.delegation.as_ref())
            .and_then(|d| d.responses.as_ref())
            .and_then(|r| r.model.clone())
            .unwrap_or_default();
        let created = ServerEvent::DelegationCreated(DelegationCreated {
            delegation: DelegationRef {
                id: delegation_id.clone(),
                kind: "delegation".into(),
                target: "responses".into(),
                response_id: Some(response_id.clone()),
                ..Default::default()
            },
            offset_ms,
            ..Default::default()
        });
        self.gate.hold(t, created, None);
        for nested in
            backend::call_events(&response_id, &model, &item_id, &call_id, name, arguments)
        {
            let event = self.response_event(&delegation_id, nested);
            self.gate.hold(t, event, None);
        }
        self.notes.push(Note::new(
            "delegation",
            format!("responses delegation {delegation_id}: {name}({arguments}) as {call_id}"),
        ));
        self.backend = Some(backend::Pending {
            delegation_id,
            calls: vec![call_id],
            outputs: Vec::new(),
            model,
        });
        let delay = self.acknowledgement_delay_ms();
        let words = self.settings.acknowledgement.clone();
        let (tag, _) = self.speak(&words, reply_at.max(t + delay));
        self.pending_ack_speech = Some((tag, reply_at.max(t + delay)));
    }

    /// A nested Responses event for `delegation_id`.
    pub(super) fn response_event(
        &self,
        delegation_id: &str,
        nested: serde_json::Map<String, serde_json::Value>,
    ) -> ServerEvent {
        ServerEvent::ResponseEvent(ResponseEvent {
            delegation_id: Some(delegation_id.to_owned()),
            event: nested,
            ..Default::default()
        })
    }

    /// The session's acknowledgement delay (0 unless configured; Decisions 400).
    fn acknowledgement_delay_ms(&self) -> u64 {
        let delegation = self.session.as_ref().and_then(|s| s.delegation.as_ref());
        let default = if self.delegation_kind() == "decisions" {
            400
        } else {
            0
        };
        delegation
            .and_then(|d| d.acknowledgement_delay_ms)
            .unwrap_or(default)
    }

    /// Adds a message to the stored history, for a `store: true` session
    /// (journalling it when the history's cap dropped its oldest message).
    pub(super) fn remember_in_store(&mut self, role: &str, text: &str) {
        let Some(session) = self.session.as_ref().filter(|s| s.store == Some(true)) else {
            return;
        };
        if self.store.record(&session.id, role, text) > 0 {
            let note = format!(
                "stored session {}'s history is full: its oldest message was dropped",
                session.id
            );
            self.notes.push(Note::new("store.evicted", note));
        }
    }
}
