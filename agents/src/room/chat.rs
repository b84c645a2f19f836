//! The room: its handle, its builder, and the task that routes.
//!
//! One task owns the routing. It waits on front-end commands, member events
//! and the silence timer, and never on a member: deliveries go into each
//! member's bounded queue ([`super::queue`]) and a pump task per member feeds
//! them to it, so a stuck member fills its own queue and nobody else's. A
//! reader task per member turns its events into messages for the room.

use super::events::{Delivery, FrontEndEvent, MemberId, RoomEvent, TurnEndReason, TurnSignal};
use super::floor::Floor;
use super::member::{Member, MemberSink, MemberSource};
use super::queue::{OverflowPolicy, Pushed, SharedQueue};
use super::routing::{route, Origin};
use super::turns::TurnPolicy;
use crate::realtime::AgentEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How many front-end commands may wait for the room task.
const COMMAND_QUEUE: usize = 1024;

/// How a room runs.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// Most deliveries waiting for one member (at least 1). Audio arrives in
    /// chunks, so this is a count of chunks and events, not of bytes.
    pub queue_capacity: usize,
    /// What happens when a member's queue is full.
    pub overflow: OverflowPolicy,
    /// How long the holder of the floor may produce nothing before the turn
    /// passes on (measured from the grant and from each of its events).
    pub silence_timeout: Duration,
    /// How long closing waits for the members to stop.
    pub close_timeout: Duration,
}

impl Default for RoomConfig {
    fn default() -> Self {
        RoomConfig {
            queue_capacity: 512,
            overflow: OverflowPolicy::DropOldest,
            silence_timeout: Duration::from_secs(5),
            close_timeout: Duration::from_secs(5),
        }
    }
}

/// Errors of the room.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// Two members were given the same id.
    #[error("two members are called {0}")]
    DuplicateMember(MemberId),
    /// The room has stopped; the input was not taken.
    #[error("the room has stopped")]
    Stopped,
}

/// A member as the builder keeps it: its id and its two sides.
type Joined = (MemberId, Box<dyn MemberSink>, Box<dyn MemberSource>);

/// Sets a room up: its members, its turn-taking policy, its queues.
#[derive(Default)]
pub struct ChatRoomBuilder {
    config: RoomConfig,
    policy: Option<Box<dyn TurnPolicy>>,
    members: Vec<Joined>,
}

impl std::fmt::Debug for ChatRoomBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatRoomBuilder")
            .field("config", &self.config)
            .field("turn_taking", &self.policy.is_some())
            .field(
                "members",
                &self.members.iter().map(|m| &m.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ChatRoomBuilder {
    /// The room's configuration.
    pub fn config(mut self, config: RoomConfig) -> Self {
        self.config = config;
        self
    }

    /// Turn-taking by `policy`. Without one every member may speak at any
    /// time (AgentScope's room: nothing stops double talk).
    pub fn turns(mut self, policy: impl TurnPolicy) -> Self {
        self.policy = Some(Box::new(policy));
        self
    }

    /// Adds a member called `id` (members keep the order they were added in).
    pub fn member(mut self, id: impl Into<MemberId>, member: impl Member) -> Self {
        let (sink, source) = member.split();
        self.members.push((id.into(), sink, source));
        self
    }

    /// Starts the room (inside a Tokio runtime).
    pub fn start(self) -> Result<ChatRoom, RoomError> {
        for (i, (id, ..)) in self.members.iter().enumerate() {
            if self.members[..i].iter().any(|(other, ..)| other == id) {
                return Err(RoomError::DuplicateMember(id.clone()));
            }
        }
        let (command_tx, commands) = mpsc::channel(COMMAND_QUEUE);
        let (event_tx, events) = mpsc::unbounded_channel();
        let (member_tx, member_rx) = mpsc::unbounded_channel();
        let slots = self
            .members
            .into_iter()
            .map(|(id, sink, source)| {
                Slot::start(id, sink, source, &self.config, member_tx.clone())
            })
            .collect();
        let runner = Runner {
            config: self.config,
            policy: self.policy,
            floor: Floor::new(),
            last_holder: None,
            deadline: None,
            slots,
            leaving: Vec::new(),
            commands,
            member_tx,
            member_rx,
            events: event_tx,
        };
        let task = tokio::spawn(runner.run());
        Ok(ChatRoom {
            input: RoomInput { tx: command_tx },
            events,
            task,
        })
    }
}

/// A command from the front end.
#[derive(Debug)]
enum Command {
    FrontEnd(FrontEndEvent),
    GiveTurn(MemberId),
    PassTurn,
    Close,
}

/// The front end's side of the room's input: cheap to clone.
#[derive(Debug, Clone)]
pub struct RoomInput {
    tx: mpsc::Sender<Command>,
}

impl RoomInput {
    async fn command(&self, command: Command) -> Result<(), RoomError> {
        self.tx.send(command).await.map_err(|_| RoomError::Stopped)
    }

    /// Sends a front-end event to every member.
    pub async fn send(&self, event: FrontEndEvent) -> Result<(), RoomError> {
        self.command(Command::FrontEnd(event)).await
    }

    /// User audio, PCM16 mono at `sample_rate`, for every member.
    pub async fn audio(&self, pcm: Vec<u8>, sample_rate: u32) -> Result<(), RoomError> {
        self.send(FrontEndEvent::Audio { pcm, sample_rate }).await
    }

    /// A typed user message for every member.
    pub async fn text(&self, text: impl Into<String>) -> Result<(), RoomError> {
        self.send(FrontEndEvent::Text(text.into())).await
    }

    /// An image for every member.
    pub async fn image(
        &self,
        mime_type: impl Into<String>,
        data: Vec<u8>,
    ) -> Result<(), RoomError> {
        self.send(FrontEndEvent::Image {
            mime_type: mime_type.into(),
            data,
        })
        .await
    }

    /// The user finished speaking. With turn-taking and nobody holding the
    /// floor, this also gives the floor to the policy's choice.
    pub async fn commit(&self) -> Result<(), RoomError> {
        self.send(FrontEndEvent::Commit).await
    }

    /// Everyone stops talking.
    pub async fn interrupt(&self) -> Result<(), RoomError> {
        self.send(FrontEndEvent::Interrupt).await
    }

    /// Gives the floor to `member` now (the holder's turn ends, `Passed`).
    /// Ignored without turn-taking or if no such member is present.
    pub async fn give_turn(&self, member: impl Into<MemberId>) -> Result<(), RoomError> {
        self.command(Command::GiveTurn(member.into())).await
    }

    /// Ends the holder's turn (`Passed`) and asks the policy for the next.
    pub async fn pass_turn(&self) -> Result<(), RoomError> {
        self.command(Command::PassTurn).await
    }

    /// Closes the room: every member is closed; the events end with `Closed`.
    pub async fn close(&self) -> Result<(), RoomError> {
        self.command(Command::Close).await
    }
}

/// A running chat room.
#[derive(Debug)]
pub struct ChatRoom {
    input: RoomInput,
    events: mpsc::UnboundedReceiver<RoomEvent>,
    task: JoinHandle<()>,
}

impl ChatRoom {
    /// A room to set up.
    pub fn builder() -> ChatRoomBuilder {
        ChatRoomBuilder::default()
    }

    /// A handle for the front end's input.
    pub fn input(&self) -> RoomInput {
        self.input.clone()
    }

    /// The next event for the front end; `None` after `Closed`. Events are
    /// queued without bound (like a [`crate::RealtimeAgent`]'s): read them.
    pub async fn next_event(&mut self) -> Option<RoomEvent> {
        self.events.recv().await
    }

    /// Closes the room and waits for it; returns the unread events.
    pub async fn close(mut self) -> Vec<RoomEvent> {
        let _ = self.input.close().await;
        let mut rest = Vec::new();
        while let Some(event) = self.events.recv().await {
            rest.push(event);
        }
        let _ = self.task.await;
        rest
    }
}

/// What a member's reader tells the room.
#[derive(Debug)]
enum MemberMsg {
    Event(MemberId, AgentEvent),
    Ended(MemberId),
}

/// A member present in the room.
struct Slot {
    id: MemberId,
    queue: Arc<SharedQueue<Delivery>>,
    pump: JoinHandle<()>,
    /// Dropping (or firing) it makes the reader close the member.
    shutdown: oneshot::Sender<()>,
    reader: JoinHandle<()>,
}

impl Slot {
    fn start(
        id: MemberId,
        mut sink: Box<dyn MemberSink>,
        mut source: Box<dyn MemberSource>,
        config: &RoomConfig,
        tx: mpsc::UnboundedSender<MemberMsg>,
    ) -> Slot {
        let queue = SharedQueue::new(config.queue_capacity, config.overflow);
        let pump = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                while let Some(delivery) = queue.pop().await {
                    if sink.deliver(delivery).await.is_err() {
                        break;
                    }
                }
            })
        };
        let (shutdown, mut stop) = oneshot::channel::<()>();
        let reader = {
            let id = id.clone();
            tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        event = source.next_event() => Some(event),
                        _ = &mut stop => None,
                    };
                    match next {
                        Some(Some(event)) => {
                            if tx.send(MemberMsg::Event(id.clone(), event)).is_err() {
                                break;
                            }
                        }
                        Some(None) => {
                            let _ = tx.send(MemberMsg::Ended(id));
                            return;
                        }
                        None => break,
                    }
                }
                for event in source.close().await {
                    let _ = tx.send(MemberMsg::Event(id.clone(), event));
                }
                let _ = tx.send(MemberMsg::Ended(id));
            })
        };
        Slot {
            id,
            queue,
            pump,
            shutdown,
            reader,
        }
    }

    /// Stops feeding the member and tells its reader to close it; returns
    /// the reader, which ends once the member has stopped.
    fn retire(self) -> JoinHandle<()> {
        self.queue.close();
        self.pump.abort();
        let _ = self.shutdown.send(());
        self.reader
    }
}

/// The room task.
struct Runner {
    config: RoomConfig,
    policy: Option<Box<dyn TurnPolicy>>,
    floor: Floor,
    /// Who held the floor last (the policy counts from it).
    last_holder: Option<MemberId>,
    /// When the holder's silence ends its turn.
    deadline: Option<Instant>,
    slots: Vec<Slot>,
    /// Readers of members that left, still closing them.
    leaving: Vec<JoinHandle<()>>,
    commands: mpsc::Receiver<Command>,
    /// Kept so that the channel stays open while no member is left.
    member_tx: mpsc::UnboundedSender<MemberMsg>,
    member_rx: mpsc::UnboundedReceiver<MemberMsg>,
    events: mpsc::UnboundedSender<RoomEvent>,
}

impl Runner {
    async fn run(mut self) {
        loop {
            let deadline = self.deadline;
            let silence = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => break,
                    Some(command) => self.on_command(command),
                },
                Some(msg) = self.member_rx.recv() => match msg {
                    MemberMsg::Event(id, event) => self.on_member_event(id, event),
                    MemberMsg::Ended(id) => self.remove(&id, "the member stopped".into()),
                },
                () = silence => {
                    self.end_turn(TurnEndReason::SilenceTimeout);
                    self.next_turn();
                }
            }
        }
        self.shutdown().await;
    }

    fn emit(&self, event: RoomEvent) {
        let _ = self.events.send(event);
    }

    fn present(&self) -> Vec<MemberId> {
        self.slots.iter().map(|s| s.id.clone()).collect()
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::FrontEnd(event) => {
                let opens = event == FrontEndEvent::Commit
                    && self.policy.is_some()
                    && self.floor.holder().is_none();
                let to = route(&Origin::FrontEnd, &self.present());
                self.fan_out(&to.members, |_| Delivery::FrontEnd(event.clone()));
                if opens {
                    self.next_turn();
                }
            }
            Command::GiveTurn(member) => {
                if self.policy.is_none() || !self.slots.iter().any(|s| s.id == member) {
                    tracing::warn!(%member, "give_turn ignored: no turn-taking or no such member");
                    return;
                }
                self.end_turn(TurnEndReason::Passed);
                self.grant(member);
            }
            Command::PassTurn => {
                if self.policy.is_some() {
                    self.end_turn(TurnEndReason::Passed);
                    self.next_turn();
                }
            }
            Command::Close => {}
        }
    }

    fn on_member_event(&mut self, from: MemberId, event: AgentEvent) {
        if !self.slots.iter().any(|s| s.id == from) {
            // A member that left, still closing: the front end hears it.
            self.emit(RoomEvent::Member {
                member: from,
                event,
            });
            return;
        }
        let verdict = match self.policy {
            Some(_) => self.floor.on_event(&from, &event),
            None => super::floor::Verdict {
                pass: true,
                ..Default::default()
            },
        };
        let holds = self.floor.holder() == Some(&from);
        if let Some(response_id) = verdict.cut_off {
            self.emit(RoomEvent::OutOfTurn {
                member: from.clone(),
                response_id: response_id.clone(),
            });
            self.push(
                &from,
                Delivery::Turn(TurnSignal::StopSpeaking { response_id }),
            );
        }
        if !verdict.pass {
            return;
        }
        if holds {
            self.deadline = Some(Instant::now() + self.config.silence_timeout);
        }
        if let Some(policy) = self.policy.as_mut() {
            policy.observe(&from, &event);
        }
        let to = route(&Origin::Member(from.clone()), &self.present());
        self.fan_out(&to.members, |_| Delivery::Peer {
            from: from.clone(),
            event: event.clone(),
        });
        if to.front_end {
            self.emit(RoomEvent::Member {
                member: from,
                event,
            });
        }
        if verdict.finished {
            self.end_turn(TurnEndReason::Finished);
            self.next_turn();
        }
    }

    /// Pushes one delivery per member in `to`; members whose queue
    /// overflowed under `Disconnect` are removed afterwards.
    fn fan_out(&mut self, to: &[MemberId], delivery: impl Fn(&MemberId) -> Delivery) {
        let mut gone = Vec::new();
        for id in to {
            if self.push(id, delivery(id)) {
                gone.push(id.clone());
            }
        }
        for id in gone {
            self.remove(&id, "disconnected: its queue overflowed".into());
        }
    }

    /// Pushes into a member's queue and reports any overflow; returns
    /// whether the member must be disconnected.
    fn push(&self, to: &MemberId, delivery: Delivery) -> bool {
        let Some(slot) = self.slots.iter().find(|s| s.id == *to) else {
            return false;
        };
        let (pushed, overflows) = slot.queue.push(delivery);
        let policy = self.config.overflow;
        match pushed {
            Pushed::Queued | Pushed::Closed(_) => false,
            Pushed::DroppedOldest(_) | Pushed::DroppedNewest(_) => {
                self.emit(RoomEvent::Overflow {
                    member: to.clone(),
                    policy,
                    dropped_total: overflows,
                });
                false
            }
            Pushed::Disconnected(lost) => {
                self.emit(RoomEvent::Overflow {
                    member: to.clone(),
                    policy,
                    dropped_total: lost.len() as u64,
                });
                true
            }
        }
    }

    /// Takes a member out of the room and closes it.
    fn remove(&mut self, id: &MemberId, reason: String) {
        let Some(at) = self.slots.iter().position(|s| s.id == *id) else {
            return;
        };
        let slot = self.slots.remove(at);
        self.leaving.push(slot.retire());
        self.emit(RoomEvent::MemberLeft {
            member: id.clone(),
            reason,
        });
        if self.floor.holder() == Some(id) {
            self.end_turn(TurnEndReason::Left);
            self.next_turn();
        }
    }

    fn end_turn(&mut self, reason: TurnEndReason) {
        self.deadline = None;
        if let Some((member, turn)) = self.floor.end() {
            self.push(&member, Delivery::Turn(TurnSignal::Ended { turn, reason }));
            self.emit(RoomEvent::TurnEnded {
                member: member.clone(),
                turn,
                reason,
            });
            self.last_holder = Some(member);
        }
    }

    fn next_turn(&mut self) {
        let present = self.present();
        let next = self
            .policy
            .as_mut()
            .and_then(|p| p.next_speaker(&present, self.last_holder.as_ref()));
        match next {
            Some(member) if present.contains(&member) => self.grant(member),
            _ => {}
        }
    }

    fn grant(&mut self, member: MemberId) {
        let turn = self.floor.grant(member.clone());
        self.deadline = Some(Instant::now() + self.config.silence_timeout);
        self.emit(RoomEvent::TurnStarted {
            member: member.clone(),
            turn,
        });
        self.push(&member, Delivery::Turn(TurnSignal::Granted { turn }));
    }

    async fn shutdown(mut self) {
        let mut readers = std::mem::take(&mut self.leaving);
        readers.extend(self.slots.drain(..).map(Slot::retire));
        drop(self.member_tx);
        let deadline = Instant::now() + self.config.close_timeout;
        // Forward what the members say while they close, until every reader
        // has ended (the channel closes) or the time is up.
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, self.member_rx.recv()).await {
            if let MemberMsg::Event(member, event) = msg {
                let _ = self.events.send(RoomEvent::Member { member, event });
            }
        }
        for reader in readers {
            reader.abort();
        }
        let _ = self.events.send(RoomEvent::Closed);
    }
}
