//! Measurement (ignored by default; run with `cargo test -p understudy-recorder
//! --test stalled_writer_memory -- --ignored --nocapture`): how much the
//! recorder's memory grows while a client streams 64 MiB through it and the
//! cassette writer is stalled, with the default write queue and with a queue
//! so large it never fills (how the recorder behaved before the queue was
//! bounded). Process-wide RSS, so it runs alone in its own test binary.

use futures_util::SinkExt;
use std::time::{Duration, Instant};
use support::{ws_upstream, Upstream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use understudy_recorder::{Recorder, WriteQueueLimits, WriteQueueStats};

mod support;

const FRAME: usize = 64 << 10;
const FRAMES: usize = 1024;

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Streams up to 64 MiB through a recorder whose writer is stalled; returns
/// the RSS growth in MiB, the MiB the client got through, and the queue stats.
async fn stalled(limits: WriteQueueLimits) -> (f64, f64, WriteQueueStats) {
    let out = tempfile::tempdir().unwrap();
    let (pause, paused) = tokio::sync::watch::channel(true);
    let recorder = Recorder::builder(
        understudy_recorder::provider("openai").unwrap(),
        ws_upstream(Upstream::Sink).await,
    )
    .out(out.path())
    .write_queue(limits)
    .pause_writing(paused)
    .start()
    .await
    .unwrap();
    let ws = recorder.url().replacen("http://", "ws://", 1);
    let request = format!("{ws}/v1/realtime?model=gpt-realtime")
        .into_client_request()
        .unwrap();
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let before = rss_kib();
    let mut sent = 0usize;
    let deadline = Instant::now() + Duration::from_secs(8);
    for n in 0..FRAMES {
        let frame = vec![(n % 251) as u8; FRAME];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.send(Message::binary(frame))).await {
            Ok(result) => result.unwrap(),
            Err(_) => break,
        }
        sent += 1;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = (rss_kib().saturating_sub(before)) as f64 / 1024.0;
    let stats = recorder.write_queue();
    pause.send(false).unwrap();
    // Drain what the client still holds, then end.
    let _ = tokio::time::timeout(Duration::from_secs(30), socket.close(None)).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), recorder.shutdown()).await;
    (grown, (sent * FRAME) as f64 / (1 << 20) as f64, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: process-wide RSS; run alone with --ignored --nocapture"]
async fn memory_with_a_stalled_writer_stays_near_the_queue_bound() {
    let bounded = stalled(WriteQueueLimits::default()).await;
    let unbounded = stalled(WriteQueueLimits {
        frames: 1 << 20,
        bytes: u32::MAX as usize,
    })
    .await;
    println!(
        "stalled writer, default queue ({} frames / {} MiB): RSS +{:.1} MiB, client got {:.1} MiB through; {:?}",
        WriteQueueLimits::DEFAULT_FRAMES,
        WriteQueueLimits::DEFAULT_BYTES >> 20,
        bounded.0,
        bounded.1,
        bounded.2
    );
    println!(
        "stalled writer, queue that never fills (the old unbounded channel): RSS +{:.1} MiB, client got {:.1} MiB through; {:?}",
        unbounded.0, unbounded.1, unbounded.2
    );
    assert!(bounded.2.peak_bytes <= WriteQueueLimits::DEFAULT_BYTES);
    assert!(bounded.2.waits >= 1, "{:?}", bounded.2);
    assert!(
        unbounded.1 > 60.0,
        "without a bound the client streams everything: {unbounded:?}"
    );
    assert!(
        bounded.0 < unbounded.0 / 2.0,
        "bounded {bounded:?} vs unbounded {unbounded:?}"
    );
}
