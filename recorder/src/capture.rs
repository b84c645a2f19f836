//! One session's recording: the proxy hands frames over as they pass (cheap
//! clones, no parsing on the forwarding path), and a writer task turns them
//! into a scrubbed cassette when the session ends.

use crate::endpoint::Endpoint;
use crate::latency::LatencySamples;
use crate::report::SessionSummary;
use crate::shared::Shared;
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use understudy_fixtures::{
    AudioRules, Cassette, Direction, Frame, FrameBody, Header, HttpRequest, HttpResponse, Origin,
    Scrubber,
};

/// What passed through the proxy, before it is parsed.
#[derive(Debug)]
pub(crate) enum Payload {
    /// A WebSocket text message.
    Text(Bytes),
    /// A WebSocket binary message.
    Binary(Bytes),
    /// A WebSocket close, with code and reason.
    Close(Option<(u16, String)>),
    /// An HTTP response (the upgrade's, or a plain exchange's with its chunks).
    Response(HttpResponse),
}

enum Captured {
    Frame {
        at: Instant,
        dir: Direction,
        payload: Payload,
    },
    Incomplete(String),
    Forwarded(Duration),
}

/// The recording side of one session; cloned into every task that sees its frames.
/// The cassette is written once every clone is dropped.
#[derive(Clone)]
pub(crate) struct Capture {
    tx: mpsc::UnboundedSender<Captured>,
    start: Instant,
}

impl Capture {
    /// Starts recording a session that began at `start` with `request` (as
    /// forwarded, credentials still in it: it is scrubbed by the writer).
    pub(crate) fn begin(
        shared: &Arc<Shared>,
        endpoint: Endpoint,
        request: HttpRequest,
        start: Instant,
    ) -> Capture {
        let (tx, rx) = mpsc::unbounded_channel();
        // Learn the credentials this session carries before anything is
        // forwarded (or logged), so every later trace of them can be scrubbed.
        let scrubber = shared.scrubber.learning_from(&request);
        shared.learned(&scrubber);
        let task = tokio::spawn(write_session(
            Arc::clone(shared),
            scrubber,
            endpoint,
            request,
            start,
            rx,
        ));
        shared.track(task);
        Capture { tx, start }
    }

    /// Microseconds from the session's start to `at`.
    pub(crate) fn micros(&self, at: Instant) -> u64 {
        micros_between(self.start, at)
    }

    /// Records a frame seen at `at`.
    pub(crate) fn frame(&self, at: Instant, dir: Direction, payload: Payload) {
        let _ = self.tx.send(Captured::Frame { at, dir, payload });
    }

    /// Marks the recording incomplete; the first reason given is kept.
    pub(crate) fn incomplete(&self, reason: impl Into<String>) {
        let _ = self.tx.send(Captured::Incomplete(reason.into()));
    }

    /// Notes how long forwarding one frame took.
    pub(crate) fn forwarded(&self, delay: Duration) {
        let _ = self.tx.send(Captured::Forwarded(delay));
    }
}

fn micros_between(start: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(start).as_micros()).unwrap_or(u64::MAX)
}

/// The cassette form of a WebSocket payload: JSON kept parsed when it is JSON.
fn body_of(payload: Payload) -> FrameBody {
    match payload {
        Payload::Text(bytes) => {
            FrameBody::from_ws_text(String::from_utf8_lossy(&bytes).into_owned())
        }
        Payload::Binary(bytes) => FrameBody::from_ws_binary(bytes.to_vec()),
        Payload::Close(close) => FrameBody::Close(
            close.map(|(code, reason)| understudy_fixtures::CloseFrame { code, reason }),
        ),
        Payload::Response(response) => FrameBody::HttpResponse(response),
    }
}

async fn write_session(
    shared: Arc<Shared>,
    scrubber: Scrubber,
    endpoint: Endpoint,
    request: HttpRequest,
    start: Instant,
    mut rx: mpsc::UnboundedReceiver<Captured>,
) {
    let mut frames = vec![Frame::new(
        0,
        Direction::ClientToServer,
        FrameBody::HttpRequest(request),
    )];
    let mut model = endpoint.model.clone();
    let mut incomplete: Option<String> = None;
    let mut latency = LatencySamples::default();
    while let Some(captured) = rx.recv().await {
        match captured {
            Captured::Frame { at, dir, payload } => {
                let frame = Frame::new(micros_between(start, at), dir, body_of(payload));
                if model.is_none() && frame.is_client() {
                    model = frame.json().and_then(|json| endpoint.model_in_frame(json));
                }
                frames.push(frame);
            }
            Captured::Incomplete(reason) => {
                incomplete.get_or_insert(reason);
            }
            Captured::Forwarded(delay) => latency.record(delay),
        }
    }
    frames.sort_by_key(|f| f.t_us);
    let mut header = Header::new(
        shared.provider.name,
        endpoint.dialect.clone(),
        model.unwrap_or_else(|| "unknown".into()),
        Origin::Recorded,
    );
    header.upstream = Some(shared.upstream.host());
    // The host is in `upstream`; the description stays the same across hosts
    // so that two recordings of one scenario compare equal.
    header.description = Some(format!(
        "{} session recorded by `understudy record`",
        endpoint.dialect
    ));
    header.incomplete = incomplete.is_some();
    header.incomplete_reason = incomplete.map(|r| scrubber.path(&scrubber.text(&r)));
    let mut cassette = Cassette::new(header);
    cassette.frames = frames;
    let scrubbed = scrubber.cassette(&mut cassette);
    let mut summary = SessionSummary {
        cassette: None,
        dialect: endpoint.dialect.clone(),
        model: cassette.header.model.clone(),
        complete: !cassette.header.incomplete,
        incomplete_reason: cassette.header.incomplete_reason.clone(),
        duration_ms: last_micros(&cassette.frames) as f64 / 1000.0,
        frames_c2s: cassette.frames.iter().filter(|f| f.is_client()).count(),
        frames_s2c: cassette.frames.iter().filter(|f| f.is_server()).count(),
        scrubbed: scrubbed.into_iter().collect(),
        added_latency: latency.summary(),
        write_error: None,
    };
    let stem = shared.allocate_name(&endpoint.dialect);
    let out = shared.out.clone();
    let rules = AudioRules::for_provider(shared.provider.name);
    let written = tokio::task::spawn_blocking(move || {
        write_checked(&out, &stem, &cassette, &rules, &scrubber).map(|()| stem)
    })
    .await;
    match written {
        Ok(Ok(stem)) => summary.cassette = Some(format!("{stem}.jsonl")),
        Ok(Err(error)) => summary.write_error = Some(error),
        Err(join) => summary.write_error = Some(format!("the writer task failed: {join}")),
    }
    shared.finish(summary);
}

/// When the last frame (or streamed body chunk) arrived, in µs since the start.
fn last_micros(frames: &[Frame]) -> u64 {
    frames
        .iter()
        .map(|frame| match &frame.body {
            FrameBody::HttpResponse(response) => response
                .chunks
                .iter()
                .map(|c| c.t_us)
                .max()
                .unwrap_or(frame.t_us)
                .max(frame.t_us),
            _ => frame.t_us,
        })
        .max()
        .unwrap_or(0)
}

/// Writes the cassette and reads back every file it made: if a named secret
/// survived scrubbing anywhere (a sidecar's audio bytes included), the files
/// are deleted rather than kept.
fn write_checked(
    out: &Path,
    stem: &str,
    cassette: &Cassette,
    rules: &AudioRules,
    scrubber: &Scrubber,
) -> Result<(), String> {
    let path = out.join(format!("{stem}.jsonl"));
    let header = cassette.write(&path, rules).map_err(|e| e.to_string())?;
    let mut files = vec![path];
    files.extend(header.audio.iter().map(|a| out.join(&a.file)));
    let leaked = files
        .iter()
        .any(|f| std::fs::read(f).map_or(true, |bytes| scrubber.leaks(&bytes)));
    if leaked {
        for file in &files {
            let _ = std::fs::remove_file(file);
        }
        return Err("a secret survived scrubbing, so the cassette was deleted".into());
    }
    Ok(())
}
