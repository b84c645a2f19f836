//! The GPT-Live mock driven by the understudy adapter (the registry's
//! `openai-live` dialect and its codec), so the two sides of the dialect are
//! checked against each other over a real socket: the session starts, a
//! spoken request becomes a delegation reported as a tool call, the tool
//! result goes back as commentary and is spoken, and the session ends with
//! `session.closed`.

mod support;

use support::until;
use understudy_adapters::registry::{self, ConnectOptions};
use understudy_adapters::{ClientInput, ModelEvent, Pcm, SessionConfig};
use understudy_mock::{MockServer, ResponderConfig};

async fn server() -> MockServer {
    let config = ResponderConfig::with_voice(understudy_mock::bundled_voice().unwrap());
    MockServer::builder().respond(config).start().await.unwrap()
}

fn clip(name: &str) -> Vec<u8> {
    let wav = understudy_fixtures::bundled::audio(name).unwrap();
    understudy_fixtures::wav::read_pcm16(wav).unwrap().0
}

/// Streams `pcm` then `silence_ms` of silence in 100 ms chunks.
async fn stream(client: &mut understudy_adapters::RealtimeClient, pcm: &[u8], silence_ms: usize) {
    let mut audio = pcm.to_vec();
    audio.extend(vec![0u8; 48 * silence_ms]);
    for chunk in audio.chunks(4800) {
        let input = ClientInput::Audio {
            pcm: Pcm(chunk.to_vec()),
            sample_rate: 24_000,
        };
        client.send(&input).await.unwrap();
    }
}

#[tokio::test]
async fn the_adapter_and_the_mock_agree_on_a_delegated_turn() {
    let server = server().await;
    let dialect = registry::dialect("openai-live").unwrap();
    let options =
        ConnectOptions::new(dialect, server.openai_base_url(), "gpt-live-1").api_key("sk-test");
    let mut client = registry::connect(&options).await.unwrap();
    let config = SessionConfig {
        instructions: Some("Be brief.".into()),
        ..Default::default()
    };
    client.send(&ClientInput::Session(config)).await.unwrap();
    let started = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionCreated { .. })
    })
    .await;
    assert!(
        started
            .iter()
            .all(|e| !matches!(e, ModelEvent::Error { .. })),
        "{started:?}"
    );

    stream(&mut client, &clip("user-order-24k.wav"), 2500).await;
    let events = until(&mut client, |e| matches!(e, ModelEvent::ToolCall { .. })).await;
    let heard: String = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::InputTranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(heard, "Can you check the status of order A seventeen?");
    let Some(ModelEvent::ToolCall { call_id, name, .. }) = events.last().cloned() else {
        unreachable!()
    };
    assert!(events.iter().any(|e| matches!(e,
        ModelEvent::DelegationCreated { delegation_id, target, .. } if *delegation_id == call_id && target == "client")));

    let result = ClientInput::ToolResult {
        call_id: call_id.clone(),
        name,
        output: "Order A17 shipped yesterday.".into(),
        scheduling: None,
    };
    client.send(&result).await.unwrap();
    stream(&mut client, &[], 4000).await;
    let spoken = until(
        &mut client,
        |e| matches!(e, ModelEvent::TranscriptDelta { delta, .. } if delta.contains("yesterday")),
    )
    .await;
    assert!(spoken
        .iter()
        .any(|e| matches!(e, ModelEvent::AudioDelta { .. })));

    client.send(&ClientInput::EndSession).await.unwrap();
    let ended = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    assert!(
        ended.iter().all(|e| !matches!(e, ModelEvent::Error { .. })),
        "{ended:?}"
    );
    let journal = server.journal();
    assert_eq!(journal[0].dialect, "openai-live");
}
