//! The GPT-Live respond engine: a protocol-faithful stand-in for the service
//! that answers any session without a cassette.
//!
//! Its clock is the **session timeline** — milliseconds of input audio the
//! client has streamed — as the service's is: transcript fragments, append
//! acknowledgements and the output track are released as the input reaches
//! them, so a client that stops streaming gets nothing more (as the service
//! defers text sent to a silent microphone). Only the session's expiry runs
//! on the wall clock.
//!
//! Each part owns its state and makes its own decisions; this file holds them
//! together and routes client commands to them:
//!
//! - `lifecycle`: `session.start` (primary and fork), `session.close`,
//!   expiry, usage reports, commands before the start;
//! - `turns`: input audio → VAD → utterances → transcripts, replies,
//!   delegations, barge-in;
//! - `commands`: appends, mute, fixtures, `session.update`, `response.*`,
//!   `decision.*`;
//! - `hearing`, `track`, `gate`, `words`: the timeline clock and VAD, the
//!   continuous output track, timeline-held events, timed fragments;
//! - `mind`: what the model says or delegates; `backend`: the Responses
//!   backend's nested events; `resolve`: the resolved session.
//!
//! Everything is sans-IO: commands in, frames on a [`Timeline`] out, `now`
//! passed in.

mod backend;
mod commands;
#[cfg(test)]
mod fuzz;
mod gate;
mod hearing;
mod lifecycle;
mod mind;
mod resolve;
mod track;
mod turns;
mod words;

use super::audio::LiveFormat;
use super::settings::LiveSettings;
use super::sideband::{LiveHub, Mirrored, Publisher};
use super::store::{LiveStore, StoredSession};
use super::{error_event, Socket};
use crate::engine::{Note, SessionEngine, SetAside};
use crate::openai::respond::ids::Ids;
use crate::protocol::FrameSummary;
use crate::timeline::{Outgoing, Timeline};
use crate::ResponderConfig;
use gate::Gate;
use hearing::Hearing;
use mind::Mind;
use tokio::time::Instant;
use track::OutputTrack;
use understudy_adapters::openai_live::wire::session::SessionResource;
use understudy_adapters::openai_live::wire::{ClientEvent, ServerEvent};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Connected; nothing is sent until `session.start`.
    Waiting,
    /// Started.
    Live,
    /// `session.closed` has been sent.
    Closed,
}

/// The respond engine for one GPT-Live session.
pub struct Responder {
    settings: LiveSettings,
    config: ResponderConfig,
    ids: Ids,
    socket: Socket,
    /// What a fork starts from.
    fork_of: Option<StoredSession>,
    store: LiveStore,
    phase: Phase,
    session: Option<SessionResource>,
    format: LiveFormat,
    hearing: Hearing,
    track: OutputTrack,
    gate: Gate,
    mind: Mind,
    /// Client delegations not yet answered.
    open_delegations: Vec<String>,
    /// The spoken acknowledgement of a delegation, until it starts: (tag, start).
    pending_ack_speech: Option<(String, u64)>,
    /// Where the words of the utterance in progress end on the timeline
    /// (its last input fragment's `end_ms`), once transcribed.
    words_end_ms: Option<u64>,
    backend: Option<backend::Pending>,
    /// Timeline ms at which the playing fixture ends.
    fixture_until: Option<u64>,
    next_usage_ms: u64,
    replies: u64,
    expire_at: Option<Instant>,
    /// When audio last arrived (or the session started), for the idle expiry.
    last_audio_at: Option<Instant>,
    /// Running sessions sidebands attach to; this session's side of it.
    hub: LiveHub,
    publisher: Option<Publisher>,
    /// When frames were last asked for (sidebands' commands are polled from then).
    last_pop: Option<Instant>,
    /// Commands kept from before `session.start` (when the settings say so).
    early: Vec<ClientEvent>,
    /// How `session.start` is made to fail, on demand.
    fault: Option<crate::dashscope::SetupFault>,
    out: Timeline,
    notes: Vec<Note>,
    /// The end of an utterance, set aside for the transport to run off the
    /// session task (see [`SessionEngine::has_deferred`]).
    set_aside: SetAside<Responder>,
}

impl Responder {
    /// A responder for a new session on a `socket`; `seed` makes its ids
    /// unique; `store` keeps `store: true` sessions for forks; `fork_of` is
    /// the stored session a fork socket starts from.
    pub fn new(
        config: ResponderConfig,
        socket: Socket,
        seed: u64,
        store: LiveStore,
        fork_of: Option<StoredSession>,
    ) -> Self {
        let settings = (*config.live).clone();
        let format = LiveFormat::Pcm(24_000);
        Responder {
            hearing: Hearing::new(format.rate(), settings.end_of_speech_ms),
            track: OutputTrack::new(format, settings.idle_track),
            mind: Mind::new(None, settings.delegate_words.clone()),
            next_usage_ms: settings.usage_interval_ms.max(1),
            settings,
            config,
            ids: Ids::new(seed),
            socket,
            fork_of,
            store,
            phase: Phase::Waiting,
            session: None,
            format,
            gate: Gate::default(),
            open_delegations: Vec::new(),
            pending_ack_speech: None,
            words_end_ms: None,
            backend: None,
            fixture_until: None,
            replies: 0,
            expire_at: None,
            last_audio_at: None,
            early: Vec::new(),
            hub: LiveHub::default(),
            publisher: None,
            last_pop: None,
            fault: None,
            out: Timeline::new(),
            notes: Vec::new(),
            set_aside: SetAside::default(),
        }
    }

    /// Makes `session.start` fail this way (`X-Understudy-Fault`).
    pub fn with_fault(mut self, fault: Option<crate::dashscope::SetupFault>) -> Self {
        self.fault = fault;
        self
    }

    /// Publishes this session to sidebands through `hub` (see [`super::sideband`]).
    pub fn with_hub(mut self, hub: LiveHub) -> Self {
        self.hub = hub;
        self
    }

    /// Sends `event` now with a fresh `event_id` (and to attached sidebands).
    fn emit(&mut self, now: Instant, event: ServerEvent) {
        let frame = Outgoing::with_event_id(event.event_type(), &event, self.ids.next("event"));
        if let (Some(publisher), Outgoing::Text { text, .. }) = (&self.publisher, &frame) {
            publisher.publish(Mirrored::Text(text.clone()));
        }
        self.out.push(now, frame);
    }

    /// Whether a sideband is attached.
    fn watched(&self) -> bool {
        self.publisher.as_ref().is_some_and(Publisher::watched)
    }

    /// Sends the service's `error` now.
    fn error(
        &mut self,
        now: Instant,
        code: &str,
        message: &str,
        param: Option<&str>,
        client_event_id: Option<&str>,
    ) {
        self.notes
            .push(Note::new("error", format!("{code}: {message}")));
        self.emit(now, error_event(code, message, param, client_event_id));
    }

    /// When a started session expires: its limit, or earlier without audio
    /// when the idle expiry is on.
    fn expiry(&self) -> Option<Instant> {
        if self.phase != Phase::Live {
            return None;
        }
        let idle = self
            .settings
            .idle_expiry
            .zip(self.last_audio_at)
            .map(|(limit, at)| at + limit);
        match (self.expire_at, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The session timeline, ms.
    fn t_ms(&self) -> u64 {
        self.hearing.t_ms()
    }

    /// The delegation type of the session (`client` until started).
    fn delegation_kind(&self) -> &str {
        self.session
            .as_ref()
            .and_then(|s| s.delegation.as_ref())
            .map_or("client", |d| d.kind.as_str())
    }

    /// Releases everything the timeline has reached: held events, a finished
    /// fixture, output chunks and usage reports.
    /// Runs the end of an utterance set aside by the last client event, if
    /// any, here and now (the transport runs it off the session task first;
    /// a driver that does not still gets the same frames).
    fn settle(&mut self) {
        while let Some(step) = self.set_aside.take() {
            step(self);
        }
    }

    /// The tick that follows a client command: after the work it set
    /// aside, when it set some aside.
    fn tick_after(&mut self, now: Instant) {
        let tick = move |me: &mut Responder| {
            if me.phase == Phase::Live {
                me.tick(now);
            }
        };
        if self.set_aside.is_pending() {
            self.set_aside.push(now, tick);
        } else {
            tick(self);
        }
    }

    fn tick(&mut self, now: Instant) {
        let t = self.t_ms();
        if self
            .pending_ack_speech
            .as_ref()
            .is_some_and(|(_, at)| *at <= t)
        {
            self.pending_ack_speech = None;
        }
        for held in self.gate.release(t) {
            self.emit(now, held.event);
        }
        if self.fixture_until.is_some_and(|end| end <= t) {
            self.fixture_until = None;
        }
        for (start_ms, samples) in self.track.advance(t) {
            let delta = understudy_adapters::openai_live::wire::server::OutputAudioDelta {
                delta: b64(&self.format.encode(&samples)),
                ..Default::default()
            };
            let event = ServerEvent::OutputAudioDelta(delta);
            // The service sends audio deltas without an `event_id`.
            self.out
                .push(now, Outgoing::json(event.event_type(), &event));
            if self.watched() {
                // Sidebands get PCM16 24 kHz with the chunk's place on the timeline.
                let pcm = to_24k(&samples, self.format.rate());
                let mirrored = ServerEvent::OutputAudioDelta(
                    understudy_adapters::openai_live::wire::server::OutputAudioDelta {
                        delta: b64(&pcm16_bytes(&pcm)),
                        start_ms: Some(start_ms),
                        end_ms: Some(start_ms + track::CHUNK_MS),
                        ..Default::default()
                    },
                );
                self.mirror(&mirrored);
            }
        }
        self.report_usage(now, t);
    }
}

impl Responder {
    /// Sends an event to attached sidebands only (no `event_id`: audio).
    fn mirror(&self, event: &ServerEvent) {
        if let Some(publisher) = &self.publisher {
            let text = serde_json::to_string(event).unwrap_or_default();
            publisher.publish(Mirrored::Text(text.into()));
        }
    }

    /// Applies the commands sidebands sent since the last poll.
    fn poll_sidebands(&mut self, now: Instant) {
        let commands = match self.publisher.as_mut() {
            Some(publisher) => publisher.commands(),
            None => return,
        };
        for command in commands {
            if self.phase == Phase::Live {
                let kind = command.event_type().to_owned();
                self.notes
                    .push(Note::new("sideband", format!("command {kind}")));
                self.on_live_command(&command, now);
                // Polled while popping: a turn a command ends runs here.
                self.settle();
                if self.phase == Phase::Live {
                    self.tick(now);
                }
            }
        }
    }

    /// Ends the session's sideband channels.
    fn release_sidebands(&mut self) {
        if let (Some(_), Some(session)) = (self.publisher.take(), &self.session) {
            self.hub.close(&session.id);
        }
    }
}

impl Drop for Responder {
    /// A session whose socket went away ends its sidebands too.
    fn drop(&mut self) {
        self.release_sidebands();
    }
}

/// Base64 of `bytes`.
fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

/// PCM16 samples as little-endian bytes.
fn pcm16_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// `samples` at `rate` resampled (nearest sample) to 24 kHz, the rate of
/// every sideband audio stream.
fn to_24k(samples: &[i16], rate: u32) -> Vec<i16> {
    if rate == 24_000 || samples.is_empty() {
        return samples.to_vec();
    }
    let wanted = samples.len() * 24_000 / rate.max(1) as usize;
    (0..wanted)
        .map(|i| samples[(i * rate as usize / 24_000).min(samples.len() - 1)])
        .collect()
}

impl SessionEngine<ClientEvent> for Responder {
    fn label(&self) -> String {
        "respond".into()
    }

    /// The service sends nothing until the client's first frame.
    fn on_connect(&mut self, _now: Instant) {}

    fn on_client_event(&mut self, event: &ClientEvent, _summary: &FrameSummary, now: Instant) {
        self.settle();
        match self.phase {
            Phase::Closed => return,
            Phase::Waiting => {
                match event {
                    ClientEvent::SessionStart(start) => {
                        self.on_start(start, now);
                        for early in std::mem::take(&mut self.early) {
                            // Only the last command may leave work aside.
                            self.settle();
                            if self.phase == Phase::Live {
                                self.on_live_command(&early, now);
                            }
                        }
                    }
                    other if self.settings.queue_before_start => self.early.push(other.clone()),
                    other => self.before_start(other, now),
                }
                self.tick_after(now);
                return;
            }
            Phase::Live => {}
        }
        self.on_live_command(event, now);
        self.tick_after(now);
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        self.settle();
        self.last_pop = Some(now);
        self.poll_sidebands(now);
        if self.expiry().is_some_and(|at| at <= now) {
            self.close(now, None, "expired");
        }
        self.out.pop_due(now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        // While a sideband is attached, its commands are polled every 20 ms.
        let poll = self
            .last_pop
            .filter(|_| self.watched())
            .map(|at| at + std::time::Duration::from_millis(20));
        // Work set aside is due at once: popping runs it.
        [
            self.set_aside.at(),
            self.out.next_deadline(),
            self.expiry(),
            poll,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn take_notes(&mut self) -> Vec<Note> {
        self.settle();
        std::mem::take(&mut self.notes)
    }

    fn has_deferred(&self) -> bool {
        self.set_aside.is_pending()
    }

    fn run_deferred(&mut self) {
        self.settle();
    }
}
