//! Throughput of decoding OpenAI Realtime audio-delta frames into `ModelEvent`s.
//!
//! **What is measured.** `understudy_adapters::openai::Decoder::decode_text` on a
//! stream of `response.output_audio.delta` server frames (JSON text, exactly as
//! they arrive on the WebSocket), producing one `ModelEvent::AudioDelta` with the
//! base64-decoded PCM per frame. Throughput is reported in bytes of frame text
//! per second, so it reads as "how much wire traffic one core can normalise".
//!
//! **Frames.** Server audio-delta frames of a bundled `openai/*` cassette when one
//! exists; otherwise frames synthesized in the shape the mock provider sends, from
//! the bundled `voice-24k.wav` cut into 100 ms chunks (4800 bytes of PCM16 at
//! 24 kHz, the last chunk shorter). Setup asserts every frame decodes to exactly
//! one `AudioDelta` of the expected length, so an error path cannot be timed by
//! accident.
//!
//! **Baseline.** `serde_json::from_str::<Value>` plus a base64 decode of the
//! `delta` string, on the same frames in the same run: the minimum any decoder
//! has to do (parse the JSON, find the payload, turn it into PCM). A generic
//! `Value` parse is the naive way to do that, so a ratio (decoder / baseline)
//! near or above 1 means the typed decoder adds no overhead beyond the
//! unavoidable work.
//!
//! After criterion, `main` prints a one-line summary with both MB/s figures and
//! their ratio from a plain `Instant` loop in the same process.
//!
//! Run: `cargo bench -p understudy-adapters --bench decode_audio`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};
use understudy_adapters::openai::Decoder;
use understudy_adapters::ModelEvent;

/// 100 ms of 24 kHz mono PCM16.
const CHUNK_BYTES: usize = 4800;
/// Passes over all frames per side in the summary loop.
const SUMMARY_PASSES: usize = 20;

/// Benchmark input: frame texts and the PCM length each must decode to.
struct Frames {
    source: String,
    texts: Vec<String>,
    pcm_lens: Vec<usize>,
}

impl Frames {
    fn total_bytes(&self) -> u64 {
        self.texts.iter().map(|t| t.len() as u64).sum()
    }
}

fn is_audio_delta(value: &Value) -> bool {
    matches!(
        value.get("type").and_then(Value::as_str),
        Some("response.output_audio.delta" | "response.audio.delta")
    )
}

/// Non-empty server audio deltas of the first bundled `openai/` cassette that has any.
fn cassette_frames() -> Option<Frames> {
    for name in understudy_fixtures::bundled::cassette_names() {
        if !name.starts_with("openai/") {
            continue;
        }
        let Ok(cassette) = understudy_fixtures::bundled::cassette(name) else {
            continue;
        };
        let mut texts = Vec::new();
        let mut pcm_lens = Vec::new();
        for frame in cassette.frames.iter().filter(|f| f.is_server()) {
            let Some(value) = frame.json().filter(|v| is_audio_delta(v)) else {
                continue;
            };
            let Some(delta) = value.get("delta").and_then(Value::as_str) else {
                continue;
            };
            let Ok(pcm) = STANDARD.decode(delta) else {
                continue;
            };
            if pcm.is_empty() {
                continue;
            }
            texts.push(serde_json::to_string(value).expect("serialise frame"));
            pcm_lens.push(pcm.len());
        }
        if !texts.is_empty() {
            return Some(Frames {
                source: format!("bundled cassette {name}"),
                texts,
                pcm_lens,
            });
        }
    }
    None
}

/// `voice-24k.wav` as mock-shaped GA audio-delta frames, 100 ms each.
fn synthesized_frames() -> Frames {
    let wav = understudy_fixtures::bundled::audio("voice-24k.wav").expect("bundled voice-24k.wav");
    let (pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).expect("read voice-24k.wav");
    assert_eq!(rate, 24_000, "voice-24k.wav sample rate");
    let mut texts = Vec::new();
    let mut pcm_lens = Vec::new();
    for (i, chunk) in pcm.chunks(CHUNK_BYTES).enumerate() {
        let frame = json!({
            "type": "response.output_audio.delta",
            "event_id": format!("event_{:04}", i + 10),
            "response_id": "resp_0001",
            "item_id": "item_0002",
            "output_index": 0,
            "content_index": 0,
            "delta": STANDARD.encode(chunk),
        });
        texts.push(frame.to_string());
        pcm_lens.push(chunk.len());
    }
    Frames {
        source: format!(
            "synthesized from voice-24k.wav ({} bytes PCM, 100 ms chunks)",
            pcm.len()
        ),
        texts,
        pcm_lens,
    }
}

fn load_frames() -> Frames {
    let frames = cassette_frames().unwrap_or_else(synthesized_frames);
    assert!(!frames.texts.is_empty(), "no frames to benchmark");
    // Guard: each frame must take the success path and yield exactly one AudioDelta
    // of the expected size, otherwise the benchmark would time an error path.
    let mut decoder = Decoder::new();
    for (text, &len) in frames.texts.iter().zip(&frames.pcm_lens) {
        let events = decoder.decode_text(text).expect("decoder accepts frame");
        match events.as_slice() {
            [ModelEvent::AudioDelta { pcm, .. }] => assert_eq!(pcm.0.len(), len, "pcm length"),
            other => panic!("expected exactly one AudioDelta, got {other:?}"),
        }
        assert_eq!(baseline(text), len, "baseline pcm length");
    }
    println!(
        "frames: {} ({} frames, {} bytes of frame text)",
        frames.source,
        frames.texts.len(),
        frames.total_bytes()
    );
    frames
}

/// The subject: typed decode into normalised events.
fn decode_all(decoder: &mut Decoder, texts: &[String]) {
    for text in texts {
        black_box(decoder.decode_text(black_box(text)).expect("decode"));
    }
}

/// The minimum any decoder must do: parse the JSON, base64-decode `delta`.
fn baseline(text: &str) -> usize {
    let value: Value = serde_json::from_str(text).expect("json");
    let delta = value["delta"].as_str().expect("delta string");
    let pcm = STANDARD.decode(delta).expect("base64");
    let len = pcm.len();
    black_box((value, pcm));
    len
}

fn baseline_all(texts: &[String]) {
    for text in texts {
        black_box(baseline(black_box(text)));
    }
}

fn bench_decode_audio(c: &mut Criterion) {
    let frames = load_frames();
    let mut group = c.benchmark_group("decode_audio_delta");
    group
        .throughput(Throughput::Bytes(frames.total_bytes()))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let n = frames.texts.len();
    group.bench_with_input(
        BenchmarkId::new("understudy_decoder", n),
        &frames.texts,
        |b, texts| {
            let mut decoder = Decoder::new();
            b.iter(|| decode_all(&mut decoder, texts));
        },
    );
    group.bench_with_input(
        BenchmarkId::new("baseline_serde_value_plus_base64", n),
        &frames.texts,
        |b, texts| b.iter(|| baseline_all(texts)),
    );
    group.finish();
}

/// MB/s (10^6 bytes, as criterion reports) of `SUMMARY_PASSES` passes of `f`.
fn timed_mb_per_s(bytes_per_pass: u64, mut f: impl FnMut()) -> f64 {
    f(); // warm caches and allocator
    let start = Instant::now();
    for _ in 0..SUMMARY_PASSES {
        f();
    }
    let secs = start.elapsed().as_secs_f64();
    (bytes_per_pass * SUMMARY_PASSES as u64) as f64 / secs / 1e6
}

fn summary() {
    let frames = load_frames();
    let bytes = frames.total_bytes();
    let mut decoder = Decoder::new();
    let decoder_mbs = timed_mb_per_s(bytes, || decode_all(&mut decoder, &frames.texts));
    let baseline_mbs = timed_mb_per_s(bytes, || baseline_all(&frames.texts));
    println!(
        "summary: decoder {decoder_mbs:.1} MB/s, baseline {baseline_mbs:.1} MB/s, ratio {:.2}",
        decoder_mbs / baseline_mbs
    );
}

criterion_group!(benches, bench_decode_audio);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
