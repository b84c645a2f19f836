//! A kept session taken out of the journal whole: the audio each direction
//! carried, as WAV (`GET /__understudy/sessions/{id}/audio/{in|out}.wav`),
//! and the session as a cassette (`GET /__understudy/sessions/{id}/cassette`).
//!
//! Both work from the frames as kept, on a reader's thread, never on a
//! session's: audio is found with the fixtures crate's per-provider
//! [`AudioRules`] (where each provider puts base64 PCM16, at which rate) and
//! decoded only here. Only [`JournalMode::Full`] keeps a frame's audio; in
//! `summary` mode the WAV is refused and the cassette's audio fields are
//! emptied (its description says so).

use super::store::{Detail, Stored};
use super::{EntryKind, JournalMode};
use serde_json::Value;
use std::sync::Arc;
use understudy_adapters::registry;
use understudy_fixtures::http_audio::json_audio_pcm;
use understudy_fixtures::{AudioRules, Cassette, Direction, Frame, FrameBody, Header, Origin};

/// Why a session's audio or cassette cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The session is not kept (never opened, evicted or cleared).
    #[error("session {0} is not in the journal (never opened, evicted or cleared)")]
    NotKept(u64),
    /// The journal does not keep audio in this mode.
    #[error("audio not kept: run with --journal full (the journal is in {0} mode)")]
    AudioNotKept(JournalMode),
    /// The session carried no audio that way.
    #[error("session {session} carried no audio {direction}")]
    NoAudio {
        /// The session.
        session: u64,
        /// `in` or `out`.
        direction: &'static str,
    },
    /// Its dialect is not a WebSocket session a cassette can hold.
    #[error("session {session} spoke `{dialect}`, which is not a realtime WebSocket dialect; only those export as cassettes")]
    NotRealtime {
        /// The session.
        session: u64,
        /// Its dialect.
        dialect: String,
    },
    /// Encoding the WAV failed.
    #[error("the audio could not be encoded as WAV")]
    Wav(#[from] understudy_fixtures::WavError),
    /// Serialising the cassette failed.
    #[error("the cassette could not be written")]
    Cassette(#[from] understudy_fixtures::CassetteError),
}

/// One direction's audio of a session, as a WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAudio {
    /// The WAV file (PCM16 mono).
    pub wav: Vec<u8>,
    /// Its sample rate, in Hz.
    pub sample_rate: u32,
    /// Its length in samples.
    pub samples: usize,
}

/// The provider a dialect id belongs to (`openai`, `gemini`, `dashscope`),
/// or the dialect itself when the registry does not know it.
fn provider_of(dialect: &str) -> String {
    registry::dialect(dialect)
        .map(|d| d.provider.to_owned())
        .unwrap_or_else(|_| dialect.to_owned())
}

/// The JSON payload a kept frame carries, if it is a whole frame.
fn payload(detail: &Detail) -> Option<Value> {
    match detail {
        Detail::Shared(text) => serde_json::from_str(text).ok(),
        Detail::Bytes(bytes) => serde_json::from_slice(bytes).ok(),
        Detail::Text(_) => None,
    }
}

/// The audio a session's frames going `dir` carried, concatenated, at the
/// rate of its first piece (`None` when there is none).
pub(super) fn audio(
    session: u64,
    dialect: &str,
    mode: JournalMode,
    entries: &[Arc<Stored>],
    dir: Direction,
) -> Result<SessionAudio, ExportError> {
    if mode != JournalMode::Full {
        return Err(ExportError::AudioNotKept(mode));
    }
    let kind = match dir {
        Direction::ClientToServer => EntryKind::Client,
        Direction::ServerToClient => EntryKind::Server,
    };
    let rules = AudioRules::for_provider(&provider_of(dialect));
    let mut pcm = Vec::new();
    let mut rate = None;
    for entry in entries.iter().filter(|e| e.kind == kind) {
        let Some(json) = payload(&entry.detail) else {
            continue;
        };
        for (piece, piece_rate) in json_audio_pcm(&json, dir, &rules) {
            rate.get_or_insert(piece_rate);
            pcm.extend_from_slice(&piece);
        }
    }
    let direction = match dir {
        Direction::ClientToServer => "in",
        Direction::ServerToClient => "out",
    };
    let Some(sample_rate) = rate else {
        return Err(ExportError::NoAudio { session, direction });
    };
    pcm.truncate(pcm.len() & !1);
    let samples = pcm.len() / 2;
    Ok(SessionAudio {
        wav: understudy_fixtures::wav::write_pcm16(&pcm, sample_rate)?,
        sample_rate,
        samples,
    })
}

/// A frame's text as the journal's mode keeps it: whole in `full`, else
/// with its audio cut (server frames are held whole and cut when read).
fn as_kept(text: &str, mode: JournalMode) -> String {
    match mode {
        JournalMode::Full => text.to_owned(),
        _ => super::audio::strip(text).unwrap_or_else(|| text.to_owned()),
    }
}

/// Whether a string is the journal's stand-in for audio it did not keep.
fn is_placeholder(s: &str) -> bool {
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix(" base64 chars>"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `value` with every audio stand-in emptied (a cassette holds no
/// `<N base64 chars>`: it would be sent to a client as audio).
fn empty_placeholders(value: &mut Value) {
    match value {
        Value::String(s) if is_placeholder(s) => s.clear(),
        Value::Array(items) => items.iter_mut().for_each(empty_placeholders),
        Value::Object(map) => map.values_mut().for_each(empty_placeholders),
        _ => {}
    }
}

/// The session's frames as a cassette v1, `synthesized` (it was served by a
/// mock, not recorded from a provider).
pub(super) fn cassette(
    session: u64,
    dialect: &str,
    model: &str,
    engine: &str,
    mode: JournalMode,
    entries: &[Arc<Stored>],
) -> Result<Cassette, ExportError> {
    let spec = registry::dialect(dialect).ok();
    if !spec.is_some_and(|d| d.kind.is_websocket()) {
        return Err(ExportError::NotRealtime {
            session,
            dialect: dialect.to_owned(),
        });
    }
    let audio = if mode == JournalMode::Full {
        "audio included"
    } else {
        "audio not kept (the journal was in summary mode): audio fields are empty"
    };
    let header = Header::new(provider_of(dialect), dialect, model, Origin::Synthesized)
        .with_description(format!(
            "session {session} as the mock served it (engine `{engine}`), from the journal; {audio}"
        ));
    let mut cassette = Cassette::new(header);
    for entry in entries {
        let dir = match entry.kind {
            EntryKind::Client => Direction::ClientToServer,
            EntryKind::Server => Direction::ServerToClient,
            EntryKind::Note => continue,
        };
        let t_us = entry.t_ms.saturating_mul(1_000);
        let body = match &entry.detail {
            Detail::Text(text) if &*entry.label == "close" => {
                let (code, reason) = text.split_once(' ').unwrap_or((text.as_str(), ""));
                let Ok(code) = code.parse::<u16>() else {
                    continue;
                };
                cassette.frames.push(Frame::close(t_us, dir, code, reason));
                continue;
            }
            // A line its writer already summarised (a binary frame's size,
            // an unreadable frame's reason): nothing to replay.
            Detail::Text(_) => continue,
            Detail::Shared(text) => FrameBody::from_ws_text(as_kept(text, mode)),
            Detail::Bytes(bytes) => match (mode, std::str::from_utf8(bytes)) {
                (JournalMode::Full, _) | (_, Err(_)) => FrameBody::from_ws_binary(bytes.to_vec()),
                (_, Ok(text)) => FrameBody::from_ws_binary(as_kept(text, mode).into_bytes()),
            },
        };
        let mut frame = Frame::new(t_us, dir, body);
        if let Some(json) = frame.json_mut() {
            empty_placeholders(json);
        }
        cassette.frames.push(frame);
    }
    Ok(cassette)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised_exactly() {
        assert!(is_placeholder("<400 base64 chars>"));
        assert!(!is_placeholder("< base64 chars>"));
        assert!(!is_placeholder("<4x0 base64 chars>"));
        assert!(!is_placeholder("hello"));
        let mut v =
            serde_json::json!({"a": ["<12 base64 chars>", "keep"], "b": "<9 base64 chars>"});
        empty_placeholders(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["", "keep"], "b": ""}));
    }
}
