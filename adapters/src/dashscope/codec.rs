//! Sans-IO Qwen-Omni codec: server frames → [`ModelEvent`]s, and
//! [`ClientInput`]s → client frames.
//!
//! The decoder keeps three facts: the tool name of each call (taken from
//! `response.output_item.added`, since `…arguments.done` may omit it), whether
//! user speech started while a response was running (DashScope's cancelled
//! `response.done` carries no documented reason, so a barge-in is recognised
//! by that order of events), and whether `session.finished` was seen (so the
//! close that follows it does not end the session twice).
//!
//! Mapping differences from OpenAI: `session.finished` → `SessionEnded`;
//! `input_tokens_details` usage; `response.audio.*` only (beta names).
//!
//! Per model (the row of [`models::family`](super::models::family)): the
//! encoder writes the session flat (≤ qwen3.5-omni) or in the SDK's nested
//! "omni_v38" form (qwen3.8-omni), switchable with
//! [`Encoder::with_session_shape`]. The decoder reads formats from either
//! shape, user-transcript deltas from `delta` or Qwen-Audio's `text` (settled;
//! the provisional `stash` is not reported), and a cancelled `response.done`'s
//! `status_details.reason` (`turn_detected`: the user interrupted;
//! `client_cancelled`: the client did), falling back to the order of events
//! when no reason comes (both *unconfirmed* for Omni).

use super::models::{family, SessionShape};
use super::wire::{
    AudioAppend, ClientEvent, FunctionDef, ImageAppend, ItemCreate, Opaque, ResponseCancel,
    ResponseCreate, ServerEvent, Session, SessionUpdate, Tool, Usage as WireUsage,
};
use super::{capabilities_for, INPUT_RATE, OUTPUT_RATE};
use crate::audio::{AudioEncoding, AudioFormat};
use crate::capabilities::Capabilities;
use crate::codec::{
    decode_json_frame, json_text_frames, DecodeError, EncodeError, RealtimeCodec, WireFrame,
};
use crate::event::ModelEvent;
use crate::input::{ClientInput, Modality, ResponseOptions, SessionConfig, ToolChoice};
use crate::openai::codec::{error_info, response_end, usage_from};
use crate::openai::family::{turn_detection_wire, Shared};
use crate::openai::wire::objects::{ContentPart, Item};
use serde_json::{json, Value};

/// The DashScope dialect name used in cassettes, reports and capabilities.
pub const DIALECT: &str = "dashscope-omni";

/// Decodes Qwen-Omni server frames into normalised events.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    shared: Shared,
    active_response: Option<String>,
    interrupted: Option<String>,
    finished: bool,
}

impl Decoder {
    /// A decoder for a fresh session.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one text frame.
    pub fn decode_text(&mut self, text: &str) -> Result<Vec<ModelEvent>, DecodeError> {
        let event: ServerEvent = serde_json::from_str(text)?;
        self.decode_event(&event)
    }

    /// Decodes one parsed server event.
    pub fn decode_event(&mut self, event: &ServerEvent) -> Result<Vec<ModelEvent>, DecodeError> {
        use ServerEvent as S;
        let out = match event {
            S::Error(e) => vec![ModelEvent::Error(error_info(&e.error, false))],
            S::SessionCreated(e) => vec![ModelEvent::SessionCreated {
                session_id: e.session.id.clone().unwrap_or_default(),
                model: e.session.model.clone().unwrap_or_default(),
                input_format: input_format(&e.session),
                output_format: output_format(&e.session),
                expires_at: e.session.extra.get("expires_at").and_then(Value::as_i64),
            }],
            S::SessionUpdated(e) => vec![ModelEvent::SessionUpdated {
                input_format: input_format(&e.session),
                output_format: output_format(&e.session),
            }],
            S::SpeechStarted(e) => {
                if let Some(response) = &self.active_response {
                    self.interrupted = Some(response.clone());
                }
                vec![Shared::speech_started(e)]
            }
            S::SpeechStopped(e) => vec![Shared::speech_stopped(e)],
            S::InputAudioBufferCommitted(e) => vec![Shared::committed(e)],
            S::InputAudioBufferCleared(_) => vec![ModelEvent::InputCleared],
            S::InputTranscriptionDelta(e) => transcription_delta(e),
            S::InputTranscriptionCompleted(e) => vec![Shared::transcription_completed(e)],
            S::InputTranscriptionFailed(e) => vec![Shared::transcription_failed(e)],
            S::ResponseCreated(e) => {
                let id = e.response.id.clone().unwrap_or_default();
                self.active_response = Some(id.clone());
                self.interrupted = None;
                vec![ModelEvent::ResponseCreated { response_id: id }]
            }
            S::ResponseOutputItemAdded(e) | S::ResponseOutputItemDone(e) => {
                self.shared.note_item(e);
                vec![]
            }
            S::ResponseAudioDelta(d) => Shared::audio_delta(event.event_type(), d, OUTPUT_RATE)?,
            S::ResponseAudioDone(r) => vec![self.shared.audio_done(r)],
            S::ResponseAudioTranscriptDelta(d) => vec![self.shared.transcript_delta(d)],
            S::ResponseAudioTranscriptDone(t) => vec![self.shared.transcript_done(t)],
            S::ResponseTextDelta(d) => vec![self.shared.text_delta(d)],
            S::ResponseTextDone(t) => vec![self.shared.text_done(t)],
            S::FunctionCallArgumentsDelta(d) => vec![self.shared.tool_delta(d)],
            S::FunctionCallArgumentsDone(d) => vec![self.shared.tool_done(d)],
            S::ResponseDone(e) => {
                let id = e.response.id.clone().unwrap_or_default();
                let status = e.response.status.as_deref();
                let details = e.response.status_details.clone().flatten();
                let by_order = status != Some("completed")
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
            S::SessionFinished(_) => {
                self.finished = true;
                vec![ModelEvent::SessionEnded {
                    reason: "session finished".into(),
                    close_code: None,
                }]
            }
            S::ConversationItemCreated(_)
            | S::ResponseContentPartAdded(_)
            | S::ResponseContentPartDone(_) => vec![],
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

    /// The events for a close frame: the end of the session, unless
    /// `session.finished` already said so.
    pub fn decode_close(&mut self, code: Option<u16>, reason: &str) -> Vec<ModelEvent> {
        if self.finished {
            return vec![];
        }
        vec![ModelEvent::SessionEnded {
            reason: reason.to_owned(),
            close_code: code,
        }]
    }
}

/// A user-transcript delta: OpenAI's `delta`, else Qwen-Audio's settled
/// `text` (the provisional `stash` may still change, so it is not reported).
fn transcription_delta(e: &super::wire::InputTranscriptionDelta) -> Vec<ModelEvent> {
    if e.delta.as_deref().is_some_and(|d| !d.is_empty()) {
        return Shared::transcription_delta(e);
    }
    match e.extra.get("text").and_then(Value::as_str) {
        Some(text) if !text.is_empty() => vec![ModelEvent::InputTranscriptDelta {
            item_id: e.item_id.clone(),
            delta: text.to_owned(),
        }],
        _ => vec![],
    }
}

/// The format name of one direction: flat `<dir>_audio_format`, else the
/// nested `audio.<dir>.format.type` of the 3.8 shape.
fn format_name<'s>(session: &'s Session, flat: Option<&'s str>, dir: &str) -> Option<&'s str> {
    flat.or_else(|| {
        session
            .extra
            .get("audio")
            .and_then(|a| a.get(dir))
            .and_then(|d| d.get("format"))
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
    })
}

/// Every PCM format name DashScope uses is 16-bit; input is 16 kHz.
fn input_format(session: &Session) -> Option<AudioFormat> {
    format_name(session, session.input_audio_format.as_deref(), "input")
        .filter(|f| f.starts_with("pcm"))
        .map(|_| AudioFormat::pcm16(INPUT_RATE))
}

/// Output is 24 kHz whatever the name (`pcm`, `pcm16`, `pcm24`).
fn output_format(session: &Session) -> Option<AudioFormat> {
    format_name(session, session.output_audio_format.as_deref(), "output")
        .filter(|f| f.starts_with("pcm"))
        .map(|_| AudioFormat::pcm16(OUTPUT_RATE))
}

/// How the encoder spells PCM formats: the protocol has changed names over
/// time and which ones a model accepts is unconfirmed, so it is a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatNames {
    /// `pcm16` in and out: what the official SDK sends by default.
    #[default]
    Pcm16,
    /// `pcm` in and out: the newer documentation's spelling.
    Pcm,
}

impl FormatNames {
    fn input(self) -> &'static str {
        match self {
            FormatNames::Pcm16 => "pcm16",
            FormatNames::Pcm => "pcm",
        }
    }

    fn output(self) -> &'static str {
        self.input()
    }
}

/// Encodes normalised inputs as Qwen-Omni client events.
#[derive(Debug, Clone)]
pub struct Encoder {
    capabilities: Capabilities,
    format_names: FormatNames,
    shape: SessionShape,
    next_event: u64,
}

impl Encoder {
    /// An encoder for `model`: capabilities and session shape come from the
    /// model's row; the nested 3.8 shape spells formats `pcm` as its SDK does,
    /// the flat one `pcm16` as the legacy SDK does.
    pub fn new(model: &str) -> Self {
        let shape = family(model).session_shape;
        Encoder {
            capabilities: capabilities_for(model),
            format_names: match shape {
                SessionShape::Flat => FormatNames::Pcm16,
                SessionShape::NestedV38 => FormatNames::Pcm,
            },
            shape,
            next_event: 0,
        }
    }

    /// Chooses how PCM format names are spelled.
    pub fn with_format_names(mut self, names: FormatNames) -> Self {
        self.format_names = names;
        self
    }

    /// Chooses the session shape instead of the model row's (the official
    /// 3.8 shape is unconfirmed; flat is what peers send to every model).
    pub fn with_session_shape(mut self, shape: SessionShape) -> Self {
        self.shape = shape;
        self
    }

    /// What the model supports.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// A fresh client event id (`event_<32 hex>`, as the SDK sends).
    fn event_id(&mut self) -> Option<String> {
        self.next_event += 1;
        Some(format!("event_{:032x}", self.next_event))
    }

    fn unsupported(&self, input: &'static str) -> EncodeError {
        EncodeError::Unsupported {
            input,
            dialect: self.capabilities.dialect.clone(),
        }
    }

    /// Turns one input into the client events that carry it.
    pub fn encode(&mut self, input: &ClientInput) -> Result<Vec<ClientEvent>, EncodeError> {
        let event_id = self.event_id();
        let event = match input {
            ClientInput::Session(config) => {
                if let Some(format) = config.input_format {
                    check_rate(format, INPUT_RATE)?;
                }
                ClientEvent::SessionUpdate(SessionUpdate {
                    event_id,
                    session: Some(Box::new(self.session(config))),
                    ..Default::default()
                })
            }
            ClientInput::Audio { pcm, sample_rate } => {
                check_rate(AudioFormat::pcm16(*sample_rate), INPUT_RATE)?;
                ClientEvent::InputAudioBufferAppend(AudioAppend {
                    event_id,
                    audio: pcm.to_base64(),
                    ..Default::default()
                })
            }
            ClientInput::CommitAudio => ClientEvent::InputAudioBufferCommit(Opaque {
                event_id,
                ..Default::default()
            }),
            ClientInput::ClearAudio => ClientEvent::InputAudioBufferClear(Opaque {
                event_id,
                ..Default::default()
            }),
            ClientInput::Text { text } => {
                if !self.capabilities.text_input {
                    return Err(self.unsupported("text input"));
                }
                ClientEvent::ConversationItemCreate(ItemCreate {
                    event_id,
                    item: Box::new(Item {
                        kind: "message".into(),
                        role: Some("user".into()),
                        content: Some(vec![ContentPart {
                            kind: "input_text".into(),
                            text: Some(text.clone()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            }
            ClientInput::Image { mime_type, data } => {
                if !matches!(mime_type.as_str(), "image/jpeg" | "image/jpg") {
                    return Err(self.unsupported("images other than JPEG"));
                }
                ClientEvent::InputImageBufferAppend(ImageAppend {
                    event_id,
                    image: data.to_base64(),
                    ..Default::default()
                })
            }
            ClientInput::ToolResult {
                call_id, output, ..
            } => {
                if !self.capabilities.tool_calls {
                    return Err(
                        self.unsupported("tool results (this model has no function calling)")
                    );
                }
                ClientEvent::ConversationItemCreate(ItemCreate {
                    event_id,
                    item: Box::new(Item {
                        kind: "function_call_output".into(),
                        call_id: Some(call_id.clone()),
                        output: Some(output.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            }
            ClientInput::CreateResponse(options) => ClientEvent::ResponseCreate(ResponseCreate {
                event_id,
                response: response_overrides(options),
                ..Default::default()
            }),
            ClientInput::CancelResponse { response_id } => {
                ClientEvent::ResponseCancel(ResponseCancel {
                    event_id,
                    response_id: response_id.clone(),
                    ..Default::default()
                })
            }
            ClientInput::EndSession => ClientEvent::SessionFinish(Opaque {
                event_id,
                ..Default::default()
            }),
            ClientInput::Truncate { .. } => return Err(self.unsupported("truncation")),
            ClientInput::Resume { .. } => return Err(self.unsupported("session resumption")),
        };
        Ok(vec![event])
    }

    fn session(&self, config: &SessionConfig) -> Session {
        let modalities = config.output_modalities.as_deref().map(|m| {
            if m.contains(&Modality::Audio) {
                vec!["text".to_owned(), "audio".to_owned()]
            } else {
                vec!["text".to_owned()]
            }
        });
        let tools = (!config.tools.is_empty()).then(|| {
            config
                .tools
                .iter()
                .map(|t| Tool {
                    kind: Some("function".into()),
                    function: Some(FunctionDef {
                        name: Some(t.name.clone()),
                        description: Some(t.description.clone()),
                        parameters: Some(t.parameters.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect()
        });
        let input_audio_format = config
            .input_format
            .map(|_| self.format_names.input().to_owned());
        let output_audio_format = config
            .output_format
            .map(|_| self.format_names.output().to_owned());
        let mut session = Session {
            modalities,
            instructions: config.instructions.clone(),
            input_audio_transcription: config
                .input_transcription
                .as_ref()
                .map(|model| Some(json!({ "model": model }))),
            turn_detection: config.turn_detection.as_ref().map(turn_detection_wire),
            tools,
            tool_choice: config.tool_choice.as_ref().map(|c| match c {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Function(name) => {
                    json!({"type": "function", "function": {"name": name}})
                }
            }),
            ..Default::default()
        };
        match self.shape {
            SessionShape::Flat => {
                session.voice = config.voice.clone();
                session.input_audio_format = input_audio_format;
                session.output_audio_format = output_audio_format;
            }
            SessionShape::NestedV38 => {
                if let Some(audio) = nested_audio(
                    input_audio_format,
                    output_audio_format,
                    config.voice.clone(),
                ) {
                    session.extra.insert("audio".into(), audio);
                }
            }
        }
        session
    }
}

/// The 3.8 SDK's `audio` object: `input.format{type,sample_rate}`,
/// `output.format{…}` and `output.voice`, holding only what is set (the SDK
/// sends incremental updates); `None` when nothing is.
fn nested_audio(
    input: Option<String>,
    output: Option<String>,
    voice: Option<String>,
) -> Option<Value> {
    let mut audio = serde_json::Map::new();
    if let Some(kind) = input {
        audio.insert(
            "input".into(),
            json!({"format": {"type": kind, "sample_rate": INPUT_RATE}}),
        );
    }
    let mut out = serde_json::Map::new();
    if let Some(voice) = voice {
        out.insert("voice".into(), json!(voice));
    }
    if let Some(kind) = output {
        out.insert(
            "format".into(),
            json!({"type": kind, "sample_rate": OUTPUT_RATE}),
        );
    }
    if !out.is_empty() {
        audio.insert("output".into(), Value::Object(out));
    }
    (!audio.is_empty()).then_some(Value::Object(audio))
}

fn check_rate(format: AudioFormat, expected: u32) -> Result<(), EncodeError> {
    if format.encoding != AudioEncoding::Pcm16 || format.sample_rate != expected {
        return Err(EncodeError::SampleRate {
            expected,
            got: format.sample_rate,
        });
    }
    Ok(())
}

fn response_overrides(options: &ResponseOptions) -> Option<Value> {
    if options == &ResponseOptions::default() {
        return None;
    }
    let mut map = serde_json::Map::new();
    if let Some(instructions) = &options.instructions {
        map.insert("instructions".into(), json!(instructions));
    }
    if let Some(m) = &options.output_modalities {
        let names = if m.contains(&Modality::Audio) {
            json!(["text", "audio"])
        } else {
            json!(["text"])
        };
        map.insert("modalities".into(), names);
    }
    Some(Value::Object(map))
}

/// The Qwen-Omni protocol as a [`RealtimeCodec`].
#[derive(Debug, Clone)]
pub struct DashScopeCodec {
    encoder: Encoder,
    decoder: Decoder,
}

impl DashScopeCodec {
    /// A codec for a fresh session with `model`.
    pub fn new(model: &str) -> Self {
        DashScopeCodec {
            encoder: Encoder::new(model),
            decoder: Decoder::new(),
        }
    }
}

impl RealtimeCodec for DashScopeCodec {
    fn capabilities(&self) -> Capabilities {
        self.encoder.capabilities().clone()
    }

    fn encode(&mut self, input: &ClientInput) -> Result<Vec<WireFrame>, EncodeError> {
        json_text_frames(&self.encoder.encode(input)?)
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
