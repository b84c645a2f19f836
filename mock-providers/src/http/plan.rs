//! An HTTP answer as data, and the thin transport that plays it.
//!
//! The dialects decide *what* to answer as a [`Planned`] response: a status,
//! headers, and body pieces each sent after a delay. [`play`] turns it into an
//! axum response whose body streams piece by piece (chunked transfer encoding),
//! recording each piece in the request's journal session and closing the
//! session when the body ends or the client hangs up. Deciding stays pure and
//! testable; only `play` sleeps.

use crate::journal::{EntryKind, Journal, JournalEntry};
use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// One piece of a planned body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Wait this long after the previous piece (or the head) before sending it.
    pub after: Duration,
    /// The bytes.
    pub bytes: Bytes,
    /// Journal label (`audio`, `speech.audio.delta`, `generateContent`, …).
    pub label: String,
    /// Journal detail (sizes, never sample data).
    pub detail: String,
}

/// A whole planned HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Status code.
    pub status: StatusCode,
    /// Headers besides the ones axum adds.
    pub headers: Vec<(&'static str, String)>,
    /// The body, in order.
    pub pieces: Vec<Piece>,
    /// Abort the body after the last piece instead of ending it (a dropped
    /// connection mid-stream).
    pub cut_short: bool,
}

impl Planned {
    /// A JSON answer sent at once.
    pub fn json(status: StatusCode, body: &impl serde::Serialize, label: &str) -> Self {
        let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        let detail = String::from_utf8_lossy(&bytes).chars().take(512).collect();
        Planned {
            status,
            headers: vec![("content-type", "application/json".into())],
            pieces: vec![Piece {
                after: Duration::ZERO,
                bytes: Bytes::from(bytes),
                label: label.into(),
                detail,
            }],
            cut_short: false,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The whole body, pieces joined (for tests).
    pub fn body(&self) -> Vec<u8> {
        self.pieces
            .iter()
            .flat_map(|p| p.bytes.iter().copied())
            .collect()
    }
}

/// Where a request's journal entries go.
#[derive(Debug, Clone)]
pub struct JournalCtx {
    /// The shared journal.
    pub journal: Journal,
    /// This request's session number.
    pub session: u64,
    /// When the request arrived.
    pub started: Instant,
}

impl JournalCtx {
    /// Opens a journal session for one request.
    pub fn open(journal: &Journal, dialect: &str, model: &str, engine: &str) -> Self {
        let session = journal.open(dialect, model, engine);
        JournalCtx {
            journal: journal.clone(),
            session,
            started: Instant::now(),
        }
    }

    /// Records an entry now.
    pub fn record(&self, kind: EntryKind, label: impl Into<String>, detail: impl Into<String>) {
        self.journal.record(
            self.session,
            JournalEntry {
                t_ms: self.started.elapsed().as_millis() as u64,
                kind,
                label: label.into(),
                detail: detail.into(),
            },
        );
    }
}

/// Closes the journal session when the body is over, however it ended.
struct Closer {
    ctx: JournalCtx,
    complete: bool,
}

impl Drop for Closer {
    fn drop(&mut self) {
        if !self.complete {
            self.ctx.record(
                EntryKind::Note,
                "http.aborted",
                "the client went away before the body was complete",
            );
        }
        self.ctx.journal.close(self.ctx.session);
    }
}

/// The error that aborts a body cut short.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped mid-body (fault injection)")]
struct CutShort;

/// Plays a planned answer: headers now, each piece after its delay.
pub fn play(planned: Planned, ctx: JournalCtx) -> Response {
    let content_type = planned
        .headers
        .iter()
        .find(|(n, _)| *n == "content-type")
        .map(|(_, v)| v.as_str())
        .unwrap_or("-");
    ctx.record(
        EntryKind::Server,
        "http.response",
        format!(
            "{} {content_type}, {} bytes in {} pieces",
            planned.status.as_u16(),
            planned.pieces.iter().map(|p| p.bytes.len()).sum::<usize>(),
            planned.pieces.len()
        ),
    );
    let mut builder = Response::builder().status(planned.status);
    for (name, value) in &planned.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(*name),
            HeaderValue::try_from(value.as_str()),
        ) {
            builder = builder.header(name, value);
        }
    }
    let cut_short = planned.cut_short;
    let state = (
        VecDeque::from(planned.pieces),
        Closer {
            ctx,
            complete: false,
        },
    );
    let stream = futures_util::stream::unfold(state, move |(mut pieces, mut closer)| async move {
        let Some(piece) = pieces.pop_front() else {
            if closer.complete {
                return None;
            }
            closer.complete = true;
            if cut_short {
                closer
                    .ctx
                    .record(EntryKind::Note, "fault", "body cut short");
                return Some((Err(CutShort), (pieces, closer)));
            }
            closer
                .ctx
                .record(EntryKind::Server, "http.end", "body complete");
            return None;
        };
        if !piece.after.is_zero() {
            tokio::time::sleep(piece.after).await;
        }
        closer
            .ctx
            .record(EntryKind::Server, piece.label, piece.detail);
        Some((Ok(piece.bytes), (pieces, closer)))
    });
    builder.body(Body::from_stream(stream)).unwrap_or_else(|_| {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}
