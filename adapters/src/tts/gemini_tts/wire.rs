//! Serde types of Gemini TTS over `generateContent` / `streamGenerateContent`,
//! shared by the client adapter and the mock.
//!
//! Reference: the Gemini API's speech generation guide
//! (<https://ai.google.dev/gemini-api/docs/speech-generation>). Output is
//! lowerCamelCase, as the
//! service writes it; input accepts snake_case for every field as well, since
//! the official SDK sends `speechConfig` with snake_case inside. `Content`,
//! `Part` and `Blob` are the Live API's (same shapes). Unknown fields are kept
//! in `extra`.

use crate::gemini::wire::{Content, ModalityTokenCount};
use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// The public API base.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The API version the adapter uses by default (google-genai 3.x uses `v1`;
/// the mock accepts any).
pub const DEFAULT_API_VERSION: &str = "v1beta";

/// Rate of the PCM the TTS models return (the MIME type says so too).
pub const SAMPLE_RATE: u32 = 24_000;

/// The prebuilt voices.
pub const VOICES: &[&str] = &[
    "Zephyr",
    "Puck",
    "Charon",
    "Kore",
    "Fenrir",
    "Leda",
    "Orus",
    "Aoede",
    "Callirrhoe",
    "Autonoe",
    "Enceladus",
    "Iapetus",
    "Umbriel",
    "Algieba",
    "Despina",
    "Erinome",
    "Algenib",
    "Rasalgethi",
    "Laomedeia",
    "Achernar",
    "Alnilam",
    "Schedar",
    "Gacrux",
    "Pulcherrima",
    "Achird",
    "Zubenelgenubi",
    "Vindemiatrix",
    "Sadachbia",
    "Sadaltager",
    "Sulafat",
];

/// The TTS models known to this build.
pub const MODELS: &[&str] = &["gemini-2.5-flash-preview-tts", "gemini-2.5-pro-preview-tts"];

/// The request body of `generateContent` and `streamGenerateContent`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    /// The conversation; for TTS one user turn with the text to speak.
    pub contents: Option<Vec<Content>>,
    /// Output modalities and voice.
    #[serde(alias = "generation_config")]
    pub generation_config: Option<GenerationConfig>,
    /// A system prompt (not used by the TTS models).
    #[serde(alias = "system_instruction")]
    pub system_instruction: Option<Content>,
    /// Unmodelled fields (`safetySettings`, `tools`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl GenerateContentRequest {
    /// The text of every part of every content, joined with newlines.
    pub fn text(&self) -> String {
        self.contents
            .iter()
            .flatten()
            .flat_map(|c| c.parts.iter().flatten())
            .filter_map(|p| p.text.as_deref())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `generationConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// `["AUDIO"]` for TTS.
    #[serde(alias = "response_modalities")]
    pub response_modalities: Option<Vec<String>>,
    /// Voice and language.
    #[serde(alias = "speech_config")]
    pub speech_config: Option<SpeechConfig>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Unmodelled fields (`topP`, `seed`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `speechConfig`: one voice, or up to two named speakers.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct SpeechConfig {
    /// The single voice.
    #[serde(alias = "voice_config")]
    pub voice_config: Option<VoiceConfig>,
    /// Voices per speaker name (instead of `voiceConfig`).
    #[serde(alias = "multi_speaker_voice_config")]
    pub multi_speaker_voice_config: Option<MultiSpeakerVoiceConfig>,
    /// BCP-47 language (`en-US`), optional.
    #[serde(alias = "language_code")]
    pub language_code: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SpeechConfig {
    /// A single prebuilt voice.
    pub fn voice(name: &str) -> Self {
        SpeechConfig {
            voice_config: Some(VoiceConfig::prebuilt(name)),
            ..Default::default()
        }
    }
}

/// `voiceConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct VoiceConfig {
    /// A prebuilt voice.
    #[serde(alias = "prebuilt_voice_config")]
    pub prebuilt_voice_config: Option<PrebuiltVoiceConfig>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl VoiceConfig {
    /// The prebuilt voice `name`.
    pub fn prebuilt(name: &str) -> Self {
        VoiceConfig {
            prebuilt_voice_config: Some(PrebuiltVoiceConfig {
                voice_name: Some(name.to_owned()),
                extra: Default::default(),
            }),
            extra: Default::default(),
        }
    }

    /// The prebuilt voice's name, if one is set.
    pub fn voice_name(&self) -> Option<&str> {
        self.prebuilt_voice_config.as_ref()?.voice_name.as_deref()
    }
}

/// `prebuiltVoiceConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct PrebuiltVoiceConfig {
    /// One of [`VOICES`].
    #[serde(alias = "voice_name")]
    pub voice_name: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `multiSpeakerVoiceConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct MultiSpeakerVoiceConfig {
    /// One entry per speaker (at most two).
    #[serde(alias = "speaker_voice_configs")]
    pub speaker_voice_configs: Option<Vec<SpeakerVoiceConfig>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One speaker of a multi-speaker request.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct SpeakerVoiceConfig {
    /// The name the text uses for this speaker.
    pub speaker: Option<String>,
    /// Their voice.
    #[serde(alias = "voice_config")]
    pub voice_config: Option<VoiceConfig>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer of `generateContent`, and each event of `streamGenerateContent`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    /// The generated candidates (one for TTS).
    pub candidates: Option<Vec<Candidate>>,
    /// Token counts (on the last event of a stream).
    #[serde(alias = "usage_metadata")]
    pub usage_metadata: Option<GenerateUsageMetadata>,
    /// The model that answered.
    #[serde(alias = "model_version")]
    pub model_version: Option<String>,
    /// The response id.
    #[serde(alias = "response_id")]
    pub response_id: Option<String>,
    /// Why the prompt was blocked, if it was (`{"blockReason": …}`).
    #[serde(alias = "prompt_feedback")]
    pub prompt_feedback: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One candidate.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// Its content: `inlineData` audio parts.
    pub content: Option<Content>,
    /// `STOP` when complete (`MAX_TOKENS`, `SAFETY`, `OTHER`, … otherwise).
    #[serde(alias = "finish_reason")]
    pub finish_reason: Option<String>,
    /// Candidate index.
    pub index: Option<u32>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `usageMetadata` of `generateContent` (note `candidatesTokenCount`, where the
/// Live API says `responseTokenCount`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct GenerateUsageMetadata {
    /// Input tokens.
    #[serde(alias = "prompt_token_count")]
    pub prompt_token_count: Option<u64>,
    /// Output tokens.
    #[serde(alias = "candidates_token_count")]
    pub candidates_token_count: Option<u64>,
    /// Their sum.
    #[serde(alias = "total_token_count")]
    pub total_token_count: Option<u64>,
    /// Input tokens per modality.
    #[serde(alias = "prompt_tokens_details")]
    pub prompt_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Output tokens per modality.
    #[serde(alias = "candidates_tokens_details")]
    pub candidates_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Google's RPC error envelope, `{"error": {"code", "message", "status"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: RpcError,
}

/// The body of a Google API error.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// The HTTP status code.
    pub code: u16,
    /// Human-readable message.
    pub message: String,
    /// The canonical status name (`INVALID_ARGUMENT`, `NOT_FOUND`, …).
    pub status: String,
    /// Typed details (`google.rpc.ErrorInfo`, …), when the service gives them.
    pub details: Option<Vec<Value>>,
}

impl RpcError {
    /// An error with no details.
    pub fn new(code: u16, status: &str, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            status: status.to_owned(),
            details: None,
        }
    }

    /// Wrapped in its envelope.
    pub fn into_envelope(self) -> ErrorEnvelope {
        ErrorEnvelope { error: self }
    }
}

/// The sample rate a PCM MIME type declares: `audio/L16;codec=pcm;rate=24000`
/// or `audio/pcm;rate=24000` → 24000. `None` if it is not raw PCM; a PCM type
/// without a rate means [`SAMPLE_RATE`].
pub fn pcm_rate(mime_type: &str) -> Option<u32> {
    let mut params = mime_type.split(';').map(str::trim);
    let essence = params.next()?.to_ascii_lowercase();
    if essence != "audio/l16" && essence != "audio/pcm" {
        return None;
    }
    let mut rate = SAMPLE_RATE;
    for param in params {
        if let Some((key, value)) = param.split_once('=') {
            if key.trim().eq_ignore_ascii_case("rate") {
                rate = value
                    .trim()
                    .trim_matches('"')
                    .parse()
                    .ok()
                    .filter(|r| *r > 0)?;
            }
        }
    }
    Some(rate)
}

/// The MIME type the service labels its PCM with.
pub fn pcm_mime(rate: u32) -> String {
    format!("audio/L16;codec=pcm;rate={rate}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_sdk_request_with_snake_case_speech_config_parses() {
        let captured = json!({"contents": [{"parts": [{"text": "Say hi"}], "role": "user"}],
            "generationConfig": {"responseModalities": ["AUDIO"],
                "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}}});
        let request: GenerateContentRequest = serde_json::from_value(captured).unwrap();
        assert_eq!(request.text(), "Say hi");
        let config = request.generation_config.unwrap();
        assert_eq!(config.response_modalities.unwrap(), vec!["AUDIO"]);
        let speech = config.speech_config.unwrap();
        assert_eq!(speech.voice_config.unwrap().voice_name(), Some("Kore"));
    }

    #[test]
    fn requests_serialise_camel_case() {
        let request = GenerateContentRequest {
            contents: Some(vec![]),
            generation_config: Some(GenerationConfig {
                response_modalities: Some(vec!["AUDIO".into()]),
                speech_config: Some(SpeechConfig::voice("Puck")),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"contents": [], "generationConfig": {"responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}}})
        );
    }

    #[test]
    fn the_documented_response_parses() {
        let body = json!({"candidates": [{"content": {"role": "model",
            "parts": [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": "AAAA"}}]},
            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 410, "totalTokenCount": 419,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}],
                "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 410}]},
            "modelVersion": "gemini-2.5-flash-preview-tts", "responseId": "x1Yb"});
        let response: GenerateContentResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(
            response
                .usage_metadata
                .as_ref()
                .unwrap()
                .candidates_token_count,
            Some(410)
        );
        assert_eq!(serde_json::to_value(&response).unwrap(), body);
    }

    #[test]
    fn rates_come_from_the_mime_type() {
        assert_eq!(pcm_rate("audio/L16;codec=pcm;rate=24000"), Some(24_000));
        assert_eq!(pcm_rate("audio/pcm; rate=16000"), Some(16_000));
        assert_eq!(pcm_rate("audio/L16"), Some(24_000));
        assert_eq!(pcm_rate("audio/L16;rate=zero"), None);
        assert_eq!(pcm_rate("audio/mpeg"), None);
        assert_eq!(pcm_rate(&pcm_mime(22_050)), Some(22_050));
    }

    #[test]
    fn errors_have_googles_shape() {
        let envelope = RpcError::new(404, "NOT_FOUND", "models/x is not found").into_envelope();
        assert_eq!(
            serde_json::to_value(&envelope).unwrap(),
            json!({"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}})
        );
    }
}

crate::lossless!(
    camel:
    GenerateContentRequest,
    GenerationConfig,
    SpeechConfig,
    VoiceConfig,
    PrebuiltVoiceConfig,
    MultiSpeakerVoiceConfig,
    SpeakerVoiceConfig,
    GenerateContentResponse,
    Candidate,
    GenerateUsageMetadata,
);
