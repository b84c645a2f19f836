//! # understudy-conformance
//!
//! The conformance suite: a catalogue of cases with stable ids, a runner that
//! drives the real adapter against an in-process mock replaying each case's
//! cassette, graded checks (reviewed snapshot, protocol expectations, latency)
//! and reports as text, JSON and JUnit XML.

#![warn(missing_docs)]

pub mod agent_cases;
pub mod catalogue;
pub mod drive;
pub mod equivalence;
pub mod grade;
pub mod handover;
pub mod normalize;
pub mod omni;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod synth;
pub mod tts;

pub use catalogue::{cases, Case};
pub use grade::{CaseResult, Grade};
pub use replay::{case_list, run_all, run_case, RunOptions};
pub use report::{passed, render, Format};
