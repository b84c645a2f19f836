//! The journal's read limits over HTTP, against a running mock: a read past
//! its deadline, the live stream's subscriber cap, a subscriber that does not
//! read.

use crate::journal::{EntryKind, JournalEntry, ReadLimits};
use crate::MockServer;
use futures_util::StreamExt;
use std::sync::{Arc, Barrier};
use std::time::Duration;
use understudy_adapters::tts::http::reqwest;

async fn server(limits: ReadLimits, stream_buffer: usize) -> MockServer {
    MockServer::builder()
        .journal_read_limits(limits)
        .journal_stream_buffer(stream_buffer)
        .start()
        .await
        .expect("the mock starts")
}

fn note(server: &MockServer, session: u64, detail: String) {
    server.journal.record(
        session,
        JournalEntry {
            t_ms: 1,
            kind: EntryKind::Note,
            label: "vad".into(),
            detail,
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_past_its_deadline_answers_503_with_a_json_error_and_the_next_one_works() {
    let server = server(
        ReadLimits {
            read_deadline: Duration::from_millis(100),
            ..ReadLimits::default()
        },
        16,
    )
    .await;
    server.journal.open("openai-ga", "gpt-realtime", "respond");
    // A read that cannot finish: it holds the reader thread until released.
    let gate = Arc::new(Barrier::new(2));
    let stuck = {
        let gate = Arc::clone(&gate);
        let journal = server.journal.clone();
        tokio::spawn(async move { journal.read(|_| (), move |()| gate.wait()).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/__understudy/sessions", server.url());
    let answer = tokio::time::timeout(Duration::from_secs(10), client.get(&url).send())
        .await
        .expect("an answer, not a hang")
        .expect("sent");
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "1");
    let body: serde_json::Value = answer.json().await.expect("a JSON error");
    assert_eq!(body["error"]["code"], "journal_read_timeout", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("100 ms")),
        "{body}"
    );
    assert!(
        stuck.await.expect("joined").is_err(),
        "the stuck read timed out too"
    );
    gate.wait();
    let answer = client.get(&url).send().await.expect("sent");
    assert_eq!(
        answer.status(),
        200,
        "the server goes on once the reader is free"
    );
    let body: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(body["sessions"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_subscriber_cap_the_stream_answers_503_until_one_leaves() {
    let server = server(
        ReadLimits {
            max_subscribers: 2,
            ..ReadLimits::default()
        },
        16,
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/__understudy/stream?heartbeat=1", server.url());
    let first = client.get(&url).send().await.expect("sent");
    let second = client.get(&url).send().await.expect("sent");
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    assert_eq!(server.journal_stats().stream_subscribers, 2);
    let third = client.get(&url).send().await.expect("sent");
    assert_eq!(third.status(), 503);
    assert_eq!(third.headers()["retry-after"], "1");
    let body: serde_json::Value = third.json().await.expect("a JSON error");
    assert_eq!(body["error"]["code"], "stream_subscribers_full", "{body}");
    assert_eq!(
        server.journal_stats().stream_subscribers,
        2,
        "a refusal counts nothing"
    );
    // One leaves: the server notices at its next heartbeat and frees the place.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let again = client.get(&url).send().await.expect("sent");
        if again.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_does_not_read_loses_events_and_they_are_counted() {
    const NOTES: usize = 2_000;
    let server = server(ReadLimits::default(), 8).await;
    let response = reqwest::Client::new()
        .get(format!("{}/__understudy/stream", server.url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    // 2,000 notes of 16 KiB (32 MiB) while the subscriber reads nothing:
    // more than the socket buffers take, so the server must drop some
    // rather than hold them.
    let session = server.journal.open("openai-ga", "gpt-realtime", "respond");
    for n in 0..NOTES {
        note(
            &server,
            session,
            format!("note {n} {}", "x".repeat(16 * 1024)),
        );
    }
    note(&server, session, "the last note".into());
    let mut body = response.bytes_stream();
    let (mut notes, mut lagged, mut text) = (0usize, false, String::new());
    while !text.contains("the last note") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("a chunk within 10 s")
            .expect("the stream goes on")
            .expect("no body error");
        text.push_str(&String::from_utf8_lossy(&chunk));
        // Count whole events and keep the unfinished tail.
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            notes += usize::from(event.starts_with("event: note"));
            lagged |= event.starts_with("event: lagged");
            if event.contains("the last note") {
                text.push_str("the last note");
            }
        }
    }
    assert!(lagged, "the subscriber was told it lost events");
    assert!(notes < NOTES, "{notes} of {NOTES} notes were held for it");
    let stats = server.journal_stats();
    assert!(
        stats.stream_lagged_events >= (NOTES - notes) as u64,
        "{stats:?}, {notes} delivered"
    );
}
