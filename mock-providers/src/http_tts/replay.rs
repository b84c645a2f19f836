//! What an HTTP TTS request must share with the cassette replayed for it
//! (the replayer itself is [`crate::http::replay`]).
//!
//! OpenAI `audio/speech`: `response_format` and `stream_format` shape the
//! answer; the model, voice, input text, instructions and speed are only
//! noted. Gemini: the method and `alt` shape the answer; `contents` and
//! `generationConfig` are noted. A request naming a cassette that is not
//! loaded is answered by the respond engine (the journal says why).

use super::{gemini, openai};
use crate::http::plan::Planned;
use crate::http::replay::{Aspect, Matching, RequestView, UnknownName};
use axum::http::StatusCode;
use understudy_adapters::tts::gemini_tts::wire::RpcError;
use understudy_adapters::tts::openai_speech::wire::ApiError;

/// `audio/speech` requests.
pub const OPENAI: Matching = Matching {
    shape: &[
        Aspect::Field("response_format"),
        Aspect::Field("stream_format"),
    ],
    minor: &[
        Aspect::Field("model"),
        Aspect::Field("voice"),
        Aspect::Field("input"),
        Aspect::Field("instructions"),
        Aspect::Field("speed"),
    ],
    refuse,
    unknown_name: UnknownName::RespondEngine,
};

/// Gemini `generateContent` / `streamGenerateContent` requests.
pub const GEMINI: Matching = Matching {
    shape: &[Aspect::Derived("method", gemini_method)],
    minor: &[Aspect::Field("contents"), Aspect::Field("generationConfig")],
    refuse,
    unknown_name: UnknownName::RespondEngine,
};

/// `streamGenerateContent?alt=sse`, `generateContent`, …: what decides the
/// shape of a Gemini answer.
fn gemini_method(request: &RequestView<'_>) -> Option<String> {
    let (_, method) = request.path.rsplit_once(':')?;
    Some(match request.query.get("alt") {
        Some(alt) => format!("{method}?alt={alt}"),
        None => method.to_owned(),
    })
}

/// The provider's 400.
fn refuse(dialect: &str, message: String, code: &'static str) -> Planned {
    if dialect == gemini::DIALECT {
        gemini::refusal(RpcError::new(400, "INVALID_ARGUMENT", message))
    } else {
        openai::refusal((
            StatusCode::BAD_REQUEST,
            ApiError::invalid_request(message, None, Some(code)),
        ))
    }
}
