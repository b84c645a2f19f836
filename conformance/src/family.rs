//! What a family of conformance cases is: the unit the suite lists and runs.
//!
//! The suite is a list of families (see `suite`): the cassette cases, the
//! cross-provider equivalences, the speaking pipeline, the chat agents, the
//! realtime agents, rooms and handovers. A [`Family`] says, as data, the id
//! prefixes its cases carry, how it enumerates its case ids (what
//! `conform --list` prints) and how it turns the selected ones into
//! [`Job`]s (what `conform` grades). The suite walks the one list for both,
//! so a family cannot be run without being listed, or listed without being
//! run.
//!
//! A family applies [`RunOptions::filter`] itself and makes one job per
//! selected case. Jobs are independent and run side by side (see
//! `schedule`): each starts the mock it needs, so no case sees another's
//! sessions, notes or journal. A family may build on the cases of the
//! families before it ([`FamilyRun::earlier`]): the equivalences compare two
//! cassette cases, and their jobs wait for those results.
//!
//! This module depends on no family, so every family can depend on it.

use crate::catalogue::Case;
use crate::grade::CaseResult;
use crate::schedule::{Grading, Job};
use futures_util::future::{FutureExt, Shared};
use std::collections::HashMap;
use std::future::Future;

/// How the suite runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Replay speed (1.0 = recorded timing, which latency figures need).
    pub speed: f64,
    /// Only cases whose id contains this.
    pub filter: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            speed: 1.0,
            filter: None,
        }
    }
}

impl RunOptions {
    /// Whether the filter selects the case `id` (no filter selects every case).
    pub fn selects(&self, id: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| id.contains(f))
    }
}

/// What a family's job builder is given.
#[derive(Debug, Clone, Copy)]
pub struct FamilyRun<'r, 'a> {
    /// The catalogue of cassette cases (the suite's `cases`).
    pub cases: &'a [Case],
    /// Speed and filter.
    pub options: &'a RunOptions,
    /// The cases of the families before this one, selected to run.
    pub earlier: &'r Earlier<'a>,
}

/// The cases of the families built so far, each as a handle its result can
/// be awaited on from any number of jobs: the case runs once, whichever job
/// polls it first (its own, or one that needs its result).
#[derive(Default)]
pub struct Earlier<'a> {
    runs: HashMap<String, Shared<Grading<'a>>>,
}

impl<'a> Earlier<'a> {
    /// Keeps `job`'s run to be awaited by later families, and returns the job
    /// that runs it (and reports it) in its own place in the list.
    pub fn keep(&mut self, job: Job<'a>) -> Job<'a> {
        let job = job.catching_panics();
        let shared = job.run.shared();
        self.runs.insert(job.id.clone(), shared.clone());
        Job::new(job.id, job.description, shared)
    }

    /// The result of the earlier case `id`, once it is graded; `None` when
    /// that case was not selected.
    pub fn result(&self, id: &str) -> Option<impl Future<Output = CaseResult> + 'a> {
        self.runs.get(id).cloned()
    }
}

impl std::fmt::Debug for Earlier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Earlier")
            .field("cases", &self.runs.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One family of cases, as data.
#[derive(Clone, Copy)]
pub struct Family {
    /// What the family is (`the speaking pipeline (TTS engines)`).
    pub name: &'static str,
    /// The prefixes its case ids start with (`tts.`); every listed id starts
    /// with one of them.
    pub prefixes: &'static [&'static str],
    /// Its case ids with their descriptions, in run order, given the
    /// catalogue of cassette cases.
    pub list: fn(&[Case]) -> Vec<(String, String)>,
    /// Whether its cases are whole conversations lasting many seconds: the
    /// suite starts them first, so that the run ends with short cases
    /// instead of waiting on a long one started last.
    pub starts_first: bool,
    /// One job per case the options select, in list order.
    pub jobs: for<'r, 'a> fn(FamilyRun<'r, 'a>) -> Vec<Job<'a>>,
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.name)
            .field("prefixes", &self.prefixes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::RunOptions;

    #[test]
    fn no_filter_selects_every_case_and_a_filter_selects_by_substring() {
        let all = RunOptions::default();
        assert!(all.selects("tts.gemini-tts.stream.cancel"));
        let some = RunOptions {
            filter: Some("gemini".into()),
            ..RunOptions::default()
        };
        assert!(some.selects("tts.gemini-tts.stream.cancel"));
        assert!(!some.selects("openai.ga.text.turn"));
    }
}
