//! The model session's life: opening and configuring a connection (resuming
//! the conversation where the dialect can), noticing it is ready, losing it,
//! backing off before the next attempt, and closing for good.
//!
//! While the session is down the loop keeps serving the front end: input is
//! buffered (see `outbox`) and delivered once a new session is ready.
//! [`Outage`] owns the reconnect state and decides the next attempt (or
//! giving up) after each loss; [`Connection`] owns the session's state and
//! decides what the front end hears when it is ready, lost or switched.
//! Neither does I/O: the runner opens, configures and closes the sockets
//! around their decisions. Beside them live the futures the runner's loop
//! waits on (the next model event, the attempt in flight, the timers), the
//! first connection's retries, and the configuration a new session gets
//! ([`compose_session`]).

use crate::realtime::compaction;
use crate::realtime::config::{AgentConfig, ReconnectPolicy};
use crate::realtime::connect::SharedConnector;
use crate::realtime::events::AgentEvent;
use crate::realtime::tools::ToolRegistry;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::{
    Capabilities, ClientError, ModelEvent, RealtimeClient, SessionConfig, TimedEvent,
};

/// The session is down and the agent is getting it back.
#[derive(Debug)]
pub(super) struct Outage {
    /// The attempt under way or next (from 1).
    pub(super) attempt: u32,
    /// When to try; `None` while a new connection is being opened or waits
    /// to be acknowledged.
    pub(super) retry_at: Option<Instant>,
}

impl Outage {
    /// The outage after losing the session, `previous` being the one under
    /// way (`None`: the session was up until now): the next attempt, due
    /// after the returned pause. `None` once `policy`'s attempts are used up.
    pub(super) fn after_loss(
        previous: Option<&Outage>,
        policy: &ReconnectPolicy,
        now: Instant,
    ) -> Option<(Outage, Duration)> {
        let attempt = previous.map_or(1, |outage| outage.attempt + 1);
        if attempt > policy.max_attempts {
            return None;
        }
        let delay = policy.delay(attempt);
        let outage = Outage {
            attempt,
            retry_at: Some(now + delay),
        };
        Some((outage, delay))
    }
}

/// A move to a new session under way, for its `SessionSwitched` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Switch {
    /// When the agent left the old session (or lost it).
    started: Instant,
    /// Before the provider's end rather than after a loss.
    planned: bool,
}

/// The model session and the state of getting (and keeping) one: the open
/// client, whether it is ready, the setup deadline, the count of connections
/// and the session lineage, the outage and the attempt in flight. Its
/// methods make the connection's decisions; the runner does the I/O.
#[derive(Default)]
pub(super) struct Connection {
    /// The model session, while one is open.
    pub(super) client: Option<RealtimeClient>,
    /// The provider acknowledged the session configuration.
    pub(super) ready: bool,
    /// Some session was ready once (the first ready one is `SessionReady`,
    /// later ones `Reconnected`).
    was_ready: bool,
    /// When the current connection must have acknowledged its configuration.
    pub(super) setup_deadline: Option<Instant>,
    /// Connections opened so far.
    pub(super) connections: u32,
    /// The session lineage: bumped by every connection that does not resume
    /// the previous conversation.
    pub(super) epoch: u32,
    /// Set while the session is down and the agent is getting it back.
    pub(super) outage: Option<Outage>,
    /// A connection attempt in flight.
    pub(super) connecting: Option<Connecting>,
    /// The current connection was opened with a resumption handle.
    pub(super) resuming: bool,
    /// The provider's session id, where it gave one.
    pub(super) session_id: Option<String>,
    /// The move to a new session under way.
    switch: Option<Switch>,
}

/// Which report a session that became ready earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Readiness {
    /// The first session to be ready, even after failed attempts: the one
    /// the front end waits for (`SessionReady`).
    First,
    /// A session back after an outage whose last attempt was `attempt`
    /// (`Reconnected`).
    Back {
        /// The attempt that succeeded.
        attempt: u32,
    },
}

/// What follows the loss of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loss {
    /// The session was up until now: the front end hears `Disconnected`.
    pub(super) first: bool,
    /// The next attempt and the pause before it; `None`: the policy's
    /// attempts are used up and the agent gives up.
    pub(super) next: Option<(u32, Duration)>,
}

impl Connection {
    /// The open session's client, if it is ready to take input.
    pub(super) fn ready_client(&mut self) -> Option<&mut RealtimeClient> {
        self.client.as_mut().filter(|_| self.ready)
    }

    /// A session is open and no outage is under way (a planned move may
    /// start from here).
    pub(super) fn serving(&self) -> bool {
        self.outage.is_none() && self.client.is_some()
    }

    /// The reconnect attempt under way (0 outside an outage).
    pub(super) fn attempt(&self) -> u32 {
        self.outage.as_ref().map_or(0, |o| o.attempt)
    }

    /// A new connection is being configured at `now`: it is the outage's
    /// attempt, counts as a connection, and must be acknowledged within
    /// `setup_timeout`.
    pub(super) fn opening(&mut self, now: Instant, setup_timeout: Duration) {
        if let Some(outage) = self.outage.as_mut() {
            outage.retry_at = None; // this is the attempt
        }
        self.connections += 1;
        self.ready = false;
        self.setup_deadline = Some(now + setup_timeout);
    }

    /// The configured connection is the current one; one that does not
    /// resume the conversation starts a new lineage.
    pub(super) fn opened(&mut self, client: RealtimeClient) {
        if !self.resuming {
            self.epoch += 1;
        }
        self.client = Some(client);
    }

    /// The provider acknowledged the configuration: the session is ready,
    /// the outage (if any) over. Says which report it earns.
    pub(super) fn became_ready(&mut self) -> Readiness {
        self.ready = true;
        self.setup_deadline = None;
        let first_ready = !std::mem::replace(&mut self.was_ready, true);
        match self.outage.take() {
            Some(outage) if !first_ready => Readiness::Back {
                attempt: outage.attempt,
            },
            _ => Readiness::First,
        }
    }

    /// The session became ready, its acknowledgement having arrived at
    /// `acknowledged_at`, with `delivered` inputs waiting for it and
    /// `dropped_ms` of audio dropped while it was down: what the front end
    /// hears. The first ready session is `SessionReady`; one back after an
    /// outage is `Reconnected` (after `InputDropped` when audio was lost); a
    /// later connection than the first also reports the move
    /// (`SessionSwitched`, with the summary its instructions carry).
    pub(super) fn ready(
        &mut self,
        delivered: usize,
        dropped_ms: f64,
        acknowledged_at: Instant,
        summary_chars: Option<usize>,
    ) -> Vec<AgentEvent> {
        let mut reports = Vec::new();
        match self.became_ready() {
            Readiness::Back { attempt } => {
                if dropped_ms > 0.0 {
                    reports.push(AgentEvent::InputDropped {
                        audio_ms: dropped_ms as u64,
                    });
                }
                reports.push(AgentEvent::Reconnected {
                    attempt,
                    resumed: self.resuming,
                    delivered_inputs: delivered,
                })
            }
            Readiness::First => reports.push(AgentEvent::SessionReady {
                session_id: self.session_id.clone(),
                connection: self.connections,
            }),
        }
        if let Some(switch) = self.switch.take().filter(|_| self.connections > 1) {
            reports.push(AgentEvent::SessionSwitched {
                connection: self.connections,
                planned: switch.planned,
                resumed: self.resuming,
                summary_chars,
                gap_ms: acknowledged_at
                    .saturating_duration_since(switch.started)
                    .as_millis() as u64,
            });
        }
        reports
    }

    /// The agent leaves the current session at `now` for the next one
    /// before the provider ends it (a planned move).
    pub(super) fn switching(&mut self, now: Instant) {
        self.switch = Some(Switch {
            started: now,
            planned: true,
        });
    }

    /// Whether the current connection resumed with a handle and never became
    /// ready: the provider may have refused the handle, so the next attempt
    /// should start afresh. (A resumed session lost after it was ready proved
    /// its handle good.)
    pub(super) fn resume_failed(&self) -> bool {
        self.resuming && !self.ready
    }

    /// The session was lost at `now` for `reason`: what the front end hears,
    /// and whether the agent gives up. The outage's first loss is
    /// `Disconnected`; then `Reconnecting` with the next attempt, or, the
    /// policy's attempts used up, a fatal `Error` and `Closed`. A move not
    /// already under way starts here (unplanned), for its `SessionSwitched`.
    pub(super) fn lose(
        &mut self,
        reason: &str,
        policy: &ReconnectPolicy,
        now: Instant,
    ) -> (Vec<AgentEvent>, bool) {
        self.switch.get_or_insert(Switch {
            started: now,
            planned: false,
        });
        let loss = self.lost(policy, now);
        let mut reports = Vec::new();
        if loss.first {
            reports.push(AgentEvent::Disconnected {
                reason: reason.to_owned(),
            });
        }
        let Some((attempt, delay)) = loss.next else {
            let message = format!(
                "model session lost ({reason}); gave up after {} reconnect attempts",
                policy.max_attempts
            );
            reports.push(AgentEvent::Error {
                code: "session_lost".into(),
                message: message.clone(),
                fatal: true,
            });
            reports.push(AgentEvent::Closed { reason: message });
            return (reports, true);
        };
        reports.push(AgentEvent::Reconnecting {
            attempt,
            delay_ms: delay.as_millis() as u64,
        });
        (reports, false)
    }

    /// A connection attempt failed with `error`: why the session counts as
    /// lost, or `None` when a session still serves (the attempt was a
    /// handover's; only the handover is given up).
    pub(super) fn attempt_failed(&self, error: &ClientError) -> Option<String> {
        if self.client.is_some() {
            tracing::warn!(%error, "could not open the next connection");
            return None;
        }
        Some(format!(
            "reconnect attempt {} failed: {error}",
            self.attempt()
        ))
    }

    /// Lets go of the current session (to close it): nothing is ready and no
    /// acknowledgement is awaited any more.
    pub(super) fn drop_client(&mut self) -> Option<RealtimeClient> {
        self.ready = false;
        self.setup_deadline = None;
        self.client.take()
    }

    /// The session was lost at `now`: the outage goes on with the next
    /// attempt, or (the policy's attempts used up) no attempt follows.
    pub(super) fn lost(&mut self, policy: &ReconnectPolicy, now: Instant) -> Loss {
        let first = self.outage.is_none();
        let next = Outage::after_loss(self.outage.as_ref(), policy, now).map(|(outage, delay)| {
            let attempt = outage.attempt;
            self.outage = Some(outage);
            (attempt, delay)
        });
        if next.is_none() {
            self.connecting = None;
        }
        Loss { first, next }
    }

    /// The back-off pause is over: the attempt to start now, unless one (a
    /// handover's) is already under way.
    pub(super) fn retry_due(&mut self) -> Option<u32> {
        let outage = self.outage.as_mut()?;
        outage.retry_at = None;
        self.connecting.is_none().then_some(outage.attempt)
    }

    /// Starts opening a connection with `connector`, unless an attempt is
    /// already in flight.
    pub(super) fn connect(&mut self, connector: &SharedConnector) {
        if self.connecting.is_none() {
            let connector = Arc::clone(connector);
            self.connecting = Some(Box::pin(async move { connector.connect().await }));
        }
    }

    /// The next attempt is a connection already open (a handover's standby).
    pub(super) fn reuse(&mut self, standby: RealtimeClient) {
        self.connecting = Some(Box::pin(async move { Ok(standby) }));
    }
}

/// Whether `event` is the provider's acknowledgement of the session
/// configuration: `SessionUpdated` where the dialect acknowledges updates
/// (its `SessionCreated` comes on connect, before the configuration is even
/// read), else `SessionCreated` (Gemini's `setupComplete`).
pub(super) fn acknowledges_setup(caps: &Capabilities, event: &ModelEvent) -> bool {
    match event {
        ModelEvent::SessionUpdated { .. } => caps.session_updates,
        ModelEvent::SessionCreated { .. } => !caps.session_updates,
        _ => false,
    }
}

/// A connection attempt in flight (owned, so that closing can drop it).
pub(super) type Connecting =
    Pin<Box<dyn Future<Output = Result<RealtimeClient, ClientError>> + Send>>;

/// The attempt's result; never ready while no attempt is under way.
pub(super) async fn next_connection(
    connecting: &mut Option<Connecting>,
) -> Result<RealtimeClient, ClientError> {
    match connecting {
        Some(attempt) => {
            let result = attempt.await;
            *connecting = None;
            result
        }
        None => std::future::pending().await,
    }
}

/// The model's next event with its arrival time; never ready while no
/// session is open.
pub(super) async fn next_model_event(client: &mut Option<RealtimeClient>) -> Option<TimedEvent> {
    match client {
        Some(client) => client.next_timed().await,
        None => std::future::pending().await,
    }
}

/// Opens the first connection, retrying with `policy` (as after a lost
/// session) while the failure may pass: the server unreachable, or refusing
/// with 408, 429 or a 5xx. A request the server refused outright (a bad key,
/// a bad URL: other 4xx) or that could not be built fails at once. The error
/// is the last attempt's.
pub(super) async fn first_connection(
    connector: &SharedConnector,
    policy: &ReconnectPolicy,
) -> Result<RealtimeClient, ClientError> {
    let mut attempt = 0;
    loop {
        match connector.connect().await {
            Ok(client) => return Ok(client),
            Err(error) if attempt < policy.max_attempts && worth_retrying(&error) => {
                attempt += 1;
                let delay = policy.delay(attempt);
                tracing::warn!(%error, attempt, ?delay, "could not open the model session; retrying");
                tokio::time::sleep(delay).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Whether a failed connection attempt may succeed if repeated.
fn worth_retrying(error: &ClientError) -> bool {
    match error {
        ClientError::Connect { .. } | ClientError::Send(_) => true,
        ClientError::Rejected { status, .. } => matches!(status, 408 | 429 | 500..=599),
        ClientError::InvalidRequest(_) | ClientError::Tls(_) | ClientError::Encode(_) => false,
    }
}

/// Why the session counts as lost when its configuration was not
/// acknowledged within `timeout`.
pub(super) fn setup_timed_out(timeout: Duration) -> String {
    let waited = timeout.as_millis();
    format!("the provider did not acknowledge the session configuration within {waited} ms")
}

/// Fires at `at`; never when there is no deadline.
pub(super) async fn deadline(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Fires when the back-off pause is over; never while none is set.
pub(super) async fn retry_timer(outage: &Option<Outage>) {
    match outage.as_ref().and_then(|o| o.retry_at) {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The configuration a new session gets, with the summary length its
/// instructions carry. `conversation` (`None`: start without context) goes
/// into its instructions: the older turns summarised, the most recent ones
/// verbatim. When `resending`, the unanswered user turns at the end are left
/// out: they are sent again. Tools are declared where the dialect has
/// function calling, each with its behaviour where the model runs calls in
/// the background.
pub(super) async fn compose_session(
    config: &AgentConfig,
    caps: &Capabilities,
    tools: &ToolRegistry,
    conversation: Option<Vec<compaction::Line>>,
    resending: bool,
) -> (SessionConfig, Option<usize>) {
    let mut session = config.session.clone();
    session.tools = if caps.tool_calls {
        tools.specs_for(caps)
    } else {
        if !tools.is_empty() {
            tracing::warn!(
                dialect = %caps.dialect,
                "the dialect has no function calling; tools are not declared"
            );
        }
        Vec::new()
    };
    let Some(mut lines) = conversation else {
        return (session, None);
    };
    if resending {
        while lines
            .last()
            .is_some_and(|l| l.speaker == compaction::Speaker::User)
        {
            lines.pop();
        }
    }
    if lines.is_empty() {
        return (session, None);
    }
    let (older, recent) = compaction::split_recent(&lines, config.recent_turns);
    let recent_chars: usize = recent.iter().map(|l| l.to_string().len() + 1).sum();
    let budget = config
        .context_chars
        .saturating_sub(recent_chars.min(config.context_chars / 2));
    let summary = if older.is_empty() {
        String::new()
    } else {
        let started = Instant::now();
        let summariser = Arc::clone(&config.summariser);
        let summary = match summariser.summarise(older, budget).await {
            Ok(summary) => summary,
            Err(error) => {
                tracing::warn!(%error, "summarising without the configured summariser");
                compaction::ExtractiveSummariser::extract(older, budget)
            }
        };
        tracing::info!(
            summariser = summariser.name(),
            lines = older.len(),
            chars = summary.len(),
            took = ?started.elapsed(),
            "conversation summarised for the new session"
        );
        summary
    };
    let base = session.instructions.take().unwrap_or_default();
    session.instructions = Some(compaction::compose_instructions(&base, &summary, recent));
    let summary_chars = summary.len();
    (session, Some(summary_chars))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Connection {
        /// An attempt in flight that never finishes.
        fn reuse_for_test(&mut self) {
            self.connecting = Some(Box::pin(std::future::pending()));
        }
    }

    /// A line of the conversation.
    fn line(speaker: compaction::Speaker, text: &str) -> compaction::Line {
        compaction::Line {
            speaker,
            text: text.into(),
        }
    }

    #[tokio::test]
    async fn a_session_without_context_carries_no_summary() {
        let config = AgentConfig::default();
        let caps = understudy_adapters::gemini::capabilities();
        let (session, summary) =
            compose_session(&config, &caps, &ToolRegistry::new(), None, false).await;
        assert_eq!(summary, None);
        assert_eq!(session.instructions, config.session.instructions);
        let (_, summary) = compose_session(
            &config,
            &caps,
            &ToolRegistry::new(),
            Some(Vec::new()),
            false,
        )
        .await;
        assert_eq!(summary, None, "nothing said yet");
    }

    #[tokio::test]
    async fn the_turns_to_send_again_are_left_out_of_the_context() {
        use compaction::Speaker::{Agent, User};
        let config = AgentConfig::default();
        let caps = understudy_adapters::gemini::capabilities();
        let lines = vec![
            line(User, "what time is it"),
            line(Agent, "noon"),
            line(User, "and the date"),
        ];
        let (session, summary) =
            compose_session(&config, &caps, &ToolRegistry::new(), Some(lines), true).await;
        assert_eq!(summary, Some(0), "all recent: nothing summarised");
        let instructions = session.instructions.unwrap_or_default();
        assert!(instructions.contains("noon"));
        assert!(!instructions.contains("and the date"), "sent again instead");
    }

    #[test]
    fn each_loss_is_the_next_attempt_until_the_policy_gives_up() {
        let policy = ReconnectPolicy {
            max_attempts: 2,
            ..ReconnectPolicy::default()
        };
        let now = Instant::now();
        let (first, delay) = Outage::after_loss(None, &policy, now).expect("first attempt");
        assert_eq!(first.attempt, 1);
        assert_eq!(delay, policy.delay(1));
        assert_eq!(first.retry_at, Some(now + delay));
        let (second, _) = Outage::after_loss(Some(&first), &policy, now).expect("second");
        assert_eq!(second.attempt, 2);
        assert!(Outage::after_loss(Some(&second), &policy, now).is_none());
        assert!(Outage::after_loss(None, &ReconnectPolicy::never(), now).is_none());
    }

    #[test]
    fn the_first_ready_session_is_the_awaited_one_even_after_failed_attempts() {
        let policy = ReconnectPolicy::default();
        let now = Instant::now();
        let mut conn = Connection::default();
        conn.opening(now, Duration::from_secs(5));
        assert_eq!(conn.connections, 1);
        assert_eq!(conn.setup_deadline, Some(now + Duration::from_secs(5)));
        let loss = conn.lost(&policy, now);
        assert!(loss.first, "the front end hears Disconnected once");
        assert_eq!(loss.next.map(|(attempt, _)| attempt), Some(1));
        conn.opening(now, Duration::from_secs(5));
        assert_eq!(conn.outage.as_ref().and_then(|o| o.retry_at), None);
        assert_eq!(conn.became_ready(), Readiness::First);
        assert!(conn.ready);
        assert_eq!(conn.setup_deadline, None);
        assert!(conn.outage.is_none(), "the outage is over");
    }

    #[test]
    fn a_session_back_after_an_outage_reports_its_attempt() {
        let policy = ReconnectPolicy::default();
        let now = Instant::now();
        let mut conn = Connection::default();
        assert_eq!(conn.became_ready(), Readiness::First);
        assert!(conn.drop_client().is_none());
        assert!(!conn.ready);
        assert!(conn.lost(&policy, now).first);
        let again = conn.lost(&policy, now);
        assert!(!again.first, "still the same outage");
        assert_eq!(again.next.map(|(attempt, _)| attempt), Some(2));
        assert_eq!(conn.attempt(), 2);
        assert_eq!(conn.became_ready(), Readiness::Back { attempt: 2 });
        assert_eq!(conn.attempt(), 0);
    }

    #[test]
    fn giving_up_leaves_no_attempt_in_flight() {
        let mut conn = Connection::default();
        conn.reuse_for_test();
        let loss = conn.lost(&ReconnectPolicy::never(), Instant::now());
        assert_eq!(
            loss,
            Loss {
                first: true,
                next: None
            }
        );
        assert!(conn.connecting.is_none());
        assert!(conn.outage.is_none());
    }

    #[test]
    fn a_retry_is_due_only_in_an_outage_with_no_attempt_in_flight() {
        let mut conn = Connection::default();
        assert_eq!(conn.retry_due(), None, "no outage");
        conn.lost(&ReconnectPolicy::default(), Instant::now());
        conn.reuse_for_test();
        assert_eq!(conn.retry_due(), None, "a handover's attempt is under way");
        assert_eq!(conn.outage.as_ref().and_then(|o| o.retry_at), None);
        conn.connecting = None;
        assert_eq!(conn.retry_due(), Some(1));
    }

    #[test]
    fn only_the_dialects_acknowledgement_counts() {
        let gemini = understudy_adapters::gemini::capabilities();
        let created = ModelEvent::SessionCreated {
            session_id: "s".into(),
            model: "m".into(),
            input_format: None,
            output_format: None,
            expires_at: None,
        };
        let updated = ModelEvent::SessionUpdated {
            input_format: None,
            output_format: None,
        };
        assert_eq!(
            acknowledges_setup(&gemini, &created),
            !gemini.session_updates
        );
        assert_eq!(
            acknowledges_setup(&gemini, &updated),
            gemini.session_updates
        );
        assert!(!acknowledges_setup(&gemini, &ModelEvent::InputCleared));
    }

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        let rejected = |status| ClientError::Rejected {
            status,
            url: "wss://example.invalid".into(),
        };
        assert!(worth_retrying(&rejected(429)));
        assert!(worth_retrying(&rejected(503)));
        assert!(!worth_retrying(&rejected(401)));
    }

    #[test]
    fn the_first_ready_session_is_reported_ready_later_ones_back_and_switched() {
        let now = Instant::now();
        let mut conn = Connection::default();
        conn.opening(now, Duration::from_secs(5));
        conn.session_id = Some("s1".into());
        let reports = conn.ready(0, 0.0, now, None);
        assert!(matches!(
            reports.as_slice(),
            [AgentEvent::SessionReady { session_id: Some(id), connection: 1 }] if id == "s1"
        ));
        // Lost: the front end hears Disconnected, then Reconnecting.
        conn.drop_client();
        let (reports, gave_up) = conn.lose("gone", &ReconnectPolicy::default(), now);
        assert!(!gave_up);
        assert!(matches!(
            reports.as_slice(),
            [AgentEvent::Disconnected { reason }, AgentEvent::Reconnecting { attempt: 1, .. }]
                if reason == "gone"
        ));
        conn.opening(now, Duration::from_secs(5));
        conn.resuming = true;
        let later = now + Duration::from_millis(40);
        let reports = conn.ready(3, 120.0, later, Some(7));
        assert!(matches!(
            reports.as_slice(),
            [
                AgentEvent::InputDropped { audio_ms: 120 },
                AgentEvent::Reconnected {
                    attempt: 1,
                    resumed: true,
                    delivered_inputs: 3
                },
                AgentEvent::SessionSwitched {
                    connection: 2,
                    planned: false,
                    resumed: true,
                    summary_chars: Some(7),
                    gap_ms: 40,
                },
            ]
        ));
        // A planned move: no outage, only the switch is reported.
        conn.switching(later);
        conn.opening(later, Duration::from_secs(5));
        let reports = conn.ready(0, 0.0, later, None);
        assert!(matches!(
            reports.as_slice(),
            [
                AgentEvent::SessionReady { connection: 3, .. },
                AgentEvent::SessionSwitched {
                    planned: true,
                    gap_ms: 0,
                    ..
                },
            ]
        ));
    }

    #[test]
    fn losing_the_last_attempt_gives_up_with_a_fatal_error() {
        let mut conn = Connection::default();
        let (reports, gave_up) = conn.lose("gone", &ReconnectPolicy::never(), Instant::now());
        assert!(gave_up);
        assert!(matches!(
            reports.as_slice(),
            [
                AgentEvent::Disconnected { .. },
                AgentEvent::Error { fatal: true, .. },
                AgentEvent::Closed { .. },
            ]
        ));
    }

    #[test]
    fn only_a_resumed_connection_that_never_became_ready_suspects_its_handle() {
        let mut conn = Connection::default();
        assert!(!conn.resume_failed(), "not resuming");
        conn.resuming = true;
        assert!(conn.resume_failed(), "refused before setupComplete");
        conn.became_ready();
        assert!(!conn.resume_failed(), "the handle worked");
    }

    #[test]
    fn a_failed_attempt_is_a_loss_only_when_no_session_serves() {
        let conn = Connection::default();
        let error = ClientError::InvalidRequest("no".into());
        let reason = conn.attempt_failed(&error).expect("no session: lost");
        assert!(reason.starts_with("reconnect attempt 0 failed"), "{reason}");
        assert!(setup_timed_out(Duration::from_millis(1500)).contains("1500 ms"));
    }
}
