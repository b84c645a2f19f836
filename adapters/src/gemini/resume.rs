//! A Gemini Live session that survives its connections.
//!
//! Gemini closes every connection after about ten minutes (announced by
//! `goAway`) and may drop one at any time. [`ResumingSession`] keeps the
//! newest resumption handle and, when a connection is going away, opens a new
//! one with that handle: between turns when it can (it waits for the answer in
//! progress unless the deadline is close), at once when it cannot. Inputs sent
//! since the newest handle are kept and sent again on the new connection, and
//! inputs sent while switching are held and delivered after it, so no user
//! turn is lost.
//!
//! The rules — which inputs a handle covers, when a switch is due, the
//! margin before the close — are the pure [`Resumption`] state machine, the
//! one the realtime agent's handover follows too; this file is the I/O
//! around it: opening connections, waiting for `setupComplete`, resending.

use super::{connect_with_codec, GeminiCodec};
use crate::client::{ClientError, FrameTap, RealtimeClient, TimedEvent};
use crate::event::ModelEvent;
use crate::input::{ClientInput, SessionConfig};
use crate::registry::ConnectOptions;
use crate::resumption::Resumption;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// How long a new connection may take to complete `setup`.
const SETUP_LIMIT: Duration = Duration::from_secs(10);

/// A Gemini session that reconnects with its resumption handle.
pub struct ResumingSession {
    options: ConnectOptions,
    config: SessionConfig,
    client: RealtimeClient,
    /// The newest handle, the inputs it may not cover, the planned switch.
    resumption: Resumption,
    reconnects: u32,
    /// Responses begun so far, over all connections: a new connection's ids
    /// go on from here.
    turns: u64,
    /// One raw-frame log per connection, in order, when recording.
    taps: Option<Vec<FrameTap>>,
}

impl std::fmt::Debug for ResumingSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumingSession")
            .field("reconnects", &self.reconnects)
            .field("handle", &self.resumption.handle())
            .field("pending", &self.resumption.unanswered())
            .finish_non_exhaustive()
    }
}

impl ResumingSession {
    /// Connects, sends `setup` for `config` (with resumption on) and waits for it.
    pub async fn connect(
        options: ConnectOptions,
        config: SessionConfig,
    ) -> Result<Self, ClientError> {
        Self::start(options, config, None).await
    }

    /// Like [`ResumingSession::connect`], also logging every connection's raw
    /// frames, one log per connection (see [`ResumingSession::connection_taps`]):
    /// each connection is a session of its own on the wire, and is recorded as one.
    pub async fn connect_recording(
        options: ConnectOptions,
        config: SessionConfig,
    ) -> Result<Self, ClientError> {
        Self::start(options, config, Some(Vec::new())).await
    }

    async fn start(
        options: ConnectOptions,
        config: SessionConfig,
        mut taps: Option<Vec<FrameTap>>,
    ) -> Result<Self, ClientError> {
        let client = Self::open(&options, &config, None, taps.as_mut(), 0).await?;
        Ok(ResumingSession {
            options,
            config,
            client,
            resumption: Resumption::new(u64::MAX),
            reconnects: 0,
            turns: 0,
            taps,
        })
    }

    async fn open(
        options: &ConnectOptions,
        config: &SessionConfig,
        handle: Option<&str>,
        taps: Option<&mut Vec<FrameTap>>,
        turns: u64,
    ) -> Result<RealtimeClient, ClientError> {
        let tap = taps.map(|taps| {
            let tap: FrameTap = Arc::new(Mutex::new(Vec::new()));
            taps.push(Arc::clone(&tap));
            tap
        });
        let codec = GeminiCodec::continuing(&options.model, turns);
        let mut client = connect_with_codec(options, tap, codec).await?;
        if let Some(handle) = handle {
            client
                .send(&ClientInput::Resume {
                    handle: handle.to_owned(),
                })
                .await?;
        }
        client.send(&ClientInput::Session(config.clone())).await?;
        Ok(client)
    }

    /// How many times the session moved to a new connection.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// The raw frames of each connection so far, oldest first (empty unless
    /// opened with [`ResumingSession::connect_recording`]).
    pub fn connection_taps(&self) -> &[FrameTap] {
        self.taps.as_deref().unwrap_or_default()
    }

    /// Sends an input, keeping it until a newer handle covers it. A connection
    /// that is going away gets no new turn: when it is idle the session moves
    /// first and the input goes to the new connection.
    pub async fn send(&mut self, input: &ClientInput) -> Result<(), ClientError> {
        // Between turns, once the newest handle covers the last answer.
        if self.resumption.switch_planned()
            && !self.resumption.responding()
            && !self.resumption.handle_stale()
        {
            self.switch().await?;
        }
        self.resumption.on_sent(input.clone());
        match self.client.send(input).await {
            Ok(()) => Ok(()),
            // The connection is gone: the input is kept and resent after resuming.
            Err(ClientError::Send(_)) => self.switch().await,
            Err(other) => Err(other),
        }
    }

    /// Moves to a new connection with the newest handle and resends what it
    /// has not seen.
    async fn switch(&mut self) -> Result<(), ClientError> {
        let mut client = Self::open(
            &self.options,
            &self.config,
            self.resumption.handle(),
            self.taps.as_mut(),
            self.turns,
        )
        .await?;
        let deadline = Instant::now() + SETUP_LIMIT;
        loop {
            match timeout_at(deadline, client.next_event()).await {
                Ok(Some(ModelEvent::SessionCreated { .. })) => break,
                Ok(Some(ModelEvent::SessionEnded { reason, close_code })) => {
                    return Err(ClientError::InvalidRequest(format!(
                        "resuming failed: the new connection closed ({close_code:?} {reason})"
                    )))
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => {
                    return Err(ClientError::InvalidRequest(
                        "resuming failed: no setupComplete".into(),
                    ))
                }
            }
        }
        // What was answered is in the conversation the handle resumes (or was
        // heard by the user); what was not is sent again, and stays logged
        // until a newer handle covers it. A handle older than the last answer
        // has not seen that turn: with no other way to carry it, it is sent
        // again too (the model answers it twice rather than forget it).
        let resend = if self.resumption.handle_stale() {
            tracing::warn!(
                "the resumption handle predates the last answer; sending that turn again"
            );
            self.resumption.take_uncovered()
        } else {
            self.resumption.take_unanswered()
        };
        let mut sent = Ok(());
        for input in resend {
            if sent.is_ok() {
                sent = client.send(&input).await;
            }
            self.resumption.on_sent(input);
        }
        sent?;
        let old = std::mem::replace(&mut self.client, client);
        drop(old);
        self.resumption.switched();
        self.reconnects += 1;
        tracing::debug!(reconnects = self.reconnects, handle = ?self.resumption.handle(), "Gemini session resumed on a new connection");
        Ok(())
    }

    /// The next event of the session, across connections. `GoAway` and
    /// `ResumptionHandle` are passed on too, so callers can see the handover.
    pub async fn next_event(&mut self) -> Option<ModelEvent> {
        self.next_timed().await.map(|timed| timed.event)
    }

    /// Like [`ResumingSession::next_event`], with the instants the frame
    /// arrived and was decoded.
    pub async fn next_timed(&mut self) -> Option<TimedEvent> {
        loop {
            let quiet = !self.resumption.responding();
            if self.resumption.switch_due(Instant::now().into_std(), quiet)
                && self.switch().await.is_err()
            {
                let now = std::time::Instant::now();
                return Some(TimedEvent {
                    received_at: now,
                    decoded_at: now,
                    event: ModelEvent::SessionEnded {
                        reason: "could not resume the session".into(),
                        close_code: None,
                    },
                });
            }
            let timed = match self.resumption.poll_timeout() {
                Some(by) => match timeout_at(by.into(), self.client.next_timed()).await {
                    Ok(timed) => timed,
                    Err(_) => continue, // the deadline: switch now, mid-turn
                },
                None => self.client.next_timed().await,
            };
            let Some(timed) = timed else {
                // The reader ended without a SessionEnded: treat as a drop.
                if self.switch().await.is_err() {
                    return None;
                }
                continue;
            };
            let event = &timed.event;
            self.resumption.on_event(event, Instant::now().into_std());
            match event {
                ModelEvent::ResponseCreated { .. } => self.turns += 1,
                ModelEvent::SessionEnded { .. } | ModelEvent::Error(_)
                    if self.resumption.handle().is_some() =>
                {
                    // A dropped or closed connection: resume instead of ending.
                    if matches!(event, ModelEvent::SessionEnded { .. }) {
                        if self.switch().await.is_err() {
                            return Some(timed);
                        }
                        continue;
                    }
                    if matches!(event, ModelEvent::Error(info) if info.fatal) {
                        continue; // the close that follows is handled by resuming
                    }
                }
                _ => {}
            }
            return Some(timed);
        }
    }

    /// Ends the session: closes the current connection.
    pub async fn close(self) -> Result<(), ClientError> {
        self.client.close().await
    }
}
