//! What the grading tests share: a case by id, the fast run options, and
//! the checks a result failed.
#![allow(dead_code)] // each test binary uses its own subset

use understudy_conformance::{cases, Case, CaseResult, RunOptions};

/// The case `id` as the catalogue makes it.
pub fn case(id: &str) -> Case {
    cases()
        .expect("the catalogue finds every scenario")
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// Eight times real time: the grading tests judge behaviour, not timing.
pub fn fast() -> RunOptions {
    RunOptions {
        speed: 8.0,
        filter: None,
    }
}

/// The names of the checks `result` failed.
pub fn failed_names(result: &CaseResult) -> Vec<&str> {
    result
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect()
}

/// The checks `result` failed, as `name: detail`.
pub fn failed_details(result: &CaseResult) -> Vec<String> {
    result
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect()
}
