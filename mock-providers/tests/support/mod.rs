//! Helpers the mock's end-to-end tests share.
#![allow(dead_code)]

use std::time::Duration;
use tokio::time::timeout;
use understudy_adapters::{ModelEvent, RealtimeClient};

/// Reads events until one satisfies `stop` (inclusive), failing after 10 s.
pub async fn until(
    client: &mut RealtimeClient,
    stop: impl Fn(&ModelEvent) -> bool,
) -> Vec<ModelEvent> {
    let mut seen = Vec::new();
    loop {
        let kinds = |seen: &[ModelEvent]| seen.iter().map(ModelEvent::kind).collect::<Vec<_>>();
        let event = match timeout(Duration::from_secs(10), client.next_event()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("session ended; saw {:?}", kinds(&seen)),
            Err(_) => panic!("timed out; saw {:?}", kinds(&seen)),
        };
        let done = stop(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// Whether the event ends a response.
pub fn is_done(e: &ModelEvent) -> bool {
    matches!(e, ModelEvent::ResponseDone { .. })
}

/// What the model said, from its transcript deltas.
pub fn transcript(events: &[ModelEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TranscriptDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}
