//! The request body of `POST …/chat/completions` (protocol notes §2).
//!
//! One set of types serves the client (which builds and serialises requests)
//! and the mock (which deserialises and validates them). Every optional field
//! is skipped when unset, so a request serialises the way the official SDK
//! sends it (only set fields; `model`, `stream`, `messages` first). Fields this
//! toolkit does not model (`temperature` aside, the DashScope `extra_body`
//! keys such as `enable_thinking`) ride along in `extra`.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// A chat-completions request.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ChatRequest {
    /// Model name (free string; the client fills in its default when empty).
    #[serde(default)]
    pub model: String,
    /// `true` for an SSE stream.
    pub stream: Option<bool>,
    /// The conversation so far.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Stream options (`include_usage`); only valid with `stream: true`.
    pub stream_options: Option<StreamOptions>,
    /// Output modalities: `["text"]` (default) or `["text", "audio"]`.
    pub modalities: Option<Vec<String>>,
    /// Voice and format of audio output (required when `modalities` has `audio`).
    pub audio: Option<AudioOutput>,
    /// Tools the model may call.
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool to call.
    pub tool_choice: Option<ToolChoice>,
    /// Whether several tool calls may come in one answer.
    pub parallel_tool_calls: Option<bool>,
    /// Output token limit (legacy name).
    pub max_tokens: Option<u64>,
    /// Output token limit.
    pub max_completion_tokens: Option<u64>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Number of choices to generate.
    pub n: Option<u32>,
    /// Everything else, passed through unchanged (DashScope's `enable_thinking`,
    /// `top_k`, …; OpenAI's `seed`, `metadata`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatRequest {
    /// A streaming request for `model` with these messages.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest {
            model: model.into(),
            stream: Some(true),
            messages,
            ..Default::default()
        }
    }

    /// Offers these tools.
    pub fn with_tools(mut self, tools: Vec<Tool>) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Asks for spoken output: `modalities: ["text","audio"]` and `audio{voice, format}`.
    pub fn with_audio(mut self, voice: impl Into<String>, format: impl Into<String>) -> Self {
        self.modalities = Some(vec!["text".into(), "audio".into()]);
        self.audio = Some(AudioOutput {
            voice: Value::String(voice.into()),
            format: format.into(),
        });
        self
    }

    /// Asks for the final usage chunk (`stream_options.include_usage`).
    pub fn with_usage(mut self) -> Self {
        self.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            ..Default::default()
        });
        self
    }

    /// Whether the request asks for audio output.
    pub fn wants_audio(&self) -> bool {
        self.modalities
            .as_ref()
            .is_some_and(|m| m.iter().any(|m| m == "audio"))
    }

    /// Whether the request asks for the final usage chunk.
    pub fn wants_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// Whether the request asks for a stream.
    pub fn is_streaming(&self) -> bool {
        self.stream == Some(true)
    }
}

/// `stream_options`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct StreamOptions {
    /// Send a final chunk with `usage` and empty `choices`.
    pub include_usage: Option<bool>,
    /// OpenAI only: `false` drops the per-chunk `obfuscation` padding.
    pub include_obfuscation: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `audio` object: how spoken output should sound and be encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioOutput {
    /// A voice name (`alloy`, `Cherry`, …) or `{"id": "voice_…"}` for a custom voice.
    pub voice: Value,
    /// `pcm16` (the only value OpenAI streams), `wav` (what DashScope documents), …
    pub format: String,
}

impl AudioOutput {
    /// The voice name, when it is a plain string.
    pub fn voice_name(&self) -> Option<&str> {
        self.voice.as_str()
    }
}

/// A message's author.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Role {
    /// `system`.
    System,
    /// `developer` (OpenAI's newer name for system instructions).
    Developer,
    /// `user`.
    User,
    /// `assistant`.
    Assistant,
    /// `tool` (a tool result).
    Tool,
    /// Anything else, kept verbatim so a mock can reject it by name.
    Other(String),
}

impl From<String> for Role {
    fn from(s: String) -> Self {
        match s.as_str() {
            "system" => Role::System,
            "developer" => Role::Developer,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            _ => Role::Other(s),
        }
    }
}

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.as_str().to_owned()
    }
}

impl Role {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Other(s) => s,
        }
    }
}

/// One message of the conversation (§2.1).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// Text or content parts; `None` for an assistant message that only calls tools.
    pub content: Option<Content>,
    /// Optional author name.
    pub name: Option<String>,
    /// Tool calls an assistant message made.
    pub tool_calls: Option<Vec<ToolCall>>,
    /// The call a `tool` message answers.
    pub tool_call_id: Option<String>,
    /// OpenAI only: a reference to an earlier spoken answer (§6.5).
    pub audio: Option<AudioRef>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    fn with(role: Role, content: Option<Content>) -> Self {
        Message {
            role,
            content,
            name: None,
            tool_calls: None,
            tool_call_id: None,
            audio: None,
            extra: Default::default(),
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::with(Role::System, Some(Content::Text(text.into())))
    }

    /// A user text message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::with(Role::User, Some(Content::Text(text.into())))
    }

    /// A user message made of parts (text, audio, images).
    pub fn user_parts(parts: Vec<ContentPart>) -> Self {
        Self::with(Role::User, Some(Content::Parts(parts)))
    }

    /// An assistant text message (history).
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::with(Role::Assistant, Some(Content::Text(text.into())))
    }

    /// An assistant message that called tools (`content: null`).
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        let mut message = Self::with(Role::Assistant, None);
        message.tool_calls = Some(calls);
        message
    }

    /// An assistant message that refers to an earlier spoken answer by id.
    pub fn assistant_audio(id: impl Into<String>) -> Self {
        let mut message = Self::with(Role::Assistant, None);
        message.audio = Some(AudioRef { id: id.into() });
        message
    }

    /// A tool result answering `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        let mut message = Self::with(Role::Tool, Some(Content::Text(content.into())));
        message.tool_call_id = Some(call_id.into());
        message
    }

    /// All the text of the message (text parts joined by a space).
    pub fn text(&self) -> Option<String> {
        match self.content.as_ref()? {
            Content::Text(text) => Some(text.clone()),
            Content::Parts(parts) => {
                let texts: Vec<&str> = parts.iter().filter_map(|p| p.text.as_deref()).collect();
                (!texts.is_empty()).then(|| texts.join(" "))
            }
        }
    }
}

/// Message content: a plain string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Typed parts.
    Parts(Vec<ContentPart>),
}

/// One content part: `text`, `image_url`, `input_audio`, `refusal`, `file`,
/// DashScope's `video_url`/`video`. Kept as a flat struct (not an enum) so an
/// unknown part type survives a round trip and a mock can name it in an error.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContentPart {
    /// The part type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `text` parts.
    pub text: Option<String>,
    /// `image_url` parts.
    pub image_url: Option<ImageUrl>,
    /// `input_audio` parts.
    pub input_audio: Option<InputAudio>,
    /// `refusal` parts (assistant history).
    pub refusal: Option<String>,
    /// Unmodelled fields (`file`, `video_url`, `video`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart {
            kind: "text".into(),
            text: Some(text.into()),
            ..Default::default()
        }
    }

    /// An audio input part: `data` is base64 of the file (OpenAI) or a data
    /// URI / URL (DashScope; the client adds the `data:;base64,` prefix).
    pub fn input_audio(data: impl Into<String>, format: impl Into<String>) -> Self {
        ContentPart {
            kind: "input_audio".into(),
            input_audio: Some(InputAudio {
                data: data.into(),
                format: format.into(),
            }),
            ..Default::default()
        }
    }

    /// An image part by URL or data URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        ContentPart {
            kind: "image_url".into(),
            image_url: Some(ImageUrl {
                url: url.into(),
                detail: None,
            }),
            ..Default::default()
        }
    }
}

/// `image_url{url, detail?}`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// URL or data URL.
    pub url: String,
    /// `low`, `high` or `auto`.
    pub detail: Option<String>,
}

/// `input_audio{data, format}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64 (OpenAI), or a data URI / URL (DashScope).
    pub data: String,
    /// Container: `wav`, `mp3`, …
    pub format: String,
}

/// `audio{id}` on an assistant history message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioRef {
    /// The id from an earlier answer's `delta.audio.id`.
    pub id: String,
}

/// A tool call in an assistant history message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id (`call_…`).
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What was called.
    pub function: FunctionCall,
}

impl ToolCall {
    /// A function call with its arguments as JSON text.
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        ToolCall {
            id: id.into(),
            kind: "function".into(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// `function{name, arguments}` of a complete tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments, a JSON **string**.
    pub arguments: String,
}

/// A tool offered to the model.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Tool {
    /// `function` (OpenAI's `custom` tools are not covered).
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: Option<FunctionDef>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Tool {
    /// A function tool with a JSON-Schema for its arguments.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Tool {
            kind: "function".into(),
            function: Some(FunctionDef {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            }),
            extra: Default::default(),
        }
    }

    /// The function's name, when it is a function tool.
    pub fn name(&self) -> Option<&str> {
        self.function.as_ref().map(|f| f.name.as_str())
    }
}

/// `function{name, description?, parameters?, strict?}`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    /// Function name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    pub parameters: Option<Value>,
    /// Structured-outputs strictness.
    pub strict: Option<bool>,
}

/// `tool_choice`: a mode string or a named function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `none`, `auto` or `required`.
    Mode(String),
    /// `{"type":"function","function":{"name":N}}`.
    Named(NamedToolChoice),
    /// Anything else (`allowed_tools`, …), kept verbatim.
    Other(Value),
}

impl ToolChoice {
    /// `auto`.
    pub fn auto() -> Self {
        ToolChoice::Mode("auto".into())
    }

    /// `none`.
    pub fn none() -> Self {
        ToolChoice::Mode("none".into())
    }

    /// `required`.
    pub fn required() -> Self {
        ToolChoice::Mode("required".into())
    }

    /// Call exactly this function.
    pub fn function(name: impl Into<String>) -> Self {
        ToolChoice::Named(NamedToolChoice {
            kind: "function".into(),
            function: FunctionName { name: name.into() },
        })
    }
}

/// A named tool choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedToolChoice {
    /// `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Which function.
    pub function: FunctionName,
}

/// `{"name": N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionName {
    /// Function name.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_like_the_sdk_model_stream_messages_first_only_set_fields() {
        let request = ChatRequest::new("gpt-audio-mini", vec![Message::user("Hi")])
            .with_audio("alloy", "pcm16")
            .with_usage();
        let text = serde_json::to_string(&request).unwrap();
        assert!(
            text.starts_with(r#"{"model":"gpt-audio-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]"#),
            "{text}"
        );
        assert!(!text.contains("null"), "unset fields are skipped: {text}");
        assert!(request.wants_audio() && request.wants_usage());
    }

    #[test]
    fn the_protocol_sample_request_round_trips() {
        let sample = json!({"model": "gpt-audio-mini", "stream": true,
         "messages": [
           {"role": "system", "content": "Keep answers short."},
           {"role": "user", "content": [
              {"type": "text", "text": "What does this clip say?"},
              {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}}]},
           {"role": "assistant", "tool_calls": [
              {"id": "call_W1", "type": "function", "function": {"name": "lookup_city", "arguments": "{\"name\":\"Lyon\"}"}}]},
           {"role": "tool", "tool_call_id": "call_W1", "content": "{\"country\":\"FR\"}"},
           {"role": "assistant", "audio": {"id": "audio_7d2e"}}],
         "audio": {"voice": "alloy", "format": "pcm16"},
         "modalities": ["text", "audio"],
         "stream_options": {"include_usage": true},
         "tool_choice": "auto",
         "enable_thinking": false,
         "tools": [{"type": "function", "function": {"name": "lookup_city", "description": "Find a city",
                    "parameters": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}]});
        let request: ChatRequest = serde_json::from_value(sample.clone()).unwrap();
        assert_eq!(request.messages.len(), 5);
        assert_eq!(request.messages[3].role, Role::Tool);
        assert_eq!(request.tool_choice, Some(ToolChoice::auto()));
        assert_eq!(request.extra.get("enable_thinking"), Some(&json!(false)));
        assert_eq!(serde_json::to_value(&request).unwrap(), sample);
    }

    #[test]
    fn named_tool_choice_and_unknown_roles_survive() {
        let choice: ToolChoice =
            serde_json::from_value(json!({"type":"function","function":{"name":"f"}})).unwrap();
        assert_eq!(choice, ToolChoice::function("f"));
        let message: Message =
            serde_json::from_value(json!({"role":"narrator","content":"x"})).unwrap();
        assert_eq!(message.role, Role::Other("narrator".into()));
    }
}

crate::lossless!(ChatRequest, StreamOptions, Message, ContentPart, Tool,);
