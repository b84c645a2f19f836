//! Check 1: every frame of a cassette decodes with no unknown event and no loss.
//!
//! Two halves, both through the adapters' own code, found by the cassette's
//! dialect id in the registry: every JSON payload either side sent
//! round-trips through the dialect's wire type to an equal JSON value
//! ([`understudy_adapters::round_trip`], the check the adapters run on the
//! bundled cassettes), and every server frame decodes through the dialect's
//! codec with no error and no [`ModelEvent::Unrecognized`]. [`decode_events`]
//! keeps the decoded events with the index of the frame that produced them,
//! so the invariants can name the frame that broke one.

use super::wire::{describe, wire_frame};
use understudy_adapters::registry::DialectSpec;
use understudy_adapters::round_trip::{round_trip, RoundTripError};
use understudy_adapters::ModelEvent;
use understudy_fixtures::Cassette;

/// A normalised event and the index of the cassette frame it came from.
pub type Located = (usize, ModelEvent);

/// Round-trips every JSON payload of `cassette`; `Ok` with how many were
/// checked. A client payload the wire type rejects passes only where the
/// recording shows the service rejecting it too (its next server event is an
/// `error`): recordings of a provider refusing bad input are valid recordings.
pub fn check_lossless(cassette: &Cassette) -> Result<usize, String> {
    let dialect = &cassette.header.dialect;
    let mut checked = 0;
    for (index, frame) in cassette.frames.iter().enumerate() {
        for json in frame.json_payloads() {
            checked += 1;
            match round_trip(dialect, frame.is_client(), &json) {
                Ok(()) => {}
                Err(RoundTripError::Rejected(_))
                    if frame.is_client()
                        && cassette.next_server_event_type(index) == Some("error") => {}
                Err(why) => return Err(format!("{}: {why}", describe(index, frame))),
            }
        }
    }
    Ok(checked)
}

/// Decodes every server WebSocket frame through the dialect's codec; the
/// events with their frame indexes, or the first frame that did not decode or
/// decoded to an event the adapter does not know. `None` when the dialect has
/// no realtime codec (TTS and HTTP dialects).
pub fn decode_events(
    cassette: &Cassette,
    dialect: &DialectSpec,
) -> Option<Result<Vec<Located>, String>> {
    let mut codec = dialect.codec(&cassette.header.model)?;
    let mut events = Vec::new();
    for (index, frame) in cassette.frames.iter().enumerate() {
        if !frame.is_server() {
            continue;
        }
        let Some(wire) = wire_frame(frame) else {
            continue;
        };
        let decoded = match codec.decode(&wire) {
            Ok(decoded) => decoded,
            Err(e) => {
                return Some(Err(format!(
                    "{} does not decode: {e}",
                    describe(index, frame)
                )))
            }
        };
        for event in decoded {
            if let ModelEvent::Unrecognized { provider_type } = &event {
                return Some(Err(format!(
                    "{} decodes to an unknown event `{provider_type}`",
                    describe(index, frame)
                )));
            }
            events.push((index, event));
        }
    }
    Some(Ok(events))
}

#[cfg(test)]
mod tests {
    use super::{check_lossless, decode_events};
    use serde_json::json;
    use understudy_adapters::registry;
    use understudy_fixtures::{bundled, Cassette, Direction, Frame, Header, Origin};

    fn openai(frames: Vec<Frame>) -> Cassette {
        let mut cassette = Cassette::new(Header::new(
            "openai",
            "openai-ga",
            "gpt-realtime",
            Origin::Recorded,
        ));
        cassette.frames = frames;
        cassette
    }

    #[test]
    fn bundled_sessions_are_lossless_and_fully_known() {
        for name in [
            "openai/ga-tool-round-trip",
            "gemini/audio-turn",
            "dashscope/vad-turn",
        ] {
            let cassette = bundled::cassette(name).expect("bundled");
            assert!(check_lossless(&cassette).expect(name) > 0);
            let dialect = registry::dialect(&cassette.header.dialect).unwrap();
            let events = decode_events(&cassette, dialect)
                .expect("a codec")
                .expect(name);
            assert!(!events.is_empty(), "{name}");
        }
    }

    #[test]
    fn an_unknown_event_and_a_lossy_frame_are_named() {
        let s2c = Direction::ServerToClient;
        let unknown = openai(vec![Frame::text_json(
            5,
            s2c,
            json!({"type": "response.brand_new"}),
        )]);
        let dialect = registry::dialect("openai-ga").unwrap();
        let why = decode_events(&unknown, dialect).unwrap().unwrap_err();
        assert_eq!(
            why,
            "frame 0 (s2c response.brand_new) decodes to an unknown event `response.brand_new`"
        );
        let broken = openai(vec![Frame::text(5, s2c, "{not json")]);
        let why = decode_events(&broken, dialect).unwrap().unwrap_err();
        assert!(
            why.starts_with("frame 0 (s2c text) does not decode"),
            "{why}"
        );
        // A known event whose audio is not base64 does not survive the trip.
        let lossy = openai(vec![Frame::text_json(
            5,
            Direction::ClientToServer,
            json!({"type": "input_audio_buffer.append", "audio": 7}),
        )]);
        let why = check_lossless(&lossy).unwrap_err();
        assert!(
            why.starts_with("frame 0 (c2s input_audio_buffer.append)"),
            "{why}"
        );
    }
}
