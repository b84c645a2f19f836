//! Check 3: the recording's own client frames, replayed against our replay
//! mock serving the cassette, get every recorded server frame back, in order.
//!
//! The mock is started for the one cassette; [`resend`] sends the client
//! side as the recording paced it; [`compare_server_frames`] walks the
//! recorded server frames and the ones that came back side by side and names
//! the first recorded frame that did not come back as recorded.

use super::resend::{resend, ResendOptions};
use super::wire::{describe, wire_frame};
use understudy_fixtures::{Cassette, Frame, FrameBody, HttpResponse};
use understudy_mock::MockServer;

/// A fresh replay mock serving `cassette` (called `name`) at `speed`, as it
/// was recorded: a session of the retired OpenAI Realtime beta included (the
/// mock's legacy-beta mode; without it a beta session is refused as the
/// service refuses it today, which is not what the recording shows).
pub async fn replay_mock(name: &str, cassette: Cassette, speed: f64) -> Result<MockServer, String> {
    MockServer::builder()
        .replay(&[(name.to_owned(), cassette)])
        .map_err(|e| format!("the replay mock refused the cassette: {e}"))?
        .speed(speed)
        .legacy_beta()
        .start()
        .await
        .map_err(|e| format!("the replay mock did not start: {e}"))
}

/// Replays `cassette` (called `name`) against a fresh [`replay_mock`] at
/// `speed` and returns what came back.
pub async fn replay_against_mock(
    name: &str,
    cassette: &Cassette,
    speed: f64,
) -> Result<Cassette, String> {
    let server = replay_mock(name, cassette.clone(), speed).await?;
    let options = ResendOptions {
        cassette_choice: Some(name.to_owned()),
        speed,
        ..ResendOptions::default()
    };
    let again = resend(cassette, &server.url(), &options)
        .await
        .map_err(|e| e.to_string());
    server.shutdown().await;
    again
}

/// The server frames of a cassette that carry the session (WebSocket
/// messages and closes, or an HTTP answer's body), with their indexes.
fn server_frames(cassette: &Cassette) -> Vec<(usize, &Frame)> {
    cassette
        .frames
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_server())
        .filter(|(_, f)| wire_frame(f).is_some() || is_answer(f))
        .collect()
}

/// An HTTP response that is a plain call's answer (not a WebSocket upgrade).
fn is_answer(frame: &Frame) -> bool {
    matches!(&frame.body, FrameBody::HttpResponse(r) if r.status != 101)
}

/// The bytes of an HTTP answer, whether it came whole or in chunks.
fn answer_bytes(response: &HttpResponse) -> Vec<u8> {
    use understudy_fixtures::{ChunkData, HttpBody};
    let mut bytes = match &response.body {
        Some(HttpBody::Json(json)) => json.to_string().into_bytes(),
        Some(HttpBody::Text(text)) => text.clone().into_bytes(),
        Some(HttpBody::Bytes(b)) => b.clone(),
        None => Vec::new(),
    };
    for chunk in &response.chunks {
        match &chunk.data {
            ChunkData::Text(text) => bytes.extend_from_slice(text.as_bytes()),
            ChunkData::Bytes(b) => bytes.extend_from_slice(b),
        }
    }
    bytes
}

/// Whether two server frames carry the same thing (HTTP answers: the same
/// status and body bytes, however they were chunked).
fn same(recorded: &Frame, got: &Frame) -> bool {
    match (&recorded.body, &got.body) {
        (FrameBody::HttpResponse(a), FrameBody::HttpResponse(b)) => {
            a.status == b.status && answer_bytes(a) == answer_bytes(b)
        }
        (a, b) => a == b,
    }
}

/// `Ok` with how many frames matched when every recorded server frame came
/// back in order and nothing else did; else which recorded frame did not.
pub fn compare_server_frames(recorded: &Cassette, got: &Cassette) -> Result<usize, String> {
    let want = server_frames(recorded);
    let have = server_frames(got);
    for (n, (index, frame)) in want.iter().enumerate() {
        match have.get(n) {
            None => {
                return Err(format!(
                    "recorded {} was not delivered: only {} of {} server frames came back",
                    describe(*index, frame),
                    have.len(),
                    want.len()
                ))
            }
            Some((_, back)) if !same(frame, back) => {
                let later = have[n..].iter().position(|(_, b)| same(frame, b));
                let how = match later {
                    Some(k) => format!("it came {k} frames late"),
                    None => "it never came".into(),
                };
                return Err(format!(
                    "recorded {} was not delivered in order: server frame #{n} back was {} ({how})",
                    describe(*index, frame),
                    super::wire::event_name(back)
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((_, extra)) = have.get(want.len()) {
        return Err(format!(
            "{} extra server frames came back after the recorded {}, the first {}",
            have.len() - want.len(),
            want.len(),
            super::wire::event_name(extra)
        ));
    }
    Ok(want.len())
}

#[cfg(test)]
mod tests {
    use super::{compare_server_frames, replay_against_mock};
    use serde_json::json;
    use understudy_fixtures::{bundled, Cassette, Direction, Frame, Header, Origin};

    fn session(server: &[&str]) -> Cassette {
        let mut cassette = Cassette::new(Header::new("openai", "openai-ga", "m", Origin::Recorded));
        cassette.frames.push(Frame::text_json(
            1,
            Direction::ClientToServer,
            json!({"type": "response.create"}),
        ));
        for (i, kind) in server.iter().enumerate() {
            cassette.frames.push(Frame::text_json(
                10 + i as u64,
                Direction::ServerToClient,
                json!({"type": kind}),
            ));
        }
        cassette
    }

    #[test]
    fn a_dropped_or_reordered_frame_is_named() {
        let recorded = session(&["response.created", "response.text.delta", "response.done"]);
        assert_eq!(compare_server_frames(&recorded, &recorded), Ok(3));
        let dropped = session(&["response.created", "response.done"]);
        let why = compare_server_frames(&recorded, &dropped).unwrap_err();
        assert!(why.contains("frame 2 (s2c response.text.delta)"), "{why}");
        assert!(why.contains("never came"), "{why}");
        let reordered = session(&["response.text.delta", "response.created", "response.done"]);
        let why = compare_server_frames(&recorded, &reordered).unwrap_err();
        assert!(why.contains("frame 1 (s2c response.created)"), "{why}");
        assert!(why.contains("1 frames late"), "{why}");
    }

    #[tokio::test]
    async fn a_bundled_session_replays_every_server_frame_in_order() {
        for name in [
            "openai/ga-tool-round-trip",
            "gemini/text-turn",
            "openai/speech-pcm",
        ] {
            let cassette = bundled::cassette(name).expect("bundled");
            let again = replay_against_mock(name, &cassette, 4.0)
                .await
                .expect("replayed");
            let matched = compare_server_frames(&cassette, &again)
                .unwrap_or_else(|why| panic!("{name}: {why}"));
            assert!(matched > 0, "{name}: nothing compared");
        }
    }
}
