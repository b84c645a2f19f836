//! Synthesizes bundled cassettes: runs a scenario against the respond engine
//! and writes what went over the wire as a cassette marked `synthesized`.

use crate::runner::{run_scenario, Endpoints, Pacing, RunError};
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};
use understudy_adapters::{TapDirection, TappedFrame, WireFrame};
use understudy_fixtures::{AudioRules, Cassette, Direction, Frame, Header, Origin};
use understudy_mock::MockServer;

/// Why synthesis failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The mock would not start.
    #[error(transparent)]
    Mock(#[from] understudy_mock::MockError),
    /// The scenario did not complete against the responder.
    #[error("scenario {cassette}: {source}")]
    Run {
        /// Which cassette.
        cassette: String,
        /// Why.
        source: RunError,
    },
    /// The run used a different number of connections than the scenario names cassettes for.
    #[error("scenario {cassette}: names {expected} connection cassette(s) but the run made {made} connection(s)")]
    Connections {
        /// Which scenario.
        cassette: String,
        /// Cassettes named.
        expected: usize,
        /// Connections made.
        made: usize,
    },
    /// Writing the cassette failed.
    #[error(transparent)]
    Write(#[from] understudy_fixtures::CassetteError),
}

/// Runs `scenario` against a fresh respond-engine mock and writes the cassette
/// under `out_dir` (as `<out_dir>/<scenario.cassette>.jsonl` plus WAV
/// sidecars), and one more per later connection (`continued_in`). Returns the
/// paths written.
pub async fn synthesize(scenario: &Scenario, out_dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    let mut builder = MockServer::builder();
    if let Some(fault) = scenario.setup_fault {
        builder = builder.setup_fault(fault);
    }
    if let Some(limit) = scenario.connection_limit {
        builder = builder.connection_limit(limit);
    }
    let server = builder.start().await?;
    let record = run_scenario(scenario, &Endpoints::of(&server), None, Pacing::RealTime)
        .await
        .map_err(|source| SynthError::Run {
            cassette: scenario.cassette.clone(),
            source,
        })?;
    let names: Vec<&String> = std::iter::once(&scenario.cassette)
        .chain(&scenario.continued_in)
        .collect();
    if record.connections.len() != names.len() {
        return Err(SynthError::Connections {
            cassette: scenario.cassette.clone(),
            expected: names.len(),
            made: record.connections.len(),
        });
    }
    let mut written = Vec::new();
    for (index, (name, frames)) in names.iter().zip(&record.connections).enumerate() {
        // Offsets count from each connection's start: the run's start for the
        // first, the first frame (the set-up, sent on connecting) for the rest.
        let connected = match index {
            0 => record.started,
            _ => frames.first().map_or(record.started, |f| f.at),
        };
        let description = match index {
            0 => scenario.description.to_owned(),
            n => format!("{} (connection {})", scenario.description, n + 1),
        };
        written.push(write_cassette(
            scenario,
            name,
            &description,
            connected,
            frames,
            out_dir,
        )?);
    }
    Ok(written)
}

/// Writes one connection's frames as a synthesized cassette named `name`.
fn write_cassette(
    scenario: &Scenario,
    name: &str,
    description: &str,
    connected: std::time::Instant,
    frames: &[TappedFrame],
    out_dir: &Path,
) -> Result<PathBuf, SynthError> {
    let provider = scenario.provider;
    let header = Header::new(
        provider.name(),
        provider.dialect(),
        scenario.model,
        Origin::Synthesized,
    )
    .with_description(format!(
        "{description} — synthesized by `understudy fixtures synthesize` from the respond engine"
    ));
    let mut cassette = Cassette::new(header);
    for tapped in frames {
        let t_us = tapped.at.saturating_duration_since(connected).as_micros() as u64;
        let dir = match tapped.direction {
            TapDirection::Sent => Direction::ClientToServer,
            TapDirection::Received => Direction::ServerToClient,
        };
        let frame = match &tapped.frame {
            WireFrame::Text(text) => match serde_json::from_str(text) {
                Ok(json) => Frame::text_json(t_us, dir, json),
                Err(_) => Frame::text(t_us, dir, text.clone()),
            },
            // Gemini sends JSON in binary frames: keep it readable, and binary.
            WireFrame::Binary(bytes) => match serde_json::from_slice(bytes) {
                Ok(json) => Frame::binary_json(t_us, dir, json),
                Err(_) => Frame::binary(t_us, dir, bytes.clone()),
            },
            WireFrame::Close { code, reason } => {
                Frame::close(t_us, dir, code.unwrap_or(1005), reason.clone())
            }
        };
        cassette.frames.push(frame);
    }
    let path = out_dir.join(format!("{name}.jsonl"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| {
            understudy_fixtures::CassetteError::Io {
                path: parent.to_path_buf(),
                action: "creating the cassette folder",
                source,
            }
        })?;
    }
    cassette.write(&path, &AudioRules::for_provider(provider.name()))?;
    Ok(path)
}
