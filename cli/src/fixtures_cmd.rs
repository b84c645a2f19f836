//! `understudy fixtures …`: validate, show, synthesize, redact, trim, diff and
//! measure cassettes.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use understudy_adapters::{ModelEvent, WireFrame};
use understudy_fixtures::http_audio::{response_pieces, HttpAudio, DEFAULT_HTTP_AUDIO_RATE};
use understudy_fixtures::{
    bundled, cassette_stats_with, AudioRules, Cassette, CassetteStats, DiffOptions, Direction,
    FrameBody, Origin, RedactOptions, TurnRange,
};
use understudy_mock::sansio::{GeminiProtocol, Protocol as _};

#[derive(Debug, Subcommand)]
pub enum FixturesCommand {
    /// List the bundled cassettes: name, dialect, model, origin, length and
    /// frames each way (the names `serve --engine replay` answers to with
    /// `?cassette=`, and `conform`, `fixtures show` and `validate` take).
    List {
        /// Only the cassettes whose name or dialect contains this text.
        filter: Option<String>,
    },
    /// Check cassettes (files, folders, or bundled names like `openai/ga-text-turn`).
    Validate {
        /// Cassettes to check; none checks every bundled cassette.
        targets: Vec<String>,
    },
    /// Print a cassette: its header and one line per frame.
    Show {
        /// A cassette file or a bundled name.
        target: String,
        /// Print instead, as JSON lines, the normalised events the server frames decode to.
        #[arg(long)]
        events: bool,
    },
    /// Scrub secrets from an existing cassette (credential headers, `?key=`-style
    /// query parameters and `api_key` fields always; more on request).
    ///
    /// Writes in place unless --out is given; audio sidecars are rewritten
    /// beside the output. Prints what was scrubbed.
    Redact {
        /// The cassette file.
        cassette: PathBuf,
        /// Write here instead of overwriting the cassette.
        #[arg(long)]
        out: Option<PathBuf>,
        /// An environment variable holding a secret (an API key, say): every
        /// occurrence of its value is replaced by `<scrubbed:VAR>`. Repeatable.
        #[arg(long = "secret-env", value_name = "VAR")]
        secret_env: Vec<String>,
        /// Also scrub this HTTP header's value (case-insensitive). Repeatable.
        #[arg(long, value_name = "NAME")]
        header: Vec<String>,
        /// Also scrub this query parameter's value. Repeatable.
        #[arg(long, value_name = "NAME")]
        query: Vec<String>,
    },
    /// Keep only some turns of a cassette (plus its set-up and closing frames),
    /// closing up the time the removed turns took.
    Trim {
        /// The cassette (file or bundled name).
        cassette: String,
        /// Turns to keep, 1-based and inclusive: `2`, `2..3`, `..2`, `3..`.
        #[arg(long, value_name = "RANGE")]
        turns: TurnRange,
        /// Where to write the trimmed cassette (sidecars go beside it).
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare two cassettes, ignoring ids, timestamps, frame times and
    /// per-connection HTTP headers.
    ///
    /// Exits 0 when equivalent, 1 with one line per difference otherwise.
    Diff {
        /// The left cassette (file or bundled name).
        left: String,
        /// The right cassette (file or bundled name).
        right: String,
        /// Also ignore this JSON key (anywhere in payloads) or HTTP header.
        /// Repeatable.
        #[arg(long, value_name = "KEY")]
        ignore: Vec<String>,
    },
    /// Print numbers about cassettes: duration, frames, turns, seconds of audio
    /// each way, and time to first audio per turn.
    Stats {
        /// Cassettes (files or bundled names).
        #[arg(required = true)]
        cassettes: Vec<String>,
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
        /// Sample rate of PCM16 audio in HTTP answers (raw `audio/pcm` bodies,
        /// chat and TTS audio fields); a WAV body's own header wins. The chat
        /// rate is not stated by the providers' API types.
        #[arg(long, value_name = "HZ", default_value_t = DEFAULT_HTTP_AUDIO_RATE,
              value_parser = clap::value_parser!(u32).range(1..))]
        http_audio_rate: u32,
    },
    /// Regenerate the bundled cassettes from their scenarios with the respond engine.
    Synthesize {
        /// Where to write (the repository's `fixtures/cassettes` to update the bundle).
        #[arg(long)]
        out: PathBuf,
        /// Only scenarios whose cassette name contains this.
        #[arg(long)]
        only: Option<String>,
    },
}

pub async fn run(command: FixturesCommand) -> Result<bool> {
    match command {
        FixturesCommand::List { filter } => list(filter.as_deref()),
        FixturesCommand::Validate { targets } => validate(&targets),
        FixturesCommand::Show { target, events } => show(&target, events).map(|()| true),
        FixturesCommand::Redact {
            cassette,
            out,
            secret_env,
            header,
            query,
        } => {
            let options = RedactOptions {
                secret_envs: secret_env,
                headers: header,
                query,
            };
            redact(&cassette, out.as_deref(), &options).map(|()| true)
        }
        FixturesCommand::Trim {
            cassette,
            turns,
            out,
        } => trim(&cassette, turns, &out).map(|()| true),
        FixturesCommand::Diff {
            left,
            right,
            ignore,
        } => diff(&left, &right, ignore),
        FixturesCommand::Stats {
            cassettes,
            json,
            http_audio_rate,
        } => stats(
            &cassettes,
            json,
            &HttpAudio {
                rate: http_audio_rate,
            },
        )
        .map(|()| true),
        FixturesCommand::Synthesize { out, only } => {
            synthesize(&out, only.as_deref()).await.map(|()| true)
        }
    }
}

fn validate(targets: &[String]) -> Result<bool> {
    let mut ok = true;
    let mut checked = 0;
    let mut empty_folder = false;
    let mut report = |name: &str, report: understudy_fixtures::ValidationReport| {
        checked += 1;
        if report.is_valid() {
            println!("ok      {name}");
        } else {
            ok = false;
            println!("INVALID {name}");
        }
        for issue in &report.issues {
            println!("        {issue}");
        }
    };
    if targets.is_empty() {
        for name in bundled::cassette_names() {
            if let Some(r) = bundled::validate(name) {
                report(&format!("bundled:{name}"), r);
            }
        }
    }
    for target in targets {
        let path = Path::new(target);
        if path.is_dir() {
            let files = jsonl_files(path)?;
            if files.is_empty() {
                // A CI gate must not pass on an empty or mistyped folder.
                empty_folder = true;
                println!("EMPTY   {target}: no .jsonl cassettes in this folder, nothing to check");
            }
            for file in files {
                report(
                    &file.display().to_string(),
                    understudy_fixtures::validate_file(&file),
                );
            }
        } else if path.exists() {
            report(target, understudy_fixtures::validate_file(path));
        } else if let Some(r) = bundled::validate(target) {
            report(&format!("bundled:{target}"), r);
        } else {
            let meant = understudy_fixtures::suggest::closest(target, bundled::cassette_names())
                .map(|name| format!(" (did you mean `{name}`?)"))
                .unwrap_or_default();
            bail!("{target}: no such file, folder or bundled cassette{meant}");
        }
    }
    if checked == 0 {
        println!("0 cassettes checked: nothing to check");
        return Ok(false);
    }
    println!(
        "{checked} cassettes checked, {}",
        if ok { "all valid" } else { "some INVALID" }
    );
    Ok(ok && !empty_folder)
}

fn jsonl_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Prints one line per bundled cassette (those matching `filter`).
fn list(filter: Option<&str>) -> Result<bool> {
    let mut shown = 0;
    println!(
        "{:<44} {:<16} {:<34} {:<11} {:>8} {:>5} {:>5}",
        "NAME", "DIALECT", "MODEL", "ORIGIN", "SECONDS", "C2S", "S2C"
    );
    for name in bundled::cassette_names() {
        let cassette = bundled::cassette(name)?;
        let header = &cassette.header;
        if filter.is_some_and(|f| !name.contains(f) && !header.dialect.contains(f)) {
            continue;
        }
        let stats = understudy_fixtures::cassette_stats(&cassette);
        let origin = match header.origin {
            Origin::Recorded => "recorded",
            Origin::Synthesized => "synthesized",
        };
        println!(
            "{:<44} {:<16} {:<34} {:<11} {:>8.1} {:>5} {:>5}",
            name,
            header.dialect,
            header.model,
            origin,
            stats.duration_ms / 1000.0,
            stats.frames_c2s,
            stats.frames_s2c
        );
        shown += 1;
    }
    println!("{shown} bundled cassettes");
    Ok(true)
}

/// Loads a cassette from a path or, failing that, from the bundle.
fn load(target: &str) -> Result<Cassette> {
    let path = Path::new(target);
    if path.exists() {
        return Cassette::read(path).with_context(|| format!("reading {target}"));
    }
    bundled::cassette(target.trim_start_matches("bundled:"))
        .with_context(|| format!("{target}: no such file or bundled cassette"))
}

/// Cassettes for the replay engine: every `.jsonl` under `dir`, or the bundled ones.
pub fn load_cassettes(dir: Option<&Path>) -> Result<Vec<(String, Cassette)>> {
    match dir {
        None => bundled::cassette_names()
            .into_iter()
            .map(|name| Ok((name.to_owned(), bundled::cassette(name)?)))
            .collect(),
        Some(dir) => jsonl_files(dir)?
            .into_iter()
            .map(|file| {
                let name = file
                    .strip_prefix(dir)
                    .unwrap_or(&file)
                    .with_extension("")
                    .to_string_lossy()
                    .replace('\\', "/");
                let cassette =
                    Cassette::read(&file).with_context(|| format!("reading {}", file.display()))?;
                Ok((name, cassette))
            })
            .collect(),
    }
}

fn show(target: &str, events: bool) -> Result<()> {
    let cassette = load(target)?;
    if events {
        let mut codec = understudy_adapters::codec_for_dialect(
            &cassette.header.dialect,
            &cassette.header.model,
        )
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--events decodes realtime sessions into ModelEvents; `{}` is not a realtime \
                 dialect (show it without --events)",
                cassette.header.dialect
            )
        })?;
        for frame in cassette
            .frames
            .iter()
            .filter(|f| f.dir == Direction::ServerToClient)
        {
            let wire = match &frame.body {
                FrameBody::Close(close) => WireFrame::Close {
                    code: close.as_ref().map(|c| c.code),
                    reason: close.as_ref().map(|c| c.reason.clone()).unwrap_or_default(),
                },
                _ => match frame.json() {
                    Some(json) => WireFrame::Text(json.to_string()),
                    None => continue,
                },
            };
            let decoded: Vec<ModelEvent> = codec
                .decode(&wire)
                .with_context(|| format!("frame at {} µs", frame.t_us))?;
            for event in decoded {
                println!("{}", serde_json::to_string(&event)?);
            }
        }
        return Ok(());
    }
    let h = &cassette.header;
    println!(
        "provider {}  dialect {}  model {}  origin {:?}",
        h.provider, h.dialect, h.model, h.origin
    );
    if let Some(d) = &h.description {
        println!("{d}");
    }
    println!("{} frames", cassette.frames.len());
    for frame in &cassette.frames {
        let dir = match frame.dir {
            Direction::ClientToServer => "c→s",
            Direction::ServerToClient => "s→c",
        };
        let what = match &frame.body {
            FrameBody::HttpRequest(request) => {
                format!("http_request {} {}", request.method, request.path)
            }
            FrameBody::HttpResponse(response) => {
                println!(
                    "{:>10.1} ms  {dir}  http_response {} {}",
                    frame.t_us as f64 / 1000.0,
                    response.status,
                    response.headers.get("content-type").unwrap_or_default()
                );
                // The body, chunk by chunk (server-sent events reassembled).
                for piece in response_pieces(frame.t_us, response, &HttpAudio::default()) {
                    let audio = if piece.audio_seconds > 0.0 {
                        format!("  audio {:.1} ms", piece.audio_seconds * 1000.0)
                    } else {
                        String::new()
                    };
                    println!(
                        "{:>10.1} ms  {dir}    chunk {}{audio}",
                        piece.t_us as f64 / 1000.0,
                        piece.what
                    );
                }
                continue;
            }
            FrameBody::Close(Some(c)) => format!("close {} {}", c.code, c.reason),
            FrameBody::Close(None) => "close".into(),
            // Messages without a `type` (Gemini) are named by their top-level key.
            body => frame
                .event_type()
                .map(str::to_owned)
                .or_else(|| {
                    frame
                        .json()
                        .map(|json| GeminiProtocol.kind_of(json))
                        .filter(|k| !k.is_empty())
                })
                .unwrap_or_else(|| body.kind().to_owned()),
        };
        println!("{:>10.1} ms  {dir}  {what}", frame.t_us as f64 / 1000.0);
    }
    Ok(())
}

async fn synthesize(out: &Path, only: Option<&str>) -> Result<()> {
    for scenario in understudy_conformance::scenario::all_scenarios() {
        if only.is_some_and(|o| !scenario.cassette.contains(o)) {
            continue;
        }
        for path in understudy_conformance::synth::synthesize(&scenario, out).await? {
            println!("wrote {}", path.display());
        }
    }
    let tts = understudy_conformance::synth::TTS_CASSETTE;
    if only.is_none_or(|o| tts.contains(o)) {
        let path = understudy_conformance::synth::synthesize_tts(out).await?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn redact(path: &Path, out: Option<&Path>, options: &RedactOptions) -> Result<()> {
    let scrubber = options.scrubber(|var| std::env::var(var).ok())?;
    let mut cassette =
        Cassette::read(path).with_context(|| format!("reading {}", path.display()))?;
    let found = understudy_fixtures::redact(&mut cassette, &scrubber);
    let target = out.unwrap_or(path);
    cassette
        .write(target, &AudioRules::for_provider(&cassette.header.provider))
        .with_context(|| format!("writing {}", target.display()))?;
    if found.is_empty() {
        println!("nothing to scrub");
    } else {
        let names: Vec<&str> = found.iter().map(String::as_str).collect();
        println!("scrubbed: {}", names.join(", "));
    }
    println!("wrote {}", target.display());
    Ok(())
}

fn trim(target: &str, turns: TurnRange, out: &Path) -> Result<()> {
    let cassette = load(target)?;
    let trimmed = understudy_fixtures::trim(&cassette, turns)
        .with_context(|| format!("trimming {target}"))?;
    trimmed
        .write(out, &AudioRules::for_provider(&trimmed.header.provider))
        .with_context(|| format!("writing {}", out.display()))?;
    let report = understudy_fixtures::validate_file(out);
    if !report.is_valid() {
        bail!(
            "the trimmed cassette {} does not validate:\n{report}",
            out.display()
        );
    }
    println!(
        "kept turns {turns} ({} of {} frames) in {}",
        trimmed.frames.len(),
        cassette.frames.len(),
        out.display()
    );
    Ok(())
}

fn diff(left: &str, right: &str, ignore: Vec<String>) -> Result<bool> {
    let (a, b) = (load(left)?, load(right)?);
    let differences = understudy_fixtures::diff(&a, &b, &DiffOptions { ignore });
    if differences.is_empty() {
        println!("no differences (ignoring ids and timing)");
        return Ok(true);
    }
    for d in &differences {
        println!("{d}");
    }
    println!(
        "{} difference{}",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" }
    );
    Ok(false)
}

fn stats(targets: &[String], json: bool, http: &HttpAudio) -> Result<()> {
    let mut all: Vec<(String, CassetteStats)> = Vec::new();
    for target in targets {
        all.push((target.clone(), cassette_stats_with(&load(target)?, http)));
    }
    if json {
        let values: Vec<serde_json::Value> = all
            .iter()
            .map(|(name, s)| {
                let mut v = serde_json::to_value(s)?;
                if let Some(map) = v.as_object_mut() {
                    map.insert("cassette".into(), name.clone().into());
                }
                Ok(v)
            })
            .collect::<Result<_>>()?;
        println!("{}", serde_json::to_string_pretty(&values)?);
        return Ok(());
    }
    for (name, s) in &all {
        println!("{name}");
        println!(
            "  {} / {} / {}  {}{}",
            s.provider,
            s.dialect,
            s.model,
            match s.origin {
                understudy_fixtures::Origin::Recorded => "recorded",
                understudy_fixtures::Origin::Synthesized => "synthesized",
            },
            if s.incomplete { "  INCOMPLETE" } else { "" }
        );
        println!(
            "  duration {:.1} ms  frames c2s {}  s2c {}  turns {}",
            s.duration_ms,
            s.frames_c2s,
            s.frames_s2c,
            s.turns.len()
        );
        println!(
            "  audio c2s {:.3} s  s2c {:.3} s",
            s.audio_seconds_c2s, s.audio_seconds_s2c
        );
        for t in &s.turns {
            let first = t
                .first_audio_ms
                .map_or_else(|| "-".to_string(), |ms| format!("{ms:.1} ms"));
            // Where the session's clock is its input audio (GPT-Live), the
            // same on that clock.
            let timeline = t
                .first_audio_timeline_ms
                .map_or_else(String::new, |ms| format!("  ({ms:.1} ms of timeline)"));
            println!(
                "  turn {}  {} frames{}  first audio {first}{timeline}",
                t.number,
                t.frames,
                if t.complete { "" } else { " (unfinished)" }
            );
        }
    }
    Ok(())
}
