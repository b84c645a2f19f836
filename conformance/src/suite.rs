//! The suite: one list of families, walked by both `conform --list`
//! ([`case_list`]) and `conform` ([`run_all`]).
//!
//! Read [`FAMILIES`] top to bottom and you have the suite in run order: the
//! cassette cases of the catalogue, the cross-provider equivalences over
//! them, the speaking pipeline, the chat agents, the realtime agents, rooms
//! and long conversations. Adding a family is one entry here (its prefixes,
//! its list, its run); the list and the run cannot disagree because both are
//! read off the same entry.

use crate::catalogue::Case;
use crate::family::{Family, FamilyRun, RunOptions};
use crate::grade::CaseResult;
use crate::{agent_cases, equivalence, handover, omni, replay, tts};

/// Every family, in run (and list) order.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "realtime cassette cases",
        prefixes: &["openai.", "dashscope.", "gemini."],
        list: replay::case_ids,
        run: |run| Box::pin(replay::run_cases(run.cases, run.options)),
    },
    Family {
        name: "cross-provider equivalences",
        prefixes: &["cross."],
        list: |_| equivalence::case_ids(),
        run: |run| Box::pin(async move { equivalence::run_equivalences(run.cases, run.earlier) }),
    },
    Family {
        name: "speaking pipeline (TTS engines)",
        prefixes: &["tts."],
        list: |_| tts::case_ids(),
        run: |run| Box::pin(tts::run_tts_cases(run.options)),
    },
    Family {
        name: "chat agents (omni, text and voice)",
        prefixes: &["omni.", "stage1."],
        list: |_| omni::case_ids(),
        run: |run| Box::pin(omni::run_agent_cases(run.options)),
    },
    Family {
        name: "realtime agents",
        prefixes: &["agent."],
        list: |_| agent_cases::case_ids(),
        run: |run| Box::pin(agent_cases::run_agent_cases(run.options)),
    },
    Family {
        name: "rooms",
        prefixes: &["room."],
        list: |_| agent_cases::room_case_ids(),
        run: |run| Box::pin(agent_cases::run_room_cases(run.options)),
    },
    Family {
        name: "long conversations (handover, compaction)",
        prefixes: &["handover.", "compaction."],
        list: |_| handover::case_ids(),
        run: |run| Box::pin(handover::run_handover_cases(run.options)),
    },
];

/// Every case the suite runs (`run_all` with no filter), in run order, with
/// its description: each family's list, in [`FAMILIES`] order. `conform
/// --list` prints this list.
pub fn case_list(cases: &[Case]) -> Vec<(String, String)> {
    FAMILIES
        .iter()
        .flat_map(|family| (family.list)(cases))
        .collect()
}

/// Runs every family in [`FAMILIES`] order, each its selected cases, and
/// returns the results in that order (the order of [`case_list`]).
pub async fn run_all(cases: &[Case], options: &RunOptions) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for family in FAMILIES {
        let ran = (family.run)(FamilyRun {
            cases,
            options,
            earlier: &results,
        })
        .await;
        results.extend(ran);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::{case_list, FAMILIES};
    use std::collections::HashSet;

    fn catalogue() -> Vec<crate::Case> {
        crate::cases().expect("the bundled catalogue finds every scenario")
    }

    #[test]
    fn every_listed_id_starts_with_a_prefix_of_its_family() {
        let cases = catalogue();
        for family in FAMILIES {
            let listed = (family.list)(&cases);
            assert!(!listed.is_empty(), "{} lists no case", family.name);
            for (id, _) in listed {
                assert!(
                    family.prefixes.iter().any(|p| id.starts_with(p)),
                    "{id} does not start with any of {:?} ({})",
                    family.prefixes,
                    family.name
                );
            }
        }
    }

    #[test]
    fn no_two_families_claim_a_prefix_and_no_id_is_listed_twice() {
        let mut prefixes = HashSet::new();
        for family in FAMILIES {
            for prefix in family.prefixes {
                assert!(prefixes.insert(*prefix), "{prefix} is claimed twice");
            }
        }
        let cases = catalogue();
        let listed = case_list(&cases);
        let unique: HashSet<&String> = listed.iter().map(|(id, _)| id).collect();
        assert_eq!(unique.len(), listed.len(), "an id is listed twice");
    }

    #[test]
    fn the_list_is_the_families_lists_in_order() {
        let cases = catalogue();
        let families: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        assert_eq!(
            families,
            [
                "realtime cassette cases",
                "cross-provider equivalences",
                "speaking pipeline (TTS engines)",
                "chat agents (omni, text and voice)",
                "realtime agents",
                "rooms",
                "long conversations (handover, compaction)",
            ]
        );
        let first = case_list(&cases).into_iter().next().map(|(id, _)| id);
        assert_eq!(first.as_deref(), Some("openai.ga.text.turn"));
        let cassette_cases = (FAMILIES[0].list)(&cases).len();
        assert_eq!(cassette_cases, cases.len());
    }
}
