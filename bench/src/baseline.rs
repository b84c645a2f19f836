//! The no-logic baseline: a plain tokio-tungstenite server that greets, waits
//! for one client frame and sends the same precomputed frames the replay
//! cassette holds, one `send` per frame like the mock — the floor a
//! WebSocket server on this machine can reach, for the ratio. With a
//! schedule ([`start_paced`]) each frame waits for its offset from the
//! client's frame (a `sleep_until` on an absolute deadline, as the mock's
//! timeline does), for `paced-replay`.

use crate::error::{BenchError, Result};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// A running baseline server; it stops when its runtime is shut down.
pub struct Baseline {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Baseline {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the baseline on a free loopback port, on the current runtime; it
/// sends the answer as fast as it can.
pub async fn start(greeting: String, answer: Vec<String>) -> Result<Baseline> {
    start_paced(
        greeting,
        answer.into_iter().map(|f| (Duration::ZERO, f)).collect(),
    )
    .await
}

/// Starts the baseline on a free loopback port, on the current runtime; each
/// answer frame goes out at its offset from the client's frame (frames at
/// offset zero without waiting).
pub async fn start_paced(greeting: String, answer: Vec<(Duration, String)>) -> Result<Baseline> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|source| BenchError::Io {
            what: "binding the baseline server".into(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| BenchError::Io {
        what: "the baseline server's address".into(),
        source,
    })?;
    let greeting = Utf8Bytes::from(greeting);
    let answer: Arc<[(Duration, Utf8Bytes)]> = answer
        .into_iter()
        .map(|(at, f)| (at, Utf8Bytes::from(f)))
        .collect();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let greeting = greeting.clone();
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                if let Err(error) = serve(stream, greeting, answer).await {
                    tracing::debug!(%error, "baseline session ended");
                }
            });
        }
    });
    Ok(Baseline { addr, task })
}

/// One connection: greet, answer each client text frame with the frames,
/// each at its offset from that client frame.
async fn serve(
    stream: tokio::net::TcpStream,
    greeting: Utf8Bytes,
    answer: Arc<[(Duration, Utf8Bytes)]>,
) -> Result<()> {
    // The same socket option the mock sets on what it accepts
    // (`understudy_mock::net`): the comparison is of the work per frame,
    // not of Nagle's algorithm.
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "baseline: TCP_NODELAY refused");
    }
    let mut socket = tokio_tungstenite::accept_async(stream).await?;
    socket.send(Message::Text(greeting)).await?;
    while let Some(message) = socket.next().await {
        match message? {
            Message::Text(_) => {
                let trigger = tokio::time::Instant::now();
                for (at, frame) in answer.iter() {
                    if !at.is_zero() {
                        tokio::time::sleep_until(trigger + *at).await;
                    }
                    socket.send(Message::Text(frame.clone())).await?;
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(())
}
