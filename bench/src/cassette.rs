//! The replay benchmarks' cassettes, synthesized in memory through the
//! fixtures crate's types (so no large fixture is committed): an OpenAI GA
//! session whose one turn (`response.create`) is answered by
//! `response.created`, N audio deltas of M PCM bytes and `response.done`.
//! In [`throughput`]'s all are due at once (the server sends them as fast as
//! it can); in [`paced`]'s delta `i` is due `i` intervals after the turn, as
//! a live provider streams audio.

use base64::Engine as _;
use serde_json::json;
use understudy_fixtures::{Cassette, Direction, Frame, Header, Origin};

/// The cassette's name (a client asks for it with `?cassette=`; written as
/// `<dir>/bench-throughput.jsonl` for an external `serve --cassettes <dir>`).
pub const NAME: &str = "bench-throughput";

/// The paced cassette's name (`paced-replay`).
pub const PACED_NAME: &str = "bench-paced";

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
    build(
        format!(
            "understudy-bench replay-throughput: one response of {deltas} audio deltas of {delta_bytes} PCM bytes, all due at once"
        ),
        deltas,
        delta_bytes,
        0,
    )
}

/// The paced cassette: `response.created` and delta 0 at the turn, delta `i`
/// `i × interval_us` after it, `response.done` with the last delta.
pub fn paced(deltas: usize, delta_bytes: usize, interval_us: u64) -> Cassette {
    build(
        format!(
            "understudy-bench paced-replay: one response of {deltas} audio deltas of {delta_bytes} PCM bytes, {interval_us} µs apart"
        ),
        deltas,
        delta_bytes,
        interval_us,
    )
}

/// One turn answered by `deltas` deltas, delta `i` at `i × step_us` after it.
fn build(description: String, deltas: usize, delta_bytes: usize, step_us: u64) -> Cassette {
    let mut cassette = Cassette::new(
        Header::new(
            "openai",
            crate::client::DIALECT,
            crate::client::MODEL,
            Origin::Synthesized,
        )
        .with_description(description),
    );
    let s2c = |value| Frame::text_json(TURN_US, Direction::ServerToClient, value);
    let at = |i: usize| TURN_US + step_us * i as u64;
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
        cassette.frames.push(Frame::text_json(
            at(i),
            Direction::ServerToClient,
            json!({
                "type":"response.output_audio.delta",
                "event_id":format!("event_bench_d{i}"),
                "response_id":"resp_bench",
                "item_id":"item_bench",
                "output_index":0,
                "content_index":0,
                "delta":audio,
            }),
        ));
    }
    let last = at(deltas.saturating_sub(1));
    cassette.frames.push(Frame::text_json(last, Direction::ServerToClient, json!({"type":"response.done","event_id":"event_bench_2","response":{"object":"realtime.response","id":"resp_bench","status":"completed","output":[]}})));
    cassette
}

/// The cassette's server frames with their offsets from the turn: the
/// greeting, then the answer (what the paced baseline sends, when).
pub fn server_schedule(cassette: &Cassette) -> (String, Vec<(std::time::Duration, String)>) {
    let mut frames = cassette
        .frames
        .iter()
        .filter(|f| f.dir == Direction::ServerToClient)
        .filter_map(|f| f.json().map(|v| (f.t_us, v.to_string())));
    let greeting = frames.next().map(|(_, text)| text).unwrap_or_default();
    let answer = frames
        .map(|(t_us, text)| {
            (
                std::time::Duration::from_micros(t_us.saturating_sub(TURN_US)),
                text,
            )
        })
        .collect();
    (greeting, answer)
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

    #[test]
    fn paced_deltas_are_due_one_interval_apart() {
        let c = paced(4, 960, 20_000);
        let (greeting, answer) = server_schedule(&c);
        assert!(greeting.contains("session.created"));
        let offsets: Vec<u64> = answer.iter().map(|(d, _)| d.as_millis() as u64).collect();
        // response.created, 4 deltas, response.done (with the last delta).
        assert_eq!(offsets, [0, 0, 20, 40, 60, 60]);
        assert!(answer[5].1.contains("response.done"));
        understudy_mock::sansio::replay_script(PACED_NAME, &c).unwrap();
        // The unpaced cassette's schedule is all zeros.
        let (_, flat) = server_schedule(&throughput(3, 960));
        assert!(flat.iter().all(|(d, _)| d.is_zero()));
    }
}
