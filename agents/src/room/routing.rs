//! The fan-out rules, as a pure function.
//!
//! - An event from the front end reaches every member, and is not echoed to
//!   the front end.
//! - An event from a member reaches the front end and every other member,
//!   never its sender.
//!
//! (AgentScope's rules too; what a member *does* with a peer's event is the
//! member's business: a [`super::RealtimeMember`] hears only peers' audio.)
//! Turn-taking sits in front of this: speech a member makes without the floor
//! is withheld by the room before it is routed at all.

use super::events::MemberId;

/// Where an event came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The front end (the user).
    FrontEnd,
    /// A member.
    Member(MemberId),
}

/// Where an event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Whether the front end gets it.
    pub front_end: bool,
    /// The members that get it, in the room's order.
    pub members: Vec<MemberId>,
}

/// The recipients of an event from `origin` in a room of `members`.
pub fn route(origin: &Origin, members: &[MemberId]) -> Route {
    match origin {
        Origin::FrontEnd => Route {
            front_end: false,
            members: members.to_vec(),
        },
        Origin::Member(sender) => Route {
            front_end: true,
            members: members.iter().filter(|m| *m != sender).cloned().collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<MemberId> {
        names.iter().map(MemberId::new).collect()
    }

    #[test]
    fn front_end_events_reach_every_member_and_are_not_echoed() {
        let members = ids(&["a", "b", "c"]);
        let r = route(&Origin::FrontEnd, &members);
        assert!(!r.front_end);
        assert_eq!(r.members, members);
    }

    #[test]
    fn member_events_reach_everyone_but_the_sender() {
        let members = ids(&["a", "b", "c"]);
        for sender in &members {
            let r = route(&Origin::Member(sender.clone()), &members);
            assert!(r.front_end);
            assert!(!r.members.contains(sender));
            let expected: Vec<_> = members.iter().filter(|m| *m != sender).cloned().collect();
            assert_eq!(r.members, expected);
        }
    }

    #[test]
    fn an_absent_sender_reaches_every_member() {
        let members = ids(&["a", "b"]);
        let r = route(&Origin::Member(MemberId::new("gone")), &members);
        assert_eq!(r.members, members);
    }
}
