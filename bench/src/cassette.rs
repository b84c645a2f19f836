//! The replay benchmark's cassette, synthesized in memory through the
//! fixtures crate's types (so no large fixture is committed): an OpenAI GA
//! session whose one turn (`response.create`) is answered by
//! `response.created`, N audio deltas of M PCM bytes and `response.done`, all
//! due at once — the server sends them as fast as it can.

use base64::Engine as _;
use serde_json::json;
use understudy_fixtures::{Cassette, Direction, Frame, Header, Origin};

/// The cassette's name (a client asks for it with `?cassette=`; written as
/// `<dir>/bench-throughput.jsonl` for an external `serve --cassettes <dir>`).
pub const NAME: &str = "bench-throughput";

/// The session's one turn: the instant (µs) of the client's `response.create`;
/// every answer is recorded at the same instant.
const TURN_US: u64 = 1_000;

/// PCM16 bytes of a quiet 440 Hz tone at 24 kHz (not zeros, so nothing can
/// compress or skip them).
fn pcm(bytes: usize) -> Vec<u8> {
    (0..bytes / 2)
        .flat_map(|i| {
            let t = i as f64 / 24_000.0;
            let s = ((t * 440.0 * std::f64::consts::TAU).sin() * 3_000.0) as i16;
            s.to_le_bytes()
        })
        .collect()
}

/// The cassette: `deltas` audio deltas of `delta_bytes` PCM bytes each.
pub fn throughput(deltas: usize, delta_bytes: usize) -> Cassette {
    let mut cassette = Cassette::new(
        Header::new("openai", crate::client::DIALECT, crate::client::MODEL, Origin::Synthesized)
            .with_description(format!(
                "understudy-bench replay-throughput: one response of {deltas} audio deltas of {delta_bytes} PCM bytes, all due at once"
            )),
    );
    let s2c = |value| Frame::text_json(TURN_US, Direction::ServerToClient, value);
    cassette.frames.push(Frame::text_json(
        0,
        Direction::ServerToClient,
        json!({"type":"session.created","event_id":"event_bench_0","session":{"type":"realtime","object":"realtime.session","id":"sess_bench","model":crate::client::MODEL}}),
    ));
    cassette.frames.push(Frame::text_json(
        TURN_US,
        Direction::ClientToServer,
        json!({"type":"response.create"}),
    ));
    cassette.frames.push(s2c(json!({"type":"response.created","event_id":"event_bench_1","response":{"object":"realtime.response","id":"resp_bench","status":"in_progress","output":[]}})));
    let audio = base64::engine::general_purpose::STANDARD.encode(pcm(delta_bytes));
    for i in 0..deltas {
        cassette.frames.push(s2c(json!({
            "type":"response.output_audio.delta",
            "event_id":format!("event_bench_d{i}"),
            "response_id":"resp_bench",
            "item_id":"item_bench",
            "output_index":0,
            "content_index":0,
            "delta":audio,
        })));
    }
    cassette.frames.push(s2c(json!({"type":"response.done","event_id":"event_bench_2","response":{"object":"realtime.response","id":"resp_bench","status":"completed","output":[]}})));
    cassette
}

/// The cassette's server frames as text: the greeting, then the answer to
/// the turn (what the no-logic baseline sends).
pub fn server_frames(cassette: &Cassette) -> (String, Vec<String>) {
    let mut texts = cassette
        .frames
        .iter()
        .filter(|f| f.dir == Direction::ServerToClient)
        .filter_map(|f| f.json().map(|v| v.to_string()));
    let greeting = texts.next().unwrap_or_default();
    (greeting, texts.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_of_deltas_with_a_greeting() {
        let c = throughput(7, 960);
        let (greeting, answer) = server_frames(&c);
        assert!(greeting.contains("session.created"));
        assert_eq!(answer.len(), 7 + 2);
        assert!(answer[0].contains("response.created"));
        assert!(answer[8].contains("response.done"));
        // 960 bytes of PCM are 1,280 base64 characters.
        let v: serde_json::Value = serde_json::from_str(&answer[1]).unwrap();
        assert_eq!(v["delta"].as_str().unwrap().len(), 1280);
        assert_eq!(c.header.origin, Origin::Synthesized);
        // The mock can build a replay script from it.
        understudy_mock::sansio::replay_script(NAME, &c).unwrap();
    }
}
