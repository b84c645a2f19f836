//! A cassette writer that falls behind (here: paused, standing in for a
//! stalled disk) makes the proxy wait instead of buffering without bound: the
//! session's write queue never holds more than its bound, the waits are
//! counted, and once the writer resumes every frame reaches the cassette, in
//! order.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use support::{ws_upstream, Upstream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use understudy_fixtures::{BinaryPayload, Cassette, Direction, FrameBody};
use understudy_recorder::{Recorder, WriteQueueLimits};

mod support;

const FRAMES: usize = 400;
const FRAME_BYTES: usize = 2048;
const QUEUE_FRAMES: usize = 16;
const QUEUE_BYTES: usize = 8 * FRAME_BYTES;

/// Frame `n`: its number in the first four bytes, then filler.
fn payload(n: usize) -> Vec<u8> {
    let mut bytes = vec![(n % 251) as u8; FRAME_BYTES];
    bytes[..4].copy_from_slice(&(n as u32).to_be_bytes());
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_writer_holds_the_queue_at_its_bound_and_loses_nothing_once_it_resumes() {
    let out = tempfile::tempdir().unwrap();
    let upstream = ws_upstream(Upstream::Echo).await;
    let (pause, paused) = tokio::sync::watch::channel(true);
    let recorder = Recorder::builder(understudy_recorder::provider("openai").unwrap(), upstream)
        .out(out.path())
        .write_queue(WriteQueueLimits {
            frames: QUEUE_FRAMES,
            bytes: QUEUE_BYTES,
        })
        .pause_writing(paused)
        .start()
        .await
        .unwrap();
    let ws = recorder.url().replacen("http://", "ws://", 1);
    let request = format!("{ws}/v1/realtime?model=gpt-realtime")
        .into_client_request()
        .unwrap();
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (mut send, mut receive) = socket.split();
    let sender = tokio::spawn(async move {
        for n in 0..FRAMES {
            send.send(Message::binary(payload(n))).await.unwrap();
        }
        send
    });

    // The writer is stalled: the proxy stops at the queue's bound.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let stalled = recorder.write_queue();
    assert_eq!(stalled.capacity_frames, QUEUE_FRAMES);
    assert_eq!(stalled.capacity_bytes, QUEUE_BYTES);
    assert!(stalled.waits >= 1, "the proxy waited: {stalled:?}");
    assert!(
        stalled.peak_bytes <= QUEUE_BYTES && stalled.peak_frames <= QUEUE_FRAMES,
        "never more than the bound: {stalled:?}"
    );
    assert!(
        stalled.peak_bytes > QUEUE_BYTES - FRAME_BYTES,
        "the queue filled up to its bound: {stalled:?}"
    );
    // Nothing was forwarded past what the queue took: the echoes stop.
    let mut echoed = 0;
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(200), receive.next()).await
    {
        assert!(message.unwrap().is_binary());
        echoed += 1;
    }
    assert!(
        echoed < FRAMES / 2,
        "the proxy kept forwarding while the writer was stalled ({echoed} echoes)"
    );
    let again = recorder.write_queue();
    assert!(again.peak_bytes <= QUEUE_BYTES, "{again:?}");

    // The writer resumes: every frame is forwarded and echoed…
    pause.send(false).unwrap();
    while echoed < FRAMES {
        let message = tokio::time::timeout(Duration::from_secs(20), receive.next())
            .await
            .expect("the echoes resume")
            .unwrap()
            .unwrap();
        assert!(message.is_binary());
        echoed += 1;
    }
    let mut send = sender.await.unwrap();
    send.close().await.unwrap();
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(5), receive.next()).await {}
    let report = recorder.shutdown().await;
    assert_eq!(report.sessions.len(), 1, "{:#?}", report.sessions);
    let session = &report.sessions[0];
    assert_eq!(session.frames_c2s, 1 + FRAMES + 1, "request, frames, close");
    assert!(report.write_queue.peak_bytes <= QUEUE_BYTES);
    assert!(
        report.write_queue.waited_ms > 300.0,
        "{:?}",
        report.write_queue
    );

    // …and recorded, both ways, in order.
    let path = out.path().join(session.cassette.as_deref().unwrap());
    assert!(understudy_fixtures::validate_file(&path).is_valid());
    let cassette = Cassette::read(&path).unwrap();
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let numbers: Vec<usize> = cassette
            .frames
            .iter()
            .filter(|f| f.dir == dir)
            .filter_map(|f| match &f.body {
                FrameBody::Binary(BinaryPayload::Bytes(bytes)) => {
                    assert_eq!(bytes.len(), FRAME_BYTES);
                    Some(u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize)
                }
                _ => None,
            })
            .collect();
        assert_eq!(numbers, (0..FRAMES).collect::<Vec<_>>(), "{dir:?}");
    }
}
