//! Synthesizes bundled cassettes: runs a scenario against the respond engine
//! and writes what went over the wire as a cassette marked `synthesized`.

use crate::drive::{run_scenario, Endpoints, Pacing, RunError};
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
    /// The TTS session did not complete against the responder.
    #[error("{cassette}: {problem}")]
    Tts {
        /// Which cassette.
        cassette: String,
        /// Why.
        problem: String,
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
    if scenario.legacy_beta {
        // The beta cassettes record the retired dialect on purpose.
        builder = builder.legacy_beta();
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
        let made_of = MadeOf {
            provider: scenario.dialect.provider,
            dialect: scenario.dialect.id,
            model: scenario.model,
            description: &description,
        };
        written.push(write_cassette(&made_of, name, connected, frames, out_dir)?);
    }
    Ok(written)
}

/// What a synthesized cassette's header says it is.
struct MadeOf<'a> {
    provider: &'a str,
    dialect: &'a str,
    model: &'a str,
    description: &'a str,
}

/// Writes one connection's frames as a synthesized cassette named `name`.
fn write_cassette(
    made_of: &MadeOf<'_>,
    name: &str,
    connected: std::time::Instant,
    frames: &[TappedFrame],
    out_dir: &Path,
) -> Result<PathBuf, SynthError> {
    let header = Header::new(
        made_of.provider,
        made_of.dialect,
        made_of.model,
        Origin::Synthesized,
    )
    .with_description(format!(
        "{} — synthesized by `understudy fixtures synthesize` from the respond engine",
        made_of.description
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
    cassette.write(&path, &AudioRules::for_provider(made_of.provider))?;
    Ok(path)
}

/// The bundled Qwen-TTS realtime cassette: the text the official-SDK harness
/// streams (`tests/sdk/dashscope_tts_realtime.py`), spoken in `server_commit`
/// mode by the respond engine, so that harness replays it unchanged.
pub const TTS_CASSETTE: &str = "dashscope/tts-server-commit";

/// The pieces of text the harness appends, in order.
pub const TTS_PIECES: [&str; 4] = [
    "Hello from the ",
    "Understudy TTS test. ",
    "It streams text ",
    "as it is written.",
];

/// Synthesizes [`TTS_CASSETTE`] under `out_dir`: one Qwen-TTS realtime
/// session driven by the understudy engine, every frame recorded.
pub async fn synthesize_tts(out_dir: &Path) -> Result<PathBuf, SynthError> {
    use understudy_adapters::dashscope::tts::{Mode, QwenTtsRealtime, DEFAULT_MODEL};
    use understudy_adapters::tts::TtsEngine;
    let server = MockServer::builder().start().await?;
    let tap: understudy_adapters::FrameTap = Default::default();
    let engine = QwenTtsRealtime::new(server.dashscope_url())
        .api_key("understudy-synthesis-key")
        .mode(Mode::ServerCommit)
        .tap(std::sync::Arc::clone(&tap));
    let run = |e: understudy_adapters::tts::TtsError| SynthError::Tts {
        cassette: TTS_CASSETTE.into(),
        problem: e.to_string(),
    };
    let connected = std::time::Instant::now();
    let mut utterance = engine.start().await.map_err(run)?;
    for piece in TTS_PIECES {
        utterance.input.push(piece).map_err(run)?;
    }
    utterance.input.finish().map_err(run)?;
    while let Some(chunk) = utterance.output.next_chunk().await {
        chunk.map_err(run)?;
    }
    // The session task records the server's close after the last chunk.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let frames = tap
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let made_of = MadeOf {
        provider: "dashscope",
        dialect: understudy_adapters::dashscope::tts::DIALECT,
        model: DEFAULT_MODEL,
        description:
            "Qwen-TTS realtime, server_commit: four text pieces, two responses, session.finish",
    };
    write_cassette(&made_of, TTS_CASSETTE, connected, &frames, out_dir)
}
