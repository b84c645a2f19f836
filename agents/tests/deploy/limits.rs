//! The deployment server's gate: optional key auth (bearer, `?token=`,
//! subprotocol), the session cap, the head, first-frame and idle timeouts;
//! the server serves on after each.

use crate::support::{create, mock, named};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use understudy_adapters::serve_limits::{ServeTimeouts, SessionSlots};
use understudy_agents::deploy::{DeployConfig, DeployServer, Gate, ProviderEndpoint, Providers};
use understudy_mock::MockServer;

async fn gated(mock: &MockServer, gate: Gate) -> DeployServer {
    let providers = Providers::new(named("openai")).with(
        named("openai"),
        ProviderEndpoint::new(mock.openai_base_url()).api_key("sk-test"),
    );
    let mut config = DeployConfig::new(providers);
    config.gate = gate;
    DeployServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .unwrap()
}

/// The HTTP status a refused upgrade got, or 101.
async fn status_of(request: tokio_tungstenite::tungstenite::handshake::client::Request) -> u16 {
    match connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
    }
}

/// The close a socket gets, within 10 s.
async fn close_of(socket: &mut crate::support::Socket) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a close within 10 s")
            .expect("open")
            .expect("readable");
        if let Message::Close(frame) = message {
            let frame = frame.expect("a close frame with a code");
            return (u16::from(frame.code), frame.reason.to_string());
        }
    }
}

#[tokio::test]
async fn with_a_key_only_a_client_offering_it_is_served() {
    let mock = mock(8.0).await;
    let server = gated(
        &mock,
        Gate {
            keys: vec!["k-123".into()],
            ..Gate::default()
        },
    )
    .await;
    let url = server.session_url("u", "s");
    let plain = url.as_str().into_client_request().unwrap();
    assert_eq!(status_of(plain).await, 401);
    let mut wrong = url.as_str().into_client_request().unwrap();
    wrong
        .headers_mut()
        .insert("authorization", "Bearer k-12".parse().unwrap());
    assert_eq!(status_of(wrong).await, 401);

    let mut bearer = url.as_str().into_client_request().unwrap();
    bearer
        .headers_mut()
        .insert("authorization", "Bearer k-123".parse().unwrap());
    let (mut socket, _) = connect_async(bearer).await.unwrap();
    create(&mut socket, None).await;

    let token = format!("{}?token=k-123", server.session_url("u", "t"));
    let (mut socket, _) = connect_async(token).await.unwrap();
    create(&mut socket, None).await;

    // A browser's way: subprotocols, the server selecting `understudy`.
    let mut browser = server.session_url("u", "b").into_client_request().unwrap();
    browser.headers_mut().insert(
        "sec-websocket-protocol",
        "understudy, understudy-key.k-123".parse().unwrap(),
    );
    let (mut socket, response) = connect_async(browser).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "understudy");
    create(&mut socket, None).await;
}

#[tokio::test]
async fn past_the_cap_a_socket_gets_429_and_a_freed_slot_serves_again() {
    let mock = mock(8.0).await;
    let server = gated(
        &mock,
        Gate {
            slots: SessionSlots::new(2),
            ..Gate::default()
        },
    )
    .await;
    let (mut a, _) = connect_async(server.session_url("u", "a")).await.unwrap();
    let (mut b, _) = connect_async(server.session_url("u", "b")).await.unwrap();
    for _ in 0..5 {
        let request = server.session_url("u", "c").into_client_request().unwrap();
        assert_eq!(status_of(request).await, 429);
    }
    // The accepted ones work.
    create(&mut a, None).await;
    create(&mut b, None).await;
    a.close(None).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let request = server.session_url("u", "c").into_client_request().unwrap();
        if status_of(request).await == 101 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_quiet_client_is_closed_by_the_first_frame_then_the_idle_timeout() {
    let mock = mock(8.0).await;
    let server = gated(
        &mock,
        Gate {
            timeouts: ServeTimeouts {
                first_frame: Some(Duration::from_millis(200)),
                idle: Some(Duration::from_millis(400)),
                ..ServeTimeouts::default()
            },
            ..Gate::default()
        },
    )
    .await;
    let (mut silent, _) = connect_async(server.session_url("u", "a")).await.unwrap();
    let (code, reason) = close_of(&mut silent).await;
    assert_eq!(code, 1001, "{reason}");
    assert!(
        reason.starts_with("no client frame within 200ms"),
        "{reason}"
    );

    let (mut talker, _) = connect_async(server.session_url("u", "b")).await.unwrap();
    create(&mut talker, None).await;
    let (code, reason) = close_of(&mut talker).await;
    assert_eq!(code, 1001, "{reason}");
    assert!(reason.starts_with("idle timeout"), "{reason}");
    // The agent of the closed socket is gone; the server serves on.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !server.sessions().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            server.sessions()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut next, _) = connect_async(server.session_url("u", "c")).await.unwrap();
    create(&mut next, None).await;
}

#[tokio::test]
async fn a_head_that_never_ends_gets_408() {
    let mock = mock(8.0).await;
    let server = gated(
        &mock,
        Gate {
            timeouts: ServeTimeouts {
                header: Some(Duration::from_millis(150)),
                ..ServeTimeouts::default()
            },
            ..Gate::default()
        },
    )
    .await;
    let mut tcp = TcpStream::connect(server.address()).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer))
        .await
        .expect("answered within 5 s")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    let (mut socket, _) = connect_async(server.session_url("u", "a")).await.unwrap();
    create(&mut socket, None).await;
}

#[tokio::test]
async fn a_late_second_head_on_a_kept_alive_connection_is_closed() {
    let mock = mock(8.0).await;
    let server = gated(
        &mock,
        Gate {
            timeouts: ServeTimeouts {
                header: Some(Duration::from_millis(150)),
                ..ServeTimeouts::default()
            },
            ..Gate::default()
        },
    )
    .await;
    let mut tcp = TcpStream::connect(server.address()).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.ends_with(b"\r\n\r\nok") {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk))
            .await
            .expect("the first request is answered")
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&chunk[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200 "));
    // Kept alive; a second head that never ends is not held.
    tcp.write_all(b"GET /health HTTP/1.1\r\nhost:")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the partial second head is still held");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    let (mut socket, _) = connect_async(server.session_url("u", "a")).await.unwrap();
    create(&mut socket, None).await;
}
