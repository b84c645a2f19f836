//! DashScope Qwen-TTS realtime wire types: every event in the protocol notes
//! round-trips through JSON exactly, unknown types, fields and values are
//! kept, and reading server frames never panics.

mod common;

use understudy_adapters::dashscope::tts::wire::{Mode, TtsClientEvent, TtsServerEvent};

const SERVER_EXAMPLES: &str = include_str!("data/dashscope-tts-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/dashscope-tts-client-examples.jsonl");

tagged_wire_properties! {
    client: TtsClientEvent,
    server: TtsServerEvent,
    client_examples: CLIENT_EXAMPLES,
    server_examples: SERVER_EXAMPLES,
    decode: |text: &str| { let _ = serde_json::from_str::<TtsServerEvent>(text); },
    fields: ["delta", "response", "session", "item", "error", "item_id", "mode", "sample_rate"]
}

#[test]
fn modes_are_read_from_their_wire_names_and_unknown_ones_are_kept() {
    assert_eq!(Mode::from_wire("server_commit"), Some(Mode::ServerCommit));
    assert_eq!(Mode::from_wire("commit"), Some(Mode::Commit));
    assert_eq!(Mode::from_wire("eager"), None);
    let raw = serde_json::json!({"type": "session.update", "session": {"mode": "eager"}});
    let event: TtsClientEvent = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&event).unwrap(), raw);
}
