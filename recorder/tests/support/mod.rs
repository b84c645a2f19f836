//! What the recorder's integration tests share.

use futures_util::{SinkExt, StreamExt};

/// What a test upstream does with each text or binary message (each test
/// binary uses one of them).
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub enum Upstream {
    /// Sends it back.
    Echo,
    /// Reads it and drops it.
    Sink,
}

/// Starts a WebSocket upstream on loopback and returns its `http://` origin.
pub async fn ws_upstream(kind: Upstream) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_close() {
                        let _ = ws.close(None).await;
                        break;
                    }
                    let echo = matches!(kind, Upstream::Echo)
                        && (message.is_text() || message.is_binary());
                    if echo && ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}
