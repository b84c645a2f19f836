//! Drives a scenario through the real adapter against a live endpoint and
//! keeps everything it saw: normalised events with arrival instants, the raw
//! wire transcript, and the instants user input ended (for latency).

use crate::scenario::{Scenario, Step, Until};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::{timeout, Instant};
use understudy_adapters::gemini;
use understudy_adapters::registry::{self, ConnectOptions};
use understudy_adapters::{
    ClientError, ClientInput, DialectSpec, FrameTap, ModelEvent, Pcm, RealtimeClient, TappedFrame,
    TimedEvent, ToolResultScheduling, WireFrame,
};

/// The key runs send (the mock takes any key unless told otherwise).
const CONFORMANCE_KEY: &str = "understudy-conformance-key";

/// How long one wait may take before the run fails.
const WAIT_LIMIT: Duration = Duration::from_secs(20);
/// How long to keep listening after the last step, to catch stray events.
const DRAIN: Duration = Duration::from_millis(150);

/// The silence a [`Step::Listen`] streams per chunk, in ms of audio.
const LISTEN_CHUNK_MS: u64 = 100;
/// The most silence one [`Step::Listen`] streams before the run fails, in ms
/// of audio: a timeline this far past the last step without the awaited
/// event means it is not coming.
const LISTEN_LIMIT_MS: u64 = 30_000;
/// In [`Pacing::Burst`], how long a [`Step::Listen`] reads what arrived after
/// each chunk before sending the next.
const BURST_GRACE: Duration = Duration::from_millis(2);

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Connecting or sending failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// An awaited event never came.
    #[error(
        "waited {waited:?} for `{kind}` (#{nth}) but it did not arrive; last events: {recent}"
    )]
    Timeout {
        /// The event kind awaited.
        kind: String,
        /// Which occurrence.
        nth: usize,
        /// How long it waited.
        waited: Duration,
        /// The last few event kinds seen.
        recent: String,
    },
    /// A [`Step::Listen`] streamed its limit of silence without the awaited
    /// event or frame arriving.
    #[error(
        "streamed {streamed_ms} ms of silence waiting for {awaited} (#{nth}) but it did not arrive; last events: {recent}"
    )]
    Unheard {
        /// What was awaited (`event `response_done``, `frame `…appended``).
        awaited: String,
        /// Which occurrence.
        nth: usize,
        /// How much silence was streamed.
        streamed_ms: u64,
        /// The last few event kinds seen.
        recent: String,
    },
    /// The session ended while waiting.
    #[error("the session ended while waiting for `{kind}`; last events: {recent}")]
    Ended {
        /// The event kind awaited.
        kind: String,
        /// The last few event kinds seen.
        recent: String,
    },
    /// A scenario step could not be carried out.
    #[error("step failed: {0}")]
    Step(String),
}

/// Everything a run observed.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// When the connection attempt began (t = 0 of the wire transcript).
    pub started: std::time::Instant,
    /// Normalised events with arrival instants.
    pub events: Vec<TimedEvent>,
    /// Every raw frame sent and received, over all connections, in time order.
    pub wire: Vec<TappedFrame>,
    /// The raw frames of each connection, in order (one unless the session
    /// was resumed on new connections).
    pub connections: Vec<Vec<TappedFrame>>,
    /// Instants at which user input ended: a text turn or the last audio chunk
    /// sent, a response requested, or a provider VAD stop seen.
    pub input_ends: Vec<std::time::Instant>,
    /// Whether wall-clock time between input and answers means anything:
    /// not when a [`Step::Listen`] streamed its silence faster than real time
    /// ([`Pacing::Burst`]), since the session's clock (GPT-Live's timeline)
    /// is then the audio, not the wall. [`latencies`] reports none then.
    pub wall_clock_timed: bool,
}

/// Where a run connects: one origin serving every dialect (a mock's
/// `ws://127.0.0.1:PORT`); each dialect's base URL is its registry path on it,
/// unless a whole base URL is given (a target behind a path of its own).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Scheme and authority, `ws://HOST:PORT`.
    pub origin: String,
    /// A base URL used as given instead of the dialect's path on
    /// [`origin`](Self::origin) (a gateway at `wss://host/openai/v1`).
    pub base_url: Option<String>,
    /// The key sent; `None` sends a placeholder (mocks take any key).
    pub api_key: Option<ApiKey>,
}

/// An API key: sent where the dialect wants it, never printed (its `Debug`
/// is redacted), so that a key read from the environment stays out of logs
/// and reports.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the handshake.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl Endpoints {
    /// The endpoints of a running mock.
    pub fn of(server: &understudy_mock::MockServer) -> Self {
        Endpoints {
            origin: server.url().replacen("http://", "ws://", 1),
            base_url: None,
            api_key: None,
        }
    }

    /// The base URL `dialect`'s clients are given (`ws://…/v1` for OpenAI).
    pub fn base_url(&self, dialect: &DialectSpec) -> String {
        match &self.base_url {
            Some(url) => url.clone(),
            None => dialect.connect.base_url_at(&self.origin),
        }
    }

    /// The key a run sends.
    fn key(&self) -> &str {
        self.api_key
            .as_ref()
            .map_or(CONFORMANCE_KEY, ApiKey::expose)
    }
}

/// How a run streams its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// As fast as the socket takes it (replays match audio by amount).
    Burst,
    /// One chunk per chunk-length of wall time, like a microphone: recordings
    /// made this way anchor each VAD event to the audio that caused it.
    RealTime,
}

/// The session a run drives: one plain connection, or the Gemini adapter's
/// resuming session, which may span several.
enum Connection {
    Plain {
        client: RealtimeClient,
        tap: FrameTap,
    },
    Resuming(Box<gemini::ResumingSession>),
}

impl Connection {
    async fn send(&mut self, input: &ClientInput) -> Result<(), ClientError> {
        match self {
            Connection::Plain { client, .. } => client.send(input).await,
            Connection::Resuming(session) => session.send(input).await,
        }
    }

    async fn send_frame(&mut self, frame: WireFrame) -> Result<(), RunError> {
        match self {
            Connection::Plain { client, .. } => Ok(client.send_frame(frame).await?),
            Connection::Resuming(_) => Err(RunError::Step(
                "raw frames bypass the resuming session; use a plain connection".into(),
            )),
        }
    }

    async fn next_timed(&mut self) -> Option<TimedEvent> {
        match self {
            Connection::Plain { client, .. } => client.next_timed().await,
            Connection::Resuming(session) => session.next_timed().await,
        }
    }

    /// The `type`s of the text frames received on the current connection
    /// from its `from`th tapped frame on, and the number of frames tapped.
    fn received_types(&self, from: usize) -> (Vec<String>, usize) {
        let tap = match self {
            Connection::Plain { tap, .. } => Arc::clone(tap),
            Connection::Resuming(session) => match session.connection_taps().last() {
                Some(tap) => Arc::clone(tap),
                None => return (Vec::new(), from),
            },
        };
        let frames = tap.lock().unwrap_or_else(PoisonError::into_inner);
        let types = frames
            .iter()
            .skip(from)
            .filter(|f| f.direction == understudy_adapters::TapDirection::Received)
            .filter_map(|f| match &f.frame {
                WireFrame::Text(text) => frame_type(text),
                _ => None,
            })
            .collect();
        (types, frames.len())
    }

    /// Closes the session; returns each connection's raw frames, in order.
    async fn finish(self) -> Vec<Vec<TappedFrame>> {
        let taps: Vec<FrameTap> = match &self {
            Connection::Plain { tap, .. } => vec![Arc::clone(tap)],
            Connection::Resuming(session) => session.connection_taps().to_vec(),
        };
        let _ = match self {
            Connection::Plain { client, .. } => client.close().await,
            Connection::Resuming(session) => session.close().await,
        };
        taps.iter()
            .map(|tap| tap.lock().unwrap_or_else(PoisonError::into_inner).clone())
            .collect()
    }
}

/// Runs `scenario` against `endpoints`; `cassette` names the cassette a
/// replaying mock should play (sent as the `cassette` query parameter).
pub async fn run_scenario(
    scenario: &Scenario,
    endpoints: &Endpoints,
    cassette: Option<&str>,
    pacing: Pacing,
) -> Result<RunRecord, RunError> {
    let started = std::time::Instant::now();
    let (mut connection, steps) = open(scenario, endpoints, cassette).await?;
    let mut run = Runner {
        pacing,
        client: &mut connection,
        events: Vec::new(),
        waited: HashMap::new(),
        input_ends: Vec::new(),
        input_rate: scenario.capabilities().input_sample_rate.max(8_000),
        frames_seen: HashMap::new(),
        frames_read: 0,
        frames_waited: HashMap::new(),
        listened: false,
        inferred_turns: scenario.capabilities().inferred_turns,
    };
    for step in steps {
        run.step(step).await?;
    }
    run.drain().await;
    let wall_clock_timed = !(run.listened && pacing == Pacing::Burst);
    let Runner {
        events, input_ends, ..
    } = run;
    let connections = connection.finish().await;
    let mut wire: Vec<TappedFrame> = connections.iter().flatten().cloned().collect();
    wire.sort_by_key(|frame| frame.at);
    Ok(RunRecord {
        started,
        events,
        wire,
        connections,
        input_ends,
        wall_clock_timed,
    })
}

/// Connects the way `scenario` says; returns the connection and the steps
/// left to run (a resuming session sends the set-up step itself).
async fn open<'s>(
    scenario: &'s Scenario,
    endpoints: &Endpoints,
    cassette: Option<&str>,
) -> Result<(Connection, &'s [Step]), RunError> {
    let tap: FrameTap = Arc::new(Mutex::new(Vec::new()));
    let mut options = ConnectOptions::new(
        scenario.dialect,
        endpoints.base_url(scenario.dialect),
        scenario.model,
    )
    .api_key(endpoints.key());
    if let Some(name) = cassette {
        // Where the dialect's clients put it: a query parameter or a header.
        options = options.cassette(name);
    }
    if scenario.resume {
        if !scenario.capabilities().resumption {
            return Err(RunError::Step(format!(
                "{} has no resuming session",
                scenario.dialect
            )));
        }
        let Some((Step::Send(ClientInput::Session(config)), rest)) = scenario.steps.split_first()
        else {
            return Err(RunError::Step(
                "a resuming scenario starts with its session set-up".into(),
            ));
        };
        // Only Gemini Live resumes; the options are its own.
        let session = gemini::ResumingSession::connect_recording(options, config.clone()).await?;
        return Ok((Connection::Resuming(Box::new(session)), rest));
    }
    let client = registry::connect_with_tap(&options, Some(Arc::clone(&tap))).await?;
    Ok((Connection::Plain { client, tap }, &scenario.steps))
}

/// The `type` of a JSON text frame, without decoding the rest of it.
fn frame_type(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Typed>(text).ok().map(|t| t.kind)
}

struct Runner<'a> {
    pacing: Pacing,
    client: &'a mut Connection,
    events: Vec<TimedEvent>,
    waited: HashMap<&'static str, usize>,
    input_ends: Vec<std::time::Instant>,
    /// Input sample rate of the session (for the silence a listen streams).
    input_rate: u32,
    /// Server frame types seen so far, counted (for [`Until::Frame`]), and
    /// how many tapped frames have been read for them.
    frames_seen: HashMap<String, usize>,
    frames_read: usize,
    /// Which occurrence of each awaited frame type the listens reached.
    frames_waited: HashMap<&'static str, usize>,
    /// Whether a [`Step::Listen`] ran.
    listened: bool,
    /// Whether the dialect's turn boundaries are the adapter's inference.
    inferred_turns: bool,
}

impl Runner<'_> {
    fn recent(&self) -> String {
        let start = self.events.len().saturating_sub(8);
        self.events[start..]
            .iter()
            .map(|e| e.event.kind())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn record(&mut self, timed: TimedEvent) {
        // A provider's VAD stop ends the input; an adapter's inferred one
        // (GPT-Live: the user's turn closes when the reply starts) says
        // nothing about when the user stopped.
        if matches!(timed.event, ModelEvent::SpeechStopped { .. }) && !self.inferred_turns {
            self.input_ends.push(timed.received_at);
        }
        self.events.push(timed);
    }

    /// Answers the most recent tool call with `output` (and `scheduling`).
    async fn answer_last_tool_call(
        &mut self,
        output: &str,
        scheduling: Option<ToolResultScheduling>,
    ) -> Result<(), RunError> {
        let (call_id, name) = self
            .events
            .iter()
            .rev()
            .find_map(|e| match &e.event {
                ModelEvent::ToolCall { call_id, name, .. } => Some((call_id.clone(), name.clone())),
                _ => None,
            })
            .ok_or_else(|| RunError::Step("no tool call to answer".into()))?;
        // The answer waits on the tool result: input ends here.
        self.input_ends.push(std::time::Instant::now());
        self.client
            .send(&ClientInput::ToolResult {
                call_id,
                name,
                output: output.into(),
                scheduling,
            })
            .await?;
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), RunError> {
        match step {
            Step::Send(input) => {
                if matches!(
                    input,
                    ClientInput::CreateResponse(_) | ClientInput::Text { .. }
                ) {
                    self.input_ends.push(std::time::Instant::now());
                }
                self.client.send(input).await?;
            }
            Step::Raw(text) => {
                self.client
                    .send_frame(WireFrame::Text((*text).into()))
                    .await?
            }
            Step::Audio {
                wav,
                chunk_ms,
                trailing_silence_ms,
            } => {
                let (clip, rate) = crate::assets::clip(wav).map_err(RunError::Step)?;
                let mut pcm = clip.to_vec();
                pcm.extend(std::iter::repeat_n(
                    0u8,
                    (rate as usize * *trailing_silence_ms as usize / 1000) * 2,
                ));
                let chunk = (rate as usize * *chunk_ms as usize / 1000).max(1) * 2;
                let start = Instant::now();
                for (i, piece) in pcm.chunks(chunk).enumerate() {
                    self.client
                        .send(&ClientInput::Audio {
                            pcm: Pcm(piece.to_vec()),
                            sample_rate: rate,
                        })
                        .await?;
                    if self.pacing == Pacing::RealTime {
                        let due =
                            start + Duration::from_millis(u64::from(*chunk_ms) * (i as u64 + 1));
                        tokio::time::sleep_until(due).await;
                    }
                }
                // The client's end of input; a provider VAD stop, where there
                // is one, comes later and takes precedence.
                self.input_ends.push(std::time::Instant::now());
            }
            Step::WaitFor(kind) => self.wait_for(kind).await?,
            Step::Listen(until) => self.listen(*until).await?,
            Step::AnswerLastToolCall { output } => self.answer_last_tool_call(output, None).await?,
            Step::AnswerLastToolCallScheduled { output, scheduling } => {
                self.answer_last_tool_call(output, Some(*scheduling))
                    .await?
            }
            Step::TruncateInterrupted => {
                let response = self
                    .events
                    .iter()
                    .rev()
                    .find_map(|e| match &e.event {
                        ModelEvent::Interrupted { response_id } => response_id.clone(),
                        _ => None,
                    })
                    .ok_or_else(|| RunError::Step("no interrupted response".into()))?;
                let mut item = None;
                let mut played_ms = 0.0;
                for e in &self.events {
                    if let ModelEvent::AudioDelta {
                        response_id,
                        item_id,
                        pcm,
                        sample_rate,
                    } = &e.event
                    {
                        if *response_id == response {
                            item = Some(item_id.clone());
                            played_ms += pcm.duration_ms(*sample_rate);
                        }
                    }
                }
                let item_id = item.ok_or_else(|| {
                    RunError::Step("the interrupted response had no audio".into())
                })?;
                self.client
                    .send(&ClientInput::Truncate {
                        item_id,
                        content_index: 0,
                        audio_end_ms: played_ms as u64,
                    })
                    .await?;
            }
        }
        Ok(())
    }

    async fn wait_for(&mut self, kind: &'static str) -> Result<(), RunError> {
        let nth = self.waited.get(kind).copied().unwrap_or(0) + 1;
        self.waited.insert(kind, nth);
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let seen = self
                .events
                .iter()
                .filter(|e| e.event.kind() == kind)
                .count();
            if seen >= nth {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.client.next_timed()).await {
                Ok(Some(timed)) => self.record(timed),
                Ok(None) => {
                    return Err(RunError::Ended {
                        kind: kind.into(),
                        recent: self.recent(),
                    })
                }
                Err(_) => {
                    return Err(RunError::Timeout {
                        kind: kind.into(),
                        nth,
                        waited: WAIT_LIMIT,
                        recent: self.recent(),
                    })
                }
            }
        }
    }

    /// Whether `until`'s `nth` occurrence has arrived.
    fn arrived(&mut self, until: Until, nth: usize) -> bool {
        match until {
            Until::Event(kind) => {
                self.events
                    .iter()
                    .filter(|e| e.event.kind() == kind)
                    .count()
                    >= nth
            }
            Until::Frame(kind) => {
                let (types, read) = self.client.received_types(self.frames_read);
                self.frames_read = read;
                for t in types {
                    *self.frames_seen.entry(t).or_default() += 1;
                }
                self.frames_seen.get(kind).copied().unwrap_or(0) >= nth
            }
        }
    }

    /// Streams silence, a chunk at a time, until `until` arrives.
    async fn listen(&mut self, until: Until) -> Result<(), RunError> {
        self.listened = true;
        let nth = {
            let counter = match until {
                Until::Event(kind) => self.waited.entry(kind),
                Until::Frame(kind) => self.frames_waited.entry(kind),
            };
            let n = counter.or_default();
            *n += 1;
            *n
        };
        let samples = self.input_rate as usize * LISTEN_CHUNK_MS as usize / 1000;
        let silence = ClientInput::Audio {
            pcm: Pcm(vec![0u8; samples * 2]),
            sample_rate: self.input_rate,
        };
        let start = Instant::now();
        let mut streamed_ms = 0;
        let mut chunks = 0u32;
        while !self.arrived(until, nth) {
            if streamed_ms >= LISTEN_LIMIT_MS {
                return Err(RunError::Unheard {
                    awaited: match until {
                        Until::Event(kind) => format!("event `{kind}`"),
                        Until::Frame(kind) => format!("frame `{kind}`"),
                    },
                    nth,
                    streamed_ms,
                    recent: self.recent(),
                });
            }
            self.client.send(&silence).await?;
            streamed_ms += LISTEN_CHUNK_MS;
            chunks += 1;
            // Read what arrives until the next chunk is due: a microphone's
            // pace when synthesizing, a moment when replaying.
            let due = match self.pacing {
                Pacing::RealTime => start + Duration::from_millis(LISTEN_CHUNK_MS) * chunks,
                Pacing::Burst => Instant::now() + BURST_GRACE,
            };
            loop {
                match tokio::time::timeout_at(due, self.client.next_timed()).await {
                    Ok(Some(timed)) => {
                        self.record(timed);
                        if self.arrived(until, nth) {
                            return Ok(());
                        }
                    }
                    Ok(None) => {
                        return Err(RunError::Ended {
                            kind: match until {
                                Until::Event(kind) | Until::Frame(kind) => kind.into(),
                            },
                            recent: self.recent(),
                        })
                    }
                    Err(_) => break,
                }
            }
        }
        Ok(())
    }

    async fn drain(&mut self) {
        while let Ok(Some(timed)) = timeout(DRAIN, self.client.next_timed()).await {
            let ended = matches!(timed.event, ModelEvent::SessionEnded { .. });
            self.record(timed);
            if ended {
                break;
            }
        }
    }
}

/// Latency of one response, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Latency {
    /// First audio byte after the end of user input.
    pub ttfb_ms: f64,
    /// First audible sample after the end of user input (TTFB plus leading silence).
    pub ttfa_ms: f64,
}

/// RMS level (of full scale) above which a 10 ms window counts as audible.
pub(crate) const AUDIBLE_RMS: f64 = 0.01;

/// TTFB and TTFA of every response that produced audio (none for a run
/// whose clock was not the wall, see [`RunRecord::wall_clock_timed`]).
pub fn latencies(record: &RunRecord) -> Vec<Latency> {
    let mut out = Vec::new();
    if !record.wall_clock_timed {
        return out;
    }
    let mut seen = std::collections::HashSet::new();
    for (index, timed) in record.events.iter().enumerate() {
        let ModelEvent::AudioDelta {
            response_id,
            sample_rate,
            ..
        } = &timed.event
        else {
            continue;
        };
        if !seen.insert(response_id.clone()) {
            continue;
        }
        let Some(input_end) = record
            .input_ends
            .iter()
            .filter(|t| **t <= timed.received_at)
            .max()
        else {
            continue;
        };
        let ttfb_ms = timed.received_at.duration_since(*input_end).as_secs_f64() * 1000.0;
        let samples: Vec<i16> = record.events[index..]
            .iter()
            .filter_map(|e| match &e.event {
                ModelEvent::AudioDelta {
                    response_id: r,
                    pcm,
                    ..
                } if r == response_id => Some(pcm.samples().collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        let window = (*sample_rate as usize / 100).max(1);
        let silent_windows = samples
            .chunks(window)
            .take_while(|w| understudy_adapters::audio::rms(w) < AUDIBLE_RMS)
            .count();
        let leading_ms = silent_windows as f64 * 10.0;
        out.push(Latency {
            ttfb_ms,
            ttfa_ms: ttfb_ms + leading_ms,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::frame_type;

    #[test]
    fn a_frames_type_is_read_without_the_rest_and_nothing_from_non_json() {
        assert_eq!(
            frame_type(r#"{"type":"session.instructions.appended","start_ms":0,"end_ms":0}"#)
                .as_deref(),
            Some("session.instructions.appended")
        );
        assert_eq!(frame_type(r#"{"event_id":"e1"}"#), None);
        assert_eq!(frame_type("not json"), None);
        assert_eq!(frame_type(r#"{"type":7}"#), None);
    }
}
