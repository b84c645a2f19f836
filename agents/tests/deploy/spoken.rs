//! A spoken session: a front end speaks and hears the agent, at the rate
//! its `format` names.

use crate::support::*;
use serde_json::json;
use understudy_mock::EntryKind;

#[tokio::test]
async fn a_front_end_speaks_and_hears_the_agent() {
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    let mut socket = open(&server, "alice", "s1").await;
    let opened = create(&mut socket, Some("openai")).await;
    assert_eq!(
        opened[0],
        json!({"type": "server_session_created", "session_id": "s1", "model_provider": "openai"})
    );
    assert_eq!(server.sessions().len(), 1);
    assert_eq!(server.sessions()[0].user_id, "alice");

    // OpenAI hears 24 kHz; the front end says so and no resampling happens.
    say(&mut socket, "user-weather-24k.wav", true).await;
    let answer = next_answer(&mut socket).await;
    assert_eq!(answer.said, format!("You said: {WEATHER_Q}"));
    assert!(
        answer.audio_bytes >= 48_000,
        "a second or more of 24 kHz audio, got {} bytes",
        answer.audio_bytes
    );
    let kinds = types(&answer.events);
    for kind in [
        "agent_input_started",
        "agent_response_created",
        "agent_response_audio_delta",
        "agent_response_audio_transcript_delta",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let done = answer.events.last().unwrap();
    assert_eq!(done["metadata"]["status"], "completed", "{done}");
    assert!(answer
        .events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("agent_"))
        .all(|e| e["agent_name"] == "Friday" && e["agent_id"] == opened[1]["agent_id"]));
    let transcript_done = answer
        .events
        .iter()
        .find(|e| e["type"] == "agent_response_audio_transcript_done")
        .expect("transcript done");
    assert_eq!(transcript_done["transcript"], answer.said.as_str());
    // The user's own words come back too (on OpenAI possibly after the answer).
    let user = match answer
        .events
        .iter()
        .find(|e| e["type"] == "agent_input_transcription_done")
    {
        Some(event) => event.clone(),
        None => until(&mut socket, "agent_input_transcription_done")
            .await
            .pop()
            .unwrap(),
    };
    assert_eq!(user["transcript"], WEATHER_Q);

    end(&mut socket).await;
    assert!(server.sessions().is_empty());
    // The socket outlives the session: a new one can be created on it.
    create(&mut socket, None).await;
    send(
        &mut socket,
        json!({"type": "client_text_append", "text": "Hello there"}),
    )
    .await;
    assert_eq!(next_answer(&mut socket).await.said, "You said: Hello there");
    drop(socket);
    server.shutdown().await;
}

#[tokio::test]
async fn the_rate_in_format_is_honoured() {
    // AgentScope's server ignored `format.rate` and forwarded the bytes as
    // they were. Here the agent resamples from the stated rate: 24 kHz audio
    // labelled as such reaches DashScope (16 kHz) at 16 kHz. The mock's
    // pitch check tells the two apart; the same clip unlabelled (assumed to
    // be the front end's 16 kHz) arrives unchanged and sounds too low.
    let mock = mock(8.0).await;
    let server = deploy(&mock).await;
    for (n, labelled) in [true, false].into_iter().enumerate() {
        let mut socket = open(&server, "bob", &format!("s{n}")).await;
        create(&mut socket, Some("dashscope")).await;
        say(&mut socket, "user-weather-24k.wav", labelled).await;
        let answer = next_answer(&mut socket).await;
        assert!(!answer.said.is_empty() && answer.audio_bytes > 0);
        end(&mut socket).await;
        let journal = &mock.journal()[n];
        let notes: Vec<&str> = journal
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Note && e.label.starts_with("input_rate"))
            .map(|e| e.label.as_str())
            .collect();
        let expected = if labelled {
            "input_rate.ok"
        } else {
            "input_rate.suspicious"
        };
        assert_eq!(notes, [expected], "labelled: {labelled}");
    }
    server.shutdown().await;
}
