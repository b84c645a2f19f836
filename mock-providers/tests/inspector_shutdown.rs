//! The inspector's thread runs at low priority and ends with the server.
//! (A test binary of its own: it counts the process's threads.)

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};
use understudy_mock::MockServer;

/// The inspector threads of this process, with their nice values.
fn inspector_threads() -> Vec<i64> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != "inspector-rt" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, nice field 19.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let nice = after
            .split_whitespace()
            .nth(16)
            .and_then(|n| n.parse().ok())
            .unwrap_or(i64::MIN);
        found.push(nice);
    }
    found
}

/// Whether the process comes to have `count` inspector threads within 5 s
/// (a new thread names itself once it runs).
async fn until_inspector_threads(count: usize) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if inspector_threads().len() == count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn the_inspector_thread_is_low_priority_and_ends_with_the_server() {
    assert!(inspector_threads().is_empty());
    let server = MockServer::start().await.unwrap();
    let addr = server.address();
    let listing = get_once(addr, "/__understudy/sessions").await;
    assert!(listing.starts_with("HTTP/1.1 200 "), "{listing}");
    let threads = inspector_threads();
    assert_eq!(threads.len(), 1, "one inspector thread");
    // Lowering one's own priority needs no privilege on Linux.
    assert_eq!(threads[0], 19, "the inspector thread runs at nice 19");
    server.shutdown().await;
    assert!(
        inspector_threads().is_empty(),
        "shutdown() returns after the inspector thread ended"
    );

    // Dropping the server stops it too, within the grace period.
    let server = MockServer::start().await.unwrap();
    assert!(
        until_inspector_threads(1).await,
        "a new server, a new thread"
    );
    drop(server);
    assert!(
        until_inspector_threads(0).await,
        "the inspector thread ends once the server is dropped"
    );
}

/// One `GET` on a fresh connection, answer read to the end (closed).
async fn get_once(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nhost: mock\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    answer
}
