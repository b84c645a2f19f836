//! Serde types of OpenAI `POST /v1/audio/speech`, shared by the client adapter
//! and the mock so that the two cannot drift apart.
//!
//! Reference: OpenAI's API reference, "Create speech"
//! (<https://platform.openai.com/docs/api-reference/audio/createSpeech>).
//! The request is a flat JSON object;
//! the answer is the audio bytes themselves (`stream_format: "audio"`) or
//! server-sent events carrying them in base64 (`stream_format: "sse"`); errors
//! use OpenAI's standard `{"error": {...}}` envelope.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// The default path below the API base (`https://api.openai.com/v1`).
pub const PATH: &str = "/audio/speech";

/// Longest `input` the service accepts, in characters.
pub const MAX_INPUT_CHARS: usize = 4096;

/// Rate of `pcm` output (and of the samples inside `wav`): 24 kHz mono.
pub const SAMPLE_RATE: u32 = 24_000;

/// Slowest and fastest `speed`.
pub const SPEED_RANGE: (f64, f64) = (0.25, 4.0);

/// The built-in voices.
pub const VOICES: &[&str] = &[
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
    "marin", "cedar",
];

/// The speech models (dated snapshots of them are accepted too).
pub const MODELS: &[&str] = &["tts-1", "tts-1-hd", "gpt-4o-mini-tts"];

/// Whether `model` is one of [`MODELS`] or a dated snapshot of one
/// (`gpt-4o-mini-tts-2025-03-20`).
pub fn is_speech_model(model: &str) -> bool {
    MODELS.iter().any(|m| {
        model == *m
            || model
                .strip_prefix(m)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|date| {
                    !date.is_empty() && date.chars().all(|c| c.is_ascii_digit() || c == '-')
                })
    })
}

/// Whether `model` is a `tts-1*` model (no `instructions`, no SSE).
pub fn is_legacy_model(model: &str) -> bool {
    model.starts_with("tts-1")
}

/// The request body.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechRequest {
    /// `tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`, …
    pub model: String,
    /// The text to speak (at most [`MAX_INPUT_CHARS`] characters).
    pub input: String,
    /// A built-in voice name or a custom voice.
    pub voice: Voice,
    /// A style prompt (not for `tts-1*`).
    pub instructions: Option<String>,
    /// Audio container; the service defaults to `mp3`.
    pub response_format: Option<ResponseFormat>,
    /// 0.25–4.0; the service defaults to 1.0.
    pub speed: Option<f64>,
    /// `audio` (the bytes) or `sse` (events); the service defaults to `audio`.
    pub stream_format: Option<StreamFormat>,
}

/// A voice: a built-in name, or `{"id": "voice_…"}` for a custom voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Voice {
    /// A built-in voice (see [`VOICES`]).
    Named(String),
    /// A custom voice by id.
    Custom {
        /// `voice_…`.
        id: String,
    },
}

impl From<&str> for Voice {
    fn from(name: &str) -> Self {
        Voice::Named(name.to_owned())
    }
}

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseFormat {
    /// MPEG audio layer III (the service's default).
    Mp3,
    /// Opus in Ogg.
    Opus,
    /// AAC in ADTS.
    Aac,
    /// FLAC.
    Flac,
    /// PCM16 mono with a RIFF/WAVE header.
    Wav,
    /// Raw PCM16 little-endian mono at 24 kHz, no header.
    Pcm,
}

impl ResponseFormat {
    /// Every format, in the order the service lists them.
    pub const ALL: [ResponseFormat; 6] = [
        ResponseFormat::Mp3,
        ResponseFormat::Opus,
        ResponseFormat::Aac,
        ResponseFormat::Flac,
        ResponseFormat::Wav,
        ResponseFormat::Pcm,
    ];

    /// The wire name (`mp3`, `pcm`, …).
    pub fn name(self) -> &'static str {
        match self {
            ResponseFormat::Mp3 => "mp3",
            ResponseFormat::Opus => "opus",
            ResponseFormat::Aac => "aac",
            ResponseFormat::Flac => "flac",
            ResponseFormat::Wav => "wav",
            ResponseFormat::Pcm => "pcm",
        }
    }

    /// The format a wire name denotes.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The `Content-Type` of a body in this format (`audio/mpeg` for mp3 is
    /// confirmed; the others follow common practice, unconfirmed).
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseFormat::Mp3 => "audio/mpeg",
            ResponseFormat::Opus => "audio/ogg",
            ResponseFormat::Aac => "audio/aac",
            ResponseFormat::Flac => "audio/flac",
            ResponseFormat::Wav => "audio/wav",
            ResponseFormat::Pcm => "audio/pcm",
        }
    }
}

/// `stream_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamFormat {
    /// The body is the audio file itself, sent with chunked transfer encoding.
    Audio,
    /// The body is server-sent events ([`SpeechStreamEvent`]).
    Sse,
}

/// One server-sent event of a `stream_format: "sse"` answer (`data: <json>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SpeechStreamEvent {
    /// A piece of the audio file, base64.
    #[serde(rename = "speech.audio.delta")]
    AudioDelta {
        /// Standard base64 of the next bytes of the `response_format` file.
        audio: String,
    },
    /// The end of the audio, with token usage.
    #[serde(rename = "speech.audio.done")]
    AudioDone {
        /// Tokens used.
        usage: SpeechUsage,
    },
    /// An event type this build does not know (kept so that readers can skip it).
    #[serde(other)]
    Unknown,
}

/// `usage` of `speech.audio.done`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeechUsage {
    /// Text tokens in.
    pub input_tokens: u64,
    /// Audio tokens out.
    pub output_tokens: u64,
    /// Their sum.
    pub total_tokens: u64,
}

/// OpenAI's error envelope, `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ApiError,
}

/// The body of an OpenAI API error. `param` and `code` are written as `null`
/// when absent, as the service does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Human-readable message.
    pub message: String,
    /// `invalid_request_error`, `server_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault, if any.
    #[serde(default)]
    pub param: Option<String>,
    /// Machine-readable code (`invalid_api_key`, `rate_limit_exceeded`, …).
    #[serde(default)]
    pub code: Option<String>,
}

impl ApiError {
    /// An `invalid_request_error` about `param` with `code`.
    pub fn invalid_request(
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&str>,
    ) -> Self {
        ApiError {
            message: message.into(),
            kind: "invalid_request_error".into(),
            param: param.map(str::to_owned),
            code: code.map(str::to_owned),
        }
    }

    /// Wrapped in its envelope.
    pub fn into_envelope(self) -> ErrorEnvelope {
        ErrorEnvelope { error: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_captured_bodies_round_trip() {
        let captured = json!({"model":"gpt-4o-mini-tts","input":"hello","voice":"alloy","response_format":"pcm","stream_format":"sse"});
        let request: SpeechRequest = serde_json::from_value(captured.clone()).unwrap();
        assert_eq!(request.voice, Voice::Named("alloy".into()));
        assert_eq!(request.response_format, Some(ResponseFormat::Pcm));
        assert_eq!(request.stream_format, Some(StreamFormat::Sse));
        assert_eq!(serde_json::to_value(&request).unwrap(), captured);
        let custom: SpeechRequest =
            serde_json::from_value(json!({"model":"tts-1","input":"x","voice":{"id":"voice_123"}}))
                .unwrap();
        assert_eq!(
            custom.voice,
            Voice::Custom {
                id: "voice_123".into()
            }
        );
    }

    #[test]
    fn events_and_errors_have_the_service_shapes() {
        let delta: SpeechStreamEvent =
            serde_json::from_str(r#"{"type":"speech.audio.delta","audio":"AAA="}"#).unwrap();
        assert_eq!(
            delta,
            SpeechStreamEvent::AudioDelta {
                audio: "AAA=".into()
            }
        );
        let done = SpeechStreamEvent::AudioDone {
            usage: SpeechUsage {
                input_tokens: 14,
                output_tokens: 101,
                total_tokens: 115,
            },
        };
        assert_eq!(
            serde_json::to_value(&done).unwrap(),
            json!({"type":"speech.audio.done","usage":{"input_tokens":14,"output_tokens":101,"total_tokens":115}})
        );
        let other: SpeechStreamEvent =
            serde_json::from_str(r#"{"type":"speech.future","x":1}"#).unwrap();
        assert_eq!(other, SpeechStreamEvent::Unknown);
        let envelope =
            ApiError::invalid_request("Missing required parameter: 'input'.", Some("input"), None)
                .into_envelope();
        assert_eq!(
            serde_json::to_value(&envelope).unwrap(),
            json!({"error":{"message":"Missing required parameter: 'input'.","type":"invalid_request_error","param":"input","code":null}})
        );
    }

    #[test]
    fn models_and_snapshots_are_recognised() {
        assert!(is_speech_model("gpt-4o-mini-tts"));
        assert!(is_speech_model("gpt-4o-mini-tts-2025-03-20"));
        assert!(is_speech_model("tts-1-hd"));
        assert!(!is_speech_model("gpt-4o"));
        assert!(!is_speech_model("tts-1-x"));
        assert!(is_legacy_model("tts-1-hd") && !is_legacy_model("gpt-4o-mini-tts"));
        assert_eq!(ResponseFormat::from_name("wav"), Some(ResponseFormat::Wav));
        assert_eq!(ResponseFormat::from_name("ogg"), None);
    }
}
