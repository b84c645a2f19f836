//! TLS for the mock: the official Gemini SDK always connects with `wss://`.
//!
//! At start a throwaway certificate authority is generated, and a server
//! certificate for `127.0.0.1`, `::1` and `localhost` signed by it. Clients
//! trust the CA (its PEM is what `serve --ca-file` writes; Python SDKs read it
//! from `SSL_CERT_FILE`). Handshakes run in their own tasks, so a client that
//! stalls mid-handshake holds up nobody else.

use axum::serve::Listener;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use understudy_adapters::serve_limits::{read_head, Rewind};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Generating the certificates failed.
    #[error("could not generate the mock's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("could not configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// A generated CA and the server configuration it signs for.
#[derive(Clone)]
pub struct TlsIdentity {
    ca_pem: String,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Generates a fresh CA and a server certificate for the loopback names.
    pub fn generate() -> Result<Self, TlsError> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "understudy mock CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;
        let mut leaf = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
            "localhost".to_owned(),
        ])?;
        leaf.distinguished_name
            .push(DnType::CommonName, "understudy mock");
        let leaf_key = KeyPair::generate()?;
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key)?;
        let chain = vec![
            CertificateDer::from(leaf_cert.der().to_vec()),
            CertificateDer::from(ca_cert.der().to_vec()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(
            understudy_adapters::tls::crypto_provider(),
        )
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            ca_pem: ca_cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The CA certificate clients must trust, PEM-encoded.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

/// A TCP listener that hands axum TLS connections.
///
/// With a header timeout ([`TlsListener::with_header_timeout`]) the
/// handshake and the first request's head must both complete within it: a
/// stalled handshake is dropped, a stalled head answered `408` (see
/// [`understudy_adapters::serve_limits::head`]).
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(Rewind<TlsStream<TcpStream>>, SocketAddr)>,
}

impl TlsListener {
    /// Accepts on `tcp` and completes handshakes with `identity` in the
    /// background, without any deadline.
    pub fn new(tcp: TcpListener, identity: &TlsIdentity) -> io::Result<Self> {
        Self::with_header_timeout(tcp, identity, None)
    }

    /// As [`TlsListener::new`], with the handshake and the first request's
    /// head bounded by `header` (each from the connection's accept).
    pub fn with_header_timeout(
        tcp: TcpListener,
        identity: &TlsIdentity,
        header: Option<Duration>,
    ) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = identity.acceptor.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "TLS listener accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                crate::net::set_no_delay(&mut stream);
                let acceptor = acceptor.clone();
                let handshake_tx = tx.clone();
                tokio::spawn(async move {
                    let started = tokio::time::Instant::now();
                    let handshake = acceptor.accept(stream);
                    let tls = match header {
                        Some(limit) => match tokio::time::timeout(limit, handshake).await {
                            Ok(done) => done,
                            Err(_) => {
                                tracing::info!(%peer, ?limit, "TLS handshake timed out");
                                return;
                            }
                        },
                        None => handshake.await,
                    };
                    let tls = match tls {
                        Ok(tls) => tls,
                        Err(error) => {
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                            return;
                        }
                    };
                    let left = header.map(|limit| limit.saturating_sub(started.elapsed()));
                    match read_head(tls, left).await {
                        Ok(rewound) => {
                            let _ = handshake_tx.send((rewound, peer)).await;
                        }
                        Err(error) => tracing::info!(%error, %peer, "TLS connection dropped"),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl Listener for TlsListener {
    type Io = Rewind<TlsStream<TcpStream>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The acceptor task only ends when nobody listens any more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
