//! The suite: one list of families, walked by both `conform --list`
//! ([`case_list`]) and `conform` ([`jobs`], run by [`run_suite`] or
//! [`run_all`]).
//!
//! Read [`FAMILIES`] top to bottom and you have the suite in catalogue
//! order: the cassette cases of the catalogue, the cross-provider
//! equivalences over them, the speaking pipeline, the chat agents, the
//! realtime agents, rooms and long conversations. Adding a family is one
//! entry here (its prefixes, its list, its jobs); the list and the jobs
//! cannot disagree because both are read off the same entry.
//!
//! Every case is a job and the jobs run side by side (by default all at
//! once: they are independent and mostly waiting on timed replies); results
//! come back in catalogue order whatever order they finish in.

use crate::catalogue::Case;
use crate::family::{Earlier, Family, FamilyRun, RunOptions};
use crate::grade::CaseResult;
use crate::schedule::{run_jobs_paced, Job, Pacing, Progress};
use crate::{agent_cases, equivalence, handover, omni, replay, tts};
use std::num::NonZeroUsize;
use std::time::Duration;

/// How far apart the suite starts its cases: enough to spread the start-up
/// work of some seventy cases (each starts a mock and sends its first
/// request) over a few seconds instead of one burst that would delay the
/// first replies and move their latency figures; short enough that every
/// case has started well before the longest one ends.
pub const START_SPACING: Duration = Duration::from_millis(100);

/// Every family, in run (and list) order.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "realtime cassette cases",
        prefixes: &["openai.", "dashscope.", "gemini."],
        list: replay::case_ids,
        starts_first: false,
        jobs: |run| replay::case_jobs(run.cases, run.options),
    },
    Family {
        name: "cross-provider equivalences",
        prefixes: &["cross."],
        list: |_| equivalence::case_ids(),
        starts_first: false,
        jobs: |run| equivalence::equivalence_jobs(run.cases, run.earlier),
    },
    Family {
        name: "speaking pipeline (TTS engines)",
        prefixes: &["tts."],
        list: |_| tts::case_ids(),
        starts_first: false,
        jobs: |run| tts::tts_jobs(run.options),
    },
    Family {
        name: "chat agents (omni, text and voice)",
        prefixes: &["omni.", "stage1."],
        list: |_| omni::case_ids(),
        starts_first: false,
        jobs: |run| omni::agent_jobs(run.options),
    },
    Family {
        name: "realtime agents",
        prefixes: &["agent."],
        list: |_| agent_cases::case_ids(),
        starts_first: true,
        jobs: |run| agent_cases::agent_jobs(run.options),
    },
    Family {
        name: "rooms",
        prefixes: &["room."],
        list: |_| agent_cases::room_case_ids(),
        starts_first: true,
        jobs: |run| agent_cases::room_jobs(run.options),
    },
    Family {
        name: "long conversations (handover, compaction)",
        prefixes: &["handover.", "compaction.", "openai.live.handover."],
        list: |_| handover::case_ids(),
        starts_first: true,
        jobs: |run| handover::handover_jobs(run.options),
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

/// One job per case the options select, in [`FAMILIES`] order (the order of
/// [`case_list`]). A later family's jobs may wait for an earlier family's
/// cases (the equivalences); each case still runs once.
pub fn jobs<'a>(cases: &'a [Case], options: &'a RunOptions) -> Vec<Job<'a>> {
    let mut earlier = Earlier::default();
    let mut jobs = Vec::new();
    for family in FAMILIES {
        let built = (family.jobs)(FamilyRun {
            cases,
            options,
            earlier: &earlier,
        });
        for job in built {
            jobs.push(earlier.keep(job));
        }
    }
    jobs
}

/// Runs the selected cases with at most `concurrency` in flight (`None`:
/// every case at once), started as [`pacing`] says, calls `on_finished` as each finishes, and returns
/// the results in catalogue order.
pub async fn run_suite(
    cases: &[Case],
    options: &RunOptions,
    concurrency: Option<NonZeroUsize>,
    on_finished: impl FnMut(&CaseResult, Progress),
) -> Vec<CaseResult> {
    let jobs = jobs(cases, options);
    let concurrency = concurrency.unwrap_or_else(|| all_at_once(&jobs));
    let pacing = pacing(&jobs);
    run_jobs_paced(jobs, concurrency, &pacing, on_finished).await
}

/// How the suite starts `jobs`: the cases of the families that start first
/// (whole conversations, lasting many seconds), the longest family first,
/// then the rest in catalogue order, [`START_SPACING`] apart. The short
/// cases thus start while the long ones are under way and the run ends with
/// them, rather than waiting on a long case started last. Jobs of no family
/// (a user's cassettes) start last, in their order.
pub fn pacing(jobs: &[Job<'_>]) -> Pacing {
    // Where a job's family sits in the start order: the families that start
    // first, from the end of the list (the longest), then everything else. A
    // job belongs to the family with its longest matching prefix
    // (`openai.live.handover.` is a long conversation, not a cassette case).
    let rank = |id: &str| {
        FAMILIES
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let longest = f
                    .prefixes
                    .iter()
                    .filter(|p| id.starts_with(*p))
                    .map(|p| p.len())
                    .max()?;
                Some((longest, i, f))
            })
            .max_by_key(|(longest, ..)| *longest)
            .map(|(_, i, f)| (i, f))
            .map_or(FAMILIES.len() * 2, |(i, f)| {
                if f.starts_first {
                    FAMILIES.len() - i
                } else {
                    FAMILIES.len() + 1
                }
            })
    };
    let mut start_order: Vec<usize> = (0..jobs.len()).collect();
    start_order.sort_by_key(|&i| rank(&jobs[i].id));
    Pacing {
        start_order,
        spacing: START_SPACING,
    }
}

/// The concurrency that runs every one of `jobs` at once.
pub fn all_at_once(jobs: &[Job<'_>]) -> NonZeroUsize {
    NonZeroUsize::new(jobs.len()).unwrap_or(NonZeroUsize::MIN)
}

/// Runs every selected case, all at once, and returns the results in
/// catalogue order (the order of [`case_list`]).
pub async fn run_all(cases: &[Case], options: &RunOptions) -> Vec<CaseResult> {
    run_suite(cases, options, None, |_, _| {}).await
}

#[cfg(test)]
mod tests {
    use super::{case_list, jobs, pacing, FAMILIES, START_SPACING};
    use crate::RunOptions;
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

    #[test]
    fn the_long_conversations_start_first_and_the_rest_in_catalogue_order() {
        let cases = catalogue();
        let options = RunOptions::default();
        let jobs = jobs(&cases, &options);
        let pacing = pacing(&jobs);
        assert_eq!(pacing.spacing, START_SPACING);
        let started: Vec<&str> = pacing
            .start_order
            .iter()
            .map(|&i| jobs[i].id.as_str())
            .collect();
        assert_eq!(started.len(), jobs.len());
        assert!(started[0].starts_with("handover."), "{started:?}");
        let first_short = started.iter().position(|id| {
            ![
                "handover.",
                "compaction.",
                "openai.live.handover.",
                "room.",
                "agent.",
            ]
            .iter()
            .any(|p| id.starts_with(p))
        });
        let rest: Vec<&str> = started[first_short.unwrap_or(0)..].to_vec();
        let listed: Vec<String> = case_list(&cases)
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| rest.contains(&id.as_str()))
            .collect();
        assert_eq!(rest, listed, "the short cases start in catalogue order");
        assert!(rest[0].starts_with("openai."), "{rest:?}");
    }
}
