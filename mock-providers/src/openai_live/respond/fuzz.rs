//! Property tests of the engine and the frame validator: arbitrary command
//! sequences (valid or not, in any order, with any audio) never panic, and
//! what goes out is always a well-formed GPT-Live event stream.

use super::super::settings::LiveSettings;
use super::super::store::LiveStore;
use super::super::validate::parse_client_frame;
use super::super::Socket;
use super::Responder;
use crate::engine::SessionEngine;
use crate::protocol::FrameSummary;
use crate::timeline::Outgoing;
use crate::ResponderConfig;
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::openai_live::wire::ServerEvent;

/// One client frame, as JSON text.
fn command() -> impl Strategy<Value = String> {
    let audio = prop_oneof![
        (0usize..4800).prop_map(|n| vec![0u8; n * 2]),
        proptest::collection::vec(any::<u8>(), 0..4000),
        (0usize..3).prop_map(|i| {
            let name = [
                "user-weather-24k.wav",
                "user-order-24k.wav",
                "user-interrupt-24k.wav",
            ][i];
            let wav = understudy_fixtures::bundled::audio(name).unwrap_or_default();
            understudy_fixtures::wav::read_pcm16(wav)
                .map(|(pcm, _)| pcm)
                .unwrap_or_default()
        }),
    ]
    .prop_map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes));
    let text = "[a-zA-Z ]{0,40}";
    prop_oneof![
        Just(json!({"type": "session.start", "event_id": "c1", "session": {"model": "gpt-live-1"}}).to_string()),
        Just(json!({"type": "session.start", "session": {"model": "gpt-live-1", "store": true,
            "delegation": {"type": "responses", "responses": {"model": "gpt-5", "tools": [
                {"type": "function", "name": "get_weather", "parameters": {"type": "object",
                 "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}}}}).to_string()),
        Just(json!({"type": "session.start", "session": {"model": "m", "audio": {"format": {"type": "audio/pcmu"}}}}).to_string()),
        audio.clone().prop_map(|a| json!({"type": "session.input_audio.append", "audio": a}).to_string()),
        audio.clone().prop_map(|a| json!({"type": "session.input_audio.append", "audio": a}).to_string()),
        audio.prop_map(|a| json!({"type": "session.output_audio.fixture.play", "audio": a}).to_string()),
        (text, prop_oneof![Just(Value::Null), Just(json!("item_x"))], 0usize..3).prop_map(|(t, d, k)| {
            let kind = ["session.instructions.append", "session.thinking.append", "session.commentary.append"][k];
            json!({"type": kind, "content": t, "delegation_id": d, "event_id": "a"}).to_string()
        }),
        Just(json!({"type": "session.input_audio.mute"}).to_string()),
        Just(json!({"type": "session.input_audio.unmute"}).to_string()),
        Just(json!({"type": "response.item.create", "item": {"type": "function_call_output", "call_id": "call_x", "output": "{}"}}).to_string()),
        Just(json!({"type": "response.create"}).to_string()),
        Just(json!({"type": "session.update", "session": {"delegation": {"type": "client"}}}).to_string()),
        Just(json!({"type": "decision.create", "event_id": "d1"}).to_string()),
        Just(json!({"type": "decision.item.create", "item": {"type": "message"}}).to_string()),
        Just(json!({"type": "session.close", "event_id": "c9"}).to_string()),
        "\\PC{0,60}",
    ]
}

fn engine() -> Responder {
    let config = ResponderConfig::with_voice(std::sync::Arc::from(vec![1000i16; 2400]));
    Responder::new(
        config,
        Socket::Primary,
        7,
        LiveStore::with_caps(Default::default()),
        None,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_command_sequence_yields_a_well_formed_stream(commands in proptest::collection::vec(command(), 0..40)) {
        let settings = LiveSettings::default();
        let mut engine = engine();
        let t0 = Instant::now();
        engine.on_connect(t0);
        let mut out = Vec::new();
        for (i, text) in commands.iter().enumerate() {
            let now = t0 + Duration::from_millis(i as u64 * 10);
            if let Ok(event) = parse_client_frame(text, 1 << 20, Socket::Primary, &settings) {
                let summary = FrameSummary { event_type: event.event_type().to_owned(), key: Value::Null, audio_ms: None };
                engine.on_client_event(&event, &summary, now);
            }
            out.extend(engine.pop_due(now));
        }
        out.extend(engine.pop_due(t0 + Duration::from_secs(7200)));
        let mut closed = false;
        let mut started = 0;
        for frame in out {
            prop_assert!(!closed, "a frame after the close");
            match frame {
                Outgoing::Close { code, .. } => {
                    prop_assert!(code == 1000 || code == 1008);
                    closed = true;
                }
                Outgoing::Text { text, .. } => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    let kind = value["type"].as_str().unwrap_or_default().to_owned();
                    prop_assert!(ServerEvent::KNOWN_TYPES.contains(&kind.as_str()), "{kind}");
                    if kind == "session.output_audio.delta" {
                        prop_assert!(value.get("event_id").is_none());
                    } else {
                        prop_assert!(value["event_id"].as_str().is_some_and(|id| id.starts_with("event_")), "{text}");
                    }
                    if kind == "error" {
                        prop_assert!(value["error"]["code"].is_string() && value["error"]["message"].is_string());
                    }
                    started += usize::from(kind == "session.started");
                }
                Outgoing::Binary { .. } => prop_assert!(false, "GPT-Live sends text frames"),
            }
        }
        prop_assert!(started <= 1);
    }

    #[test]
    fn the_validator_never_panics(text in "\\PC{0,200}", key in "[a-z_.]{1,12}", value in "[a-z0-9]{0,8}") {
        let settings = LiveSettings::default();
        let _ = parse_client_frame(&text, 1 << 20, Socket::Primary, &settings);
        let frame = json!({"type": "session.start", "session": {"model": "m", key.clone(): value.clone()}}).to_string();
        let _ = parse_client_frame(&frame, 1 << 20, Socket::Fork, &settings);
        let nested = json!({"type": "session.start", "session": {"model": "m", "audio": {key: {"type": value}}}}).to_string();
        let _ = parse_client_frame(&nested, 1 << 20, Socket::Primary, &settings);
    }
}
