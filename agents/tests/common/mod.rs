//! What the realtime agent's integration tests share: bundled clips spoken
//! into an agent, and reading its events with generous deadlines.
#![allow(dead_code)]

use std::time::Duration;
use tokio::time::timeout;
use understudy_adapters::ResponseStatus;
use understudy_agents::realtime::{AgentEvent, RealtimeAgent};
use understudy_mock::{EntryKind, SessionJournal};

pub const GEMINI: &str = "gemini-live-2.5-flash-preview";
pub const QWEN_FLASH: &str = "qwen3-omni-flash-realtime";
pub const WEATHER_Q: &str = "What is the weather like in Paris today?";

pub fn clip(name: &str) -> (Vec<u8>, u32) {
    understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
        .unwrap()
}

/// Sends a bundled clip and some trailing silence in 100 ms chunks.
pub async fn say(agent: &RealtimeAgent, name: &str, trailing_silence_ms: usize) {
    let (mut pcm, rate) = clip(name);
    pcm.extend(vec![0u8; rate as usize / 1000 * 2 * trailing_silence_ms]);
    let input = agent.input();
    for chunk in pcm.chunks(rate as usize / 10 * 2) {
        input.audio(chunk.to_vec(), rate).await.unwrap();
    }
}

pub fn kinds(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Reads events until one satisfies `stop` (inclusive); fails after 20 s or
/// if the agent stops.
pub async fn until(
    agent: &mut RealtimeAgent,
    mut stop: impl FnMut(&AgentEvent) -> bool,
) -> Vec<AgentEvent> {
    let mut seen = Vec::new();
    loop {
        let event = match timeout(Duration::from_secs(20), agent.next_event()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("agent stopped; saw {:?}", kinds(&seen)),
            Err(_) => panic!("timed out; saw {:?}", kinds(&seen)),
        };
        let done = stop(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

pub fn said(events: &[AgentEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::TranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

pub fn is_done(e: &AgentEvent) -> bool {
    matches!(e, AgentEvent::ResponseDone { .. })
}

/// Reads answers until one completes and returns what it said.
pub async fn next_answer(agent: &mut RealtimeAgent) -> (String, Vec<AgentEvent>) {
    let events = until(agent, |e| {
        matches!(
            e,
            AgentEvent::ResponseDone {
                status: ResponseStatus::Completed,
                ..
            }
        )
    })
    .await;
    let start = events
        .iter()
        .rposition(|e| matches!(e, AgentEvent::ResponseStarted { .. }))
        .unwrap_or(0);
    (said(&events[start..]), events)
}

pub fn client_labels(journal: &SessionJournal) -> Vec<&str> {
    journal
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Client)
        .map(|e| e.label.as_str())
        .collect()
}
