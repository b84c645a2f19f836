//! The Gemini respond engine's settings for the points the protocol notes
//! mark *unconfirmed* or rest on field reports (§9.5, §9.10, §9.14): each is
//! a switch with a documented default, so a test can hold a client to either
//! reading. What differs by model is not here: it is the model's row in
//! `understudy_adapters::gemini::models`.

/// How the Gemini mock answers the points the service has not settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiLiveSettings {
    /// Close 1007 "Thinking level is not supported for this model" when a
    /// model whose thinking rule is *must omit* (3.8 Live) gets a
    /// `thinkingConfig` (field reports). Default on.
    pub reject_thinking_config: bool,
    /// Close 1007 when a model whose thinking rule is *required* (Extended
    /// Thinking) gets no `thinkingConfig`, both knobs, or a level other than
    /// LOW/MEDIUM/HIGH (field reports; the close code is unconfirmed). Default on.
    pub require_thinking_config: bool,
    /// Close 1007 when a declaration asks for a `behavior` its model does not
    /// allow (`BLOCKING` on Extended Thinking: "Async only"; the code is
    /// unconfirmed). Default on.
    pub reject_disallowed_behavior: bool,
    /// Close 1007 when `proactivity.proactiveAudio` is `false` on a model
    /// where it is always on (3.8: "returns an error"; the code is
    /// unconfirmed). Default on.
    pub reject_proactive_audio_off: bool,
    /// Never answer `setup` (no `setupComplete`) when a model that does not
    /// support them gets `enableAffectiveDialog` or `proactivity` (3.1, a
    /// field report). Default on, as reported.
    pub silent_on_unsupported_dialog: bool,
    /// Close 1007 "Function response scheduling is not supported for this
    /// model" when a function response carries `scheduling` on a model
    /// whose adapter row strips it (Extended Thinking; reports conflict).
    /// Default off: the other report sends `INTERRUPT` without trouble.
    pub reject_scheduling_where_stripped: bool,
    /// When new input auto-cancels a pending `BLOCKING` call (3.8), also send
    /// `toolCallCancellation {ids}`. Default off: the one public report on
    /// `gemini-3.8-live` saw no frame, and clients must cope without it.
    pub blocking_cancel_frame: bool,
    /// An `INTERRUPT`-scheduled result that cuts the model's speech sends
    /// `serverContent.interrupted: true` (then `turnComplete`) before the new
    /// turn, as a barge-in does. Default on (unconfirmed; it tells clients to
    /// flush the audio they queued).
    pub interrupt_sends_interrupted: bool,
}

impl Default for GeminiLiveSettings {
    fn default() -> Self {
        GeminiLiveSettings {
            reject_thinking_config: true,
            require_thinking_config: true,
            reject_disallowed_behavior: true,
            reject_proactive_audio_off: true,
            silent_on_unsupported_dialog: true,
            reject_scheduling_where_stripped: false,
            blocking_cancel_frame: false,
            interrupt_sends_interrupted: true,
        }
    }
}
