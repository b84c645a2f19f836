//! Replay: scripts built from cassettes, and what a replayer sends back.

use super::*;
use crate::engine::SessionEngine;
use crate::openai::OpenAiProtocol;
use crate::protocol::Protocol;
use crate::timeline::Outgoing;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::openai::wire::ClientEvent;
use understudy_adapters::openai::Dialect;
use understudy_fixtures::{Cassette, Direction};
use understudy_fixtures::{Frame, Header, Origin};

const GA: OpenAiProtocol = OpenAiProtocol {
    dialect: Dialect::Ga,
};
type Engine = dyn SessionEngine<ClientEvent>;

fn feed(r: &mut Replayer, event: &ClientEvent, now: Instant) {
    let summary = GA.summarise(event);
    (r as &mut Engine).on_client_event(event, &summary, now);
}

fn cassette() -> Cassette {
    let mut c = ga_cassette(Vec::new());
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    c.frames = vec![
        s(
            1_000,
            json!({"type":"session.created","event_id":"e1","session":{}}),
        ),
        c2s(
            10_000,
            json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="}),
        ),
        c2s(
            20_000,
            json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="}),
        ),
        s(
            25_000,
            json!({"type":"input_audio_buffer.speech_started","event_id":"e2","audio_start_ms":0,"item_id":"i"}),
        ),
        c2s(30_000, json!({"event_id":"bad"})),
        s(
            30_500,
            json!({"type":"error","event_id":"e3","error":{"type":"invalid_request_error","message":"x"}}),
        ),
        c2s(
            40_000,
            json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[]}}),
        ),
        s(
            40_100,
            json!({"type":"conversation.item.added","event_id":"e4","item":{"type":"message"}}),
        ),
        s(
            90_000,
            json!({"type":"conversation.item.done","event_id":"e5","item":{"type":"message"}}),
        ),
    ];
    c
}

/// The event types each step of a script sends, step by step.
fn types_by_step(script: &ReplayScript) -> Vec<Vec<&str>> {
    script
        .steps
        .iter()
        .map(|st| {
            st.frames
                .iter()
                .filter_map(|(_, f)| match f {
                    Outgoing::Text { event_type, .. } => Some(&**event_type),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

fn types(frames: &[Outgoing]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            Outgoing::Text { event_type, .. } | Outgoing::Binary { event_type, .. } => {
                event_type.to_string()
            }
            Outgoing::Close { code, .. } => format!("close {code}"),
        })
        .collect()
}

#[test]
fn script_groups_frames_under_their_triggers_and_drops_invalid_exchanges() {
    let script = ReplayScript::from_cassette("t", &cassette(), &GA).unwrap();
    let triggers: Vec<&Trigger> = script.steps.iter().map(|s| &s.trigger).collect();
    assert_eq!(triggers.len(), 3);
    assert_eq!(*triggers[0], Trigger::Connect);
    assert!(matches!(triggers[1], Trigger::Audio { ms } if (*ms - 4.0 / 24.0).abs() < 1e-9));
    assert!(
        matches!(triggers[2], Trigger::Client { event_type, .. } if event_type == "conversation.item.create")
    );
    assert_eq!(script.steps[2].frames[1].0, Duration::from_micros(50_000));
    let all: Vec<&str> = script
        .steps
        .iter()
        .flat_map(|s| s.frames.iter())
        .filter_map(|(_, f)| match f {
            Outgoing::Text { event_type, .. } => Some(&**event_type),
            _ => None,
        })
        .collect();
    assert!(
        !all.contains(&"error"),
        "the validator answers malformed frames live"
    );
}

#[tokio::test]
async fn frames_go_out_at_their_offsets_from_the_trigger_scaled_by_speed() {
    let script = Arc::new(ReplayScript::from_cassette("t", &cassette(), &GA).unwrap());
    let mut r = Replayer::new(script, 2.0);
    let t0 = Instant::now();
    (&mut r as &mut Engine).on_connect(t0);
    assert_eq!(
        types(&(&mut r as &mut Engine).pop_due(t0 + Duration::from_micros(500))),
        ["session.created"]
    );
    // Audio is matched by amount, not by chunking: one bigger append fires the step.
    let append: ClientEvent =
        serde_json::from_value(json!({"type":"input_audio_buffer.append","audio":"AAAAAAAAAAA="}))
            .unwrap();
    feed(&mut r, &append, t0 + Duration::from_millis(10));
    assert_eq!(
        types(&(&mut r as &mut Engine).pop_due(t0 + Duration::from_millis(13))),
        ["input_audio_buffer.speech_started"]
    );
    let create: ClientEvent = serde_json::from_value(json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"other words"}]}})).unwrap();
    let t1 = t0 + Duration::from_millis(100);
    feed(&mut r, &create, t1);
    assert_eq!(
        types(&(&mut r as &mut Engine).pop_due(t1 + Duration::from_micros(50))),
        ["conversation.item.added"]
    );
    assert_eq!(
        (&mut r as &mut Engine).next_deadline(),
        Some(t1 + Duration::from_millis(25))
    );
}

#[test]
fn the_close_reply_to_a_client_close_is_not_replayed() {
    let mut c = cassette();
    let end = c.frames.last().map_or(0, |f| f.t_us);
    c.frames
        .push(Frame::close(end + 10, Direction::ClientToServer, 1000, ""));
    c.frames
        .push(Frame::close(end + 20, Direction::ServerToClient, 1000, ""));
    let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
    let closes = script
        .steps
        .iter()
        .flat_map(|s| s.frames.iter())
        .filter(|(_, f)| matches!(f, Outgoing::Close { .. }))
        .count();
    assert_eq!(
        closes, 0,
        "the recorded echo would close the replayed session early"
    );
    // A close the server starts is replayed.
    let mut c = cassette();
    c.frames.push(Frame::close(
        end + 10,
        Direction::ServerToClient,
        1011,
        "bye",
    ));
    let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
    assert!(script
        .steps
        .iter()
        .flat_map(|s| s.frames.iter())
        .any(|(_, f)| matches!(f, Outgoing::Close { code: 1011, .. })));
}

#[test]
fn session_created_always_answers_the_connection() {
    let mut c = cassette();
    // The client's first event was recorded before the greeting arrived.
    c.frames.insert(
        0,
        Frame::text_json(
            500,
            Direction::ClientToServer,
            json!({"type":"session.update","session":{"type":"realtime"}}),
        ),
    );
    let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
    assert_eq!(script.steps[0].trigger, Trigger::Connect);
    assert_eq!(
        types(
            &script.steps[0]
                .frames
                .iter()
                .map(|(_, f)| f.clone())
                .collect::<Vec<_>>()
        ),
        ["session.created"]
    );
    assert!(
        script.steps[1].frames.is_empty(),
        "session.update's step keeps no greeting"
    );
}

#[test]
fn answers_stay_with_the_event_they_answer_when_the_client_pipelined() {
    // The recording client sent commit and response.create back to back,
    // before `committed` arrived; a client that waits for `committed`
    // before asking for a response must still get it.
    let mut c = ga_cassette(Vec::new());
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    c.frames = vec![
        s(
            1_000,
            json!({"type":"session.created","event_id":"e1","session":{}}),
        ),
        c2s(
            10_000,
            json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="}),
        ),
        c2s(20_000, json!({"type":"input_audio_buffer.commit"})),
        c2s(20_050, json!({"type":"response.create"})),
        s(
            20_300,
            json!({"type":"input_audio_buffer.committed","event_id":"e2","item_id":"i"}),
        ),
        s(
            20_400,
            json!({"type":"conversation.item.added","event_id":"e3","item":{"type":"message"}}),
        ),
        s(
            20_500,
            json!({"type":"response.created","event_id":"e4","response":{}}),
        ),
        s(
            20_600,
            json!({"type":"response.output_audio.delta","event_id":"e5","response_id":"r","item_id":"a","output_index":0,"content_index":0,"delta":"AAAA"}),
        ),
    ];
    let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
    let by_step = types_by_step(&script);
    assert_eq!(
        by_step[2],
        ["input_audio_buffer.committed", "conversation.item.added"],
        "{by_step:?}"
    );
    assert_eq!(
        by_step[3],
        ["response.created", "response.output_audio.delta"],
        "{by_step:?}"
    );
    assert_eq!(
        script.steps[2].frames[0].0,
        Duration::from_micros(300),
        "offset from the commit it answers"
    );
}

#[test]
fn response_output_stays_with_its_response_until_speech_interrupts_it() {
    let mut c = ga_cassette(Vec::new());
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    let append = || json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="});
    let delta = |id: &str| json!({"type":"response.output_audio.delta","event_id":id,"response_id":"r","item_id":"a","output_index":0,"content_index":0,"delta":"AAAA"});
    c.frames = vec![
        c2s(10_000, append()),
        s(
            11_000,
            json!({"type":"response.created","event_id":"e1","response":{"id":"r"}}),
        ),
        c2s(20_000, append()), // silence still streaming
        s(21_000, delta("e2")),
        c2s(30_000, append()), // the user talks over the answer
        s(
            31_000,
            json!({"type":"input_audio_buffer.speech_started","event_id":"e3","audio_start_ms":0,"item_id":"u"}),
        ),
        s(
            31_500,
            json!({"type":"response.done","event_id":"e4","response":{"id":"r","status":"cancelled"}}),
        ),
    ];
    let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
    let types = types_by_step(&script);
    assert_eq!(
        types[1],
        ["response.created", "response.output_audio.delta"],
        "{types:?}"
    );
    // Appends with nothing anchored to them merge into one audio trigger.
    assert_eq!(types.len(), 3, "{types:?}");
    assert_eq!(
        types[2],
        ["input_audio_buffer.speech_started", "response.done"],
        "{types:?}"
    );
}

#[tokio::test]
async fn a_later_step_never_overtakes_an_earlier_one() {
    let script = Arc::new(ReplayScript::from_cassette("t", &cassette(), &GA).unwrap());
    let mut r = Replayer::new(script, 1.0);
    let t0 = Instant::now();
    (&mut r as &mut Engine).on_connect(t0); // session.created due at t0 + 1 ms
                                            // The client's event arrives at once; its answer is recorded 0.1 ms after it.
    let create: ClientEvent = serde_json::from_value(json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[]}})).unwrap();
    let append: ClientEvent =
        serde_json::from_value(json!({"type":"input_audio_buffer.append","audio":"AAAAAAAAAAA="}))
            .unwrap();
    feed(&mut r, &append, t0);
    feed(&mut r, &create, t0);
    let order = types(&(&mut r as &mut Engine).pop_due(t0 + Duration::from_secs(1)));
    assert_eq!(
        order,
        [
            "session.created",
            "input_audio_buffer.speech_started",
            "conversation.item.added",
            "conversation.item.done"
        ]
    );
}

fn ga_cassette(frames: Vec<Frame>) -> Cassette {
    let mut c = Cassette::new(Header::new(
        "openai",
        "openai-ga",
        "gpt-realtime",
        Origin::Synthesized,
    ));
    c.frames = frames;
    c
}

fn user_item(id: &str) -> Value {
    json!({"type":"conversation.item.create","item":{"id":id,"type":"message","role":"user","content":[{"type":"input_text","text":id}]}})
}

fn item_added(id: &str, previous: Option<&str>) -> Value {
    json!({"type":"conversation.item.added","event_id":format!("ev_{id}"),"previous_item_id":previous,"item":{"id":id,"type":"message","role":"user","status":"completed","content":[]}})
}

/// History seeding: three creates back to back, answered afterwards.
fn seeding() -> Cassette {
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    ga_cassette(vec![
        s(
            1_000,
            json!({"type":"session.created","event_id":"e0","session":{}}),
        ),
        c2s(10_000, user_item("a")),
        c2s(10_010, user_item("b")),
        c2s(10_020, user_item("c")),
        s(10_300, item_added("a", None)),
        s(10_400, item_added("b", Some("a"))),
        s(10_500, item_added("c", Some("b"))),
    ])
}

/// The JSON text of `frames` (binary frames carry JSON too).
fn texts(frames: &[Outgoing]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| match f {
            Outgoing::Text { text, .. } => Some(text.to_string()),
            Outgoing::Binary { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
            Outgoing::Close { .. } => None,
        })
        .collect()
}

/// The recorded server frames of `c`, as they would go out.
fn recorded_server_texts(c: &Cassette) -> Vec<String> {
    c.frames
        .iter()
        .filter(|f| f.dir == Direction::ServerToClient)
        .filter_map(|f| f.json().map(Value::to_string))
        .collect()
}

fn client_events(c: &Cassette) -> Vec<ClientEvent> {
    c.frames
        .iter()
        .filter(|f| f.dir == Direction::ClientToServer)
        .filter_map(|f| f.json().cloned())
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

#[tokio::test]
async fn pipelined_requests_get_their_own_answers_one_at_a_time() {
    let c = seeding();
    let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
    let mut r = Replayer::new(script, 1.0);
    let mut now = Instant::now();
    (&mut r as &mut Engine).on_connect(now);
    let mut got = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(1)));
    // Each create waits for its own answer before the next is sent.
    for event in client_events(&c) {
        now += Duration::from_secs(2);
        feed(&mut r, &event, now);
        let answer = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(1)));
        assert_eq!(answer.len(), 1, "one answer per create: {answer:?}");
        got.extend(answer);
    }
    assert_eq!(got, recorded_server_texts(&c));
}

#[test]
fn answers_pair_with_requests_in_recorded_order() {
    let script = ReplayScript::from_cassette("t", &seeding(), &GA).unwrap();
    let by_step: Vec<Vec<String>> = script
        .steps
        .iter()
        .map(|st| texts(&st.frames.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>()))
        .collect();
    for (step, id) in [(1, "\"a\""), (2, "\"b\""), (3, "\"c\"")] {
        assert_eq!(by_step[step].len(), 1, "{by_step:?}");
        assert!(by_step[step][0].contains(id), "{by_step:?}");
    }
}

/// A tool round trip whose client sent the tool output and the next
/// `response.create` before `response.done`; `rate_limits.updated` was
/// recorded right after `response.done`, before the tool output's answers.
fn tool_round_trip() -> Cassette {
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    let output = json!({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"call_1","output":"{}"}});
    ga_cassette(vec![
        s(
            1_000,
            json!({"type":"session.created","event_id":"e0","session":{}}),
        ),
        c2s(10_000, json!({"type":"response.create"})),
        s(
            10_100,
            json!({"type":"response.created","event_id":"e1","response":{"id":"r1"}}),
        ),
        s(
            10_200,
            json!({"type":"response.function_call_arguments.done","event_id":"e2","response_id":"r1","item_id":"fc","output_index":0,"call_id":"call_1","name":"f","arguments":"{}"}),
        ),
        c2s(10_250, output),
        c2s(10_260, json!({"type":"response.create"})),
        s(
            10_300,
            json!({"type":"response.done","event_id":"e3","response":{"id":"r1","status":"completed"}}),
        ),
        s(
            10_310,
            json!({"type":"rate_limits.updated","event_id":"e4","rate_limits":[]}),
        ),
        s(
            10_400,
            json!({"type":"conversation.item.added","event_id":"e5","previous_item_id":"fc","item":{"id":"out","type":"function_call_output"}}),
        ),
        s(
            10_410,
            json!({"type":"conversation.item.done","event_id":"e6","previous_item_id":"fc","item":{"id":"out","type":"function_call_output"}}),
        ),
        s(
            10_500,
            json!({"type":"response.created","event_id":"e7","response":{"id":"r2"}}),
        ),
        s(
            10_900,
            json!({"type":"response.done","event_id":"e8","response":{"id":"r2","status":"completed"}}),
        ),
    ])
}

#[tokio::test]
async fn a_direction_keeps_its_recorded_order_when_the_client_pipelines() {
    let c = tool_round_trip();
    let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
    let mut r = Replayer::new(script, 1.0);
    let now = Instant::now();
    (&mut r as &mut Engine).on_connect(now);
    for event in client_events(&c) {
        feed(&mut r, &event, now);
    }
    let got = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(10)));
    assert_eq!(got, recorded_server_texts(&c));
}

#[tokio::test]
async fn a_direction_keeps_its_recorded_order_one_request_at_a_time() {
    // The client sends each event only once it has everything the
    // recording shows before it.
    let c = tool_round_trip();
    let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
    let mut r = Replayer::new(script, 1.0);
    let mut now = Instant::now();
    (&mut r as &mut Engine).on_connect(now);
    let mut got = Vec::new();
    for event in client_events(&c) {
        now += Duration::from_secs(1);
        got.extend(texts(&(&mut r as &mut Engine).pop_due(now)));
        feed(&mut r, &event, now);
    }
    got.extend(texts(
        &(&mut r as &mut Engine).pop_due(now + Duration::from_secs(10)),
    ));
    assert_eq!(got, recorded_server_texts(&c));
}

#[tokio::test]
async fn google_genai_snake_case_url_safe_audio_is_replayed_by_amount() {
    use crate::gemini::GeminiProtocol;
    use understudy_adapters::gemini::wire::ClientMessage;
    // 0.1 s of 16 kHz PCM16 whose base64 differs between the alphabets.
    let url_safe = "-_-_".repeat(3200 / 3 + 1);
    let mut c = Cassette::new(Header::new(
        "gemini",
        "gemini-live",
        "gemini-live-2.5-flash-preview",
        Origin::Synthesized,
    ));
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    c.frames = vec![
        c2s(1_000, json!({"setup":{"model":"models/x"}})),
        s(2_000, json!({"setupComplete":{}})),
        c2s(
            10_000,
            json!({"realtime_input":{"audio":{"data":url_safe,"mime_type":"audio/pcm;rate=16000"}}}),
        ),
        s(
            20_000,
            json!({"serverContent":{"inputTranscription":{"text":"hi"}}}),
        ),
    ];
    let script = ReplayScript::from_cassette("t", &c, &GeminiProtocol).unwrap();
    assert!(
        matches!(script.steps.last().map(|st| &st.trigger), Some(Trigger::Audio { ms }) if (*ms - 100.0).abs() < 1.0),
        "{:?}",
        script
            .steps
            .iter()
            .map(|st| &st.trigger)
            .collect::<Vec<_>>()
    );
    let mut r = Replayer::new(Arc::new(script), 1.0);
    let engine: &mut dyn SessionEngine<ClientMessage> = &mut r;
    let t0 = Instant::now();
    engine.on_connect(t0);
    for text in [
        json!({"setup":{"model":"models/x"}}).to_string(),
        // The same 0.1 s, camelCase and standard base64 this time.
        json!({"realtimeInput":{"audio":{"data":"AAAA".repeat(3200 / 3 + 1),"mimeType":"audio/pcm;rate=16000"}}}).to_string(),
    ] {
        let message = GeminiProtocol.parse(&text, usize::MAX).unwrap();
        let summary = GeminiProtocol.summarise(&message);
        engine.on_client_event(&message, &summary, t0);
    }
    let sent: Vec<String> = texts(&engine.pop_due(t0 + Duration::from_secs(1)));
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].contains("inputTranscription"), "{sent:?}");
}

#[tokio::test]
async fn audio_sent_ahead_of_a_client_event_still_fires_the_steps_after_it() {
    // Recorded: 10 ms of audio, a create, 10 ms more, then speech started.
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    let ten_ms = || json!({"type":"input_audio_buffer.append","audio":"AAAA".repeat(160)});
    let c = ga_cassette(vec![
        s(
            1_000,
            json!({"type":"session.created","event_id":"e0","session":{}}),
        ),
        c2s(10_000, ten_ms()),
        s(
            11_000,
            json!({"type":"rate_limits.updated","event_id":"e1","rate_limits":[]}),
        ),
        c2s(20_000, user_item("a")),
        s(20_100, item_added("a", None)),
        c2s(30_000, ten_ms()),
        s(
            31_000,
            json!({"type":"input_audio_buffer.speech_started","event_id":"e2","audio_start_ms":0,"item_id":"u"}),
        ),
    ]);
    let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
    let mut r = Replayer::new(script, 1.0);
    let now = Instant::now();
    (&mut r as &mut Engine).on_connect(now);
    // This client sends all 20 ms of its audio first, in one append.
    let twenty_ms: ClientEvent = serde_json::from_value(
        json!({"type":"input_audio_buffer.append","audio":"AAAA".repeat(320)}),
    )
    .unwrap();
    feed(&mut r, &twenty_ms, now);
    let create: ClientEvent = serde_json::from_value(user_item("a")).unwrap();
    feed(&mut r, &create, now);
    let got = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(1)));
    assert_eq!(got, recorded_server_texts(&c));
}

#[tokio::test]
async fn a_mismatched_event_is_noted_and_not_answered() {
    let script = Arc::new(ReplayScript::from_cassette("t", &cassette(), &GA).unwrap());
    let mut r = Replayer::new(script, 1.0);
    let t0 = Instant::now();
    (&mut r as &mut Engine).on_connect(t0);
    (&mut r as &mut Engine).pop_due(t0 + Duration::from_secs(1));
    let cancel: ClientEvent = serde_json::from_value(json!({"type":"response.cancel"})).unwrap();
    feed(&mut r, &cancel, t0);
    assert!((&mut r as &mut Engine)
        .pop_due(t0 + Duration::from_secs(10))
        .is_empty());
    let notes = (&mut r as &mut Engine).take_notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].label, "replay.mismatch");
}

/// GPT-Live's clock is the client's input audio: a frame that is not an
/// answer is due the moment the client's audio reaches where the recording
/// client's was (no wall-clock offset), so a client streaming at another pace
/// hears it at the same place in its audio. An answer keeps its offset from
/// the command it answers; other dialects keep wall-clock offsets.
#[test]
fn input_clocked_dialects_anchor_output_on_the_input_audio_not_the_wall_clock() {
    use crate::openai_live::LiveProtocol;
    let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
    let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
    // 100 ms of PCM16 at 24 kHz.
    let audio = understudy_adapters::Pcm::from_samples(&[0; 2_400]).to_base64();
    let append = json!({"type": "session.input_audio.append", "audio": audio});
    let mut cassette = Cassette::new(Header::new(
        "openai",
        "openai-live",
        "gpt-live-1",
        Origin::Synthesized,
    ));
    cassette.frames = vec![
        c2s(
            0,
            json!({"type": "session.start", "session": {"model": "gpt-live-1"}}),
        ),
        s(40_000, json!({"type": "session.started", "session": {}})),
        c2s(100_000, append.clone()),
        s(
            150_000,
            json!({"type": "session.output_transcript.delta", "delta": "Hi", "start_ms": 50}),
        ),
        c2s(200_000, append.clone()),
        s(
            260_000,
            json!({"type": "session.output_audio.delta", "delta": "AAAA"}),
        ),
    ];
    let live = ReplayScript::from_cassette("live", &cassette, &LiveProtocol::primary()).unwrap();
    let due: Vec<(Trigger, Vec<Duration>)> = live
        .steps
        .iter()
        .filter(|st| !st.frames.is_empty())
        .map(|st| {
            (
                st.trigger.clone(),
                st.frames.iter().map(|(at, _)| *at).collect(),
            )
        })
        .collect();
    let start = Trigger::Client {
        event_type: "session.start".into(),
        key: Value::Null,
    };
    assert_eq!(
        due,
        vec![
            // The answer: 40 ms after the command, as recorded.
            (start, vec![Duration::from_millis(40)]),
            // Output: when the audio reaches 100 ms, then 200 ms.
            (Trigger::Audio { ms: 100.0 }, vec![Duration::ZERO]),
            (Trigger::Audio { ms: 200.0 }, vec![Duration::ZERO]),
        ]
    );
    // The same frames in a wall-clocked dialect keep their recorded delays.
    let mut ga = cassette.clone();
    ga.header.dialect = "openai-ga".into();
    for frame in &mut ga.frames {
        if let Some(Value::Object(event)) = frame.json().cloned() {
            let kind = event["type"].as_str().unwrap_or_default();
            let renamed = match kind {
                "session.input_audio.append" => "input_audio_buffer.append",
                "session.output_audio.delta" => "response.output_audio.delta",
                _ => continue,
            };
            let mut event = event.clone();
            event.insert("type".into(), json!(renamed));
            *frame = Frame::text_json(frame.t_us, frame.dir, Value::Object(event));
        }
    }
    let ga = ReplayScript::from_cassette("ga", &ga, &GA).unwrap();
    let delays: Vec<Duration> = ga
        .steps
        .iter()
        .filter(|st| matches!(st.trigger, Trigger::Audio { .. }))
        .flat_map(|st| st.frames.iter().map(|(at, _)| *at))
        .collect();
    assert_eq!(
        delays,
        vec![Duration::from_millis(50), Duration::from_millis(60)]
    );
}
