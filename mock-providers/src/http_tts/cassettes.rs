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
//! `cargo test -p understudy-mock --lib write_bundled_http_cassettes -- --ignored`.

use super::plan::Planned;
use super::synth::Synth;
use super::{gemini, openai};
use serde_json::{json, Value};
use understudy_fixtures::{
    Cassette, ChunkData, Direction, Frame, FrameBody, Header, Headers, HttpBody, HttpChunk,
    HttpRequest, HttpResponse, Origin,
};

/// The text of the bundled OpenAI speech request.
pub const OPENAI_TEXT: &str = "Hello there.";
/// The text of the bundled Gemini TTS request.
pub const GEMINI_TEXT: &str = "Have a nice day.";
/// When the response head arrives after the request, in microseconds.
const HEAD_AFTER_US: u64 = 1_000;

/// A cassette holding one request and the planned answer to it.
fn exchange(
    header: Header,
    path: &str,
    request_headers: &[(&str, &str)],
    body: Value,
    planned: &Planned,
    text_chunks: bool,
) -> Cassette {
    let mut headers = Headers::new();
    for (name, value) in request_headers {
        headers.append(*name, *value);
    }
    let mut cassette = Cassette::new(header);
    cassette.frames.push(Frame::new(
        0,
        Direction::ClientToServer,
        FrameBody::HttpRequest(HttpRequest {
            method: "POST".into(),
            path: path.into(),
            headers,
            body: Some(HttpBody::Json(body)),
        }),
    ));
    let mut response_headers = Headers::new();
    for (name, value) in &planned.headers {
        response_headers.append(*name, value.clone());
    }
    response_headers.append("transfer-encoding", "chunked");
    let mut t_us = HEAD_AFTER_US;
    let chunks = planned
        .pieces
        .iter()
        .map(|piece| {
            t_us += piece.after.as_micros() as u64;
            let data = if text_chunks {
                ChunkData::Text(String::from_utf8_lossy(&piece.bytes).into_owned())
            } else {
                ChunkData::Bytes(piece.bytes.to_vec())
            };
            HttpChunk { t_us, data }
        })
        .collect();
    cassette.frames.push(Frame::new(
        HEAD_AFTER_US,
        Direction::ServerToClient,
        FrameBody::HttpResponse(HttpResponse {
            status: planned.status.as_u16(),
            headers: response_headers,
            body: None,
            chunks,
        }),
    ));
    cassette
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResponderConfig;

    fn synth() -> Synth {
        Synth::from_responder(
            &ResponderConfig::with_voice(crate::bundled_voice().unwrap()),
            1.0,
        )
    }

    #[test]
    fn the_bundled_http_cassettes_are_what_the_respond_engine_answers() {
        for (name, made) in bundled(&synth()) {
            let bundled = understudy_fixtures::bundled::cassette(name).unwrap_or_else(|e| {
                panic!("{name} is not bundled ({e}); regenerate it (see the module docs)")
            });
            assert_eq!(bundled.header.dialect, made.header.dialect, "{name}");
            assert_eq!(bundled.header.origin, Origin::Synthesized, "{name}");
            assert!(
                bundled.frames == made.frames,
                "{name} differs from the respond engine's answer; regenerate it"
            );
            assert!(bundled.validate().is_valid(), "{name}");
        }
    }

    #[test]
    #[ignore = "writes fixtures/cassettes; run to regenerate the bundled HTTP TTS cassettes"]
    fn write_bundled_http_cassettes() {
        for (name, cassette) in bundled(&synth()) {
            let path = std::path::Path::new(understudy_fixtures::bundled::SOURCE_CASSETTES_DIR)
                .join(format!("{name}.jsonl"));
            std::fs::write(&path, cassette.to_jsonl_inline().unwrap()).unwrap();
            eprintln!("wrote {}", path.display());
        }
    }
}
