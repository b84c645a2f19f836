//! Throughput of the streaming content filter, and the per-delta cost of the
//! filter plus the segmenter, on LLM-sized deltas.
//!
//! **Input.** The 50+ assistant replies of `tests/data/assistant-replies`
//! (their metadata line removed), each cut into deltas of 4 to 16 characters,
//! the size of LLM tokens as they stream, with a fixed pseudo-random pattern.
//!
//! **What is measured.**
//! * `filter`: a fresh `ContentFilter` per reply, `push` for every delta,
//!   then `finish`: the whole cost of making a reply speakable. Throughput is in
//!   bytes of reply text.
//! * `baseline_copy`: the same deltas copied into a `String`, the least any
//!   stage that looks at every delta has to do. The ratio filter / baseline
//!   says how far the filter is from free.
//! * `filter_and_segment`: the filter's output of every delta pushed into a
//!   `Segmenter`, as a speaker pipeline does; reported per delta.
//!
//! After criterion, `main` prints a one-line summary (MB/s of both, their
//! ratio, ns per delta) from a plain `Instant` loop in the same process.
//!
//! Run: `cargo bench -p understudy-adapters --bench text_filter`.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use understudy_adapters::text::{ContentFilter, FilterPolicy, Segmenter, SegmenterConfig};

/// Passes over the corpus per side in the summary loop.
const SUMMARY_PASSES: usize = 50;

/// Every reply as its list of deltas.
struct Corpus {
    replies: Vec<Vec<String>>,
}

impl Corpus {
    fn bytes(&self) -> u64 {
        self.replies.iter().flatten().map(|d| d.len() as u64).sum()
    }

    fn deltas(&self) -> u64 {
        self.replies.iter().map(|r| r.len() as u64).sum()
    }
}

fn deltas(text: &str, seed: u64) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let size = 4 + ((state >> 33) % 13) as usize;
        let end = (at + size).min(chars.len());
        out.push(chars[at..end].iter().collect());
        at = end;
    }
    out
}

fn load_corpus() -> Corpus {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/assistant-replies");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    let replies: Vec<Vec<String>> = paths
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let raw = std::fs::read_to_string(path).expect("read reply");
            let text = raw.split_once('\n').map_or(raw.as_str(), |(_, t)| t);
            deltas(text, i as u64)
        })
        .collect();
    let corpus = Corpus { replies };
    // Guard: the filter must do real work here (code blocks are replaced), so
    // the benchmark cannot time a pass-through by accident.
    let spoken: String = corpus.replies.iter().map(|r| filter_reply(r)).collect();
    assert!(spoken.contains("code omitted") && spoken.contains("table omitted"));
    assert!(!spoken.contains("```"));
    println!(
        "corpus: {} replies, {} deltas of 4-16 chars, {} bytes",
        corpus.replies.len(),
        corpus.deltas(),
        corpus.bytes()
    );
    corpus
}

/// The subject: one reply through a fresh filter.
fn filter_reply(deltas: &[String]) -> String {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    let mut spoken = String::new();
    for d in deltas {
        spoken.push_str(&filter.push(black_box(d)));
    }
    spoken.push_str(&filter.finish());
    spoken
}

fn filter_all(corpus: &Corpus) {
    for reply in &corpus.replies {
        black_box(filter_reply(reply));
    }
}

/// The baseline: the same deltas copied into a string.
fn copy_all(corpus: &Corpus) {
    for reply in &corpus.replies {
        let mut text = String::new();
        for d in reply {
            text.push_str(black_box(d));
        }
        black_box(text);
    }
}

/// Filter then segmenter, as a speaker pipeline runs them.
fn filter_and_segment_all(corpus: &Corpus) {
    for reply in &corpus.replies {
        let mut filter = ContentFilter::new(FilterPolicy::default());
        let mut segmenter = Segmenter::new(SegmenterConfig::default());
        for d in reply {
            black_box(segmenter.push(&filter.push(black_box(d))));
        }
        black_box(segmenter.push(&filter.finish()));
        black_box(segmenter.finish());
    }
}

fn bench_text_filter(c: &mut Criterion) {
    let corpus = load_corpus();
    let mut group = c.benchmark_group("text_filter");
    group
        .throughput(Throughput::Bytes(corpus.bytes()))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let n = corpus.deltas();
    group.bench_with_input(BenchmarkId::new("filter", n), &corpus, |b, c| {
        b.iter(|| filter_all(c))
    });
    group.bench_with_input(BenchmarkId::new("baseline_copy", n), &corpus, |b, c| {
        b.iter(|| copy_all(c))
    });
    group.finish();

    let mut group = c.benchmark_group("text_pipeline_per_delta");
    group
        .throughput(Throughput::Elements(n))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_with_input(
        BenchmarkId::new("filter_and_segment", n),
        &corpus,
        |b, c| b.iter(|| filter_and_segment_all(c)),
    );
    group.finish();
}

/// Seconds per pass of `SUMMARY_PASSES` passes of `f`.
fn seconds_per_pass(mut f: impl FnMut()) -> f64 {
    f(); // warm caches and allocator
    let start = Instant::now();
    for _ in 0..SUMMARY_PASSES {
        f();
    }
    start.elapsed().as_secs_f64() / SUMMARY_PASSES as f64
}

fn summary() {
    let corpus = load_corpus();
    let bytes = corpus.bytes() as f64;
    let deltas = corpus.deltas() as f64;
    let filter = seconds_per_pass(|| filter_all(&corpus));
    let copy = seconds_per_pass(|| copy_all(&corpus));
    let pipeline = seconds_per_pass(|| filter_and_segment_all(&corpus));
    let filter_mbs = bytes / filter / 1e6;
    let copy_mbs = bytes / copy / 1e6;
    println!(
        "summary: filter {filter_mbs:.1} MB/s, baseline copy {copy_mbs:.1} MB/s, ratio {:.3}; \
         filter {:.0} ns/delta, filter+segmenter {:.0} ns/delta, copy {:.0} ns/delta",
        filter_mbs / copy_mbs,
        filter / deltas * 1e9,
        pipeline / deltas * 1e9,
        copy / deltas * 1e9,
    );
}

criterion_group!(benches, bench_text_filter);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
