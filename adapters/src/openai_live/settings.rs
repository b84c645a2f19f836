//! What the GPT-Live adapter infers with, and the choices it makes where the
//! protocol is unconfirmed — every one a documented, configurable value.
//!
//! GPT-Live sends no turn, response, done or barge-in events; the adapter
//! infers them from transcript timing and the audio track (rules in
//! [`codec`](super::codec)). The thresholds here are those rules' knobs. The
//! defaults follow the protocol notes: digital silence with faint dither
//! (|sample| ≲ 20) between replies, 100 ms output chunks, transcript
//! fragments on a 200 ms grid, and the SDK's own `TranscriptGrouper`
//! (2,000 ms of assistant silence ends a reply).

/// How client-delegation results are placed in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultPlacement {
    /// `session.commentary.append`: speakable, the model tells the user.
    Commentary,
    /// `session.thinking.append`: silent context the model may use.
    Thinking,
}

/// Who does delegated work, chosen when the session starts (the mode is
/// fixed for the session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegationMode {
    /// The application (`{type:"client"}`, the service default): a
    /// delegation arrives as a tool call without arguments and the result
    /// goes back as an append.
    Client,
    /// A hosted Responses backend on `model`, which gets the session's
    /// function tools; function calls come back as ordinary tool calls and
    /// their results go back as `function_call_output` items plus one
    /// `response.create`.
    Responses {
        /// The backend model (`gpt-5.1`, …); required by the service.
        model: String,
    },
}

/// The adapter's inference thresholds and unconfirmed-point choices.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSettings {
    /// A chunk of output audio whose peak |sample| is at most this is
    /// silence (default 64; the service's idle track is digital zero with
    /// occasional dither up to about 20).
    pub silence_peak: u16,
    /// Silence inside a reply still reported as audio after the last voiced
    /// chunk, in ms (default 500): pauses between words stay in the reply's
    /// audio; longer runs are held back, and dropped if the reply ends.
    pub kept_pause_ms: u64,
    /// Timeline quiet (no voiced audio, no output transcript) that ends a
    /// reply, in ms (default 2,000, the SDK grouper's assistant silence).
    pub reply_end_silence_ms: u64,
    /// Timeline quiet after the user's last transcript fragment (its end,
    /// or its arrival when that came later) that ends the user's turn when
    /// the model has not answered yet, in ms (default 800).
    pub user_turn_end_ms: u64,
    /// How soon after the user starts speaking over a reply the model's
    /// voice must stop for the reply to count as interrupted, in ms
    /// (default 1,000; the service stops within about 200 ms). A model that
    /// talks on longer treated the user's words as a backchannel.
    pub barge_in_stop_ms: u64,
    /// Quiet after the model's last speech that confirms an interruption,
    /// in ms (default 300).
    pub barge_in_quiet_ms: u64,
    /// An input audio chunk whose peak |sample| exceeds this counts as the
    /// user talking at its place on the timeline (default 1,000, about
    /// −30 dBFS; `None`: only transcript fragments say the user spoke).
    /// The service transcribes an utterance with some delay — a mock that
    /// recognises whole utterances only after they end — so a long
    /// interruption's first words may come after the model has stopped;
    /// the client's own microphone says at once that the user talks over
    /// the model. It is a heuristic: a noisy microphone above the level
    /// makes every reply it overlaps a candidate, and the barge-in rule's
    /// timing (the model's voice stopping) still decides.
    pub input_voice_peak: Option<u16>,
    /// The tool name a client delegation's [`ToolCall`](crate::ModelEvent::ToolCall)
    /// carries (default `delegate`): the service names no tool.
    pub delegation_tool_name: String,
    /// Where tool results for client delegations go (default commentary).
    pub result_placement: ResultPlacement,
    /// Longest append content, in characters, before a result is split into
    /// several appends (default 1,600 ≈ 400 tokens, under the 500-token
    /// limit; the service counts o200k tokens, which the adapter does not).
    pub max_append_chars: usize,
    /// Who does delegated work (default the application).
    pub delegation: DelegationMode,
    /// **Unconfirmed:** whether an `error` before `session.started` is fatal
    /// (default `true`: the service refused the start; one report shows a
    /// `session.started` following such an error, in which case the session
    /// goes on regardless and the next events say so).
    pub pre_start_error_fatal: bool,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            silence_peak: 64,
            kept_pause_ms: 500,
            reply_end_silence_ms: 2_000,
            user_turn_end_ms: 800,
            barge_in_stop_ms: 1_000,
            barge_in_quiet_ms: 300,
            input_voice_peak: Some(1_000),
            delegation_tool_name: "delegate".into(),
            result_placement: ResultPlacement::Commentary,
            max_append_chars: 1_600,
            delegation: DelegationMode::Client,
            pre_start_error_fatal: true,
        }
    }
}
