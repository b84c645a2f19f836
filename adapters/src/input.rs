//! The normalised client-side inputs: what an agent sends to any adapter.
//!
//! Each provider codec turns a [`ClientInput`] into that provider's wire frames,
//! or refuses it with a typed error when the provider's capabilities say it
//! cannot take it (see [`crate::Capabilities`]).

use crate::audio::{AudioFormat, Pcm};
use serde::{Deserialize, Serialize};

/// One input from the agent to the model session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientInput {
    /// Configure (or reconfigure) the session.
    Session(SessionConfig),
    /// A chunk of user audio, PCM16 mono.
    Audio {
        /// The samples.
        pcm: Pcm,
        /// Their rate; it must match the session's input rate.
        sample_rate: u32,
    },
    /// End the user's audio turn (manual turn taking).
    CommitAudio,
    /// Discard buffered user audio.
    ClearAudio,
    /// A user text message.
    Text {
        /// The message.
        text: String,
    },
    /// A user image (a camera frame, a screenshot).
    Image {
        /// MIME type, for example `image/jpeg`.
        mime_type: String,
        /// The encoded image bytes.
        data: Pcm,
    },
    /// The result of a tool call the model made.
    ToolResult {
        /// The call being answered.
        call_id: String,
        /// The tool's name (some providers require it).
        name: String,
        /// The result, as text (usually JSON).
        output: String,
        /// When the model voices a background call's result (Gemini 3.8
        /// `scheduling`); `None` leaves it to the dialect's default for the
        /// model. Dialects without scheduling ignore it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduling: Option<ToolResultScheduling>,
    },
    /// Ask the model to respond now.
    CreateResponse(ResponseOptions),
    /// Stop the response in progress.
    CancelResponse {
        /// The response to cancel, where known.
        response_id: Option<String>,
    },
    /// Cut an assistant item down to the audio the user actually heard.
    Truncate {
        /// The assistant item.
        item_id: String,
        /// Which content part (0 for the usual single audio part).
        content_index: u32,
        /// How much audio was played, in milliseconds.
        audio_end_ms: u64,
    },
    /// End the session politely: providers with an explicit goodbye
    /// (DashScope's `session.finish`) flush their output and confirm before
    /// closing; for the others there is nothing to send and the transport closes.
    EndSession,
    /// Resume an earlier session with a provider handle.
    Resume {
        /// The handle from a [`crate::ModelEvent::ResumptionHandle`].
        handle: String,
    },
}

/// Session configuration, provider-neutral.
///
/// `None` fields are left to the provider's defaults and not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// System instructions.
    pub instructions: Option<String>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    /// How the model chooses tools.
    pub tool_choice: Option<ToolChoice>,
    /// Voice name.
    pub voice: Option<String>,
    /// Turn detection; `Some(TurnDetection::Manual)` turns provider VAD off.
    pub turn_detection: Option<TurnDetection>,
    /// Transcription of the user's audio (model name), where wanted.
    pub input_transcription: Option<String>,
    /// Output modalities; the usual voice session wants audio.
    pub output_modalities: Option<Vec<Modality>>,
    /// Format of the audio the client will send.
    pub input_format: Option<AudioFormat>,
    /// Format of the audio the client wants back.
    pub output_format: Option<AudioFormat>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its arguments.
    pub parameters: serde_json::Value,
    /// Whether the model waits for this tool's result (Gemini's per-function
    /// `behavior`); `None` takes the model's default, which the adapter
    /// states explicitly where the dialect has the setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<ToolBehavior>,
}

/// Whether a tool call pauses the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolBehavior {
    /// The model waits for the result before it goes on.
    Blocking,
    /// The model keeps talking while the call runs; the result is voiced as
    /// its [`ToolResultScheduling`] says.
    NonBlocking,
}

/// When the model voices the result of a non-blocking call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolResultScheduling {
    /// Stop what the model is saying and answer from the result now (Gemini
    /// 3.8 waits for the user to finish speaking first).
    Interrupt,
    /// Answer once the model is not speaking.
    WhenIdle,
    /// Add the result to the context without a word.
    Silent,
}

/// How the model chooses tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// No tools.
    None,
    /// Some tool must be called.
    Required,
    /// This tool must be called.
    Function(String),
}

/// Output modality of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Text only.
    Text,
    /// Audio (with its transcript).
    Audio,
}

/// Who decides when the user's turn ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TurnDetection {
    /// The client commits turns itself (push-to-talk or local VAD).
    Manual,
    /// Provider voice activity detection by energy and silence.
    ServerVad {
        /// Activation threshold, 0.0–1.0.
        threshold: Option<f64>,
        /// Audio kept before detected speech, in milliseconds.
        prefix_padding_ms: Option<u32>,
        /// Silence that ends a turn, in milliseconds.
        silence_duration_ms: Option<u32>,
        /// Whether the provider starts a response at the end of a turn.
        create_response: Option<bool>,
        /// Whether user speech cancels the response in progress.
        interrupt_response: Option<bool>,
    },
    /// Provider turn detection by meaning.
    SemanticVad {
        /// `low`, `medium`, `high` or `auto`.
        eagerness: Option<String>,
        /// Whether the provider starts a response at the end of a turn.
        create_response: Option<bool>,
        /// Whether user speech cancels the response in progress.
        interrupt_response: Option<bool>,
    },
}

impl TurnDetection {
    /// Server VAD with every parameter left to the provider.
    pub fn server_vad() -> Self {
        TurnDetection::ServerVad {
            threshold: None,
            prefix_padding_ms: None,
            silence_duration_ms: None,
            create_response: None,
            interrupt_response: None,
        }
    }
}

/// Per-response overrides for [`ClientInput::CreateResponse`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseOptions {
    /// Instructions for this response only.
    pub instructions: Option<String>,
    /// Modalities for this response only.
    pub output_modalities: Option<Vec<Modality>>,
}
