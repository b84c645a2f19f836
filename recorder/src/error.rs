//! What can stop the recorder from starting.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a recorder could not start.
#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    /// The upstream URL is not one the recorder can forward to.
    #[error("upstream {url:?} is not usable: {reason}")]
    Upstream {
        /// The URL as given (credentials in it are not shown).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The trust anchors for a TLS upstream could not be loaded.
    #[error("cannot set up TLS for the upstream: {0}")]
    Tls(#[from] understudy_adapters::tls::TlsError),
    /// The HTTP client for the upstream could not be built.
    #[error("cannot build the upstream HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The output folder could not be created.
    #[error("cannot create the output folder {path}: {source}")]
    OutDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The local TLS listener could not be set up.
    #[error("cannot set up the local TLS listener: {0}")]
    LocalTls(#[from] understudy_mock::tls::TlsError),
}
