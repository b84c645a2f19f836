//! Objects nested inside OpenAI Realtime events: sessions, items, content
//! parts, responses, usage and errors.
//!
//! One struct serves both dialects: GA and beta share most fields, and where
//! they differ (GA `audio.input.format` vs beta `input_audio_format`) both are
//! present as optional fields. Every struct keeps unknown fields in `extra`.
//! Fields where an explicit `null` means something (`turn_detection: null` is
//! manual turn taking) are `Option<Option<T>>`: absent, null, or a value.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// A realtime session, as configured by `session.update` and reported by
/// `session.created` / `session.updated` (GA and beta fields together).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Session {
    /// GA: `realtime` or `transcription`; required in a GA `session.update`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Server-assigned session id (`sess_…`).
    pub id: Option<String>,
    /// Always `realtime.session` when present.
    pub object: Option<String>,
    /// Model serving the session.
    pub model: Option<String>,
    /// Unix time of forced expiry.
    pub expires_at: Option<i64>,
    /// System instructions.
    pub instructions: Option<String>,
    /// GA output modalities (`["audio"]` or `["text"]`).
    pub output_modalities: Option<Vec<String>>,
    /// Beta modalities (`["text"]` or `["text","audio"]`).
    pub modalities: Option<Vec<String>>,
    /// GA audio configuration.
    pub audio: Option<SessionAudio>,
    /// Beta voice.
    pub voice: Option<String>,
    /// Beta input format (`pcm16`, `g711_ulaw`, `g711_alaw`).
    pub input_audio_format: Option<String>,
    /// Beta output format.
    pub output_audio_format: Option<String>,
    /// Beta input transcription (`null` disables it).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub input_audio_transcription: Option<Option<Transcription>>,
    /// Beta noise reduction.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub input_audio_noise_reduction: Option<Option<Value>>,
    /// Beta turn detection (`null` = manual).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub turn_detection: Option<Option<TurnDetection>>,
    /// Tools the model may call.
    pub tools: Option<Vec<Tool>>,
    /// `auto`, `none`, `required` or a `{type, name}` object.
    pub tool_choice: Option<Value>,
    /// Beta sampling temperature.
    pub temperature: Option<f64>,
    /// GA output token limit (integer or `"inf"`).
    pub max_output_tokens: Option<Value>,
    /// Beta output token limit (integer or `"inf"`).
    pub max_response_output_tokens: Option<Value>,
    /// GA: extra outputs to include (`["item.input_audio_transcription.logprobs"]`; `null` = none).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub include: Option<Option<Vec<String>>>,
    /// GA: a stored prompt (`{id, version?, variables?}`; `null` = none).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub prompt: Option<Option<Value>>,
    /// GA: tracing (`"auto"` or `{workflow_name, group_id, metadata}`; `null` = off).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub tracing: Option<Option<Value>>,
    /// GA: how the conversation is cut when it outgrows the context
    /// (`"auto"`, `"disabled"` or `{type:"retention_ratio", retention_ratio}`).
    pub truncation: Option<Value>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// GA `session.audio`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionAudio {
    /// Input side.
    pub input: Option<AudioInput>,
    /// Output side.
    pub output: Option<AudioOutput>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// GA `session.audio.input`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioInput {
    /// Format of the audio the client sends.
    pub format: Option<AudioFormatSpec>,
    /// Input transcription (`null` disables it).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub transcription: Option<Option<Transcription>>,
    /// Noise reduction (`null` disables it).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub noise_reduction: Option<Option<Value>>,
    /// Turn detection (`null` = manual).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub turn_detection: Option<Option<TurnDetection>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// GA `session.audio.output`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioOutput {
    /// Format of the audio the server sends.
    pub format: Option<AudioFormatSpec>,
    /// Voice name, or `{id}` for a custom voice.
    pub voice: Option<Value>,
    /// Speaking speed.
    pub speed: Option<f64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// GA audio format object: `{type:"audio/pcm", rate:24000}`, `{type:"audio/pcmu"}`, `{type:"audio/pcma"}`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioFormatSpec {
    /// MIME-like format name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Sample rate (PCM only).
    pub rate: Option<u32>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Input transcription settings.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Transcription {
    /// Transcription model (`whisper-1`, `gpt-4o-mini-transcribe`, …).
    pub model: Option<String>,
    /// Language hint.
    pub language: Option<String>,
    /// Prompt hint.
    pub prompt: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Turn detection object (`server_vad` or `semantic_vad`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TurnDetection {
    /// `server_vad` or `semantic_vad`.
    #[serde(rename = "type")]
    pub kind: String,
    /// VAD threshold 0.0–1.0 (server_vad).
    pub threshold: Option<f64>,
    /// Audio kept before speech, ms (server_vad).
    pub prefix_padding_ms: Option<u32>,
    /// Silence that ends a turn, ms (server_vad).
    pub silence_duration_ms: Option<u32>,
    /// Idle timeout, ms (GA server_vad).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub idle_timeout_ms: Option<Option<u32>>,
    /// `low|medium|high|auto` (semantic_vad).
    pub eagerness: Option<String>,
    /// Start a response when the turn ends.
    pub create_response: Option<bool>,
    /// Cancel the response in progress when speech starts.
    pub interrupt_response: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tool definition (flat function shape).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Tool {
    /// `function` (or `mcp` in GA).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Function name.
    pub name: Option<String>,
    /// What the function does.
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A conversation item: a message, a function call or a function call output.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Item {
    /// Item id (`item_…`).
    pub id: Option<String>,
    /// `realtime.item` when present.
    pub object: Option<String>,
    /// `message`, `function_call`, `function_call_output`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// `user`, `assistant` or `system` (messages).
    pub role: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    pub status: Option<String>,
    /// Content parts (messages).
    pub content: Option<Vec<ContentPart>>,
    /// Call id (function calls and outputs).
    pub call_id: Option<String>,
    /// Function name (function calls).
    pub name: Option<String>,
    /// Arguments as a JSON string (function calls).
    pub arguments: Option<String>,
    /// Result text (function call outputs).
    pub output: Option<String>,
    /// Assistant messages of some models (`gpt-realtime-2.1`): `commentary`
    /// for a preamble, `final_answer` for the answer.
    pub phase: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One content part of a message item or a `response.content_part.*` event.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContentPart {
    /// `input_text`, `input_audio`, `input_image`, `output_text`, `output_audio`, `text`, `audio`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Text.
    pub text: Option<String>,
    /// Base64 audio.
    pub audio: Option<String>,
    /// Transcript of audio (`null` while unknown).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub transcript: Option<Option<String>>,
    /// Image as a data URL (GA `input_image`).
    pub image_url: Option<String>,
    /// Image detail level.
    pub detail: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The response object of `response.created` and `response.done`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Response {
    /// Response id (`resp_…`).
    pub id: Option<String>,
    /// `realtime.response`.
    pub object: Option<String>,
    /// `in_progress|completed|cancelled|failed|incomplete`.
    pub status: Option<String>,
    /// Why it ended.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub status_details: Option<Option<StatusDetails>>,
    /// Conversation the response belongs to.
    pub conversation_id: Option<String>,
    /// Output items (without audio bytes).
    pub output: Option<Vec<Item>>,
    /// GA output modalities.
    pub output_modalities: Option<Vec<String>>,
    /// Beta modalities.
    pub modalities: Option<Vec<String>>,
    /// Token usage (on `response.done`).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub usage: Option<Option<Usage>>,
    /// GA: the audio output settings the response used (`{output:{format, voice}}`).
    pub audio: Option<SessionAudio>,
    /// Caller metadata from `response.create` (`null` when none was given).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub metadata: Option<Option<Value>>,
    /// Output token limit of the response (integer or `"inf"`).
    pub max_output_tokens: Option<Value>,
    /// Unmodelled fields (beta `voice`, `temperature`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.status_details`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct StatusDetails {
    /// `completed|cancelled|incomplete|failed`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `turn_detected`, `client_cancelled`, `max_output_tokens`, `content_filter`.
    pub reason: Option<String>,
    /// The failure, for `failed`.
    pub error: Option<ErrorDetail>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token usage of a response.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Usage {
    /// Total tokens.
    pub total_tokens: Option<u64>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Input breakdown.
    pub input_token_details: Option<TokenDetails>,
    /// Output breakdown.
    pub output_token_details: Option<TokenDetails>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Per-modality token counts.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TokenDetails {
    /// Text tokens.
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    pub audio_tokens: Option<u64>,
    /// Cached tokens.
    pub cached_tokens: Option<u64>,
    /// Image tokens.
    pub image_tokens: Option<u64>,
    /// Reasoning tokens (output side).
    pub reasoning_tokens: Option<u64>,
    /// Cached tokens per modality (`{text_tokens, audio_tokens, image_tokens}`).
    pub cached_tokens_details: Option<Box<TokenDetails>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `error` object of an `error` event (and of failed responses).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ErrorDetail {
    /// `invalid_request_error`, `server_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Machine-readable code (`invalid_event`, `invalid_api_key`, …).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub code: Option<Option<String>>,
    /// Human-readable message.
    pub message: String,
    /// Dotted path of the offending parameter.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub param: Option<Option<String>>,
    /// Client `event_id` that caused the error.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub event_id: Option<Option<String>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of `rate_limits.updated`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct RateLimit {
    /// `requests` or `tokens`.
    pub name: Option<String>,
    /// The limit.
    pub limit: Option<u64>,
    /// What is left.
    pub remaining: Option<u64>,
    /// Seconds until reset.
    pub reset_seconds: Option<f64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Per-response overrides carried by `response.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseParams {
    /// Instructions for this response.
    pub instructions: Option<String>,
    /// GA output modalities.
    pub output_modalities: Option<Vec<String>>,
    /// Beta modalities.
    pub modalities: Option<Vec<String>>,
    /// Tools for this response.
    pub tools: Option<Vec<Tool>>,
    /// Tool choice for this response.
    pub tool_choice: Option<Value>,
    /// `auto` or `none` (out-of-band response).
    pub conversation: Option<String>,
    /// Items the response should see instead of the conversation.
    pub input: Option<Vec<Value>>,
    /// Caller metadata.
    pub metadata: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(
    Session,
    SessionAudio,
    AudioInput,
    AudioOutput,
    AudioFormatSpec,
    Transcription,
    TurnDetection,
    Tool,
    Item,
    ContentPart,
    Response,
    StatusDetails,
    Usage,
    TokenDetails,
    ErrorDetail,
    RateLimit,
    ResponseParams,
);
