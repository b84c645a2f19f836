//! A debate over real agents: two RealtimeAgents on different providers
//! (OpenAI, DashScope) take turns in a room against the in-process mock.

use crate::support::*;
use understudy_adapters::{dashscope, openai, SessionConfig, TurnDetection};
use understudy_agents::realtime::{AgentConfig, AgentEvent, RealtimeAgent, ToolRegistry};
use understudy_agents::room::{ChatRoom, OverflowPolicy, RealtimeMember, RoomEvent, RoundRobin};
use understudy_mock::{MockServer, ResponderConfig};

const QWEN_FLASH: &str = "qwen3-omni-flash-realtime";

fn manual() -> AgentConfig {
    AgentConfig::new(SessionConfig {
        turn_detection: Some(TurnDetection::Manual),
        ..Default::default()
    })
}

#[tokio::test]
async fn two_agents_on_different_providers_debate_three_turns_each() {
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .start()
        .await
        .unwrap();
    let openai = RealtimeAgent::start(
        openai::connect_options(
            server.openai_base_url(),
            openai::Dialect::Ga,
            "gpt-realtime",
        )
        .api_key("sk-test"),
        manual(),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    let qwen = RealtimeAgent::start(
        dashscope::connect_options(server.dashscope_url(), QWEN_FLASH).api_key("sk-test"),
        manual(),
        ToolRegistry::new(),
    )
    .await
    .unwrap();
    assert_eq!(qwen.capabilities().input_sample_rate, 16_000);
    let mut room = ChatRoom::builder()
        .config(config(4096, OverflowPolicy::DropOldest, 20_000))
        .turns(RoundRobin::new())
        .member("pro", RealtimeMember::new(openai))
        .member("contra", RealtimeMember::new(qwen))
        .start()
        .unwrap();
    // The user opens the debate (both hear it); the first commit gives the
    // floor to the first member.
    let (clip, rate) = understudy_fixtures::wav::read_pcm16(
        understudy_fixtures::bundled::audio("user-weather-24k.wav").unwrap(),
    )
    .unwrap();
    for chunk in clip.chunks(rate as usize / 10 * 2) {
        room.input().audio(chunk.to_vec(), rate).await.unwrap();
    }
    room.input().commit().await.unwrap();
    let events = until(&mut room, 60, count_turns(6)).await;
    assert_eq!(
        turns_of(&events),
        finished(&["pro", "contra", "pro", "contra", "pro", "contra"]),
        "{}",
        brief(&events)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RoomEvent::OutOfTurn { .. } | RoomEvent::Overflow { .. })),
        "{}",
        brief(&events)
    );
    // Every turn was spoken, and each answered what it heard: the user's clip
    // first, then the other agent's audio (the mock answers unrecognised
    // audio by its length).
    let mut said: Vec<(String, String)> = Vec::new();
    for event in &events {
        if let RoomEvent::Member {
            member,
            event: AgentEvent::TranscriptDone { text, .. },
        } = event
        {
            said.push((member.to_string(), text.clone()));
        }
    }
    assert_eq!(said.len(), 6, "{said:?}");
    // The first speaker (OpenAI, 24 kHz input) heard the user's clip sample
    // for sample, so the mock recognised it; the others heard an agent.
    assert_eq!(
        said[0].1,
        "You said: What is the weather like in Paris today?"
    );
    for (who, text) in &said[1..] {
        assert!(text.starts_with("I heard "), "{who}: {text}");
    }
    // Each answer after the first heard the previous speaker's whole answer:
    // at least as many seconds as the previous speaker spoke.
    let audio_ms = |member: &str, turn: usize| -> f64 {
        let mut n = 0;
        let mut bytes = 0usize;
        let mut rate = 24_000;
        let mut inside = false;
        for e in &events {
            match e {
                RoomEvent::TurnStarted { member: m, .. } if *m == member => {
                    n += 1;
                    inside = n == turn;
                }
                RoomEvent::TurnEnded { .. } => inside = false,
                RoomEvent::Member {
                    member: m,
                    event:
                        AgentEvent::Audio {
                            pcm, sample_rate, ..
                        },
                } if inside && *m == member => {
                    bytes += pcm.0.len();
                    rate = *sample_rate;
                }
                _ => {}
            }
        }
        bytes as f64 / 2.0 / f64::from(rate) * 1000.0
    };
    let heard_secs = |text: &str| -> f64 {
        text.trim_start_matches("I heard ")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let clip_secs = clip.len() as f64 / 2.0 / f64::from(rate);
    let order = ["pro", "contra", "pro", "contra", "pro", "contra"];
    for i in 1..6 {
        let (prev, turn) = (order[i - 1], (i - 1) / 2 + 1);
        let mut spoken = audio_ms(prev, turn) / 1000.0;
        if i == 1 {
            // contra heard the user too: the clip was still in its input.
            spoken += clip_secs;
        }
        let heard = heard_secs(&said[i].1);
        assert!(spoken > 0.5, "{prev} spoke in turn {turn}");
        // The mock reports tenths of a second; resampling 24 → 16 kHz keeps
        // the length.
        assert!(
            (heard - spoken).abs() <= 0.15,
            "{} heard {heard} s; {prev} spoke {spoken:.2} s",
            order[i]
        );
    }
    let rest = room.close().await;
    assert_eq!(rest.last(), Some(&RoomEvent::Closed));
}
