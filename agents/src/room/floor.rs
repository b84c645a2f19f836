//! The floor: who may speak now, and which member events that lets through.
//!
//! Plain data, no timers (the room owns the silence timer). The rules:
//!
//! - Events that belong to a response (`ResponseStarted`, `Audio`,
//!   `AudioDone`, `TranscriptDelta`, `TranscriptDone`, `ResponseDone`, and
//!   `Interrupted` naming one) are speech. The holder's speech passes.
//! - A response another member starts is out of turn: the first of its events
//!   asks the room to cut the member off ([`Verdict::cut_off`]) and none of
//!   its events is passed on — not to the front end, not to the peers.
//! - A response that was admitted while its member held the floor may still
//!   close after the turn ended (its `AudioDone`, `TranscriptDone`,
//!   `ResponseDone` pass, so the front end sees it end); its further audio
//!   and text do not.
//! - Everything else (session state, the user's transcripts, tool calls,
//!   errors) always passes: it is not speech.
//! - The holder's turn is over when one of its admitted responses ends and
//!   none of its tool calls is still running (a tool round trip keeps the
//!   floor until the follow-up answer ends).

use super::events::MemberId;
use crate::realtime::AgentEvent;
use std::collections::HashSet;

/// What to do with one member event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Pass it on (front end, peers, the policy).
    pub pass: bool,
    /// The response started out of turn, first seen now: tell the member to
    /// stop and report it.
    pub cut_off: Option<String>,
    /// The holder's turn is over (it finished).
    pub finished: bool,
}

/// The turn state.
#[derive(Debug, Default)]
pub struct Floor {
    holder: Option<MemberId>,
    turn: u64,
    open_calls: HashSet<String>,
    admitted: HashSet<(MemberId, String)>,
    withheld: HashSet<(MemberId, String)>,
}

/// The response an event belongs to, if it is speech.
fn response_of(event: &AgentEvent) -> Option<&str> {
    match event {
        AgentEvent::ResponseStarted { response_id }
        | AgentEvent::Audio { response_id, .. }
        | AgentEvent::AudioDone { response_id, .. }
        | AgentEvent::TranscriptDelta { response_id, .. }
        | AgentEvent::TranscriptDone { response_id, .. }
        | AgentEvent::ResponseDone { response_id, .. } => Some(response_id),
        AgentEvent::Interrupted { response_id, .. } => response_id.as_deref(),
        _ => None,
    }
}

/// Whether the event closes part of a response rather than adding speech.
fn is_closing(event: &AgentEvent) -> bool {
    matches!(
        event,
        AgentEvent::AudioDone { .. }
            | AgentEvent::TranscriptDone { .. }
            | AgentEvent::ResponseDone { .. }
            | AgentEvent::Interrupted { .. }
    )
}

impl Floor {
    /// A floor nobody holds.
    pub fn new() -> Self {
        Floor::default()
    }

    /// Who holds the floor.
    pub fn holder(&self) -> Option<&MemberId> {
        self.holder.as_ref()
    }

    /// The current (or last) turn number; 0 before the first.
    pub fn turn(&self) -> u64 {
        self.turn
    }

    /// Gives the floor to `member`; returns the new turn number.
    pub fn grant(&mut self, member: MemberId) -> u64 {
        self.turn += 1;
        self.holder = Some(member);
        self.open_calls.clear();
        self.turn
    }

    /// Takes the floor from its holder; returns who held it and the turn.
    pub fn end(&mut self) -> Option<(MemberId, u64)> {
        self.open_calls.clear();
        self.holder.take().map(|m| (m, self.turn))
    }

    /// Judges one event from `from`.
    pub fn on_event(&mut self, from: &MemberId, event: &AgentEvent) -> Verdict {
        let holds = self.holder.as_ref() == Some(from);
        let Some(rid) = response_of(event) else {
            if holds {
                match event {
                    AgentEvent::ToolCallStarted { call_id, .. } => {
                        self.open_calls.insert(call_id.clone());
                    }
                    AgentEvent::ToolCallFinished { call_id, .. }
                    | AgentEvent::ToolCallCancelled { call_id } => {
                        self.open_calls.remove(call_id);
                    }
                    _ => {}
                }
            }
            return Verdict {
                pass: true,
                ..Verdict::default()
            };
        };
        let key = (from.clone(), rid.to_owned());
        let done = matches!(event, AgentEvent::ResponseDone { .. });
        if self.withheld.contains(&key) {
            if done {
                self.withheld.remove(&key);
            }
            return Verdict::default();
        }
        if holds {
            if done {
                self.admitted.remove(&key);
            } else {
                self.admitted.insert(key);
            }
            return Verdict {
                pass: true,
                cut_off: None,
                finished: done && self.open_calls.is_empty(),
            };
        }
        if self.admitted.contains(&key) && is_closing(event) {
            if done {
                self.admitted.remove(&key);
            }
            return Verdict {
                pass: true,
                ..Verdict::default()
            };
        }
        if done {
            // A response we never saw start (or already cut off) ends.
            return Verdict::default();
        }
        self.withheld.insert(key);
        Verdict {
            pass: false,
            cut_off: Some(rid.to_owned()),
            finished: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::{Pcm, ResponseStatus};

    fn started(r: &str) -> AgentEvent {
        AgentEvent::ResponseStarted {
            response_id: r.into(),
        }
    }
    fn audio(r: &str) -> AgentEvent {
        AgentEvent::Audio {
            response_id: r.into(),
            item_id: "i".into(),
            pcm: Pcm(vec![0; 4]),
            sample_rate: 24_000,
        }
    }
    fn done(r: &str) -> AgentEvent {
        AgentEvent::ResponseDone {
            response_id: r.into(),
            status: ResponseStatus::Completed,
        }
    }

    #[test]
    fn the_holders_speech_passes_and_its_end_finishes_the_turn() {
        let (a, b) = (MemberId::new("a"), MemberId::new("b"));
        let mut floor = Floor::new();
        assert_eq!(floor.grant(a.clone()), 1);
        assert!(floor.on_event(&a, &started("r1")).pass);
        assert!(floor.on_event(&a, &audio("r1")).pass);
        let v = floor.on_event(&a, &done("r1"));
        assert!(v.pass && v.finished);
        // Not speech: passes for anyone.
        let ready = AgentEvent::SessionReady {
            session_id: None,
            connection: 1,
        };
        assert!(floor.on_event(&b, &ready).pass);
    }

    #[test]
    fn out_of_turn_speech_is_withheld_and_cut_off_once() {
        let (a, b) = (MemberId::new("a"), MemberId::new("b"));
        let mut floor = Floor::new();
        floor.grant(a.clone());
        let v = floor.on_event(&b, &started("rb"));
        assert_eq!(
            v,
            Verdict {
                pass: false,
                cut_off: Some("rb".into()),
                finished: false
            }
        );
        assert_eq!(floor.on_event(&b, &audio("rb")), Verdict::default());
        assert_eq!(floor.on_event(&b, &done("rb")), Verdict::default());
        // Audio without a start is speech too; nobody holding the floor means
        // nobody may speak.
        floor.end();
        let v = floor.on_event(&a, &audio("ra"));
        assert_eq!(v.cut_off.as_deref(), Some("ra"));
        // A withheld response stays withheld when its member gets the floor.
        floor.grant(a.clone());
        let v = floor.on_event(&a, &done("ra"));
        assert!(!v.pass && !v.finished);
    }

    #[test]
    fn a_running_tool_call_keeps_the_floor() {
        let a = MemberId::new("a");
        let mut floor = Floor::new();
        floor.grant(a.clone());
        floor.on_event(&a, &started("r1"));
        floor.on_event(
            &a,
            &AgentEvent::ToolCallStarted {
                call_id: "c".into(),
                name: "t".into(),
                arguments: "{}".into(),
            },
        );
        assert!(!floor.on_event(&a, &done("r1")).finished);
        floor.on_event(
            &a,
            &AgentEvent::ToolCallFinished {
                call_id: "c".into(),
                name: "t".into(),
                output: "{}".into(),
                is_error: false,
            },
        );
        floor.on_event(&a, &started("r2"));
        assert!(floor.on_event(&a, &done("r2")).finished);
    }

    #[test]
    fn an_admitted_response_may_close_after_the_turn_but_not_speak() {
        let (a, b) = (MemberId::new("a"), MemberId::new("b"));
        let mut floor = Floor::new();
        floor.grant(a.clone());
        floor.on_event(&a, &started("r1"));
        floor.end();
        floor.grant(b);
        let v = floor.on_event(&a, &audio("r1"));
        assert!(!v.pass);
        assert_eq!(v.cut_off.as_deref(), Some("r1"));
        // Once cut off, the rest of it is withheld, its end included.
        assert!(!floor.on_event(&a, &done("r1")).pass);

        let mut floor = Floor::new();
        floor.grant(a.clone());
        floor.on_event(&a, &started("r1"));
        floor.end();
        let v = floor.on_event(&a, &done("r1"));
        assert!(v.pass && !v.finished && v.cut_off.is_none());
    }
}
