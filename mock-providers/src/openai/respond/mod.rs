//! The respond engine: a protocol-faithful OpenAI Realtime server that answers
//! any conversation without a cassette.
//!
//! It keeps the session, the conversation and the input buffer; runs an energy
//! VAD over appended audio when turn detection is on; answers with words from
//! [`reply::decide`](super::reply::decide) spoken in the bundled voice; calls
//! tools when the rule says so; and cancels on barge-in or `response.cancel`,
//! reporting exactly the audio and transcript that had already gone out. Event
//! orders follow §7 of the protocol notes, in the GA or beta dialect.
//!
//! Each part owns its state and its decisions; this file holds them together
//! and routes client events to them:
//!
//! - `session`: the default session per dialect, how `session.update` merges,
//!   and what the session decides (turn detection, transcription);
//! - `input`: the audio buffer, image frames, VAD turns and commits;
//! - `conversation`: the items, their audio lengths, item create / retrieve /
//!   delete / truncate, and usage;
//! - `schedule`: starting a response and laying all its frames out on the
//!   timeline;
//! - `output`: the events that close content, item and response;
//! - `cancel`: withdrawing a response and reporting what had gone out;
//! - `ids`: deterministic ids.
//!
//! Everything is sans-IO: events in, frames on a [`Timeline`] out, time passed
//! in as `now`.

mod cancel;
mod conversation;
pub(crate) mod ids;
mod input;
mod output;
mod schedule;
mod session;
#[cfg(test)]
mod turn_cost;

use self::conversation::Conversation;
use self::ids::Ids;
use self::input::InputBuffer;
use self::schedule::Active;
use super::plan::ResponsePlan;
use crate::engine::{Note, SessionEngine, SetAside};
use crate::protocol::FrameSummary;
use crate::responder_config::{expires_at, ResponderConfig};
use crate::timeline::{Outgoing, Timeline};
use std::sync::Arc;
use tokio::time::Instant;
use understudy_adapters::openai::wire::objects::{ErrorDetail, Session, TurnDetection};
use understudy_adapters::openai::wire::server::{ErrorEvent, Opaque, SessionEvent};
use understudy_adapters::openai::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai::Dialect;

/// The output PCM rate (both OpenAI dialects and DashScope answer at 24 kHz).
const RATE: u32 = 24_000;

/// The respond engine for one session.
pub struct Responder {
    dialect: Dialect,
    config: ResponderConfig,
    ids: Ids,
    session: Session,
    conversation: Conversation,
    input: InputBuffer,
    active: Option<Active>,
    /// The settings of the latest response (its `response.create` overrides
    /// over the session's).
    plan: ResponsePlan,
    /// When frames were last popped: what had gone out when a response is cancelled.
    last_pop: Option<Instant>,
    timeline: Timeline,
    notes: Vec<Note>,
    /// The end of a user turn, set aside for the transport to run off the
    /// session task (see [`SessionEngine::has_deferred`]).
    set_aside: SetAside<Responder>,
}

impl Responder {
    /// A responder for a new session of `model` in `dialect`; `seed` makes its ids unique.
    pub fn new(dialect: Dialect, model: &str, config: ResponderConfig, seed: u64) -> Self {
        let mut ids = Ids::new(seed);
        let mut session = session::default_session(dialect, model, &mut ids);
        if let Some(limit) = config.session_limit {
            session.expires_at = Some(expires_at(limit));
        }
        let plan = ResponsePlan::new(dialect, &session, None);
        let mut responder = Responder {
            dialect,
            config,
            ids,
            session,
            conversation: Conversation::default(),
            input: InputBuffer::new(RATE),
            active: None,
            plan,
            last_pop: None,
            timeline: Timeline::new(),
            notes: Vec::new(),
            set_aside: SetAside::default(),
        };
        responder.configure_vad();
        responder
    }

    /// Takes input audio at `rate` instead of 24 kHz (DashScope: 16 kHz).
    pub fn with_input_rate(mut self, rate: u32) -> Self {
        self.input = InputBuffer::new(rate);
        self.configure_vad();
        self
    }

    /// Applies session settings without answering (a dialect's own defaults).
    pub fn configure(&mut self, update: &Session) {
        session::merge_session(&mut self.session, update);
        self.configure_vad();
    }

    /// An image frame arrived: it joins the next committed user item.
    pub fn attach_image(&mut self) {
        self.input.attach_image();
    }

    /// The id of the response still being sent at `now`, if any (a dialect
    /// that refuses a second `response.create` its own way asks this first).
    pub fn active_response(&self, now: Instant) -> Option<&str> {
        self.active
            .as_ref()
            .filter(|a| a.done_at > now)
            .map(|a| a.id.as_str())
    }

    /// Runs the end of a turn set aside by the last client event, if any,
    /// here and now (the transport runs it off the session task first; a
    /// driver that does not still gets the same frames).
    pub(crate) fn settle(&mut self) {
        while let Some(step) = self.set_aside.take() {
            step(self);
        }
    }

    /// When everything scheduled so far will have gone out.
    pub fn quiet_at(&self) -> Option<Instant> {
        self.timeline.last_deadline()
    }

    fn emit(&mut self, at: Instant, event: ServerEvent, tag: Option<&Arc<str>>) {
        let frame = Outgoing::with_event_id(event.event_type(), &event, self.ids.next("event"));
        self.timeline.push_tagged(at, frame, tag.cloned());
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

    fn turn_detection(&self) -> Option<TurnDetection> {
        session::turn_detection(self.dialect, &self.session)
    }

    fn transcription_enabled(&self) -> bool {
        session::transcription_enabled(self.dialect, &self.session)
    }

    fn configure_vad(&mut self) {
        if let Some(td) = self.turn_detection() {
            self.input.reconfigure(session::vad_config(&td));
        }
    }

    fn on_session_update(&mut self, update: &Session, now: Instant) {
        self.configure(update);
        let event = ServerEvent::SessionUpdated(SessionEvent {
            session: Box::new(self.session.clone()),
            ..Default::default()
        });
        self.emit(now, event, None);
    }

    /// `response.create`: refused while a response runs.
    fn on_response_create(
        &mut self,
        create: &understudy_adapters::openai::wire::client::ResponseCreate,
        event_id: Option<&str>,
        now: Instant,
    ) {
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

    /// `response.cancel`: refused when no response runs.
    fn on_response_cancel(&mut self, event_id: Option<&str>, now: Instant) {
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
                session::describe(limit)
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
        self.settle();
        let event_id = event.event_id().map(str::to_owned);
        let event_id = event_id.as_deref();
        match event {
            ClientEvent::SessionUpdate(update) => self.on_session_update(&update.session, now),
            ClientEvent::InputAudioBufferAppend(append) => self.on_append(&append.audio, now),
            ClientEvent::InputAudioBufferCommit(_) => self.on_commit(event_id, now),
            ClientEvent::InputAudioBufferClear(_) => self.on_clear(now),
            ClientEvent::ConversationItemCreate(create) => {
                self.on_item_create(create.item.clone(), now)
            }
            ClientEvent::ConversationItemRetrieve(r) => {
                self.on_item_retrieve(&r.item_id, event_id, now)
            }
            ClientEvent::ConversationItemTruncate(t) => {
                self.on_truncate(&t.item_id, t.content_index, t.audio_end_ms, event_id, now)
            }
            ClientEvent::ConversationItemDelete(d) => {
                self.on_item_delete(&d.item_id, event_id, now)
            }
            ClientEvent::ResponseCreate(create) => self.on_response_create(create, event_id, now),
            ClientEvent::ResponseCancel(_) => self.on_response_cancel(event_id, now),
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
        self.settle();
        self.last_pop = Some(now);
        let due = self.timeline.pop_due(now);
        if self.active.as_ref().is_some_and(|a| a.done_at <= now) {
            self.active = None;
        }
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
