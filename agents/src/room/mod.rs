//! The multi-agent chat room: several realtime agents and one front end.
//!
//! # Routing
//!
//! Every front-end event reaches every member; every member event reaches the
//! front end (as [`RoomEvent::Member`], with the sender's id) and every other
//! member, never its sender ([`routing`]). A [`RealtimeMember`] hears its
//! peers as audio: their [`crate::AgentEvent::Audio`] becomes its user audio,
//! resampled to its model's input rate.
//!
//! # Turn-taking
//!
//! Unlike AgentScope's room (which has none: both agents may talk at once or
//! both wait forever), a room built with a [`TurnPolicy`] has a floor:
//!
//! - Turn-taking opens at the first front-end commit (or `give_turn` /
//!   `pass_turn`); the policy ([`RoundRobin`], [`Moderator`], or your own)
//!   names the first holder.
//! - The holder is told [`TurnSignal::Granted`] and answers what it heard.
//!   Everyone keeps hearing everything (all input is routed regardless of
//!   turns).
//! - **Out-of-turn speech is cancelled, not queued**: a response a member
//!   starts without the floor is withheld from the front end and the peers,
//!   reported once as [`RoomEvent::OutOfTurn`], and the member is told
//!   [`TurnSignal::StopSpeaking`]. What it heard stays in its input, so it
//!   answers that when it next gets the floor.
//! - The turn ends when the holder's response ends with no tool call of its
//!   own still running ([`TurnEndReason::Finished`]), when it produces
//!   nothing for [`RoomConfig::silence_timeout`] (`SilenceTimeout`: silence
//!   never stalls the room), when the front end moves the floor (`Passed`),
//!   or when it leaves (`Left`); then the policy names the next holder.
//!   Details in [`floor`].
//!
//! # Slow members
//!
//! The room never waits for a member. Each has a bounded queue
//! ([`RoomConfig::queue_capacity`]) fed by the routing task and drained by
//! the member's own pump, so a stuck member delays nobody. When its queue is
//! full the [`OverflowPolicy`] applies (drop the oldest, drop the newest, or
//! disconnect the member), and every overflow is reported as
//! [`RoomEvent::Overflow`]. Turn signals travel in the same queue, so that a
//! member is granted the floor only after everything routed to it before;
//! a grant lost to `DropOldest` is recovered by the silence timeout. A burst
//! larger than the capacity overflows even a healthy member (the room does
//! not wait for anyone), so size the queue for the burstiest sender.
//! Before turn-taking opens nobody holds the floor, so speech then (a
//! model's unprompted greeting) is out of turn too.
//!
//! # Modules
//!
//! - [`chat`]: [`ChatRoom`], its builder and [`RoomInput`] handle, the task.
//! - [`events`]: [`MemberId`], [`FrontEndEvent`], [`Delivery`], [`RoomEvent`].
//! - [`member`]: the [`Member`] abstraction and [`RealtimeMember`].
//! - [`routing`]: the fan-out rules.
//! - [`turns`]: [`TurnPolicy`], [`RoundRobin`], [`Moderator`].
//! - [`floor`]: the turn state the room enforces.
//! - [`queue`]: bounded queues and [`OverflowPolicy`].

pub mod chat;
pub mod events;
pub mod floor;
pub mod member;
pub mod queue;
pub mod routing;
pub mod turns;

pub use chat::{ChatRoom, ChatRoomBuilder, RoomConfig, RoomError, RoomInput};
pub use events::{Delivery, FrontEndEvent, MemberId, RoomEvent, TurnEndReason, TurnSignal};
pub use member::{Member, MemberFuture, MemberGone, MemberSink, MemberSource, RealtimeMember};
pub use queue::{BoundedQueue, OverflowPolicy, Pushed};
pub use routing::{route, Origin, Route};
pub use turns::{Moderator, RoundRobin, TurnPolicy};
