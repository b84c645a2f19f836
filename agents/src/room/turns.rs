//! Turn-taking policies: who gets the floor next.
//!
//! A policy only chooses; the room's floor ([`super::floor`]) enforces. The
//! room asks [`TurnPolicy::next_speaker`] when turn-taking starts and every
//! time a turn ends (for whatever reason: finished, silence, passed on, the
//! holder left), and shows the policy every member event it admits so that a
//! policy can listen (the [`Moderator`] reads its moderator's transcript).

use super::events::MemberId;
use crate::realtime::AgentEvent;

/// Chooses who speaks next.
pub trait TurnPolicy: Send + 'static {
    /// The next holder of the floor among `present` (the members in the
    /// room, in the order they joined), given who held it last (`None` for
    /// the first turn). `None` leaves the floor empty until the front end
    /// gives it to someone.
    fn next_speaker(
        &mut self,
        present: &[MemberId],
        previous: Option<&MemberId>,
    ) -> Option<MemberId>;

    /// Sees every member event the room passes on, in order.
    fn observe(&mut self, _from: &MemberId, _event: &AgentEvent) {}
}

/// Boxed policies are policies.
impl TurnPolicy for Box<dyn TurnPolicy> {
    fn next_speaker(
        &mut self,
        present: &[MemberId],
        previous: Option<&MemberId>,
    ) -> Option<MemberId> {
        (**self).next_speaker(present, previous)
    }

    fn observe(&mut self, from: &MemberId, event: &AgentEvent) {
        (**self).observe(from, event)
    }
}

/// Everyone in a fixed order, over and over: the member after the previous
/// holder in the order (the room's join order unless one is given), skipping
/// members who are not present. A member who joined but is not in a given
/// order never gets the floor from this policy.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    order: Option<Vec<MemberId>>,
}

impl RoundRobin {
    /// Round robin in the room's join order.
    pub fn new() -> Self {
        RoundRobin::default()
    }

    /// Round robin in this order.
    pub fn with_order<I, M>(order: I) -> Self
    where
        I: IntoIterator<Item = M>,
        M: Into<MemberId>,
    {
        RoundRobin {
            order: Some(order.into_iter().map(Into::into).collect()),
        }
    }
}

/// The first of `order` after `previous` (cyclically) that is in `present`;
/// from the start of `order` when `previous` is `None` or not in `order`.
fn after(
    order: &[MemberId],
    present: &[MemberId],
    previous: Option<&MemberId>,
) -> Option<MemberId> {
    if order.is_empty() {
        return None;
    }
    let start = previous
        .and_then(|p| order.iter().position(|m| m == p))
        .map_or(0, |i| i + 1);
    (0..order.len())
        .map(|k| &order[(start + k) % order.len()])
        .find(|m| present.contains(m))
        .cloned()
}

impl TurnPolicy for RoundRobin {
    fn next_speaker(
        &mut self,
        present: &[MemberId],
        previous: Option<&MemberId>,
    ) -> Option<MemberId> {
        // The join order is taken once, so that a holder who left still
        // has a place to count from.
        let order = self.order.get_or_insert_with(|| present.to_vec());
        after(order, present, previous)
    }
}

/// A moderated room: the moderator speaks between every two turns of the
/// others, and names who speaks next.
///
/// After a participant's turn the floor goes to the moderator. After the
/// moderator's turn it goes to the participant the moderator named in what
/// it said during that turn (the member id, matched as a whole word, case
/// insensitive; the earliest mention wins); if it named nobody present, to
/// the participant after the last one who spoke (round robin). Without the
/// moderator present the participants go round robin.
#[derive(Debug, Clone)]
pub struct Moderator {
    moderator: MemberId,
    /// What the moderator said in its current or last turn.
    said: String,
    /// The participant who spoke last.
    last_participant: Option<MemberId>,
}

impl Moderator {
    /// A room moderated by `moderator`.
    pub fn new(moderator: impl Into<MemberId>) -> Self {
        Moderator {
            moderator: moderator.into(),
            said: String::new(),
            last_participant: None,
        }
    }

    /// The moderator's id.
    pub fn moderator(&self) -> &MemberId {
        &self.moderator
    }

    /// The participant named earliest in `text`, among `participants`.
    fn named<'a>(text: &str, participants: &'a [MemberId]) -> Option<&'a MemberId> {
        let text = text.to_lowercase();
        participants
            .iter()
            .filter_map(|p| first_word_match(&text, &p.as_str().to_lowercase()).map(|at| (at, p)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, p)| p)
    }
}

/// Where `word` first occurs in `text` as a whole word.
fn first_word_match(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    text.match_indices(word).map(|(at, _)| at).find(|&at| {
        boundary(text[..at].chars().next_back()) && boundary(text[at + word.len()..].chars().next())
    })
}

impl TurnPolicy for Moderator {
    fn next_speaker(
        &mut self,
        present: &[MemberId],
        previous: Option<&MemberId>,
    ) -> Option<MemberId> {
        let participants: Vec<MemberId> = present
            .iter()
            .filter(|m| **m != self.moderator)
            .cloned()
            .collect();
        let moderator_present = present.contains(&self.moderator);
        let moderator_spoke = previous == Some(&self.moderator);
        if let Some(p) = previous.filter(|p| **p != self.moderator) {
            self.last_participant = Some(p.clone());
        }
        if moderator_present && !moderator_spoke {
            self.said.clear();
            return Some(self.moderator.clone());
        }
        let named = moderator_spoke
            .then(|| Moderator::named(&self.said, &participants))
            .flatten()
            .cloned();
        named
            .or_else(|| after(&participants, &participants, self.last_participant.as_ref()))
            .or_else(|| moderator_present.then(|| self.moderator.clone()))
    }

    fn observe(&mut self, from: &MemberId, event: &AgentEvent) {
        if *from != self.moderator {
            return;
        }
        match event {
            AgentEvent::TranscriptDelta { delta, .. } => self.said.push_str(delta),
            AgentEvent::TranscriptDone { text, .. } if !self.said.contains(text.as_str()) => {
                self.said.push(' ');
                self.said.push_str(text);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<MemberId> {
        names.iter().map(MemberId::new).collect()
    }

    fn run(policy: &mut impl TurnPolicy, present: &[MemberId], turns: usize) -> Vec<String> {
        let mut previous: Option<MemberId> = None;
        let mut out = Vec::new();
        for _ in 0..turns {
            let next = policy.next_speaker(present, previous.as_ref()).unwrap();
            out.push(next.to_string());
            previous = Some(next);
        }
        out
    }

    #[test]
    fn round_robin_cycles_in_join_order() {
        let present = ids(&["a", "b", "c"]);
        assert_eq!(
            run(&mut RoundRobin::new(), &present, 7),
            ["a", "b", "c", "a", "b", "c", "a"]
        );
    }

    #[test]
    fn round_robin_follows_a_given_order_and_skips_the_absent() {
        let mut rr = RoundRobin::with_order(["c", "a", "b"]);
        let present = ids(&["a", "b", "c"]);
        assert_eq!(run(&mut rr, &present, 4), ["c", "a", "b", "c"]);
        // b left: after a comes c.
        let present = ids(&["a", "c"]);
        assert_eq!(
            rr.next_speaker(&present, Some(&MemberId::new("a")))
                .unwrap(),
            "c"
        );
        // The previous holder left the room: its successor still follows it.
        assert_eq!(
            rr.next_speaker(&present, Some(&MemberId::new("b")))
                .unwrap(),
            "c"
        );
        assert_eq!(rr.next_speaker(&[], None), None);
    }

    #[test]
    fn the_moderator_speaks_between_participants_and_picks_by_name() {
        let present = ids(&["host", "alice", "bob", "carol"]);
        let mut m = Moderator::new("host");
        let host = MemberId::new("host");
        assert_eq!(m.next_speaker(&present, None).unwrap(), "host");
        let say = |m: &mut Moderator, text: &str| {
            m.observe(
                &host,
                &AgentEvent::TranscriptDelta {
                    response_id: "r".into(),
                    item_id: "i".into(),
                    delta: text.into(),
                },
            )
        };
        say(&mut m, "Welcome. Carol, then Alice, your view?");
        assert_eq!(m.next_speaker(&present, Some(&host)).unwrap(), "carol");
        assert_eq!(
            m.next_speaker(&present, Some(&MemberId::new("carol")))
                .unwrap(),
            "host"
        );
        // Names are whole words: "bobsleigh" is not bob. Nobody named: the
        // participant after the last speaker (carol → alice).
        say(&mut m, "Thanks; bobsleigh next week.");
        assert_eq!(m.next_speaker(&present, Some(&host)).unwrap(), "alice");
        assert_eq!(
            m.next_speaker(&present, Some(&MemberId::new("alice")))
                .unwrap(),
            "host"
        );
        // What the moderator said in an earlier turn does not count.
        assert_eq!(m.next_speaker(&present, Some(&host)).unwrap(), "bob");
        // Other members' words never choose.
        assert_eq!(
            m.next_speaker(&present, Some(&MemberId::new("bob")))
                .unwrap(),
            "host"
        );
        m.observe(
            &MemberId::new("bob"),
            &AgentEvent::TranscriptDone {
                response_id: "r".into(),
                item_id: "i".into(),
                text: "Alice!".into(),
            },
        );
        assert_eq!(m.next_speaker(&present, Some(&host)).unwrap(), "carol");
    }

    #[test]
    fn without_the_moderator_participants_go_round_robin() {
        let present = ids(&["alice", "bob"]);
        let mut m = Moderator::new("host");
        assert_eq!(run(&mut m, &present, 3), ["alice", "bob", "alice"]);
    }
}
