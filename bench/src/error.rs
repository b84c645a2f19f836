//! The bench's one error type: every failure keeps its cause, so a run that
//! stops says which step failed and why.

/// Why a benchmark step failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The in-process mock could not start.
    #[error("could not start the in-process mock: {0}")]
    Mock(#[from] understudy_mock::MockError),
    /// A realtime session could not be opened or used.
    #[error("realtime client: {0}")]
    Client(#[from] understudy_adapters::ClientError),
    /// A WebSocket read or write failed.
    #[error("websocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    /// A client input could not be encoded for the dialect.
    #[error("encoding a client frame: {0}")]
    Encode(#[from] understudy_adapters::EncodeError),
    /// An HTTP request to the server's inspector failed.
    #[error("GET {url}: {source}")]
    Http {
        /// The URL asked for.
        url: String,
        /// Why it failed.
        source: reqwest::Error,
    },
    /// The server answered something a session did not expect.
    #[error("session: {0}")]
    Protocol(String),
    /// A file or `/proc` read failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The synthesized cassette could not be built or written.
    #[error("cassette: {0}")]
    Cassette(#[from] understudy_fixtures::CassetteError),
    /// A benchmark task panicked or was cancelled.
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The options do not make a runnable benchmark.
    #[error("{0}")]
    Usage(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for BenchError {
    /// Boxed: the WebSocket error is large and every result carries the enum.
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        BenchError::Ws(Box::new(error))
    }
}

/// Shorthand for results of the bench.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
