//! The agent's front-end-facing vocabulary: what a [`super::RealtimeAgent`]
//! tells whoever plays its audio and shows its conversation.
//!
//! These are deliberately not [`understudy_adapters::ModelEvent`]s: a front
//! end cares about what to play, show and stop, not about provider framing.
//! Audio arrives already resampled to the front end's playback rate. In JSON
//! each event is an object with a snake_case `type` tag (audio as base64), the
//! form a deployment layer can forward as it is.

use serde::Serialize;
use understudy_adapters::{Pcm, ResponseStatus};

/// One event from the agent to its front end.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    // ---- session state ---------------------------------------------------------
    /// A model session is open and configured; input flows to the model.
    /// Comes for the first session to be ready, and again after a planned
    /// move to a new connection (the provider's `GoAway`), which is no
    /// outage: no `Disconnected` comes before it.
    SessionReady {
        /// Provider session id, where the provider gave one.
        session_id: Option<String>,
        /// How many connections the agent has opened so far (1 for the first).
        connection: u32,
    },
    /// The model session ended without the agent closing it.
    Disconnected {
        /// Why, as the adapter reported it.
        reason: String,
    },
    /// The agent will try to reconnect after a pause; input is buffered.
    Reconnecting {
        /// Attempt number, from 1.
        attempt: u32,
        /// Pause before the attempt, in milliseconds.
        delay_ms: u64,
    },
    /// A new model session replaced the lost one.
    Reconnected {
        /// Which attempt succeeded.
        attempt: u32,
        /// Whether the provider resumed the old conversation (a resumption
        /// handle); otherwise the transcript so far went into the instructions.
        resumed: bool,
        /// Buffered inputs delivered to the new session.
        delivered_inputs: usize,
    },
    /// The conversation moved to a new provider session, planned (before
    /// the provider's announced end: `goAway`, `expires_at`) or after a
    /// loss; comes with `SessionReady` or `Reconnected`, and says how.
    SessionSwitched {
        /// The new connection's number.
        connection: u32,
        /// Whether the move was made before the provider ended the session.
        planned: bool,
        /// Whether the provider resumed the conversation (a handle).
        resumed: bool,
        /// When it could not: the length of the summary the new session's
        /// instructions carry (`None`: nothing to carry, or resumed).
        summary_chars: Option<usize>,
        /// From leaving the old session to the new one being ready, in
        /// milliseconds: the time input waited.
        gap_ms: u64,
    },
    /// Input buffered during an outage exceeded the bound; the oldest audio
    /// was dropped.
    InputDropped {
        /// Audio dropped so far in this outage, in milliseconds.
        audio_ms: u64,
    },
    /// The agent stopped: closed by the front end, or it gave up reconnecting.
    Closed {
        /// Why.
        reason: String,
    },

    // ---- the user --------------------------------------------------------------
    /// The provider heard the user start speaking.
    UserSpeechStarted {
        /// The user item being spoken.
        item_id: String,
    },
    /// The provider heard the user stop speaking.
    UserSpeechStopped {
        /// The user item spoken.
        item_id: String,
    },
    /// A piece of the user's transcript.
    UserTranscriptDelta {
        /// The user item.
        item_id: String,
        /// The new text.
        delta: String,
    },
    /// The whole transcript of one user turn.
    UserTranscript {
        /// The user item.
        item_id: String,
        /// What the user said.
        text: String,
    },

    // ---- the agent's answers ---------------------------------------------------
    /// The model started a response.
    ResponseStarted {
        /// The response.
        response_id: String,
    },
    /// Audio to play, PCM16 mono at the front end's rate.
    Audio {
        /// The response it belongs to.
        response_id: String,
        /// The output item it belongs to (playback reports name it).
        item_id: String,
        /// The samples.
        pcm: Pcm,
        /// Their rate (the front end's output rate).
        sample_rate: u32,
    },
    /// The model finished the audio of one item.
    AudioDone {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
    },
    /// A piece of what the agent is saying (or writing, in text modality).
    TranscriptDelta {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
        /// The new text.
        delta: String,
    },
    /// The whole of what the agent said in one item (as generated; after a
    /// barge-in the transcript keeps only what was heard).
    TranscriptDone {
        /// The response.
        response_id: String,
        /// The item.
        item_id: String,
        /// The text.
        text: String,
    },
    /// A response ended.
    ResponseDone {
        /// The response.
        response_id: String,
        /// How it ended.
        status: ResponseStatus,
    },
    /// The user talked over the agent: stop playback now. What was heard is
    /// what the model (where it can truncate) and the transcript keep.
    Interrupted {
        /// The response cut short, where known.
        response_id: Option<String>,
        /// The audio item cut short, where audio was playing.
        item_id: Option<String>,
        /// Audio of that item the user heard, in milliseconds.
        played_ms: Option<u64>,
    },

    // ---- tools -----------------------------------------------------------------
    /// The model called a tool; it is running.
    ToolCallStarted {
        /// The call.
        call_id: String,
        /// The tool.
        name: String,
        /// Arguments, JSON text as the model wrote them.
        arguments: String,
    },
    /// A tool call finished and its result went to the model.
    ToolCallFinished {
        /// The call.
        call_id: String,
        /// The tool.
        name: String,
        /// The result as sent to the model.
        output: String,
        /// Whether the result reports a failure.
        is_error: bool,
    },
    /// The provider withdrew a call; it was stopped and no result was sent.
    ToolCallCancelled {
        /// The call.
        call_id: String,
    },
    /// The model runs this call in the background (Gemini 3.8's
    /// non-blocking calls): the conversation goes on while it runs, and its
    /// result is voiced as the tool's scheduling says.
    ToolCallInBackground {
        /// The call.
        call_id: String,
    },

    // ---- the model's work --------------------------------------------------------
    /// The model says whether it is still working for the user (Gemini 3.8
    /// Extended Thinking's `interactionStatus`): while `busy`, a finished
    /// response is only a segment — more speech or tool calls follow; the
    /// reply is finished when it reports not busy (`IDLE`).
    InteractionStatus {
        /// Still working (`IN_PROGRESS`).
        busy: bool,
        /// The status as the provider spelled it.
        status: String,
    },

    // ---- problems --------------------------------------------------------------
    /// Something went wrong. Non-fatal errors leave the session usable.
    Error {
        /// A short code (the provider's, or the agent's own such as
        /// `unsupported_input`).
        code: String,
        /// What happened.
        message: String,
        /// Whether the model session is lost because of it.
        fatal: bool,
    },
}
