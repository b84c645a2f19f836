//! Socket settings every listener of ours applies to what it accepts.
//!
//! Realtime frames are small and latency-bound. With Nagle's algorithm on, a
//! frame written while an earlier one is still unacknowledged waits for the
//! peer's (often delayed) ACK: ~40 ms stalls on the first deltas of a
//! response and a ~20 ms floor under every paced stream. So every socket the
//! mock, the recorder and the agent server accept has `TCP_NODELAY` set, and
//! the TLS listener ([`crate::tls::TlsListener`]) sets it before its
//! handshake.

use axum::serve::{Listener, ListenerExt as _};
use tokio::net::{TcpListener, TcpStream};

/// `listener`, with `TCP_NODELAY` set on every connection it accepts.
///
/// A socket that refuses the option is served anyway (the setting is a
/// latency optimisation, not a correctness one); the failure is logged.
pub fn low_latency(
    listener: TcpListener,
) -> impl Listener<Io = TcpStream, Addr = std::net::SocketAddr> {
    listener.tap_io(set_no_delay)
}

/// Sets `TCP_NODELAY` on `tcp`, logging (not failing) when the OS refuses.
pub(crate) fn set_no_delay(tcp: &mut TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY on an accepted socket");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_sockets_have_nagle_off() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = tcp.local_addr().expect("addr");
        // The OS default is Nagle on: the wrapper is what turns it off.
        let client = TcpStream::connect(addr).await.expect("connect");
        let (plain, _) = tcp.accept().await.expect("accept");
        assert!(!plain.nodelay().expect("nodelay"), "OS default changed?");
        drop((client, plain));

        let mut listener = low_latency(tcp);
        let _client = TcpStream::connect(addr).await.expect("connect");
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().expect("nodelay"));
    }
}
