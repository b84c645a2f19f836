//! `GET /__understudy/stream`: the journal's live feed as Server-Sent Events.
//!
//! Each event is named (`session`, `note`, `end`, and `frame` with
//! `?frames=1`) and carries one JSON object. A subscriber that falls more
//! than the journal's stream buffer behind gets a `lagged` event saying how
//! many it lost (`{"missed":N}`) and goes on from the oldest event still
//! buffered; a session never waits for a reader. A heartbeat comment
//! (`: heartbeat`) goes out every `?heartbeat=` seconds (default 15) so that
//! proxies and the page know the stream is alive. Past the journal's
//! subscriber cap ([`crate::journal::ReadLimits::max_subscribers`]) a new
//! subscriber gets 503 with `Retry-After` and a JSON error.

use crate::journal::{Received, Subscription};
use crate::state::{self, AppState};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;

/// Heartbeat interval unless `?heartbeat=` says otherwise, in seconds.
const DEFAULT_HEARTBEAT_SECS: u64 = 15;
/// Bounds on `?heartbeat=`, in seconds.
const HEARTBEAT_SECS: std::ops::RangeInclusive<u64> = 1..=300;

/// What a subscriber asked for, from the query.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    frames: bool,
    heartbeat: Duration,
}

fn options(query: Option<&str>) -> Result<Options, String> {
    let query = state::query_map(query);
    let frames = match query.get("frames").map(String::as_str) {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(other) => return Err(format!("`frames` must be 1 or 0, not `{other}`")),
    };
    let heartbeat = match query.get("heartbeat") {
        None => DEFAULT_HEARTBEAT_SECS,
        Some(value) => value
            .parse::<u64>()
            .ok()
            .filter(|s| HEARTBEAT_SECS.contains(s))
            .ok_or_else(|| {
                format!(
                    "`heartbeat` must be a whole number of seconds from 1 to 300, not `{value}`"
                )
            })?,
    };
    Ok(Options {
        frames,
        heartbeat: Duration::from_secs(heartbeat),
    })
}

/// The SSE event for what a subscriber received.
fn to_event(received: Received) -> Event {
    match received {
        Received::Event(event) => {
            let name = event.name();
            Event::default()
                .event(name)
                .json_data(&event)
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "a live event could not be serialised");
                    Event::default().event("error").data("unserialisable event")
                })
        }
        Received::Lagged(missed) => Event::default()
            .event("lagged")
            .data(format!("{{\"missed\":{missed}}}")),
    }
}

/// `GET /__understudy/stream?frames=&heartbeat=`.
pub(super) async fn stream(State(state): State<AppState>, request: Request) -> Response {
    let options = match options(request.uri().query()) {
        Ok(options) => options,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    match state.journal.try_subscribe(options.frames) {
        Ok(subscription) => sse(subscription, options.heartbeat),
        Err(full) => {
            tracing::warn!(max = full.max, "live stream subscriber refused: at the cap");
            crate::journal_routes::unavailable(&full.to_string(), "stream_subscribers_full", true)
        }
    }
}

/// A subscription as an SSE response, with a heartbeat every `heartbeat`.
fn sse(subscription: Subscription, heartbeat: Duration) -> Response {
    let events = futures_util::stream::unfold(subscription, |mut subscription| async move {
        let received = subscription.next().await?;
        Some((Ok::<_, Infallible>(to_event(received)), subscription))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{EntryKind, Journal, JournalCaps, JournalEntry, JournalMode};
    use futures_util::StreamExt;

    /// The next chunk of an SSE body, as text.
    async fn chunk(
        body: &mut (impl futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin),
    ) -> String {
        let bytes = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("a chunk within 5 s")
            .expect("the stream goes on")
            .expect("no body error");
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_lagging_subscriber_gets_a_lagged_event_then_the_rest() {
        let journal = Journal::with_stream_buffer(JournalMode::Summary, JournalCaps::default(), 2);
        let response = sse(journal.subscribe(false), Duration::from_secs(60));
        let session = journal.open("openai-ga", "gpt-realtime", "respond");
        for n in 0..5 {
            journal.record(
                session,
                JournalEntry {
                    t_ms: n,
                    kind: EntryKind::Note,
                    label: "vad".into(),
                    detail: format!("note {n}"),
                },
            );
        }
        let mut body = response.into_body().into_data_stream();
        // Six events into a buffer of two: four lost, and the reader told so.
        assert_eq!(
            chunk(&mut body).await,
            "event: lagged\ndata: {\"missed\":4}\n\n"
        );
        let next = chunk(&mut body).await;
        assert!(
            next.starts_with("event: note\ndata: {") && next.contains("\"note 3\""),
            "{next:?}"
        );
    }

    #[test]
    fn options_default_and_refuse_garbage() {
        assert_eq!(
            options(None),
            Ok(Options {
                frames: false,
                heartbeat: Duration::from_secs(15)
            })
        );
        assert_eq!(
            options(Some("frames=1&heartbeat=2")),
            Ok(Options {
                frames: true,
                heartbeat: Duration::from_secs(2)
            })
        );
        assert!(options(Some("frames=yes")).unwrap_err().contains("frames"));
        assert!(options(Some("heartbeat=0"))
            .unwrap_err()
            .contains("heartbeat"));
    }
}
