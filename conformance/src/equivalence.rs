//! Cross-provider equivalence: the same scenario on two providers must give
//! the same normalised event stream, apart from what their capabilities say
//! differs.
//!
//! This is the promise of the normalised layer: an agent written against
//! `ModelEvent` sees the same conversation whichever provider serves it. The
//! check compares two cases' normalised evidence after removing exactly the
//! fields the capabilities table explains (an input or output rate that
//! differs shows up in the session events' formats) and the provider's own
//! identity (session id, model name). Anything else that differs fails it.

use crate::run::{CaseResult, CheckResult, Evidence, Grade};
use serde_json::{json, Value};
use understudy_adapters::Capabilities;

/// A pair of cases that must agree.
#[derive(Debug, Clone)]
pub struct Equivalence {
    /// Stable id (`cross.audio-question`).
    pub id: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The two case ids.
    pub cases: [&'static str; 2],
}

/// The bundled equivalences.
pub fn equivalences() -> Vec<Equivalence> {
    vec![
        Equivalence {
            id: "cross.audio-question",
            description: "a spoken question answered in speech: OpenAI GA and DashScope agree",
            cases: ["openai.ga.audio.vad-turn", "dashscope.audio.vad-turn"],
        },
        Equivalence {
            id: "cross.tool.round-trip",
            description: "a spoken question that calls a tool: OpenAI GA and DashScope agree",
            cases: [
                "openai.ga.tool.spoken-round-trip",
                "dashscope.tool.round-trip",
            ],
        },
    ]
}

/// Fields (or, for `session_ended`, whole events) removed before comparing,
/// with why: identity always; formats when the capabilities say the rates
/// differ; the goodbye when only one side has one.
pub fn ignored_fields(left: &Capabilities, right: &Capabilities) -> Vec<(&'static str, String)> {
    let mut ignored = vec![
        ("session_id", "provider-minted identity".to_owned()),
        ("model", "provider identity".to_owned()),
    ];
    if left.input_sample_rate != right.input_sample_rate {
        ignored.push((
            "input_format",
            format!(
                "capabilities: input_sample_rate {} vs {}",
                left.input_sample_rate, right.input_sample_rate
            ),
        ));
    }
    if left.output_sample_rate != right.output_sample_rate {
        ignored.push((
            "output_format",
            format!(
                "capabilities: output_sample_rate {} vs {}",
                left.output_sample_rate, right.output_sample_rate
            ),
        ));
    }
    if left.end_handshake != right.end_handshake {
        ignored.push((
            "session_ended",
            format!(
                "capabilities: end_handshake {} vs {}",
                left.end_handshake, right.end_handshake
            ),
        ));
    }
    ignored
}

fn project(events: &Value, ignored: &[(&'static str, String)]) -> Vec<Value> {
    events
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|event| {
                    // Whole events are ignored by their type (`session_ended`).
                    let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
                    !ignored.iter().any(|(field, _)| *field == kind)
                })
                .map(|event| {
                    let mut event = event.clone();
                    if let Value::Object(map) = &mut event {
                        for (field, _) in ignored {
                            map.remove(*field);
                        }
                    }
                    event
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Compares two graded cases; `capabilities` are the two sides' capabilities.
pub fn compare(
    equivalence: &Equivalence,
    left: &CaseResult,
    right: &CaseResult,
    capabilities: [&Capabilities; 2],
) -> CaseResult {
    let ignored = ignored_fields(capabilities[0], capabilities[1]);
    let mut result = CaseResult {
        id: equivalence.id.into(),
        description: equivalence.description.into(),
        dialect: format!("{} ≡ {}", left.dialect, right.dialect),
        grade: Grade::Ok,
        reason: None,
        checks: Vec::new(),
        latency: Vec::new(),
        duration_ms: 0.0,
        evidence: None,
    };
    let (Some(l), Some(r)) = (&left.evidence, &right.evidence) else {
        result.grade = Grade::Failed;
        result.reason = Some(format!("{} or {} did not run", left.id, right.id));
        return result;
    };
    let (a, b) = (project(&l.events, &ignored), project(&r.events, &ignored));
    let difference = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .map(|i| {
            format!(
                "event {i}: {} has {}, {} has {}",
                left.id, a[i], right.id, b[i]
            )
        })
        .or_else(|| {
            (a.len() != b.len()).then(|| {
                format!(
                    "{} has {} events, {} has {}",
                    left.id,
                    a.len(),
                    right.id,
                    b.len()
                )
            })
        });
    let explained = ignored
        .iter()
        .map(|(f, why)| format!("{f} ({why})"))
        .collect::<Vec<_>>()
        .join("; ");
    result.checks.push(CheckResult {
        name: "equivalent apart from capability differences".into(),
        passed: difference.is_none(),
        detail: difference
            .clone()
            .unwrap_or_else(|| format!("{} events agree; ignored: {explained}", a.len())),
    });
    if let Some(difference) = difference {
        result.grade = Grade::Failed;
        result.reason = Some(difference);
    }
    result.evidence = Some(Evidence {
        events: json!({"ignored": explained, "projected": a}),
        wire: Vec::new(),
        journal_notes: Vec::new(),
    });
    result
}
