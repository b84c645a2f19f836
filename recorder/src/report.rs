//! What a recording produced: one summary per session, kept in
//! `record-report.json` beside the cassettes and updated as sessions end.

use crate::latency::LatencySummary;
use crate::write_queue::WriteQueueStats;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the report in the output folder.
pub const REPORT_FILE: &str = "record-report.json";

/// One recorded session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Cassette file name in the output folder (absent when it could not be written).
    pub cassette: Option<String>,
    /// The cassette's dialect.
    pub dialect: String,
    /// The model, as far as the session said.
    pub model: String,
    /// Whether the session ended cleanly on both sides.
    pub complete: bool,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// From the client's request to the last frame, in milliseconds.
    pub duration_ms: f64,
    /// Frames the client sent (HTTP: the request).
    pub frames_c2s: usize,
    /// Frames the upstream sent (HTTP: the response).
    pub frames_s2c: usize,
    /// What was scrubbed (header names, `?query` names, secret labels).
    pub scrubbed: Vec<String>,
    /// How long the proxy took to pass each frame on, from the moment it was
    /// read to the moment the other side's write completed (HTTP: per body
    /// chunk). Reading and decoding the frame and the extra network hop are
    /// not in it; `cargo bench -p understudy-recorder` measures the whole
    /// round-trip cost against a direct connection.
    pub added_latency: Option<LatencySummary>,
    /// A problem writing the cassette, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_error: Option<String>,
}

impl SessionSummary {
    /// One line for a terminal.
    pub fn line(&self) -> String {
        let name = self.cassette.as_deref().unwrap_or("(not written)");
        let latency = self
            .added_latency
            .map(|l| {
                format!(
                    ", forwarding p50 {:.0} µs / p99 {:.0} µs per frame ({} frames)",
                    l.p50_us, l.p99_us, l.frames
                )
            })
            .unwrap_or_default();
        let state = match (&self.write_error, &self.incomplete_reason) {
            (Some(error), _) => format!(" — NOT WRITTEN: {error}"),
            (None, Some(reason)) => format!(" — INCOMPLETE: {reason}"),
            (None, None) => String::new(),
        };
        format!(
            "recorded {name}: {} {}, {}+{} frames, {:.1} s{latency}{state}",
            self.dialect,
            self.model,
            self.frames_c2s,
            self.frames_s2c,
            self.duration_ms / 1000.0
        )
    }
}

/// Every session of one `understudy record` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingReport {
    /// Version of the toolkit that recorded.
    pub toolkit_version: String,
    /// The provider recorded.
    pub provider: String,
    /// `scheme://host[:port]` of the upstream.
    pub upstream: String,
    /// Sessions in the order they ended.
    pub sessions: Vec<SessionSummary>,
    /// How the queues between the proxy and the cassette writers behaved
    /// (whether a slow disk made the proxy wait).
    #[serde(default)]
    pub write_queue: WriteQueueStats,
}

impl RecordingReport {
    /// Writes the report as pretty JSON into `dir`, atomically.
    pub(crate) fn write_into(&self, dir: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!(".{REPORT_FILE}.{}.tmp", std::process::id()));
        {
            use std::io::Write as _;
            let mut file = understudy_fixtures::stream_write::create_private(&tmp)?;
            file.write_all(&json)?;
        }
        std::fs::rename(&tmp, dir.join(REPORT_FILE))
    }
}
