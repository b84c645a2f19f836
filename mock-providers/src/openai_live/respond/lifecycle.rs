//! A session's life: `session.start` (a new session, or a fork of a stored
//! one), what comes before it, `session.close` and expiry, and the usage
//! reports in between.

use super::super::audio::LiveFormat;
use super::super::store::StoredSession;
use super::super::Socket;
use super::hearing::Hearing;
use super::mind::Mind;
use super::resolve;
use super::track::OutputTrack;
use super::{Phase, Responder};
use crate::dashscope::SetupFault;
use crate::engine::Note;
use crate::timeline::Outgoing;
use tokio::time::Instant;
use understudy_adapters::openai_live::wire::client::SessionStart;
use understudy_adapters::openai_live::wire::server::{
    ErrorBody, ErrorEvent, SessionClosed, SessionEvent, UsageUpdated,
};
use understudy_adapters::openai_live::wire::session::{ContextWindow, SessionUsage};
use understudy_adapters::openai_live::wire::{ClientEvent, ServerEvent};

impl Responder {
    /// `session.start`: resolve, announce, and start the clock.
    pub(super) fn on_start(&mut self, start: &SessionStart, now: Instant) {
        if let Some(fault) = self.fault.take() {
            return self.fail_start(fault, start.event_id.as_deref(), now);
        }
        let limit = self
            .config
            .session_limit
            .unwrap_or(self.settings.max_session);
        let expires_at = crate::responder_config::expires_at(limit);
        let id = self.ids.next("live_mock");
        let session = match (self.socket, &self.fork_of) {
            (Socket::Fork, Some(stored)) => {
                resolve::fork(&stored.session, &start.session, id, expires_at)
            }
            _ => resolve::resolve(&start.session, id, expires_at),
        };
        self.format = LiveFormat::of(session.audio.as_ref().and_then(|a| a.format.as_ref()));
        self.hearing = Hearing::new(self.format.rate(), self.settings.end_of_speech_ms);
        self.track = OutputTrack::new(self.format, self.settings.idle_track);
        self.mind = Mind::new(
            session.instructions.clone(),
            self.settings.delegate_words.clone(),
        );
        let history: Vec<(String, String)> = match &self.fork_of {
            Some(stored) => stored.history.clone(),
            None => session
                .input
                .iter()
                .flatten()
                .filter_map(|item| Some((item.role.clone(), item.content.first()?.text.clone())))
                .collect(),
        };
        for (role, text) in &history {
            self.mind.add(role, text);
        }
        if session.store == Some(true) {
            let evicted = self.store.put(StoredSession {
                session: session.clone(),
                history,
            });
            if !evicted.is_empty() {
                self.notes.push(Note::new(
                    "store.evicted",
                    format!(
                        "the store was full: storing {} evicted {} (forks of it are refused)",
                        session.id,
                        evicted.join(", ")
                    ),
                ));
            }
        }
        self.notes.push(Note::new(
            "session",
            format!(
                "started {} ({:?}, {:?} socket)",
                session.id, self.format, self.socket
            ),
        ));
        self.expire_at = Some(now + limit);
        self.last_audio_at = Some(now);
        self.session = Some(session.clone());
        self.phase = Phase::Live;
        let id = session.id.clone();
        let started = ServerEvent::SessionStarted(SessionEvent {
            client_event_id: start.event_id.clone(),
            session: Box::new(session),
            ..Default::default()
        });
        self.emit(now, started.clone());
        // Sidebands attaching later get the start replayed (not a snapshot).
        let replay = serde_json::to_string(&started).unwrap_or_default();
        self.publisher = Some(self.hub.open(&id, replay.into()));
    }

    /// An injected start-up failure instead of `session.started`: a
    /// `server_error`, no answer at all, or close 1011.
    fn fail_start(&mut self, fault: SetupFault, client_event_id: Option<&str>, now: Instant) {
        self.notes.push(Note::new(
            "fault",
            format!("set-up fault injected: {fault:?}"),
        ));
        match fault {
            SetupFault::Error => {
                let event = ServerEvent::Error(ErrorEvent {
                    client_event_id: client_event_id.map(str::to_owned),
                    error: ErrorBody {
                        kind: "server_error".into(),
                        code: Some("server_error".into()),
                        message: "The session could not be started (injected by understudy)."
                            .into(),
                        client_event_id: client_event_id.map(str::to_owned),
                        ..Default::default()
                    },
                    ..Default::default()
                });
                self.emit(now, event);
            }
            SetupFault::Silent => {}
            SetupFault::Close => {
                self.phase = Phase::Closed;
                self.out.push(
                    now,
                    Outgoing::Close {
                        code: 1011,
                        reason: "session start failed".into(),
                    },
                );
            }
        }
    }

    /// Anything but `session.start` as the first command: refused, and the
    /// socket closed when the settings say so (the real behaviour is
    /// *unconfirmed*).
    pub(super) fn before_start(&mut self, event: &ClientEvent, now: Instant) {
        let message = format!(
            "The session has not started: send session.start (and wait for session.started) before {}.",
            event.event_type()
        );
        let code = self.settings.not_started_code;
        self.error(now, code, &message, Some("type"), client_event_id(event));
        if let Some(code) = self.settings.not_started_close {
            self.phase = Phase::Closed;
            self.out.push(
                now,
                Outgoing::Close {
                    code,
                    reason: "session.start must be the first event".into(),
                },
            );
        }
    }

    /// Ends the session: each append still unacknowledged fails with
    /// `context_injection_incomplete`, then `session.closed` with the final
    /// snapshot and usage, then close 1000 (which ends the SDK's iterator
    /// cleanly, reconnect policy or not).
    pub(super) fn close(&mut self, now: Instant, client_event_id: Option<String>, reason: &str) {
        for held in self.gate.take_tagged("ack:") {
            let id = match &held.event {
                ServerEvent::InstructionsAppended(p)
                | ServerEvent::ThinkingAppended(p)
                | ServerEvent::CommentaryAppended(p) => p.client_event_id.clone(),
                _ => None,
            };
            self.error(
                now,
                "context_injection_incomplete",
                "The session closed before the appended context was placed on the timeline.",
                None,
                id.as_deref(),
            );
        }
        let Some(session) = self.session.clone() else {
            return;
        };
        self.notes
            .push(Note::new("session", format!("closed: {reason}")));
        let closed = ServerEvent::SessionClosed(SessionClosed {
            event_id: None,
            client_event_id,
            reason: reason.into(),
            session: Box::new(session),
            usage: SessionUsage::seconds(self.t_ms() / 1000),
            extra: Default::default(),
        });
        self.emit(now, closed);
        self.out.push(
            now,
            Outgoing::Close {
                code: 1000,
                reason: String::new(),
            },
        );
        self.phase = Phase::Closed;
        self.release_sidebands();
    }

    /// `session.usage.updated` for every usage interval the timeline crossed.
    pub(super) fn report_usage(&mut self, now: Instant, t_ms: u64) {
        while self.next_usage_ms <= t_ms {
            let seconds = self.next_usage_ms / 1000;
            self.next_usage_ms += self.settings.usage_interval_ms.max(1);
            let ratio =
                self.mind.context_tokens() as f64 / self.settings.context_tokens.max(1) as f64;
            let ratio = (ratio.min(1.0) * 10_000.0).round() / 10_000.0;
            let event = ServerEvent::SessionUsageUpdated(UsageUpdated {
                event_id: None,
                client_event_id: None,
                usage: SessionUsage::seconds(seconds),
                context_window: Some(ContextWindow {
                    usage_ratio: serde_json::Number::from_f64(ratio).unwrap_or_else(|| 0.into()),
                    extra: Default::default(),
                }),
                extra: Default::default(),
            });
            self.emit(now, event);
        }
    }
}

/// The `event_id` a command carried.
pub(super) fn client_event_id(event: &ClientEvent) -> Option<&str> {
    match event {
        ClientEvent::SessionStart(e) => e.event_id.as_deref(),
        ClientEvent::SessionUpdate(e) => e.event_id.as_deref(),
        ClientEvent::InputAudioAppend(e) => e.event_id.as_deref(),
        ClientEvent::InputAudioMute(e)
        | ClientEvent::InputAudioUnmute(e)
        | ClientEvent::DecisionCreate(e)
        | ClientEvent::ResponseCreate(e)
        | ClientEvent::SessionClose(e) => e.event_id.as_deref(),
        ClientEvent::OutputAudioFixturePlay(e) => e.event_id.as_deref(),
        ClientEvent::InstructionsAppend(e)
        | ClientEvent::ThinkingAppend(e)
        | ClientEvent::CommentaryAppend(e) => e.event_id.as_deref(),
        ClientEvent::DecisionItemCreate(e) => e.event_id.as_deref(),
        ClientEvent::DecisionItemDelete(e) => e.event_id.as_deref(),
        ClientEvent::ResponseItemCreate(e) => e.event_id.as_deref(),
        ClientEvent::TransportDtmfSend(e) => e.event_id.as_deref(),
        ClientEvent::Unknown(map) => map.get("event_id").and_then(|v| v.as_str()),
    }
}
