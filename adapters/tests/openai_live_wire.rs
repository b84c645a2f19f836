//! GPT-Live wire types: every example frame of the protocol file (and one
//! per SDK type more, synthesized from the SDK models where the file shows
//! none) round-trips through JSON exactly, unknown types and fields are
//! kept, and decoding never panics.

mod common;

use understudy_adapters::openai_live::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai_live::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/openai-live-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/openai-live-client-examples.jsonl");

tagged_wire_properties! {
    client: ClientEvent,
    server: ServerEvent,
    client_examples: CLIENT_EXAMPLES,
    server_examples: SERVER_EXAMPLES,
    decode: |text: &str| { let _ = Decoder::default().decode_text(text); },
    fields: ["delta", "session", "delegation", "event", "error", "usage", "start_ms", "end_ms", "offset_ms", "delegation_id"]
}

#[test]
fn the_sdk_vocabularies_are_all_known() {
    // SDK 3.57.0 `ServerEvent` (28) plus the sideband's paused/resumed.
    assert_eq!(ServerEvent::KNOWN_TYPES.len(), 30);
    // `ClientEvent` (15) plus the sideband's `transport.dtmf.send`.
    assert_eq!(ClientEvent::KNOWN_TYPES.len(), 16);
}

#[test]
fn an_append_keeps_a_null_delegation_id_and_omits_an_absent_one() {
    use understudy_adapters::openai_live::wire::client::ContextAppend;
    let built = ClientEvent::InstructionsAppend(ContextAppend::new("hi", None));
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        serde_json::json!({"type": "session.instructions.append", "content": "hi", "delegation_id": null})
    );
    let absent: ClientEvent =
        serde_json::from_str(r#"{"type":"session.thinking.append","content":"x"}"#).unwrap();
    let ClientEvent::ThinkingAppend(append) = &absent else {
        panic!("{absent:?}")
    };
    assert_eq!(append.delegation_id, None);
    assert_eq!(
        serde_json::to_string(&absent).unwrap(),
        r#"{"type":"session.thinking.append","content":"x"}"#
    );
}

#[test]
fn usage_numbers_keep_their_spelling() {
    for text in [
        r#"{"type":"session.usage.updated","event_id":"e","usage":{"seconds":7}}"#,
        r#"{"type":"session.usage.updated","event_id":"e","usage":{"seconds":7.5},"context_window":{"usage_ratio":0}}"#,
    ] {
        let event: ServerEvent = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&event).unwrap(), text);
    }
}

#[test]
fn unknown_session_keys_are_kept_where_a_server_can_name_them() {
    let start: ClientEvent = serde_json::from_str(
        r#"{"type":"session.start","session":{"model":"gpt-live-1","voice":"marin"}}"#,
    )
    .unwrap();
    let ClientEvent::SessionStart(start) = start else {
        panic!("not a start")
    };
    assert_eq!(
        start.session.extra.keys().collect::<Vec<_>>(),
        ["voice"],
        "the mock answers param session.voice from this"
    );
}
