//! Grading is honest: a client that does not do what the cassette expects, or
//! events that differ from the reviewed snapshot, grade FAILED.

mod support;

use support::{case, failed_names, fast};
use understudy_conformance::{cases, render, run_case, Format, Grade, RunOptions};

#[tokio::test]
async fn a_run_against_the_wrong_cassette_fails_with_reasons() {
    let mut case = cases()
        .expect("the catalogue finds every scenario")
        .into_iter()
        .find(|c| c.id == "openai.ga.text.turn")
        .unwrap();
    case.scenario.cassette = "openai/ga-tool-round-trip".into();
    let result = run_case(
        &case,
        &RunOptions {
            speed: 8.0,
            filter: None,
        },
    )
    .await;
    assert_eq!(result.grade, Grade::Failed);
    let failed: Vec<&str> = result
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.contains(&"snapshot"), "{failed:?}");
    assert!(
        failed.contains(&"spoken answer with transcript"),
        "{failed:?}"
    );
    let junit = render(std::slice::from_ref(&result), Format::Junit);
    assert!(junit.contains("<failure"), "{junit}");
    assert!(!understudy_conformance::passed(&[result]));
}

#[tokio::test]
async fn unimplemented_cases_do_not_run_and_do_not_fail_the_suite() {
    let case = cases()
        .expect("the catalogue finds every scenario")
        .into_iter()
        .find(|c| c.id == "openai.beta.image-input")
        .unwrap();
    let result = run_case(&case, &RunOptions::default()).await;
    assert_eq!(result.grade, Grade::Unimplemented);
    assert!(result.evidence.is_none());
    assert!(understudy_conformance::passed(&[result]));
}

#[test]
fn every_runnable_case_has_a_bundled_cassette_and_a_reviewed_snapshot() {
    let bundled = understudy_fixtures::bundled::cassette_names();
    for case in cases()
        .expect("the catalogue finds every scenario")
        .iter()
        .filter(|c| c.requires.is_none())
    {
        for cassette in std::iter::once(&case.scenario.cassette).chain(&case.scenario.continued_in)
        {
            assert!(
                bundled.contains(&cassette.as_str()),
                "{}: no cassette {cassette}",
                case.id
            );
        }
        assert!(
            understudy_conformance::replay::reviewed_snapshot(&case.id).is_some(),
            "{}: no snapshot",
            case.id
        );
    }
}

#[tokio::test]
async fn equivalence_fails_when_the_streams_really_differ() {
    use understudy_conformance::equivalence::{compare, equivalences};
    let options = RunOptions {
        speed: 8.0,
        filter: None,
    };
    let all = cases().expect("the catalogue finds every scenario");
    let find = |id: &str| all.iter().find(|c| c.id == id).unwrap().clone();
    let openai = find("openai.ga.audio.vad-turn");
    let dashscope = find("dashscope.audio.vad-turn");
    let unrelated = find("dashscope.audio.manual-turn");
    let caps = |c: &understudy_conformance::Case| c.scenario.capabilities();
    let (a, b, c) = (
        run_case(&openai, &options).await,
        run_case(&dashscope, &options).await,
        run_case(&unrelated, &options).await,
    );
    let pair = &equivalences()[0];
    let same = compare(pair, &a, &b, [&caps(&openai), &caps(&dashscope)]);
    assert_eq!(same.grade, Grade::Ok, "{:?}", same.reason);
    assert!(
        same.checks[0].detail.contains("input_format"),
        "the ignored capability difference is named: {}",
        same.checks[0].detail
    );
    let different = compare(pair, &a, &c, [&caps(&openai), &caps(&unrelated)]);
    assert_eq!(different.grade, Grade::Failed);
    assert!(
        different.reason.unwrap().contains("conversation"),
        "the first difference is reported"
    );

    // Gemini: its missing VAD events are set aside by capability, and only those.
    let gemini_pair = equivalences()
        .into_iter()
        .find(|e| e.id == "cross.audio-question.gemini")
        .unwrap();
    let gemini = find("gemini.audio.turn");
    let gemini_text = find("gemini.text.turn");
    let (g, t) = (
        run_case(&gemini, &options).await,
        run_case(&gemini_text, &options).await,
    );
    let agreed = compare(&gemini_pair, &a, &g, [&caps(&openai), &caps(&gemini)]);
    assert_eq!(agreed.grade, Grade::Ok, "{:?}", agreed.reason);
    assert!(
        agreed.checks[0]
            .detail
            .contains("speech_started (capabilities: vad_events"),
        "{}",
        agreed.checks[0].detail
    );
    let text_instead = compare(&gemini_pair, &a, &t, [&caps(&openai), &caps(&gemini_text)]);
    assert_eq!(
        text_instead.grade,
        Grade::Failed,
        "a typed question is not the spoken one"
    );
}

/// The `goAway` case fails a client that keeps one connection: its next turn
/// goes to the connection that is going away, is never answered, and the
/// connection closes when the announced time is up.
#[tokio::test]
async fn a_client_that_does_not_resume_loses_its_turn_and_fails_the_go_away_case() {
    let mut case = cases()
        .expect("the catalogue finds every scenario")
        .into_iter()
        .find(|c| c.id == "gemini.go-away.resumed")
        .unwrap();
    let options = RunOptions {
        speed: 8.0,
        filter: None,
    };
    let resuming = run_case(&case, &options).await;
    assert_eq!(resuming.grade, Grade::Ok, "{:?}", resuming.reason);

    case.scenario.resume = false;
    let plain = run_case(&case, &options).await;
    assert_eq!(plain.grade, Grade::Failed);
    let reason = plain.reason.unwrap_or_default();
    assert!(
        reason.contains("session ended while waiting for `response_done`"),
        "the lost turn is why: {reason}"
    );
}

/// The speaking cases fail a pipeline that reads markup aloud.
#[tokio::test]
async fn a_speaker_that_keeps_markup_fails_the_markup_case() {
    use std::sync::Arc;
    use understudy_adapters::text::{FilterPolicy, Policy};
    use understudy_conformance::tts::{markup_case, targets};
    let server = understudy_mock::MockServer::builder()
        .respond(understudy_mock::ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .start()
        .await
        .unwrap();
    let target = &targets()[0];
    let engine = (target.build)(&server).unwrap();
    let filtering = understudy_agents::Speaker::new(Arc::clone(&engine));
    let ok = markup_case("ok".into(), target, &filtering).await;
    assert_eq!(ok.grade, Grade::Ok, "{:?}", ok.reason);
    let keeping =
        understudy_agents::Speaker::new(engine).filter(FilterPolicy::uniform(Policy::Keep));
    let failed = markup_case("keeps".into(), target, &keeping).await;
    assert_eq!(failed.grade, Grade::Failed);
    assert!(
        failed.reason.as_deref().unwrap_or("").contains("heard"),
        "{:?}",
        failed.reason
    );
}

/// A GPT-Live client that answers a delegation it was never given (the
/// result goes back as commentary for another delegation id) fails the
/// delegation case: the service places the result, but for the wrong
/// delegation, and the check says so. The same case passes with the client
/// that answers the delegation it got.
#[tokio::test]
async fn a_client_answering_the_wrong_delegation_fails_the_live_tool_case() {
    use understudy_adapters::ClientInput;
    use understudy_conformance::scenario::Step;
    let case = case("openai.live.tool.delegation");
    let right = run_case(&case, &fast()).await;
    assert_eq!(right.grade, Grade::Ok, "{:?}", right.reason);

    let mut wrong = case.clone();
    let answer = wrong
        .scenario
        .steps
        .iter()
        .position(|s| matches!(s, Step::AnswerLastToolCall { .. }))
        .expect("the case answers its delegation");
    wrong.scenario.steps[answer] = Step::Send(ClientInput::ToolResult {
        call_id: "item_not_the_delegation".into(),
        name: "delegate".into(),
        output: understudy_conformance::scenario::live::ORDER_RESULT.into(),
        scheduling: None,
    });
    let result = run_case(&wrong, &fast()).await;
    assert_eq!(result.grade, Grade::Failed);
    let failed = failed_names(&result);
    assert!(failed.contains(&"delegation answered"), "{failed:?}");
    assert!(failed.contains(&"snapshot"), "{failed:?}");
    let why = &result
        .checks
        .iter()
        .find(|c| c.name == "delegation answered")
        .unwrap()
        .detail;
    assert!(why.contains("item_not_the_delegation"), "{why}");
}

/// A GPT-Live client that never answers the delegation fails the case: the
/// result is never placed, however long the client keeps streaming.
#[tokio::test]
async fn a_client_that_never_answers_the_delegation_fails_the_live_tool_case() {
    use understudy_conformance::scenario::Step;
    let mut case = case("openai.live.tool.delegation");
    case.scenario
        .steps
        .retain(|s| !matches!(s, Step::AnswerLastToolCall { .. }));
    let result = run_case(&case, &fast()).await;
    assert_eq!(result.grade, Grade::Failed);
    let reason = result.reason.unwrap_or_default();
    assert!(
        reason.contains("delegation_result") && reason.contains("silence"),
        "the unanswered delegation is why: {reason}"
    );
}

/// The barge-in case on a recording of a model that talks on after the user
/// barged in (its voice goes on under every word the user says): no
/// interruption is inferred — the user's words were a backchannel — and the
/// case fails its barge-in check, through the same replay, adapter and
/// graders as the bundled recording, which passes.
#[tokio::test]
async fn a_model_that_talks_on_over_the_user_fails_the_live_barge_in_case() {
    use understudy_conformance::scenario::{Step, Until};
    use understudy_fixtures::{Direction, Frame};
    let case = case("openai.live.barge-in");
    // The bundled recording passes, snapshot and all: the replay sends the
    // model's output where the client's own audio is (GPT-Live's clock is
    // the input audio), so the interrupting turn splits the same way however
    // the client's silence streaming is paced beside the other tests here.
    let right = run_case(&case, &fast()).await;
    assert_eq!(right.grade, Grade::Ok, "{:?}", right.reason);
    assert!(
        !failed_names(&right).contains(&"inferred barge-in"),
        "{:?}",
        right.reason
    );

    let name = case.scenario.cassette.clone();
    let mut cassette = understudy_fixtures::bundled::cassette(&name).unwrap();
    let is =
        |f: &Frame, kind: &str| f.dir == Direction::ServerToClient && f.event_type() == Some(kind);
    let voiced = |f: &Frame| {
        f.json()
            .and_then(|j| j["delta"].as_str())
            .and_then(|d| understudy_adapters::Pcm::from_base64(d).ok())
            .is_some_and(|pcm| pcm.samples().any(|s| s.unsigned_abs() > 1_000))
    };
    let barged = cassette
        .frames
        .iter()
        .position(|f| {
            is(f, "session.input_transcript.delta")
                && f.json().is_some_and(|j| j["delta"] == "Wait,")
        })
        .expect("the user barges in");
    // Where the model's voice was cut: its last voiced chunk before the
    // user's first word arrived (the microphone heard the user before the
    // transcript came, and the recorded model fell silent then).
    let cut = cassette.frames[..barged]
        .iter()
        .rposition(|f| is(f, "session.output_audio.delta") && voiced(f))
        .expect("the model was speaking");
    let voice = cassette.frames[cut].json().cloned().unwrap();
    // The voice goes on from there under every word the user says, until the
    // model's next words (its answer to them).
    let answered = barged
        + cassette.frames[barged..]
            .iter()
            .position(|f| is(f, "session.output_transcript.delta"))
            .expect("the model answers the user");
    let mut talked_on = 0;
    for frame in cassette.frames[cut + 1..answered].iter_mut() {
        if is(frame, "session.output_audio.delta") {
            *frame = Frame::text_json(frame.t_us, frame.dir, voice.clone());
            talked_on += 1;
        }
    }
    assert!(talked_on > 20, "{talked_on} chunks");
    // A client that takes what comes: it waits for no interruption, and for
    // the one reply there then is rather than two.
    let mut talked_over = case.clone();
    let steps = &mut talked_over.scenario.steps;
    steps.retain(|s| !matches!(s, Step::Listen(Until::Event("interrupted"))));
    let second_reply = steps
        .iter()
        .rposition(|s| matches!(s, Step::Listen(Until::Event("response_done"))))
        .expect("the case waits for its replies");
    steps.remove(second_reply);
    // That client, on the bundled recording, sees the interruption: what
    // fails below is the recording's model talking on, not the client.
    let control = run_case(&talked_over, &fast()).await;
    assert!(
        control
            .checks
            .iter()
            .any(|c| c.name == "inferred barge-in" && c.passed),
        "{:?}",
        control.reason
    );
    let result =
        understudy_conformance::run_case_on(&talked_over, &fast(), Some(vec![(name, cassette)]))
            .await;
    assert_eq!(result.grade, Grade::Failed);
    let failed = failed_names(&result);
    assert!(
        failed.contains(&"inferred barge-in"),
        "{failed:?} {:?}",
        result.reason
    );
    assert!(failed.contains(&"snapshot"), "{failed:?}");
    let events = &result.evidence.as_ref().unwrap().events;
    assert!(
        !events.to_string().contains("\"type\":\"interrupted\""),
        "no interruption is inferred when the model talks on"
    );
}

/// GPT-Live in the equivalences: its spoken answer agrees with OpenAI GA's
/// once what inferred turns explain is set aside (and says so); its tool
/// equivalence is not compared, since its calls are delegated.
#[tokio::test]
async fn gpt_live_agrees_with_ga_on_a_spoken_question_and_its_tool_equivalence_is_unimplemented() {
    use understudy_conformance::equivalence::{compare, equivalences, missing};
    let all = cases().expect("the catalogue finds every scenario");
    let find = |id: &str| all.iter().find(|c| c.id == id).unwrap().clone();
    let caps = |c: &understudy_conformance::Case| c.scenario.capabilities();
    let pair = equivalences()
        .into_iter()
        .find(|e| e.id == "cross.audio-question.live")
        .unwrap();
    let (ga, live) = (
        find("openai.ga.audio.vad-turn"),
        find("openai.live.audio.turn"),
    );
    let (a, b) = (run_case(&ga, &fast()).await, run_case(&live, &fast()).await);
    let agreed = compare(&pair, &a, &b, [&caps(&ga), &caps(&live)]);
    assert_eq!(agreed.grade, Grade::Ok, "{:?}", agreed.reason);
    assert!(
        agreed.checks[0]
            .detail
            .contains("capabilities: inferred_turns"),
        "{}",
        agreed.checks[0].detail
    );
    // A different question on GPT-Live does not agree.
    let other = find("openai.live.tool.delegation");
    let c = run_case(&other, &fast()).await;
    let differs = compare(&pair, &a, &c, [&caps(&ga), &caps(&other)]);
    assert_eq!(differs.grade, Grade::Failed);

    let tools = equivalences()
        .into_iter()
        .find(|e| e.id == "cross.tool.delegation.live")
        .unwrap();
    let why = missing(
        &tools,
        [
            &caps(&find("openai.ga.tool.spoken-round-trip")),
            &caps(&other),
        ],
    )
    .expect("GPT-Live lacks named tool calls");
    assert!(
        why.contains("openai-live") && why.contains("delegated"),
        "{why}"
    );
    assert_eq!(
        missing(
            &tools,
            [
                &caps(&find("openai.ga.tool.spoken-round-trip")),
                &caps(&find("dashscope.tool.round-trip"))
            ]
        ),
        None
    );
}
