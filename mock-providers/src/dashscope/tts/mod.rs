//! The DashScope Qwen-TTS realtime dialect of the mock: the same path as
//! Qwen-Omni (`/api-ws/v1/realtime?model=…tts…`), routed by model.
//!
//! Validation answers with DashScope's `error` event and the session goes on.
//! The respond engine buffers appended text and speaks it in the bundled voice:
//! in `server_commit` mode once the buffer holds a sentence end, after an
//! optional holdback ([`ResponderConfig::tts_holdback`](crate::ResponderConfig::tts_holdback), default none; a mock
//! heuristic: the service's own segmentation is undocumented), in `commit` mode on each
//! commit, and whatever is left on `session.finish`, after which it confirms
//! with `session.finished` and closes (code 1000, *unconfirmed*). Responses
//! are spoken one after another, never overlapping.
//!
//! A commit is answered `input_text_buffer.committed` whenever text was
//! appended since the last commit, even if `server_commit` segmentation has
//! already spoken all of it (the captured flow of protocol notes §5.1: append,
//! commit → committed and one response, no error). Only a commit with nothing
//! appended since the last one gets `input_text_buffer_commit_empty`.
//!
//! Set-up faults ([`super::SetupFault`]) and the session limit apply here as
//! they do to Qwen-Omni sessions.
//!
//! The parts: `protocol` parses and validates client frames (the session
//! settings the service accepts); `responder` is the [`TtsResponder`] that
//! buffers text and schedules spoken responses.

mod protocol;
mod responder;
#[cfg(test)]
mod tests;

pub use protocol::DashScopeTtsProtocol;
pub use responder::TtsResponder;

/// Output rates the service lists (the SDK docstring adds 22050 and 44100).
const SAMPLE_RATES: &[u32] = &[8000, 16000, 22050, 24000, 44100, 48000];
/// Formats this mock speaks. The service also offers `mp3` and `opus`; the mock
/// refuses those with an error that says so rather than sending wrong bytes.
const FORMATS: &[&str] = &["pcm", "wav"];
/// Formats the service documents.
const SERVICE_FORMATS: &[&str] = &["pcm", "wav", "mp3", "opus"];
/// Sentence ends after which `server_commit` mode speaks (ASCII and full-width).
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '\n', '。', '！', '？', '；'];
/// Shortest and longest utterance per response, in milliseconds.
const UTTERANCE_MS: (u64, u64) = (200, 60_000);
/// The documented message for a settings change once synthesis has begun.
const UPDATE_TOO_LATE: &str =
    "Session update error: session already started or finished or failed.";
