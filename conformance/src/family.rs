//! What a family of conformance cases is: the unit the suite lists and runs.
//!
//! The suite is a list of families (see `suite`): the cassette cases, the
//! cross-provider equivalences, the speaking pipeline, the chat agents, the
//! realtime agents, rooms and handovers. A [`Family`] says, as data, the id
//! prefixes its cases carry, how it enumerates its case ids (what
//! `conform --list` prints) and how it runs them (what `conform` grades). The
//! suite walks the one list for both, so a family cannot be run without being
//! listed, or listed without being run.
//!
//! Each family runs its cases one after another and applies
//! [`RunOptions::filter`] itself (a family that needs a mock starts it only
//! when some case of its own is selected). A family sees the results of the
//! families run before it ([`FamilyRun::earlier`]): the equivalences compare
//! two cassette cases that already ran.
//!
//! This module depends on no family, so every family can depend on it.

use crate::catalogue::Case;
use crate::grade::CaseResult;
use std::future::Future;
use std::pin::Pin;

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

/// What a family's run is given.
#[derive(Debug, Clone, Copy)]
pub struct FamilyRun<'a> {
    /// The catalogue of cassette cases (the suite's `cases`).
    pub cases: &'a [Case],
    /// Speed and filter.
    pub options: &'a RunOptions,
    /// The results of the families run before this one, in run order.
    pub earlier: &'a [CaseResult],
}

/// A family's run in progress: its results, in its list order. Not `Send`:
/// the suite runs every family on the caller's task, one after another.
pub type Running<'a> = Pin<Box<dyn Future<Output = Vec<CaseResult>> + 'a>>;

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
    /// Runs the cases the options select.
    pub run: for<'a> fn(FamilyRun<'a>) -> Running<'a>,
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
