//! What a session's list line says about it without reading its entries:
//! how many turns it completed and, for a replay, how the replay went.
//!
//! Both are updated as entries pass ([`TurnCounter::see`],
//! [`ReplayGrade::from_note`]) — a label comparison, no parsing — so the
//! session list stays cheap however long the sessions are.

use serde::Serialize;

/// Server frame labels that end a model response, one per dialect family:
/// the Realtime API's and DashScope's `response.done`, Gemini Live's
/// `serverContent.turnComplete`. GPT-Live streams continuously and has no
/// such event, so its sessions count no turns.
pub(crate) const TURN_END_LABELS: [&str; 2] = ["response.done", "serverContent.turnComplete"];

/// Completed model responses of one session.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TurnCounter(u64);

impl TurnCounter {
    /// Counts a frame the server sent, if it ends a response.
    pub(crate) fn see(&mut self, label: &str) {
        if TURN_END_LABELS.contains(&label) {
            self.0 += 1;
        }
    }

    /// Turns counted so far.
    pub(crate) fn get(self) -> u64 {
        self.0
    }
}

/// How a replay session went, as its notes said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReplayGrade {
    /// No note said anything went wrong.
    Ok,
    /// The client did something the cassette did not (the first such note).
    Mismatched {
        /// The first mismatch's note label (`replay.mismatch`, `replay.unexpected`, …).
        label: String,
        /// Its text.
        note: String,
    },
    /// The session was refused (no cassette for it).
    Refused {
        /// Why.
        note: String,
    },
}

impl ReplayGrade {
    /// The grade a note with this label sets, if it is a problem: `refused`
    /// and `replay.none` refuse, any other `replay.*` note is a mismatch.
    pub(crate) fn from_note(label: &str, detail: &str) -> Option<ReplayGrade> {
        if label == "refused" || label == "replay.none" {
            Some(ReplayGrade::Refused {
                note: detail.to_owned(),
            })
        } else if label.starts_with("replay.") {
            Some(ReplayGrade::Mismatched {
                label: label.to_owned(),
                note: detail.to_owned(),
            })
        } else {
            None
        }
    }

    /// A session's grade: `None` unless its engine replays (or was refused
    /// a cassette), else its first problem or `ok`.
    pub(crate) fn of(engine: &str, first_problem: Option<&ReplayGrade>) -> Option<ReplayGrade> {
        engine
            .starts_with("replay")
            .then(|| first_problem.cloned().unwrap_or(ReplayGrade::Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_are_counted_from_the_end_labels_only() {
        let mut turns = TurnCounter::default();
        for label in [
            "response.created",
            "response.done",
            "serverContent.turnComplete",
            "response.output_audio.delta",
        ] {
            turns.see(label);
        }
        assert_eq!(turns.get(), 2);
    }

    #[test]
    fn grades_follow_the_first_problem_and_only_for_replays() {
        assert_eq!(ReplayGrade::of("respond", None), None);
        assert_eq!(
            ReplayGrade::of("replay:greeting", None),
            Some(ReplayGrade::Ok)
        );
        let mismatch = ReplayGrade::from_note("replay.mismatch", "expected x").unwrap();
        assert_eq!(
            ReplayGrade::of("replay:greeting", Some(&mismatch)),
            Some(ReplayGrade::Mismatched {
                label: "replay.mismatch".into(),
                note: "expected x".into()
            })
        );
        assert!(matches!(
            ReplayGrade::from_note("refused", "no cassette"),
            Some(ReplayGrade::Refused { .. })
        ));
        assert_eq!(ReplayGrade::from_note("vad", "speech started"), None);
    }
}
