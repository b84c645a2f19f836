//! Limits on the journal's readers: how long one read may take and how many
//! live-feed subscribers may listen at once.
//!
//! Both protect the mock's sessions from its observers: a read that cannot
//! finish (a page too large for a loaded machine) answers 503 instead of
//! hanging its client, and past the subscriber cap a new subscriber of
//! `GET /__understudy/stream` is refused (503 with `Retry-After`) instead of
//! adding one more fan-out target per event.

use std::time::Duration;

/// Limits on reads of the journal and on its live feed's subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// A read (queue wait included) not finished by then is abandoned and
    /// answered 503.
    pub read_deadline: Duration,
    /// Most subscribers of the live feed at once over HTTP.
    pub max_subscribers: usize,
}

impl ReadLimits {
    /// Default read deadline: 10 s, far above a read of a full journal's page.
    pub const DEFAULT_READ_DEADLINE: Duration = super::reader::DEFAULT_READ_DEADLINE;
    /// Default subscriber cap: 64 (an inspector tab is one subscriber).
    pub const DEFAULT_MAX_SUBSCRIBERS: usize = 64;
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            read_deadline: Self::DEFAULT_READ_DEADLINE,
            max_subscribers: Self::DEFAULT_MAX_SUBSCRIBERS,
        }
    }
}

/// Why a live-feed subscriber was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the live stream already has {max} subscribers (its cap); retry later")]
pub struct TooManySubscribers {
    /// The cap that was reached.
    pub max: usize,
}
