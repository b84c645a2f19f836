//! How a [`super::RealtimeAgent`] is configured.

use super::compaction::{ExtractiveSummariser, SharedSummariser};
use std::sync::Arc;
use std::time::Duration;
use understudy_adapters::SessionConfig;

/// Everything the agent needs besides its connector and tools.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The model session's configuration (instructions, voice, turn
    /// detection, transcription, …). Its `tools` are replaced by the
    /// registry's declarations (or emptied where the dialect has no function
    /// calling). `None` turn detection leaves the provider's default, which is
    /// server VAD that interrupts the response on all three providers.
    pub session: SessionConfig,
    /// The front end's playback rate; model audio is resampled to it.
    /// `None` passes the model's rate through.
    pub output_sample_rate: Option<u32>,
    /// Whether user speech cuts the agent off (cancel, truncate, `Interrupted`).
    /// An `Interrupted` from the provider is always honoured. Where the
    /// dialect's turns are inferred (`Capabilities::inferred_turns`,
    /// GPT-Live), the model itself decides whether words spoken over it
    /// interrupt it (a backchannel does not), so the agent cuts only on the
    /// adapter's inferred `Interrupted`, never on the user merely starting
    /// to speak.
    pub barge_in: bool,
    /// Longest a tool may run before the model is told it timed out.
    pub tool_timeout: Duration,
    /// Which tool answers a delegated request, where the dialect delegates
    /// rather than calls (`Capabilities::delegated_tools`, GPT-Live client
    /// delegation): such a request names no tool and carries no arguments
    /// of the model's. Default: the tool registered as `delegate`.
    pub delegation: DelegationRoute,
    /// Silence sent while the front end sends no audio, where the dialect's
    /// clock runs on input audio (`Capabilities::continuous_input`,
    /// GPT-Live): without it such a session stalls as soon as the
    /// microphone pauses (no reply ends, no result is acknowledged).
    /// `None` sends only the front end's audio. Ignored elsewhere.
    pub silence_fill: Option<SilenceFill>,
    /// How lost sessions are re-established.
    pub reconnect: ReconnectPolicy,
    /// Most user audio kept while the session is down, in milliseconds; older
    /// audio is dropped first (and reported with `AgentEvent::InputDropped`).
    pub input_buffer_ms: u64,
    /// Most characters of conversation (summary plus recent turns) put into
    /// the instructions of a new session that could not resume the old one
    /// (0: none).
    pub context_chars: usize,
    /// Turns the new session gets verbatim; older ones are summarised.
    pub recent_turns: usize,
    /// Summarises the older turns for a new session.
    pub summariser: SharedSummariser,
    /// Move to a new session this long before the provider ends the current
    /// one (at most a quarter of the session's life), between turns.
    pub handover_margin: Duration,
    /// Move to a fresh, compacted session (never a resumed one: resuming
    /// keeps the whole context) once the context reaches this many tokens,
    /// as the provider's usage reports count it (else estimated from the
    /// conversation's length). `None`: 80% of the dialect's fixed context
    /// window where it has one, else never.
    pub context_budget_tokens: Option<u64>,
    /// Longest a new connection may take to acknowledge its session
    /// configuration. A provider that stays silent past it is treated as a
    /// lost session (reconnect with back-off), not waited on for ever.
    pub setup_timeout: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            session: SessionConfig::default(),
            output_sample_rate: None,
            barge_in: true,
            tool_timeout: Duration::from_secs(30),
            delegation: DelegationRoute::default(),
            silence_fill: Some(SilenceFill::default()),
            reconnect: ReconnectPolicy::default(),
            input_buffer_ms: 10_000,
            context_chars: 32_000,
            recent_turns: 4,
            summariser: Arc::new(ExtractiveSummariser),
            handover_margin: Duration::from_secs(60),
            context_budget_tokens: None,
            setup_timeout: Duration::from_secs(10),
        }
    }
}

impl AgentConfig {
    /// Defaults around this session configuration.
    pub fn new(session: SessionConfig) -> Self {
        AgentConfig {
            session,
            ..Self::default()
        }
    }
}

/// Which of the agent's tools answers a delegated request.
///
/// A delegating model (GPT-Live under client delegation) hands the
/// application a request without naming a tool or writing arguments; the
/// adapter turns it into a tool call whose arguments are
/// `{"request": <the user's words>, "offset_ms": <where on the session
/// timeline the request ended>}`. The chosen tool gets exactly those
/// arguments, and its output goes back the way the adapter sends a
/// delegation's result (GPT-Live: `session.commentary.append`, which the
/// model speaks). When the route names no tool the registry holds, the call
/// fails with a result saying so (the model is told, the front end sees
/// `ToolCallFinished{is_error}`); the agent never guesses another tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegationRoute {
    /// The registered tool with this name (default `delegate`): a tool the
    /// application registers for delegated requests, taking `request`.
    Tool(String),
    /// The agent's single tool, whatever its name (it must take `request`);
    /// refused when the registry holds no tool or several.
    OnlyTool,
}

impl Default for DelegationRoute {
    fn default() -> Self {
        DelegationRoute::Tool("delegate".into())
    }
}

/// How the agent keeps a session whose clock runs on input audio moving
/// while the front end sends none: once the front end's audio has paused
/// for [`after`](Self::after), silence is sent in [`chunk`](Self::chunk)s
/// so that the session's timeline advances with the wall clock (times
/// [`pace`](Self::pace)), counted from the front end's last audio. A
/// microphone that streams in real time never pauses that long, so nothing
/// is added to real speech; the fill stops at the front end's next chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceFill {
    /// How long the front end's audio must pause before silence is sent
    /// (default 200 ms).
    pub after: Duration,
    /// Length of one silent chunk (default 100 ms).
    pub chunk: Duration,
    /// Timeline milliseconds sent per wall-clock millisecond (default 1.0,
    /// real time; a test against a mock may run faster). Values below
    /// 0.01 count as 0.01.
    pub pace: f64,
}

impl Default for SilenceFill {
    fn default() -> Self {
        SilenceFill {
            after: Duration::from_millis(200),
            chunk: Duration::from_millis(100),
            pace: 1.0,
        }
    }
}

/// Exponential back-off for reconnecting: `initial_delay`, doubling, capped
/// at `max_delay`, for at most `max_attempts` attempts in a row.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Attempts before giving up (0: never reconnect).
    pub max_attempts: u32,
    /// Pause before the first attempt.
    pub initial_delay: Duration,
    /// Longest pause between attempts.
    pub max_delay: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            max_attempts: 8,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect.
    pub fn never() -> Self {
        ReconnectPolicy {
            max_attempts: 0,
            ..Self::default()
        }
    }

    /// The pause before attempt `attempt` (from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_is_capped() {
        let policy = ReconnectPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
        };
        let delays: Vec<u128> = (1..=5).map(|a| policy.delay(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 700, 700]);
        assert_eq!(policy.delay(u32::MAX), Duration::from_millis(700));
    }
}
