//! Flags for the serving limits, shared by `serve` and `agent` (see
//! `understudy_adapters::serve_limits`).

use std::time::Duration;
use understudy_adapters::serve_limits::{parse_timeout, ServeTimeouts, DEFAULT_MAX_SESSIONS};

/// A timeout flag's value: a duration, or none (`0`/`off`).
#[derive(Debug, Clone, Copy)]
pub struct Timeout(pub Option<Duration>);

/// Reads a timeout flag (`30`, `30s`, `250ms`, `5m`, `0`/`off`).
pub fn timeout(text: &str) -> Result<Timeout, String> {
    parse_timeout(text).map(Timeout).map_err(|e| e.to_string())
}

/// Reads a deadline that cannot be switched off (`10s`, `250ms`, `1m`).
pub fn deadline(text: &str) -> Result<Duration, String> {
    match parse_timeout(text) {
        Ok(Some(limit)) => Ok(limit),
        Ok(None) => Err("a deadline cannot be off or zero: give a duration such as 10s".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Timeouts and the session cap (flattened into `serve` and `agent`).
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// How long a connection may take to send its first request's headers
    /// (and, on TLS, its handshake); late: `408 Request Timeout`. Each later
    /// request's headers on a kept-alive connection get as long from the end
    /// of the previous response; late (or idle that long), the connection is
    /// closed. Seconds, or `250ms`, `5m`; `0`/`off` disables.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub header_timeout: Timeout,
    /// How long a WebSocket client may take to send its first frame after
    /// the upgrade; late: the session is closed (see --timeout-close-code on
    /// `serve`; 1001 on `agent`). `0`/`off` disables.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = timeout)]
    pub first_frame_timeout: Timeout,
    /// Longest a WebSocket client may go without sending a frame (pings
    /// count); then the session is closed. `0`/`off` disables.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = timeout)]
    pub idle_timeout: Timeout,
    /// Most sessions at once; an upgrade past it gets `429` (the provider's
    /// error body on `serve`). The default, 2000, fits a 2-core machine:
    /// ~870 MB and ~6,000 descriptors at 2,000 idle agent sessions, real-time
    /// streams keep their pace to ~600.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
}

impl LimitArgs {
    /// The timeouts, with `body` for the routes that read one.
    pub fn timeouts(&self, body: Option<Duration>) -> ServeTimeouts {
        ServeTimeouts {
            header: self.header_timeout.0,
            body,
            first_frame: self.first_frame_timeout.0,
            idle: self.idle_timeout.0,
        }
    }
}
