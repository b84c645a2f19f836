//! Property: replay sends the server's frames in the order they were
//! recorded, whatever the client's pacing, whenever the client sends what the
//! recording's client sent.
//!
//! Sessions are generated: random client requests (item creations, response
//! requests, audio, commits, session updates), answered by a server that
//! answers in order after a random delay, with unsolicited frames
//! (`rate_limits.updated`, VAD speech events) at random places — so client
//! sends and server answers interleave at random, pipelining included. Each
//! session is replayed to a client whose every send is paced at random: at
//! once (pipelined), after an arbitrary pause, or only once it has received
//! every server frame the recording shows before that send (a client that
//! waits for its answers; it must never be left waiting).

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::openai::wire::ClientEvent;
use understudy_adapters::openai::Dialect;
use understudy_fixtures::{Cassette, Direction, Frame, Header, Origin};
use understudy_mock::sansio::{
    OpenAiProtocol, Outgoing, Protocol, ReplayScript, Replayer, SessionEngine,
};

const GA: OpenAiProtocol = OpenAiProtocol {
    dialect: Dialect::Ga,
};

/// A client request the generator can send.
#[derive(Debug, Clone, Copy)]
enum Request {
    /// `conversation.item.create` of a user message.
    Message,
    /// `conversation.item.create` of a tool output.
    ToolOutput,
    /// `response.create`.
    Response,
    /// `input_audio_buffer.append` of this many 10 ms chunks.
    Audio(u8),
    /// `input_audio_buffer.commit`.
    Commit,
    /// `session.update`.
    Update,
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        3 => Just(Request::Message),
        2 => Just(Request::ToolOutput),
        3 => Just(Request::Response),
        3 => (1u8..4).prop_map(Request::Audio),
        1 => Just(Request::Commit),
        1 => Just(Request::Update),
    ]
}

/// What the generator does next.
#[derive(Debug, Clone, Copy)]
enum Move {
    /// The client sends its next request.
    Send,
    /// The server sends its next pending frame.
    Answer,
    /// The server sends `rate_limits.updated`.
    RateLimits,
    /// Server VAD hears speech in the audio so far.
    Speech,
}

fn moves() -> impl Strategy<Value = Move> {
    prop_oneof![
        4 => Just(Move::Send),
        6 => Just(Move::Answer),
        1 => Just(Move::RateLimits),
        1 => Just(Move::Speech),
    ]
}

/// How the replaying client paces one send.
#[derive(Debug, Clone, Copy)]
enum Pace {
    /// Right away (pipelined).
    Now,
    /// After a pause of this many milliseconds.
    Pause(u16),
    /// Once everything recorded before this send has arrived.
    Wait,
}

fn pace() -> impl Strategy<Value = Pace> {
    prop_oneof![
        Just(Pace::Now),
        (0u16..400).prop_map(Pace::Pause),
        Just(Pace::Wait),
    ]
}

/// The client frame of `request`, numbered `n`.
fn client_frame(request: Request, n: usize) -> Value {
    match request {
        Request::Message => {
            json!({"type":"conversation.item.create","item":{"id":format!("m{n}"),"type":"message","role":"user","content":[{"type":"input_text","text":format!("text {n}")}]}})
        }
        Request::ToolOutput => {
            json!({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":format!("call_{n}"),"output":"{}"}})
        }
        Request::Response => json!({"type":"response.create"}),
        // 10 ms of 24 kHz PCM16 per chunk.
        Request::Audio(chunks) => {
            json!({"type":"input_audio_buffer.append","audio":base64_zeros(480 * usize::from(chunks))})
        }
        Request::Commit => json!({"type":"input_audio_buffer.commit"}),
        Request::Update => {
            json!({"type":"session.update","session":{"type":"realtime","instructions":format!("v{n}")}})
        }
    }
}

fn base64_zeros(bytes: usize) -> String {
    // Three zero bytes are "AAAA"; the chunks above are multiples of three.
    "AAAA".repeat(bytes / 3)
}

/// The server frames that answer `request` (numbered `n`), in order.
fn answers(request: Request, n: usize) -> Vec<Value> {
    let ev = |k: &str| format!("e{n}_{k}");
    match request {
        Request::Message | Request::ToolOutput => vec![
            json!({"type":"conversation.item.added","event_id":ev("a"),"previous_item_id":null,"item":{"id":format!("item{n}")}}),
            json!({"type":"conversation.item.done","event_id":ev("d"),"previous_item_id":null,"item":{"id":format!("item{n}")}}),
        ],
        Request::Response => vec![
            json!({"type":"response.created","event_id":ev("c"),"response":{"id":format!("r{n}")}}),
            json!({"type":"response.output_audio.delta","event_id":ev("x"),"response_id":format!("r{n}"),"item_id":"a","output_index":0,"content_index":0,"delta":"AAAA"}),
            json!({"type":"response.done","event_id":ev("d"),"response":{"id":format!("r{n}"),"status":"completed"}}),
        ],
        Request::Audio(_) => vec![],
        Request::Commit => vec![
            json!({"type":"input_audio_buffer.committed","event_id":ev("c"),"item_id":format!("u{n}")}),
        ],
        Request::Update => vec![
            json!({"type":"session.updated","event_id":ev("u"),"session":{"instructions":format!("v{n}")}}),
        ],
    }
}

/// Plays the generator's moves into a cassette.
fn session(requests: &[Request], moves: &[Move], gaps: &[u16]) -> Cassette {
    let mut cassette = Cassette::new(Header::new(
        "openai",
        "openai-ga",
        "gpt-realtime",
        Origin::Synthesized,
    ));
    let mut t = 0u64;
    let mut gap = gaps.iter().cycle();
    let mut tick = |t: &mut u64| {
        *t += u64::from(*gap.next().unwrap_or(&1)) + 1;
        *t
    };
    let mut frames = vec![Frame::text_json(
        tick(&mut t),
        Direction::ServerToClient,
        json!({"type":"session.created","event_id":"e_greet","session":{}}),
    )];
    let mut to_send = requests.iter().copied().enumerate();
    let mut pending: VecDeque<Value> = VecDeque::new();
    let mut audio_sent = false;
    let mut extra = 0;
    let mut moves = moves.iter().copied();
    loop {
        let next = match moves.next().unwrap_or(Move::Answer) {
            // Nothing to answer: the client goes on, or the session is over.
            Move::Answer if pending.is_empty() => {
                if to_send.len() == 0 {
                    break;
                }
                Move::Send
            }
            other => other,
        };
        let server = |value: Value, t: u64| Frame::text_json(t, Direction::ServerToClient, value);
        match next {
            Move::Send => {
                if let Some((n, request)) = to_send.next() {
                    frames.push(Frame::text_json(
                        tick(&mut t),
                        Direction::ClientToServer,
                        client_frame(request, n),
                    ));
                    audio_sent |= matches!(request, Request::Audio(_));
                    pending.extend(answers(request, n));
                }
            }
            Move::Answer => {
                if let Some(answer) = pending.pop_front() {
                    frames.push(server(answer, tick(&mut t)));
                }
            }
            Move::RateLimits => {
                extra += 1;
                frames.push(server(
                    json!({"type":"rate_limits.updated","event_id":format!("rl{extra}"),"rate_limits":[]}),
                    tick(&mut t),
                ));
            }
            Move::Speech => {
                if audio_sent {
                    extra += 1;
                    frames.push(server(
                        json!({"type":"input_audio_buffer.speech_started","event_id":format!("vad{extra}"),"audio_start_ms":0,"item_id":format!("u{extra}")}),
                        tick(&mut t),
                    ));
                }
            }
        }
    }
    cassette.frames = frames;
    cassette
}

fn text(frame: &Outgoing) -> String {
    match frame {
        Outgoing::Text { text, .. } => text.to_string(),
        Outgoing::Binary { data, .. } => String::from_utf8_lossy(data).into_owned(),
        Outgoing::Close { code, reason } => format!("close {code} {reason}"),
    }
}

/// Replays `cassette` to a client paced by `paces`; returns what arrived, or
/// why the client was left waiting.
fn replay(cassette: &Cassette, paces: &[Pace]) -> Result<Vec<String>, String> {
    type Engine = dyn SessionEngine<ClientEvent>;
    let script = ReplayScript::from_cassette("generated", cassette, &GA)
        .map_err(|e| format!("script: {e}"))?;
    let mut replayer = Replayer::new(Arc::new(script), 1.0);
    let engine: &mut Engine = &mut replayer;
    let mut now = Instant::now();
    engine.on_connect(now);
    let mut got: Vec<String> = Vec::new();
    let mut paces = paces.iter().copied().cycle();
    let mut recorded_before = 0;
    for frame in &cassette.frames {
        let Some(json) = frame.json() else { continue };
        if frame.dir == Direction::ServerToClient {
            recorded_before += 1;
            continue;
        }
        match paces.next().unwrap_or(Pace::Now) {
            Pace::Now => {}
            Pace::Pause(ms) => now += Duration::from_millis(u64::from(ms)),
            Pace::Wait => {
                while got.len() < recorded_before {
                    let Some(due) = engine.next_deadline() else {
                        return Err(format!(
                            "left waiting before `{}`: got {} of the {recorded_before} frames recorded before it",
                            frame.event_type().unwrap_or(""),
                            got.len()
                        ));
                    };
                    now = now.max(due);
                    got.extend(engine.pop_due(now).iter().map(text));
                }
            }
        }
        got.extend(engine.pop_due(now).iter().map(text));
        let event = GA
            .parse(&json.to_string(), usize::MAX)
            .map_err(|e| format!("generated an invalid frame: {}", e.message))?;
        let summary = GA.summarise(&event);
        engine.on_client_event(&event, &summary, now);
        got.extend(engine.pop_due(now).iter().map(text));
    }
    while let Some(due) = engine.next_deadline() {
        now = now.max(due);
        got.extend(engine.pop_due(now).iter().map(text));
    }
    Ok(got)
}

/// The server frames of `cassette` as replay sends them.
fn recorded_server_frames(cassette: &Cassette) -> Vec<String> {
    cassette
        .frames
        .iter()
        .filter(|f| f.dir == Direction::ServerToClient)
        .filter_map(|f| f.json().map(Value::to_string))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn replay_keeps_the_recorded_order_at_any_client_pacing(
        requests in vec(request(), 1..12),
        moves in vec(moves(), 0..60),
        gaps in vec(0u16..3000, 1..16),
        paces in vec(pace(), 1..12),
    ) {
        let cassette = session(&requests, &moves, &gaps);
        let recorded = recorded_server_frames(&cassette);
        let got = replay(&cassette, &paces).map_err(TestCaseError::fail)?;
        prop_assert_eq!(got, recorded);
    }

    #[test]
    fn a_pipelining_client_gets_the_recorded_order(
        requests in vec(request(), 1..12),
        moves in vec(moves(), 0..60),
        gaps in vec(0u16..3000, 1..16),
    ) {
        let cassette = session(&requests, &moves, &gaps);
        let recorded = recorded_server_frames(&cassette);
        let got = replay(&cassette, &[Pace::Now]).map_err(TestCaseError::fail)?;
        prop_assert_eq!(got, recorded);
    }
}
