//! OpenAI wire types: every event in the protocol file round-trips through
//! JSON exactly, unknown types and fields are kept, and decoding never panics.

mod common;

use understudy_adapters::openai::wire::{ClientEvent, ServerEvent};
use understudy_adapters::openai::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/openai-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/openai-client-examples.jsonl");

tagged_wire_properties! {
    client: ClientEvent,
    server: ServerEvent,
    client_examples: CLIENT_EXAMPLES,
    server_examples: SERVER_EXAMPLES,
    decode: |text: &str| { let _ = Decoder::new().decode_text(text); },
    fields: ["delta", "response", "session", "item", "error", "item_id", "call_id", "audio_start_ms"]
}
