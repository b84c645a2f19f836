//! The bundled chat-completions cassettes, made from the respond engine.
//!
//! - `fixtures/cassettes/openai/chat-text-stream.jsonl`: `gpt-4o-mini`, a text
//!   stream with the usage chunk;
//! - `fixtures/cassettes/openai/chat-audio-stream.jsonl`: `gpt-audio-mini`,
//!   `modalities: ["text","audio"]`, pcm16 in voice alloy;
//! - `fixtures/cassettes/dashscope/chat-omni-stream.jsonl`: compatible mode,
//!   `qwen3-omni-flash`, text and audio in voice Cherry.
//!
//! They are *synthesized*: what the respond engine answers with the bundled
//! voice and default pacing (first chunk after 180 ms), written as an
//! `http_request` frame and an `http_response` whose `chunks` are the SSE
//! events at their send times, with fixed ids and `created`. The requests are
//! the ones the SDK harness (`tests/sdk/openai_chat_stream.py`) sends, so a
//! replay of them journals no mismatch.
//!
//! The audio stays inline, base64 inside the SSE text: the cassette format's
//! audio rules (`fixtures/src/rules.rs`) reach JSON payloads of frames, not
//! the text of HTTP body chunks, so there is nothing a rule could point at.
//!
//! A test checks that the bundled files still equal what this module makes;
//! regenerate them with
//! `cargo test -p understudy-mock --lib write_bundled_http_cassettes -- --ignored`
//! (the check and the writer, in [`crate::http`], cover every bundled HTTP
//! cassette).

use super::answer::{self, Identity, Planner};
use super::conversation::Conversation;
use super::{sse_plan, validate};
use crate::http::synthesize::exchange_cassette;
use crate::ResponderConfig;
use serde_json::{json, Value};
use understudy_adapters::chat::ChatDialect;
use understudy_fixtures::{Cassette, Header, Origin};

/// The user's words in the text cassette.
pub const TEXT_PROMPT: &str = "Hello there";
/// The user's words in the audio cassettes.
pub const AUDIO_PROMPT: &str = "Say something nice";
/// `created` of every synthesized completion (2026-01-01T00:00:00Z).
const CREATED: i64 = 1_767_225_600;

/// One streamed request and the respond engine's answer to it.
fn exchange(
    dialect: ChatDialect,
    provider: &str,
    path: &str,
    body: Value,
    config: &ResponderConfig,
    seed: u64,
    description: &str,
) -> Cassette {
    let request = validate::validate(dialect, body.to_string().as_bytes())
        .unwrap_or_else(|f| unreachable!("the bundled request is valid: {:?}", f.body));
    let conversation = Conversation::read(dialect, &request)
        .unwrap_or_else(|f| unreachable!("the bundled conversation reads: {:?}", f.body));
    let decision = answer::decide_answer(&conversation);
    let planner = Planner {
        dialect,
        request: &request,
        identity: Identity::mint(dialect, seed, CREATED),
        pacing: super::pacing_for(config, 1.0, None),
    };
    let planned = sse_plan(&planner.stream(&decision, None));
    let header = Header::new(provider, dialect.name(), &request.model, Origin::Synthesized)
        .with_description(format!(
            "POST {path}, {description} — synthesized from the respond engine (mock-providers/src/chat/cassettes.rs)"
        ));
    exchange_cassette(
        header,
        path,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body,
        &planned,
        true,
    )
}

/// OpenAI: a text answer streamed with the usage chunk.
pub fn openai_text(config: &ResponderConfig) -> Cassette {
    let body = json!({
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": TEXT_PROMPT},
        ],
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    exchange(
        ChatDialect::OpenAi,
        "openai",
        "/v1/chat/completions",
        body,
        config,
        1,
        &format!("{TEXT_PROMPT:?} answered as a text stream with usage"),
    )
}

/// OpenAI: a spoken answer (`modalities: ["text","audio"]`, pcm16).
pub fn openai_audio(config: &ResponderConfig) -> Cassette {
    let body = json!({
        "messages": [{"role": "user", "content": AUDIO_PROMPT}],
        "model": "gpt-audio-mini",
        "audio": {"voice": "alloy", "format": "pcm16"},
        "modalities": ["text", "audio"],
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    exchange(
        ChatDialect::OpenAi,
        "openai",
        "/v1/chat/completions",
        body,
        config,
        2,
        &format!(
            "{AUDIO_PROMPT:?} answered in text and pcm16 audio (voice alloy), streamed with usage"
        ),
    )
}

/// DashScope compatible mode: Qwen-Omni answering in text and audio.
pub fn dashscope_omni(config: &ResponderConfig) -> Cassette {
    let body = json!({
        "messages": [{"role": "user", "content": AUDIO_PROMPT}],
        "model": "qwen3-omni-flash",
        "audio": {"voice": "Cherry", "format": "wav"},
        "modalities": ["text", "audio"],
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    exchange(
        ChatDialect::DashScope,
        "dashscope",
        "/compatible-mode/v1/chat/completions",
        body,
        config,
        3,
        &format!("{AUDIO_PROMPT:?} answered by qwen3-omni-flash in text and audio (voice Cherry), streamed with usage"),
    )
}

/// The bundled cassettes' names and how to make them.
pub fn bundled(config: &ResponderConfig) -> Vec<(&'static str, Cassette)> {
    vec![
        ("openai/chat-text-stream", openai_text(config)),
        ("openai/chat-audio-stream", openai_audio(config)),
        ("dashscope/chat-omni-stream", dashscope_omni(config)),
    ]
}
