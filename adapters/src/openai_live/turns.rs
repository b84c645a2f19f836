//! The inference core: turns and replies from timed observations.
//!
//! GPT-Live has no turn or response boundary on the wire, so this state
//! machine derives them from what the decoder observes — output audio chunks
//! (voiced or silent), timed transcript fragments, delegations — and from
//! the session timeline those carry. It reads no clock: time is the
//! timeline (ms from session start) the observations carry, the output
//! track's position where they carry none, or what a caller passes to
//! [`Turns::advance_to`]. The rules are listed in the
//! [`codec`](super::codec) module header; the thresholds are
//! [`LiveSettings`].

use super::settings::LiveSettings;
use crate::audio::Pcm;
use crate::event::{MessagePhase, ModelEvent, ResponseStatus};
use std::collections::HashSet;

/// The user's turn in progress (or the last one, once closed).
#[derive(Debug, Clone)]
struct UserTurn {
    item_id: String,
    /// Timeline end of its last fragment.
    last_end_ms: u64,
    /// The timeline when its last fragment arrived: fragments come some
    /// time after their `end_ms` (a few hundred ms from the service; a
    /// whole utterance's at once from a transcriber that waits for its
    /// end), and the quiet that ends the turn counts from whichever is
    /// later, so that a batch arriving late is not cut into pieces.
    heard_at_ms: u64,
    /// Where the turn was closed on the timeline (a fragment starting
    /// before this is a late part of it).
    closed_at_ms: u64,
    text: String,
}

/// A reply in progress.
#[derive(Debug, Clone)]
struct Reply {
    response_id: String,
    item_id: String,
    phase: MessagePhase,
    /// Timeline end of the model's last speech (voiced audio or output
    /// transcript fragment) in this reply.
    last_speech_ms: u64,
    /// Timeline end of its last voiced output chunk, once it has one: the
    /// barge-in rule judges the model's *voice* (a transcript fragment may
    /// be timed past the point where the voice was cut).
    last_voice_ms: Option<u64>,
    transcript: String,
    /// Whether any audio of it was reported.
    audio_sent: bool,
    /// Silence since the last voiced chunk, in ms of audio.
    quiet_audio_ms: f64,
    /// Silent chunks beyond the kept pause, held until voice resumes.
    held: Vec<Pcm>,
    /// Where the user started talking over this reply, when they did.
    overlap_at_ms: Option<u64>,
}

/// How a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyEnd {
    /// Quiet long enough, or the user spoke after the model stopped.
    Quiet,
    /// The model stopped soon after the user started talking over it.
    BargeIn,
    /// The application started an audio fixture, which interrupts the model.
    Fixture,
    /// The session ended normally while the reply was open.
    SessionClosed,
    /// The session ended abnormally (expired, content, connection lost,
    /// socket end without `session.closed`).
    SessionLost,
}

impl ReplyEnd {
    fn status(self) -> ResponseStatus {
        match self {
            ReplyEnd::Quiet | ReplyEnd::SessionClosed => ResponseStatus::Completed,
            ReplyEnd::BargeIn | ReplyEnd::Fixture => ResponseStatus::Cancelled,
            ReplyEnd::SessionLost => ResponseStatus::Incomplete,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            ReplyEnd::Quiet => "inferred: the model went quiet",
            ReplyEnd::BargeIn => "inferred: the user talked over the model and it stopped",
            ReplyEnd::Fixture => "an audio fixture interrupted the model",
            ReplyEnd::SessionClosed => "the session closed",
            ReplyEnd::SessionLost => "the session ended abnormally",
        }
    }
}

/// The turn and reply state of one session.
#[derive(Debug, Clone)]
pub(crate) struct Turns {
    settings: LiveSettings,
    /// The newest timeline point observed or passed in.
    now_ms: u64,
    /// Position of the output track (sum of chunk durations), in ms.
    output_pos_ms: f64,
    user: Option<UserTurn>,
    /// The last closed user turn, for late fragments and delegation requests.
    last_user: Option<UserTurn>,
    reply: Option<Reply>,
    /// The last reply's id, for a tool call made outside any reply.
    last_response_id: Option<String>,
    next_user: u64,
    next_reply: u64,
    /// Delegations created and not yet answered.
    outstanding: HashSet<String>,
}

impl Turns {
    pub(crate) fn new(settings: LiveSettings) -> Self {
        Turns {
            settings,
            now_ms: 0,
            output_pos_ms: 0.0,
            user: None,
            last_user: None,
            reply: None,
            last_response_id: None,
            next_user: 0,
            next_reply: 0,
            outstanding: HashSet::new(),
        }
    }

    /// The newest timeline point, in ms.
    pub(crate) fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Moves the timeline to `timeline_ms` (never backwards) and applies the
    /// time rules.
    pub(crate) fn advance_to(&mut self, timeline_ms: u64) -> Vec<ModelEvent> {
        self.now_ms = self.now_ms.max(timeline_ms);
        let mut out = Vec::new();
        self.apply_time_rules(&mut out);
        out
    }

    /// One chunk of the output track, already PCM16 at `rate`; `span` is its
    /// timeline placement where the wire gives one (sideband).
    pub(crate) fn output_audio(
        &mut self,
        pcm: Pcm,
        rate: u32,
        span: Option<(u64, u64)>,
    ) -> Vec<ModelEvent> {
        let duration = pcm.duration_ms(rate);
        let (start, end) = match span {
            Some((start, end)) => {
                self.output_pos_ms = end as f64;
                (start, end)
            }
            None => {
                let start = self.output_pos_ms;
                self.output_pos_ms += duration;
                (start as u64, self.output_pos_ms.round() as u64)
            }
        };
        let voiced = peak(&pcm) > i32::from(self.settings.silence_peak);
        let mut out = Vec::new();
        if voiced {
            self.open_reply(start, &mut out);
        }
        self.now_ms = self.now_ms.max(end);
        if let Some(reply) = self.reply.as_mut() {
            if voiced {
                reply.last_speech_ms = reply.last_speech_ms.max(end);
                reply.last_voice_ms = Some(reply.last_voice_ms.map_or(end, |v| v.max(end)));
                reply.quiet_audio_ms = 0.0;
                for held in std::mem::take(&mut reply.held) {
                    out.push(audio_event(reply, held, rate));
                }
                out.push(audio_event(reply, pcm, rate));
            } else {
                // Silence inside a reply: a pause between words, or its end.
                reply.quiet_audio_ms += duration;
                if reply.quiet_audio_ms <= self.settings.kept_pause_ms as f64 {
                    out.push(audio_event(reply, pcm, rate));
                } else {
                    reply.held.push(pcm);
                }
            }
        }
        // Without a reply, the chunk is the idle track: silence, no event.
        self.apply_time_rules(&mut out);
        out
    }

    /// A fragment of what the model says.
    pub(crate) fn output_transcript(
        &mut self,
        delta: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> Vec<ModelEvent> {
        let mut out = Vec::new();
        self.open_reply(start_ms, &mut out);
        // The service releases a fragment once the timeline reaches its
        // start; its end may still be ahead of the track (the last word of
        // a reply can be timed past where a barge-in cuts the voice), so
        // only the start says where the timeline is.
        self.now_ms = self.now_ms.max(start_ms);
        if let Some(reply) = self.reply.as_mut() {
            reply.last_speech_ms = reply.last_speech_ms.max(end_ms);
            let delta = join(&mut reply.transcript, delta);
            out.push(ModelEvent::TranscriptDelta {
                response_id: reply.response_id.clone(),
                item_id: reply.item_id.clone(),
                delta,
                phase: Some(reply.phase.clone()),
            });
        }
        self.apply_time_rules(&mut out);
        out
    }

    /// A fragment of what the user says.
    pub(crate) fn input_transcript(
        &mut self,
        delta: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> Vec<ModelEvent> {
        let mut out = Vec::new();
        // A fragment that starts before the last closed turn ended is a late
        // part of it (punctuation transcribed after the reply began).
        if self.user.is_none() {
            if let Some(last) = self.last_user.as_mut() {
                if start_ms < last.closed_at_ms {
                    let delta = join(&mut last.text, delta);
                    out.push(ModelEvent::InputTranscriptDelta {
                        item_id: last.item_id.clone(),
                        delta,
                    });
                    return out;
                }
            }
        }
        if let Some(reply) = self.reply.as_mut() {
            if start_ms >= reply.last_speech_ms {
                // The model had stopped before the user began: it finished.
                self.end_reply(ReplyEnd::Quiet, &mut out);
            } else if reply.overlap_at_ms.is_none() {
                reply.overlap_at_ms = Some(start_ms);
            }
        }
        self.now_ms = self.now_ms.max(end_ms);
        let user = match self.user.as_mut() {
            Some(user) => user,
            None => {
                self.next_user += 1;
                let item_id = format!("live_in_{}", self.next_user);
                out.push(ModelEvent::SpeechStarted {
                    item_id: item_id.clone(),
                    audio_start_ms: start_ms,
                });
                self.user.insert(UserTurn {
                    item_id,
                    last_end_ms: end_ms,
                    heard_at_ms: end_ms,
                    closed_at_ms: end_ms,
                    text: String::new(),
                })
            }
        };
        user.last_end_ms = user.last_end_ms.max(end_ms);
        user.heard_at_ms = self.now_ms;
        let delta = join(&mut user.text, delta);
        out.push(ModelEvent::InputTranscriptDelta {
            item_id: user.item_id.clone(),
            delta,
        });
        self.apply_time_rules(&mut out);
        out
    }

    /// The client's own microphone carried voice from `at_ms` on the
    /// timeline (the service says nothing until the words are transcribed,
    /// which may be after the model has already stopped): a reply in
    /// progress is overlapped from there, and the barge-in rule decides
    /// once the output track reaches that point. No event of its own: the
    /// user's turn still starts with its first transcript fragment.
    pub(crate) fn user_voice(&mut self, at_ms: u64) -> Vec<ModelEvent> {
        if let Some(reply) = self.reply.as_mut() {
            if reply.overlap_at_ms.is_none() {
                reply.overlap_at_ms = Some(at_ms);
            }
        }
        let mut out = Vec::new();
        self.apply_time_rules(&mut out);
        out
    }

    /// A delegation was created at `offset_ms`. Ends the user's turn (the
    /// request) and opens a reply for the model's acknowledgement; returns
    /// the events and the words of the request.
    pub(crate) fn delegation(&mut self, id: &str, offset_ms: u64) -> (Vec<ModelEvent>, String) {
        let mut out = Vec::new();
        self.outstanding.insert(id.to_owned());
        self.now_ms = self.now_ms.max(offset_ms);
        let request = match self.user.as_ref() {
            Some(user) => user.text.clone(),
            None => self
                .last_user
                .as_ref()
                .filter(|last| last.last_end_ms <= offset_ms)
                .map(|last| last.text.clone())
                .unwrap_or_default(),
        };
        self.close_user(offset_ms, &mut out);
        (out, request)
    }

    /// The response a tool call belongs to: the reply in progress, else a
    /// new one opened at `at_ms` for the model's acknowledgement.
    pub(crate) fn reply_for_call(&mut self, at_ms: u64) -> (Vec<ModelEvent>, String) {
        let mut out = Vec::new();
        self.open_reply(at_ms, &mut out);
        let id = self
            .reply
            .as_ref()
            .map(|r| r.response_id.clone())
            .or_else(|| self.last_response_id.clone())
            .unwrap_or_default();
        (out, id)
    }

    /// A delegation was answered.
    pub(crate) fn delegation_answered(&mut self, id: &str) {
        self.outstanding.remove(id);
    }

    /// The session is over: closes the open reply and user turn.
    pub(crate) fn close(&mut self, end: ReplyEnd) -> Vec<ModelEvent> {
        let mut out = Vec::new();
        self.close_user(self.now_ms, &mut out);
        self.end_reply(end, &mut out);
        out
    }

    fn open_reply(&mut self, at_ms: u64, out: &mut Vec<ModelEvent>) {
        if self.reply.is_some() {
            return;
        }
        self.close_user(at_ms, out);
        self.next_reply += 1;
        let response_id = format!("live_resp_{}", self.next_reply);
        let phase = if self.outstanding.is_empty() {
            MessagePhase::FinalAnswer
        } else {
            MessagePhase::Commentary
        };
        out.push(ModelEvent::ResponseCreated {
            response_id: response_id.clone(),
        });
        self.last_response_id = Some(response_id.clone());
        self.reply = Some(Reply {
            item_id: format!("live_out_{}", self.next_reply),
            response_id,
            phase,
            last_speech_ms: at_ms,
            last_voice_ms: None,
            transcript: String::new(),
            audio_sent: false,
            quiet_audio_ms: 0.0,
            held: Vec::new(),
            overlap_at_ms: None,
        });
    }

    fn close_user(&mut self, at_ms: u64, out: &mut Vec<ModelEvent>) {
        let Some(mut user) = self.user.take() else {
            return;
        };
        user.closed_at_ms = user.last_end_ms.max(at_ms);
        out.push(ModelEvent::SpeechStopped {
            item_id: user.item_id.clone(),
            audio_end_ms: user.last_end_ms,
        });
        out.push(ModelEvent::InputCommitted {
            item_id: user.item_id.clone(),
        });
        out.push(ModelEvent::InputTranscriptDone {
            item_id: user.item_id.clone(),
            transcript: user.text.clone(),
        });
        self.last_user = Some(user);
    }

    fn end_reply(&mut self, end: ReplyEnd, out: &mut Vec<ModelEvent>) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let phase = Some(reply.phase.clone());
        if matches!(end, ReplyEnd::BargeIn | ReplyEnd::Fixture) {
            out.push(ModelEvent::Interrupted {
                response_id: Some(reply.response_id.clone()),
            });
        }
        if reply.audio_sent {
            out.push(ModelEvent::AudioDone {
                response_id: reply.response_id.clone(),
                item_id: reply.item_id.clone(),
                phase: phase.clone(),
            });
        }
        if !reply.transcript.is_empty() {
            out.push(ModelEvent::TranscriptDone {
                response_id: reply.response_id.clone(),
                item_id: reply.item_id.clone(),
                transcript: reply.transcript,
                phase,
            });
        }
        out.push(ModelEvent::ResponseDone {
            response_id: reply.response_id,
            status: end.status(),
            reason: Some(end.reason().to_owned()),
            error: None,
        });
    }

    fn apply_time_rules(&mut self, out: &mut Vec<ModelEvent>) {
        let now = self.now_ms;
        if let Some(reply) = self.reply.as_mut() {
            if let Some(user_at) = reply.overlap_at_ms {
                let seen_past = user_at.saturating_add(self.settings.barge_in_quiet_ms);
                // The voice where the reply has audio, else its words.
                let voice_end = reply.last_voice_ms.unwrap_or(reply.last_speech_ms);
                if voice_end > user_at.saturating_add(self.settings.barge_in_stop_ms) {
                    // The model talked on: the user's words were a backchannel.
                    reply.overlap_at_ms = None;
                } else if voice_end <= user_at {
                    if now >= seen_past {
                        // The track has passed the user's start and the
                        // model did not speak after it: no overlap (the
                        // reply had ended; the words decide what is next).
                        reply.overlap_at_ms = None;
                    }
                } else if now >= voice_end.saturating_add(self.settings.barge_in_quiet_ms) {
                    self.end_reply(ReplyEnd::BargeIn, out);
                }
            }
        }
        if let Some(reply) = self.reply.as_ref() {
            if now
                >= reply
                    .last_speech_ms
                    .saturating_add(self.settings.reply_end_silence_ms)
            {
                self.end_reply(ReplyEnd::Quiet, out);
            }
        }
        if self.reply.is_none() {
            if let Some(user) = self.user.as_ref() {
                if now
                    >= user
                        .last_end_ms
                        .max(user.heard_at_ms)
                        .saturating_add(self.settings.user_turn_end_ms)
                {
                    let at = user.last_end_ms;
                    self.close_user(at, out);
                }
            }
        }
    }
}

/// An audio event of `reply`, marking that it has audio.
fn audio_event(reply: &mut Reply, pcm: Pcm, rate: u32) -> ModelEvent {
    reply.audio_sent = true;
    ModelEvent::AudioDelta {
        response_id: reply.response_id.clone(),
        item_id: reply.item_id.clone(),
        pcm,
        sample_rate: rate,
    }
}

/// The largest sample magnitude of a chunk.
fn peak(pcm: &Pcm) -> i32 {
    pcm.samples().map(|s| i32::from(s).abs()).max().unwrap_or(0)
}

/// Appends a transcript fragment as sent (fragments carry their own leading
/// spaces), adding the space the service omits when a new sentence starts
/// right after `.`, `!` or `?`; returns what was appended — the delta to
/// report, so that a turn's deltas always join to its transcript.
fn join(text: &mut String, delta: &str) -> String {
    let sentence_ended = text.ends_with(['.', '!', '?']);
    let appended = if sentence_ended && delta.starts_with(|c: char| c.is_uppercase()) {
        format!(" {delta}")
    } else {
        delta.to_owned()
    };
    text.push_str(&appended);
    appended
}
