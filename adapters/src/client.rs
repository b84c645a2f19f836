//! A realtime client over tokio-tungstenite for any [`RealtimeCodec`].
//!
//! The client is a thin transport: it opens the WebSocket, encodes inputs with
//! the codec and sends them, and runs one reader task that decodes every frame
//! into [`ModelEvent`]s stamped with the instant the frame arrived. A frame the
//! codec cannot decode becomes a non-fatal `Error` event (never dropped
//! silently); the end of the socket becomes exactly one `SessionEnded`.
//! [`open_socket`] and the frame conversions are shared with the Qwen-TTS
//! engine's transport, which drives its own codec the same way.

use crate::capabilities::Capabilities;
use crate::codec::{EncodeError, RealtimeCodec, WireFrame};
use crate::event::{ErrorInfo, ModelEvent};
use crate::input::ClientInput;
use crate::tls::{TlsError, TlsTrust};
use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// A client WebSocket, plain or TLS.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the WebSocket `request` describes, trusting `trust` for `wss://`.
/// Every WebSocket adapter (realtime and TTS) connects through here, so they
/// report refusals the same way.
pub async fn open_socket(
    request: http::Request<()>,
    trust: &TlsTrust,
) -> Result<Socket, ClientError> {
    open_socket_with_response(request, trust)
        .await
        .map(|(socket, _)| socket)
}

/// [`open_socket`], also returning the server's handshake response (its
/// status and headers), for callers that record the exchange.
pub async fn open_socket_with_response(
    request: http::Request<()>,
    trust: &TlsTrust,
) -> Result<(Socket, http::Response<Option<Vec<u8>>>), ClientError> {
    let url = request.uri().to_string();
    let connector = match request.uri().scheme_str() {
        Some("wss") => Some(Connector::Rustls(trust.client_config()?)),
        _ => None,
    };
    // Realtime frames are small and latency-bound: Nagle off (`disable_nagle`).
    tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector)
        .await
        .map_err(|source| match source {
            tungstenite::Error::Http(response) => ClientError::Rejected {
                url: url.clone(),
                status: response.status().as_u16(),
            },
            source => ClientError::Connect {
                url: url.clone(),
                source: Box::new(source),
            },
        })
}
type SharedCodec = Arc<Mutex<Box<dyn RealtimeCodec>>>;

/// How many decoded events may wait for the consumer before the reader pauses.
const EVENT_QUEUE: usize = 4096;

/// Errors of the realtime client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL or a header could not be used to build the handshake.
    #[error("invalid connection request: {0}")]
    InvalidRequest(String),
    /// The server refused the WebSocket upgrade with an HTTP status.
    #[error("{url}: server refused the WebSocket upgrade with HTTP {status}")]
    Rejected {
        /// The URL dialled.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The connection could not be made.
    #[error("{url}: could not connect: {source}")]
    Connect {
        /// The URL dialled.
        url: String,
        /// The transport's complaint.
        source: Box<tungstenite::Error>,
    },
    /// A `wss://` connection could not be configured.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The input cannot be encoded for this provider.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Sending on the socket failed (usually: the session is over).
    #[error("could not send: {0}")]
    Send(Box<tungstenite::Error>),
}

/// Which way a tapped frame travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapDirection {
    /// Client to server.
    Sent,
    /// Server to client.
    Received,
}

/// One raw frame seen by the client, with when it was seen.
#[derive(Debug, Clone)]
pub struct TappedFrame {
    /// When it was sent or read.
    pub at: Instant,
    /// Which way it went.
    pub direction: TapDirection,
    /// The frame.
    pub frame: WireFrame,
}

/// A shared log of every raw frame a client sends and receives: the wire
/// transcript kept as conformance evidence and used to synthesize cassettes.
pub type FrameTap = Arc<Mutex<Vec<TappedFrame>>>;

pub(crate) fn tap_push(tap: &Option<FrameTap>, direction: TapDirection, frame: &WireFrame) {
    if let Some(tap) = tap {
        tap.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(TappedFrame {
                at: Instant::now(),
                direction,
                frame: frame.clone(),
            });
    }
}

/// A normalised event with the instants the client saw it.
#[derive(Debug, Clone)]
pub struct TimedEvent {
    /// When the frame carrying the event was read off the socket.
    pub received_at: Instant,
    /// When the codec had turned it into this event (`decoded_at - received_at`
    /// is what the adapter adds).
    pub decoded_at: Instant,
    /// The event.
    pub event: ModelEvent,
}

/// A connected realtime session.
pub struct RealtimeClient {
    sink: SplitSink<Socket, Message>,
    codec: SharedCodec,
    events: mpsc::Receiver<TimedEvent>,
    reader: JoinHandle<()>,
    capabilities: Capabilities,
    tap: Option<FrameTap>,
}

impl std::fmt::Debug for RealtimeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeClient")
            .field("dialect", &self.capabilities.dialect)
            .finish_non_exhaustive()
    }
}

impl RealtimeClient {
    /// Opens the WebSocket described by `request` and starts decoding with `codec`.
    pub async fn connect(
        request: http::Request<()>,
        codec: Box<dyn RealtimeCodec>,
    ) -> Result<Self, ClientError> {
        Self::connect_with_tap(request, codec, None).await
    }

    /// Like [`RealtimeClient::connect`], also logging every raw frame to `tap`.
    pub async fn connect_with_tap(
        request: http::Request<()>,
        codec: Box<dyn RealtimeCodec>,
        tap: Option<FrameTap>,
    ) -> Result<Self, ClientError> {
        Self::connect_trusting(request, codec, tap, &TlsTrust::System).await
    }

    /// Like [`RealtimeClient::connect_with_tap`], trusting `trust` for `wss://`
    /// URLs (a mock's generated CA, or the system roots for real providers).
    pub async fn connect_trusting(
        request: http::Request<()>,
        codec: Box<dyn RealtimeCodec>,
        tap: Option<FrameTap>,
        trust: &TlsTrust,
    ) -> Result<Self, ClientError> {
        let url = request.uri().to_string();
        let socket = open_socket(request, trust).await?;
        tracing::debug!(%url, "realtime session connected");
        let capabilities = codec.capabilities();
        let codec: SharedCodec = Arc::new(Mutex::new(codec));
        let (sink, stream) = socket.split();
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let reader = tokio::spawn(read_loop(stream, Arc::clone(&codec), tx, tap.clone()));
        Ok(RealtimeClient {
            sink,
            codec,
            events,
            reader,
            capabilities,
            tap,
        })
    }

    /// What the connected dialect supports.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Encodes and sends one input.
    pub async fn send(&mut self, input: &ClientInput) -> Result<(), ClientError> {
        let frames = self
            .codec
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .encode(input)?;
        for frame in frames {
            self.send_frame(frame).await?;
        }
        Ok(())
    }

    /// Sends a raw frame, bypassing the codec (for probing servers with bad input).
    pub async fn send_frame(&mut self, frame: WireFrame) -> Result<(), ClientError> {
        tap_push(&self.tap, TapDirection::Sent, &frame);
        self.sink
            .send(message_of(frame))
            .await
            .map_err(|e| ClientError::Send(Box::new(e)))
    }

    /// The next event with the instants its frame arrived and was decoded,
    /// or `None` once the session has ended and all events were read. This
    /// is the primary way to read a session: whoever measures latency (the
    /// agent, conformance) measures from when the frame arrived, not from
    /// when it got round to reading the event.
    pub async fn next_timed(&mut self) -> Option<TimedEvent> {
        self.events.recv().await
    }

    /// [`RealtimeClient::next_timed`] without the instants, for callers that
    /// measure nothing.
    pub async fn next_event(&mut self) -> Option<ModelEvent> {
        self.next_timed().await.map(|timed| timed.event)
    }

    /// Closes the session politely (close code 1000) and stops the reader.
    pub async fn close(mut self) -> Result<(), ClientError> {
        let result = self
            .sink
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "client closed".into(),
            })))
            .await;
        self.reader.abort();
        match result {
            Ok(()) | Err(tungstenite::Error::ConnectionClosed) => Ok(()),
            Err(tungstenite::Error::AlreadyClosed) => Ok(()),
            Err(e) => Err(ClientError::Send(Box::new(e))),
        }
    }
}

impl Drop for RealtimeClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read_loop(
    mut stream: futures_util::stream::SplitStream<Socket>,
    codec: SharedCodec,
    tx: mpsc::Sender<TimedEvent>,
    tap: Option<FrameTap>,
) {
    let mut ended = false;
    while let Some(message) = stream.next().await {
        let received_at = Instant::now();
        let frame = match message.map(frame_of) {
            Ok(Some(frame)) => frame,
            Ok(None) => continue,
            Err(error) => {
                tracing::debug!(%error, "realtime socket failed");
                let _ = tx
                    .send(timed(
                        received_at,
                        ModelEvent::SessionEnded {
                            reason: format!("connection lost: {error}"),
                            close_code: None,
                        },
                    ))
                    .await;
                ended = true;
                break;
            }
        };
        tap_push(&tap, TapDirection::Received, &frame);
        let is_close = matches!(frame, WireFrame::Close { .. });
        let decoded = codec
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .decode(&frame);
        let events = decoded.unwrap_or_else(|error| {
            tracing::warn!(%error, "undecodable frame from provider");
            vec![ModelEvent::Error(ErrorInfo {
                code: "undecodable_frame".into(),
                message: error.to_string(),
                fatal: false,
                ..ErrorInfo::default()
            })]
        });
        for event in events {
            if tx.send(timed(received_at, event)).await.is_err() {
                return;
            }
        }
        if is_close {
            ended = true;
            break;
        }
    }
    if !ended {
        let _ = tx
            .send(timed(
                Instant::now(),
                ModelEvent::SessionEnded {
                    reason: "connection closed without a close frame".into(),
                    close_code: None,
                },
            ))
            .await;
    }
}

/// A WebSocket message as the frame a codec reads; `None` for the control
/// frames (ping, pong) that tungstenite answers itself.
pub fn frame_of(message: Message) -> Option<WireFrame> {
    match message {
        Message::Text(text) => Some(WireFrame::Text(text.to_string())),
        Message::Binary(bytes) => Some(WireFrame::Binary(bytes.to_vec())),
        Message::Close(close) => Some(WireFrame::Close {
            code: close.as_ref().map(|c| u16::from(c.code)),
            reason: close.map(|c| c.reason.to_string()).unwrap_or_default(),
        }),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
    }
}

/// A codec's frame as the WebSocket message that carries it.
pub fn message_of(frame: WireFrame) -> Message {
    match frame {
        WireFrame::Text(text) => Message::Text(text.into()),
        WireFrame::Binary(bytes) => Message::Binary(bytes.into()),
        WireFrame::Close { code, reason } => Message::Close(code.map(|code| CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })),
    }
}

fn timed(received_at: Instant, event: ModelEvent) -> TimedEvent {
    TimedEvent {
        received_at,
        decoded_at: Instant::now(),
        event,
    }
}
