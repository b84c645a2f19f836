//! The journal's live feed: new sessions, notes, session ends (and, for
//! subscribers that ask, a one-line summary of each frame), fanned out to
//! every subscriber of `GET /__understudy/stream`.
//!
//! It is a bounded [`tokio::sync::broadcast`] channel: a session publishes
//! without waiting for anyone, and a subscriber that falls more than the
//! buffer behind loses the oldest events and is told how many
//! ([`Received::Lagged`]). Frames are published only while at least one
//! subscriber asked for them, so the hot path pays nothing otherwise.
//!
//! Memory stays bounded however slow a subscriber is: the channel keeps the
//! last `buffer` events once for everyone, a subscriber that falls behind
//! loses the oldest (the events lost are counted in [`Live::lagged`] and
//! `/__understudy/journal/stats`), and an SSE response pulls its next event
//! only when the connection has taken the previous one. The number of
//! subscribers is counted, and [`Live::try_subscribe`] refuses one past a cap.

use super::grade::ReplayGrade;
use super::limits::TooManySubscribers;
use super::EntryKind;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events a subscriber may fall behind by before it loses some, unless the
/// journal was built with another buffer.
pub const DEFAULT_STREAM_BUFFER: usize = 1_024;

/// One event of the live feed, as it goes out (JSON in an SSE `data:` line,
/// the SSE `event:` name being [`LiveEvent::name`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LiveEvent {
    /// A session opened.
    Session {
        /// Its number.
        session: u64,
        /// Its dialect.
        dialect: String,
        /// The model asked for.
        model: String,
        /// The engine serving it.
        engine: String,
        /// When it opened, in milliseconds since the Unix epoch.
        started_unix_ms: u64,
        /// Sessions the caps have evicted so far.
        evicted_sessions: u64,
    },
    /// An engine's note.
    Note {
        /// The session.
        session: u64,
        /// Milliseconds since it opened.
        t_ms: u64,
        /// The note's category.
        label: String,
        /// Its text.
        detail: String,
    },
    /// A frame, summarised to its label and size.
    Frame {
        /// The session.
        session: u64,
        /// Milliseconds since it opened.
        t_ms: u64,
        /// Which way it went.
        kind: EntryKind,
        /// Its event type.
        label: String,
        /// Its size in bytes.
        bytes: usize,
    },
    /// A session ended.
    End {
        /// The session.
        session: u64,
        /// Time of its last entry, in milliseconds since it opened.
        duration_ms: u64,
        /// Turns it completed.
        turns: u64,
        /// Its replay grade, for a replay session.
        grade: Option<ReplayGrade>,
    },
}

impl LiveEvent {
    /// The SSE event name: `session`, `note`, `frame` or `end`.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::Session { .. } => "session",
            LiveEvent::Note { .. } => "note",
            LiveEvent::Frame { .. } => "frame",
            LiveEvent::End { .. } => "end",
        }
    }
}

/// What a subscriber gets next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// The next event.
    Event(LiveEvent),
    /// It fell behind and lost this many events.
    Lagged(u64),
}

/// The publishing side, shared by the store.
#[derive(Debug)]
pub(crate) struct Live {
    sender: broadcast::Sender<LiveEvent>,
    /// Subscribers that want frames too.
    frame_subscribers: Arc<AtomicUsize>,
    /// Every subscriber, counted by its [`Subscription`].
    counts: Arc<Counts>,
}

/// Counters shared by the feed and its subscriptions.
#[derive(Debug, Default)]
struct Counts {
    /// Subscribers now.
    subscribers: AtomicUsize,
    /// Events subscribers lost by falling behind, since start.
    lagged: AtomicU64,
}

impl Live {
    /// A feed whose subscribers may fall `buffer` events behind.
    pub(crate) fn new(buffer: usize) -> Self {
        let (sender, _) = broadcast::channel(buffer.max(1));
        Live {
            sender,
            frame_subscribers: Arc::new(AtomicUsize::new(0)),
            counts: Arc::default(),
        }
    }

    /// Publishes an event to whoever listens; nobody listening is fine.
    pub(crate) fn publish(&self, event: impl FnOnce() -> LiveEvent) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(event());
        }
    }

    /// Whether any subscriber wants frames.
    pub(crate) fn wants_frames(&self) -> bool {
        self.frame_subscribers.load(Ordering::Relaxed) > 0
    }

    /// Subscribers now.
    pub(crate) fn subscribers(&self) -> usize {
        self.counts.subscribers.load(Ordering::Relaxed)
    }

    /// Events subscribers have lost by falling behind, since start.
    pub(crate) fn lagged(&self) -> u64 {
        self.counts.lagged.load(Ordering::Relaxed)
    }

    /// A new subscriber unless `max` already listen (counted atomically, so
    /// concurrent subscribers cannot go past it together).
    pub(crate) fn try_subscribe(
        &self,
        frames: bool,
        max: usize,
    ) -> Result<Subscription, TooManySubscribers> {
        self.counts
            .subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                (now < max).then_some(now + 1)
            })
            .map_err(|_| TooManySubscribers { max })?;
        Ok(self.counted(frames))
    }

    /// A new subscriber, seeing events from now on (frames too if `frames`).
    pub(crate) fn subscribe(&self, frames: bool) -> Subscription {
        self.counts.subscribers.fetch_add(1, Ordering::AcqRel);
        self.counted(frames)
    }

    /// A subscription whose place in the count is already taken.
    fn counted(&self, frames: bool) -> Subscription {
        if frames {
            self.frame_subscribers.fetch_add(1, Ordering::Relaxed);
        }
        Subscription {
            receiver: self.sender.subscribe(),
            frames: frames.then(|| Arc::clone(&self.frame_subscribers)),
            counts: Arc::clone(&self.counts),
        }
    }
}

/// One subscriber of the live feed; dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<LiveEvent>,
    /// The frame-subscriber count this one added to, if it wants frames.
    frames: Option<Arc<AtomicUsize>>,
    /// The feed's counters (this one is among its subscribers).
    counts: Arc<Counts>,
}

impl Subscription {
    /// The next event (skipping frames unless this subscriber wants them),
    /// or how many it lost by falling behind; `None` once the journal is gone.
    pub async fn next(&mut self) -> Option<Received> {
        loop {
            match self.receiver.recv().await {
                Ok(LiveEvent::Frame { .. }) if self.frames.is_none() => continue,
                Ok(event) => return Some(Received::Event(event)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.counts.lagged.fetch_add(missed, Ordering::Relaxed);
                    tracing::debug!(missed, "a live-feed subscriber fell behind");
                    return Some(Received::Lagged(missed));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.counts.subscribers.fetch_sub(1, Ordering::AcqRel);
        if let Some(count) = &self.frames {
            count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
