//! The commands of a started session besides audio: `session.update`, mute,
//! fixtures, the three context appends, `response.*` (Responses delegation),
//! `decision.*`, and `session.close`.
//!
//! Appends are placed at the current timeline point and acknowledged once
//! the timeline has moved past it (or at once, with
//! `acks_on_timeline` off); commentary is then spoken. An append cancels a
//! delegation's spoken acknowledgement that has not started yet.

use super::backend;
use super::lifecycle::client_event_id;
use super::resolve;
use super::Responder;
use crate::engine::Note;
use serde_json::{json, Value};
use tokio::time::Instant;
use understudy_adapters::openai_live::wire::client::{ContextAppend, ResponseItemCreate};
use understudy_adapters::openai_live::wire::server::{
    Ack, DecisionEvent, DecisionItemCreated, DecisionItemDeleted, Placed, SessionEvent,
};
use understudy_adapters::openai_live::wire::{ClientEvent, ServerEvent};

/// Which append it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppendKind {
    Instructions,
    Thinking,
    Commentary,
}

impl Responder {
    /// Routes a command of a started session.
    pub(super) fn on_live_command(&mut self, event: &ClientEvent, now: Instant) {
        let id = client_event_id(event).map(str::to_owned);
        let id = id.as_deref();
        match event {
            ClientEvent::SessionStart(_) => {
                let code = self.settings.already_started_code;
                self.error(
                    now,
                    code,
                    "The session has already started.",
                    Some("type"),
                    id,
                );
            }
            ClientEvent::SessionUpdate(update) => {
                let Some(session) = self.session.as_mut() else {
                    return;
                };
                match resolve::apply_update(session, &update.session) {
                    Ok(()) => {
                        let event = ServerEvent::SessionUpdated(SessionEvent {
                            client_event_id: id.map(str::to_owned),
                            session: Box::new(session.clone()),
                            ..Default::default()
                        });
                        self.emit(now, event);
                    }
                    Err(e) => self.error(now, e.code, &e.message, e.param.as_deref(), id),
                }
            }
            ClientEvent::InputAudioAppend(append) => {
                self.last_audio_at = Some(now);
                self.on_audio(&append.audio, now);
            }
            ClientEvent::InputAudioMute(_) => {
                self.hearing.set_muted(true);
                self.emit(now, ServerEvent::InputAudioMuted(ack(id)));
            }
            ClientEvent::InputAudioUnmute(_) => {
                self.hearing.set_muted(false);
                self.emit(now, ServerEvent::InputAudioUnmuted(ack(id)));
            }
            ClientEvent::OutputAudioFixturePlay(play) => self.on_fixture(&play.audio, id, now),
            ClientEvent::InstructionsAppend(a) => {
                self.on_append(AppendKind::Instructions, a, id, now)
            }
            ClientEvent::ThinkingAppend(a) => self.on_append(AppendKind::Thinking, a, id, now),
            ClientEvent::CommentaryAppend(a) => self.on_append(AppendKind::Commentary, a, id, now),
            ClientEvent::ResponseItemCreate(create) => self.on_response_item(create, id, now),
            ClientEvent::ResponseCreate(_) => self.on_response_create(id, now),
            ClientEvent::DecisionCreate(_) => {
                let model = self.decisions_model();
                let event = ServerEvent::DecisionEvent(DecisionEvent {
                    event: decision_completed(&model),
                    ..Default::default()
                });
                self.emit(now, event);
            }
            ClientEvent::DecisionItemCreate(create) => {
                let mut item = create.item.clone();
                if let Some(map) = item.as_object_mut() {
                    if !map.contains_key("id") {
                        map.insert("id".into(), Value::String(self.ids.next("ditem")));
                    }
                }
                let event = ServerEvent::DecisionItemCreated(DecisionItemCreated {
                    client_event_id: id.map(str::to_owned),
                    item,
                    ..Default::default()
                });
                self.emit(now, event);
            }
            ClientEvent::DecisionItemDelete(delete) => {
                let event = ServerEvent::DecisionItemDeleted(DecisionItemDeleted {
                    client_event_id: id.map(str::to_owned),
                    item_id: delete.item_id.clone(),
                    ..Default::default()
                });
                self.emit(now, event);
            }
            ClientEvent::SessionClose(_) => {
                self.close(now, id.map(str::to_owned), "close_requested")
            }
            // Refused by the validator before they reach the engine.
            ClientEvent::TransportDtmfSend(_) | ClientEvent::Unknown(_) => {}
        }
    }

    /// A context append: refused during a fixture, and with a delegation id
    /// under Responses delegation; else placed, acknowledged on the timeline,
    /// and (commentary) spoken.
    fn on_append(
        &mut self,
        kind: AppendKind,
        append: &ContextAppend,
        id: Option<&str>,
        now: Instant,
    ) {
        if self.fixture_until.is_some() {
            let code = self.settings.fixture_active_code;
            let message = "Context cannot be appended while an audio fixture is playing.";
            return self.error(now, code, message, None, id);
        }
        let delegation = append.delegation_id.clone().flatten();
        if delegation.is_some() && self.delegation_kind() == "responses" {
            let message = "delegation_id is not accepted under Responses delegation: results go back with response.item.create.";
            return self.error(now, "invalid_value", message, Some("delegation_id"), id);
        }
        if let Some(delegation) = &delegation {
            if !self.open_delegations.contains(delegation) {
                self.notes.push(Note::new(
                    "delegation",
                    format!("append for unknown or answered delegation {delegation}"),
                ));
            }
        }
        let t = self.t_ms();
        let placed = Placed {
            client_event_id: id.map(str::to_owned),
            start_ms: t,
            end_ms: t,
            ..Default::default()
        };
        let event = match kind {
            AppendKind::Instructions => ServerEvent::InstructionsAppended(placed),
            AppendKind::Thinking => ServerEvent::ThinkingAppended(placed),
            AppendKind::Commentary => ServerEvent::CommentaryAppended(placed),
        };
        self.replies += 1;
        let tag = format!("ack:{}", self.replies);
        let release = if self.settings.acks_on_timeline {
            t + 1
        } else {
            t
        };
        self.gate.hold(release, event, Some(tag));
        if kind != AppendKind::Instructions {
            self.cancel_pending_acknowledgement();
        }
        if let Some(delegation) = &delegation {
            self.open_delegations.retain(|d| d != delegation);
        }
        match kind {
            AppendKind::Instructions => self.mind.add("developer", &append.content),
            AppendKind::Thinking => self.mind.add("developer", &append.content),
            AppendKind::Commentary => {
                let at = (t + self.settings.reply_delay_ms).max(self.track.busy_until());
                self.speak(&append.content, at);
            }
        }
    }

    /// Drops a delegation's spoken acknowledgement that has not started.
    fn cancel_pending_acknowledgement(&mut self) {
        if let Some((tag, _)) = self.pending_ack_speech.take() {
            self.track.drop_tag(&tag);
            self.gate.withdraw_from(&tag, 0);
            self.notes.push(Note::new(
                "delegation",
                format!("appended context cancels the acknowledgement {tag}"),
            ));
        }
    }

    /// `session.output_audio.fixture.play`: one at a time; interrupts the
    /// model, plays the clip on the track, input is dropped meanwhile.
    fn on_fixture(&mut self, audio: &str, id: Option<&str>, now: Instant) {
        if self.fixture_until.is_some() {
            let code = self.settings.fixture_active_code;
            return self.error(now, code, "An audio fixture is already playing.", None, id);
        }
        let Ok(bytes) = super::super::validate::decode_audio(audio, "audio") else {
            return;
        };
        let clip: Vec<i16> = bytes
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect();
        let t = self.t_ms();
        for tag in self.track.cut(t) {
            self.gate.withdraw_from(&tag, t);
        }
        let ms = clip.len() as u64 * 1000 / 24_000;
        let samples = crate::voice::speak_for(&clip, ms, self.format.rate());
        self.replies += 1;
        self.track
            .play(&format!("fixture_{}", self.replies), t, samples);
        self.fixture_until = Some(t + ms);
        self.emit(now, ServerEvent::OutputAudioFixturePlaying(ack(id)));
        self.gate
            .hold(t + ms, ServerEvent::OutputAudioFixturePlayed(ack(id)), None);
    }

    /// `response.item.create`: a function result for the waiting backend.
    fn on_response_item(&mut self, create: &ResponseItemCreate, id: Option<&str>, now: Instant) {
        if self.delegation_kind() != "responses" {
            let code = self.settings.wrong_delegation_code;
            let message = "response.item.create requires Responses delegation.";
            return self.error(now, code, message, Some("type"), id);
        }
        if create.item.kind.as_deref() != Some("function_call_output") {
            self.notes.push(Note::new(
                "backend",
                "a non-function item joins the backend context",
            ));
            return;
        }
        let call_id = create.item.call_id.clone().unwrap_or_default();
        let output = match &create.item.output {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let outcome = match self.backend.as_mut() {
            Some(pending) => pending.output(&call_id, output),
            None => Err(backend::Refusal::NothingPending),
        };
        if let Err(refusal) = outcome {
            self.error(
                now,
                "invalid_value",
                &refusal.message(),
                Some("item.call_id"),
                id,
            );
        }
    }

    /// `response.create`: resumes the backend once every call has its output;
    /// the continuation's message is then spoken.
    fn on_response_create(&mut self, id: Option<&str>, now: Instant) {
        if self.delegation_kind() != "responses" {
            let code = self.settings.wrong_delegation_code;
            let message = "response.create requires Responses delegation.";
            return self.error(now, code, message, Some("type"), id);
        }
        let ready = match &self.backend {
            Some(pending) => pending.ready(),
            None => Err(backend::Refusal::NothingPending),
        };
        if let Err(refusal) = ready {
            return self.error(now, "invalid_value", &refusal.message(), None, id);
        }
        let Some(pending) = self.backend.take() else {
            return;
        };
        let mut answer = String::new();
        for (call_id, output) in &pending.outputs {
            answer = self.mind.tool_output(call_id, output);
        }
        let t = self.t_ms();
        let response_id = self.ids.next("resp");
        let item_id = self.ids.next("msg");
        for nested in backend::answer_events(&response_id, &pending.model, &item_id, &answer) {
            let event = self.response_event(&pending.delegation_id, nested);
            self.gate.hold(t, event, None);
        }
        let at = (t + self.settings.reply_delay_ms).max(self.track.busy_until());
        self.speak(&answer, at);
    }
}

impl Responder {
    /// The model Decisions run on: the `decisions` delegation's, else the
    /// session's.
    pub(super) fn decisions_model(&self) -> String {
        let session = self.session.as_ref();
        session
            .and_then(|s| s.delegation.as_ref())
            .and_then(|d| d.decisions.as_ref())
            .and_then(|d| d.get("model"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .or_else(|| session.map(|s| s.model.clone()))
            .unwrap_or_default()
    }
}

/// An acknowledgement echoing the command's id.
fn ack(id: Option<&str>) -> Ack {
    Ack {
        client_event_id: id.map(str::to_owned),
        ..Default::default()
    }
}

/// The stub Decision result: no answers (the mock evaluates no questions).
pub(super) fn decision_completed(model: &str) -> Value {
    json!({"type": "decision.completed",
           "decision": {"answers": [], "model": model,
                        "usage": {"input_tokens": 0,
                                  "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                                  "output_tokens": 0,
                                  "output_tokens_details": {"reasoning_tokens": 0},
                                  "total_tokens": 0}}})
}
