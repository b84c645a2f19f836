//! What the server sends back: the streamed `chat.completion.chunk` (§4), the
//! non-streaming `chat.completion` (§6.4) and the error envelope (§8).
//!
//! Every field is optional on the way in (`null` and absent mean the same), and
//! unknown keys are kept in `extra` and otherwise ignored (`obfuscation`,
//! `service_tier`). Fields whose *presence* matters on the way out — `usage:
//! null` on every chunk when usage was asked for, `finish_reason: null` on
//! ordinary chunks but absent on OpenAI's trailing audio-expiry chunk — are
//! `Option<Option<T>>`: outer `None` omits the key, `Some(None)` writes `null`.
//! Read them through the accessor methods.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;
use std::fmt;

/// The `object` value of every streamed chunk.
pub const CHUNK_OBJECT: &str = "chat.completion.chunk";

/// The `object` value of a non-streaming completion.
pub const COMPLETION_OBJECT: &str = "chat.completion";

/// One streamed `chat.completion.chunk`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ChatChunk {
    /// Completion id, the same on every chunk of one response (do not key state on it: DashScope's samples vary).
    pub id: Option<String>,
    /// `chat.completion.chunk`.
    pub object: Option<String>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// The resolved model.
    pub model: Option<String>,
    /// One entry per choice with a delta; `[]` on the usage chunk. Never omitted on the way out.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// `null` on every chunk but the usage chunk (only with `include_usage`).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub usage: Option<Option<ChatUsage>>,
    /// OpenAI `fp_…`; DashScope `null`.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub system_fingerprint: Option<Option<String>>,
    /// A mid-stream error (`{"error":{…}}` event); never set on a real chunk.
    pub error: Option<Value>,
    /// Unmodelled fields (`service_tier`, `obfuscation`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatChunk {
    /// The usage record, if this chunk carries one.
    pub fn usage(&self) -> Option<&ChatUsage> {
        self.usage.as_ref().and_then(Option::as_ref)
    }
}

/// `choices[i]` of a chunk.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ChunkChoice {
    /// Choice number (0 unless `n > 1`); a missing index reads as 0.
    #[serde(default)]
    pub index: u32,
    /// The fragment. Always written (possibly `{}`).
    #[serde(default)]
    pub delta: Delta,
    /// Set exactly once per choice; the key is absent on OpenAI's audio-expiry chunk.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub finish_reason: Option<Option<FinishReason>>,
    /// Token log-probabilities (`null` in every stream this toolkit serves).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub logprobs: Option<Option<Value>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChunkChoice {
    /// The finish reason, if this chunk ends the choice.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.finish_reason.as_ref().and_then(Option::as_ref)
    }
}

/// The `delta` of a choice: every field optional.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Delta {
    /// `assistant`, normally on the first chunk only (OpenAI may repeat it).
    pub role: Option<String>,
    /// A text fragment.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub content: Option<Option<String>>,
    /// A refusal fragment (OpenAI).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub refusal: Option<Option<String>>,
    /// Tool-call fragments, keyed by their `index`.
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Audio output: id, base64 PCM, transcript, expiry.
    pub audio: Option<DeltaAudio>,
    /// DashScope thinking text (`enable_thinking`).
    pub reasoning_content: Option<String>,
    /// Unmodelled fields (deprecated `function_call`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Delta {
    /// The text fragment, if any.
    pub fn content(&self) -> Option<&str> {
        self.content.as_ref().and_then(|c| c.as_deref())
    }

    /// The refusal fragment, if any.
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_ref().and_then(|c| c.as_deref())
    }

    /// A delta carrying one text fragment.
    pub fn text(text: impl Into<String>) -> Self {
        Delta {
            content: Some(Some(text.into())),
            ..Default::default()
        }
    }
}

/// One tool-call fragment (§5.2).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call this fragment belongs to (not the id).
    #[serde(default)]
    pub index: u32,
    /// Call id, on the first fragment (DashScope may repeat it empty).
    pub id: Option<String>,
    /// `function`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Name and/or a piece of the arguments.
    pub function: Option<FunctionDelta>,
}

/// `function{name?, arguments?}` of a tool-call fragment.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionDelta {
    /// Function name, on the first fragment.
    pub name: Option<String>,
    /// A piece of the JSON arguments string.
    pub arguments: Option<String>,
}

/// `delta.audio` (§6.2, §7.3).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeltaAudio {
    /// `audio_…`: reference it in the next request's history (OpenAI).
    pub id: Option<String>,
    /// Base64 of raw PCM16 mono 24 kHz (not aligned to sample boundaries).
    pub data: Option<String>,
    /// A piece of what is being said (OpenAI).
    pub transcript: Option<String>,
    /// Unix seconds until the audio can be referenced.
    pub expires_at: Option<i64>,
}

/// Why a choice ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FinishReason {
    /// A natural end.
    Stop,
    /// The token limit cut it.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Output was withheld.
    ContentFilter,
    /// Deprecated single-function form.
    FunctionCall,
    /// Anything else, verbatim.
    Other(String),
}

impl From<String> for FinishReason {
    fn from(s: String) -> Self {
        match s.as_str() {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            _ => FinishReason::Other(s),
        }
    }
}

impl From<FinishReason> for String {
    fn from(reason: FinishReason) -> String {
        reason.as_str().to_owned()
    }
}

impl FinishReason {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::FunctionCall => "function_call",
            FinishReason::Other(s) => s,
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `usage` (§4.1). The three totals are required by the SDK's type; the detail
/// objects and every key in them are optional (DashScope sends only those that apply).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUsage {
    /// Input tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Their sum.
    #[serde(default)]
    pub total_tokens: u64,
    /// Input breakdown.
    pub prompt_tokens_details: Option<TokenDetails>,
    /// Output breakdown.
    pub completion_tokens_details: Option<TokenDetails>,
}

/// A token breakdown; only the keys that apply are sent.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDetails {
    /// Text tokens.
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    pub audio_tokens: Option<u64>,
    /// Image tokens.
    pub image_tokens: Option<u64>,
    /// Video tokens (DashScope).
    pub video_tokens: Option<u64>,
    /// Cached input tokens.
    pub cached_tokens: Option<u64>,
    /// Thinking tokens.
    pub reasoning_tokens: Option<u64>,
    /// Predicted-output tokens accepted.
    pub accepted_prediction_tokens: Option<u64>,
    /// Predicted-output tokens rejected.
    pub rejected_prediction_tokens: Option<u64>,
}

impl From<&ChatUsage> for crate::event::Usage {
    fn from(u: &ChatUsage) -> Self {
        crate::event::Usage {
            input_tokens: Some(u.prompt_tokens),
            output_tokens: Some(u.completion_tokens),
            total_tokens: Some(u.total_tokens),
            input_audio_tokens: u
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.audio_tokens),
            output_audio_tokens: u
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.audio_tokens),
            cached_tokens: u
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens),
            input_image_tokens: u
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.image_tokens),
            reasoning_tokens: u
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens),
            ..Default::default()
        }
    }
}

/// A non-streaming `chat.completion` (§6.4).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ChatCompletion {
    /// Completion id.
    pub id: String,
    /// `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: i64,
    /// The resolved model.
    pub model: String,
    /// The answers.
    pub choices: Vec<CompletionChoice>,
    /// Token usage.
    pub usage: Option<ChatUsage>,
    /// OpenAI `fp_…`.
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub system_fingerprint: Option<Option<String>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One answer of a non-streaming completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionChoice {
    /// Choice number.
    pub index: u32,
    /// The assistant message.
    pub message: CompletionMessage,
    /// Why it ended.
    pub finish_reason: Option<FinishReason>,
    /// Log-probabilities (`null`).
    pub logprobs: Option<Value>,
}

/// The assistant message of a non-streaming completion.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct CompletionMessage {
    /// `assistant`.
    pub role: String,
    /// The text (`null` in audio mode and for tool calls).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub content: Option<Option<String>>,
    /// A refusal (`null`).
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub refusal: Option<Option<String>>,
    /// Tool calls made.
    pub tool_calls: Option<Vec<super::request::ToolCall>>,
    /// The whole spoken answer.
    pub audio: Option<CompletionAudio>,
    /// Unmodelled fields (`annotations`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `message.audio` of a non-streaming completion: every field required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionAudio {
    /// `audio_…`.
    pub id: String,
    /// Base64 of the whole clip in the requested format.
    pub data: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// What was said.
    pub transcript: String,
}

/// The error envelope, as sent (§8). `param` and `code` are written even when `null`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
    /// DashScope's request id.
    pub request_id: Option<String>,
    /// DashScope sometimes echoes a completion id.
    pub id: Option<String>,
}

/// `{"message", "type", "param", "code"}` of a provider error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Human text.
    pub message: String,
    /// Category (`invalid_request_error`, `server_error`, `requests`, …).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Dotted path of the offending field.
    #[serde(default)]
    pub param: Option<String>,
    /// Machine code (`invalid_api_key`, `unsupported_value`, …).
    #[serde(default)]
    pub code: Option<String>,
}

impl ApiError {
    /// Reads an error object leniently: any field of the wrong type (a numeric
    /// `code`, a missing `message`) is turned into text rather than failing.
    pub fn from_value(value: &Value) -> ApiError {
        let text = |key: &str| match value.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        match value {
            Value::String(message) => ApiError {
                message: message.clone(),
                ..Default::default()
            },
            _ => ApiError {
                message: text("message").unwrap_or_else(|| value.to_string()),
                kind: text("type"),
                param: text("param"),
                code: text("code"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_protocol_sample_chunks_with_unknown_keys() {
        let openai: ChatChunk = serde_json::from_value(json!({"id":"chatcmpl-R5t1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","obfuscation":"xY","choices":[{"index":0,"delta":{"content":null,"audio":{"id":"audio_7d","transcript":"Hello"}},"finish_reason":null}],"usage":null})).unwrap();
        assert_eq!(
            openai.choices[0]
                .delta
                .audio
                .as_ref()
                .unwrap()
                .transcript
                .as_deref(),
            Some("Hello")
        );
        assert_eq!(openai.choices[0].delta.content(), None);
        assert!(openai.usage().is_none());
        assert_eq!(openai.extra.get("obfuscation"), Some(&json!("xY")));

        let usage: ChatChunk = serde_json::from_value(json!({"choices":[],"object":"chat.completion.chunk","usage":{"prompt_tokens":207,"completion_tokens":103,"total_tokens":310,"completion_tokens_details":{"audio_tokens":83,"text_tokens":20},"prompt_tokens_details":{"text_tokens":207}},"created":1767225600,"system_fingerprint":null,"model":"qwen3-omni-flash","id":"chatcmpl-5b"})).unwrap();
        let normal = crate::event::Usage::from(usage.usage().unwrap());
        assert_eq!(normal.output_audio_tokens, Some(83));
        assert_eq!(normal.total_tokens, Some(310));
    }

    #[test]
    fn presence_of_null_keys_is_preserved_on_the_way_out() {
        let expiry = ChatChunk {
            id: Some("c".into()),
            choices: vec![ChunkChoice {
                delta: Delta {
                    audio: Some(DeltaAudio {
                        expires_at: Some(5),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            }],
            usage: Some(None),
            ..Default::default()
        };
        let text = serde_json::to_string(&expiry).unwrap();
        assert_eq!(
            text,
            r#"{"id":"c","choices":[{"index":0,"delta":{"audio":{"expires_at":5}}}],"usage":null}"#
        );
        let stop = ChunkChoice {
            delta: Delta::default(),
            finish_reason: Some(Some(FinishReason::Stop)),
            logprobs: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&stop).unwrap(),
            r#"{"index":0,"delta":{},"finish_reason":"stop","logprobs":null}"#
        );
    }

    #[test]
    fn error_objects_are_read_leniently_and_written_with_nulls() {
        let e = ApiError::from_value(&json!({"message":"m","type":"t","code":429}));
        assert_eq!(e.code.as_deref(), Some("429"));
        assert_eq!(e.param, None);
        let body = ErrorBody {
            error: ApiError {
                message: "m".into(),
                kind: Some("invalid_request_error".into()),
                param: None,
                code: Some("invalid_api_key".into()),
            },
            request_id: None,
            id: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"message":"m","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
        );
    }
}

crate::lossless!(
    ChatChunk,
    ChunkChoice,
    Delta,
    ChatCompletion,
    CompletionMessage,
);
