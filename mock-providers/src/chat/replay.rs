//! Replay of chat-completions cassettes (`openai-chat`, `dashscope-chat`)
//! through the shared HTTP replayer ([`crate::http::replay`]).
//!
//! A chat cassette is one exchange: the `http_request` (the JSON body) and
//! the `http_response` whose `chunks` are the SSE events as they arrived. The
//! cassette is picked by `X-Understudy-Cassette` (or `?cassette=`), else the
//! first chat cassette of the request's dialect; a name that is not loaded is
//! refused with a 400 naming the loaded ones (`replay_cassette_not_found`).
//!
//! What must match: whether the answer streams (`stream`, absent = false) and
//! whether it carries audio (`modalities` has `audio`) shape the answer, so a
//! difference is refused with a 400 in the dialect's error envelope
//! (`replay_mismatch` in OpenAI's; DashScope's `invalid_parameter_error`)
//! whose message names the cassette. The model, messages, voice and format,
//! tools and stream options are only noted in the journal as
//! `replay.mismatch`; the recording plays anyway.

use super::errors::ChatFailure;
use crate::config::ReplayLibrary;
use crate::http::plan::{JournalCtx, Planned};
use crate::http::replay::{Aspect, Incoming, Matching, RequestView, UnknownName};
use axum::http::HeaderMap;
use serde_json::Value;
use std::collections::HashMap;
use understudy_adapters::chat::ChatDialect;

/// The parts of a chat request replay reads besides its body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The path (no query).
    pub path: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The query parameters.
    pub query: &'a HashMap<String, String>,
}

/// How chat requests are matched against their recordings.
pub const MATCHING: Matching = Matching {
    shape: &[
        Aspect::Derived("stream", streamed),
        Aspect::Derived("audio output", audio_output),
    ],
    minor: &[
        Aspect::Field("model"),
        Aspect::Field("messages"),
        Aspect::Field("modalities"),
        Aspect::Field("audio"),
        Aspect::Field("tools"),
        Aspect::Field("tool_choice"),
        Aspect::Field("stream_options"),
    ],
    refuse,
    unknown_name: UnknownName::Refuse,
};

/// `stream`, absent meaning `false`.
fn streamed(request: &RequestView<'_>) -> Option<String> {
    let stream = request
        .body
        .and_then(|b| b.get("stream"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Some(stream.to_string())
}

/// Whether `modalities` asks for audio.
fn audio_output(request: &RequestView<'_>) -> Option<String> {
    let audio = request
        .body
        .and_then(|b| b.get("modalities"))
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|m| m.as_str() == Some("audio")));
    Some(audio.to_string())
}

/// A 400 in the dialect's envelope.
fn refuse(dialect: &str, message: String, code: &'static str) -> Planned {
    let dialect = if dialect == ChatDialect::DashScope.name() {
        ChatDialect::DashScope
    } else {
        ChatDialect::OpenAi
    };
    let failure = ChatFailure::bad_request(dialect, message, None, Some(code));
    let mut planned = Planned::json(failure.status, &failure.body, "error");
    planned.headers.extend(failure.headers);
    planned
}

/// The recorded answer to a valid chat request, at `speed`; `None` when no
/// cassette of the dialect is loaded (the respond engine answers).
pub fn answer(
    library: &ReplayLibrary,
    dialect: ChatDialect,
    request: Request<'_>,
    body: &[u8],
    speed: f64,
    ctx: &JournalCtx,
) -> Option<Planned> {
    let incoming = Incoming {
        dialect: dialect.name(),
        path: request.path,
        headers: request.headers,
        query: request.query,
        body,
    };
    crate::http::replay::answer(library, incoming, &MATCHING, speed, ctx)
}
