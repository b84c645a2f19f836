//! Serde types for the Gemini Live API (`BidiGenerateContent`).
//!
//! Messages are not `type`-tagged: each client message has one top-level key
//! (`setup`, `clientContent`, `realtimeInput`, `toolResponse`), and a server
//! message has one or more (`serverContent`, `toolCall`, … plus an optional
//! sibling `usageMetadata`). Both are modelled as structs of optional fields.
//! Output is lowerCamelCase, as the service sends; input accepts camelCase and
//! snake_case for every field, as the service does (the official SDK sends a
//! mix). Free-form JSON (schemas, function arguments and results) is kept as
//! `Value`, untouched. Unknown fields are kept in `extra`.

use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// A message from the client.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ClientMessage {
    /// Session configuration; must be the first message.
    pub setup: Option<Setup>,
    /// Ordered conversation turns.
    #[serde(alias = "client_content")]
    pub client_content: Option<ClientContent>,
    /// Streaming input: audio, video, text, activity markers.
    #[serde(alias = "realtime_input")]
    pub realtime_input: Option<RealtimeInput>,
    /// Results of tool calls.
    #[serde(alias = "tool_response")]
    pub tool_response: Option<ToolResponse>,
    /// A change of instructions or tools mid-session (newest SDKs).
    #[serde(alias = "context_update")]
    pub context_update: Option<ContextUpdate>,
    /// Unmodelled top-level keys.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `setup`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    /// `models/<name>`.
    pub model: Option<String>,
    /// Modalities, voice, sampling.
    #[serde(alias = "generation_config")]
    pub generation_config: Option<GenerationConfig>,
    /// System prompt as a `Content`.
    #[serde(alias = "system_instruction")]
    pub system_instruction: Option<Content>,
    /// Tools (`functionDeclarations`, `googleSearch`, …).
    pub tools: Option<Vec<Tool>>,
    /// Voice activity detection and turn handling.
    #[serde(alias = "realtime_input_config")]
    pub realtime_input_config: Option<RealtimeInputConfig>,
    /// `{}` enables resumption updates; `{handle}` resumes a session.
    #[serde(alias = "session_resumption")]
    pub session_resumption: Option<SessionResumption>,
    /// Sliding-window compression settings.
    #[serde(alias = "context_window_compression")]
    pub context_window_compression: Option<Value>,
    /// `{}` enables user-speech transcripts.
    #[serde(alias = "input_audio_transcription")]
    pub input_audio_transcription: Option<Value>,
    /// `{}` enables model-speech transcripts.
    #[serde(alias = "output_audio_transcription")]
    pub output_audio_transcription: Option<Value>,
    /// `{initialHistoryInClientContent}`: history is seeded by `clientContent`
    /// before the session starts generating.
    #[serde(alias = "history_config")]
    pub history_config: Option<Value>,
    /// `{proactiveAudio?, proactiveVideo?}` (native-audio and 3.8 models).
    pub proactivity: Option<Value>,
    /// Avatar video output settings (3.8 Live, `responseModalities: ["VIDEO"]`).
    #[serde(alias = "avatar_config")]
    pub avatar_config: Option<Value>,
    /// Unmodelled fields (`explicitVadSignal`, `labels`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `setup.generationConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// Exactly one of `AUDIO` or `TEXT`.
    #[serde(alias = "response_modalities")]
    pub response_modalities: Option<Vec<String>>,
    /// Voice and language (kept as sent; the SDK nests snake_case inside).
    #[serde(alias = "speech_config")]
    pub speech_config: Option<Value>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// `{thinkingLevel?, thinkingBudget?, includeThoughts?}`.
    #[serde(alias = "thinking_config")]
    pub thinking_config: Option<Value>,
    /// `MEDIA_RESOLUTION_LOW|MEDIUM|HIGH`.
    #[serde(alias = "media_resolution")]
    pub media_resolution: Option<String>,
    /// Affective (emotion-aware) dialog, opt-in on 2.5 native audio.
    #[serde(alias = "enable_affective_dialog")]
    pub enable_affective_dialog: Option<bool>,
    /// Unmodelled fields (`topP`, `maxOutputTokens`, `translationConfig`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of `setup.tools`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Functions the model may call.
    #[serde(alias = "function_declarations")]
    pub function_declarations: Option<Vec<FunctionDeclaration>>,
    /// Other tools (`googleSearch`, `codeExecution`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A function the model may call.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration {
    /// Name.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// OpenAPI-style schema (types upper-cased by the SDK).
    pub parameters: Option<Value>,
    /// `BLOCKING` or `NON_BLOCKING` (asynchronous calls); absent, the
    /// model's default applies.
    pub behavior: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `setup.realtimeInputConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct RealtimeInputConfig {
    /// Server VAD settings.
    #[serde(alias = "automatic_activity_detection")]
    pub automatic_activity_detection: Option<AutomaticActivityDetection>,
    /// `START_OF_ACTIVITY_INTERRUPTS` (barge-in) or `NO_INTERRUPTION`.
    #[serde(alias = "activity_handling")]
    pub activity_handling: Option<String>,
    /// What a turn includes.
    #[serde(alias = "turn_coverage")]
    pub turn_coverage: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `realtimeInputConfig.automaticActivityDetection`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct AutomaticActivityDetection {
    /// `true` = the client brackets speech with `activityStart`/`activityEnd`.
    pub disabled: Option<bool>,
    /// `START_SENSITIVITY_HIGH|LOW`.
    #[serde(alias = "start_of_speech_sensitivity")]
    pub start_of_speech_sensitivity: Option<String>,
    /// `END_SENSITIVITY_HIGH|LOW`.
    #[serde(alias = "end_of_speech_sensitivity")]
    pub end_of_speech_sensitivity: Option<String>,
    /// Audio kept before speech, ms.
    #[serde(alias = "prefix_padding_ms")]
    pub prefix_padding_ms: Option<u32>,
    /// Silence that ends a turn, ms.
    #[serde(alias = "silence_duration_ms")]
    pub silence_duration_ms: Option<u32>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `setup.sessionResumption`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct SessionResumption {
    /// Handle of the session to resume.
    pub handle: Option<String>,
    /// Ask for `lastConsumedClientMessageIndex` in updates.
    pub transparent: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `Content`: a role and its parts.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// `user` or `model`.
    pub role: Option<String>,
    /// The parts.
    pub parts: Option<Vec<Part>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A part of a `Content`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// Text.
    pub text: Option<String>,
    /// Inline bytes (audio out, images in).
    #[serde(alias = "inline_data")]
    pub inline_data: Option<Blob>,
    /// Whether this is a thinking part.
    pub thought: Option<bool>,
    /// Unmodelled fields (`functionCall`, `executableCode`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Bytes with a MIME type (`audio/pcm;rate=16000`, `image/jpeg`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    /// MIME type; PCM carries its rate (`audio/pcm;rate=24000`).
    #[serde(alias = "mime_type")]
    pub mime_type: Option<String>,
    /// Base64 bytes.
    pub data: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `clientContent`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ClientContent {
    /// Turns to append.
    pub turns: Option<Vec<Content>>,
    /// `true` starts generation.
    #[serde(alias = "turn_complete")]
    pub turn_complete: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `realtimeInput` (one field per message).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct RealtimeInput {
    /// Audio chunk.
    pub audio: Option<Blob>,
    /// Video frame.
    pub video: Option<Blob>,
    /// Streamed text.
    pub text: Option<String>,
    /// Start of user activity (manual turns).
    #[serde(alias = "activity_start")]
    pub activity_start: Option<Value>,
    /// End of user activity (manual turns).
    #[serde(alias = "activity_end")]
    pub activity_end: Option<Value>,
    /// The audio stream paused (flush).
    #[serde(alias = "audio_stream_end")]
    pub audio_stream_end: Option<bool>,
    /// Deprecated list form of audio/video.
    #[serde(alias = "media_chunks")]
    pub media_chunks: Option<Vec<Blob>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `toolResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ToolResponse {
    /// One result per call.
    #[serde(alias = "function_responses")]
    pub function_responses: Option<Vec<FunctionResponse>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One function result.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct FunctionResponse {
    /// The call id.
    pub id: Option<String>,
    /// The function name.
    pub name: Option<String>,
    /// The result (a JSON object).
    pub response: Option<Value>,
    /// When a non-blocking call's result is voiced: `INTERRUPT`, `WHEN_IDLE`
    /// (the default) or `SILENT`.
    pub scheduling: Option<String>,
    /// More responses to this call will follow (non-blocking calls).
    #[serde(alias = "will_continue")]
    pub will_continue: Option<bool>,
    /// Unmodelled fields (`parts`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `contextUpdate`: only the fields present change.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ContextUpdate {
    /// New system instructions.
    #[serde(alias = "system_instruction")]
    pub system_instruction: Option<Content>,
    /// New tools, wrapped (`{"tools": []}` clears them; absent keeps them).
    pub tools: Option<ContextTools>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `contextUpdate.tools`: the wrapper that tells "clear" from "keep".
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ContextTools {
    /// The tools from now on.
    pub tools: Option<Vec<Tool>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A message from the server: one or more of these at once.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ServerMessage {
    /// Answer to `setup`.
    #[serde(alias = "setup_complete")]
    pub setup_complete: Option<SetupComplete>,
    /// Model output and turn state.
    #[serde(alias = "server_content")]
    pub server_content: Option<ServerContent>,
    /// Function calls to run.
    #[serde(alias = "tool_call")]
    pub tool_call: Option<ToolCall>,
    /// Function calls withdrawn.
    #[serde(alias = "tool_call_cancellation")]
    pub tool_call_cancellation: Option<ToolCallCancellation>,
    /// The server will close soon.
    #[serde(alias = "go_away")]
    pub go_away: Option<GoAway>,
    /// A new resumption handle.
    #[serde(alias = "session_resumption_update")]
    pub session_resumption_update: Option<SessionResumptionUpdate>,
    /// Token usage, beside any of the above.
    #[serde(alias = "usage_metadata")]
    pub usage_metadata: Option<UsageMetadata>,
    /// Unmodelled keys (`voiceActivity`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `setupComplete`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct SetupComplete {
    /// Session id (newer servers).
    #[serde(alias = "session_id")]
    pub session_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `serverContent`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ServerContent {
    /// Incremental output.
    #[serde(alias = "model_turn")]
    pub model_turn: Option<Content>,
    /// The model finished generating.
    #[serde(alias = "generation_complete")]
    pub generation_complete: Option<bool>,
    /// The turn is over.
    #[serde(alias = "turn_complete")]
    pub turn_complete: Option<bool>,
    /// User activity interrupted the generation.
    pub interrupted: Option<bool>,
    /// Transcript chunk of the user's speech.
    #[serde(alias = "input_transcription")]
    pub input_transcription: Option<Transcription>,
    /// Provisional transcript of the user's speech, while they still speak.
    #[serde(alias = "interim_input_transcription")]
    pub interim_input_transcription: Option<Transcription>,
    /// Transcript chunk of the model's speech.
    #[serde(alias = "output_transcription")]
    pub output_transcription: Option<Transcription>,
    /// Why the turn completed (`MALFORMED_FUNCTION_CALL`, …).
    #[serde(alias = "turn_complete_reason")]
    pub turn_complete_reason: Option<String>,
    /// Beside `turnComplete` (Extended Thinking): `IN_PROGRESS` (more output
    /// or tool calls follow) or `IDLE` (waiting for the user).
    #[serde(alias = "interaction_status")]
    pub interaction_status: Option<String>,
    /// What a grounding tool (Google Search, URL context) based the answer on:
    /// `webSearchQueries`, `groundingChunks`, `groundingSupports`, … (kept verbatim).
    #[serde(alias = "grounding_metadata")]
    pub grounding_metadata: Option<Value>,
    /// Unmodelled fields (`waitingForInput`, `urlContextMetadata`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A transcript chunk.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct Transcription {
    /// The text.
    pub text: Option<String>,
    /// Whether the transcript is final.
    pub finished: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `toolCall`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    /// The calls.
    #[serde(alias = "function_calls")]
    pub function_calls: Option<Vec<FunctionCall>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One function call; `args` is a JSON object (not a string, unlike OpenAI).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct FunctionCall {
    /// Call id.
    pub id: Option<String>,
    /// Function name.
    pub name: Option<String>,
    /// Arguments.
    pub args: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `toolCallCancellation`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ToolCallCancellation {
    /// Withdrawn call ids.
    pub ids: Option<Vec<String>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `goAway`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct GoAway {
    /// Protobuf duration string (`"10s"`, `"1.5s"`).
    #[serde(alias = "time_left")]
    pub time_left: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `sessionResumptionUpdate`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct SessionResumptionUpdate {
    /// The newest handle (empty when not resumable).
    #[serde(alias = "new_handle")]
    pub new_handle: Option<String>,
    /// Whether the session can be resumed now.
    pub resumable: Option<bool>,
    /// int64 (number or string) of the last consumed client message.
    #[serde(alias = "last_consumed_client_message_index")]
    pub last_consumed_client_message_index: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `usageMetadata`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// Input tokens.
    #[serde(alias = "prompt_token_count")]
    pub prompt_token_count: Option<u64>,
    /// Output tokens (Gemini API spelling).
    #[serde(alias = "response_token_count")]
    pub response_token_count: Option<u64>,
    /// Output tokens (Vertex AI spelling).
    #[serde(alias = "candidates_token_count")]
    pub candidates_token_count: Option<u64>,
    /// Tokens spent thinking.
    #[serde(alias = "thoughts_token_count")]
    pub thoughts_token_count: Option<u64>,
    /// Tokens of tool-use prompts.
    #[serde(alias = "tool_use_prompt_token_count")]
    pub tool_use_prompt_token_count: Option<u64>,
    /// Total tokens.
    #[serde(alias = "total_token_count")]
    pub total_token_count: Option<u64>,
    /// Input tokens per modality.
    #[serde(alias = "prompt_tokens_details")]
    pub prompt_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Output tokens per modality (Gemini API spelling).
    #[serde(alias = "response_tokens_details")]
    pub response_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Output tokens per modality (Vertex AI spelling).
    #[serde(alias = "candidates_tokens_details")]
    pub candidates_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Cached tokens per modality.
    #[serde(alias = "cache_tokens_details")]
    pub cache_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Cached tokens.
    #[serde(alias = "cached_content_token_count")]
    pub cached_content_token_count: Option<u64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token count of one modality.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(rename_all = "camelCase")]
pub struct ModalityTokenCount {
    /// `AUDIO`, `TEXT`, `IMAGE`, `VIDEO`.
    pub modality: Option<String>,
    /// Tokens.
    #[serde(alias = "token_count")]
    pub token_count: Option<u64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(
    camel:
    ClientMessage,
    Setup,
    GenerationConfig,
    Tool,
    FunctionDeclaration,
    RealtimeInputConfig,
    AutomaticActivityDetection,
    SessionResumption,
    Content,
    Part,
    Blob,
    ClientContent,
    RealtimeInput,
    ToolResponse,
    FunctionResponse,
    ContextUpdate,
    ContextTools,
    ServerMessage,
    SetupComplete,
    ServerContent,
    Transcription,
    ToolCall,
    FunctionCall,
    ToolCallCancellation,
    GoAway,
    SessionResumptionUpdate,
    UsageMetadata,
    ModalityTokenCount,
);
