//! Sidebands on the mock's own sessions (`…/live/sessions/{id}/attach`),
//! when [`AttachPolicy::Observe`](super::settings::AttachPolicy) allows them.
//!
//! The service offers sidebands for WebRTC and SIP sessions; whether it lets
//! one attach to a WebSocket session is *unconfirmed* (one fake refuses, which
//! is the default here). Allowed, a sideband gets what the protocol notes
//! describe: `session.started` replayed first (the start configuration, not a
//! state snapshot), then every event the session emits, the caller's audio
//! reflected as `session.input_audio.append` and the output track with
//! `start_ms`/`end_ms` (both PCM16 24 kHz). Its commands (`session.update`,
//! mute, appends, `response.*`, `session.close`, …) go to the session's
//! engine as if the primary client had sent them.
//!
//! [`LiveHub`] connects the two: the session's responder publishes into it,
//! each attached socket subscribes, and commands flow back through a queue
//! the responder drains.

use super::LiveProtocol;
use crate::journal::{EntryKind, Frame, Journal, JournalEntry};
use crate::protocol::Protocol;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{broadcast, mpsc};
use understudy_adapters::openai_live::wire::ClientEvent;
use understudy_adapters::openai_live::DIALECT;
use understudy_adapters::serve_limits::{QuietClock, ServeTimeouts};

/// What a sideband receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirrored {
    /// A server event, serialised.
    Text(Arc<str>),
    /// The session ended; the sideband closes too.
    Ended,
}

/// One session's channels.
#[derive(Debug)]
struct Channel {
    /// `session.started` as first sent, replayed to each sideband.
    started: Arc<str>,
    events: broadcast::Sender<Mirrored>,
    commands: mpsc::UnboundedSender<ClientEvent>,
}

/// What an attaching sideband gets: the replayed start, the event stream and
/// where its commands go.
#[derive(Debug)]
pub struct Attachment {
    /// `session.started`, to send first.
    pub started: Arc<str>,
    /// Everything the session emits from now on.
    pub events: broadcast::Receiver<Mirrored>,
    /// Where the sideband's commands go.
    pub commands: mpsc::UnboundedSender<ClientEvent>,
}

/// The responder's side of its session's channels.
#[derive(Debug)]
pub struct Publisher {
    events: broadcast::Sender<Mirrored>,
    commands: mpsc::UnboundedReceiver<ClientEvent>,
}

impl Publisher {
    /// Whether any sideband is attached (so mirrored frames are worth building).
    pub fn watched(&self) -> bool {
        self.events.receiver_count() > 0
    }

    /// Sends a frame to every attached sideband.
    pub fn publish(&self, frame: Mirrored) {
        let _ = self.events.send(frame);
    }

    /// The commands sideband clients sent since the last call.
    pub fn commands(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.commands.try_recv().ok()).collect()
    }
}

/// Every session a sideband may attach to, by id.
#[derive(Debug, Clone, Default)]
pub struct LiveHub {
    sessions: Arc<Mutex<HashMap<String, Channel>>>,
}

impl LiveHub {
    /// Opens session `id`'s channels; its responder keeps the publisher.
    pub fn open(&self, id: &str, started: Arc<str>) -> Publisher {
        let (events, _) = broadcast::channel(4096);
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let channel = Channel {
            started,
            events: events.clone(),
            commands: commands_tx,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.insert(id.to_owned(), channel);
        Publisher { events, commands }
    }

    /// Closes session `id`'s channels (attached sidebands are told first).
    pub fn close(&self, id: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(channel) = sessions.remove(id) {
            let _ = channel.events.send(Mirrored::Ended);
        }
    }

    /// Attaches to session `id`, if it is running.
    pub fn attach(&self, id: &str) -> Option<Attachment> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.get(id).map(|channel| Attachment {
            started: channel.started.clone(),
            events: channel.events.subscribe(),
            commands: channel.commands.clone(),
        })
    }
}

/// Serves one attached sideband until the session ends or the client
/// leaves: the replayed start, then every mirrored frame; its commands are
/// checked as a sideband's (no `session.start`, no audio) and handed to the
/// session, bad ones answered with the service's `error`. At the session's
/// end the socket closes with 1000 (asked for with `graceful_close=true`;
/// without it the service's close is *unconfirmed*, and the mock closes the
/// same way). A client that sends nothing within the first-frame timeout, or
/// nothing for the idle timeout after that (pings count), is closed with the
/// mock's timeout close code, as a session's socket is.
pub(crate) async fn serve(
    mut socket: WebSocket,
    attachment: Attachment,
    protocol: LiveProtocol,
    ctx: SidebandContext,
) {
    let Attachment {
        started,
        mut events,
        commands,
    } = attachment;
    let SidebandContext {
        journal,
        session_id,
        max_frame_bytes,
        timeouts,
        timeout_close,
    } = ctx;
    let mut quiet = QuietClock::new(timeouts);
    let session = journal.open(DIALECT, "", &format!("sideband:{session_id}"));
    let began = std::time::Instant::now();
    let log = |kind: EntryKind, label: &str, detail: String| {
        journal.record(
            session,
            JournalEntry {
                t_ms: began.elapsed().as_millis() as u64,
                kind,
                label: label.to_owned(),
                detail,
            },
        );
    };
    let frame = |kind: EntryKind, label: &str, frame: Frame<'_>| {
        journal.record_frame(
            session,
            began.elapsed().as_millis() as u64,
            kind,
            label,
            frame,
        );
    };
    let mut outgoing = vec![started];
    'session: loop {
        for text in outgoing.drain(..) {
            frame(EntryKind::Server, &kind_of(&text), Frame::Shared(&text));
            if socket
                .send(Message::Text(text.as_ref().into()))
                .await
                .is_err()
            {
                break 'session;
            }
        }
        tokio::select! {
            mirrored = events.recv() => match mirrored {
                Ok(Mirrored::Text(text)) => outgoing.push(text),
                Ok(Mirrored::Ended) | Err(broadcast::error::RecvError::Closed) => {
                    log(EntryKind::Server, "close", "1000 session ended".into());
                    let close = CloseFrame { code: 1000, reason: "".into() };
                    let _ = socket.send(Message::Close(Some(close))).await;
                    break;
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    log(EntryKind::Note, "sideband", format!("{missed} frames dropped for a slow reader"));
                }
            },
            () = quiet.expired(), if quiet.deadline().is_some() => {
                let reason = quiet.reason();
                tracing::info!(session, %reason, "sideband timed out");
                log(EntryKind::Note, "timeout", reason.clone());
                log(EntryKind::Server, "close", format!("{timeout_close} {reason}"));
                let close = CloseFrame { code: timeout_close, reason: reason.into() };
                let _ = socket.send(Message::Close(Some(close))).await;
                break;
            }
            message = socket.recv() => {
                quiet.heard();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
                    _ => {
                        log(EntryKind::Note, "disconnect", "sideband client went away".into());
                        break;
                    }
                };
                match protocol.parse(text.as_str(), max_frame_bytes) {
                    Ok(event) => {
                        frame(EntryKind::Client, event.event_type(), Frame::Borrowed(text.as_str()));
                        if commands.send(event).is_err() {
                            break;
                        }
                    }
                    Err(rejection) => {
                        tracing::warn!(session, code = rejection.code, "the sideband client sent an invalid event: {}", rejection.message);
                        frame(EntryKind::Client, "invalid", Frame::Borrowed(text.as_str()));
                        for frame in protocol.rejection(&rejection) {
                            if let crate::timeline::Outgoing::Text { text, .. } = frame {
                                outgoing.push(text);
                            }
                        }
                    }
                }
            }
        }
    }
    journal.close(session);
}

/// What a sideband connection needs besides its attachment.
pub(crate) struct SidebandContext {
    /// The mock's journal.
    pub(crate) journal: Journal,
    /// The session attached to.
    pub(crate) session_id: String,
    /// Largest client frame accepted.
    pub(crate) max_frame_bytes: usize,
    /// The first-frame and idle timeouts, as every session socket has.
    pub(crate) timeouts: ServeTimeouts,
    /// Close code for a sideband one of those timeouts ends.
    pub(crate) timeout_close: u16,
}

/// The `type` of a serialised event, for the journal.
fn kind_of(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sideband_sees_the_start_then_what_is_published_and_its_commands_come_back() {
        let hub = LiveHub::default();
        let mut publisher = hub.open("live_1", Arc::from("{\"type\":\"session.started\"}"));
        assert!(!publisher.watched());
        assert!(hub.attach("live_2").is_none());
        let mut attached = hub.attach("live_1").expect("running");
        assert!(publisher.watched());
        assert_eq!(&*attached.started, "{\"type\":\"session.started\"}");
        publisher.publish(Mirrored::Text(Arc::from("x")));
        let close = ClientEvent::SessionClose(Default::default());
        attached.commands.send(close.clone()).unwrap();
        assert_eq!(publisher.commands(), vec![close]);
        hub.close("live_1");
        assert_eq!(
            attached.events.try_recv(),
            Ok(Mirrored::Text(Arc::from("x")))
        );
        assert_eq!(attached.events.try_recv(), Ok(Mirrored::Ended));
        assert!(hub.attach("live_1").is_none());
    }
}
