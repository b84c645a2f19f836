//! Serving a router on one of our listeners with every request head timed,
//! not only a connection's first.
//!
//! [`GatedAccept`](super::GatedAccept) times the first request's head before
//! the HTTP server sees the connection. Later requests on a kept-alive
//! connection are read by hyper, which `axum::serve` runs with no timer: a
//! client that sends one good request and then part of a second head was held
//! forever. [`serve`] is `axum::serve` with graceful shutdown, but it builds
//! each connection's hyper server itself, with a tokio timer and
//! [`header_read_timeout`](hyper_util::server::conn::auto::Http1Builder::header_read_timeout)
//! set to the same header timeout.
//!
//! What a client sees when a later head is late: hyper **closes the
//! connection** (it writes no `408`; a partial head gets no answer). hyper
//! starts that clock when the connection goes idle after a response, so the
//! same timeout also bounds how long an idle kept-alive connection stays
//! open. Only HTTP/1 has a header timeout (these servers speak HTTP/1; a
//! WebSocket upgrade leaves hyper, and its sockets have their own frame
//! timeouts).

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting, asks every open HTTP connection to finish its request in
/// flight and close, and returns once they all have (as
/// `axum::serve(..).with_graceful_shutdown(..)`). `header` bounds every
/// request head on a connection (see the module header); `None`: no limit.
///
/// Upgraded connections (WebSockets) leave hyper at the upgrade and are not
/// waited for: their sessions end by their own stop signals.
pub async fn serve<L, F>(mut listener: L, app: Router, header: Option<Duration>, shutdown: F)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug + 'static,
    F: Future<Output = ()> + Send,
{
    // `stop` tells the connections to finish; each holds a `done` receiver
    // until it has, so `done_tx.closed()` is the last one gone.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        tracing::trace!(?peer, "connection accepted");
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            let mut connection = std::pin::pin!(connection);
            let mut asked = false;
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(error) = served {
                            log_ended(&*error, &peer);
                        }
                        break;
                    }
                    _ = stop.wait_for(|stop| *stop), if !asked => {
                        asked = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop(done_rx);
    let _ = stop_tx.send(true);
    done_tx.closed().await;
}

/// Logs why hyper ended a connection: a late head at `info` (it is a
/// limit doing its job), anything else at `trace` (clients leave).
fn log_ended(error: &(dyn std::error::Error + 'static), peer: &dyn std::fmt::Debug) {
    let timed_out = error
        .downcast_ref::<hyper::Error>()
        .is_some_and(hyper::Error::is_timeout);
    if timed_out {
        tracing::info!(?peer, "a later request head timed out: connection closed");
    } else {
        tracing::trace!(?peer, %error, "connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve_limits::GatedAccept;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// A server answering `GET /` with `ok`, its heads bounded by `header`.
    async fn start(header: Option<Duration>) -> (std::net::SocketAddr, watch::Sender<bool>) {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let gated = GatedAccept::new(tcp, header).unwrap();
        let app = Router::new().route("/", get(|| async { "ok" }));
        let (tx, mut rx) = watch::channel(false);
        tokio::spawn(serve(gated, app, header, async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
        (addr, tx)
    }

    /// Sends one whole request and reads its whole answer (`ok`, by length).
    async fn one_request(tcp: &mut TcpStream) -> String {
        tcp.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.ends_with(b"\r\n\r\nok") {
            let n = tcp.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8(answer).unwrap()
    }

    #[tokio::test]
    async fn a_late_second_head_on_a_kept_alive_connection_closes_it() {
        let (addr, _stop) = start(Some(Duration::from_millis(200))).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        assert!(one_request(&mut tcp).await.starts_with("HTTP/1.1 200 "));
        // Kept alive: a second request in time is served on it.
        assert!(one_request(&mut tcp).await.starts_with("HTTP/1.1 200 "));
        tcp.write_all(b"GET / HTTP/1.1\r\nhost:").await.unwrap();
        let mut rest = Vec::new();
        let started = std::time::Instant::now();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "the partial second head is still held");
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
        assert!(started.elapsed() >= Duration::from_millis(100));
        // The server goes on.
        let mut next = TcpStream::connect(addr).await.unwrap();
        assert!(one_request(&mut next).await.starts_with("HTTP/1.1 200 "));
    }

    #[tokio::test]
    async fn without_a_header_timeout_a_kept_alive_connection_stays() {
        let (addr, _stop) = start(None).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        one_request(&mut tcp).await;
        tcp.write_all(b"GET / HTTP/1.1\r\nhost:").await.unwrap();
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut byte)).await;
        assert!(read.is_err(), "closed or answered: {read:?}");
    }

    #[tokio::test]
    async fn shutdown_finishes_idle_connections_and_returns() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let gated = GatedAccept::new(tcp, None).unwrap();
        let app = Router::new().route("/", get(|| async { "ok" }));
        let (tx, mut rx) = watch::channel(false);
        let server = tokio::spawn(serve(gated, app, None, async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        one_request(&mut tcp).await;
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("serve returned after shutdown")
            .unwrap();
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }
}
