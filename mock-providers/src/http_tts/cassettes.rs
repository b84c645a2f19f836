//! The bundled HTTP TTS cassettes, made from the respond engine.
//!
//! `fixtures/cassettes/openai/speech-pcm.jsonl` (one `audio/speech` request,
//! `pcm` streamed as chunked bytes) and
//! `fixtures/cassettes/gemini/tts-stream.jsonl` (one `streamGenerateContent?alt=sse`
//! request) are *synthesized*: what the respond engine answers with the bundled
//! voice and default pacing, written as an `http_request` frame and an
//! `http_response` frame whose `chunks` carry the body pieces at their send
//! times. A test checks that the bundled files still equal what this module
//! makes; regenerate them with
//! `cargo test -p understudy-mock --lib write_bundled_http_cassettes -- --ignored`
//! (the check and the writer, in [`crate::http`], cover every bundled HTTP
//! cassette).

use super::synth::Synth;
use super::{gemini, openai};
use crate::http::synthesize::exchange_cassette as exchange;
use serde_json::json;
use understudy_fixtures::{Cassette, Header, Origin};

/// The text of the bundled OpenAI speech request.
pub const OPENAI_TEXT: &str = "Hello there.";
/// The text of the bundled Gemini TTS request.
pub const GEMINI_TEXT: &str = "Have a nice day.";
/// One OpenAI `audio/speech` request for raw `pcm`, streamed.
pub fn openai_speech(synth: &Synth) -> Cassette {
    let body = json!({"model": "gpt-4o-mini-tts", "input": OPENAI_TEXT, "voice": "alloy", "response_format": "pcm"});
    let request = match openai::validate(body.to_string().as_bytes()) {
        Ok(request) => request,
        Err((_, error)) => unreachable!("the bundled request is valid: {}", error.message),
    };
    let planned = openai::answer(
        &request,
        synth,
        openai::Options::default(),
        "req_understudy_synthesized",
    );
    let header = Header::new("openai", openai::DIALECT, "gpt-4o-mini-tts", Origin::Synthesized)
        .with_description(format!(
            "POST /v1/audio/speech, {OPENAI_TEXT:?} as pcm streamed in chunks — synthesized from the respond engine (mock-providers/src/http_tts/cassettes.rs)"
        ));
    exchange(
        header,
        "/v1/audio/speech",
        &[
            ("content-type", "application/json"),
            ("accept", "application/octet-stream"),
        ],
        body,
        &planned,
        false,
    )
}

/// One Gemini `streamGenerateContent?alt=sse` TTS request.
pub fn gemini_tts(synth: &Synth) -> Cassette {
    let model = "gemini-2.5-flash-preview-tts";
    let path = format!("/v1beta/models/{model}:streamGenerateContent?alt=sse");
    let body = json!({"contents": [{"role": "user", "parts": [{"text": GEMINI_TEXT}]}],
        "generationConfig": {"responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}});
    let route = gemini::route(&format!("/v1beta/models/{model}:streamGenerateContent"))
        .unwrap_or_else(|| unreachable!("the bundled path is a route"));
    let call = match gemini::validate(&route, body.to_string().as_bytes()) {
        Ok(call) => call,
        Err(error) => unreachable!("the bundled request is valid: {}", error.message),
    };
    let planned = gemini::answer(
        &route,
        gemini::Method::Stream { sse: true },
        &call,
        synth,
        false,
        "understudy_synthesized",
    );
    let header = Header::new("gemini", gemini::DIALECT, model, Origin::Synthesized).with_description(format!(
        "streamGenerateContent?alt=sse, {GEMINI_TEXT:?} in voice Kore, one audio chunk per event — synthesized from the respond engine (mock-providers/src/http_tts/cassettes.rs)"
    ));
    exchange(
        header,
        &path,
        &[("content-type", "application/json")],
        body,
        &planned,
        true,
    )
}

/// The bundled cassettes' names and how to make them.
pub fn bundled(synth: &Synth) -> Vec<(&'static str, Cassette)> {
    vec![
        ("openai/speech-pcm", openai_speech(synth)),
        ("gemini/tts-stream", gemini_tts(synth)),
    ]
}
