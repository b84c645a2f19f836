//! The sans-IO codec interface every provider implements.
//!
//! A codec is plain data and pure functions: it turns normalised
//! [`ClientInput`]s into wire frames and wire frames into [`ModelEvent`]s,
//! keeping whatever small state the protocol needs (current response, sample
//! rate, tool names). It never touches a socket or a clock, so it can be tested
//! frame by frame and driven by any transport.

use crate::capabilities::Capabilities;
use crate::event::ModelEvent;
use crate::input::ClientInput;

/// One WebSocket message, transport-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireFrame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A close frame.
    Close {
        /// Close code, if the peer sent one.
        code: Option<u16>,
        /// Close reason (may be empty).
        reason: String,
    },
}

/// Why a server frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The frame is not valid JSON, or not the shape of any known event.
    #[error("frame is not a valid event: {source}")]
    Json {
        /// The parser's complaint.
        #[from]
        source: serde_json::Error,
    },
    /// An audio payload is not valid base64.
    #[error("`{event_type}` carries audio that is not valid base64: {source}")]
    Base64 {
        /// The event that carried it.
        event_type: String,
        /// The decoder's complaint.
        source: base64::DecodeError,
    },
    /// A binary frame arrived where the protocol uses text, and it is not UTF-8 JSON.
    #[error("binary frame is not UTF-8 text")]
    NotUtf8,
}

/// Why an input cannot be sent to this provider.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The dialect cannot take this kind of input (see its capabilities).
    #[error("{dialect} does not support {input}")]
    Unsupported {
        /// Which input.
        input: &'static str,
        /// Which dialect refused it.
        dialect: String,
    },
    /// Audio at a sample rate the session does not take.
    #[error("audio at {got} Hz, but the session takes {expected} Hz")]
    SampleRate {
        /// The session's input rate.
        expected: u32,
        /// The rate given.
        got: u32,
    },
    /// Serialising the frame failed.
    #[error("could not serialise the frame: {0}")]
    Json(#[from] serde_json::Error),
}

/// A provider protocol as a sans-IO state machine.
pub trait RealtimeCodec: Send {
    /// What the dialect supports.
    fn capabilities(&self) -> Capabilities;
    /// Turns one normalised input into the frames to send.
    fn encode(&mut self, input: &ClientInput) -> Result<Vec<WireFrame>, EncodeError>;
    /// Turns one received frame into normalised events.
    fn decode(&mut self, frame: &WireFrame) -> Result<Vec<ModelEvent>, DecodeError>;
}
