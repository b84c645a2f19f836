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

use super::core::{
    base_session, client_event_from_common, family_codec, modality_names, unrecognized,
    CoreDecoder, CoreEncoder, DecodeRules,
};
use super::models::{family, SessionShape};
use super::wire::{
    ClientEvent, ImageAppend, Opaque, ResponseCancel, ResponseCreate, ServerEvent, Session,
};
use super::{capabilities_for, INPUT_RATE, OUTPUT_RATE};
use crate::capabilities::Capabilities;
use crate::codec::{DecodeError, EncodeError};
use crate::event::ModelEvent;
use crate::input::{ClientInput, ResponseOptions, SessionConfig, ToolChoice};
use crate::openai::family::{turn_detection_wire, Shared};
use serde_json::{json, Value};

/// The DashScope dialect name used in cassettes, reports and capabilities.
pub const DIALECT: &str = "dashscope-omni";

/// How Qwen-Omni decodes where the family's dialects differ: nested 3.8
/// formats, every `error` non-fatal, barge-ins recognised by the order of
/// events when no reason comes.
const RULES: DecodeRules = DecodeRules {
    nested_formats: true,
    server_error_fatal: false,
    interrupt_by_order: true,
};

/// Decodes Qwen-Omni server frames into normalised events.
#[derive(Debug, Clone)]
pub struct Decoder {
    core: CoreDecoder,
    finished: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            core: CoreDecoder::new(RULES),
            finished: false,
        }
    }
}

impl Decoder {
    /// Decodes one parsed server event.
    pub fn decode_event(&mut self, event: &ServerEvent) -> Result<Vec<ModelEvent>, DecodeError> {
        use ServerEvent as S;
        if let Some(shared) = event.shared() {
            return self.core.decode(shared, event.event_type());
        }
        let out = match event {
            S::SpeechStopped(e) => vec![Shared::speech_stopped(e)],
            S::InputTranscriptionDelta(e) => transcription_delta(e),
            S::SessionFinished(_) => {
                self.finished = true;
                vec![ModelEvent::SessionEnded {
                    reason: "session finished".into(),
                    close_code: None,
                }]
            }
            S::Unknown(map) => vec![unrecognized(map)],
            _ => vec![],
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
    core: CoreEncoder,
    format_names: FormatNames,
    shape: SessionShape,
}

impl Encoder {
    /// An encoder for `model`: capabilities and session shape come from the
    /// model's row; the nested 3.8 shape spells formats `pcm` as its SDK does,
    /// the flat one `pcm16` as the legacy SDK does.
    pub fn new(model: &str) -> Self {
        let shape = family(model).session_shape;
        Encoder {
            core: CoreEncoder::new(capabilities_for(model)),
            format_names: match shape {
                SessionShape::Flat => FormatNames::Pcm16,
                SessionShape::NestedV38 => FormatNames::Pcm,
            },
            shape,
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
        self.core.capabilities()
    }

    /// Turns one input into the client events that carry it.
    pub fn encode(&mut self, input: &ClientInput) -> Result<Vec<ClientEvent>, EncodeError> {
        let event_id = self.core.event_id();
        if let Some(common) = self
            .core
            .common(input, &event_id, |config| Ok(self.session(config)))?
        {
            return Ok(vec![common.into()]);
        }
        let event = match input {
            ClientInput::Image { mime_type, data } => {
                if !matches!(mime_type.as_str(), "image/jpeg" | "image/jpg") {
                    return Err(self.core.unsupported("images other than JPEG"));
                }
                ClientEvent::InputImageBufferAppend(ImageAppend {
                    event_id,
                    image: data.to_base64(),
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
            ClientInput::Truncate { .. } => return Err(self.core.unsupported("truncation")),
            ClientInput::Resume { .. } => return Err(self.core.unsupported("session resumption")),
            // Encoded by the family core above.
            _ => return Err(self.core.unsupported("this input")),
        };
        Ok(vec![event])
    }

    fn session(&self, config: &SessionConfig) -> Session {
        let input_audio_format = config
            .input_format
            .map(|_| self.format_names.input().to_owned());
        let output_audio_format = config
            .output_format
            .map(|_| self.format_names.output().to_owned());
        let mut session = Session {
            input_audio_transcription: config
                .input_transcription
                .as_ref()
                .map(|model| Some(json!({ "model": model }))),
            turn_detection: config.turn_detection.as_ref().map(turn_detection_wire),
            tool_choice: config.tool_choice.as_ref().map(|c| match c {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Function(name) => {
                    json!({"type": "function", "function": {"name": name}})
                }
            }),
            ..base_session(config)
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

fn response_overrides(options: &ResponseOptions) -> Option<Value> {
    if options == &ResponseOptions::default() {
        return None;
    }
    let mut map = serde_json::Map::new();
    if let Some(instructions) = &options.instructions {
        map.insert("instructions".into(), json!(instructions));
    }
    if let Some(m) = &options.output_modalities {
        map.insert("modalities".into(), json!(modality_names(m)));
    }
    Some(Value::Object(map))
}

client_event_from_common!(ClientEvent);

family_codec! {
    /// The Qwen-Omni protocol as a [`RealtimeCodec`](crate::codec::RealtimeCodec).
    pub struct DashScopeCodec;
}
