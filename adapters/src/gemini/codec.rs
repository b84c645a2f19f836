//! Sans-IO Gemini Live codec.
//!
//! Decoding: one server message may carry several parts (`serverContent` with
//! `modelTurn` and `turnComplete`, a sibling `usageMetadata`, …); every part
//! becomes its events, in the order the message lists them. Gemini has no
//! response or item ids, so the decoder mints them (`turn_<n>`,
//! `turn_<n>_model`, `turn_<n>_user`) and keeps the turn state the protocol
//! implies: a response starts with its first output, is interrupted by
//! `interrupted`, and ends at `turnComplete`.
//!
//! Usage (`usageMetadata`, in the Gemini API or the Vertex AI spelling, see
//! [`super::usage`]) becomes a `Usage` event after the `ResponseDone` of the
//! response it counts, as on every provider: a sibling of `turnComplete` is
//! read last, one sent later is tied to the response that ended last, and one
//! sent while a response runs is held until that response is done.
//! `groundingMetadata` becomes a `Grounding` event of the current response.
//!
//! Encoding: the session configuration becomes `setup`, which must be the
//! first message and cannot change afterwards; audio becomes `realtimeInput`
//! (its rate declared in the MIME type); in manual turn mode the encoder
//! brackets speech with `activityStart`/`activityEnd`.

use super::models::{model_family, GeminiModel};
use super::wire::{
    AutomaticActivityDetection, Blob, ClientContent, ClientMessage, Content, FunctionDeclaration,
    FunctionResponse, GenerationConfig, Part, RealtimeInput, RealtimeInputConfig, ServerContent,
    SessionResumption, Setup, Tool, ToolResponse,
};
use super::{capabilities_for, INPUT_RATE, OUTPUT_RATE};
use crate::audio::{AudioFormat, Pcm};
use crate::capabilities::Capabilities;
use crate::codec::{
    decode_json_frame, json_text_frames, DecodeError, EncodeError, RealtimeCodec, WireFrame,
};
use crate::event::{ErrorInfo, InteractionState, ModelEvent, ResponseStatus, Usage};
use crate::input::{ClientInput, Modality, SessionConfig, ToolBehavior, TurnDetection};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};

/// The Gemini Live dialect name.
pub const DIALECT: &str = "gemini-live";

/// Decodes Gemini Live server messages into normalised events.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    model: String,
    turn: u64,
    responding: bool,
    interrupted: bool,
    user_speaking: bool,
    input_transcript: String,
    output_transcript: String,
    text: String,
    audio_started: bool,
    /// The response that ended last, which a usage report sent after
    /// `turnComplete` counts.
    last_response: Option<String>,
    /// Usage reports that arrived while a response ran, held until its
    /// `ResponseDone` (usage always follows the response it counts).
    held_usage: Vec<Usage>,
    /// Each declared function's behaviour, as the encoder declared it.
    behaviors: HashMap<String, ToolBehavior>,
    /// Blocking calls without a result yet.
    blocking_pending: Vec<String>,
    /// Calls the server cancelled, or the adapter presumes it did: their
    /// late results are not sent (at most [`MAX_CANCELLED`] remembered).
    cancelled: VecDeque<String>,
}

/// How many cancelled call ids a decoder remembers.
pub const MAX_CANCELLED: usize = 256;

/// How many usage reports a decoder holds while one response runs (the
/// service sends one per turn; more is a misbehaving server).
pub const MAX_HELD_USAGE: usize = 16;

impl Decoder {
    /// A decoder for a session with `model` (Gemini's `setupComplete` does not name it).
    pub fn new(model: &str) -> Self {
        Decoder {
            model: model.to_owned(),
            ..Default::default()
        }
    }

    fn response_id(&self) -> String {
        format!("turn_{}", self.turn)
    }

    /// The session model's row.
    fn row(&self) -> &'static GeminiModel {
        model_family(&self.model)
    }

    /// Whether `call_id` was cancelled (its result must not be sent).
    pub fn was_cancelled(&self, call_id: &str) -> bool {
        self.cancelled.iter().any(|c| c == call_id)
    }

    /// The client answered `call_id`: it no longer pauses anything.
    pub fn answered(&mut self, call_id: &str) {
        self.blocking_pending.retain(|c| c != call_id);
    }

    fn remember_cancelled(&mut self, ids: &[String]) {
        for id in ids {
            if self.cancelled.len() == MAX_CANCELLED {
                self.cancelled.pop_front();
            }
            self.cancelled.push_back(id.clone());
        }
    }

    /// New user input interrupted the turn (`interrupted`) while a blocking
    /// call was pending: on models that auto-cancel (3.8) the call is gone,
    /// whether or not the server says so (`toolCallCancellation` may never
    /// come), so the adapter reports it. A transcript chunk alone is not
    /// taken as new input: transcripts are not ordered with the model's
    /// output, so a late chunk of the question itself could arrive after
    /// its call.
    fn presume_cancelled(&mut self, out: &mut Vec<ModelEvent>) {
        if !self.row().blocking_auto_cancel || self.blocking_pending.is_empty() {
            return;
        }
        let call_ids = std::mem::take(&mut self.blocking_pending);
        self.remember_cancelled(&call_ids);
        out.push(ModelEvent::ToolCallCancelled { call_ids });
    }

    fn item_id(&self) -> String {
        format!("turn_{}_model", self.turn)
    }

    fn user_item(&self) -> String {
        format!("turn_{}_user", self.turn)
    }

    /// Starts a response if none is running.
    fn ensure_response(&mut self, out: &mut Vec<ModelEvent>) {
        if !self.responding {
            self.responding = true;
            self.interrupted = false;
            self.audio_started = false;
            out.push(ModelEvent::ResponseCreated {
                response_id: self.response_id(),
            });
        }
    }

    /// The response a usage or grounding report belongs to: the running one,
    /// else the one that ended last.
    fn reported_response(&self) -> Option<String> {
        if self.responding {
            Some(self.response_id())
        } else {
            self.last_response.clone()
        }
    }

    /// A usage report: held while a response runs, emitted once it is done.
    /// At most [`MAX_HELD_USAGE`] are held: past that the oldest is dropped
    /// (and logged), so a response that never ends cannot grow the decoder.
    fn usage(&mut self, usage: Usage, out: &mut Vec<ModelEvent>) {
        if self.responding {
            if self.held_usage.len() == MAX_HELD_USAGE {
                self.held_usage.remove(0);
                tracing::warn!(
                    held = MAX_HELD_USAGE,
                    "usage reports keep arriving while a response runs; dropping the oldest"
                );
            }
            self.held_usage.push(usage);
        } else {
            out.push(ModelEvent::Usage {
                response_id: self.last_response.clone(),
                usage,
            });
        }
    }

    /// Emits the usage held back while the response that just ended ran.
    fn release_usage(&mut self, out: &mut Vec<ModelEvent>) {
        for usage in std::mem::take(&mut self.held_usage) {
            out.push(ModelEvent::Usage {
                response_id: self.last_response.clone(),
                usage,
            });
        }
    }

    /// Decodes one message (text or the bytes of a binary frame).
    pub fn decode_text(&mut self, text: &str) -> Result<Vec<ModelEvent>, DecodeError> {
        let mut map: Map<String, Value> = serde_json::from_str(text)?;
        let mut out = Vec::new();
        // A sibling `usageMetadata` counts the turn this message may end:
        // it is read after everything else, so that it follows `ResponseDone`.
        let usage = map
            .shift_remove("usageMetadata")
            .or_else(|| map.shift_remove("usage_metadata"));
        for (key, value) in map {
            match key.as_str() {
                "setupComplete" | "setup_complete" => {
                    let session_id = value
                        .get("sessionId")
                        .or_else(|| value.get("session_id"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    out.push(ModelEvent::SessionCreated {
                        session_id,
                        model: self.model.clone(),
                        input_format: Some(AudioFormat::pcm16(INPUT_RATE)),
                        output_format: Some(AudioFormat::pcm16(OUTPUT_RATE)),
                        expires_at: None,
                    });
                }
                "serverContent" | "server_content" => {
                    let Value::Object(fields) = value else {
                        return Err(not_an_object(&key));
                    };
                    self.server_content(fields, &mut out)?;
                }
                "toolCall" | "tool_call" => {
                    let call: super::wire::ToolCall = serde_json::from_value(value)?;
                    // The model answering (even with a call) ends the user's turn.
                    self.finish_input(&mut out);
                    self.ensure_response(&mut out);
                    for (i, function) in call
                        .function_calls
                        .unwrap_or_default()
                        .into_iter()
                        .enumerate()
                    {
                        let call_id = function
                            .id
                            .unwrap_or_else(|| format!("{}_call_{i}", self.response_id()));
                        let name = function.name.unwrap_or_default();
                        let behavior = self
                            .behaviors
                            .get(&name)
                            .copied()
                            .unwrap_or(self.row().tool_behavior_default);
                        out.push(ModelEvent::ToolCall {
                            response_id: self.response_id(),
                            item_id: call_id.clone(),
                            call_id: call_id.clone(),
                            name,
                            arguments: function.args.unwrap_or_else(|| json!({})).to_string(),
                        });
                        match behavior {
                            ToolBehavior::NonBlocking => {
                                out.push(ModelEvent::ToolCallNonBlocking {
                                    response_id: self.response_id(),
                                    call_id,
                                })
                            }
                            ToolBehavior::Blocking => {
                                if self.blocking_pending.len() < MAX_CANCELLED {
                                    self.blocking_pending.push(call_id);
                                }
                            }
                        }
                    }
                }
                "toolCallCancellation" | "tool_call_cancellation" => {
                    let cancel: super::wire::ToolCallCancellation = serde_json::from_value(value)?;
                    let ids = cancel.ids.unwrap_or_default();
                    // Calls the adapter already reported as cancelled are not reported twice.
                    let call_ids: Vec<String> = ids
                        .into_iter()
                        .filter(|id| !self.was_cancelled(id))
                        .collect();
                    self.blocking_pending.retain(|c| !call_ids.contains(c));
                    if self.row().blocking_auto_cancel {
                        self.remember_cancelled(&call_ids);
                    }
                    if !call_ids.is_empty() {
                        out.push(ModelEvent::ToolCallCancelled { call_ids });
                    }
                }
                "goAway" | "go_away" => {
                    let go_away: super::wire::GoAway = serde_json::from_value(value)?;
                    out.push(ModelEvent::GoAway {
                        time_left_ms: go_away.time_left.as_deref().and_then(duration_ms),
                    });
                }
                "sessionResumptionUpdate" | "session_resumption_update" => {
                    let update: super::wire::SessionResumptionUpdate =
                        serde_json::from_value(value)?;
                    out.push(ModelEvent::ResumptionHandle {
                        handle: update.new_handle.filter(|h| !h.is_empty()),
                        resumable: update.resumable.unwrap_or(false),
                    });
                }
                other => out.push(ModelEvent::Unrecognized {
                    provider_type: other.to_owned(),
                }),
            }
        }
        if let Some(value) = usage {
            let usage: super::wire::UsageMetadata = serde_json::from_value(value)?;
            self.usage(super::usage::normalise(&usage), &mut out);
        }
        Ok(out)
    }

    fn server_content(
        &mut self,
        mut fields: Map<String, Value>,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), DecodeError> {
        // Read after `turnComplete`, whatever the order of the fields: the
        // status says where the interaction stands once the segment is done.
        let status = fields
            .shift_remove("interactionStatus")
            .or_else(|| fields.shift_remove("interaction_status"));
        for (key, value) in fields {
            let typed = |v: Value| -> Result<ServerContent, DecodeError> {
                let mut single = Map::new();
                single.insert(key.clone(), v);
                Ok(serde_json::from_value(Value::Object(single))?)
            };
            let content = typed(value)?;
            if let Some(t) = content.interim_input_transcription {
                let text = t.text.unwrap_or_default();
                if !text.is_empty() {
                    out.push(ModelEvent::InputTranscriptInterim {
                        item_id: self.user_item(),
                        text,
                    });
                }
            }
            if let Some(t) = content.input_transcription {
                let text = t.text.unwrap_or_default();
                if !text.is_empty() {
                    self.user_speaking = true;
                    self.input_transcript.push_str(&text);
                    out.push(ModelEvent::InputTranscriptDelta {
                        item_id: self.user_item(),
                        delta: text,
                    });
                }
                if t.finished == Some(true) {
                    self.finish_input(out);
                }
            }
            if let Some(turn) = content.model_turn {
                self.finish_input(out);
                for part in turn.parts.unwrap_or_default() {
                    self.model_part(part, out)?;
                }
            }
            if let Some(t) = content.output_transcription {
                let text = t.text.unwrap_or_default();
                if !text.is_empty() {
                    self.finish_input(out);
                    self.ensure_response(out);
                    self.output_transcript.push_str(&text);
                    out.push(ModelEvent::TranscriptDelta {
                        response_id: self.response_id(),
                        item_id: self.item_id(),
                        delta: text,
                        phase: None,
                    });
                }
            }
            if let Some(metadata) = content.grounding_metadata {
                out.push(ModelEvent::Grounding {
                    response_id: self.reported_response(),
                    metadata,
                });
            }
            if content.interrupted == Some(true) {
                self.presume_cancelled(out);
                self.interrupted = true;
                out.push(ModelEvent::Interrupted {
                    response_id: self.responding.then(|| self.response_id()),
                });
            }
            if content.generation_complete == Some(true) {
                self.close_output(out);
            }
            if content.turn_complete == Some(true) {
                self.finish_input(out);
                self.close_output(out);
                if self.responding {
                    let (status, reason) = if self.interrupted {
                        (ResponseStatus::Cancelled, Some("interrupted".to_owned()))
                    } else {
                        (
                            ResponseStatus::Completed,
                            content.turn_complete_reason.clone(),
                        )
                    };
                    out.push(ModelEvent::ResponseDone {
                        response_id: self.response_id(),
                        status,
                        reason,
                        error: None,
                    });
                    self.last_response = Some(self.response_id());
                }
                self.responding = false;
                self.release_usage(out);
                self.interrupted = false;
                self.turn += 1;
            }
        }
        if let Some(status) = status {
            let status = status.as_str().unwrap_or_default();
            out.push(ModelEvent::InteractionStatus {
                response_id: self.reported_response(),
                status: InteractionState::from(status),
            });
        }
        Ok(())
    }

    fn model_part(&mut self, part: Part, out: &mut Vec<ModelEvent>) -> Result<(), DecodeError> {
        if part.thought == Some(true) {
            // Thinking is narration, not output: reported, never spoken.
            if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                self.ensure_response(out);
                out.push(ModelEvent::ThoughtDelta {
                    response_id: self.response_id(),
                    text,
                });
            }
            return Ok(());
        }
        if let Some(blob) = part.inline_data {
            let mime = blob.mime_type.unwrap_or_default();
            let data = blob.data.unwrap_or_default();
            if mime.starts_with("audio/") && !data.is_empty() {
                self.ensure_response(out);
                let pcm = Pcm::from_base64(&data).map_err(|source| DecodeError::Base64 {
                    event_type: "serverContent.modelTurn".into(),
                    source,
                })?;
                self.audio_started = true;
                out.push(ModelEvent::AudioDelta {
                    response_id: self.response_id(),
                    item_id: self.item_id(),
                    pcm,
                    sample_rate: rate_of(&mime).unwrap_or(OUTPUT_RATE),
                });
            }
        }
        if let Some(text) = part.text.filter(|t| !t.is_empty()) {
            self.ensure_response(out);
            self.text.push_str(&text);
            out.push(ModelEvent::TextDelta {
                response_id: self.response_id(),
                item_id: self.item_id(),
                delta: text,
                phase: None,
            });
        }
        Ok(())
    }

    /// The user's turn is over once the model answers: settle its transcript.
    fn finish_input(&mut self, out: &mut Vec<ModelEvent>) {
        if self.user_speaking {
            self.user_speaking = false;
            out.push(ModelEvent::InputTranscriptDone {
                item_id: self.user_item(),
                transcript: std::mem::take(&mut self.input_transcript),
            });
        }
    }

    /// Closes the audio, transcript and text of the current output, once.
    fn close_output(&mut self, out: &mut Vec<ModelEvent>) {
        if !self.responding {
            return;
        }
        if std::mem::take(&mut self.audio_started) {
            out.push(ModelEvent::AudioDone {
                response_id: self.response_id(),
                item_id: self.item_id(),
                phase: None,
            });
        }
        if !self.output_transcript.is_empty() {
            out.push(ModelEvent::TranscriptDone {
                response_id: self.response_id(),
                item_id: self.item_id(),
                transcript: std::mem::take(&mut self.output_transcript),
                phase: None,
            });
        }
        if !self.text.is_empty() {
            out.push(ModelEvent::TextDone {
                response_id: self.response_id(),
                item_id: self.item_id(),
                text: std::mem::take(&mut self.text),
                phase: None,
            });
        }
    }

    /// A close ends the session; Gemini reports errors this way (1007 invalid
    /// argument or key, 1008 unknown model or unsupported, 1011 internal or quota).
    pub fn decode_close(&mut self, code: Option<u16>, reason: &str) -> Vec<ModelEvent> {
        let mut out = Vec::new();
        // Usage held for a response the close cut short still counts.
        self.last_response = self.reported_response();
        self.release_usage(&mut out);
        if let Some(code) = code.filter(|c| *c >= 1002 && *c != 1005) {
            out.push(ModelEvent::Error(ErrorInfo {
                code: format!("close_{code}"),
                message: reason.to_owned(),
                fatal: true,
                ..ErrorInfo::default()
            }));
        }
        out.push(ModelEvent::SessionEnded {
            reason: reason.to_owned(),
            close_code: code,
        });
        out
    }
}

fn not_an_object(key: &str) -> DecodeError {
    DecodeError::Json {
        source: serde::de::Error::custom(format!("`{key}` is not an object")),
    }
}

/// The `rate=` parameter of a PCM MIME type.
pub fn rate_of(mime: &str) -> Option<u32> {
    mime.split(';')
        .filter_map(|p| p.trim().strip_prefix("rate="))
        .find_map(|r| r.parse().ok())
}

/// A protobuf duration (`"10s"`, `"1.5s"`, `"0.250s"`) in milliseconds.
pub fn duration_ms(text: &str) -> Option<u64> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64)
}

/// Encodes normalised inputs as Gemini Live client messages.
#[derive(Debug, Clone)]
pub struct Encoder {
    model: String,
    set_up: bool,
    manual_turns: bool,
    in_activity: bool,
    resume_handle: Option<String>,
    /// Each declared function's behaviour (the row's default made explicit).
    behaviors: HashMap<String, ToolBehavior>,
}

impl Encoder {
    /// An encoder for a session with `model` (`gemini-live-2.5-flash-preview`).
    pub fn new(model: &str) -> Self {
        Encoder {
            model: model.to_owned(),
            set_up: false,
            manual_turns: false,
            in_activity: false,
            resume_handle: None,
            behaviors: HashMap::new(),
        }
    }

    /// The session model's row.
    fn row(&self) -> &'static GeminiModel {
        model_family(&self.model)
    }

    /// The behaviour each declared function was given at setup.
    pub fn behaviors(&self) -> &HashMap<String, ToolBehavior> {
        &self.behaviors
    }

    fn unsupported(&self, input: &'static str) -> EncodeError {
        EncodeError::Unsupported {
            input,
            dialect: DIALECT.to_owned(),
        }
    }

    fn realtime(input: RealtimeInput) -> ClientMessage {
        ClientMessage {
            realtime_input: Some(input),
            ..Default::default()
        }
    }

    /// Turns one input into the messages that carry it.
    pub fn encode(&mut self, input: &ClientInput) -> Result<Vec<ClientMessage>, EncodeError> {
        Ok(match input {
            ClientInput::Session(config) => {
                if self.set_up {
                    return Err(
                        self.unsupported("changing the session after setup (reconnect instead)")
                    );
                }
                let setup = self.setup(config)?;
                self.set_up = true;
                self.manual_turns = config.turn_detection == Some(TurnDetection::Manual);
                vec![ClientMessage {
                    setup: Some(setup),
                    ..Default::default()
                }]
            }
            ClientInput::Resume { handle } => {
                if self.set_up {
                    return Err(
                        self.unsupported("resuming after setup (resume on a new connection)")
                    );
                }
                self.resume_handle = Some(handle.clone());
                vec![]
            }
            ClientInput::Audio { pcm, sample_rate } => {
                let mut out = Vec::with_capacity(2);
                if self.manual_turns && !self.in_activity {
                    self.in_activity = true;
                    out.push(Self::realtime(RealtimeInput {
                        activity_start: Some(json!({})),
                        ..Default::default()
                    }));
                }
                out.push(Self::realtime(RealtimeInput {
                    audio: Some(Blob {
                        mime_type: Some(format!("audio/pcm;rate={sample_rate}")),
                        data: Some(pcm.to_base64()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }));
                out
            }
            ClientInput::CommitAudio => {
                if self.manual_turns {
                    if !self.in_activity {
                        return Ok(vec![]);
                    }
                    self.in_activity = false;
                    vec![Self::realtime(RealtimeInput {
                        activity_end: Some(json!({})),
                        ..Default::default()
                    })]
                } else {
                    vec![Self::realtime(RealtimeInput {
                        audio_stream_end: Some(true),
                        ..Default::default()
                    })]
                }
            }
            ClientInput::ClearAudio => return Err(self.unsupported("clearing buffered audio")),
            ClientInput::Text { text } => vec![ClientMessage {
                client_content: Some(ClientContent {
                    turns: Some(vec![Content {
                        role: Some("user".into()),
                        parts: Some(vec![Part {
                            text: Some(text.clone()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }]),
                    turn_complete: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ClientInput::Image { mime_type, data } => vec![Self::realtime(RealtimeInput {
                video: Some(Blob {
                    mime_type: Some(mime_type.clone()),
                    data: Some(data.to_base64()),
                    ..Default::default()
                }),
                ..Default::default()
            })],
            ClientInput::ToolResult {
                call_id,
                name,
                output,
                scheduling,
            } => {
                let response = match serde_json::from_str::<Value>(output) {
                    Ok(Value::Object(map)) => Value::Object(map),
                    Ok(other) => json!({ "result": other }),
                    Err(_) => json!({ "result": output }),
                };
                // `scheduling` only where the model honours it and the
                // adapter's row keeps it, and only for non-blocking calls.
                let row = self.row();
                let behavior = self
                    .behaviors
                    .get(name)
                    .copied()
                    .unwrap_or(row.tool_behavior_default);
                let scheduling = (row.sends_scheduling && behavior == ToolBehavior::NonBlocking)
                    .then(|| scheduling.or(row.default_scheduling))
                    .flatten()
                    .map(|s| s.wire().to_owned());
                vec![ClientMessage {
                    tool_response: Some(ToolResponse {
                        function_responses: Some(vec![FunctionResponse {
                            id: Some(call_id.clone()),
                            name: Some(name.clone()),
                            response: Some(response),
                            scheduling,
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]
            }
            // Gemini answers on its own (end of activity, a complete turn, a tool
            // response); there is no "respond now" message.
            ClientInput::CreateResponse(_) => vec![],
            ClientInput::CancelResponse { .. } => {
                return Err(self.unsupported("cancelling a response (user activity interrupts it)"))
            }
            ClientInput::Truncate { .. } => return Err(self.unsupported("truncation")),
            // Gemini has no goodbye message: the client closes the socket.
            ClientInput::EndSession => vec![],
        })
    }

    /// The `setup` for `config`; every declaration states its behaviour
    /// where the model's row says so (never the model's silent default).
    fn setup(&mut self, config: &SessionConfig) -> Result<Setup, EncodeError> {
        let row = self.row();
        let mut behaviors = HashMap::new();
        for tool in &config.tools {
            let behavior = tool.behavior.unwrap_or(row.tool_behavior_default);
            if row.declares_behavior && !row.allows(behavior) {
                return Err(EncodeError::Unsupported {
                    input: match behavior {
                        ToolBehavior::Blocking => {
                            "a blocking tool (this model's calls are non-blocking only)"
                        }
                        ToolBehavior::NonBlocking => {
                            "a non-blocking tool (this model's calls block)"
                        }
                    },
                    dialect: DIALECT.to_owned(),
                });
            }
            behaviors.insert(tool.name.clone(), behavior);
        }
        self.behaviors = behaviors;
        Ok(self.setup_frame(config))
    }

    fn setup_frame(&self, config: &SessionConfig) -> Setup {
        let row = self.row();
        let modality = match config.output_modalities.as_deref() {
            Some(m) if !m.contains(&Modality::Audio) => "TEXT",
            _ => "AUDIO",
        };
        let speech_config = config
            .voice
            .as_ref()
            .map(|voice| json!({"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}}));
        let tools = (!config.tools.is_empty()).then(|| {
            vec![Tool {
                function_declarations: Some(
                    config
                        .tools
                        .iter()
                        .map(|t| FunctionDeclaration {
                            name: Some(t.name.clone()),
                            description: Some(t.description.clone()),
                            parameters: Some(upper_case_types(t.parameters.clone())),
                            behavior: row
                                .declares_behavior
                                .then(|| self.behaviors.get(&t.name))
                                .flatten()
                                .map(|b| b.wire().to_owned()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }]
        });
        let realtime_input_config = config.turn_detection.as_ref().map(|td| match td {
            TurnDetection::Manual => RealtimeInputConfig {
                automatic_activity_detection: Some(AutomaticActivityDetection {
                    disabled: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
            TurnDetection::ServerVad {
                prefix_padding_ms,
                silence_duration_ms,
                interrupt_response,
                ..
            } => RealtimeInputConfig {
                automatic_activity_detection: Some(AutomaticActivityDetection {
                    disabled: Some(false),
                    prefix_padding_ms: *prefix_padding_ms,
                    silence_duration_ms: *silence_duration_ms,
                    ..Default::default()
                }),
                activity_handling: (*interrupt_response == Some(false))
                    .then(|| "NO_INTERRUPTION".to_owned()),
                ..Default::default()
            },
            TurnDetection::SemanticVad {
                interrupt_response, ..
            } => RealtimeInputConfig {
                automatic_activity_detection: Some(AutomaticActivityDetection {
                    disabled: Some(false),
                    ..Default::default()
                }),
                activity_handling: (*interrupt_response == Some(false))
                    .then(|| "NO_INTERRUPTION".to_owned()),
                ..Default::default()
            },
        });
        Setup {
            model: Some(format!(
                "models/{}",
                self.model.trim_start_matches("models/")
            )),
            generation_config: Some(GenerationConfig {
                response_modalities: Some(vec![modality.to_owned()]),
                speech_config,
                thinking_config: row
                    .thinking_level_default
                    .map(|level| json!({ "thinkingLevel": level })),
                ..Default::default()
            }),
            system_instruction: config.instructions.as_ref().map(|text| Content {
                role: Some("user".into()),
                parts: Some(vec![Part {
                    text: Some(text.clone()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            tools,
            realtime_input_config,
            session_resumption: Some(SessionResumption {
                handle: self.resume_handle.clone(),
                ..Default::default()
            }),
            input_audio_transcription: config.input_transcription.as_ref().map(|_| json!({})),
            output_audio_transcription: (modality == "AUDIO").then(|| json!({})),
            ..Default::default()
        }
    }
}

/// Gemini's function schemas spell JSON-schema types upper-case (`OBJECT`).
fn upper_case_types(mut schema: Value) -> Value {
    match &mut schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "type" {
                    if let Value::String(t) = value {
                        *t = t.to_uppercase();
                    }
                } else {
                    *value = upper_case_types(value.take());
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = upper_case_types(item.take());
            }
        }
        _ => {}
    }
    schema
}

/// The Gemini Live protocol as a [`RealtimeCodec`].
#[derive(Debug, Clone)]
pub struct GeminiCodec {
    encoder: Encoder,
    decoder: Decoder,
}

impl GeminiCodec {
    /// A codec for a fresh session with `model`.
    pub fn new(model: &str) -> Self {
        Self::continuing(model, 0)
    }

    /// A codec for a session resumed on a new connection after `turns` turns
    /// began on earlier ones: minted ids go on from there (`turn_<turns>`), so
    /// no two responses of one conversation share an id.
    pub fn continuing(model: &str, turns: u64) -> Self {
        GeminiCodec {
            encoder: Encoder::new(model),
            decoder: Decoder {
                turn: turns,
                ..Decoder::new(model)
            },
        }
    }
}

impl RealtimeCodec for GeminiCodec {
    fn capabilities(&self) -> Capabilities {
        capabilities_for(&self.encoder.model)
    }

    fn encode(&mut self, input: &ClientInput) -> Result<Vec<WireFrame>, EncodeError> {
        if let ClientInput::ToolResult { call_id, .. } = input {
            if self.decoder.was_cancelled(call_id) {
                // The server dropped the call: a late result is not sent.
                tracing::info!(%call_id, "not sending the result of a cancelled call");
                return Ok(Vec::new());
            }
            self.decoder.answered(call_id);
        }
        let frames = json_text_frames(&self.encoder.encode(input)?)?;
        if let ClientInput::Session(_) = input {
            self.decoder.behaviors = self.encoder.behaviors.clone();
        }
        Ok(frames)
    }

    fn decode(&mut self, frame: &WireFrame) -> Result<Vec<ModelEvent>, DecodeError> {
        decode_json_frame(
            &mut self.decoder,
            frame,
            Decoder::decode_text,
            Decoder::decode_close,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_parse() {
        assert_eq!(duration_ms("10s"), Some(10_000));
        assert_eq!(duration_ms("1.5s"), Some(1_500));
        assert_eq!(duration_ms("0.250s"), Some(250));
        assert_eq!(duration_ms("ten"), None);
        assert_eq!(duration_ms("-1s"), None);
        assert_eq!(rate_of("audio/pcm;rate=24000"), Some(24_000));
        assert_eq!(rate_of("audio/pcm"), None);
    }

    #[test]
    fn schema_types_are_upper_cased_recursively() {
        let schema = json!({"type":"object","properties":{"city":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}}});
        assert_eq!(
            upper_case_types(schema),
            json!({"type":"OBJECT","properties":{"city":{"type":"STRING"},"tags":{"type":"ARRAY","items":{"type":"STRING"}}}})
        );
    }
}
