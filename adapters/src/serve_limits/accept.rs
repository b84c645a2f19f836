//! An accept loop that hands a connection on only once its request head has
//! arrived (see [`super::head`]).

use super::head::{read_head, HeadError, Rewind};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Connections whose head is read, waiting to be served.
///
/// Accepts on a TCP listener in a task of its own; every accepted socket
/// gets `TCP_NODELAY` and its own task reading the head under the header
/// timeout, so a slow client holds up nobody else. Servers wrap it in their
/// HTTP framework's listener type.
#[derive(Debug)]
pub struct GatedAccept {
    local: SocketAddr,
    ready: mpsc::Receiver<(Rewind<TcpStream>, SocketAddr)>,
}

impl GatedAccept {
    /// Starts accepting on `tcp`; `header` bounds each connection's head.
    pub fn new(tcp: TcpListener, header: Option<Duration>) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors, most likely: wait for some to free.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "could not set TCP_NODELAY on an accepted socket");
                }
                let tx = tx.clone();
                tokio::spawn(async move {
                    match read_head(stream, header).await {
                        Ok(rewound) => {
                            let _ = tx.send((rewound, peer)).await;
                        }
                        Err(HeadError::TimedOut(limit)) => {
                            tracing::info!(%peer, ?limit, "request head timed out: answered 408")
                        }
                        Err(error) => tracing::debug!(%peer, %error, "connection dropped"),
                    }
                });
            }
        });
        Ok(GatedAccept { local, ready })
    }

    /// The next connection with its head read; never returns once the
    /// accept loop is gone (as a listener that accepts nothing).
    pub async fn next(&mut self) -> (Rewind<TcpStream>, SocketAddr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            None => std::future::pending().await,
        }
    }

    /// The address accepted on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// Served by `axum::serve` as it is: connections reach the router once their
/// head arrived in time (else `408`), with `TCP_NODELAY` set.
#[cfg(feature = "axum")]
impl axum::serve::Listener for GatedAccept {
    type Io = Rewind<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        self.next().await
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_stalled_client_does_not_hold_up_the_next() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut gate = GatedAccept::new(tcp, Some(Duration::from_millis(200))).unwrap();
        let addr = gate.local_addr();
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut prompt = TcpStream::connect(addr).await.unwrap();
        prompt.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let (served, _) = tokio::time::timeout(Duration::from_millis(150), gate.next())
            .await
            .expect("the prompt client is handed on before the stalled one times out");
        assert!(served.get_ref().nodelay().unwrap());
        let mut answer = String::new();
        stalled.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }
}
