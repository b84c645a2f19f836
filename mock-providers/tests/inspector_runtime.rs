//! The inspector's routes are served on a runtime of their own: answered
//! while the main runtime (this test's) is blocked, on kept-alive
//! connections; provider routes, mounts and the health check are not.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;
use understudy_mock::{MockServer, ServeTimeouts};

/// Reads one HTTP/1.1 response (head and a `content-length` body).
fn read_response(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("a response");
        assert!(n > 0, "closed mid-head: {}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("a text head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no content-length in {head}"));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("the body");
    head
}

fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: mock\r\n\r\n")
}

/// Sends two requests for `path` on one kept-alive connection, the second
/// while this (current-thread) runtime, which runs the mock's main server,
/// is blocked. Returns whether the second was answered during the block,
/// after checking both were answered with the same status line.
async fn second_answered_while_main_is_blocked(addr: SocketAddr, path: &str) -> bool {
    let (first_tx, first_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (second_tx, second_rx) = mpsc::channel();
    let path = path.to_owned();
    let client = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request(&path).as_bytes()).unwrap();
        first_tx.send(read_response(&mut stream)).unwrap();
        go_rx.recv().unwrap();
        stream.write_all(request(&path).as_bytes()).unwrap();
        second_tx.send(read_response(&mut stream)).unwrap();
    });
    let first = tokio::task::spawn_blocking(move || first_rx.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the first request is answered");
    go_tx.send(()).unwrap();
    // Blocks this runtime: the main server cannot run meanwhile.
    let during = second_rx.recv_timeout(Duration::from_millis(1500));
    let answered_during = during.is_ok();
    let second = match during {
        Ok(answer) => answer,
        Err(_) => {
            tokio::task::spawn_blocking(move || second_rx.recv_timeout(Duration::from_secs(10)))
                .await
                .unwrap()
                .expect("the kept-alive second request is answered once the runtime runs")
        }
    };
    client.join().unwrap();
    let status = |answer: &str| answer.lines().next().unwrap_or("").to_owned();
    assert_eq!(status(&first), status(&second), "{first}\n{second}");
    assert!(first.starts_with("HTTP/1.1 "), "{first}");
    answered_during
}

#[tokio::test]
async fn journal_and_inspector_reads_are_served_while_the_main_runtime_is_blocked() {
    let server = MockServer::start().await.unwrap();
    for path in [
        "/__understudy/sessions",
        "/__understudy/sessions/no-such-session",
        "/__understudy/journal/stats",
        "/__understudy/",
    ] {
        assert!(
            second_answered_while_main_is_blocked(server.address(), path).await,
            "{path} is served on the inspector runtime"
        );
    }
}

#[tokio::test]
async fn provider_routes_mounts_and_health_wait_for_the_main_runtime() {
    let server = MockServer::start().await.unwrap();
    for path in [
        "/v1/no-such-provider-route",
        "/__understudy/mount/chat/completions",
        "/__understudy/health",
    ] {
        assert!(
            !second_answered_while_main_is_blocked(server.address(), path).await,
            "{path} is served on the main runtime"
        );
    }
}

#[tokio::test]
async fn a_stalled_head_gets_408_whichever_runtime_it_was_for() {
    let server = MockServer::builder()
        .timeouts(ServeTimeouts {
            header: Some(Duration::from_millis(200)),
            ..ServeTimeouts::default()
        })
        .start()
        .await
        .unwrap();
    for partial in [
        "GET /__understudy/sessions HTTP/1.1\r\nhost:",
        "GET /v1/realtime HTTP/1.1\r\nhost:",
    ] {
        let mut stream = tokio::net::TcpStream::connect(server.address())
            .await
            .unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream.write_all(partial.as_bytes()).await.unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
            .await
            .expect("answered and closed")
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 "), "{partial}: {answer}");
    }
}
