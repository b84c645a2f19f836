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

/// Serialises each event as one JSON text frame: how every JSON-over-WebSocket
/// protocol's [`RealtimeCodec::encode`] ends, once its encoder has built the
/// events.
pub fn json_text_frames<T: serde::Serialize>(events: &[T]) -> Result<Vec<WireFrame>, EncodeError> {
    events
        .iter()
        .map(|event| Ok(WireFrame::Text(serde_json::to_string(event)?)))
        .collect()
}

/// Routes one received frame to a JSON protocol's decoder: a text frame as
/// is, a binary frame as UTF-8 text (the hosted Gemini service sends its JSON
/// in binary frames; the other services may), a close frame to `close`.
/// Every JSON protocol's [`RealtimeCodec::decode`] is this with its own
/// decoder's `decode_text` and `decode_close`.
pub fn decode_json_frame<D>(
    decoder: &mut D,
    frame: &WireFrame,
    text: fn(&mut D, &str) -> Result<Vec<ModelEvent>, DecodeError>,
    close: fn(&mut D, Option<u16>, &str) -> Vec<ModelEvent>,
) -> Result<Vec<ModelEvent>, DecodeError> {
    match frame {
        WireFrame::Text(body) => text(decoder, body),
        WireFrame::Binary(bytes) => {
            let body = std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)?;
            text(decoder, body)
        }
        WireFrame::Close { code, reason } => Ok(close(decoder, *code, reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what the routing hands it.
    #[derive(Default)]
    struct Seen(Vec<String>);

    fn text(seen: &mut Seen, body: &str) -> Result<Vec<ModelEvent>, DecodeError> {
        seen.0.push(format!("text {body}"));
        Ok(vec![])
    }

    fn close(seen: &mut Seen, code: Option<u16>, reason: &str) -> Vec<ModelEvent> {
        seen.0.push(format!("close {code:?} {reason}"));
        vec![]
    }

    #[test]
    fn frames_route_by_kind_and_binary_must_be_utf8() {
        let mut seen = Seen::default();
        let frames = [
            WireFrame::Text("{}".into()),
            WireFrame::Binary(b"[1]".to_vec()),
            WireFrame::Close {
                code: Some(1000),
                reason: "bye".into(),
            },
        ];
        for frame in &frames {
            decode_json_frame(&mut seen, frame, text, close).unwrap();
        }
        assert_eq!(seen.0, ["text {}", "text [1]", "close Some(1000) bye"]);
        let bad = decode_json_frame(&mut seen, &WireFrame::Binary(vec![0xff]), text, close);
        assert!(matches!(bad, Err(DecodeError::NotUtf8)));
    }

    #[test]
    fn each_event_becomes_one_text_frame() {
        let frames = json_text_frames(&[serde_json::json!({"a": 1}), serde_json::json!("b")]);
        assert_eq!(
            frames.unwrap(),
            [
                WireFrame::Text(r#"{"a":1}"#.into()),
                WireFrame::Text(r#""b""#.into())
            ]
        );
    }
}
