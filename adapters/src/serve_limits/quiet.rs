//! The first-frame and idle timeouts of a WebSocket, as one clock every
//! socket loop of ours runs (the mock's sessions and sidebands, the agent
//! server's front ends), so they all close a quiet client alike.

use super::ServeTimeouts;
use std::time::Duration;
use tokio::time::Instant;

/// When a socket's client must next be heard from: the first-frame timeout
/// until its first frame, the idle timeout after each one.
///
/// A loop selects on [`expired`](Self::expired) next to its reads, calls
/// [`heard`](Self::heard) for every frame the client sends (pings too), and
/// closes with [`reason`](Self::reason) when the clock runs out.
#[derive(Debug, Clone)]
pub struct QuietClock {
    timeouts: ServeTimeouts,
    seen: bool,
    deadline: Option<Instant>,
}

impl QuietClock {
    /// Started now, before any frame.
    pub fn new(timeouts: ServeTimeouts) -> Self {
        QuietClock {
            timeouts,
            seen: false,
            deadline: timeouts.next_frame(false).map(|d| Instant::now() + d),
        }
    }

    /// A frame of any kind arrived: the idle clock restarts.
    pub fn heard(&mut self) {
        self.seen = true;
        self.deadline = self.timeouts.idle.map(|d| Instant::now() + d);
    }

    /// When the client must next be heard from; `None` when it need not.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Resolves at the deadline; never without one.
    pub async fn expired(&self) {
        match self.deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    /// The close reason once the deadline passed: `no client frame within
    /// 30s of connecting`, or `idle timeout: no client frame for 300s`.
    pub fn reason(&self) -> String {
        match self.timeouts.next_frame(self.seen) {
            Some(limit) if self.seen => {
                format!("idle timeout: no client frame for {}", written(limit))
            }
            Some(limit) => format!("no client frame within {} of connecting", written(limit)),
            None => "timeout".to_owned(),
        }
    }
}

/// `limit` as a flag spells it: `30s` for whole seconds, else `250ms`.
pub fn written(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{}s", limit.as_secs())
    } else {
        format!("{}ms", limit.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Option<Duration> {
        Some(Duration::from_millis(ms))
    }

    #[test]
    fn limits_read_as_written() {
        assert_eq!(written(Duration::from_secs(30)), "30s");
        assert_eq!(written(Duration::from_millis(250)), "250ms");
        assert_eq!(written(Duration::from_millis(1500)), "1500ms");
    }

    #[tokio::test]
    async fn the_first_frame_timeout_then_the_idle_one() {
        let timeouts = ServeTimeouts {
            first_frame: ms(100),
            idle: ms(60_000),
            ..ServeTimeouts::NONE
        };
        let start = Instant::now();
        let mut clock = QuietClock::new(timeouts);
        let first = clock.deadline().expect("a first-frame deadline");
        assert!(first >= start + Duration::from_millis(100));
        assert!(first <= Instant::now() + Duration::from_millis(100));
        assert_eq!(clock.reason(), "no client frame within 100ms of connecting");
        tokio::time::timeout(Duration::from_secs(5), clock.expired())
            .await
            .expect("expires at the first-frame deadline");
        assert!(Instant::now() >= first);
        let before = Instant::now();
        clock.heard();
        let idle = clock.deadline().expect("an idle deadline");
        assert!(
            idle >= before + Duration::from_secs(60),
            "the idle clock runs from the frame"
        );
        assert_eq!(clock.reason(), "idle timeout: no client frame for 60s");
        let waited = tokio::time::timeout(Duration::from_millis(50), clock.expired()).await;
        assert!(waited.is_err(), "expired before the idle timeout");
    }

    #[tokio::test]
    async fn without_timeouts_it_never_expires() {
        let mut clock = QuietClock::new(ServeTimeouts::NONE);
        assert_eq!(clock.deadline(), None);
        clock.heard();
        assert_eq!(clock.deadline(), None);
        let waited = tokio::time::timeout(Duration::from_millis(50), clock.expired()).await;
        assert!(waited.is_err());
    }
}
