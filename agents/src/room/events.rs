//! The room's vocabulary: who is who ([`MemberId`]), what the front end sends
//! ([`FrontEndEvent`]), what a member is handed ([`Delivery`]) and what the
//! front end hears ([`RoomEvent`]).
//!
//! Every member event reaches the front end wrapped with its sender's
//! identity ([`RoomEvent::Member`]); the room's own events (turns, overflow,
//! members leaving, out-of-turn speech) are separate variants so that a front
//! end can tell the room's decisions from what the agents said. In JSON each
//! event is an object with a snake_case `type` tag.

use super::queue::OverflowPolicy;
use crate::realtime::AgentEvent;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// A member's name in the room, unique within it. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(Arc<str>);

impl Serialize for MemberId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl MemberId {
    /// A member id.
    pub fn new(id: impl AsRef<str>) -> Self {
        MemberId(Arc::from(id.as_ref()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for MemberId {
    fn from(id: &str) -> Self {
        MemberId::new(id)
    }
}

impl From<String> for MemberId {
    fn from(id: String) -> Self {
        MemberId(Arc::from(id))
    }
}

impl PartialEq<str> for MemberId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for MemberId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

/// An event from the front end (the user). Every one reaches every member.
#[derive(Debug, Clone, PartialEq)]
pub enum FrontEndEvent {
    /// User audio, PCM16 mono at `sample_rate`.
    Audio {
        /// The samples.
        pcm: Vec<u8>,
        /// Their rate.
        sample_rate: u32,
    },
    /// A typed user message.
    Text(String),
    /// An image for the models to see.
    Image {
        /// Its MIME type.
        mime_type: String,
        /// Its bytes.
        data: Vec<u8>,
    },
    /// The user finished speaking (push-to-talk). With turn-taking on, the
    /// first one also opens the first turn.
    Commit,
    /// The stop button: every member stops talking.
    Interrupt,
}

/// What the room tells a member about turns, in order with everything else
/// the member is handed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnSignal {
    /// The member holds the floor: it should answer what it heard.
    Granted {
        /// The turn number (from 1).
        turn: u64,
    },
    /// The member's turn is over. Unless it ended because the member finished,
    /// the member should stop speaking.
    Ended {
        /// The turn number.
        turn: u64,
        /// Why it ended.
        reason: TurnEndReason,
    },
    /// The member started speaking without the floor: stop now (its speech
    /// was not passed on).
    StopSpeaking {
        /// The response that was cut off.
        response_id: String,
    },
}

/// Why a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnEndReason {
    /// The holder's response ended (completed, cancelled or failed) with no
    /// tool call of its own still running.
    Finished,
    /// The holder said nothing (produced no event) for the silence timeout.
    SilenceTimeout,
    /// The front end moved the floor on (`pass_turn` / `give_turn`).
    Passed,
    /// The holder left the room.
    Left,
}

/// One thing the room hands a member, in the order the room decided it.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// An event from the front end.
    FrontEnd(FrontEndEvent),
    /// An event another member produced (never the member's own).
    Peer {
        /// Who produced it.
        from: MemberId,
        /// What it was.
        event: AgentEvent,
    },
    /// A turn decision about this member.
    Turn(TurnSignal),
}

/// One event from the room to its front end.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEvent {
    /// Something a member produced, with the sender's identity.
    Member {
        /// The sender.
        member: MemberId,
        /// Its event.
        event: AgentEvent,
    },
    /// A member holds the floor.
    TurnStarted {
        /// The holder.
        member: MemberId,
        /// The turn number (from 1).
        turn: u64,
    },
    /// A turn ended.
    TurnEnded {
        /// The member who held it.
        member: MemberId,
        /// The turn number.
        turn: u64,
        /// Why it ended.
        reason: TurnEndReason,
    },
    /// A member started a response without holding the floor. It was told
    /// to stop, and none of that response's events were passed on.
    OutOfTurn {
        /// The member.
        member: MemberId,
        /// The response withheld.
        response_id: String,
    },
    /// A member's queue was full when something was routed to it. Every
    /// overflow is reported, one event per delivery lost.
    Overflow {
        /// The slow member.
        member: MemberId,
        /// What the room did about it.
        policy: OverflowPolicy,
        /// Deliveries this member has lost so far (all policies drop one
        /// delivery per overflow; `disconnect` drops the whole queue once).
        dropped_total: u64,
    },
    /// A member left: its agent stopped, or the room disconnected it.
    MemberLeft {
        /// The member.
        member: MemberId,
        /// Why.
        reason: String,
    },
    /// The room stopped; no event follows.
    Closed,
}

impl RoomEvent {
    /// The member event's sender and event, if this is one.
    pub fn member_event(&self) -> Option<(&MemberId, &AgentEvent)> {
        match self {
            RoomEvent::Member { member, event } => Some((member, event)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn room_events_serialise_with_the_senders_identity() {
        let event = RoomEvent::Member {
            member: MemberId::new("pro"),
            event: AgentEvent::ResponseStarted {
                response_id: "r1".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "member", "member": "pro",
                   "event": {"type": "response_started", "response_id": "r1"}})
        );
        let overflow = RoomEvent::Overflow {
            member: "c".into(),
            policy: OverflowPolicy::DropOldest,
            dropped_total: 3,
        };
        assert_eq!(
            serde_json::to_value(&overflow).unwrap(),
            json!({"type": "overflow", "member": "c", "policy": "drop_oldest", "dropped_total": 3})
        );
        let ended = RoomEvent::TurnEnded {
            member: "a".into(),
            turn: 2,
            reason: TurnEndReason::SilenceTimeout,
        };
        assert_eq!(
            serde_json::to_value(&ended).unwrap()["reason"],
            "silence_timeout"
        );
    }
}
