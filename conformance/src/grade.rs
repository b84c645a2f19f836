//! What a conformance run produces, and the small graders every family
//! shares.
//!
//! Every family (the cassette cases, the cross-provider equivalences, the
//! speaking pipeline, the agents, rooms and handovers) ends in the same
//! [`CaseResult`]: a [`Grade`], the [`CheckResult`]s that decided it, and the
//! evidence and measurements the reports print. The graders here build one:
//! `blank` starts a result, `check` records one check, `conclude` grades
//! it from its checks (the first failed check is the reason) and stamps its
//! wall time, `failed_result` stands for a case that could not run at all.
//!
//! This module depends on no family, so every family (and the reports) can
//! depend on it.

use crate::drive::Latency;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A case's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Grade {
    /// Every check passed.
    Ok,
    /// Passed, but only leniently (reserved for checks that tolerate documented variation).
    NonStrict,
    /// Measured and reported; nothing to pass or fail.
    Informational,
    /// The dialect's capabilities say it cannot do what the case needs.
    Unimplemented,
    /// A check failed, or the run did not complete.
    Failed,
}

impl Grade {
    /// How the grade is printed.
    pub fn label(self) -> &'static str {
        match self {
            Grade::Ok => "OK",
            Grade::NonStrict => "NON-STRICT",
            Grade::Informational => "INFORMATIONAL",
            Grade::Unimplemented => "UNIMPLEMENTED",
            Grade::Failed => "FAILED",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Check name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why not, or what it saw.
    pub detail: String,
}

/// One line of the wire transcript.
#[derive(Debug, Clone, Serialize)]
pub struct WireLine {
    /// Milliseconds since the connection attempt.
    pub t_ms: f64,
    /// `c2s` or `s2c`.
    pub dir: &'static str,
    /// The frame, audio payloads summarised.
    pub frame: String,
}

/// What a case leaves behind.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Normalised events (the snapshot form).
    pub events: Value,
    /// Raw frames both ways.
    pub wire: Vec<WireLine>,
    /// Notes from the mock's journal.
    pub journal_notes: Vec<String>,
}

/// A graded case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// What it shows.
    pub description: String,
    /// Dialect.
    pub dialect: String,
    /// Grade.
    pub grade: Grade,
    /// Why, for UNIMPLEMENTED and FAILED.
    pub reason: Option<String>,
    /// Checks made.
    pub checks: Vec<CheckResult>,
    /// Latency of each spoken response.
    pub latency: Vec<Latency>,
    /// Speaking pipeline cases: first text delta to first audio chunk, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_first_sound_ms: Option<f64>,
    /// Wall time of the case.
    pub duration_ms: f64,
    /// Evidence (absent when the case did not run).
    pub evidence: Option<Evidence>,
    /// Long-conversation cases: the moves between sessions and what they cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handover: Option<HandoverReport>,
    /// How the mock ran when it differs from today's provider (`legacy beta`:
    /// the retired Realtime beta served as it was), shown on the report line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mock_mode: Option<String>,
}

impl CaseResult {
    /// An ungraded result (OK, no checks, no evidence) for case `id` of
    /// `dialect`: what a family, or a test of the reports, fills in.
    pub fn new(id: impl Into<String>, description: &str, dialect: &str) -> Self {
        CaseResult {
            dialect: dialect.to_owned(),
            ..blank(id.into(), description)
        }
    }
}

/// What carrying a conversation across session ends cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HandoverReport {
    /// Moves to a new session.
    pub handovers: usize,
    /// Of those, made before the provider's end (not after a loss).
    pub planned: usize,
    /// Of those, resumed by the provider (a handle).
    pub resumed: usize,
    /// Of those, carried by a summary in the new session's instructions.
    pub compacted: usize,
    /// How long each move kept input waiting, in milliseconds.
    pub gaps_ms: Vec<u64>,
    /// User turns with no answer or more than one.
    pub lost_turns: usize,
}

impl HandoverReport {
    /// The report of a conversation of `turns` user turns that got `answers`
    /// completed answers, from its `SessionSwitched` events.
    pub fn from_events(
        switches: &[&understudy_agents::realtime::AgentEvent],
        turns: usize,
        answers: usize,
    ) -> Self {
        let mut report = HandoverReport {
            lost_turns: turns.abs_diff(answers),
            ..Default::default()
        };
        for event in switches {
            if let understudy_agents::realtime::AgentEvent::SessionSwitched {
                planned,
                resumed,
                summary_chars,
                gap_ms,
                ..
            } = event
            {
                report.handovers += 1;
                report.planned += usize::from(*planned);
                report.resumed += usize::from(*resumed);
                report.compacted += usize::from(!*resumed && summary_chars.is_some());
                report.gaps_ms.push(*gap_ms);
            }
        }
        report
    }

    /// One line for reports.
    pub fn summary(&self) -> String {
        format!(
            "{} handovers ({} planned; {} resumed, {} with a summary), gaps {:?} ms, lost turns {}",
            self.handovers,
            self.planned,
            self.resumed,
            self.compacted,
            self.gaps_ms,
            self.lost_turns
        )
    }
}

/// A FAILED result for a case (or a family) that could not run: `reason` says why.
pub(crate) fn failed_result(id: &str, description: &str, reason: String) -> CaseResult {
    let mut result = blank(id.to_owned(), description);
    result.grade = Grade::Failed;
    result.reason = Some(reason);
    result
}

/// A result that has not been graded yet: OK, no checks, no evidence, dialect `tts`
/// (the speaking-pipeline cases that first used it; other families set their
/// own, with `CaseResult { dialect, ..blank(id, description) }`).
pub(crate) fn blank(id: String, description: &str) -> CaseResult {
    CaseResult {
        id,
        description: description.to_owned(),
        dialect: "tts".into(),
        grade: Grade::Ok,
        reason: None,
        checks: Vec::new(),
        latency: Vec::new(),
        time_to_first_sound_ms: None,
        duration_ms: 0.0,
        evidence: None,
        handover: None,
        mock_mode: None,
    }
}

/// Grades `result` from its checks.
pub(crate) fn conclude(mut result: CaseResult, started: Instant) -> CaseResult {
    if let Some(failed) = result.checks.iter().find(|c| !c.passed) {
        result.grade = Grade::Failed;
        result.reason = Some(format!("{}: {}", failed.name, failed.detail));
    }
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}

/// One named check and what it saw.
pub(crate) fn check(name: &str, passed: bool, detail: String) -> CheckResult {
    CheckResult {
        name: name.into(),
        passed,
        detail,
    }
}

/// A duration in milliseconds, as the reports print them.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
