//! The server's inspector routes, read over HTTP like any user reads them.

use crate::error::{BenchError, Result};
use serde_json::Value;

/// An HTTP client for one server's `/__understudy/…` routes.
#[derive(Clone)]
pub struct Inspector {
    http: reqwest::Client,
    base: String,
}

impl Inspector {
    /// A client for the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|source| BenchError::Http {
                url: base.to_owned(),
                source,
            })?;
        Ok(Inspector {
            http,
            base: base.to_owned(),
        })
    }

    /// `GET {base}{path}`: the body as JSON, failing on a non-2xx status.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let fail = |source| BenchError::Http {
            url: url.clone(),
            source,
        };
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(fail)?;
        response.json().await.map_err(fail)
    }

    /// `GET {base}{path}` read to the end (body discarded): its status and
    /// length. Any status is an answer; only a failed exchange is an error.
    pub async fn get_status(&self, path: &str) -> Result<(u16, usize)> {
        let url = format!("{}{path}", self.base);
        let fail = |source| BenchError::Http {
            url: url.clone(),
            source,
        };
        let response = self.http.get(&url).send().await.map_err(fail)?;
        let status = response.status().as_u16();
        Ok((status, response.bytes().await.map_err(fail)?.len()))
    }

    /// `GET /__understudy/journal/stats`.
    pub async fn stats(&self) -> Result<JournalCounters> {
        let value = self.get_json("/__understudy/journal/stats").await?;
        JournalCounters::from_json(&value)
    }
}

/// The journal's counters as `/__understudy/journal/stats` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalCounters {
    /// `off`, `summary` or `full`.
    pub mode: String,
    /// Cap on sessions kept.
    pub max_sessions: u64,
    /// Cap on bytes kept.
    pub max_bytes: u64,
    /// Sessions kept now.
    pub sessions: u64,
    /// Bytes kept now.
    pub bytes: u64,
    /// Sessions ever opened.
    pub opened: u64,
    /// Sessions evicted by the caps.
    pub evicted_sessions: u64,
    /// Entries dropped.
    pub dropped_entries: u64,
    /// Sessions removed by `DELETE`.
    pub cleared_sessions: u64,
    /// Times a session's journal write waited on a lock held elsewhere
    /// (`None` from a server that does not count them).
    pub write_lock_waits: Option<u64>,
    /// Those waits added up, in microseconds.
    pub write_lock_wait_us: Option<u64>,
    /// The longest of them, in microseconds.
    pub write_lock_wait_max_us: Option<u64>,
}

impl JournalCounters {
    /// Reads the stats body; a missing counter is an error (an older server
    /// without the bounded journal has no stats route at all).
    pub fn from_json(value: &Value) -> Result<Self> {
        let number = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    BenchError::Protocol(format!(
                        "journal stats have no number at {pointer}: {value}"
                    ))
                })
        };
        Ok(JournalCounters {
            mode: value
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
            max_sessions: number("/caps/max_sessions")?,
            max_bytes: number("/caps/max_bytes")?,
            sessions: number("/sessions")?,
            bytes: number("/bytes")?,
            opened: number("/opened")?,
            evicted_sessions: number("/evicted_sessions")?,
            dropped_entries: number("/dropped_entries")?,
            cleared_sessions: number("/cleared_sessions")?,
            write_lock_waits: value.get("write_lock_waits").and_then(Value::as_u64),
            write_lock_wait_us: value.get("write_lock_wait_us").and_then(Value::as_u64),
            write_lock_wait_max_us: value.get("write_lock_wait_max_us").and_then(Value::as_u64),
        })
    }
}
