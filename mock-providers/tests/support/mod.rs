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

/// A raw WebSocket to the mock, for checking exact frames.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A frame as a raw client sees it.
#[derive(Debug)]
pub enum Frame {
    /// A text or binary frame holding JSON.
    Json(serde_json::Value),
    /// A close frame: code and reason.
    Close(u16, String),
}

/// Connects a raw WebSocket to `url` with extra request `headers`.
pub async fn raw_connect(url: &str, headers: &[(&'static str, &str)]) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next JSON or close frame (pings and pongs skipped), failing after 10 s.
pub async fn next_frame(socket: &mut Socket) -> Frame {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is still open")
            .expect("a readable frame");
        match message {
            Message::Text(text) => return Frame::Json(serde_json::from_str(&text).unwrap()),
            Message::Binary(data) => return Frame::Json(serde_json::from_slice(&data).unwrap()),
            Message::Close(frame) => {
                return frame.map_or(Frame::Close(1005, String::new()), |f| {
                    Frame::Close(u16::from(f.code), f.reason.to_string())
                })
            }
            _ => {}
        }
    }
}

/// Unix time now, in fractional seconds.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Asserts `expires_at` is a connection's start (between `before` and now)
/// plus `limit`, rounded up to whole seconds.
pub fn assert_expires_at(expires_at: &serde_json::Value, before: f64, limit: f64) {
    let after = unix_now();
    let at = expires_at.as_i64().expect("expires_at is an integer");
    let (low, high) = (
        (before + limit).ceil() as i64,
        (after + limit).ceil() as i64,
    );
    assert!(
        (low..=high).contains(&at),
        "expires_at {at} not in {low}..={high}"
    );
}
