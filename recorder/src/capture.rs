//! One session's recording: the proxy hands frames over as they pass (cheap
//! clones, no parsing on the forwarding path) through a bounded queue (see
//! `write_queue`: when the writer falls behind, the proxy waits rather than
//! buffering without bound or dropping frames), and a writer task scrubs them
//! (across frame boundaries too) and streams them to `<stem>.jsonl.partial`
//! as they come, so memory holds a few frames, not the session; when the
//! session ends the cassette gets its header and final name.

use crate::endpoint::Endpoint;
use crate::latency::LatencySamples;
use crate::report::SessionSummary;
use crate::shared::Shared;
use crate::write_queue::{QueueReceiver, QueueSender};
use bytes::Bytes;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use understudy_fixtures::stream_write::scan_file;
use understudy_fixtures::{
    AudioRules, CassetteWriter, Direction, Frame, FrameBody, Header, HttpRequest, HttpResponse,
    Origin, Scrubber, StreamScrubber,
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

impl Payload {
    /// Roughly how many bytes of memory it holds: what the write queue's
    /// byte budget counts.
    fn size(&self) -> usize {
        match self {
            Payload::Text(bytes) | Payload::Binary(bytes) => bytes.len(),
            Payload::Close(close) => close.as_ref().map_or(0, |(_, reason)| reason.len()),
            Payload::Response(response) => {
                let body = match &response.body {
                    Some(understudy_fixtures::HttpBody::Json(json)) => json.to_string().len(),
                    Some(understudy_fixtures::HttpBody::Text(text)) => text.len(),
                    Some(understudy_fixtures::HttpBody::Bytes(bytes)) => bytes.len(),
                    None => 0,
                };
                let chunks: usize = response
                    .chunks
                    .iter()
                    .map(|chunk| match &chunk.data {
                        understudy_fixtures::ChunkData::Text(text) => text.len(),
                        understudy_fixtures::ChunkData::Bytes(bytes) => bytes.len(),
                    })
                    .sum();
                body + chunks
            }
        }
    }
}

/// A frame on its way to the writer.
struct Captured {
    at: Instant,
    dir: Direction,
    payload: Payload,
}

/// What a session's clones tell the writer besides frames: kept beside the
/// queue so that they never wait for it.
#[derive(Default)]
struct Notes {
    /// The first reason the recording is incomplete.
    incomplete: Option<String>,
    /// How long forwarding each frame took.
    latency: LatencySamples,
}

/// The recording side of one session; cloned into every task that sees its frames.
/// The cassette is written once every clone is dropped.
#[derive(Clone)]
pub(crate) struct Capture {
    tx: QueueSender<Captured>,
    notes: Arc<Mutex<Notes>>,
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
        let (tx, rx) = shared.write_queue();
        let notes = Arc::new(Mutex::new(Notes::default()));
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
            (rx, Arc::clone(&notes)),
        ));
        shared.track(task);
        Capture { tx, notes, start }
    }

    /// Microseconds from the session's start to `at`.
    pub(crate) fn micros(&self, at: Instant) -> u64 {
        micros_between(self.start, at)
    }

    /// Records a frame seen at `at`. Waits while the session's write queue
    /// is full (the writer is behind): backpressure, never a dropped frame.
    pub(crate) async fn frame(&self, at: Instant, dir: Direction, payload: Payload) {
        let size = payload.size();
        // `false`: the writer is gone (it failed); nothing is left to record to.
        let _ = self.tx.send(Captured { at, dir, payload }, size).await;
    }

    /// Marks the recording incomplete; the first reason given is kept.
    pub(crate) fn incomplete(&self, reason: impl Into<String>) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.incomplete.get_or_insert_with(|| reason.into());
    }

    /// Notes how long forwarding one frame took.
    pub(crate) fn forwarded(&self, delay: Duration) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.latency.record(delay);
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
    (mut rx, notes): (QueueReceiver<Captured>, Arc<Mutex<Notes>>),
) {
    let stem = shared.allocate_name(&endpoint.dialect);
    let rules = AudioRules::for_provider(shared.provider.name);
    let mut session = Session {
        writer: CassetteWriter::create(&shared.out, &stem, rules).map_err(|e| e.to_string()),
        stream: StreamScrubber::new(scrubber.clone()),
        frames_c2s: 0,
        frames_s2c: 0,
        last_us: 0,
    };
    let mut model = endpoint.model.clone();
    session.take(Frame::new(
        0,
        Direction::ClientToServer,
        FrameBody::HttpRequest(request),
    ));
    while let Some((Captured { at, dir, payload }, permit)) = rx.recv().await {
        let frame = Frame::new(micros_between(start, at), dir, body_of(payload));
        if model.is_none() && frame.is_client() {
            model = frame.json().and_then(|json| endpoint.model_in_frame(json));
        }
        session.take(frame);
        // Written (or held by the stream scrubber, whose hold is bounded):
        // the queue may take more.
        drop(permit);
        if rx.is_empty() {
            // Caught up: let the `.partial` file show what passed so far.
            session.flush();
        }
    }
    for frame in session.stream.finish() {
        session.write(frame);
    }
    let (incomplete, latency) = {
        let mut notes = notes.lock().unwrap_or_else(|e| e.into_inner());
        (notes.incomplete.take(), std::mem::take(&mut notes.latency))
    };
    let mut header = Header::new(
        shared.provider.name,
        endpoint.dialect.clone(),
        model.unwrap_or_else(|| "unknown".into()),
        Origin::Recorded,
    );
    header.upstream = Some(scrubber.path(&shared.upstream.host()));
    // The host is in `upstream`; the description stays the same across hosts
    // so that two recordings of one scenario compare equal.
    header.description = Some(format!(
        "{} session recorded by `understudy record`",
        endpoint.dialect
    ));
    header.incomplete = incomplete.is_some();
    header.incomplete_reason = incomplete.map(|r| scrubber.path(&scrubber.text(&r)));
    header.note_scrubbed(session.stream.found());
    let mut summary = SessionSummary {
        cassette: None,
        dialect: endpoint.dialect.clone(),
        model: header.model.clone(),
        complete: !header.incomplete,
        incomplete_reason: header.incomplete_reason.clone(),
        duration_ms: session.last_us as f64 / 1000.0,
        frames_c2s: session.frames_c2s,
        frames_s2c: session.frames_s2c,
        scrubbed: header.scrubbed.clone(),
        added_latency: latency.summary(),
        write_error: None,
    };
    let written = match session.writer {
        Ok(writer) => {
            tokio::task::spawn_blocking(move || finish_checked(writer, header, &scrubber))
                .await
                .unwrap_or_else(|join| Err(format!("the writer task failed: {join}")))
        }
        Err(error) => Err(error),
    };
    match written {
        Ok(()) => summary.cassette = Some(format!("{stem}.jsonl")),
        Err(error) => summary.write_error = Some(error),
    }
    shared.finish(summary);
}

/// A session's cassette while it is written: frames pass through the stream
/// scrubber (which holds the few that may end with the start of a secret)
/// and then straight to disk.
struct Session {
    writer: Result<CassetteWriter, String>,
    stream: StreamScrubber,
    frames_c2s: usize,
    frames_s2c: usize,
    last_us: u64,
}

impl Session {
    fn take(&mut self, frame: Frame) {
        for frame in self.stream.push(frame) {
            self.write(frame);
        }
    }

    fn write(&mut self, frame: Frame) {
        if frame.is_client() {
            self.frames_c2s += 1;
        } else {
            self.frames_s2c += 1;
        }
        self.last_us = self.last_us.max(last_micros(&frame));
        let failed = match &mut self.writer {
            Ok(writer) => writer.push(&frame).err(),
            Err(_) => None,
        };
        if let Some(error) = failed {
            tracing::warn!(%error, "cannot write the cassette");
            self.writer = Err(error.to_string());
        }
    }

    fn flush(&mut self) {
        let failed = match &mut self.writer {
            Ok(writer) => writer.flush().err(),
            Err(_) => None,
        };
        if let Some(error) = failed {
            tracing::warn!(%error, "cannot write the cassette");
            self.writer = Err(error.to_string());
        }
    }
}

/// When a frame (or the last chunk of its streamed body) arrived, in µs
/// since the start.
fn last_micros(frame: &Frame) -> u64 {
    match &frame.body {
        FrameBody::HttpResponse(response) => response
            .chunks
            .iter()
            .map(|c| c.t_us)
            .max()
            .unwrap_or(frame.t_us)
            .max(frame.t_us),
        _ => frame.t_us,
    }
}

/// Finishes the cassette and reads back every file it made (in chunks): if
/// a named secret survived scrubbing anywhere, the files are deleted rather
/// than kept. (Secrets inside audio are zeroed by the scrubber, so this is a
/// last line of defence, not how audio is handled.)
fn finish_checked(
    writer: CassetteWriter,
    header: Header,
    scrubber: &Scrubber,
) -> Result<(), String> {
    let (files, _) = writer.finish(header).map_err(|e| e.to_string())?;
    let overlap = scrubber.longest_form();
    let leaked = files
        .iter()
        .any(|f| scan_file(f, overlap, &|window| scrubber.leaks(window)).unwrap_or(true));
    if leaked {
        for file in &files {
            let _ = std::fs::remove_file(file);
        }
        return Err("a secret survived scrubbing, so the cassette was deleted".into());
    }
    Ok(())
}
