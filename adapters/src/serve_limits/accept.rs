//! An accept loop that hands a connection on only once its request head has
//! arrived (see [`super::head`]), optionally splitting connections between
//! two servers by their first request (see [`GatedAccept::split`]).

use super::head::{read_head, HeadError, Rewind};
use super::side::{SideAccept, SideConnection};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
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

/// Most connections waiting to be taken by either server.
const WAITING: usize = 256;

/// Which connections go to the side server: a test of the request head.
type Wants = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Where the connections a predicate picks go.
#[derive(Clone)]
struct Side {
    wants: Wants,
    tx: mpsc::Sender<SideConnection>,
}

impl GatedAccept {
    /// Starts accepting on `tcp`; `header` bounds each connection's head.
    pub fn new(tcp: TcpListener, header: Option<Duration>) -> io::Result<Self> {
        Self::start(tcp, header, None)
    }

    /// Starts accepting on `tcp` like [`new`](Self::new), but hands every
    /// connection whose request head `wants` (the head's bytes; see
    /// [`request_target`](super::request_target)) to the returned
    /// [`SideAccept`] instead, as a std socket to be served on another
    /// runtime; all others come from the returned `GatedAccept`.
    ///
    /// Why: a server can serve the same router twice, its main traffic on
    /// the main runtime and some routes (the mock's inspector and journal
    /// reads) on a low-priority runtime of their own, so those cannot take
    /// CPU from the main traffic. Heads are read, and the `408` is answered,
    /// on the calling runtime for both. A connection is placed by its
    /// first request: later requests on a kept-alive connection stay where
    /// the first one went.
    pub fn split<P>(
        tcp: TcpListener,
        header: Option<Duration>,
        wants: P,
    ) -> io::Result<(Self, SideAccept)>
    where
        P: Fn(&[u8]) -> bool + Send + Sync + 'static,
    {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(WAITING);
        let side = Side {
            wants: Arc::new(wants),
            tx,
        };
        let main = Self::start(tcp, header, Some(side))?;
        Ok((main, SideAccept::new(local, ready)))
    }

    fn start(tcp: TcpListener, header: Option<Duration>, side: Option<Side>) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(WAITING);
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
                let side = side.clone();
                tokio::spawn(async move {
                    match read_head(stream, header).await {
                        Ok(rewound) => match side {
                            Some(side) if (side.wants)(rewound.prefix()) => {
                                hand_aside(rewound, peer, &side).await
                            }
                            _ => {
                                let _ = tx.send((rewound, peer)).await;
                            }
                        },
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

/// Moves a connection off this runtime to the side server.
async fn hand_aside(rewound: Rewind<TcpStream>, peer: SocketAddr, side: &Side) {
    let (head, stream) = rewound.into_parts();
    match stream.into_std() {
        Ok(stream) => {
            let _ = side.tx.send(SideConnection { head, stream, peer }).await;
        }
        Err(error) => tracing::debug!(%peer, %error, "could not move a connection aside"),
    }
}

/// Served by `axum::serve` or, timing later heads too, by
/// [`serve`](super::serve()): connections reach the router once their
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
    use crate::serve_limits::request_target;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn side_paths(head: &[u8]) -> bool {
        request_target(head).is_some_and(|t| t.starts_with("/side/"))
    }

    async fn split_gate(header: Option<Duration>) -> (GatedAccept, SideAccept) {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        GatedAccept::split(tcp, header, side_paths).unwrap()
    }

    async fn head_of<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> String {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        String::from_utf8(head).unwrap()
    }

    #[tokio::test]
    async fn split_sends_each_connection_by_its_first_request() {
        let (mut main, mut side) = split_gate(Some(Duration::from_secs(5))).await;
        assert_eq!(main.local_addr(), side.local_addr());
        let addr = main.local_addr();
        let mut to_side = TcpStream::connect(addr).await.unwrap();
        to_side
            .write_all(b"GET /side/sessions HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut to_main = TcpStream::connect(addr).await.unwrap();
        to_main
            .write_all(b"GET /main/realtime HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let within = Duration::from_secs(5);
        let (mut got_main, _) = tokio::time::timeout(within, main.next()).await.unwrap();
        assert_eq!(
            head_of(&mut got_main).await,
            "GET /main/realtime HTTP/1.1\r\n\r\n"
        );
        let (mut got_side, _) = tokio::time::timeout(within, side.next()).await.unwrap();
        assert_eq!(
            head_of(&mut got_side).await,
            "GET /side/sessions HTTP/1.1\r\n\r\n"
        );
        assert!(got_side.get_ref().nodelay().unwrap());
        // Neither got the other's connection.
        assert!(
            tokio::time::timeout(Duration::from_millis(100), main.next())
                .await
                .is_err()
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(100), side.next())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_split_gate_still_answers_a_stalled_head_408() {
        let (main, _side) = split_gate(Some(Duration::from_millis(100))).await;
        let mut stalled = TcpStream::connect(main.local_addr()).await.unwrap();
        stalled
            .write_all(b"GET /side/x HTTP/1.1\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stalled.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }

    /// The side connection is served on another thread's runtime, request
    /// after request on the one connection, while this runtime is blocked.
    #[tokio::test]
    async fn a_side_connection_is_served_on_another_runtime() {
        let (main, mut side) = split_gate(Some(Duration::from_secs(5))).await;
        let addr = main.local_addr();
        let server = std::thread::Builder::new()
            .name("side-test".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let (mut conn, _) = side.next().await;
                    for _ in 0..2 {
                        let head = head_of(&mut conn).await;
                        let name = std::thread::current().name().unwrap_or("").to_owned();
                        let body = format!("{name} {}", head.lines().next().unwrap_or(""));
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        conn.write_all(answer.as_bytes()).await.unwrap();
                    }
                })
            })
            .unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        use std::io::{Read, Write};
        client.write_all(b"GET /side/a HTTP/1.1\r\n\r\n").unwrap();
        // Let the gate on this runtime read the head and move the socket.
        tokio::time::sleep(Duration::from_millis(200)).await;
        // From now on this runtime is blocked: only the side one can answer.
        client.write_all(b"GET /side/b HTTP/1.1\r\n\r\n").unwrap();
        let mut answers = String::new();
        let mut buf = [0u8; 512];
        while answers.matches("200 OK").count() < 2 || !answers.ends_with("/side/b HTTP/1.1") {
            let n = client
                .read(&mut buf)
                .expect("answered while the main runtime is blocked");
            assert!(n > 0, "closed early: {answers}");
            answers.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        }
        assert!(
            answers.contains("side-test GET /side/a HTTP/1.1"),
            "{answers}"
        );
        assert!(
            answers.contains("side-test GET /side/b HTTP/1.1"),
            "{answers}"
        );
        server.join().unwrap();
    }

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
