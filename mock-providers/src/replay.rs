//! The replay engine: plays a cassette back to a live client, protocol-aware.
//!
//! At load time the cassette becomes a [`ReplayScript`]: a list of steps, each
//! a trigger (the connection opening, a client event, or the client's audio
//! reaching a length) with the server frames that followed it in the
//! recording, already serialised, at their offsets from the trigger. When a
//! trigger fires, its frames are scheduled at absolute deadlines (trigger
//! instant + offset ÷ speed), so timing does not drift over a long session.
//!
//! Each server frame is anchored to what caused it, using protocol knowledge
//! rather than mere recording order (a recording client may pipeline events
//! or keep streaming audio while answers arrive): the greeting to the
//! connection; an answer (`committed`, `session.updated`, `response.created`,
//! …) to the client event it answers; VAD events to the audio that carried the
//! speech; a response's output to the step that started the response, until
//! speech interrupts it. Answers of one kind pair with the requests they answer
//! in recorded order (the first `conversation.item.added` answers the first
//! pipelined `conversation.item.create`).
//!
//! Steps fire in order and a step's frames go out in order, so a direction
//! keeps its recorded order exactly when every server frame is anchored to a
//! step no earlier than the frame recorded before it. When an answer belongs
//! to an earlier step than frames recorded before it, those frames move to the
//! answer's step (`pull_down`): they go out with it, never after it. Any
//! other frame recorded after a later trigger's answer (a response's output
//! after a `conversation.item.truncated`, say) waits for that trigger. That
//! holds at any client pacing — pipelined or one request at a time — as long
//! as the client sends what the recording's client sent
//! (`tests/replay_order.rs` checks it over generated sessions).
//!
//! Client events are matched leniently: by type and a few key fields, never by
//! ids or audio bytes. Audio appends are matched by how much audio has arrived,
//! so a client may chunk its audio differently from the recording. A client
//! event that does not match is recorded in the journal and not answered.
//! Client frames that the recording shows were malformed are dropped with their
//! answers: the transport's validator answers those live, the same way.

use crate::engine::{Note, SessionEngine};
use crate::protocol::{FrameSummary, Protocol, ResponseMarker};
use crate::timeline::{Outgoing, Timeline};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_fixtures::{Cassette, Direction, FrameBody};

/// What makes a step's frames go out.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// The connection opened.
    Connect,
    /// A client event of this type, with these key fields.
    Client {
        /// Event type.
        event_type: String,
        /// Fields that must match (`item.type`, `item.role`).
        key: Value,
    },
    /// The client's appended audio reached this many milliseconds.
    Audio {
        /// Cumulative audio, in milliseconds.
        ms: f64,
    },
}

/// One trigger and the server frames that answered it.
#[derive(Debug, Clone)]
pub struct Step {
    /// What fires the step.
    pub trigger: Trigger,
    /// When the trigger happened in the recording (µs since connect).
    pub at_us: u64,
    /// Frames, at their offset from the trigger.
    pub frames: Vec<(Duration, Outgoing)>,
}

/// A cassette prepared for replay.
#[derive(Debug, Clone)]
pub struct ReplayScript {
    /// Cassette name (for the journal and for selection).
    pub name: String,
    /// Dialect the cassette speaks (`openai-ga`, `dashscope-omni`, …).
    pub dialect: String,
    /// Model recorded in the header.
    pub model: String,
    /// The steps, in recorded order.
    pub steps: Vec<Step>,
}

/// Why a cassette cannot be replayed by a dialect.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The cassette is for another dialect.
    #[error("cassette `{name}` is for dialect `{dialect}`, not `{wanted}`")]
    WrongDialect {
        /// Cassette name.
        name: String,
        /// Its dialect.
        dialect: String,
        /// The dialect asked to replay it.
        wanted: String,
    },
}

impl ReplayScript {
    /// Prepares `cassette` (named `name`) for replay by `protocol`.
    pub fn from_cassette<P: Protocol>(
        name: &str,
        cassette: &Cassette,
        protocol: &P,
    ) -> Result<Self, ScriptError> {
        if cassette.header.dialect != protocol.name() {
            return Err(ScriptError::WrongDialect {
                name: name.to_owned(),
                dialect: cassette.header.dialect.clone(),
                wanted: protocol.name().to_owned(),
            });
        }
        let mut steps = vec![Step {
            trigger: Trigger::Connect,
            at_us: 0,
            frames: vec![],
        }];
        let mut audio_ms = 0.0;
        let mut skipping_answer = false;
        // Where non-answer frames go after an answer was re-anchored to an
        // earlier trigger: with that answer.
        let mut sticky: Option<usize> = None;
        // The step each kind of answer last paired with: answers pair with
        // the requests they answer in recorded order (first come, first
        // answered), never with a later request of the same type.
        let mut paired: HashMap<String, usize> = HashMap::new();
        // The latest step any server frame is anchored to so far. Anchors never
        // go down in recorded order (see [`pull_down`]), which is what keeps a
        // direction in recorded order however the client is paced.
        let mut floor = 0;
        // The step a response in progress was anchored to, and whether user
        // speech has interrupted it since.
        let mut response: Option<usize> = None;
        let mut interrupted = false;
        // A close a server message promised (step, offset, frame), until the
        // recording shows a close of its own.
        let mut promised_close: Option<(usize, Duration, Outgoing)> = None;
        // Once the client has closed, what the server sent is the WebSocket
        // library's close reply (recorded by `understudy record`), not the
        // provider's to replay: the replaying socket answers a close itself.
        let mut client_closed = false;
        for frame in &cassette.frames {
            match (frame.dir, &frame.body) {
                (Direction::ClientToServer, FrameBody::Text(_)) => {
                    let text = frame.json().map(Value::to_string).unwrap_or_default();
                    let summary = match protocol.parse(&text, usize::MAX) {
                        Ok(event) => protocol.summarise(&event),
                        Err(_) => {
                            // Answered live by the validator; drop the recorded answer.
                            skipping_answer = true;
                            continue;
                        }
                    };
                    skipping_answer = false;
                    sticky = None;
                    if let Some(ms) = summary.audio_ms {
                        audio_ms += ms;
                        match steps.last_mut() {
                            Some(step)
                                if matches!(step.trigger, Trigger::Audio { .. })
                                    && step.frames.is_empty() =>
                            {
                                step.trigger = Trigger::Audio { ms: audio_ms };
                                step.at_us = frame.t_us;
                            }
                            _ => steps.push(Step {
                                trigger: Trigger::Audio { ms: audio_ms },
                                at_us: frame.t_us,
                                frames: vec![],
                            }),
                        }
                    } else {
                        if response.is_some() && protocol.continues_response(&summary.event_type) {
                            // What follows waits for this event, not for the turn's start.
                            response = Some(steps.len());
                        }
                        steps.push(Step {
                            trigger: Trigger::Client {
                                event_type: summary.event_type,
                                key: summary.key,
                            },
                            at_us: frame.t_us,
                            frames: vec![],
                        });
                    }
                }
                (Direction::ClientToServer, FrameBody::Close(_)) => client_closed = true,
                (Direction::ServerToClient, body) => {
                    if skipping_answer || client_closed {
                        continue;
                    }
                    let outgoing = match body {
                        FrameBody::Text(_) => match frame.json() {
                            Some(json) => {
                                Outgoing::text(frame.event_type().unwrap_or(""), json.to_string())
                            }
                            None => continue,
                        },
                        // Binary JSON (Gemini) goes out as binary again.
                        FrameBody::Binary(_) => match frame.json() {
                            Some(json) => Outgoing::Binary {
                                event_type: Arc::from(protocol.kind_of(json).as_str()),
                                data: Arc::from(json.to_string().into_bytes()),
                            },
                            None => continue,
                        },
                        FrameBody::Close(close) => Outgoing::Close {
                            code: close.as_ref().map(|c| c.code).unwrap_or(1005),
                            reason: close.as_ref().map(|c| c.reason.clone()).unwrap_or_default(),
                        },
                        _ => continue,
                    };
                    let kind = frame
                        .json()
                        .map(|j| protocol.kind_of(j))
                        .unwrap_or_default();
                    let event_type = kind.as_str();
                    let last = steps.len() - 1;
                    let marker = protocol.response_marker(event_type);
                    let vad = marker == Some(ResponseMarker::Speech);
                    let answered_step = protocol.answers(event_type).and_then(|answers| {
                        let first = paired.get(event_type).map_or(0, |p| p + 1);
                        (first..=last).find(|&i| {
                            matches!(&steps[i].trigger, Trigger::Client { event_type: t, .. } if t == answers)
                        })
                    });
                    let target = if event_type == "session.created" {
                        // The unsolicited greeting answers the connection itself.
                        0
                    } else if let Some(i) = answered_step {
                        paired.insert(event_type.to_owned(), i);
                        sticky = (i != last).then_some(i);
                        i
                    } else if vad {
                        // Speech is caused by the audio that carried it, and it
                        // interrupts the response in progress, if any.
                        sticky = None;
                        if response.is_some() {
                            interrupted = true;
                        }
                        last
                    } else {
                        match response {
                            // A response's output belongs to the step that started
                            // it, not to audio that happened to arrive meanwhile.
                            Some(step) if !interrupted => step,
                            _ => sticky.unwrap_or(last),
                        }
                    };
                    // Anchors never go down in recorded order, or a frame would
                    // overtake one recorded before it.
                    let answer = event_type == "session.created" || answered_step.is_some();
                    let target = if target >= floor {
                        target
                    } else if answer {
                        // An answer stays with what it answers; the frames
                        // recorded before it, anchored to later steps, go out
                        // with it (a client waiting for it is not left waiting).
                        pull_down(&mut steps, target, floor);
                        if let Some((step, at, _)) = promised_close.as_mut() {
                            if *step > target {
                                *at = rebase(*at, steps[*step].at_us, steps[target].at_us);
                                *step = target;
                            }
                        }
                        target
                    } else {
                        // Output of an earlier step recorded after a later
                        // trigger's answer waits for that trigger, as it did in
                        // the recording.
                        floor
                    };
                    match marker {
                        Some(ResponseMarker::Start) if response.is_none() => {
                            response = Some(target);
                            interrupted = false;
                        }
                        Some(ResponseMarker::End) => response = None,
                        _ => {}
                    }
                    floor = target;
                    let offset =
                        Duration::from_micros(frame.t_us.saturating_sub(steps[target].at_us));
                    if matches!(outgoing, Outgoing::Close { .. }) {
                        promised_close = None;
                    } else if let Some((after, close)) =
                        frame.json().and_then(|j| protocol.announced_close(j))
                    {
                        promised_close = Some((target, offset + after, close));
                    }
                    steps[target].frames.push((offset, outgoing));
                }
                _ => {}
            }
        }
        if let Some((step, at, close)) = promised_close {
            let frames = &mut steps[step].frames;
            let position = frames.partition_point(|(offset, _)| *offset <= at);
            frames.insert(position, (at, close));
        }
        Ok(ReplayScript {
            name: name.to_owned(),
            dialect: protocol.name().to_owned(),
            model: cassette.header.model.clone(),
            steps,
        })
    }
}

/// Moves the frames of steps `into + 1 ..= through` into step `into`, in
/// order, at their offsets from its trigger.
///
/// An answer anchored to an earlier step than a frame recorded before it would
/// overtake that frame on replay (steps fire in order). Rather than hold the
/// answer back until a later trigger (a client waiting for it would wait
/// forever), the frames recorded before it go out with it: every frame then
/// sits in a step no earlier than the one before it, and since steps fire in
/// order and a step's frames go out in order, a direction keeps its recorded
/// order at any client pacing. (Other frames, such as a response's output,
/// move the other way: they wait for the later step.)
fn pull_down(steps: &mut [Step], into: usize, through: usize) {
    let base = steps[into].at_us;
    for index in into + 1..=through {
        let at_us = steps[index].at_us;
        let moved: Vec<(Duration, Outgoing)> = std::mem::take(&mut steps[index].frames)
            .into_iter()
            .map(|(offset, frame)| (rebase(offset, at_us, base), frame))
            .collect();
        steps[into].frames.extend(moved);
    }
}

/// `offset` from a trigger at `from_us`, as an offset from a trigger at `to_us`.
fn rebase(offset: Duration, from_us: u64, to_us: u64) -> Duration {
    let absolute = u64::try_from(offset.as_micros())
        .unwrap_or(u64::MAX)
        .saturating_add(from_us);
    Duration::from_micros(absolute.saturating_sub(to_us))
}

/// Replays one [`ReplayScript`] to one client.
pub struct Replayer {
    script: Arc<ReplayScript>,
    speed: f64,
    cursor: usize,
    audio_ms: f64,
    /// Deadline of the last frame scheduled: later steps never overtake it, so
    /// frames go out in the order they were recorded.
    last_deadline: Option<Instant>,
    timeline: Timeline,
    notes: Vec<Note>,
    /// Recordings this session may turn out to continue (see
    /// [`Replayer::continuing`]); empty once a client event has matched.
    continuations: Vec<Arc<ReplayScript>>,
}

impl Replayer {
    /// A replayer for `script` at `speed` (2.0 = twice as fast as recorded).
    pub fn new(script: Arc<ReplayScript>, speed: f64) -> Self {
        Replayer {
            script,
            speed: speed.max(1e-6),
            cursor: 0,
            audio_ms: 0.0,
            last_deadline: None,
            timeline: Timeline::new(),
            notes: Vec::new(),
            continuations: Vec::new(),
        }
    }

    /// Lets the session's first client event pick another of `scripts` when it
    /// carries a key the selected script does not expect and another script's
    /// first client event does: a Gemini client resuming with a recorded
    /// handle continues the recording of the resumed connection, whatever
    /// cassette the client named.
    pub fn continuing(mut self, scripts: Vec<Arc<ReplayScript>>) -> Self {
        self.continuations = scripts;
        self
    }

    /// The first client trigger of `script`.
    fn first_client_trigger(script: &ReplayScript) -> Option<(&str, &Value)> {
        script.steps.iter().find_map(|step| match &step.trigger {
            Trigger::Client { event_type, key } => Some((event_type.as_str(), key)),
            _ => None,
        })
    }

    /// Moves to the continuation whose first client event is (`event_type`,
    /// `key`), if there is one and nothing has been matched yet.
    fn switch_to_continuation(&mut self, event_type: &str, key: &Value) -> bool {
        if key.is_null() || self.continuations.is_empty() {
            return false;
        }
        let found = self
            .continuations
            .iter()
            .find(|candidate| Self::first_client_trigger(candidate) == Some((event_type, key)));
        let Some(next) = found.cloned() else {
            return false;
        };
        self.notes.push(Note::new(
            "continued",
            format!(
                "`{event_type}` {key} continues cassette `{}` (was `{}`)",
                next.name, self.script.name
            ),
        ));
        // The connection's own frames (step 0) already went out.
        self.script = next;
        self.cursor = 1;
        self.continuations.clear();
        true
    }

    fn fire(&mut self, index: usize, now: Instant) {
        let script = Arc::clone(&self.script);
        for (offset, frame) in &script.steps[index].frames {
            let at = (now + offset.div_f64(self.speed)).max(self.last_deadline.unwrap_or(now));
            self.last_deadline = Some(at);
            self.timeline.push(at, frame.clone());
        }
        self.cursor = index + 1;
    }

    fn fire_reached_audio(&mut self, now: Instant) {
        while let Some(Step {
            trigger: Trigger::Audio { ms },
            ..
        }) = self.script.steps.get(self.cursor)
        {
            if *ms > self.audio_ms + 0.5 {
                break;
            }
            self.fire(self.cursor, now);
        }
    }
}

impl<E> SessionEngine<E> for Replayer {
    fn label(&self) -> String {
        format!("replay:{}", self.script.name)
    }

    fn on_connect(&mut self, now: Instant) {
        self.fire(0, now);
    }

    fn on_client_event(&mut self, _event: &E, summary: &FrameSummary, now: Instant) {
        if let Some(ms) = summary.audio_ms {
            self.audio_ms += ms;
            self.fire_reached_audio(now);
            return;
        }
        let wanted_type = summary.event_type.as_str();
        let key = summary.key.clone();
        let next_client = self.script.steps[self.cursor..]
            .iter()
            .position(|s| matches!(s.trigger, Trigger::Client { .. }))
            .map(|p| p + self.cursor);
        let Some(index) = next_client else {
            self.notes.push(Note::new(
                "replay.unexpected",
                format!(
                    "`{wanted_type}` arrived after the cassette's last client event; not answered"
                ),
            ));
            return;
        };
        let Trigger::Client {
            event_type,
            key: expected_key,
        } = &self.script.steps[index].trigger
        else {
            return;
        };
        if event_type != wanted_type || *expected_key != key {
            let expected = format!("`{event_type}` {expected_key}");
            if self.switch_to_continuation(wanted_type, &key) {
                return self.on_client_event(_event, summary, now);
            }
            self.notes.push(Note::new(
                "replay.mismatch",
                format!("expected {expected}, got `{wanted_type}` {key}; not answered"),
            ));
            return;
        }
        // The session is this recording's: no other may take it over now.
        self.continuations.clear();
        for skipped in self.cursor..index {
            if let Trigger::Audio { ms } = self.script.steps[skipped].trigger {
                self.notes.push(Note::new(
                    "replay.audio_short",
                    format!(
                        "client sent {:.0} ms of audio; the cassette had {ms:.0} ms by here",
                        self.audio_ms
                    ),
                ));
            }
            self.fire(skipped, now);
        }
        self.fire(index, now);
        // Audio the client sent ahead of this event may already reach the
        // steps after it.
        self.fire_reached_audio(now);
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Outgoing> {
        self.timeline.pop_due(now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timeline.next_deadline()
    }

    fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::OpenAiProtocol;
    use serde_json::json;
    use understudy_adapters::openai::wire::ClientEvent;
    use understudy_adapters::openai::Dialect;
    use understudy_fixtures::{Frame, Header, Origin};

    const GA: OpenAiProtocol = OpenAiProtocol {
        dialect: Dialect::Ga,
    };
    type Engine = dyn SessionEngine<ClientEvent>;

    fn feed(r: &mut Replayer, event: &ClientEvent, now: Instant) {
        let summary = GA.summarise(event);
        (r as &mut Engine).on_client_event(event, &summary, now);
    }

    fn cassette() -> Cassette {
        let mut c = ga_cassette(Vec::new());
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        c.frames = vec![
            s(
                1_000,
                json!({"type":"session.created","event_id":"e1","session":{}}),
            ),
            c2s(
                10_000,
                json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="}),
            ),
            c2s(
                20_000,
                json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="}),
            ),
            s(
                25_000,
                json!({"type":"input_audio_buffer.speech_started","event_id":"e2","audio_start_ms":0,"item_id":"i"}),
            ),
            c2s(30_000, json!({"event_id":"bad"})),
            s(
                30_500,
                json!({"type":"error","event_id":"e3","error":{"type":"invalid_request_error","message":"x"}}),
            ),
            c2s(
                40_000,
                json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[]}}),
            ),
            s(
                40_100,
                json!({"type":"conversation.item.added","event_id":"e4","item":{"type":"message"}}),
            ),
            s(
                90_000,
                json!({"type":"conversation.item.done","event_id":"e5","item":{"type":"message"}}),
            ),
        ];
        c
    }

    /// The event types each step of a script sends, step by step.
    fn types_by_step(script: &ReplayScript) -> Vec<Vec<&str>> {
        script
            .steps
            .iter()
            .map(|st| {
                st.frames
                    .iter()
                    .filter_map(|(_, f)| match f {
                        Outgoing::Text { event_type, .. } => Some(&**event_type),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    fn types(frames: &[Outgoing]) -> Vec<String> {
        frames
            .iter()
            .map(|f| match f {
                Outgoing::Text { event_type, .. } | Outgoing::Binary { event_type, .. } => {
                    event_type.to_string()
                }
                Outgoing::Close { code, .. } => format!("close {code}"),
            })
            .collect()
    }

    #[test]
    fn script_groups_frames_under_their_triggers_and_drops_invalid_exchanges() {
        let script = ReplayScript::from_cassette("t", &cassette(), &GA).unwrap();
        let triggers: Vec<&Trigger> = script.steps.iter().map(|s| &s.trigger).collect();
        assert_eq!(triggers.len(), 3);
        assert_eq!(*triggers[0], Trigger::Connect);
        assert!(matches!(triggers[1], Trigger::Audio { ms } if (*ms - 4.0 / 24.0).abs() < 1e-9));
        assert!(
            matches!(triggers[2], Trigger::Client { event_type, .. } if event_type == "conversation.item.create")
        );
        assert_eq!(script.steps[2].frames[1].0, Duration::from_micros(50_000));
        let all: Vec<&str> = script
            .steps
            .iter()
            .flat_map(|s| s.frames.iter())
            .filter_map(|(_, f)| match f {
                Outgoing::Text { event_type, .. } => Some(&**event_type),
                _ => None,
            })
            .collect();
        assert!(
            !all.contains(&"error"),
            "the validator answers malformed frames live"
        );
    }

    #[tokio::test]
    async fn frames_go_out_at_their_offsets_from_the_trigger_scaled_by_speed() {
        let script = Arc::new(ReplayScript::from_cassette("t", &cassette(), &GA).unwrap());
        let mut r = Replayer::new(script, 2.0);
        let t0 = Instant::now();
        (&mut r as &mut Engine).on_connect(t0);
        assert_eq!(
            types(&(&mut r as &mut Engine).pop_due(t0 + Duration::from_micros(500))),
            ["session.created"]
        );
        // Audio is matched by amount, not by chunking: one bigger append fires the step.
        let append: ClientEvent = serde_json::from_value(
            json!({"type":"input_audio_buffer.append","audio":"AAAAAAAAAAA="}),
        )
        .unwrap();
        feed(&mut r, &append, t0 + Duration::from_millis(10));
        assert_eq!(
            types(&(&mut r as &mut Engine).pop_due(t0 + Duration::from_millis(13))),
            ["input_audio_buffer.speech_started"]
        );
        let create: ClientEvent = serde_json::from_value(json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"other words"}]}})).unwrap();
        let t1 = t0 + Duration::from_millis(100);
        feed(&mut r, &create, t1);
        assert_eq!(
            types(&(&mut r as &mut Engine).pop_due(t1 + Duration::from_micros(50))),
            ["conversation.item.added"]
        );
        assert_eq!(
            (&mut r as &mut Engine).next_deadline(),
            Some(t1 + Duration::from_millis(25))
        );
    }

    #[test]
    fn the_close_reply_to_a_client_close_is_not_replayed() {
        let mut c = cassette();
        let end = c.frames.last().map_or(0, |f| f.t_us);
        c.frames
            .push(Frame::close(end + 10, Direction::ClientToServer, 1000, ""));
        c.frames
            .push(Frame::close(end + 20, Direction::ServerToClient, 1000, ""));
        let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
        let closes = script
            .steps
            .iter()
            .flat_map(|s| s.frames.iter())
            .filter(|(_, f)| matches!(f, Outgoing::Close { .. }))
            .count();
        assert_eq!(
            closes, 0,
            "the recorded echo would close the replayed session early"
        );
        // A close the server starts is replayed.
        let mut c = cassette();
        c.frames.push(Frame::close(
            end + 10,
            Direction::ServerToClient,
            1011,
            "bye",
        ));
        let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
        assert!(script
            .steps
            .iter()
            .flat_map(|s| s.frames.iter())
            .any(|(_, f)| matches!(f, Outgoing::Close { code: 1011, .. })));
    }

    #[test]
    fn session_created_always_answers_the_connection() {
        let mut c = cassette();
        // The client's first event was recorded before the greeting arrived.
        c.frames.insert(
            0,
            Frame::text_json(
                500,
                Direction::ClientToServer,
                json!({"type":"session.update","session":{"type":"realtime"}}),
            ),
        );
        let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
        assert_eq!(script.steps[0].trigger, Trigger::Connect);
        assert_eq!(
            types(
                &script.steps[0]
                    .frames
                    .iter()
                    .map(|(_, f)| f.clone())
                    .collect::<Vec<_>>()
            ),
            ["session.created"]
        );
        assert!(
            script.steps[1].frames.is_empty(),
            "session.update's step keeps no greeting"
        );
    }

    #[test]
    fn answers_stay_with_the_event_they_answer_when_the_client_pipelined() {
        // The recording client sent commit and response.create back to back,
        // before `committed` arrived; a client that waits for `committed`
        // before asking for a response must still get it.
        let mut c = ga_cassette(Vec::new());
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        c.frames = vec![
            s(
                1_000,
                json!({"type":"session.created","event_id":"e1","session":{}}),
            ),
            c2s(
                10_000,
                json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="}),
            ),
            c2s(20_000, json!({"type":"input_audio_buffer.commit"})),
            c2s(20_050, json!({"type":"response.create"})),
            s(
                20_300,
                json!({"type":"input_audio_buffer.committed","event_id":"e2","item_id":"i"}),
            ),
            s(
                20_400,
                json!({"type":"conversation.item.added","event_id":"e3","item":{"type":"message"}}),
            ),
            s(
                20_500,
                json!({"type":"response.created","event_id":"e4","response":{}}),
            ),
            s(
                20_600,
                json!({"type":"response.output_audio.delta","event_id":"e5","response_id":"r","item_id":"a","output_index":0,"content_index":0,"delta":"AAAA"}),
            ),
        ];
        let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
        let by_step = types_by_step(&script);
        assert_eq!(
            by_step[2],
            ["input_audio_buffer.committed", "conversation.item.added"],
            "{by_step:?}"
        );
        assert_eq!(
            by_step[3],
            ["response.created", "response.output_audio.delta"],
            "{by_step:?}"
        );
        assert_eq!(
            script.steps[2].frames[0].0,
            Duration::from_micros(300),
            "offset from the commit it answers"
        );
    }

    #[test]
    fn response_output_stays_with_its_response_until_speech_interrupts_it() {
        let mut c = ga_cassette(Vec::new());
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        let append = || json!({"type":"input_audio_buffer.append","audio":"AAAAAA=="});
        let delta = |id: &str| json!({"type":"response.output_audio.delta","event_id":id,"response_id":"r","item_id":"a","output_index":0,"content_index":0,"delta":"AAAA"});
        c.frames = vec![
            c2s(10_000, append()),
            s(
                11_000,
                json!({"type":"response.created","event_id":"e1","response":{"id":"r"}}),
            ),
            c2s(20_000, append()), // silence still streaming
            s(21_000, delta("e2")),
            c2s(30_000, append()), // the user talks over the answer
            s(
                31_000,
                json!({"type":"input_audio_buffer.speech_started","event_id":"e3","audio_start_ms":0,"item_id":"u"}),
            ),
            s(
                31_500,
                json!({"type":"response.done","event_id":"e4","response":{"id":"r","status":"cancelled"}}),
            ),
        ];
        let script = ReplayScript::from_cassette("t", &c, &GA).unwrap();
        let types = types_by_step(&script);
        assert_eq!(
            types[1],
            ["response.created", "response.output_audio.delta"],
            "{types:?}"
        );
        // Appends with nothing anchored to them merge into one audio trigger.
        assert_eq!(types.len(), 3, "{types:?}");
        assert_eq!(
            types[2],
            ["input_audio_buffer.speech_started", "response.done"],
            "{types:?}"
        );
    }

    #[tokio::test]
    async fn a_later_step_never_overtakes_an_earlier_one() {
        let script = Arc::new(ReplayScript::from_cassette("t", &cassette(), &GA).unwrap());
        let mut r = Replayer::new(script, 1.0);
        let t0 = Instant::now();
        (&mut r as &mut Engine).on_connect(t0); // session.created due at t0 + 1 ms
                                                // The client's event arrives at once; its answer is recorded 0.1 ms after it.
        let create: ClientEvent = serde_json::from_value(json!({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[]}})).unwrap();
        let append: ClientEvent = serde_json::from_value(
            json!({"type":"input_audio_buffer.append","audio":"AAAAAAAAAAA="}),
        )
        .unwrap();
        feed(&mut r, &append, t0);
        feed(&mut r, &create, t0);
        let order = types(&(&mut r as &mut Engine).pop_due(t0 + Duration::from_secs(1)));
        assert_eq!(
            order,
            [
                "session.created",
                "input_audio_buffer.speech_started",
                "conversation.item.added",
                "conversation.item.done"
            ]
        );
    }

    fn ga_cassette(frames: Vec<Frame>) -> Cassette {
        let mut c = Cassette::new(Header::new(
            "openai",
            "openai-ga",
            "gpt-realtime",
            Origin::Synthesized,
        ));
        c.frames = frames;
        c
    }

    fn user_item(id: &str) -> Value {
        json!({"type":"conversation.item.create","item":{"id":id,"type":"message","role":"user","content":[{"type":"input_text","text":id}]}})
    }

    fn item_added(id: &str, previous: Option<&str>) -> Value {
        json!({"type":"conversation.item.added","event_id":format!("ev_{id}"),"previous_item_id":previous,"item":{"id":id,"type":"message","role":"user","status":"completed","content":[]}})
    }

    /// History seeding: three creates back to back, answered afterwards.
    fn seeding() -> Cassette {
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        ga_cassette(vec![
            s(
                1_000,
                json!({"type":"session.created","event_id":"e0","session":{}}),
            ),
            c2s(10_000, user_item("a")),
            c2s(10_010, user_item("b")),
            c2s(10_020, user_item("c")),
            s(10_300, item_added("a", None)),
            s(10_400, item_added("b", Some("a"))),
            s(10_500, item_added("c", Some("b"))),
        ])
    }

    /// The JSON text of `frames` (binary frames carry JSON too).
    fn texts(frames: &[Outgoing]) -> Vec<String> {
        frames
            .iter()
            .filter_map(|f| match f {
                Outgoing::Text { text, .. } => Some(text.to_string()),
                Outgoing::Binary { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
                Outgoing::Close { .. } => None,
            })
            .collect()
    }

    /// The recorded server frames of `c`, as they would go out.
    fn recorded_server_texts(c: &Cassette) -> Vec<String> {
        c.frames
            .iter()
            .filter(|f| f.dir == Direction::ServerToClient)
            .filter_map(|f| f.json().map(Value::to_string))
            .collect()
    }

    fn client_events(c: &Cassette) -> Vec<ClientEvent> {
        c.frames
            .iter()
            .filter(|f| f.dir == Direction::ClientToServer)
            .filter_map(|f| f.json().cloned())
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    #[tokio::test]
    async fn pipelined_requests_get_their_own_answers_one_at_a_time() {
        let c = seeding();
        let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
        let mut r = Replayer::new(script, 1.0);
        let mut now = Instant::now();
        (&mut r as &mut Engine).on_connect(now);
        let mut got = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(1)));
        // Each create waits for its own answer before the next is sent.
        for event in client_events(&c) {
            now += Duration::from_secs(2);
            feed(&mut r, &event, now);
            let answer = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(1)));
            assert_eq!(answer.len(), 1, "one answer per create: {answer:?}");
            got.extend(answer);
        }
        assert_eq!(got, recorded_server_texts(&c));
    }

    #[test]
    fn answers_pair_with_requests_in_recorded_order() {
        let script = ReplayScript::from_cassette("t", &seeding(), &GA).unwrap();
        let by_step: Vec<Vec<String>> = script
            .steps
            .iter()
            .map(|st| texts(&st.frames.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>()))
            .collect();
        for (step, id) in [(1, "\"a\""), (2, "\"b\""), (3, "\"c\"")] {
            assert_eq!(by_step[step].len(), 1, "{by_step:?}");
            assert!(by_step[step][0].contains(id), "{by_step:?}");
        }
    }

    /// A tool round trip whose client sent the tool output and the next
    /// `response.create` before `response.done`; `rate_limits.updated` was
    /// recorded right after `response.done`, before the tool output's answers.
    fn tool_round_trip() -> Cassette {
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        let output = json!({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"call_1","output":"{}"}});
        ga_cassette(vec![
            s(
                1_000,
                json!({"type":"session.created","event_id":"e0","session":{}}),
            ),
            c2s(10_000, json!({"type":"response.create"})),
            s(
                10_100,
                json!({"type":"response.created","event_id":"e1","response":{"id":"r1"}}),
            ),
            s(
                10_200,
                json!({"type":"response.function_call_arguments.done","event_id":"e2","response_id":"r1","item_id":"fc","output_index":0,"call_id":"call_1","name":"f","arguments":"{}"}),
            ),
            c2s(10_250, output),
            c2s(10_260, json!({"type":"response.create"})),
            s(
                10_300,
                json!({"type":"response.done","event_id":"e3","response":{"id":"r1","status":"completed"}}),
            ),
            s(
                10_310,
                json!({"type":"rate_limits.updated","event_id":"e4","rate_limits":[]}),
            ),
            s(
                10_400,
                json!({"type":"conversation.item.added","event_id":"e5","previous_item_id":"fc","item":{"id":"out","type":"function_call_output"}}),
            ),
            s(
                10_410,
                json!({"type":"conversation.item.done","event_id":"e6","previous_item_id":"fc","item":{"id":"out","type":"function_call_output"}}),
            ),
            s(
                10_500,
                json!({"type":"response.created","event_id":"e7","response":{"id":"r2"}}),
            ),
            s(
                10_900,
                json!({"type":"response.done","event_id":"e8","response":{"id":"r2","status":"completed"}}),
            ),
        ])
    }

    #[tokio::test]
    async fn a_direction_keeps_its_recorded_order_when_the_client_pipelines() {
        let c = tool_round_trip();
        let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
        let mut r = Replayer::new(script, 1.0);
        let now = Instant::now();
        (&mut r as &mut Engine).on_connect(now);
        for event in client_events(&c) {
            feed(&mut r, &event, now);
        }
        let got = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(10)));
        assert_eq!(got, recorded_server_texts(&c));
    }

    #[tokio::test]
    async fn a_direction_keeps_its_recorded_order_one_request_at_a_time() {
        // The client sends each event only once it has everything the
        // recording shows before it.
        let c = tool_round_trip();
        let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
        let mut r = Replayer::new(script, 1.0);
        let mut now = Instant::now();
        (&mut r as &mut Engine).on_connect(now);
        let mut got = Vec::new();
        for event in client_events(&c) {
            now += Duration::from_secs(1);
            got.extend(texts(&(&mut r as &mut Engine).pop_due(now)));
            feed(&mut r, &event, now);
        }
        got.extend(texts(
            &(&mut r as &mut Engine).pop_due(now + Duration::from_secs(10)),
        ));
        assert_eq!(got, recorded_server_texts(&c));
    }

    #[tokio::test]
    async fn google_genai_snake_case_url_safe_audio_is_replayed_by_amount() {
        use crate::gemini::GeminiProtocol;
        use understudy_adapters::gemini::wire::ClientMessage;
        // 0.1 s of 16 kHz PCM16 whose base64 differs between the alphabets.
        let url_safe = "-_-_".repeat(3200 / 3 + 1);
        let mut c = Cassette::new(Header::new(
            "gemini",
            "gemini-live",
            "gemini-live-2.5-flash-preview",
            Origin::Synthesized,
        ));
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        c.frames = vec![
            c2s(1_000, json!({"setup":{"model":"models/x"}})),
            s(2_000, json!({"setupComplete":{}})),
            c2s(
                10_000,
                json!({"realtime_input":{"audio":{"data":url_safe,"mime_type":"audio/pcm;rate=16000"}}}),
            ),
            s(
                20_000,
                json!({"serverContent":{"inputTranscription":{"text":"hi"}}}),
            ),
        ];
        let script = ReplayScript::from_cassette("t", &c, &GeminiProtocol).unwrap();
        assert!(
            matches!(script.steps.last().map(|st| &st.trigger), Some(Trigger::Audio { ms }) if (*ms - 100.0).abs() < 1.0),
            "{:?}",
            script
                .steps
                .iter()
                .map(|st| &st.trigger)
                .collect::<Vec<_>>()
        );
        let mut r = Replayer::new(Arc::new(script), 1.0);
        let engine: &mut dyn SessionEngine<ClientMessage> = &mut r;
        let t0 = Instant::now();
        engine.on_connect(t0);
        for text in [
            json!({"setup":{"model":"models/x"}}).to_string(),
            // The same 0.1 s, camelCase and standard base64 this time.
            json!({"realtimeInput":{"audio":{"data":"AAAA".repeat(3200 / 3 + 1),"mimeType":"audio/pcm;rate=16000"}}}).to_string(),
        ] {
            let message = GeminiProtocol.parse(&text, usize::MAX).unwrap();
            let summary = GeminiProtocol.summarise(&message);
            engine.on_client_event(&message, &summary, t0);
        }
        let sent: Vec<String> = texts(&engine.pop_due(t0 + Duration::from_secs(1)));
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent[1].contains("inputTranscription"), "{sent:?}");
    }

    #[tokio::test]
    async fn audio_sent_ahead_of_a_client_event_still_fires_the_steps_after_it() {
        // Recorded: 10 ms of audio, a create, 10 ms more, then speech started.
        let s = |t, v: Value| Frame::text_json(t, Direction::ServerToClient, v);
        let c2s = |t, v: Value| Frame::text_json(t, Direction::ClientToServer, v);
        let ten_ms = || json!({"type":"input_audio_buffer.append","audio":"AAAA".repeat(160)});
        let c = ga_cassette(vec![
            s(
                1_000,
                json!({"type":"session.created","event_id":"e0","session":{}}),
            ),
            c2s(10_000, ten_ms()),
            s(
                11_000,
                json!({"type":"rate_limits.updated","event_id":"e1","rate_limits":[]}),
            ),
            c2s(20_000, user_item("a")),
            s(20_100, item_added("a", None)),
            c2s(30_000, ten_ms()),
            s(
                31_000,
                json!({"type":"input_audio_buffer.speech_started","event_id":"e2","audio_start_ms":0,"item_id":"u"}),
            ),
        ]);
        let script = Arc::new(ReplayScript::from_cassette("t", &c, &GA).unwrap());
        let mut r = Replayer::new(script, 1.0);
        let now = Instant::now();
        (&mut r as &mut Engine).on_connect(now);
        // This client sends all 20 ms of its audio first, in one append.
        let twenty_ms: ClientEvent = serde_json::from_value(
            json!({"type":"input_audio_buffer.append","audio":"AAAA".repeat(320)}),
        )
        .unwrap();
        feed(&mut r, &twenty_ms, now);
        let create: ClientEvent = serde_json::from_value(user_item("a")).unwrap();
        feed(&mut r, &create, now);
        let got = texts(&(&mut r as &mut Engine).pop_due(now + Duration::from_secs(1)));
        assert_eq!(got, recorded_server_texts(&c));
    }

    #[tokio::test]
    async fn a_mismatched_event_is_noted_and_not_answered() {
        let script = Arc::new(ReplayScript::from_cassette("t", &cassette(), &GA).unwrap());
        let mut r = Replayer::new(script, 1.0);
        let t0 = Instant::now();
        (&mut r as &mut Engine).on_connect(t0);
        (&mut r as &mut Engine).pop_due(t0 + Duration::from_secs(1));
        let cancel: ClientEvent =
            serde_json::from_value(json!({"type":"response.cancel"})).unwrap();
        feed(&mut r, &cancel, t0);
        assert!((&mut r as &mut Engine)
            .pop_due(t0 + Duration::from_secs(10))
            .is_empty());
        let notes = (&mut r as &mut Engine).take_notes();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].label, "replay.mismatch");
    }
}
