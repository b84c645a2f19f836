//! The GPT-Live responder's tunable values: every point the protocol notes
//! mark *unconfirmed* (error codes, caps, timings, refusals) is a field here
//! with a documented default, so a test can pin the behaviour it depends on
//! and a newer capture can change a default without touching the engine.

use std::time::Duration;

/// How a GPT-Live session is paced and what it refuses, beyond the
/// [`ResponderConfig`](crate::ResponderConfig) every dialect shares.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSettings {
    /// Session lifetime announced in `expires_at` (and enforced with
    /// `session.closed{reason:"expired"}`) when no `--session-limit` is set.
    /// The real maximum is *unconfirmed*; default 3,600 s (a third-party fake
    /// uses start + 1 h).
    pub max_session: Duration,
    /// End a started session that receives no audio for this long with
    /// `session.closed{reason:"expired"}` (one report: ~31 s without audio;
    /// *unconfirmed*). Default `None`: off, so a test that pauses its
    /// microphone is not cut off.
    pub idle_expiry: Option<Duration>,
    /// Cap on each `*.append` `content`, in tokens (documented: 500, counted
    /// with o200k_base). The mock counts tokens approximately
    /// (a word-and-punctuation estimate that errs high); default 500.
    pub append_token_cap: usize,
    /// Error code for an oversize append (*unconfirmed*; default
    /// `string_above_max_length`, the code OpenAI uses for over-long strings).
    pub oversize_append_code: &'static str,
    /// Error code for `response.*` under client delegation (*unconfirmed*;
    /// default `invalid_request_error`'s generic `invalid_value`; the message
    /// is the observed "response.item.create requires Responses delegation.").
    pub wrong_delegation_code: &'static str,
    /// Error code for an append while a fixture plays, and for a second
    /// fixture (*unconfirmed*; default `fixture_active`).
    pub fixture_active_code: &'static str,
    /// Error code for a command sent before `session.start` (*unconfirmed*;
    /// default `session_not_started`).
    pub not_started_code: &'static str,
    /// Keep commands sent before `session.start` and apply them, in order,
    /// once the session has started, instead of refusing them (the notes
    /// suggest this for commands sent before `session.started`; what the
    /// service does with commands before `session.start` is *unconfirmed*).
    /// Default `false`: refused as below.
    pub queue_before_start: bool,
    /// Close code after refusing a first frame that is not `session.start`,
    /// or `None` to keep the socket open and wait for `session.start`
    /// (*unconfirmed*; the notes' checklist says "error and close": default
    /// `Some(1008)`, policy violation).
    pub not_started_close: Option<u16>,
    /// Error code for a second `session.start` on a started session
    /// (*unconfirmed*; default `session_already_started`).
    pub already_started_code: &'static str,
    /// Input silence that ends a user utterance, in ms of timeline (the notes:
    /// "after ~0.5 s of input silence the reply"); default 500.
    pub end_of_speech_ms: u64,
    /// Timeline ms between the end of speech being noticed and the reply's
    /// first voiced audio; default 200.
    pub reply_delay_ms: u64,
    /// Timeline ms after their `end_ms` at which input transcript fragments
    /// are released ("a few hundred ms"); default 300.
    pub input_transcript_lag_ms: u64,
    /// Granularity of transcript fragments, ms (recordings: 200).
    pub fragment_ms: u64,
    /// How soon the voice stops after user speech interrupts it, in timeline
    /// ms ("within ~200 ms"); default 200.
    pub barge_in_stop_ms: u64,
    /// Timeline ms between `session.usage.updated` reports (third-party:
    /// ~15 s); default 15,000.
    pub usage_interval_ms: u64,
    /// The model's context limit in tokens, for `context_window.usage_ratio`
    /// (*unconfirmed*; default 32,768).
    pub context_tokens: usize,
    /// Emit silent output chunks when the model is not speaking (the service
    /// does: one continuous track). Off = only voiced chunks, for fast tests.
    pub idle_track: bool,
    /// Release `*.appended` acks only once the input timeline has moved past
    /// their placement (the service's way). Off = at once ("fast" mode).
    pub acks_on_timeline: bool,
    /// Words that make a user utterance a delegated task (client or
    /// Responses delegation without a matching function tool). Default
    /// `check`, `look up`, `status`: the bundled "check the status of order A
    /// seventeen" utterance delegates, the weather question is answered.
    pub delegate_words: Vec<String>,
    /// What the model says when it delegates ("Okay, checking now.").
    pub acknowledgement: String,
    /// How a bad key is refused (*unconfirmed* for GPT-Live).
    pub auth_refusal: LiveAuthRefusal,
    /// Whether a sideband may attach to one of the mock's (WebSocket)
    /// sessions: the service offers sidebands for WebRTC and SIP sessions;
    /// for WebSocket ones it is *unconfirmed* (one fake refuses). Default
    /// [`AttachPolicy::Refuse`].
    pub attach: AttachPolicy,
    /// Error code refusing a sideband (*unconfirmed*; default
    /// `sideband_not_supported`).
    pub attach_refused_code: &'static str,
    /// Error code refusing a fork of a session this mock has not stored
    /// (*unconfirmed*; default `session_not_found`).
    pub fork_missing_code: &'static str,
}

/// Whether `…/live/sessions/{id}/attach` attaches to the mock's sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachPolicy {
    /// Refuse with an `error` and close 1008, as one fake does (default).
    #[default]
    Refuse,
    /// Attach: the sideband sees the session's events, the caller's audio
    /// and the output track, and its commands reach the session.
    Observe,
}

/// How a GPT-Live upgrade with a bad key is refused. Whether the service
/// answers with an HTTP status at the upgrade or an `error` frame is
/// *unconfirmed*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LiveAuthRefusal {
    /// Upgrade, then `error{code:"invalid_api_key"}` and close 3000, as the
    /// Realtime API on the same host does (default).
    #[default]
    ErrorThenClose,
    /// HTTP 401 at the upgrade with OpenAI's JSON error body.
    Http401,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            max_session: Duration::from_secs(3600),
            idle_expiry: None,
            append_token_cap: 500,
            oversize_append_code: "string_above_max_length",
            wrong_delegation_code: "invalid_value",
            fixture_active_code: "fixture_active",
            not_started_code: "session_not_started",
            not_started_close: Some(1008),
            queue_before_start: false,
            already_started_code: "session_already_started",
            end_of_speech_ms: 500,
            reply_delay_ms: 200,
            input_transcript_lag_ms: 300,
            fragment_ms: 200,
            barge_in_stop_ms: 200,
            usage_interval_ms: 15_000,
            context_tokens: 32_768,
            idle_track: true,
            acks_on_timeline: true,
            delegate_words: vec!["check".into(), "look up".into(), "status".into()],
            acknowledgement: "Okay, checking now.".into(),
            auth_refusal: LiveAuthRefusal::default(),
            attach: AttachPolicy::Refuse,
            attach_refused_code: "sideband_not_supported",
            fork_missing_code: "session_not_found",
        }
    }
}

/// An approximation of o200k_base token counts good enough for the cap: one
/// token per word-ish run, plus one per four characters of a long run, plus
/// one per punctuation mark. Over-counts rather than under-counts long
/// strings, so content the mock accepts is within the service's cap.
pub fn approx_tokens(text: &str) -> usize {
    let mut tokens = 0;
    for word in text.split_whitespace() {
        let letters = word.chars().filter(|c| c.is_alphanumeric()).count();
        let marks = word.chars().count() - letters;
        tokens += letters.div_ceil(4).max(usize::from(letters > 0)) + marks;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_estimate_counts_words_long_runs_and_marks() {
        assert_eq!(approx_tokens(""), 0);
        // "Staging" 2, "is" 1, "healthy" 2 plus its full stop.
        assert_eq!(approx_tokens("Staging is healthy."), 2 + 1 + 2 + 1);
        assert_eq!(approx_tokens(&"word ".repeat(500)), 500);
        assert!(approx_tokens(&"word ".repeat(501)) > 500);
        assert_eq!(approx_tokens("abcdefghij"), 3);
    }
}
