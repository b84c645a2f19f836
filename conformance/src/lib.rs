//! # understudy-conformance
//!
//! The conformance suite: a list of families of cases with stable ids, each
//! run in-process against the mock, graded by checks (reviewed snapshot,
//! protocol expectations, latency) and reported as text, JSON, JUnit XML,
//! Markdown and HTML, optionally compared with a committed baseline.
//!
//! Where to look:
//! - the suite — [`suite`] holds the one list of families that both
//!   `conform --list` and `conform` walk; [`family`] says what a family is
//!   (id prefixes, how it lists its cases, how it makes them into jobs) and
//!   how a run is configured; [`schedule`] runs the jobs side by side and
//!   [`live`] prints each result the moment it finishes;
//! - the families — the cassette cases ([`catalogue`] defines them on top of
//!   the client scripts in [`scenario`], [`replay`] runs and grades them),
//!   the cross-provider [`equivalence`]s, the speaking pipeline ([`tts`]),
//!   the chat agents ([`omni`]), the realtime agents and rooms
//!   ([`agent_cases`]) and long conversations ([`handover`]);
//! - underneath — [`grade`] (result types and the shared graders, depending
//!   on no family), [`drive`] (drives a scenario through an adapter against
//!   an endpoint), [`normalize`] (the snapshot form of events), [`synth`]
//!   (synthesizes the bundled cassettes) and [`report`];
//! - other servers — [`target`] runs the cassette cases against any server
//!   that claims a dialect (`conform --target`), grading what our mock
//!   scripts as informational; [`drift`] re-records cassettes against a
//!   target and says what changed.
//!
//! One case, run in-process (what `understudy conform --filter … --speed 4` does):
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use understudy_conformance::{cases, passed, run_all, Grade, RunOptions};
//!
//! let cases = cases()?;
//! let options = RunOptions { speed: 4.0, filter: Some("openai.ga.text.turn".into()) };
//! let results = run_all(&cases, &options).await;
//! assert_eq!(results.len(), 1);
//! assert_eq!(results[0].grade, Grade::Ok, "{:?}", results[0].reason);
//! assert!(passed(&results));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod agent_cases;
mod assets;
pub mod baseline;
pub mod cassette_cases;
pub mod catalogue;
pub mod drift;
pub mod drive;
pub mod equivalence;
pub mod family;
pub mod grade;
pub mod handover;
pub mod live;
pub mod normalize;
pub mod omni;
pub mod on_target;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod suite;
pub mod synth;
pub mod target;
pub mod tts;

pub use baseline::{compare, Baseline, BaselineError, Comparison};
pub use catalogue::{cases, Case, UnknownScenario};
pub use family::RunOptions;
pub use grade::{CaseResult, Grade};
pub use replay::{run_case, run_case_on};
pub use report::{passed, render, write_reports, Format, ReportSpec};
pub use suite::{case_list, run_all, run_suite};
