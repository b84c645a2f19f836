//! GPT-Live server events → [`ModelEvent`]s: direct mappings here, turn and
//! reply inference in the private `turns` module (rules in the
//! [`codec`](super::codec) module header).

use super::settings::LiveSettings;
use super::turns::{ReplyEnd, Turns};
use super::wire::server::{ErrorEvent, ResponseEvent, ServerEvent, UsageUpdated};
use super::wire::session::{SessionResource, SessionUsage};
use crate::audio::{AudioEncoding, AudioFormat, Pcm};
use crate::codec::DecodeError;
use crate::event::{ErrorInfo, ModelEvent, ResponseStatus, Usage};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The service's default format (and the sideband's, always).
const DEFAULT_FORMAT: AudioFormat = AudioFormat::pcm16(24_000);

/// A function call of a backend response, held until the response's
/// terminal event (parallel calls may arrive after an earlier one).
#[derive(Debug, Clone)]
struct BackendCall {
    item_id: String,
    call_id: String,
    name: String,
    arguments: String,
}

/// Decodes GPT-Live server frames into normalised events.
#[derive(Debug, Clone)]
pub struct Decoder {
    settings: LiveSettings,
    turns: Turns,
    format: AudioFormat,
    started: bool,
    finished: bool,
    /// A fixture plays: output audio is the application's clip, not speech.
    fixture_playing: bool,
    /// Function calls per delegation id (`""` for uncorrelated events).
    backend_calls: HashMap<String, Vec<BackendCall>>,
    /// Call ids of every backend function call reported.
    backend_call_ids: HashSet<String>,
    /// `event_id` of the (last) append carrying a client delegation's
    /// result → the delegation.
    result_appends: HashMap<String, String>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(LiveSettings::default())
    }
}

impl Decoder {
    /// A decoder for a fresh session.
    pub fn new(settings: LiveSettings) -> Self {
        Decoder {
            turns: Turns::new(settings.clone()),
            settings,
            format: DEFAULT_FORMAT,
            started: false,
            finished: false,
            fixture_playing: false,
            backend_calls: HashMap::new(),
            backend_call_ids: HashSet::new(),
            result_appends: HashMap::new(),
        }
    }

    /// The session's audio format (both directions), as last resolved.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// Whether `session.started` arrived (the service took the start, or a
    /// sideband replayed it).
    pub fn started(&self) -> bool {
        self.started
    }

    /// The newest session-timeline point seen or passed in, in ms.
    pub fn timeline_ms(&self) -> u64 {
        self.turns.now_ms()
    }

    /// Whether `call_id` is a backend (Responses) function call, whose result
    /// goes back as a `function_call_output`.
    pub fn is_backend_call(&self, call_id: &str) -> bool {
        self.backend_call_ids.contains(call_id)
    }

    /// Notes that the append sent with `event_id` carries the result of
    /// client delegation `delegation_id`, so that its acknowledgement
    /// reports the delegation answered.
    pub fn expect_result(&mut self, event_id: &str, delegation_id: &str) {
        self.result_appends
            .insert(event_id.to_owned(), delegation_id.to_owned());
    }

    /// Moves the session timeline to `timeline_ms` (time passed in: the
    /// decoder reads no clock) and applies the time rules — how a caller
    /// ends a reply when the server sends no frames while quiet.
    pub fn advance_to(&mut self, timeline_ms: u64) -> Vec<ModelEvent> {
        self.turns.advance_to(timeline_ms)
    }

    /// The client's microphone carried voice from `at_ms` on the timeline
    /// (the codec measures what its encoder sends): a reply in progress is
    /// overlapped from there (barge-in rule 5).
    pub fn user_voice(&mut self, at_ms: u64) -> Vec<ModelEvent> {
        self.turns.user_voice(at_ms)
    }

    /// Decodes one text frame.
    pub fn decode_text(&mut self, text: &str) -> Result<Vec<ModelEvent>, DecodeError> {
        let event: ServerEvent = serde_json::from_str(text)?;
        self.decode_event(&event)
    }

    /// Decodes one already-parsed server event.
    pub fn decode_event(&mut self, event: &ServerEvent) -> Result<Vec<ModelEvent>, DecodeError> {
        use ServerEvent as S;
        let out = match event {
            S::SessionStarted(e) => {
                self.started = true;
                let format = self.track_format(&e.session);
                vec![ModelEvent::SessionCreated {
                    session_id: e.session.id.clone(),
                    model: e.session.model.clone(),
                    input_format: Some(format),
                    output_format: Some(format),
                    expires_at: Some(e.session.expires_at),
                }]
            }
            S::SessionUpdated(e) => {
                let format = self.track_format(&e.session);
                vec![ModelEvent::SessionUpdated {
                    input_format: Some(format),
                    output_format: Some(format),
                }]
            }
            S::SessionPaused(_) => vec![ModelEvent::SessionPaused],
            S::SessionResumed(_) => vec![ModelEvent::SessionResumed],
            S::OutputAudioFixturePlaying(_) => {
                self.fixture_playing = true;
                self.turns.close(ReplyEnd::Fixture)
            }
            S::OutputAudioFixturePlayed(_) => {
                self.fixture_playing = false;
                vec![]
            }
            S::InputAudioMuted(_) | S::InputAudioUnmuted(_) => {
                tracing::debug!(event = event.event_type(), "acknowledged");
                vec![]
            }
            S::InstructionsAppended(p) | S::ThinkingAppended(p) | S::CommentaryAppended(p) => {
                let mut out = self.turns.advance_to(p.end_ms);
                let answered = p
                    .client_event_id
                    .as_ref()
                    .and_then(|id| self.result_appends.remove(id));
                match answered {
                    Some(delegation) => out.extend(self.answered(&delegation)),
                    None => tracing::debug!(
                        event = event.event_type(),
                        start_ms = p.start_ms,
                        end_ms = p.end_ms,
                        "append placed"
                    ),
                }
                out
            }
            S::InputAudioAppend(_) => {
                tracing::trace!("sideband reflection of the caller's audio");
                vec![]
            }
            S::OutputAudioDelta(d) => {
                if d.delta.is_empty() {
                    return Ok(vec![]);
                }
                let wire = Pcm::from_base64(&d.delta).map_err(|source| DecodeError::Base64 {
                    event_type: event.event_type().to_owned(),
                    source,
                })?;
                let span = d.start_ms.zip(d.end_ms);
                // Sideband audio (the one with timestamps) is always PCM16 24 kHz.
                let format = if span.is_some() {
                    DEFAULT_FORMAT
                } else {
                    self.format
                };
                let pcm = to_pcm16(wire, format.encoding);
                if self.fixture_playing {
                    tracing::trace!("fixture audio on the output track");
                    return Ok(vec![]);
                }
                self.turns.output_audio(pcm, format.sample_rate, span)
            }
            S::InputTranscriptDelta(t) => {
                if t.delta.is_empty() {
                    self.turns.advance_to(t.end_ms)
                } else {
                    self.turns.input_transcript(&t.delta, t.start_ms, t.end_ms)
                }
            }
            S::OutputTranscriptDelta(t) => {
                if t.delta.is_empty() {
                    self.turns.advance_to(t.end_ms)
                } else {
                    self.turns.output_transcript(&t.delta, t.start_ms, t.end_ms)
                }
            }
            S::DelegationCreated(e) => self.delegation_created(e),
            S::ResponseEvent(e) => self.response_event(e),
            S::DecisionEvent(e) => match &e.delegation_id {
                Some(delegation) => self.answered(delegation),
                None => {
                    tracing::debug!(trigger = ?e.trigger_id, "decision from a trigger");
                    vec![]
                }
            },
            S::DecisionItemCreated(_) | S::DecisionItemDeleted(_) => {
                tracing::debug!(event = event.event_type(), "decision items changed");
                vec![]
            }
            S::SessionUsageUpdated(u) => vec![usage_updated(u)],
            S::SessionClosed(c) => {
                self.finished = true;
                let end = match c.reason.as_str() {
                    "close_requested" | "remote_hangup" => ReplyEnd::SessionClosed,
                    _ => ReplyEnd::SessionLost,
                };
                let mut out = self.turns.close(end);
                out.push(session_usage(&c.usage, None, true));
                out.push(ModelEvent::SessionEnded {
                    reason: format!("session closed: {}", c.reason),
                    close_code: None,
                });
                out
            }
            S::Error(e) => self.error(e),
            S::Info(i) => {
                tracing::info!(code = %i.code, message = %i.message, "GPT-Live notice");
                vec![]
            }
            S::TransportDtmfReceived(_)
            | S::TransportDtmfSend(_)
            | S::TransportDtmfSent(_)
            | S::TransportRinging(_)
            | S::TransportAnswered(_)
            | S::TransportFailed(_) => {
                tracing::debug!(event = event.event_type(), "SIP transport event");
                vec![]
            }
            S::Unknown(map) => vec![ModelEvent::Unrecognized {
                provider_type: map
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            }],
        };
        Ok(out)
    }

    /// The normalised events for a close frame: the session is over, unless
    /// `session.closed` already said so.
    pub fn decode_close(&mut self, code: Option<u16>, reason: &str) -> Vec<ModelEvent> {
        if self.finished {
            return vec![];
        }
        self.finished = true;
        let mut out = self.turns.close(ReplyEnd::SessionLost);
        out.push(ModelEvent::SessionEnded {
            reason: reason.to_owned(),
            close_code: code,
        });
        out
    }

    fn track_format(&mut self, session: &SessionResource) -> AudioFormat {
        let format = session
            .audio
            .as_ref()
            .and_then(|a| a.format.as_ref())
            .and_then(|f| f.normalised())
            .unwrap_or(DEFAULT_FORMAT);
        self.format = format;
        format
    }

    fn delegation_created(
        &mut self,
        e: &super::wire::server::DelegationCreated,
    ) -> Vec<ModelEvent> {
        let id = &e.delegation.id;
        let (mut out, request) = self.turns.delegation(id, e.offset_ms);
        out.push(ModelEvent::DelegationCreated {
            delegation_id: id.clone(),
            target: e.delegation.target.clone(),
            response_id: e.delegation.response_id.clone(),
            offset_ms: e.offset_ms,
        });
        if e.delegation.target == "client" {
            let (opened, response_id) = self.turns.reply_for_call(e.offset_ms);
            out.extend(opened);
            let arguments = serde_json::json!({"request": request, "offset_ms": e.offset_ms});
            out.push(ModelEvent::ToolCall {
                response_id,
                item_id: id.clone(),
                call_id: id.clone(),
                name: self.settings.delegation_tool_name.clone(),
                arguments: arguments.to_string(),
            });
        }
        out
    }

    /// A delegation's work ended: forget it and say so.
    fn answered(&mut self, delegation: &str) -> Vec<ModelEvent> {
        self.turns.delegation_answered(delegation);
        vec![ModelEvent::DelegationResult {
            delegation_id: delegation.to_owned(),
            response_id: None,
            status: ResponseStatus::Completed,
        }]
    }

    fn response_event(&mut self, e: &ResponseEvent) -> Vec<ModelEvent> {
        let key = e.delegation_id.clone().unwrap_or_default();
        let kind = e.event.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "response.output_item.done" => {
                if let Some(call) = e.event.get("item").and_then(backend_call) {
                    self.backend_calls.entry(key).or_default().push(call);
                }
                vec![]
            }
            "response.completed" | "response.failed" | "response.incomplete" => {
                self.backend_terminal(&key, kind, &e.event)
            }
            other => {
                tracing::trace!(nested = other, "backend response event");
                vec![]
            }
        }
    }

    /// A backend response ended: its function calls are complete (each a
    /// tool call), then the delegation's result, then the backend's tokens.
    fn backend_terminal(
        &mut self,
        key: &str,
        kind: &str,
        event: &Map<String, Value>,
    ) -> Vec<ModelEvent> {
        let response = event.get("response");
        let response_id = response
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let status = match kind {
            "response.completed" => ResponseStatus::Completed,
            "response.incomplete" => ResponseStatus::Incomplete,
            _ => ResponseStatus::Failed,
        };
        let calls = self.backend_calls.remove(key).unwrap_or_default();
        let mut out = Vec::new();
        if status == ResponseStatus::Failed && !calls.is_empty() {
            tracing::warn!(
                delegation = key,
                calls = calls.len(),
                "backend response failed; its function calls are dropped"
            );
        } else {
            for call in calls {
                self.backend_call_ids.insert(call.call_id.clone());
                out.push(ModelEvent::ToolCall {
                    response_id: response_id.clone().unwrap_or_default(),
                    item_id: call.item_id,
                    call_id: call.call_id,
                    name: call.name,
                    arguments: call.arguments,
                });
            }
        }
        if key.is_empty() {
            tracing::debug!(kind, "backend response without a delegation id");
        } else {
            self.turns.delegation_answered(key);
            out.push(ModelEvent::DelegationResult {
                delegation_id: key.to_owned(),
                response_id: response_id.clone(),
                status,
            });
        }
        if let Some(usage) = response.and_then(|r| r.get("usage")).and_then(token_usage) {
            out.push(ModelEvent::Usage { response_id, usage });
        }
        out
    }

    fn error(&mut self, e: &ErrorEvent) -> Vec<ModelEvent> {
        let client_event_id = e
            .error
            .client_event_id
            .clone()
            .or_else(|| e.client_event_id.clone());
        let fatal = !self.started && self.settings.pre_start_error_fatal;
        let mut out = vec![ModelEvent::Error(ErrorInfo {
            code: e.error.code.clone().unwrap_or_else(|| e.error.kind.clone()),
            message: e.error.message.clone(),
            fatal,
            kind: Some(e.error.kind.clone()),
            param: e.error.param.clone(),
            event_id: client_event_id.clone(),
        })];
        // A result append the service refused (too long, during a fixture,
        // pending at close): the delegation got no answer.
        if let Some(delegation) = client_event_id.and_then(|id| self.result_appends.remove(&id)) {
            self.turns.delegation_answered(&delegation);
            out.push(ModelEvent::DelegationResult {
                delegation_id: delegation,
                response_id: None,
                status: ResponseStatus::Failed,
            });
        }
        out
    }
}

/// Expands G.711 to PCM16; PCM16 passes as is.
fn to_pcm16(wire: Pcm, encoding: AudioEncoding) -> Pcm {
    match encoding {
        AudioEncoding::Pcm16 => wire,
        AudioEncoding::G711Ulaw => Pcm(crate::g711::decode_ulaw(&wire.0)),
        AudioEncoding::G711Alaw => Pcm(crate::g711::decode_alaw(&wire.0)),
    }
}

/// A `function_call` output item, if `item` is one.
fn backend_call(item: &Value) -> Option<BackendCall> {
    if item.get("type").and_then(Value::as_str) != Some("function_call") {
        return None;
    }
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    let call_id = text("call_id")?;
    Some(BackendCall {
        item_id: text("id").unwrap_or_else(|| call_id.clone()),
        name: text("name").unwrap_or_default(),
        arguments: text("arguments").unwrap_or_default(),
        call_id,
    })
}

/// A Responses `usage` object as normalised token counts.
fn token_usage(usage: &Value) -> Option<Usage> {
    let count = |path: &[&str]| {
        path.iter()
            .try_fold(usage, |v, key| v.get(key))
            .and_then(Value::as_u64)
    };
    let out = Usage {
        input_tokens: count(&["input_tokens"]),
        output_tokens: count(&["output_tokens"]),
        total_tokens: count(&["total_tokens"]),
        cached_tokens: count(&["input_tokens_details", "cached_tokens"]),
        reasoning_tokens: count(&["output_tokens_details", "reasoning_tokens"]),
        ..Usage::default()
    };
    (out != Usage::default()).then_some(out)
}

fn usage_updated(u: &UsageUpdated) -> ModelEvent {
    let ratio = u
        .context_window
        .as_ref()
        .and_then(|c| c.usage_ratio.as_f64());
    session_usage(&u.usage, ratio, false)
}

fn session_usage(usage: &SessionUsage, ratio: Option<f64>, final_report: bool) -> ModelEvent {
    ModelEvent::SessionUsage {
        seconds: usage.seconds_f64(),
        active_seconds: usage.active_seconds.as_ref().and_then(|n| n.as_f64()),
        paused_seconds: usage.paused_seconds.as_ref().and_then(|n| n.as_f64()),
        context_usage_ratio: ratio,
        final_report,
    }
}
