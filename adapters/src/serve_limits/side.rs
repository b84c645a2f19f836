//! The side half of a split accept loop (see
//! [`GatedAccept::split`](super::GatedAccept::split)): connections moved off
//! the accepting runtime, registered again on the runtime that serves them.

use super::head::Rewind;
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// A connection handed aside: its request head, already read, and the
/// socket, no longer tied to any runtime.
#[derive(Debug)]
pub struct SideConnection {
    /// The bytes read from the socket so far (the first request's head).
    pub head: Vec<u8>,
    /// The socket, in non-blocking mode, registered with no runtime.
    pub stream: std::net::TcpStream,
    /// The client's address.
    pub peer: SocketAddr,
}

/// Connections picked by a split accept loop's predicate, for a server on
/// another runtime.
///
/// Take connections with [`next`](Self::next) (or serve it with
/// `axum::serve` under the `axum` feature) from inside the runtime that is
/// to serve them: each socket is registered with the runtime that takes it.
#[derive(Debug)]
pub struct SideAccept {
    local: SocketAddr,
    ready: mpsc::Receiver<SideConnection>,
}

impl SideAccept {
    pub(super) fn new(local: SocketAddr, ready: mpsc::Receiver<SideConnection>) -> Self {
        SideAccept { local, ready }
    }

    /// The next connection, registered on the current runtime, with its
    /// head put back; never returns once the accept loop is gone.
    ///
    /// Must be called within a tokio runtime (with I/O enabled).
    pub async fn next(&mut self) -> (Rewind<TcpStream>, SocketAddr) {
        loop {
            let Some(connection) = self.ready.recv().await else {
                return std::future::pending().await;
            };
            match TcpStream::from_std(connection.stream) {
                Ok(stream) => return (Rewind::new(connection.head, stream), connection.peer),
                Err(error) => {
                    tracing::debug!(peer = %connection.peer, %error, "could not take a connection handed aside")
                }
            }
        }
    }

    /// The address accepted on (shared with the main half).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// Served by `axum::serve` on the runtime that polls it.
#[cfg(feature = "axum")]
impl axum::serve::Listener for SideAccept {
    type Io = Rewind<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        self.next().await
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
