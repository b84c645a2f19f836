//! How much the journal keeps, and how much of it at most.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How much of each session the journal keeps (`serve --journal`).
///
/// Audio is kept only in [`JournalMode::Full`] (for the inspector's WAV and
/// cassette routes, counted against the byte cap); in `summary` a frame the
/// mock sent is held by reference (counted against the byte cap too) and a
/// client frame is copied with each base64 audio payload replaced by
/// `<N base64 chars>`; no route serves audio. Entries read as JSON show audio
/// summarised in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalMode {
    /// Nothing: no sessions, no entries (the journal routes answer 404).
    Off,
    /// Every frame's type and its first 512 characters (compact JSON),
    /// every note in full: what a user debugging a replay needs. The default.
    #[default]
    Summary,
    /// Every frame whole, its audio included (read back through the WAV and
    /// cassette routes; entries still show it summarised), and every note.
    Full,
}

impl JournalMode {
    /// The names `--journal` takes, in order.
    pub const NAMES: [&'static str; 3] = ["off", "summary", "full"];
}

/// A `--journal` value that is not one of [`JournalMode::NAMES`].
#[derive(Debug, thiserror::Error)]
#[error("journal mode `{0}` is not one of off, summary, full")]
pub struct UnknownJournalMode(String);

impl FromStr for JournalMode {
    type Err = UnknownJournalMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(JournalMode::Off),
            "summary" => Ok(JournalMode::Summary),
            "full" => Ok(JournalMode::Full),
            other => Err(UnknownJournalMode(other.to_owned())),
        }
    }
}

impl fmt::Display for JournalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            JournalMode::Off => "off",
            JournalMode::Summary => "summary",
            JournalMode::Full => "full",
        };
        f.write_str(name)
    }
}

/// Caps on what the journal holds: past either, the oldest sessions are
/// evicted (and counted) first; a single session larger than the byte cap
/// loses its oldest entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JournalCaps {
    /// Most sessions kept.
    pub max_sessions: usize,
    /// Most bytes of entries kept (frames counted whole even when shared with
    /// a cassette, plus a fixed overhead per entry).
    pub max_bytes: usize,
}

impl JournalCaps {
    /// Default session cap: enough for a long test run's recent history.
    pub const DEFAULT_MAX_SESSIONS: usize = 1_000;
    /// Default byte cap: 64 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
}

impl Default for JournalCaps {
    fn default() -> Self {
        JournalCaps {
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}
