//! Normalising the server events the DashScope realtime dialects share
//! ([`SharedEvent`]) into [`ModelEvent`]s, with the points where the dialects
//! disagree as data ([`DecodeRules`]).

use super::SharedEvent;
use crate::audio::AudioFormat;
use crate::codec::DecodeError;
use crate::dashscope::wire::{Session, Usage as WireUsage};
use crate::dashscope::{INPUT_RATE, OUTPUT_RATE};
use crate::event::ModelEvent;
use crate::openai::codec::{error_info, response_end, usage_from};
use crate::openai::family::Shared;
use serde_json::{Map, Value};

/// What a DashScope realtime dialect decodes its own way, as a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeRules {
    /// Read audio formats from the nested `audio.<dir>.format.type` when the
    /// flat `<dir>_audio_format` is absent (Qwen-Omni 3.8's session shape).
    pub nested_formats: bool,
    /// An `error` of type `server_error` ends the session (Qwen-Audio: an
    /// `invalid_request_error` keeps the socket open, a `server_error` does not).
    pub server_error_fatal: bool,
    /// A cancelled `response.done` without `status_details.reason` counts as
    /// a barge-in when user speech started while it ran (Qwen-Omni, whose
    /// reasons are unconfirmed; Qwen-Audio always names one).
    pub interrupt_by_order: bool,
}

/// The decoder state the shared events need: the tool names and phases of
/// output items, the response running and whether user speech started in it.
#[derive(Debug, Clone)]
pub(crate) struct CoreDecoder {
    rules: DecodeRules,
    shared: Shared,
    active_response: Option<String>,
    interrupted: Option<String>,
}

impl CoreDecoder {
    /// A decoder core for a fresh session, following `rules`.
    pub(crate) fn new(rules: DecodeRules) -> Self {
        CoreDecoder {
            rules,
            shared: Shared::default(),
            active_response: None,
            interrupted: None,
        }
    }

    /// Normalises one shared event; `event_type` is its wire `type` (for
    /// error messages about its payload).
    pub(crate) fn decode(
        &mut self,
        event: SharedEvent<'_>,
        event_type: &str,
    ) -> Result<Vec<ModelEvent>, DecodeError> {
        use SharedEvent as S;
        let out = match event {
            S::Error(e) => {
                let fatal = self.rules.server_error_fatal && e.error.kind == "server_error";
                vec![ModelEvent::Error(error_info(&e.error, fatal))]
            }
            S::SessionCreated(e) => vec![ModelEvent::SessionCreated {
                session_id: e.session.id.clone().unwrap_or_default(),
                model: e.session.model.clone().unwrap_or_default(),
                input_format: self.format(&e.session, Direction::Input),
                output_format: self.format(&e.session, Direction::Output),
                expires_at: e.session.extra.get("expires_at").and_then(Value::as_i64),
            }],
            S::SessionUpdated(e) => vec![ModelEvent::SessionUpdated {
                input_format: self.format(&e.session, Direction::Input),
                output_format: self.format(&e.session, Direction::Output),
            }],
            S::SpeechStarted(e) => {
                if let Some(response) = &self.active_response {
                    self.interrupted = Some(response.clone());
                }
                vec![Shared::speech_started(e)]
            }
            S::Committed(e) => vec![Shared::committed(e)],
            S::Cleared(_) => vec![ModelEvent::InputCleared],
            S::TranscriptionCompleted(e) => vec![Shared::transcription_completed(e)],
            S::TranscriptionFailed(e) => vec![Shared::transcription_failed(e)],
            S::ResponseCreated(e) => {
                let id = e.response.id.clone().unwrap_or_default();
                self.active_response = Some(id.clone());
                self.interrupted = None;
                vec![ModelEvent::ResponseCreated { response_id: id }]
            }
            S::ResponseDone(e) => self.response_done(e),
            S::OutputItem(e) => {
                self.shared.note_item(e);
                vec![]
            }
            S::AudioDelta(d) => Shared::audio_delta(event_type, d, OUTPUT_RATE)?,
            S::AudioDone(r) => vec![self.shared.audio_done(r)],
            S::TranscriptDelta(d) => vec![self.shared.transcript_delta(d)],
            S::TranscriptDone(t) => vec![self.shared.transcript_done(t)],
            S::TextDelta(d) => vec![self.shared.text_delta(d)],
            S::TextDone(t) => vec![self.shared.text_done(t)],
            S::ToolDelta(d) => vec![self.shared.tool_delta(d)],
            S::ToolDone(d) => vec![self.shared.tool_done(d)],
            S::ItemCreated(_) | S::ContentPart(_) => vec![],
        };
        Ok(out)
    }

    /// The end of a response: its usage, and whether the user interrupted it
    /// (`status_details.reason` `turn_detected`: yes; `client_cancelled`: no;
    /// no reason: by the order of events, where the rules say so).
    fn response_done(&mut self, e: &crate::dashscope::wire::ResponseEvent) -> Vec<ModelEvent> {
        let id = e.response.id.clone().unwrap_or_default();
        let status = e.response.status.as_deref();
        let details = e.response.status_details.clone().flatten();
        let by_order = self.rules.interrupt_by_order
            && status != Some("completed")
            && status.is_some()
            && self.interrupted.as_deref() == Some(id.as_str());
        let interrupted = match details.as_ref().and_then(|d| d.reason.as_deref()) {
            Some("turn_detected") => status == Some("cancelled"),
            Some("client_cancelled") => false,
            _ => by_order,
        };
        self.active_response = None;
        self.interrupted = None;
        let usage = e.response.usage.clone().flatten().map(|u: WireUsage| {
            usage_from(
                u.total_tokens,
                u.input_tokens,
                u.output_tokens,
                u.input_tokens_details.as_ref(),
                u.output_tokens_details.as_ref(),
            )
        });
        response_end(id, status, details.as_ref(), usage, interrupted)
    }

    /// The audio format of one direction: every PCM name the family uses is
    /// 16-bit, input at 16 kHz and output at 24 kHz (`pcm`, `pcm16`, `pcm24`).
    fn format(&self, session: &Session, dir: Direction) -> Option<AudioFormat> {
        let (flat, key, rate) = match dir {
            Direction::Input => (session.input_audio_format.as_deref(), "input", INPUT_RATE),
            Direction::Output => (
                session.output_audio_format.as_deref(),
                "output",
                OUTPUT_RATE,
            ),
        };
        let nested = || {
            session
                .extra
                .get("audio")
                .and_then(|a| a.get(key))
                .and_then(|d| d.get("format"))
                .and_then(|f| f.get("type"))
                .and_then(Value::as_str)
        };
        let name = match flat {
            Some(name) => Some(name),
            None if self.rules.nested_formats => nested(),
            None => None,
        };
        name.filter(|f| f.starts_with("pcm"))
            .map(|_| AudioFormat::pcm16(rate))
    }
}

/// Which way audio flows.
#[derive(Debug, Clone, Copy)]
enum Direction {
    Input,
    Output,
}

/// An event type the dialect does not know, reported by its `type`.
pub(crate) fn unrecognized(map: &Map<String, Value>) -> ModelEvent {
    ModelEvent::Unrecognized {
        provider_type: map
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}
