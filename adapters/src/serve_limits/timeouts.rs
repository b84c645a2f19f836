//! The four timeouts a server applies, with their defaults and how a flag
//! spells them.

use std::time::Duration;

/// How long a client may take at each stage of a connection.
///
/// `None` turns a timeout off. The defaults ([`ServeTimeouts::default`]) are
/// generous for a person at a keyboard and short enough that a stalled or
/// hostile client cannot hold a socket for long: 10 s for the request head,
/// 30 s for a request body, 30 s for the first client frame after a
/// WebSocket upgrade, 300 s between client frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeTimeouts {
    /// From accept (or the end of a TLS handshake, which it also bounds)
    /// to the end of the first request's headers; past it: `408`.
    pub header: Option<Duration>,
    /// For a request body to arrive in full once its headers have; past it: `408`.
    pub body: Option<Duration>,
    /// From the WebSocket upgrade to the client's first frame; past it the
    /// session is closed.
    pub first_frame: Option<Duration>,
    /// Longest gap between two client frames of a session (pings count);
    /// past it the session is closed.
    pub idle: Option<Duration>,
}

impl ServeTimeouts {
    /// Default head timeout.
    pub const HEADER: Duration = Duration::from_secs(10);
    /// Default body timeout.
    pub const BODY: Duration = Duration::from_secs(30);
    /// Default first-frame timeout.
    pub const FIRST_FRAME: Duration = Duration::from_secs(30);
    /// Default idle timeout.
    pub const IDLE: Duration = Duration::from_secs(300);

    /// No timeout at all (the behaviour before timeouts existed; for tests
    /// that hold sockets open on purpose).
    pub const NONE: ServeTimeouts = ServeTimeouts {
        header: None,
        body: None,
        first_frame: None,
        idle: None,
    };

    /// How long to wait for the next client frame of a session: the
    /// first-frame timeout before any frame came, the idle timeout after.
    pub fn next_frame(&self, seen_a_frame: bool) -> Option<Duration> {
        if seen_a_frame {
            self.idle
        } else {
            self.first_frame
        }
    }
}

impl Default for ServeTimeouts {
    fn default() -> Self {
        ServeTimeouts {
            header: Some(Self::HEADER),
            body: Some(Self::BODY),
            first_frame: Some(Self::FIRST_FRAME),
            idle: Some(Self::IDLE),
        }
    }
}

/// A timeout flag's value is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a timeout: write seconds (`30`), `250ms`, `30s`, `5m`, or `0`/`off` to disable"
)]
pub struct TimeoutParseError(pub String);

/// Reads a timeout flag: `30` or `30s` (seconds), `250ms`, `5m`; `0` or
/// `off` for none.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, TimeoutParseError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("off") || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let fail = || TimeoutParseError(text.to_owned());
    let (number, unit_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else {
        (t, 1_000)
    };
    let value: u64 = number.trim().parse().map_err(|_| fail())?;
    let ms = value.checked_mul(unit_ms).ok_or_else(fail)?;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_seconds_units_and_off() {
        assert_eq!(parse_timeout("30"), Ok(Some(Duration::from_secs(30))));
        assert_eq!(parse_timeout("30s"), Ok(Some(Duration::from_secs(30))));
        assert_eq!(parse_timeout("250ms"), Ok(Some(Duration::from_millis(250))));
        assert_eq!(parse_timeout("5m"), Ok(Some(Duration::from_secs(300))));
        assert_eq!(parse_timeout("0"), Ok(None));
        assert_eq!(parse_timeout("off"), Ok(None));
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("-1").is_err());
        assert!(parse_timeout("99999999999999999999m").is_err());
    }

    #[test]
    fn defaults_are_the_documented_ones_and_the_first_frame_comes_first() {
        let t = ServeTimeouts::default();
        assert_eq!(t.header, Some(Duration::from_secs(10)));
        assert_eq!(t.body, Some(Duration::from_secs(30)));
        assert_eq!(t.next_frame(false), Some(Duration::from_secs(30)));
        assert_eq!(t.next_frame(true), Some(Duration::from_secs(300)));
        assert_eq!(ServeTimeouts::NONE.next_frame(true), None);
    }
}
