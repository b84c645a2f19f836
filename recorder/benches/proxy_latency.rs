//! What the recording proxy adds to a realtime WebSocket round trip.
//!
//! An echo server written here (tokio-tungstenite, `/v1/realtime`) is the
//! upstream. The baseline is a client connected straight to it; the measured
//! case is the same client going through a [`Recorder`] to
//! `ws://RECORDER/v1/realtime?model=bench`. One round trip is: send one text
//! message, await its echo. Two sizes: a ~1 KiB JSON event and a ~64 KiB
//! `input_audio_buffer.append` (base64 PCM16, like an audio chunk).
//!
//! The criterion groups show direct and proxied side by side per size. After
//! them a summary measures both again in the same run, interleaved, one
//! recorder session per size, and prints the round-trip ratio with the
//! recorder's own `added_latency` from its report after shutdown.
//!
//! Run: `cargo bench -p understudy-recorder --bench proxy_latency`.
//! `cargo test -p understudy-recorder --benches` runs everything once, quickly.

use criterion::Criterion;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use understudy_recorder::{provider, LatencySummary, Recorder};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The upstream's only WebSocket path.
const PATH: &str = "/v1/realtime";

/// Payload bytes (both directions) one proxied session carries in the
/// criterion runs before the bench closes it and opens another, so that the
/// recorder (which keeps a session's frames until it ends) stays small. The
/// rotation, including the wait for the cassette to be written, is not timed.
const SESSION_BUDGET: usize = 64 << 20;

/// One message size under test.
struct Size {
    name: &'static str,
    message: Utf8Bytes,
    /// Round trips per side in the summary (bench mode).
    summary_round_trips: usize,
}

fn sizes() -> Vec<Size> {
    vec![
        Size {
            name: "1KiB_json",
            message: json_event(1024),
            summary_round_trips: 5000,
        },
        Size {
            name: "64KiB_audio",
            message: audio_append(64 * 1024),
            summary_round_trips: 1000,
        },
    ]
}

/// A `conversation.item.create` event padded to `len` bytes.
fn json_event(len: usize) -> Utf8Bytes {
    let head = r#"{"type":"conversation.item.create","event_id":"evt_bench_000001","item":{"type":"message","role":"user","content":[{"type":"input_text","text":""#;
    let tail = r#""}]}}"#;
    let filler = "the quick brown fox jumps over the lazy dog "
        .chars()
        .cycle()
        .take(len - head.len() - tail.len());
    let text: String = head.chars().chain(filler).chain(tail.chars()).collect();
    debug_assert_eq!(text.len(), len);
    Utf8Bytes::from(text)
}

/// An `input_audio_buffer.append` event of about `len` bytes whose `audio` is
/// real base64 PCM16 (a 440 Hz tone at 24 kHz).
fn audio_append(len: usize) -> Utf8Bytes {
    let head = r#"{"type":"input_audio_buffer.append","event_id":"evt_bench_000002","audio":""#;
    let tail = r#""}"#;
    let pcm_bytes = (len - head.len() - tail.len()) / 4 * 3;
    let pcm: Vec<u8> = (0..pcm_bytes / 2)
        .flat_map(|i| {
            let t = i as f64 / 24_000.0;
            let sample = (f64::sin(t * 440.0 * std::f64::consts::TAU) * 8_000.0) as i16;
            sample.to_le_bytes()
        })
        .collect();
    Utf8Bytes::from(format!("{head}{}{tail}", base64(&pcm)))
}

/// Standard base64 with padding (the recorder has no base64 dependency to lend).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Starts the echo upstream on a free port.
async fn start_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the echo server");
    let addr = listener.local_addr().expect("echo server address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(echo(stream));
        }
    });
    addr
}

/// Echoes every text and binary message of one connection; answers a close
/// (tungstenite replies to it on the next read, which then ends the stream).
async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, only_realtime).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// The echo server's handshake: `/v1/realtime` only (the result type is
/// tungstenite's handshake callback's).
#[allow(clippy::result_large_err)]
fn only_realtime(request: &Request, response: Response) -> Result<Response, ErrorResponse> {
    if request.uri().path() == PATH {
        Ok(response)
    } else {
        let mut refusal = ErrorResponse::new(Some(format!("only {PATH} here\n")));
        *refusal.status_mut() = StatusCode::NOT_FOUND;
        Err(refusal)
    }
}

async fn connect(url: &str) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    ws
}

/// Closes cleanly: sends a close and reads until the other side's close.
async fn close(mut ws: Client) {
    let _ = ws.close(None).await;
    while let Some(Ok(_)) = ws.next().await {}
}

/// Sends `message` and waits for its echo; the time between.
async fn round_trip(ws: &mut Client, message: &Utf8Bytes) -> Duration {
    let start = Instant::now();
    ws.send(Message::Text(message.clone()))
        .await
        .expect("send the message");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(echo))) => {
                let elapsed = start.elapsed();
                assert_eq!(echo.len(), message.len(), "the echo differs");
                return elapsed;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(other)) => panic!(
                "expected the echo, got a {} byte other message",
                other.len()
            ),
            Some(Err(error)) => panic!("expected the echo, got an error: {error}"),
            None => panic!("expected the echo, the connection ended"),
        }
    }
}

/// A client going through a recorder, opening a new session whenever the
/// current one has carried [`SESSION_BUDGET`] bytes.
struct Proxied {
    recorder: Recorder,
    url: String,
    ws: Option<Client>,
    carried: usize,
    closed: usize,
}

impl Proxied {
    async fn start(echo: SocketAddr, out: &Path) -> Proxied {
        let recorder = Recorder::builder(
            provider("openai").expect("openai is registered"),
            format!("http://{echo}"),
        )
        .out(out)
        .start()
        .await
        .expect("start the recorder");
        let url = proxied_url(&recorder);
        Proxied {
            recorder,
            url,
            ws: None,
            carried: 0,
            closed: 0,
        }
    }

    async fn round_trip(&mut self, message: &Utf8Bytes) -> Duration {
        if self.ws.is_none() || self.carried + 2 * message.len() > SESSION_BUDGET {
            self.rotate().await;
        }
        self.carried += 2 * message.len();
        let ws = self.ws.as_mut().expect("connected by rotate");
        round_trip(ws, message).await
    }

    /// Ends the current session, waits until its cassette is written, opens another.
    async fn rotate(&mut self) {
        if let Some(ws) = self.ws.take() {
            close(ws).await;
            self.closed += 1;
            wait_for_sessions(&self.recorder, self.closed).await;
        }
        self.ws = Some(connect(&self.url).await);
        self.carried = 0;
    }

    async fn shutdown(mut self) {
        if let Some(ws) = self.ws.take() {
            close(ws).await;
        }
        let report = self.recorder.shutdown().await;
        for session in &report.sessions {
            assert!(session.complete, "{}", session.line());
            assert!(session.write_error.is_none(), "{}", session.line());
        }
    }
}

fn proxied_url(recorder: &Recorder) -> String {
    let http = recorder.url();
    let host = http.strip_prefix("http://").expect("recorder url is http");
    format!("ws://{host}{PATH}?model=bench")
}

/// Waits until the recorder has written `count` sessions.
async fn wait_for_sessions(recorder: &Recorder, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while recorder.report().sessions.len() < count {
        assert!(
            Instant::now() < deadline,
            "the recorder did not write session {count} within a minute"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The criterion part: direct and proxied round trips per size.
fn criterion_benches(c: &mut Criterion, rt: &Runtime, echo: SocketAddr) {
    let out = tempfile::tempdir().expect("temporary output folder");
    let direct_url = format!("ws://{echo}{PATH}?model=bench");
    let mut proxied = rt.block_on(Proxied::start(echo, out.path()));
    for size in sizes() {
        let mut direct = rt.block_on(connect(&direct_url));
        let mut group = c.benchmark_group(format!("ws_round_trip/{}", size.name));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        group.bench_function("direct", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += round_trip(&mut direct, &size.message).await;
                    }
                    total
                })
            });
        });
        group.bench_function("proxied", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += proxied.round_trip(&size.message).await;
                    }
                    total
                })
            });
        });
        group.finish();
        rt.block_on(close(direct));
    }
    rt.block_on(proxied.shutdown());
}

/// Percentile `q` of sorted samples, in microseconds.
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

struct Comparison {
    direct: Vec<Duration>,
    proxied: Vec<Duration>,
    added: LatencySummary,
}

/// Direct and proxied round trips interleaved (alternating which goes first),
/// the proxied ones in one recorder session; that session's `added_latency`.
async fn compare(echo: SocketAddr, message: &Utf8Bytes, round_trips: usize) -> Comparison {
    let out = tempfile::tempdir().expect("temporary output folder");
    let recorder = Recorder::builder(
        provider("openai").expect("openai is registered"),
        format!("http://{echo}"),
    )
    .out(out.path())
    .start()
    .await
    .expect("start the recorder");
    let proxied_url = proxied_url(&recorder);
    let mut direct = connect(&format!("ws://{echo}{PATH}?model=bench")).await;
    // Warm up both paths; the proxied warm-up in a session of its own, so that
    // the measured session's report holds the measured frames only.
    let mut warm = connect(&proxied_url).await;
    for _ in 0..(round_trips / 10).max(1) {
        round_trip(&mut direct, message).await;
        round_trip(&mut warm, message).await;
    }
    close(warm).await;
    wait_for_sessions(&recorder, 1).await;

    let mut proxied = connect(&proxied_url).await;
    let mut direct_times = Vec::with_capacity(round_trips);
    let mut proxied_times = Vec::with_capacity(round_trips);
    for i in 0..round_trips {
        if i % 2 == 0 {
            direct_times.push(round_trip(&mut direct, message).await);
            proxied_times.push(round_trip(&mut proxied, message).await);
        } else {
            proxied_times.push(round_trip(&mut proxied, message).await);
            direct_times.push(round_trip(&mut direct, message).await);
        }
    }
    close(direct).await;
    close(proxied).await;
    let report = recorder.shutdown().await;
    assert_eq!(report.sessions.len(), 2, "{report:#?}");
    let session = &report.sessions[1];
    assert!(session.complete, "{}", session.line());
    assert!(session.write_error.is_none(), "{}", session.line());
    assert_eq!(session.frames_c2s, round_trips + 2, "{}", session.line());
    let added = session
        .added_latency
        .expect("the recorder measured the session");
    direct_times.sort_unstable();
    proxied_times.sort_unstable();
    Comparison {
        direct: direct_times,
        proxied: proxied_times,
        added,
    }
}

/// The summary part: ratio and the recorder's own measure, printed.
fn summary(rt: &Runtime, echo: SocketAddr, bench_mode: bool) {
    println!();
    println!("proxy_latency summary: direct and proxied round trips interleaved in this run;");
    println!("added_latency is the recorder's own per-frame measure (read a frame -> handed to the other side), one session.");
    for size in sizes() {
        let round_trips = if bench_mode {
            size.summary_round_trips
        } else {
            20
        };
        let c = rt.block_on(compare(echo, &size.message, round_trips));
        let (d50, d99) = (percentile(&c.direct, 0.5), percentile(&c.direct, 0.99));
        let (p50, p99) = (percentile(&c.proxied, 0.5), percentile(&c.proxied, 0.99));
        let a = c.added;
        println!();
        println!(
            "{} ({} B text message, {round_trips} round trips each):",
            size.name,
            size.message.len()
        );
        println!("  round trip direct : p50 {d50:9.1} µs   p99 {d99:9.1} µs");
        println!("  round trip proxied: p50 {p50:9.1} µs   p99 {p99:9.1} µs");
        println!(
            "  recorder added_latency over {} frames: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs, mean {:.1} µs",
            a.frames, a.p50_us, a.p99_us, a.max_us, a.mean_us
        );
        println!(
            "  => proxy adds {:.1} µs per frame (p50), {:.1} µs p99; round trip ratio proxied/direct {:.2}x (p50), {:.2}x (p99); +{:.1} µs per round trip (p50)",
            a.p50_us,
            a.p99_us,
            p50 / d50,
            p99 / d99,
            p50 - d50
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // Criterion's own rule: `--bench` without `--test` measures; anything else
    // (`cargo test --benches`) runs each benchmark once.
    let bench_mode = has("--bench") && !has("--test");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let echo = rt.block_on(start_echo());
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &rt, echo);
    criterion.final_summary();
    if !has("--list") {
        summary(&rt, echo, bench_mode);
    }
}
