//! What the room talks to: a [`Member`], split into the side the room
//! delivers to ([`MemberSink`]) and the events it produces
//! ([`MemberSource`]). The room runs each side in its own task, so a member
//! that is slow to take deliveries never delays its own events, and vice
//! versa.
//!
//! [`RealtimeMember`] puts a [`RealtimeAgent`] in a room; tests implement the
//! traits with doubles that record what they were handed.

use super::events::{Delivery, FrontEndEvent, MemberId, TurnEndReason, TurnSignal};
use crate::realtime::{AgentEvent, AgentInput, RealtimeAgent, RealtimeAgentError, Resampler};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

/// The futures members return.
pub type MemberFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The member has stopped and takes no more deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the member has stopped")]
pub struct MemberGone;

impl From<RealtimeAgentError> for MemberGone {
    fn from(_: RealtimeAgentError) -> Self {
        MemberGone
    }
}

/// Where the room hands a member what was routed to it, one at a time and
/// in order. Taking a delivery may take as long as it likes: only this
/// member's queue waits.
pub trait MemberSink: Send + 'static {
    /// Takes one delivery.
    fn deliver(&mut self, delivery: Delivery) -> MemberFuture<'_, Result<(), MemberGone>>;
}

/// The events a member produces.
pub trait MemberSource: Send + 'static {
    /// The next event; `None` once the member has stopped.
    fn next_event(&mut self) -> MemberFuture<'_, Option<AgentEvent>>;

    /// Stops the member; returns the events it still produced.
    fn close(self: Box<Self>) -> MemberFuture<'static, Vec<AgentEvent>>;
}

/// Something that can sit in a room.
pub trait Member: Send + 'static {
    /// Splits the member into its delivery side and its event side.
    fn split(self) -> (Box<dyn MemberSink>, Box<dyn MemberSource>);
}

/// A [`RealtimeAgent`] in a room.
///
/// What it does with each delivery:
///
/// - front-end audio, images and interrupts go to the agent as they are;
/// - a peer's [`AgentEvent::Audio`] is heard as user audio: resampled (one
///   resampler per peer, so streams stay continuous) to the model's input
///   rate and appended to its input. Every other peer event is ignored —
///   agents hear each other, they do not read each other's transcripts;
/// - turns: on [`TurnSignal::Granted`] the agent answers what it heard since
///   its last turn — text typed meanwhile if any (sent then, which asks for
///   an answer), else a commit of the audio heard (which does too). Having
///   heard nothing, it stays silent and the room's silence timeout moves
///   the floor on. A front-end commit or text while it holds the floor is
///   passed straight through; without the floor, text waits for the next
///   grant and a commit is left to the grant. When a turn ends other than
///   by finishing, or on [`TurnSignal::StopSpeaking`], the agent is
///   interrupted (cancel and truncate to what was played).
///
/// For turns to mean anything the agent should use
/// [`understudy_adapters::TurnDetection::Manual`]: with server VAD a model
/// answers whenever its VAD decides, and the room then cuts those answers off
/// as out of turn.
pub struct RealtimeMember {
    agent: RealtimeAgent,
}

impl RealtimeMember {
    /// Puts `agent` in a room.
    pub fn new(agent: RealtimeAgent) -> Self {
        RealtimeMember { agent }
    }
}

impl From<RealtimeAgent> for RealtimeMember {
    fn from(agent: RealtimeAgent) -> Self {
        RealtimeMember::new(agent)
    }
}

impl Member for RealtimeMember {
    fn split(self) -> (Box<dyn MemberSink>, Box<dyn MemberSource>) {
        let sink = RealtimeSink {
            input: self.agent.input(),
            input_rate: self.agent.capabilities().input_sample_rate,
            resamplers: HashMap::new(),
            floor: false,
            heard_bytes: 0,
            pending_text: Vec::new(),
        };
        (
            Box::new(sink),
            Box::new(RealtimeSource { agent: self.agent }),
        )
    }
}

/// A realtime agent's delivery side.
struct RealtimeSink {
    input: AgentInput,
    input_rate: u32,
    resamplers: HashMap<MemberId, Resampler>,
    floor: bool,
    heard_bytes: usize,
    pending_text: Vec<String>,
}

impl RealtimeSink {
    async fn take(&mut self, delivery: Delivery) -> Result<(), MemberGone> {
        match delivery {
            Delivery::FrontEnd(event) => match event {
                FrontEndEvent::Audio { pcm, sample_rate } => {
                    self.heard_bytes += pcm.len();
                    self.input.audio(pcm, sample_rate).await?;
                }
                FrontEndEvent::Text(text) if self.floor => self.input.text(text).await?,
                FrontEndEvent::Text(text) => self.pending_text.push(text),
                FrontEndEvent::Image { mime_type, data } => {
                    self.input.image(mime_type, data).await?
                }
                FrontEndEvent::Commit if self.floor => {
                    self.heard_bytes = 0;
                    self.input.commit().await?;
                }
                FrontEndEvent::Commit => {}
                FrontEndEvent::Interrupt => self.input.interrupt().await?,
            },
            Delivery::Peer { from, event } => {
                if let AgentEvent::Audio {
                    pcm, sample_rate, ..
                } = event
                {
                    let to = self.input_rate;
                    let stale = self
                        .resamplers
                        .get(&from)
                        .is_none_or(|r| r.from_rate() != sample_rate);
                    if stale {
                        self.resamplers
                            .insert(from.clone(), Resampler::new(sample_rate, to));
                    }
                    let resampler = self.resamplers.get_mut(&from).expect("inserted above");
                    let pcm = resampler.process(&pcm.0);
                    if !pcm.is_empty() {
                        self.heard_bytes += pcm.len();
                        self.input.audio(pcm, to).await?;
                    }
                }
            }
            Delivery::Turn(signal) => match signal {
                TurnSignal::Granted { .. } => {
                    self.floor = true;
                    if !self.pending_text.is_empty() {
                        let text = std::mem::take(&mut self.pending_text).join("\n");
                        self.input.text(text).await?;
                    } else if self.heard_bytes > 0 {
                        self.heard_bytes = 0;
                        self.input.commit().await?;
                    }
                }
                TurnSignal::Ended { reason, .. } => {
                    self.floor = false;
                    if reason != TurnEndReason::Finished {
                        self.input.interrupt().await?;
                    }
                }
                TurnSignal::StopSpeaking { .. } => self.input.interrupt().await?,
            },
        }
        Ok(())
    }
}

impl MemberSink for RealtimeSink {
    fn deliver(&mut self, delivery: Delivery) -> MemberFuture<'_, Result<(), MemberGone>> {
        Box::pin(self.take(delivery))
    }
}

/// A realtime agent's event side (it owns the agent).
struct RealtimeSource {
    agent: RealtimeAgent,
}

impl MemberSource for RealtimeSource {
    fn next_event(&mut self) -> MemberFuture<'_, Option<AgentEvent>> {
        Box::pin(self.agent.next_event())
    }

    fn close(self: Box<Self>) -> MemberFuture<'static, Vec<AgentEvent>> {
        Box::pin(self.agent.close())
    }
}
