//! Grading is honest: a client that does not do what the cassette expects, or
//! events that differ from the reviewed snapshot, grade FAILED.

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
