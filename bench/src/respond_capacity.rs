//! `respond-capacity`: how many real-time voice sessions can the respond
//! engine serve on time? Each session streams a bundled speech clip
//! (`user-weather-24k.wav`) in 20 ms chunks of PCM at real time, then 20 ms
//! chunks of silence, so the server's VAD ends the turn (500 ms of silence)
//! and the engine answers; it keeps streaming silence until `response.done`,
//! as a live microphone does. N such sessions run at once (their chunk
//! phases spread over one chunk period), N ramping over `--sessions` until
//! the lateness p99 passes `--limit-ms` (20 ms).
//!
//! Lateness is of the server's audio deltas against the engine's own
//! schedule, seen by the client: time 0 is the arrival of `response.created`
//! (the instant the engine lays the response out from), delta `i` is due at
//! `item_delay_ms + first_audio_ms + i × chunk_ms × pace` after it (the
//! respond engine's schedule, `openai/respond/schedule.rs`: the output item
//! is announced 20 ms after `response.created`, the first delta
//! `first_audio_ms` after the item). A delta's lateness is how much later
//! than due it arrived, measured from the turn's most punctual frame: when
//! a delta arrives earlier than `response.created` predicts, the origin moves
//! back to it (`response.created` was the late one), so lateness is never
//! negative and a late `response.created` cannot hide late deltas. The
//! client's own send lateness (each chunk against its 20 ms slot) is reported
//! beside it: when it grows, the clients, not the server, are behind.
//!
//! In-process the mock answers at `--pace 1.0` (one millisecond of audio per
//! wall-clock millisecond: real time; the mock's default is 0.5), with the
//! default 180 ms to first audio and 100 ms chunks. An external server must
//! be started with the same settings for the due times to hold.

use crate::client::{self, event_type, Session, AUDIO_DELTA, RESPONSE_DONE};
use crate::error::{BenchError, Result};
use crate::load::open_then_wait;
use crate::procstat;
use crate::report::{or_na, progress, Report, Table};
use crate::stats::{summarise, Summary};
use crate::target::{ExternalArgs, InProcess, Target};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use understudy_adapters::audio::Pcm;
use understudy_adapters::ClientInput;
use understudy_mock::{JournalCaps, JournalMode, MockServer, ResponderConfig};

/// Name prefix of the clients' runtime threads (see `main`).
const CLIENT_THREADS: &str = "bench-client";

/// Options of `respond-capacity`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Concurrent sessions per step of the ramp, comma-separated, ascending.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100,200,400,800,1600,2000"
    )]
    pub sessions: Vec<usize>,
    /// The lateness p99 (ms) a step must stay within; the ramp stops after
    /// the first step above it.
    #[arg(long, default_value_t = 20.0)]
    pub limit_ms: f64,
    /// Run every step even after one passes the limit.
    #[arg(long)]
    pub keep_going: bool,
    /// The bundled 24 kHz speech clip each session says.
    #[arg(long, default_value = "user-weather-24k.wav")]
    pub clip: String,
    /// Milliseconds of audio per client chunk (sent one per period, real time).
    #[arg(long, default_value_t = 20)]
    pub send_chunk_ms: u64,
    /// A session that has no `response.done` after streaming this many
    /// milliseconds of audio stops and counts as failed.
    #[arg(long, default_value_t = 30_000)]
    pub max_stream_ms: u64,
    /// Sessions connecting at a time before a step.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// The responder's wall-clock ms per ms of audio (in-process; and the due
    /// times' step for an external server started the same way).
    #[arg(long, default_value_t = 1.0)]
    pub pace: f64,
    /// The responder's audio per delta, ms (in-process; as `--pace`).
    #[arg(long, default_value_t = 100)]
    pub chunk_ms: u64,
    /// The responder's delay from `response.created` to the first delta, ms
    /// (in-process; as `--pace`).
    #[arg(long, default_value_t = 180)]
    pub first_audio_ms: u64,
    /// The engine's delay from `response.created` to the output item, ms
    /// (fixed at 20 in the respond engine; only for the due times).
    #[arg(long, default_value_t = 20)]
    pub item_delay_ms: u64,
    /// In-process: the mock's session cap (above the largest step).
    #[arg(long, default_value_t = 10_000)]
    pub max_sessions: usize,
    /// In-process: what the journal keeps.
    #[arg(long, default_value = "summary")]
    pub journal: JournalMode,
    /// The server (external: `understudy serve` with the respond engine).
    #[command(flatten)]
    pub external: ExternalArgs,
}

/// Starts the target for `args`: the respond engine at `--pace`.
pub fn target(args: &Args) -> Result<Target> {
    Target::start(&args.external, || {
        let mut config = ResponderConfig::with_voice(understudy_mock::bundled_voice()?);
        config.pace = args.pace;
        config.chunk_ms = args.chunk_ms;
        config.first_audio_ms = args.first_audio_ms;
        Ok(InProcess {
            builder: MockServer::builder()
                .respond(config)
                .max_sessions(args.max_sessions),
            journal: args.journal,
            caps: JournalCaps::default(),
        })
    })
}

/// The frames every session sends, encoded once: the clip's chunks, then
/// one chunk of silence repeated.
struct Script {
    speech: Vec<Utf8Bytes>,
    silence: Utf8Bytes,
}

impl Script {
    fn new(args: &Args) -> Result<Script> {
        let bytes = understudy_fixtures::bundled::audio(&args.clip)
            .ok_or_else(|| BenchError::Usage(format!("no bundled audio `{}`", args.clip)))?;
        let (pcm, rate) = understudy_fixtures::wav::read_pcm16(bytes)
            .map_err(|e| BenchError::Usage(format!("{}: {e}", args.clip)))?;
        let chunk_bytes = (rate as u64 * args.send_chunk_ms / 1000) as usize * 2;
        if chunk_bytes == 0 {
            return Err(BenchError::Usage("--send-chunk-ms is too short".into()));
        }
        let mut codec = client::codec()?;
        let mut encode = |bytes: Vec<u8>| -> Result<Utf8Bytes> {
            let input = ClientInput::Audio {
                pcm: Pcm(bytes),
                sample_rate: rate,
            };
            let frames = client::encode_text(codec.as_mut(), &input)?;
            match <[String; 1]>::try_from(frames) {
                Ok([frame]) => Ok(Utf8Bytes::from(frame)),
                Err(frames) => Err(BenchError::Protocol(format!(
                    "an audio chunk encoded to {} text frames, not 1",
                    frames.len()
                ))),
            }
        };
        let speech = pcm
            .chunks(chunk_bytes)
            .map(|chunk| {
                let mut chunk = chunk.to_vec();
                chunk.resize(chunk_bytes, 0);
                encode(chunk)
            })
            .collect::<Result<Vec<_>>>()?;
        let silence = encode(vec![0; chunk_bytes])?;
        Ok(Script { speech, silence })
    }
}

/// The respond engine's schedule, for due times.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    first_audio: Duration,
    step: Duration,
}

impl Schedule {
    fn new(args: &Args) -> Self {
        Schedule {
            first_audio: Duration::from_millis(args.item_delay_ms + args.first_audio_ms),
            step: Duration::from_secs_f64(args.chunk_ms as f64 * args.pace.max(0.0) / 1000.0),
        }
    }

    /// Each delta's lateness from `(response.created arrival, delta arrival)`
    /// pairs, delta `i` due at [`due`](Self::due)`(t0, i)`. The origin is the
    /// turn's most punctual frame: `response.created` itself, or a delta that
    /// came earlier than `response.created` predicts (then `response.created`
    /// was the late one); a late origin cannot hide lateness that way.
    fn lateness(&self, arrivals: &[(Instant, Instant)]) -> Vec<Duration> {
        // Signed offsets from the due times, in nanoseconds.
        let offsets: Vec<i128> = arrivals
            .iter()
            .enumerate()
            .map(|(i, &(t0, at))| {
                let due = self.due(t0, i as u32);
                if at >= due {
                    (at - due).as_nanos() as i128
                } else {
                    -((due - at).as_nanos() as i128)
                }
            })
            .collect();
        let origin = offsets.iter().copied().min().unwrap_or(0).min(0);
        offsets
            .iter()
            .map(|o| Duration::from_nanos(u64::try_from(o - origin).unwrap_or(u64::MAX)))
            .collect()
    }

    /// When delta `i` is due, from `response.created` at `t0`.
    fn due(&self, t0: Instant, i: u32) -> Instant {
        t0 + self.first_audio + self.step * i
    }
}

/// What one session saw.
#[derive(Debug, Default)]
struct Seen {
    delta_late: Vec<Duration>,
    send_late: Vec<Duration>,
}

/// One session after its greeting: stream from `start`, read until
/// `response.done`.
async fn converse(
    session: Session,
    script: Arc<Script>,
    schedule: Schedule,
    start: Instant,
    period: Duration,
    max_chunks: usize,
) -> Result<Seen> {
    let (mut sink, mut stream) = session.into_socket().split();
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let writer = async {
        let mut send_late = Vec::with_capacity(max_chunks.min(1024));
        for j in 0..max_chunks {
            let due = start + period * j as u32;
            tokio::select! {
                biased;
                _ = stop_rx.wait_for(|stop| *stop) => break,
                _ = tokio::time::sleep_until(due) => {}
            }
            send_late.push(Instant::now().saturating_duration_since(due));
            let frame = script.speech.get(j).unwrap_or(&script.silence).clone();
            sink.send(Message::Text(frame)).await?;
        }
        Ok::<_, BenchError>(send_late)
    };
    // The reader gives up a little after the writer would have stopped.
    let patience = period * max_chunks as u32 + Duration::from_secs(10);
    let reader = async {
        let result = tokio::time::timeout(patience, read_answer(&mut stream, schedule))
            .await
            .unwrap_or_else(|_| {
                Err(BenchError::Protocol(format!(
                    "no response.done within {patience:?}"
                )))
            });
        let _ = stop_tx.send(true);
        result
    };
    let (sent, read) = tokio::join!(writer, reader);
    let delta_late = read?;
    let send_late = sent?;
    let _ = sink.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    Ok(Seen {
        delta_late,
        send_late,
    })
}

/// Reads server frames until `response.done`: each audio delta's lateness.
async fn read_answer<S>(stream: &mut S, schedule: Schedule) -> Result<Vec<Duration>>
where
    S: futures_util::Stream<
            Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
{
    let mut created = None;
    let mut arrivals = Vec::with_capacity(64);
    while let Some(message) = stream.next().await {
        let now = Instant::now();
        let text = match message? {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        let kind = event_type(text.as_str())
            .ok_or_else(|| BenchError::Protocol(format!("untyped frame: {text:.120}")))?;
        match kind.as_str() {
            "response.created" => created = Some(now),
            AUDIO_DELTA => {
                let t0 = created.ok_or_else(|| {
                    BenchError::Protocol("an audio delta before response.created".into())
                })?;
                arrivals.push((t0, now));
            }
            RESPONSE_DONE => return Ok(schedule.lateness(&arrivals)),
            "error" => {
                return Err(BenchError::Protocol(format!(
                    "the server sent an error: {text:.200}"
                )))
            }
            _ => {}
        }
    }
    Err(BenchError::Protocol(
        "the server closed before response.done".into(),
    ))
}

/// One step of the ramp.
#[derive(Debug, Clone)]
struct Step {
    sessions: usize,
    turns: usize,
    delta_late: Summary,
    send_late: Summary,
    server_cores: Option<f64>,
    client_cores: Option<f64>,
}

/// `n` sessions connect and are greeted, then all stream at once (phases
/// spread over one chunk period).
async fn step(
    ws: &str,
    n: usize,
    args: &Args,
    script: &Arc<Script>,
    cpu: &dyn Fn() -> Option<u64>,
) -> Result<Step> {
    let (go_tx, go_rx) = watch::channel(None::<Instant>);
    let (ready_tx, mut ready_rx) = mpsc::channel::<bool>(n.max(1));
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let period = Duration::from_millis(args.send_chunk_ms.max(1));
    let max_chunks = (args.max_stream_ms / args.send_chunk_ms.max(1)).max(1) as usize;
    let schedule = Schedule::new(args);
    let mut tasks = Vec::with_capacity(n);
    for k in 0..n {
        let (ws, gate, mut go, ready, script) = (
            ws.to_owned(),
            Arc::clone(&gate),
            go_rx.clone(),
            ready_tx.clone(),
            Arc::clone(script),
        );
        let phase = period.mul_f64(k as f64 / n as f64);
        tasks.push(tokio::spawn(async move {
            let (session, start) = open_then_wait(&ws, None, &gate, &ready, &mut go).await?;
            converse(session, script, schedule, start + phase, period, max_chunks).await
        }));
    }
    drop(ready_tx);
    let (mut connected, mut refused) = (0, 0);
    while connected + refused < n {
        match ready_rx.recv().await {
            Some(true) => connected += 1,
            Some(false) => refused += 1,
            None => break,
        }
    }
    let client_cpu = || procstat::threads_cpu_ns(CLIENT_THREADS).ok();
    let (server0, client0, started) = (cpu(), client_cpu(), Instant::now());
    let _ = go_tx.send(Some(started + Duration::from_millis(20)));
    let (mut delta_late, mut send_late) = (Vec::new(), Vec::new());
    let (mut turns, mut first_error) = (0, None);
    for task in tasks {
        match task.await {
            Ok(Ok(seen)) => {
                turns += 1;
                delta_late.extend(seen.delta_late);
                send_late.extend(seen.send_late);
            }
            Ok(Err(error)) => {
                first_error.get_or_insert(error);
            }
            Err(error) => {
                first_error.get_or_insert(error.into());
            }
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let cores = |now: Option<u64>, before: Option<u64>| {
        now.zip(before)
            .map(|(b, a)| b.saturating_sub(a) as f64 / 1e9 / secs)
    };
    if let Some(error) = first_error {
        progress(format!("{} sessions failed; the first: {error}", n - turns));
    }
    Ok(Step {
        sessions: n,
        turns,
        delta_late: summarise(&delta_late),
        send_late: summarise(&send_late),
        server_cores: cores(cpu(), server0),
        client_cores: cores(client_cpu(), client0),
    })
}

/// Runs the ramp against `target`.
pub async fn run(args: &Args, target: &Target) -> Result<Report> {
    if args.sessions.is_empty() || args.sessions.contains(&0) || args.send_chunk_ms == 0 {
        return Err(BenchError::Usage(
            "--sessions needs whole numbers above 0 and --send-chunk-ms at least 1".into(),
        ));
    }
    let script = Arc::new(Script::new(args)?);
    let cpu = || target.cpu_ns();
    let mut steps = Vec::new();
    for &n in &args.sessions {
        progress(format!("{n} sessions streaming"));
        let s = step(&target.ws, n, args, &script, &cpu).await?;
        progress(format!(
            "  {}/{n} turns, {} deltas: lateness p50 {:.2} ms, p99 {:.2} ms; send p99 {:.2} ms",
            s.turns, s.delta_late.n, s.delta_late.p50_ms, s.delta_late.p99_ms, s.send_late.p99_ms
        ));
        let over = !within(&s, args.limit_ms);
        steps.push(s);
        if over && !args.keep_going {
            progress(format!(
                "  over the {} ms limit: the ramp stops",
                args.limit_ms
            ));
            break;
        }
    }
    Ok(Report {
        command: "respond-capacity",
        server: target.label(),
        tables: tables(args, &steps),
    })
}

/// Whether a step is on time: every session answered, lateness p99 within
/// the limit.
fn within(step: &Step, limit_ms: f64) -> bool {
    step.turns == step.sessions && step.delta_late.n > 0 && step.delta_late.p99_ms <= limit_ms
}

fn tables(args: &Args, steps: &[Step]) -> Vec<Table> {
    let mut each = Table::new(
        format!(
            "audio delta lateness per step: `{}` then silence in {} ms chunks, answers at pace {}",
            args.clip, args.send_chunk_ms, args.pace
        ),
        &[
            "sessions",
            "turns",
            "failed",
            "deltas",
            "late_p50_ms",
            "late_p99_ms",
            "late_max_ms",
            "send_late_p50_ms",
            "send_late_p99_ms",
            "server_cores",
            "client_cores",
        ],
    );
    for s in steps {
        each.row(vec![
            s.sessions.to_string(),
            s.turns.to_string(),
            (s.sessions - s.turns).to_string(),
            s.delta_late.n.to_string(),
            format!("{:.3}", s.delta_late.p50_ms),
            format!("{:.3}", s.delta_late.p99_ms),
            format!("{:.3}", s.delta_late.max_ms),
            format!("{:.3}", s.send_late.p50_ms),
            format!("{:.3}", s.send_late.p99_ms),
            or_na(s.server_cores, |c| format!("{c:.2}")),
            or_na(s.client_cores, |c| format!("{c:.2}")),
        ]);
    }
    let best = steps
        .iter()
        .filter(|s| within(s, args.limit_ms))
        .map(|s| s.sessions)
        .max();
    let mut verdict = Table::new(
        format!(
            "capacity: largest N with every turn answered and lateness p99 ≤ {} ms",
            args.limit_ms
        ),
        &["limit_ms", "largest_sessions", "steps_run"],
    );
    verdict.row(vec![
        format!("{}", args.limit_ms),
        or_na(best, |n| n.to_string()),
        steps.len().to_string(),
    ]);
    vec![each, verdict]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_due_on_the_engines_schedule() {
        let args = Args {
            sessions: vec![1],
            limit_ms: 20.0,
            keep_going: false,
            clip: "user-weather-24k.wav".into(),
            send_chunk_ms: 20,
            max_stream_ms: 1000,
            connect_concurrency: 1,
            pace: 0.5,
            chunk_ms: 100,
            first_audio_ms: 180,
            item_delay_ms: 20,
            max_sessions: 10,
            journal: JournalMode::Off,
            external: ExternalArgs {
                server_url: None,
                server_pid: None,
                server_threads: None,
            },
        };
        let s = Schedule::new(&args);
        let t0 = Instant::now();
        // The item 20 ms after response.created, the first delta 180 ms later.
        assert_eq!(s.due(t0, 0) - t0, Duration::from_millis(200));
        // 100 ms chunks at twice real time: 50 ms apart.
        assert_eq!(s.due(t0, 3) - t0, Duration::from_millis(350));
        // On time, then 7 ms late: no lateness, then 7 ms.
        let ms = Duration::from_millis;
        assert_eq!(
            s.lateness(&[(t0, t0 + ms(200)), (t0, t0 + ms(257))]),
            vec![Duration::ZERO, ms(7)]
        );
        // A delta 5 ms early: response.created was 5 ms late; the origin moves.
        assert_eq!(
            s.lateness(&[(t0, t0 + ms(195)), (t0, t0 + ms(252))]),
            vec![Duration::ZERO, ms(7)]
        );
        let script = Script::new(&args).expect("the clip encodes");
        // 20 ms of 24 kHz PCM16 is 960 bytes: 1,280 base64 characters.
        assert!(script
            .silence
            .as_str()
            .contains("input_audio_buffer.append"));
        assert!(script.speech.len() > 100, "a clip of seconds");
        let step = |turns, p99_ms| Step {
            sessions: 2,
            turns,
            delta_late: Summary {
                n: 10,
                p99_ms,
                ..Summary::default()
            },
            send_late: Summary::default(),
            server_cores: None,
            client_cores: None,
        };
        assert!(within(&step(2, 20.0), 20.0));
        assert!(!within(&step(2, 20.1), 20.0));
        assert!(!within(&step(1, 1.0), 20.0), "a failed turn is not on time");
    }
}
