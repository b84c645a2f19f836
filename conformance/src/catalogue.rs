//! The bundled conformance cases: stable ids, the scenario each replays, what
//! it needs from the dialect, and the checks it makes beyond its snapshot.
//!
//! A case also says, as data, how it grades against a server that is not our
//! mock (`conform --target`, see [`OnTarget`]): a case whose scenario needs
//! behaviour only our mock scripts (an injected fault, a connection limit,
//! the retired beta served as it was) is not run there, and a check that
//! reads content our mock scripts (the words its recogniser hears, the tool
//! its responder calls) is informational there rather than a failure.

mod gemini38;
mod live;
mod omni38;
mod qwen_audio;

pub use crate::on_target::OnTarget;
use crate::scenario::{self, Scenario};
use understudy_adapters::openai::Dialect;
use understudy_adapters::{Capabilities, ModelEvent, ResponseStatus};

/// A check on the normalised events of a run.
pub type Expectation = fn(&[ModelEvent]) -> Result<(), String>;

/// A capability a case needs: its name, and how to read it off the dialect's capabilities.
pub type Requirement = (&'static str, fn(&Capabilities) -> bool);

/// One conformance case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stable id (`openai.ga.tool.round-trip`).
    pub id: String,
    /// What it shows.
    pub description: &'static str,
    /// The client script and the cassette it replays.
    pub scenario: Scenario,
    /// A capability the case needs, with its name; a dialect without it grades
    /// the case UNIMPLEMENTED instead of running it.
    pub requires: Option<Requirement>,
    /// Checks beyond the snapshot, by name.
    pub expectations: Vec<(&'static str, Expectation)>,
    /// How the case grades against a target instead of our mock.
    pub on_target: OnTarget,
}

fn last_response_status(events: &[ModelEvent]) -> Option<ResponseStatus> {
    events.iter().rev().find_map(|e| match e {
        ModelEvent::ResponseDone { status, .. } => Some(*status),
        _ => None,
    })
}

fn ends_completed(events: &[ModelEvent]) -> Result<(), String> {
    match last_response_status(events) {
        Some(ResponseStatus::Completed) => Ok(()),
        other => Err(format!("last response ended {other:?}, expected Completed")),
    }
}

fn has_audio_and_transcript(events: &[ModelEvent]) -> Result<(), String> {
    let audio = events
        .iter()
        .any(|e| matches!(e, ModelEvent::AudioDelta { pcm, .. } if !pcm.is_empty()));
    let transcript: String = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    let done = events
        .iter()
        .any(|e| matches!(e, ModelEvent::TranscriptDone { transcript: t, .. } if *t == transcript));
    match (audio, !transcript.is_empty() && done) {
        (true, true) => Ok(()),
        (a, t) => Err(format!(
            "audio present: {a}; transcript deltas add up to the done transcript: {t}"
        )),
    }
}

fn one_done_per_created(events: &[ModelEvent]) -> Result<(), String> {
    let created = events
        .iter()
        .filter(|e| matches!(e, ModelEvent::ResponseCreated { .. }))
        .count();
    let done = events
        .iter()
        .filter(|e| matches!(e, ModelEvent::ResponseDone { .. }))
        .count();
    if created == done {
        Ok(())
    } else {
        Err(format!("{created} responses created, {done} done"))
    }
}

fn no_output_after_done(events: &[ModelEvent]) -> Result<(), String> {
    let mut finished = std::collections::HashSet::new();
    for e in events {
        match e {
            ModelEvent::ResponseDone { response_id, .. } => {
                finished.insert(response_id.clone());
            }
            ModelEvent::AudioDelta { response_id, .. }
            | ModelEvent::TranscriptDelta { response_id, .. }
                if finished.contains(response_id) =>
            {
                return Err(format!("output for {response_id} after its response_done"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn vad_turn(events: &[ModelEvent]) -> Result<(), String> {
    let start = events
        .iter()
        .position(|e| matches!(e, ModelEvent::SpeechStarted { .. }));
    let stop = events
        .iter()
        .position(|e| matches!(e, ModelEvent::SpeechStopped { .. }));
    let commit = events
        .iter()
        .position(|e| matches!(e, ModelEvent::InputCommitted { .. }));
    let response = events
        .iter()
        .position(|e| matches!(e, ModelEvent::ResponseCreated { .. }));
    match (start, stop, commit, response) {
        (Some(a), Some(b), Some(c), Some(d)) if a < b && b < c && c < d => Ok(()),
        other => Err(format!("expected speech_started < speech_stopped < input_committed < response_created, got positions {other:?}")),
    }
}

fn tool_round_trip(events: &[ModelEvent]) -> Result<(), String> {
    let call = events.iter().find_map(|e| match e {
        ModelEvent::ToolCall {
            name, arguments, ..
        } => Some((name.clone(), arguments.clone())),
        _ => None,
    });
    let Some((name, arguments)) = call else {
        return Err("no tool_call event".into());
    };
    if name != "get_weather" {
        return Err(format!("tool name {name:?}, expected get_weather"));
    }
    let args: serde_json::Value =
        serde_json::from_str(&arguments).map_err(|e| format!("arguments are not JSON: {e}"))?;
    if args["city"] != "Paris" {
        return Err(format!("arguments {arguments}, expected city Paris"));
    }
    let responses = events
        .iter()
        .filter(|e| matches!(e, ModelEvent::ResponseDone { .. }))
        .count();
    if responses != 2 {
        return Err(format!(
            "{responses} responses, expected the call and a follow-up"
        ));
    }
    Ok(())
}

fn barge_in(events: &[ModelEvent]) -> Result<(), String> {
    let speech = events
        .iter()
        .position(|e| matches!(e, ModelEvent::SpeechStarted { .. }));
    let interrupted = events
        .iter()
        .position(|e| matches!(e, ModelEvent::Interrupted { .. }));
    let cancelled = events.iter().position(|e| {
        matches!(e, ModelEvent::ResponseDone { status: ResponseStatus::Cancelled, reason: Some(r), .. } if r == "turn_detected")
    });
    let truncated = events
        .iter()
        .any(|e| matches!(e, ModelEvent::Truncated { .. }));
    match (speech, interrupted, cancelled) {
        (Some(s), Some(i), Some(c)) if s < i && i < c && truncated => Ok(()),
        other => Err(format!(
            "expected speech_started < interrupted < response_done(cancelled, turn_detected) and a truncation; got {other:?}, truncated: {truncated}"
        )),
    }
}

/// The retired beta's refusal: the `error` first (no session), then close 4000.
fn beta_refused(events: &[ModelEvent]) -> Result<(), String> {
    match events {
        [ModelEvent::Error(info), .., ModelEvent::SessionEnded { close_code, .. }]
            if info.code == "beta_api_shape_disabled" && *close_code == Some(4000) =>
        {
            if events
                .iter()
                .any(|e| matches!(e, ModelEvent::SessionCreated { .. }))
            {
                return Err("a session was created".into());
            }
            Ok(())
        }
        _ => Err(format!(
            "expected error beta_api_shape_disabled then close 4000, got {:?}",
            events.iter().map(ModelEvent::kind).collect::<Vec<_>>()
        )),
    }
}

fn malformed_answered(events: &[ModelEvent]) -> Result<(), String> {
    let codes: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::Error(info) => Some(info.code.as_str()),
            _ => None,
        })
        .collect();
    if codes != ["invalid_event", "invalid_value"] {
        return Err(format!(
            "error codes {codes:?}, expected [invalid_event, invalid_value]"
        ));
    }
    let echoed = events
        .iter()
        .any(|e| matches!(e, ModelEvent::Error(i) if i.event_id.as_deref() == Some("evt_bad_1")));
    if !echoed {
        return Err("the error does not echo the client's event_id evt_bad_1".into());
    }
    ends_completed(events)
}

fn interrupted_without_truncation(events: &[ModelEvent]) -> Result<(), String> {
    let speech = events
        .iter()
        .position(|e| matches!(e, ModelEvent::SpeechStarted { .. }));
    let interrupted = events
        .iter()
        .position(|e| matches!(e, ModelEvent::Interrupted { .. }));
    let ended_early = events
        .iter()
        .position(|e| matches!(e, ModelEvent::ResponseDone { status, .. } if *status != ResponseStatus::Completed));
    match (speech, interrupted, ended_early) {
        (Some(s), Some(i), Some(c)) if s < i && i < c => Ok(()),
        other => Err(format!(
            "expected speech_started < interrupted < response_done(not completed); got {other:?}"
        )),
    }
}

fn user_transcribed(events: &[ModelEvent]) -> Result<(), String> {
    let heard = events.iter().find_map(|e| match e {
        ModelEvent::InputTranscriptDone { transcript, .. } => Some(transcript.as_str()),
        _ => None,
    });
    match heard {
        Some("What is the weather like in Paris today?") => Ok(()),
        other => Err(format!("input transcript {other:?}")),
    }
}

fn no_vad_events(events: &[ModelEvent]) -> Result<(), String> {
    match events.iter().find(|e| {
        matches!(
            e,
            ModelEvent::SpeechStarted { .. } | ModelEvent::SpeechStopped { .. }
        )
    }) {
        None => Ok(()),
        Some(e) => Err(format!(
            "manual turn taking, but the provider sent {}",
            e.kind()
        )),
    }
}

fn image_acknowledged(events: &[ModelEvent]) -> Result<(), String> {
    let said: String = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    if said.contains("I see one image") {
        ends_completed(events)
    } else {
        Err(format!("the answer does not mention the image: {said:?}"))
    }
}

fn setup_refused(events: &[ModelEvent]) -> Result<(), String> {
    let error = events.iter().any(|e| matches!(e, ModelEvent::Error(_)));
    let updated = events
        .iter()
        .any(|e| matches!(e, ModelEvent::SessionUpdated { .. }));
    match (error, updated) {
        (true, false) => Ok(()),
        _ => Err(format!("error seen: {error}; session_updated seen: {updated} (expected an error and no update)")),
    }
}

fn finished_cleanly(events: &[ModelEvent]) -> Result<(), String> {
    match events.last() {
        Some(ModelEvent::SessionEnded { reason, .. }) if reason == "session finished" => Ok(()),
        other => Err(format!(
            "expected the session to end with session.finished, last event {other:?}"
        )),
    }
}

fn resumable(events: &[ModelEvent]) -> Result<(), String> {
    match events.iter().any(|e| {
        matches!(
            e,
            ModelEvent::ResumptionHandle {
                handle: Some(_),
                resumable: true
            }
        )
    }) {
        true => Ok(()),
        false => Err("no resumable handle was offered".into()),
    }
}

/// What the user says in the `goAway` scenario, in order; the responder
/// answers each with "You said: …".
const RESUMED_TURNS: [&str; 3] = ["Remember forty-two.", "Which number?", "Thanks."];

fn each_turn_answered_once(events: &[ModelEvent]) -> Result<(), String> {
    let answers: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TranscriptDone { transcript, .. } => Some(transcript.as_str()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = RESUMED_TURNS
        .iter()
        .map(|turn| format!("You said: {turn}"))
        .collect();
    let completed = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                ModelEvent::ResponseDone {
                    status: ResponseStatus::Completed,
                    ..
                }
            )
        })
        .count();
    if answers == expected && completed == RESUMED_TURNS.len() {
        Ok(())
    } else {
        Err(format!(
            "answers {answers:?} ({completed} completed responses), expected {expected:?}"
        ))
    }
}

fn crossed_go_away(events: &[ModelEvent]) -> Result<(), String> {
    let go_away = events
        .iter()
        .position(|e| matches!(e, ModelEvent::GoAway { .. }))
        .ok_or("no goAway was seen")?;
    let answered_after = events[go_away..]
        .iter()
        .any(|e| matches!(e, ModelEvent::ResponseDone { .. }));
    if answered_after {
        Ok(())
    } else {
        Err("nothing was answered after the goAway".into())
    }
}

fn single_turn_tool_round_trip(events: &[ModelEvent]) -> Result<(), String> {
    let call = events.iter().find_map(|e| match e {
        ModelEvent::ToolCall {
            name, arguments, ..
        } => Some((name.as_str(), arguments.as_str())),
        _ => None,
    });
    if call != Some(("get_weather", r#"{"city":"Paris"}"#)) {
        return Err(format!(
            "tool call {call:?}, expected get_weather {{\"city\":\"Paris\"}}"
        ));
    }
    let said: String = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    if !said.starts_with("Here is what I found") {
        return Err(format!("the answer does not use the tool result: {said:?}"));
    }
    ends_completed(events)
}

fn call_cancelled_by_speech(events: &[ModelEvent]) -> Result<(), String> {
    let call = events.iter().find_map(|e| match e {
        ModelEvent::ToolCall { call_id, .. } => Some(call_id.clone()),
        _ => None,
    });
    let cancelled = events.iter().find_map(|e| match e {
        ModelEvent::ToolCallCancelled { call_ids } => Some(call_ids.clone()),
        _ => None,
    });
    match (call, cancelled) {
        (Some(call), Some(ids)) if ids.contains(&call) => interrupted_turn_then_answer(events),
        other => Err(format!(
            "expected the pending call to be cancelled: {other:?}"
        )),
    }
}

fn interrupted_turn_then_answer(events: &[ModelEvent]) -> Result<(), String> {
    let interrupted = events
        .iter()
        .position(|e| matches!(e, ModelEvent::Interrupted { .. }));
    let cancelled = events.iter().position(|e| {
        matches!(
            e,
            ModelEvent::ResponseDone {
                status: ResponseStatus::Cancelled,
                ..
            }
        )
    });
    match (interrupted, cancelled) {
        (Some(i), Some(c)) if i < c => ends_completed(events),
        other => Err(format!(
            "expected interrupted < response_done(cancelled): {other:?}"
        )),
    }
}

fn closed_with_1008(events: &[ModelEvent]) -> Result<(), String> {
    let error = events
        .iter()
        .any(|e| matches!(e, ModelEvent::Error(info) if info.code == "close_1008" && info.fatal));
    let ended = matches!(
        events.last(),
        Some(ModelEvent::SessionEnded {
            close_code: Some(1008),
            ..
        })
    );
    match (error, ended) {
        (true, true) => Ok(()),
        _ => Err(format!(
            "expected a fatal close_1008 error and the session ending with 1008; got {events:?}"
        )),
    }
}

const COMMON: [(&str, Expectation); 2] = [
    (
        "one response_done per response_created",
        one_done_per_created,
    ),
    ("no output after response_done", no_output_after_done),
];

fn case(
    id: &str,
    description: &'static str,
    scenario: Scenario,
    extra: Vec<(&'static str, Expectation)>,
) -> Case {
    let mut expectations = COMMON.to_vec();
    expectations.extend(extra);
    Case {
        id: id.into(),
        description,
        on_target: OnTarget::of(&scenario, &expectations),
        scenario,
        requires: None,
        expectations,
    }
}

fn dialect_id(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ga => "openai.ga",
        Dialect::Beta => "openai.beta",
    }
}

/// A case names a scenario that the bundled scenario lists do not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no bundled scenario has the id `{id}`")]
pub struct UnknownScenario {
    /// The id looked up (a cassette name, `gemini/audio-turn`).
    pub id: String,
}

/// The scenario in `scenarios` whose id is `id`. A scenario's id is the name
/// of the cassette it replays (`dashscope/vad-turn`), unique in its list; a
/// case finds its scenario by it rather than by its place in the list.
pub fn scenario_by_id(scenarios: &[Scenario], id: &str) -> Result<Scenario, UnknownScenario> {
    scenarios
        .iter()
        .find(|scenario| scenario.cassette == id)
        .cloned()
        .ok_or_else(|| UnknownScenario { id: id.into() })
}

/// Every bundled case, in report order; an error names a scenario a case
/// asks for that no bundled scenario list holds.
pub fn cases() -> Result<Vec<Case>, UnknownScenario> {
    let mut all = Vec::new();
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let d = dialect_id(dialect);
        all.push(case(
            &format!("{d}.text.turn"),
            "user text answered with audio and a matching transcript",
            scenario::text_turn(dialect),
            vec![
                ("spoken answer with transcript", has_audio_and_transcript),
                ("ends completed", ends_completed),
            ],
        ));
        all.push(case(
            &format!("{d}.audio.vad-turn"),
            "real speech detected by server VAD, committed and answered",
            scenario::audio_vad_turn(dialect),
            vec![
                ("VAD turn order", vad_turn),
                ("spoken answer with transcript", has_audio_and_transcript),
                ("ends completed", ends_completed),
            ],
        ));
        all.push(case(
            &format!("{d}.tool.round-trip"),
            "function call with JSON arguments, tool result, spoken follow-up",
            scenario::tool_round_trip(dialect),
            vec![
                ("tool round trip", tool_round_trip),
                ("ends completed", ends_completed),
            ],
        ));
    }
    all.push(case(
        "openai.ga.tool.spoken-round-trip",
        "a spoken question names a tool: function call, result, spoken answer",
        scenario::spoken_tool_round_trip(Dialect::Ga),
        vec![
            ("tool round trip", tool_round_trip),
            ("user transcribed", user_transcribed),
            ("ends completed", ends_completed),
        ],
    ));
    all.push(case(
        "openai.ga.barge-in",
        "user speech during a response cancels it (turn_detected) and the client truncates",
        scenario::barge_in(Dialect::Ga),
        vec![
            ("barge-in order", barge_in),
            ("new turn answered", ends_completed),
        ],
    ));
    all.push(case(
        "openai.ga.error.malformed-event",
        "malformed events get invalid_request_error events; the session stays usable",
        scenario::malformed_event(Dialect::Ga),
        vec![("errors answered, session usable", malformed_answered)],
    ));
    all.push(case(
        "openai.beta.retired",
        "a beta-shaped session is refused as today's service refuses it (error, close 4000)",
        scenario::beta_retired(),
        vec![("refused like the retired beta", beta_refused)],
    ));
    let mut image = case(
        "openai.beta.image-input",
        "a user image frame (the beta dialect has no image input)",
        scenario::text_turn(Dialect::Beta),
        vec![],
    );
    image.requires = Some(("image input", |c: &Capabilities| c.image_input));
    all.push(image);
    all.extend(live::live_cases()?);
    all.extend(dashscope_cases()?);
    all.extend(omni38::v38_cases()?);
    all.extend(qwen_audio::qwen_audio_cases()?);
    all.extend(gemini_cases()?);
    all.extend(gemini38::gemini38_cases()?);
    Ok(all)
}

fn gemini_cases() -> Result<Vec<Case>, UnknownScenario> {
    let scenarios = scenario::gemini_scenarios();
    let find = |id: &str| scenario_by_id(&scenarios, id);
    let mut all = vec![
        case(
            "gemini.audio.turn",
            "spoken question with input and output transcriptions, spoken answer, resumption handles",
            find("gemini/audio-turn")?,
            vec![
                ("user transcribed", user_transcribed),
                ("spoken answer with transcript", has_audio_and_transcript),
                ("ends completed", ends_completed),
                ("resumable", resumable),
            ],
        ),
        case(
            "gemini.text.turn",
            "a clientContent text turn answered in speech",
            find("gemini/text-turn")?,
            vec![("spoken answer with transcript", has_audio_and_transcript), ("ends completed", ends_completed)],
        ),
        case(
            "gemini.tool.round-trip",
            "a spoken question calls a tool; toolResponse; the same turn answers in speech",
            find("gemini/tool-round-trip")?,
            vec![("tool round trip in one turn", single_turn_tool_round_trip)],
        ),
        case(
            "gemini.tool.cancelled",
            "the user speaks while a tool call is pending: toolCallCancellation, interrupted, new turn answered",
            find("gemini/tool-cancelled")?,
            vec![("pending call cancelled", call_cancelled_by_speech)],
        ),
        case(
            "gemini.interrupted",
            "speech during an answer: interrupted then turnComplete; the new turn is answered",
            find("gemini/interrupted")?,
            vec![("interrupted then answered", interrupted_turn_then_answer)],
        ),
        {
            let mut resumed = case(
                "gemini.go-away.resumed",
                "goAway mid-conversation: the client resumes with its newest handle on a new connection; every turn is answered exactly once",
                find("gemini/go-away")?,
                vec![
                    ("every user turn answered exactly once, in order", each_turn_answered_once),
                    ("the conversation crossed a goAway", crossed_go_away),
                ],
            );
            resumed.requires = Some(("session resumption", |c: &Capabilities| c.resumption));
            resumed
        },
        case(
            "gemini.error.close",
            "an unsupported model: the session closes with 1008 and a reason",
            find("gemini/error-close")?,
            vec![("closed with 1008", closed_with_1008)],
        ),
    ];
    let mut truncate = case(
        "gemini.truncate",
        "truncating the model's audio to what was played",
        find("gemini/audio-turn")?,
        vec![],
    );
    truncate.requires = Some(("truncation", |c: &Capabilities| c.truncation));
    all.push(truncate);
    Ok(all)
}

fn dashscope_cases() -> Result<Vec<Case>, UnknownScenario> {
    let scenarios = scenario::dashscope_scenarios();
    let find = |id: &str| scenario_by_id(&scenarios, id);
    let mut all = vec![
        case(
            "dashscope.audio.vad-turn",
            "spoken question heard by server VAD, transcribed, answered in text and audio; session.finish",
            find("dashscope/vad-turn")?,
            vec![
                ("VAD turn order", vad_turn),
                ("user transcribed", user_transcribed),
                ("spoken answer with transcript", has_audio_and_transcript),
                ("finished cleanly", finished_cleanly),
            ],
        ),
        case(
            "dashscope.audio.manual-turn",
            "push-to-talk: commit and response.create, no VAD events; session.finish",
            find("dashscope/manual-turn")?,
            vec![("no VAD events", no_vad_events), ("spoken answer with transcript", has_audio_and_transcript), ("finished cleanly", finished_cleanly)],
        ),
        case(
            "dashscope.barge-in",
            "speech during a response interrupts it (no truncation on this dialect); the new turn is answered",
            find("dashscope/barge-in")?,
            vec![("interrupted", interrupted_without_truncation), ("new turn answered", ends_completed)],
        ),
        case(
            "dashscope.tool.round-trip",
            "qwen3.5: a spoken question calls a tool; result; spoken answer",
            find("dashscope/tool-round-trip")?,
            vec![("tool round trip", tool_round_trip), ("ends completed", ends_completed)],
        ),
        case(
            "dashscope.image.question",
            "a JPEG camera frame with a spoken question",
            find("dashscope/image-question")?,
            vec![("image acknowledged", image_acknowledged)],
        ),
        case(
            "dashscope.error.setup",
            "session.update answered by an error and never by session.updated",
            find("dashscope/setup-error")?,
            vec![("set-up refused", setup_refused)],
        ),
        case(
            "dashscope.session.finish",
            "session.finish → session.finished, then the server closes",
            find("dashscope/session-finish")?,
            vec![("finished cleanly", finished_cleanly)],
        ),
    ];
    // What the dialect cannot do is reported, not run.
    let mut text = case(
        "dashscope.text.turn",
        "a user text turn (Qwen-Omni realtime takes audio, not text)",
        find("dashscope/vad-turn")?,
        vec![],
    );
    text.requires = Some(("text input", |c: &Capabilities| c.text_input));
    let mut truncate = case(
        "dashscope.truncate",
        "truncating the assistant's audio to what was played",
        find("dashscope/vad-turn")?,
        vec![],
    );
    truncate.requires = Some(("truncation", |c: &Capabilities| c.truncation));
    let mut tools_on_flash = case(
        "dashscope.tool.flash",
        "function calling on qwen3-omni-flash",
        find("dashscope/vad-turn")?,
        vec![],
    );
    tools_on_flash.requires = Some(("function calling", |c: &Capabilities| c.tool_calls));
    all.extend([text, truncate, tools_on_flash]);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::{cases, scenario_by_id, UnknownScenario};

    #[test]
    fn a_missing_scenario_is_an_error_naming_its_id() {
        let scenarios = crate::scenario::gemini_scenarios();
        let found = scenario_by_id(&scenarios, "gemini/text-turn").map(|s| s.cassette);
        assert_eq!(found.as_deref(), Ok("gemini/text-turn"));
        let missing = scenario_by_id(&scenarios, "gemini/no-such-scenario").map(|s| s.cassette);
        let expected = UnknownScenario {
            id: "gemini/no-such-scenario".into(),
        };
        assert_eq!(missing, Err(expected.clone()));
        assert!(expected.to_string().contains("`gemini/no-such-scenario`"));
    }

    /// Which scenario each DashScope and Gemini case replays (the pairing the
    /// snapshots were reviewed against).
    #[test]
    fn each_case_replays_the_scenario_it_names() {
        let all = cases().expect("every scenario is bundled");
        let pairs: Vec<(&str, &str)> = all
            .iter()
            .filter(|c| !c.id.starts_with("openai."))
            .map(|c| (c.id.as_str(), c.scenario.cassette.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("dashscope.audio.vad-turn", "dashscope/vad-turn"),
                ("dashscope.audio.manual-turn", "dashscope/manual-turn"),
                ("dashscope.barge-in", "dashscope/barge-in"),
                ("dashscope.tool.round-trip", "dashscope/tool-round-trip"),
                ("dashscope.image.question", "dashscope/image-question"),
                ("dashscope.error.setup", "dashscope/setup-error"),
                ("dashscope.session.finish", "dashscope/session-finish"),
                ("dashscope.text.turn", "dashscope/vad-turn"),
                ("dashscope.truncate", "dashscope/vad-turn"),
                ("dashscope.tool.flash", "dashscope/vad-turn"),
                (
                    "dashscope.v38.tool.result-as-item",
                    "dashscope/v38-tool-round-trip"
                ),
                (
                    "dashscope.v38.session.finish",
                    "dashscope/v38-session-finish"
                ),
                ("dashscope.v38.text.turn", "dashscope/v38-session-finish"),
                ("dashscope.v38.truncate", "dashscope/v38-tool-round-trip"),
                (
                    "dashscope.qwen-audio.text.turn",
                    "dashscope/audio-text-turn"
                ),
                (
                    "dashscope.qwen-audio.spoken.turn",
                    "dashscope/audio-spoken-turn"
                ),
                (
                    "dashscope.qwen-audio.smart-turn.ambient",
                    "dashscope/audio-smart-turn"
                ),
                ("gemini.audio.turn", "gemini/audio-turn"),
                ("gemini.text.turn", "gemini/text-turn"),
                ("gemini.tool.round-trip", "gemini/tool-round-trip"),
                ("gemini.tool.cancelled", "gemini/tool-cancelled"),
                ("gemini.interrupted", "gemini/interrupted"),
                ("gemini.go-away.resumed", "gemini/go-away"),
                ("gemini.error.close", "gemini/error-close"),
                ("gemini.truncate", "gemini/audio-turn"),
                ("gemini.38.tool.non-blocking", "gemini/38-non-blocking"),
                ("gemini.38.tool.scheduling-interrupt", "gemini/38-interrupt"),
                ("gemini.38.tool.scheduling-silent", "gemini/38-silent"),
                (
                    "gemini.38.tool.blocking-cancelled",
                    "gemini/38-blocking-cancelled"
                ),
                (
                    "gemini.38.extended-thinking.interaction-status",
                    "gemini/38-extended-thinking"
                ),
            ]
        );
    }
}
