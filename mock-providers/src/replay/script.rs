//! Building a [`ReplayScript`] from a cassette: each server frame anchored to
//! the trigger that caused it (see the module header of `replay` for the
//! rules), answers paired with their requests in recorded order, and frames
//! pulled down to an earlier step when an answer would overtake them.

use super::{ReplayScript, ScriptError, Step, Trigger};
use crate::protocol::{Protocol, ResponseMarker};
use crate::timeline::Outgoing;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use understudy_fixtures::{Cassette, Direction, FrameBody};

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
                    let offset = if protocol.input_clocked()
                        && !answer
                        && matches!(steps[target].trigger, Trigger::Audio { .. })
                    {
                        // Due where the input audio is, not after a wall-clock delay.
                        Duration::ZERO
                    } else {
                        Duration::from_micros(frame.t_us.saturating_sub(steps[target].at_us))
                    };
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
