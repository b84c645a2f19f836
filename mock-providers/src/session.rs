//! The session loop: drives one engine over a real WebSocket for any dialect.
//!
//! It validates every client frame with the dialect's [`Protocol`] (bad input
//! is answered with the provider's `error` event and the session goes on),
//! feeds valid events to the engine, sends whatever the engine has due, and
//! records all of it in the journal. A client that vanishes ends only its own
//! session. When an event leaves the engine costly work (the end of a user
//! turn), the engine goes to the turn pool (`offload`) and back before the
//! session reads or sends anything more, so other sessions on this worker
//! are not held up and this one's frames keep their order.
//!
//! Frames the WebSocket layer itself cannot take end the session with the
//! close RFC 6455 names, never a silent drop: a text frame that is not UTF-8
//! gets close 1007; a frame above the socket's limit gets the dialect's
//! answer to an oversized event (an `error` event, or Gemini's close), then
//! close 1009 — the rest of that frame cannot be read past.

use crate::engine::SessionEngine;
use crate::journal::{EntryKind, Frame, Journal, JournalEntry};
use crate::protocol::{FrameError, Protocol};
use crate::timeline::Outgoing;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde_json::json;
use std::sync::Arc;
use tokio::time::Instant;
use understudy_adapters::serve_limits::QuietClock;
use understudy_adapters::ws_fault::ReadFault;

/// Everything one session needs besides its engine.
pub struct SessionContext {
    /// Journal to write to, and this session's number in it.
    pub journal: Journal,
    /// Session number in the journal.
    pub session: u64,
    /// Largest client frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Whether the client's key was accepted.
    pub authorised: bool,
    /// The first-frame and idle timeouts (the others are the HTTP layer's).
    pub timeouts: understudy_adapters::serve_limits::ServeTimeouts,
    /// Close code for a session one of those timeouts ends.
    pub timeout_close: u16,
}

/// Runs one session until either side closes.
pub async fn run_session<P: Protocol>(
    mut socket: WebSocket,
    ctx: SessionContext,
    protocol: Arc<P>,
    mut engine: Box<dyn SessionEngine<P::Event>>,
) {
    let logger = Logger {
        journal: &ctx.journal,
        session: ctx.session,
        started: Some(Instant::now()),
    };
    let log = |kind: EntryKind, label: &str, detail: String| logger.line(kind, label, detail);
    if !ctx.authorised {
        for frame in protocol.auth_failure() {
            if !send(&mut socket, frame, &logger).await {
                break;
            }
        }
        ctx.journal.close(ctx.session);
        return;
    }
    engine.on_connect(Instant::now());
    let mut quiet = QuietClock::new(ctx.timeouts);
    'session: loop {
        for note in engine.take_notes() {
            log(EntryKind::Note, &note.label, note.detail);
        }
        // Frames due now are written together and flushed once (one
        // syscall for a burst rather than one per frame), in their order.
        let due = engine.pop_due(Instant::now());
        let burst = !due.is_empty();
        let mut closing = false;
        for frame in due {
            closing = matches!(frame, Outgoing::Close { .. });
            if !feed(&mut socket, frame, &logger).await {
                log(
                    EntryKind::Note,
                    "disconnect",
                    "client went away mid-stream".into(),
                );
                break 'session;
            }
            if closing {
                break;
            }
        }
        if burst && futures_util::SinkExt::flush(&mut socket).await.is_err() && !closing {
            log(
                EntryKind::Note,
                "disconnect",
                "client went away mid-stream".into(),
            );
            break 'session;
        }
        if closing {
            break 'session;
        }
        let deadline = engine.next_deadline();
        tokio::select! {
            message = socket.recv() => {
                quiet.heard();
                let text = match message {
                    None => {
                        log(EntryKind::Note, "disconnect", "client went away".into());
                        break;
                    }
                    Some(Err(error)) => {
                        let fault = ReadFault::of(&error);
                        log(EntryKind::Note, "disconnect", format!("socket error: {error}"));
                        if fault.close_code().is_some() {
                            refuse_frame(&mut socket, protocol.as_ref(), fault, &logger).await;
                        }
                        break;
                    }
                    Some(Ok(Message::Close(close))) => {
                        let detail = close.map(|c| format!("{} {}", c.code, c.reason)).unwrap_or_default();
                        log(EntryKind::Client, "close", detail);
                        // Send the close reply tungstenite queued, so the client
                        // sees a complete closing handshake.
                        let _ = futures_util::SinkExt::flush(&mut socket).await;
                        break;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(bytes))) => {
                        match std::str::from_utf8(&bytes) {
                            Ok(text) if protocol.binary_json() => text.to_owned().into(),
                            _ => {
                                tracing::warn!(session = ctx.session, bytes = bytes.len(), "the client sent a binary frame this dialect does not take");
                                log(EntryKind::Client, "binary", format!("{} bytes", bytes.len()));
                                let refusal = FrameError::new(
                                    "invalid_event",
                                    "Binary frames are not supported: send each event as a JSON text frame.",
                                );
                                if !reject(&mut socket, protocol.rejection(&refusal), &logger).await {
                                    break;
                                }
                                continue;
                            }
                        }
                    }
                    Some(Ok(Message::Text(text))) => text,
                };
                let now = Instant::now();
                match protocol.parse(text.as_str(), ctx.max_frame_bytes) {
                    Ok(event) => {
                        let summary = protocol.summarise(&event);
                        logger.frame(EntryKind::Client, &summary.event_type, Frame::Borrowed(text.as_str()));
                        engine.on_client_event(&event, &summary, now);
                        if engine.has_deferred() {
                            // The end of a turn: its work runs off this
                            // task (see `offload`), this session waits.
                            match crate::offload::settle(engine).await {
                                Ok(back) => engine = back,
                                Err(error) => {
                                    tracing::error!(session = ctx.session, %error, "the session's engine is lost");
                                    log(EntryKind::Note, "engine", error.to_string());
                                    let close = Outgoing::Close { code: 1011, reason: "internal error".into() };
                                    send(&mut socket, close, &logger).await;
                                    ctx.journal.close(ctx.session);
                                    return;
                                }
                            }
                        }
                    }
                    Err(rejection) => {
                        tracing::warn!(
                            session = ctx.session,
                            code = rejection.code,
                            param = rejection.param.as_deref().unwrap_or(""),
                            "the client sent an invalid event: {}",
                            rejection.message
                        );
                        logger.frame(EntryKind::Client, "invalid", Frame::Borrowed(text.as_str()));
                        if !reject(&mut socket, protocol.rejection(&rejection), &logger).await {
                            break;
                        }
                    }
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => {}
            _ = quiet.expired(), if quiet.deadline().is_some() => {
                let reason = quiet.reason();
                tracing::info!(session = ctx.session, %reason, "session timed out");
                log(EntryKind::Note, "timeout", reason.clone());
                let close = Outgoing::Close { code: ctx.timeout_close, reason };
                send(&mut socket, close, &logger).await;
                let _ = futures_util::SinkExt::flush(&mut socket).await;
                break;
            }
        }
    }
    for note in engine.take_notes() {
        log(EntryKind::Note, &note.label, note.detail);
    }
    ctx.journal.close(ctx.session);
}

/// Answers a frame the socket could not read (see the module header): the
/// dialect's oversize answer where that is the fault, then the RFC 6455 close.
async fn refuse_frame<P: Protocol>(
    socket: &mut WebSocket,
    protocol: &P,
    fault: ReadFault,
    log: &Logger<'_>,
) {
    let Some(code) = fault.close_code() else {
        return;
    };
    tracing::warn!(
        session = log.session,
        "the client sent a frame the socket cannot read: {}",
        fault.reason()
    );
    log.line(EntryKind::Client, "invalid", fault.reason());
    if let ReadFault::TooLarge { size, max_size } = fault {
        let too_large = FrameError::new(
            "message_too_large",
            format!(
                "The event is at least {size} bytes, which is more than the maximum of {max_size} bytes."
            ),
        );
        if !reject(socket, protocol.rejection(&too_large), log).await {
            // The dialect answered with a close of its own (Gemini).
            let _ = futures_util::SinkExt::flush(socket).await;
            return;
        }
    }
    let close = Outgoing::Close {
        code,
        reason: fault.reason(),
    };
    send(socket, close, log).await;
    let _ = futures_util::SinkExt::flush(socket).await;
}

/// Sends a protocol's answer to bad input; false when the session is over
/// (the client is gone, or the answer was a close).
async fn reject(socket: &mut WebSocket, frames: Vec<Outgoing>, log: &Logger<'_>) -> bool {
    for frame in frames {
        let closing = matches!(frame, Outgoing::Close { .. });
        if !send(socket, frame, log).await || closing {
            return false;
        }
    }
    true
}

/// Sends one frame (written and flushed) and journals it; false when the
/// client is gone.
async fn send(socket: &mut WebSocket, frame: Outgoing, log: &Logger<'_>) -> bool {
    let closing = matches!(frame, Outgoing::Close { .. });
    let fed = feed(socket, frame, log).await;
    let flushed = futures_util::SinkExt::flush(socket).await.is_ok();
    // A close is sent as well as it can be; the session ends either way.
    closing || (fed && flushed)
}

/// Writes one frame into the socket's buffer without flushing it (the
/// socket flushes by itself past its write buffer, so a burst stays
/// bounded) and journals it; false when the client is gone.
async fn feed(socket: &mut WebSocket, frame: Outgoing, log: &Logger<'_>) -> bool {
    use futures_util::SinkExt;
    match frame {
        Outgoing::Text { event_type, text } => {
            log.frame(EntryKind::Server, &event_type, Frame::Shared(&text));
            socket
                .feed(Message::Text(text.as_ref().into()))
                .await
                .is_ok()
        }
        Outgoing::Binary { event_type, data } => {
            log.frame(EntryKind::Server, &event_type, Frame::SharedBytes(&data));
            socket
                .feed(Message::Binary(data.to_vec().into()))
                .await
                .is_ok()
        }
        Outgoing::Close { code, reason } => {
            log.line(EntryKind::Server, "close", format!("{code} {reason}"));
            let _ = socket
                .feed(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
            true
        }
    }
}

/// `text` cut to the 123 bytes a close reason may hold (RFC 6455 §5.5),
/// at a character boundary.
pub(crate) fn close_reason(text: &str) -> String {
    const MAX: usize = 123;
    let mut end = text.len().min(MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Where one session's journal lines go, timed from its start (or at 0 for a
/// session refused before it started).
struct Logger<'a> {
    journal: &'a Journal,
    session: u64,
    started: Option<Instant>,
}

impl Logger<'_> {
    fn t_ms(&self) -> u64 {
        self.started
            .map(|at| at.elapsed().as_millis() as u64)
            .unwrap_or(0)
    }

    /// A line whose detail is already what readers should see (a note).
    fn line(&self, kind: EntryKind, label: &str, detail: String) {
        self.journal.record(
            self.session,
            JournalEntry {
                t_ms: self.t_ms(),
                kind,
                label: label.to_owned(),
                detail,
            },
        );
    }

    /// A frame, kept by reference and summarised when read.
    fn frame(&self, kind: EntryKind, label: &str, frame: Frame<'_>) {
        self.journal
            .record_frame(self.session, self.t_ms(), kind, label, frame);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A process-wide counter for ids the transport mints itself.
pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Ends a session that cannot be served (no cassette for it): a `server_error`
/// event, then close 1011, as the hosted service does on internal failures.
pub async fn refuse(
    mut socket: WebSocket,
    journal: &Journal,
    session: u64,
    problem: &str,
    reason: &str,
) {
    let error = json!({
        "type": "error",
        "event_id": format!("event_err{:012x}", rand_suffix()),
        "error": {"type": "server_error", "code": "no_cassette", "message": problem, "param": null, "event_id": null}
    })
    .to_string();
    journal.record(
        session,
        JournalEntry {
            t_ms: 0,
            kind: EntryKind::Note,
            label: "refused".into(),
            detail: problem.to_owned(),
        },
    );
    let _ = socket.send(Message::Text(error.into())).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1011,
            reason: reason.into(),
        })))
        .await;
    journal.close(session);
}

/// Ends a session that cannot be served with the dialect's own `frames`
/// (its error), then close 1011, journalled.
pub async fn refuse_with(
    mut socket: WebSocket,
    journal: &Journal,
    session: u64,
    frames: Vec<Outgoing>,
    problem: &str,
    reason: &str,
) {
    journal.record(
        session,
        JournalEntry {
            t_ms: 0,
            kind: EntryKind::Note,
            label: "refused".into(),
            detail: problem.to_owned(),
        },
    );
    let logger = Logger {
        journal,
        session,
        started: None,
    };
    for frame in frames {
        if !send(&mut socket, frame, &logger).await {
            break;
        }
    }
    let close = Outgoing::Close {
        code: 1011,
        reason: reason.to_owned(),
    };
    send(&mut socket, close, &logger).await;
    journal.close(session);
}

/// Closes a session at once with `code` and `reason` (no engine ran).
pub async fn close_with(
    mut socket: WebSocket,
    journal: &Journal,
    session: u64,
    code: u16,
    reason: &str,
) {
    let reason = close_reason(reason);
    journal.record(
        session,
        JournalEntry {
            t_ms: 0,
            kind: EntryKind::Server,
            label: "close".into(),
            detail: format!("{code} {reason}"),
        },
    );
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
    journal.close(session);
}
