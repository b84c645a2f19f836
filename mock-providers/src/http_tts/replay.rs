//! Replay of HTTP TTS cassettes (not yet in this build: every request is
//! answered by the respond engine).

use super::plan::{JournalCtx, Planned};
use crate::config::ReplayLibrary;
use axum::http::HeaderMap;
use std::collections::HashMap;

/// The recorded answer for this request, when a cassette of `dialect` is loaded.
pub fn answer(
    _library: &ReplayLibrary,
    _dialect: &str,
    _headers: &HeaderMap,
    _query: &HashMap<String, String>,
    _body: &[u8],
    _ctx: &JournalCtx,
) -> Option<Planned> {
    None
}
