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

use crate::catalogue::{Case, Requirement};
use crate::family::Earlier;
use crate::grade::{blank, CaseResult, CheckResult, Evidence, Grade};
use crate::schedule::Job;
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
    /// A capability both sides need for the comparison to mean anything,
    /// with its name; a side without it grades the equivalence
    /// UNIMPLEMENTED instead of comparing (what the capabilities say it
    /// lacks is not a difference to set aside).
    pub requires: Option<Requirement>,
}

/// Named tool calls with arguments the model writes: what a tool
/// equivalence compares. GPT-Live's client delegation has neither (the
/// adapter's call carries the user's words), so there is nothing to compare.
fn named_tool_calls(c: &Capabilities) -> bool {
    c.tool_calls && !c.delegated_tools
}

/// The bundled equivalences.
pub fn equivalences() -> Vec<Equivalence> {
    vec![
        Equivalence {
            id: "cross.audio-question",
            description: "a spoken question answered in speech: OpenAI GA and DashScope agree",
            cases: ["openai.ga.audio.vad-turn", "dashscope.audio.vad-turn"],
            requires: None,
        },
        Equivalence {
            id: "cross.audio-question.gemini",
            description: "a spoken question answered in speech: OpenAI GA and Gemini agree",
            cases: ["openai.ga.audio.vad-turn", "gemini.audio.turn"],
            requires: None,
        },
        Equivalence {
            id: "cross.audio-question.live",
            description: "a spoken question answered in speech: OpenAI GA and GPT-Live (turns inferred) agree",
            cases: ["openai.ga.audio.vad-turn", "openai.live.audio.turn"],
            requires: None,
        },
        Equivalence {
            id: "cross.tool.round-trip",
            description: "a spoken question that calls a tool: OpenAI GA and DashScope agree",
            cases: [
                "openai.ga.tool.spoken-round-trip",
                "dashscope.tool.round-trip",
            ],
            requires: Some(("named tool calls with model-written arguments", named_tool_calls)),
        },
        Equivalence {
            id: "cross.tool.round-trip.gemini",
            description: "a spoken question that calls a tool: OpenAI GA and Gemini agree",
            cases: ["openai.ga.tool.spoken-round-trip", "gemini.tool.round-trip"],
            requires: Some(("named tool calls with model-written arguments", named_tool_calls)),
        },
        Equivalence {
            id: "cross.tool.delegation.live",
            description: "a spoken question that needs a tool: OpenAI GA calls get_weather, GPT-Live delegates to the client",
            cases: [
                "openai.ga.tool.spoken-round-trip",
                "openai.live.tool.delegation",
            ],
            requires: Some(("named tool calls with model-written arguments", named_tool_calls)),
        },
    ]
}

/// Something the comparison sets aside: an event type dropped, or a field
/// removed from every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aside {
    /// Remove this field wherever it appears.
    Field(&'static str),
    /// Drop events of this type.
    Event(&'static str),
}

/// What is set aside, and why. Always: the provider's identity and its token
/// accounting. Beyond that, only what the two sides' capabilities say differs.
pub fn set_aside(left: &Capabilities, right: &Capabilities) -> Vec<(Aside, String)> {
    let mut aside = vec![
        (
            Aside::Field("session_id"),
            "provider-minted identity".to_owned(),
        ),
        (Aside::Field("model"), "provider identity".to_owned()),
        (
            Aside::Field("expires_at"),
            "a point in time, set by each provider's own session limit".to_owned(),
        ),
        (
            Aside::Event("usage"),
            "token counts are each provider's own accounting".to_owned(),
        ),
        (
            Aside::Event("session_usage"),
            "billed seconds are each provider's own accounting".to_owned(),
        ),
    ];
    let mut differs = |differ: bool, asides: &[Aside], what: &str, l: String, r: String| {
        if differ {
            for a in asides {
                aside.push((*a, format!("capabilities: {what} {l} vs {r}")));
            }
        }
    };
    differs(
        left.input_sample_rate != right.input_sample_rate,
        &[Aside::Field("input_format")],
        "input_sample_rate",
        left.input_sample_rate.to_string(),
        right.input_sample_rate.to_string(),
    );
    differs(
        left.output_sample_rate != right.output_sample_rate,
        &[Aside::Field("output_format")],
        "output_sample_rate",
        left.output_sample_rate.to_string(),
        right.output_sample_rate.to_string(),
    );
    differs(
        left.end_handshake != right.end_handshake,
        &[Aside::Event("session_ended")],
        "end_handshake",
        left.end_handshake.to_string(),
        right.end_handshake.to_string(),
    );
    differs(
        left.session_updates != right.session_updates,
        &[Aside::Event("session_updated")],
        "session_updates",
        left.session_updates.to_string(),
        right.session_updates.to_string(),
    );
    differs(
        left.vad_events != right.vad_events,
        &[
            Aside::Event("speech_started"),
            Aside::Event("speech_stopped"),
            Aside::Event("input_committed"),
        ],
        "vad_events",
        left.vad_events.to_string(),
        right.vad_events.to_string(),
    );
    differs(
        left.resumption != right.resumption,
        &[Aside::Event("resumption_handle"), Aside::Event("go_away")],
        "resumption",
        left.resumption.to_string(),
        right.resumption.to_string(),
    );
    differs(
        left.tool_call_deltas != right.tool_call_deltas,
        &[Aside::Event("tool_call_delta")],
        "tool_call_deltas",
        left.tool_call_deltas.to_string(),
        right.tool_call_deltas.to_string(),
    );
    // One side's turn and response boundaries are the adapter's inference
    // (GPT-Live), the other's the provider's word: they need not coincide.
    // So is a reply's audio: cut from one continuous track, it keeps the
    // silence before the first voice and up to a pause's worth after the
    // last, in whole output chunks; and its phase (acknowledgement or
    // answer), inferred from outstanding delegations.
    differs(
        left.inferred_turns != right.inferred_turns,
        &[
            Aside::Event("speech_started"),
            Aside::Event("speech_stopped"),
            Aside::Event("input_committed"),
            Aside::Event("interrupted"),
            Aside::Field("reason"),
            Aside::Field("audio_bytes"),
            Aside::Field("phase"),
        ],
        "inferred_turns",
        left.inferred_turns.to_string(),
        right.inferred_turns.to_string(),
    );
    // A delegated call carries the user's words, not model-written arguments,
    // and comes with delegation events the other side does not send.
    differs(
        left.delegated_tools != right.delegated_tools,
        &[
            Aside::Field("arguments"),
            Aside::Field("name"),
            Aside::Event("delegation_created"),
            Aside::Event("delegation_result"),
        ],
        "delegated_tools",
        left.delegated_tools.to_string(),
        right.delegated_tools.to_string(),
    );
    // One side asks for a second response after a tool result, the other
    // answers in the same turn: response boundaries cannot agree.
    differs(
        left.response_after_tool_result != right.response_after_tool_result,
        &[
            Aside::Event("response_created"),
            Aside::Event("response_done"),
            Aside::Field("response_id"),
        ],
        "response_after_tool_result",
        left.response_after_tool_result.to_string(),
        right.response_after_tool_result.to_string(),
    );
    aside
}

/// The comparable form of a run's normalised events.
///
/// Besides what [`set_aside`] lists, two things are compared by content
/// rather than by arrival, on every provider alike:
/// - the user's input transcription is asynchronous to the response (OpenAI
///   documents it may arrive before or after the answer begins) and streamed
///   in deltas by some transcription models only, so it is compared as its own
///   list of final transcripts;
/// - an item's audio and its transcript are separate channels whose chunks
///   each provider interleaves on its own schedule, so each item is compared
///   by its total audio and its final transcript (`audio_done` carries the
///   byte total; the per-case checks already verify the deltas add up).
///
/// Call ids are renumbered by first appearance (`<call#n>`): Gemini reuses a
/// call's id as its item id, so the namespaces differ though the structure
/// agrees.
pub fn project(events: &Value, aside: &[(Aside, String)]) -> Value {
    let dropped = |kind: &str| {
        aside
            .iter()
            .any(|(a, _)| matches!(a, Aside::Event(t) if *t == kind))
    };
    let mut conversation: Vec<Value> = Vec::new();
    let mut user_transcripts: Vec<Value> = Vec::new();
    let mut audio_bytes: std::collections::HashMap<String, u64> = Default::default();
    let mut calls: std::collections::HashMap<String, String> = Default::default();
    for event in events.as_array().into_iter().flatten() {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        if dropped(kind) {
            continue;
        }
        let item = event
            .get("item_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut event = event.clone();
        let Value::Object(map) = &mut event else {
            continue;
        };
        for (a, _) in aside {
            if let Aside::Field(field) = a {
                map.remove(*field);
            }
        }
        if let Some(Value::String(call)) = map.get_mut("call_id") {
            let next = format!("<call#{}>", calls.len() + 1);
            *call = calls.entry(call.clone()).or_insert(next).clone();
        }
        match kind {
            "input_transcript_delta" => {}
            "input_transcript_done" => user_transcripts.push(event),
            "audio_delta" => {
                let bytes = map.get("approx_bytes").and_then(Value::as_u64).unwrap_or(0);
                *audio_bytes.entry(item).or_default() += bytes;
            }
            "transcript_delta" => {}
            "audio_done" => {
                let total = audio_bytes.remove(&item).unwrap_or(0);
                if !aside.iter().any(|(a, _)| *a == Aside::Field("audio_bytes")) {
                    map.insert("audio_bytes".into(), json!(total));
                }
                conversation.push(event);
            }
            _ => conversation.push(event),
        }
    }
    json!({"conversation": conversation, "user_transcripts": user_transcripts})
}

/// Compares two graded cases; `capabilities` are the two sides' capabilities.
pub fn compare(
    equivalence: &Equivalence,
    left: &CaseResult,
    right: &CaseResult,
    capabilities: [&Capabilities; 2],
) -> CaseResult {
    let aside = set_aside(capabilities[0], capabilities[1]);
    let mut result = CaseResult {
        dialect: format!("{} ≡ {}", left.dialect, right.dialect),
        ..blank(equivalence.id.into(), equivalence.description)
    };
    let (Some(l), Some(r)) = (&left.evidence, &right.evidence) else {
        result.grade = Grade::Failed;
        result.reason = Some(format!("{} or {} did not run", left.id, right.id));
        return result;
    };
    let (a, b) = (project(&l.events, &aside), project(&r.events, &aside));
    let difference = ["conversation", "user_transcripts"]
        .iter()
        .find_map(|part| first_difference(part, &a[part], &b[part], &left.id, &right.id));
    let explained = aside
        .iter()
        .map(|(a, why)| match a {
            Aside::Field(f) => format!("field {f} ({why})"),
            Aside::Event(e) => format!("event {e} ({why})"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let compared = a["conversation"].as_array().map_or(0, Vec::len);
    result.checks.push(CheckResult {
        name: "equivalent apart from capability differences".into(),
        passed: difference.is_none(),
        detail: difference
            .clone()
            .unwrap_or_else(|| format!("{compared} events agree; set aside: {explained}")),
    });
    if let Some(difference) = difference {
        result.grade = Grade::Failed;
        result.reason = Some(difference);
    }
    result.evidence = Some(Evidence {
        events: json!({"set_aside": explained, "projected": a}),
        wire: Vec::new(),
        journal_notes: Vec::new(),
    });
    result
}

/// Where two projected lists first differ, if they do.
fn first_difference(part: &str, a: &Value, b: &Value, left: &str, right: &str) -> Option<String> {
    let empty = Vec::new();
    let (a, b) = (
        a.as_array().unwrap_or(&empty),
        b.as_array().unwrap_or(&empty),
    );
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .map(|i| format!("{part} {i}: {left} has {}, {right} has {}", a[i], b[i]))
        .or_else(|| {
            (a.len() != b.len()).then(|| {
                format!(
                    "{part}: {left} has {} entries, {right} has {}",
                    a.len(),
                    b.len()
                )
            })
        })
}

/// Why `equivalence` cannot compare sides with these `capabilities`: the
/// capability it needs that a side declares no support for.
pub fn missing(equivalence: &Equivalence, capabilities: [&Capabilities; 2]) -> Option<String> {
    let (needs, has) = equivalence.requires?;
    let lacking: Vec<&str> = capabilities
        .iter()
        .filter(|c| !has(c))
        .map(|c| c.dialect.as_str())
        .collect();
    (!lacking.is_empty()).then(|| {
        let delegated = if capabilities.iter().any(|c| c.delegated_tools && !has(c)) {
            " (its tools are delegated: the call names no declared tool and carries the user's words, not arguments)"
        } else {
            ""
        };
        format!("{} declares no {needs}{delegated}", lacking.join(" and "))
    })
}

/// The equivalences' ids with their descriptions.
pub fn case_ids() -> Vec<(String, String)> {
    equivalences()
        .into_iter()
        .map(|e| (e.id.to_owned(), e.description.to_owned()))
        .collect()
}

/// One job per equivalence whose two cassette cases are both selected (in
/// `earlier`): it waits for their results and compares them. The rest are not
/// run (the filter left a side out).
pub fn equivalence_jobs<'a>(cases: &'a [Case], earlier: &Earlier<'a>) -> Vec<Job<'a>> {
    equivalences()
        .into_iter()
        .filter_map(|equivalence| {
            let side = |id: &str| {
                let case = cases.iter().find(|c| c.id == id)?;
                Some((earlier.result(id)?, case.scenario.capabilities()))
            };
            let (left, lc) = side(equivalence.cases[0])?;
            let (right, rc) = side(equivalence.cases[1])?;
            if let Some(reason) = missing(&equivalence, [&lc, &rc]) {
                let mut result = blank(equivalence.id.into(), equivalence.description);
                result.dialect = format!("{} ≡ {}", lc.dialect, rc.dialect);
                result.grade = Grade::Unimplemented;
                result.reason = Some(reason);
                return Some(Job::new(
                    equivalence.id,
                    equivalence.description,
                    async move { result },
                ));
            }
            Some(Job::new(
                equivalence.id,
                equivalence.description,
                async move {
                    let (left, right) = futures_util::future::join(left, right).await;
                    compare(&equivalence, &left, &right, [&lc, &rc])
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::{MessagePhase, ModelEvent};

    fn transcript(phase: Option<MessagePhase>) -> Value {
        let event = ModelEvent::TranscriptDone {
            response_id: "r".into(),
            item_id: "i".into(),
            transcript: "I'll check the weather for you.".into(),
            phase,
        };
        json!([serde_json::to_value(event).unwrap()])
    }

    #[test]
    fn the_projection_keeps_a_message_phase() {
        let projected = project(&transcript(Some(MessagePhase::Commentary)), &[]);
        assert_eq!(projected["conversation"][0]["phase"], "commentary");
    }

    #[test]
    fn inferred_turns_and_delegated_tools_set_aside_only_what_they_explain() {
        let ga = understudy_adapters::openai::Dialect::Ga.capabilities();
        let live = understudy_adapters::openai_live::capabilities("gpt-live-1");
        let asides: Vec<Aside> = set_aside(&ga, &live).into_iter().map(|(a, _)| a).collect();
        for expected in [
            Aside::Event("speech_started"),
            Aside::Event("interrupted"),
            Aside::Field("arguments"),
            Aside::Event("delegation_created"),
            Aside::Event("session_usage"),
        ] {
            assert!(asides.contains(&expected), "{expected:?} not set aside");
        }
        let same: Vec<Aside> = set_aside(&ga, &ga).into_iter().map(|(a, _)| a).collect();
        assert!(!same.contains(&Aside::Field("arguments")));
        assert!(!same.contains(&Aside::Event("interrupted")));
    }

    #[test]
    fn a_preamble_and_an_answer_are_not_equivalent() {
        let preamble = project(&transcript(Some(MessagePhase::Commentary)), &[]);
        let answer = project(&transcript(Some(MessagePhase::FinalAnswer)), &[]);
        assert!(first_difference(
            "conversation",
            &preamble["conversation"],
            &answer["conversation"],
            "a",
            "b"
        )
        .is_some());
    }
}
