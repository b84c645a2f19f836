//! Check 6: the cassette's normalised events against a snapshot kept beside it.
//!
//! The snapshot of `dir/name.jsonl` is `dir/name.snap.json`: the cassette's
//! server frames decoded by its dialect's codec, in the reviewable form of
//! [`normalise`] (ids as placeholders, audio summarised), as pretty JSON a
//! reviewer reads in a diff. With no snapshot the check has nothing to
//! compare and says how to write one; `--update-snapshots` writes (or
//! rewrites) it.

use crate::normalize::normalise;
use crate::replay::first_difference;
use serde_json::Value;
use std::path::{Path, PathBuf};
use understudy_adapters::ModelEvent;

/// Where the snapshot of the cassette at `cassette` is kept.
pub fn snapshot_path(cassette: &Path) -> PathBuf {
    cassette.with_extension("snap.json")
}

/// What comparing (or writing) a snapshot found.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotOutcome {
    /// The events match the snapshot.
    Matches,
    /// They differ; the first difference.
    Differs(String),
    /// There is no snapshot (and none was written).
    Missing,
    /// The snapshot was written (`--update-snapshots`).
    Written(PathBuf),
}

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The snapshot file.
        path: PathBuf,
        /// The file system's complaint.
        #[source]
        source: std::io::Error,
    },
    /// The snapshot file is not JSON.
    #[error("{path} is not a snapshot (not JSON): {source}")]
    NotJson {
        /// The snapshot file.
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
}

/// Compares `events` with the snapshot beside `cassette`, or writes it when `update`.
pub fn compare_or_write(
    cassette: &Path,
    events: &[ModelEvent],
    update: bool,
) -> Result<SnapshotOutcome, SnapshotError> {
    let path = snapshot_path(cassette);
    let actual = normalise(events);
    let io = |source| SnapshotError::Io {
        path: path.clone(),
        source,
    };
    if update {
        let mut text = serde_json::to_string_pretty(&actual).unwrap_or_default();
        text.push('\n');
        std::fs::write(&path, text).map_err(io)?;
        return Ok(SnapshotOutcome::Written(path));
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SnapshotOutcome::Missing),
        Err(e) => return Err(io(e)),
    };
    let expected: Value = serde_json::from_str(&text).map_err(|source| SnapshotError::NotJson {
        path: path.clone(),
        source,
    })?;
    Ok(if expected == actual {
        SnapshotOutcome::Matches
    } else {
        SnapshotOutcome::Differs(first_difference(&expected, &actual))
    })
}

#[cfg(test)]
mod tests {
    use super::{compare_or_write, snapshot_path, SnapshotOutcome};
    use understudy_adapters::ModelEvent;

    fn created(id: &str) -> ModelEvent {
        ModelEvent::ResponseCreated {
            response_id: id.into(),
        }
    }

    #[test]
    fn missing_then_written_then_matching_then_differing() {
        let dir = tempfile::tempdir().unwrap();
        let cassette = dir.path().join("s.jsonl");
        assert_eq!(snapshot_path(&cassette), dir.path().join("s.snap.json"));
        let events = [created("a")];
        assert_eq!(
            compare_or_write(&cassette, &events, false).unwrap(),
            SnapshotOutcome::Missing
        );
        let written = compare_or_write(&cassette, &events, true).unwrap();
        assert_eq!(written, SnapshotOutcome::Written(snapshot_path(&cassette)));
        // Ids are placeholders: another id in the same place still matches.
        assert_eq!(
            compare_or_write(&cassette, &[created("b")], false).unwrap(),
            SnapshotOutcome::Matches
        );
        let more = [created("a"), created("b")];
        let SnapshotOutcome::Differs(why) = compare_or_write(&cassette, &more, false).unwrap()
        else {
            panic!("an extra event must differ");
        };
        assert_eq!(why, "expected 1 events, got 2");
    }
}
