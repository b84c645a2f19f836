//! Between a cassette's frames and the frames a socket or a codec sees.
//!
//! A cassette keeps JSON payloads parsed ([`FrameBody`]); sockets and codecs
//! speak [`WireFrame`]s. These two functions are the only place the
//! cassette cases cross between the two, so resending a cassette and decoding
//! it agree on what each recorded frame was on the wire.

use understudy_adapters::WireFrame;
use understudy_fixtures::{BinaryPayload, CloseFrame, Frame, FrameBody, TextPayload};

/// The wire frame a recorded WebSocket frame was; `None` for the HTTP frames
/// around it (the upgrade request, the response).
pub fn wire_frame(frame: &Frame) -> Option<WireFrame> {
    Some(match &frame.body {
        FrameBody::Text(TextPayload::Json(json)) => WireFrame::Text(json.to_string()),
        FrameBody::Text(TextPayload::Raw(text)) => WireFrame::Text(text.clone()),
        FrameBody::Binary(BinaryPayload::Json(json)) => {
            WireFrame::Binary(json.to_string().into_bytes())
        }
        FrameBody::Binary(BinaryPayload::Bytes(bytes)) => WireFrame::Binary(bytes.clone()),
        FrameBody::Close(close) => WireFrame::Close {
            code: close.as_ref().map(|c| c.code),
            reason: close.as_ref().map(|c| c.reason.clone()).unwrap_or_default(),
        },
        FrameBody::HttpRequest(_) | FrameBody::HttpResponse(_) => return None,
    })
}

/// The cassette form of a wire frame (JSON kept parsed, as the recorder writes it).
pub fn frame_body(frame: WireFrame) -> FrameBody {
    match frame {
        WireFrame::Text(text) => FrameBody::from_ws_text(text),
        WireFrame::Binary(bytes) => FrameBody::from_ws_binary(bytes),
        WireFrame::Close { code, reason } => {
            FrameBody::Close(code.map(|code| CloseFrame { code, reason }))
        }
    }
}

/// How a report names a cassette frame: its index in the cassette, its
/// direction and its event type (`frame 12 (s2c response.done)`). The event
/// type is the payload's `type`, else its first key (Gemini's
/// `serverContent`), else the frame's kind.
pub fn describe(index: usize, frame: &Frame) -> String {
    let dir = if frame.is_client() { "c2s" } else { "s2c" };
    format!("frame {index} ({dir} {})", event_name(frame))
}

/// The event type of a frame, as [`describe`] names it.
pub fn event_name(frame: &Frame) -> String {
    if let Some(kind) = frame.event_type() {
        return kind.to_owned();
    }
    match frame.json() {
        Some(serde_json::Value::Object(map)) => {
            map.keys().next().cloned().unwrap_or_else(|| "{}".into())
        }
        _ => frame.body.kind().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{describe, frame_body, wire_frame};
    use serde_json::json;
    use understudy_fixtures::{Direction, Frame};

    #[test]
    fn websocket_frames_survive_the_trip_to_the_wire_and_back() {
        let frames = [
            Frame::text_json(1, Direction::ClientToServer, json!({"type": "a", "n": 1})),
            Frame::text(2, Direction::ServerToClient, "not json"),
            Frame::binary_json(3, Direction::ServerToClient, json!({"setupComplete": {}})),
            Frame::binary(4, Direction::ServerToClient, vec![0, 1, 2]),
            Frame::close(5, Direction::ServerToClient, 1011, "boom"),
        ];
        for frame in frames {
            let wire = wire_frame(&frame).expect("a WebSocket frame");
            assert_eq!(frame_body(wire), frame.body);
        }
    }

    #[test]
    fn frames_are_named_by_index_direction_and_event_type() {
        let typed = Frame::text_json(
            1,
            Direction::ServerToClient,
            json!({"type": "response.done"}),
        );
        assert_eq!(describe(7, &typed), "frame 7 (s2c response.done)");
        let gemini = Frame::binary_json(1, Direction::ServerToClient, json!({"serverContent": {}}));
        assert_eq!(describe(2, &gemini), "frame 2 (s2c serverContent)");
        let close = Frame::close(1, Direction::ClientToServer, 1000, "");
        assert_eq!(describe(3, &close), "frame 3 (c2s close)");
    }
}
