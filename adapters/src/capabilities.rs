//! Provider differences declared as data.
//!
//! Code above the adapters asks a dialect's [`Capabilities`] what it can do
//! (take text? truncate? resume?) instead of matching on the provider. The
//! conformance suite grades a case UNIMPLEMENTED when the capabilities say the
//! dialect cannot do what the case needs.

use serde::{Deserialize, Serialize};

/// What one provider dialect supports, and its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Stable dialect name (`openai-ga`, `openai-beta`, …).
    pub dialect: String,
    /// Accepts user text messages.
    pub text_input: bool,
    /// Accepts user images.
    pub image_input: bool,
    /// Can truncate an assistant item to the audio actually played.
    pub truncation: bool,
    /// Offers provider-side voice activity detection.
    pub server_vad: bool,
    /// Lets the client commit turns itself.
    pub manual_turns: bool,
    /// Supports function calling.
    pub tool_calls: bool,
    /// Needs an explicit "respond now" after tool results.
    pub response_after_tool_result: bool,
    /// Can resume a dropped session with a handle.
    pub resumption: bool,
    /// Ends sessions with a goodbye the server confirms (DashScope's
    /// `session.finish` → `session.finished`) rather than by just closing.
    pub end_handshake: bool,
    /// Reports what its server VAD decides as events: speech started and
    /// stopped, and the user's turn committed (OpenAI, DashScope). Gemini's VAD
    /// acts without saying so: the answer simply begins.
    pub vad_events: bool,
    /// Takes configuration changes on an open session and acknowledges them
    /// (`SessionUpdated`). Gemini is configured once, by its opening `setup`.
    pub session_updates: bool,
    /// Streams a tool call's arguments (`ToolCallDelta`) before the whole call.
    pub tool_call_deltas: bool,
    /// Turn and response boundaries (speech started/stopped, response
    /// created/done, interruptions) are inferred by the adapter from
    /// transcript timing and the audio track, not sent by the provider
    /// (GPT-Live): they are as good as the adapter's documented rules.
    #[serde(default)]
    pub inferred_turns: bool,
    /// Tools are delegated rather than called: the model hands a request to
    /// the application without naming a declared tool or writing arguments
    /// (GPT-Live client delegation; the adapter's tool call carries the
    /// user's words instead).
    #[serde(default)]
    pub delegated_tools: bool,
    /// The session's clock advances only with the input audio the client
    /// streams (GPT-Live's timeline): a client that stops streaming stalls
    /// the session — no reply ends, no acknowledgement arrives — so it must
    /// send silence whenever it has nothing to say. An agent fills the front
    /// end's pauses with silence where this is set.
    #[serde(default)]
    pub continuous_input: bool,
    /// Tool calls run in the background by default (Gemini 3.8 Live's
    /// `NON_BLOCKING`): the model keeps talking, or answers other questions,
    /// while a call is pending, and its turn may end before the result is in.
    /// An agent must not hold the conversation for such a call.
    #[serde(default)]
    pub tool_calls_non_blocking: bool,
    /// A tool result may say when the model voices it (`ToolResultScheduling`:
    /// interrupt, when idle, silently).
    #[serde(default)]
    pub tool_result_scheduling: bool,
    /// The end of a response is not the end of the model's work: it reports
    /// `InteractionStatus` and only `Idle` means it is waiting for the user
    /// (Gemini 3.8 Live Extended Thinking).
    #[serde(default)]
    pub interaction_status: bool,
    /// Input sample rate (PCM16 mono).
    pub input_sample_rate: u32,
    /// Output sample rate (PCM16 mono).
    pub output_sample_rate: u32,
    /// How long sessions and connections may last, and how their end comes.
    pub limits: SessionLimits,
}

impl Capabilities {
    /// A dialect that declares nothing: no feature, no audio rates, no limits
    /// (what a caller grades against when the registry gives a dialect no
    /// session capabilities, so every requirement reads as unmet).
    pub fn none(dialect: impl Into<String>) -> Self {
        Capabilities {
            dialect: dialect.into(),
            text_input: false,
            image_input: false,
            truncation: false,
            server_vad: false,
            manual_turns: false,
            tool_calls: false,
            response_after_tool_result: false,
            resumption: false,
            end_handshake: false,
            vad_events: false,
            session_updates: false,
            tool_call_deltas: false,
            inferred_turns: false,
            delegated_tools: false,
            continuous_input: false,
            tool_calls_non_blocking: false,
            tool_result_scheduling: false,
            interaction_status: false,
            input_sample_rate: 0,
            output_sample_rate: 0,
            limits: SessionLimits::default(),
        }
    }
}

/// A dialect's session limits, as data: what an agent must plan around to
/// carry a conversation past them (compaction, handover).
///
/// Values are the providers' documented defaults; a mock can be told to use
/// shorter ones (`serve --session-limit`), and announces them the provider's
/// way (`expires_at`, `goAway`), which an agent should prefer to these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLimits {
    /// Longest session, in seconds: OpenAI ends it with `session_expired`,
    /// DashScope closes it; Gemini audio sessions without context compression
    /// are bound by their token window (about 15 minutes).
    pub session_secs: Option<u64>,
    /// Longest single connection, in seconds (Gemini: about 10 minutes, then
    /// `goAway` and a close; the session itself can be resumed).
    pub connection_secs: Option<u64>,
    /// The context window in tokens, where the dialect has one fixed size
    /// (`None`: it depends on the model, or is not documented).
    pub context_tokens: Option<u32>,
    /// The session's end time is announced at its start (`expires_at` in
    /// OpenAI's and DashScope's `session.created`).
    pub announces_expiry: bool,
    /// The server warns before it closes (Gemini's `goAway{timeLeft}`).
    pub warns_before_close: bool,
}
