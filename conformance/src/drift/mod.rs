//! Drift: has the server changed since these cassettes were recorded?
//! (`conform --cassettes DIR --target URL --record-to OUT`)
//!
//! For each cassette: its client side is sent to the target as recorded
//! ([`crate::cassette_cases::resend`]), what comes back is written as a new
//! cassette under `OUT` (same relative name), and the two are compared:
//!
//! - events and fields by the `fixtures diff` rules
//!   ([`understudy_fixtures::diff()`]: ids, times and per-connection headers
//!   ignored; each direction compared in its own order), one line per
//!   changed value or missing/extra frame;
//! - timings by [`timing`]: each server frame's delay after the client frame
//!   it answers, against the recording's, beyond a tolerance.
//!
//! The new cassette is a capture of a live endpoint made the recorder's way
//! (frames as they crossed the wire, times since connect, audio moved to WAV
//! sidecars by the provider's rules, credentials scrubbed), so it is marked
//! `recorded`, with the target in its `upstream` and what it re-records in
//! its description. Header differences (provenance) are not drift; nor is
//! the opening handshake a synthesized original never recorded.
//!
//! Each cassette is one [`Job`] (`drift.<name>`): OK when nothing drifted,
//! INFORMATIONAL when something did (the drift is the finding; a baseline
//! turns it into a regression if a team wants one), FAILED when the
//! cassette could not be resent or the new one not written. Beside each new
//! cassette, `<name>.drift.json` holds the report in full.

pub mod timing;

use crate::cassette_cases::resend::{resend, ResendOptions};
use crate::grade::{blank, check, CaseResult, Grade};
use crate::schedule::Job;
use crate::target::key;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use timing::{timing_changes, TimingChange};
use understudy_adapters::registry::{self, Placement};
use understudy_fixtures::diff::Place;
use understudy_fixtures::{
    AudioRules, Cassette, DiffOptions, Difference, Frame, FrameBody, Header, Origin, Scrubber,
};

/// The default timing tolerance: what a loaded machine or a network hop
/// adds without the server having changed.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_millis(250);

/// How many differences a case's check prints (the drift file has them all).
const SHOWN: usize = 8;

/// Where drift runs and what it compares with.
#[derive(Debug, Clone)]
pub struct DriftTarget {
    /// Scheme and authority of the target (`ws://127.0.0.1:8765`); each
    /// cassette's recorded path is appended.
    pub origin: String,
    /// The environment variable holding the key (`--key-env`); without it,
    /// each cassette's provider's key variables (see [`crate::target::key`]);
    /// none set sends no key.
    pub key_env: Option<String>,
    /// Folder the new cassettes (and their drift reports) are written to.
    pub record_to: PathBuf,
    /// Timing differences up to this are not drift.
    pub tolerance: Duration,
    /// Name each cassette to the target (`?cassette=` or
    /// `X-Understudy-Cassette`), so that a replaying mock plays it.
    pub cassette_choice: bool,
}

/// A cassette to check for drift, with the name it is reported and written under.
#[derive(Debug, Clone)]
pub struct NamedCassette {
    /// Its path relative to the folder given, without `.jsonl`
    /// (`openai/ga-text-turn`); a file given directly is named by its stem.
    pub name: String,
    /// The cassette.
    pub cassette: Cassette,
}

/// What changed for one cassette.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// The cassette's name.
    pub cassette: String,
    /// Where the new recording was written.
    pub recorded_to: PathBuf,
    /// Events and fields that changed (the `fixtures diff` rules).
    pub events: Vec<Difference>,
    /// Server frames answering later or sooner than the tolerance allows.
    pub timings: Vec<TimingChange>,
    /// The tolerance used, in milliseconds.
    pub tolerance_ms: f64,
}

/// Why a cassette could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// Sending it to the target failed.
    #[error("resending to the target: {0}")]
    Resend(#[from] crate::cassette_cases::resend::ResendError),
    /// The key's variable is not set.
    #[error(transparent)]
    Key(#[from] key::KeyError),
    /// Writing the new cassette failed.
    #[error("writing the new recording: {0}")]
    Write(#[from] understudy_fixtures::CassetteError),
    /// Writing the drift report failed.
    #[error("writing {path}: {source}")]
    Report {
        /// The report's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Resends `named` to the target, writes the new recording and its drift
/// report, and returns the report.
pub async fn check_drift(
    named: &NamedCassette,
    target: &DriftTarget,
) -> Result<DriftReport, DriftError> {
    // An unknown dialect is left to `resend`, which names it.
    let found = match registry::dialect(&named.cassette.header.dialect) {
        Ok(dialect) => key::from_env(dialect, target.key_env.as_deref())?,
        Err(_) => None,
    };
    let options = ResendOptions {
        api_key: found.as_ref().map(|f| f.key.expose().to_owned()),
        cassette_choice: target.cassette_choice.then(|| named.name.clone()),
        ..ResendOptions::default()
    };
    let mut again = resend(&named.cassette, &target.origin, &options).await?;
    // Made now, by this toolkit: the stamp a fresh header carries.
    let fresh = Header::new("", "", "", Origin::Recorded);
    again.header.created_at = fresh.created_at;
    again.header.toolkit_version = fresh.toolkit_version;
    again.header.description = Some(format!(
        "drift recording of `{}` against {}",
        named.name, target.origin
    ));
    // Credentials never reach the disk: scrubbed the recorder's way.
    let scrubbed = scrubber(found.as_ref()).cassette(&mut again);
    again.header.scrubbed = scrubbed.into_iter().collect();
    let recorded_to = target.record_to.join(format!("{}.jsonl", named.name));
    let rules = AudioRules::for_provider(&again.header.provider);
    again.write(&recorded_to, &rules)?;
    let now = comparable(&named.cassette, &again);
    let report = DriftReport {
        cassette: named.name.clone(),
        events: understudy_fixtures::diff(&named.cassette, &now, &DiffOptions::default())
            .into_iter()
            .filter(|d| d.place != Place::Header)
            .collect(),
        timings: timing_changes(&named.cassette, &now, target.tolerance),
        tolerance_ms: target.tolerance.as_secs_f64() * 1000.0,
        recorded_to,
    };
    let path = target.record_to.join(format!("{}.drift.json", named.name));
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    std::fs::write(&path, json).map_err(|source| DriftError::Report { path, source })?;
    Ok(report)
}

/// The standard scrubber, plus the key's value under its variable's name.
fn scrubber(found: Option<&key::FoundKey>) -> Scrubber {
    let standard = Scrubber::standard();
    let Some(found) = found else {
        return standard;
    };
    Scrubber::standard()
        .secret(found.var.clone(), found.key.expose())
        .unwrap_or_else(|error| {
            // Too short to scrub by value; the credential headers and query
            // parameters are still scrubbed by name.
            tracing::warn!(var = %found.var, %error, "the key is not scrubbed by value");
            standard
        })
}

/// `now` as it compares with `recorded`: without the cassette choice it sent
/// (our own parameter, not the protocol's), and without the opening
/// handshake when the recording has none (a synthesized cassette records no
/// upgrade request), so that neither is reported as drift.
fn comparable(recorded: &Cassette, now: &Cassette) -> Cassette {
    let handshake = |f: &Frame| {
        matches!(
            f.body,
            FrameBody::HttpRequest(_) | FrameBody::HttpResponse(_)
        )
    };
    let mut compared = now.clone();
    let Ok(dialect) = registry::dialect(&now.header.dialect) else {
        return compared;
    };
    if !recorded.frames.iter().any(handshake) && dialect.kind.is_websocket() {
        compared.frames.retain(|f| !handshake(f));
    }
    for frame in &mut compared.frames {
        if let FrameBody::HttpRequest(request) = &mut frame.body {
            match dialect.connect.cassette {
                Placement::Header(name) => {
                    request.headers.remove(name);
                }
                Placement::Query(name) => request.path = without_query(&request.path, name),
            }
        }
    }
    compared
}

/// `path` without the query parameter `name`.
fn without_query(path: &str, name: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect();
    match kept.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", kept.join("&")),
    }
}

/// Up to [`SHOWN`] items, one a line, and how many more there are.
fn listed<T: std::fmt::Display>(items: &[T]) -> String {
    let mut lines: Vec<String> = items.iter().take(SHOWN).map(T::to_string).collect();
    if items.len() > SHOWN {
        lines.push(format!("… and {} more", items.len() - SHOWN));
    }
    lines.join("\n")
}

/// The graded case of one cassette's drift check.
pub async fn drift_case(named: &NamedCassette, target: &DriftTarget) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        dialect: named.cassette.header.dialect.clone(),
        ..blank(format!("drift.{}", named.name), DESCRIPTION)
    };
    match check_drift(named, target).await {
        Err(problem) => {
            result.grade = Grade::Failed;
            result.reason = Some(problem.to_string());
        }
        Ok(report) => {
            let events = match report.events.len() {
                0 => "no event or field changed".to_owned(),
                n => format!("{n} changed:\n{}", listed(&report.events)),
            };
            let timings = match report.timings.len() {
                0 => format!("every frame within {:.0} ms", report.tolerance_ms),
                n => format!(
                    "{n} beyond {:.0} ms:\n{}",
                    report.tolerance_ms,
                    listed(&report.timings)
                ),
            };
            result.checks = vec![
                check(
                    "recorded",
                    true,
                    format!("written to {}", report.recorded_to.display()),
                ),
                check("events and fields", report.events.is_empty(), events),
                check("timings", report.timings.is_empty(), timings),
            ];
            if let Some(drifted) = result.checks.iter().find(|c| !c.passed) {
                result.grade = Grade::Informational;
                result.reason = Some(format!("drift in {}: {}", drifted.name, drifted.detail));
            }
        }
    }
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}

/// What a drift case shows.
const DESCRIPTION: &str = "the target answers the cassette's client side as recorded";

/// One job per cassette.
pub fn jobs<'a>(cassettes: &'a [NamedCassette], target: &'a DriftTarget) -> Vec<Job<'a>> {
    cassettes
        .iter()
        .map(|named| {
            Job::new(
                format!("drift.{}", named.name),
                DESCRIPTION,
                drift_case(named, target),
            )
        })
        .collect()
}

/// Why cassettes could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A folder could not be read.
    #[error("reading {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A cassette could not be read.
    #[error("reading the cassette {path}: {source}")]
    Cassette {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<understudy_fixtures::CassetteError>,
    },
    /// Nothing to check.
    #[error("no cassette (*.jsonl) under {0}")]
    Empty(String),
}

/// Every cassette in `paths` (files, or folders searched recursively for
/// `*.jsonl`), named by their path under the folder given.
pub fn load(paths: &[PathBuf]) -> Result<Vec<NamedCassette>, LoadError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            for file in files {
                let name = file
                    .strip_prefix(path)
                    .unwrap_or(&file)
                    .with_extension("")
                    .to_string_lossy()
                    .replace('\\', "/");
                found.push((name, file));
            }
        } else {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push((name, path.clone()));
        }
    }
    if found.is_empty() {
        let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(LoadError::Empty(given.join(", ")));
    }
    found
        .into_iter()
        .map(|(name, path)| {
            Cassette::read(&path)
                .map(|cassette| NamedCassette { name, cassette })
                .map_err(|source| LoadError::Cassette {
                    path,
                    source: Box::new(source),
                })
        })
        .collect()
}

/// The `*.jsonl` files under `dir`, recursively.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Folder {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{load, LoadError};
    use std::path::PathBuf;

    #[test]
    fn a_folder_gives_its_cassettes_named_by_their_path_under_it() {
        let bundled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cassettes");
        let found = load(std::slice::from_ref(&bundled)).expect("the bundled cassettes load");
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"openai/ga-text-turn"), "{names:?}");
        assert!(names.contains(&"gemini/text-turn"), "{names:?}");
        let one = load(&[bundled.join("openai/ga-text-turn.jsonl")]).expect("one file");
        assert_eq!(one[0].name, "ga-text-turn");
    }

    #[test]
    fn the_cassette_choice_is_taken_out_of_a_path_and_nothing_else() {
        use super::without_query;
        assert_eq!(
            without_query(
                "/v1/realtime?model=gpt-realtime&cassette=openai%2Fx",
                "cassette"
            ),
            "/v1/realtime?model=gpt-realtime"
        );
        assert_eq!(
            without_query("/v1/realtime?cassette=x", "cassette"),
            "/v1/realtime"
        );
        assert_eq!(
            without_query("/v1/realtime?cassettes=x", "cassette"),
            "/v1/realtime?cassettes=x"
        );
        assert_eq!(without_query("/v1/realtime", "cassette"), "/v1/realtime");
    }

    #[test]
    fn nothing_to_load_and_a_missing_file_are_errors_naming_the_path() {
        let empty =
            std::env::temp_dir().join(format!("understudy-drift-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).expect("a folder");
        let error = load(std::slice::from_ref(&empty)).unwrap_err();
        assert!(matches!(error, LoadError::Empty(_)), "{error}");
        let _ = std::fs::remove_dir(&empty);
        let missing = PathBuf::from("/no/such/cassette.jsonl");
        let error = load(&[missing]).unwrap_err();
        assert!(
            error.to_string().contains("/no/such/cassette.jsonl"),
            "{error}"
        );
    }
}
