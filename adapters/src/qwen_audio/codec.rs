//! Sans-IO Qwen-Audio-Realtime codec: server frames → [`ModelEvent`]s, and
//! [`ClientInput`]s → client frames.
//!
//! The payloads Qwen-Audio shares with Qwen-Omni and OpenAI beta (VAD,
//! deltas, tool calls, errors, response ends) normalise through the same
//! shared mappings (`openai::family`, `openai::codec`). Its own mappings:
//!
//! - input transcription deltas carry the settled `text` and a provisional
//!   `stash`: each [`ModelEvent::InputTranscriptDelta`] is the newly settled
//!   text (the suffix beyond what had settled, when `text` repeats it —
//!   whether `text` is cumulative is unconfirmed, both readings work); the
//!   stash is not reported for user turns;
//! - `speech_stopped {reason: "turn_invalid"}` → `SpeechStopped`, then
//!   [`ModelEvent::TurnWithdrawn`];
//! - ambient transcription → [`ModelEvent::AmbientTranscript`] (never a turn);
//! - voiceprint progress → [`ModelEvent::VoiceprintStatus`];
//! - a cancelled `response.done` names its cause in `status_details.reason`:
//!   `turn_detected` (the user barged in) puts an `Interrupted` before it,
//!   `client_cancelled` does not;
//! - there is no `session.finish`: ending a session sends nothing, and the
//!   close is the end.
//!
//! The encoder writes the flat session the SDK writes (`pcm` format names,
//! `input_audio_transcription: {}`, Chat-Completions tools), maps semantic
//! turn detection to `smart_turn` (the service refuses the name
//! `semantic_vad`), and can add voiceprint URLs to it
//! ([`Encoder::with_voiceprint_urls`]).

use super::wire::{
    AudioAppend, ClientEvent, FunctionDef, Item, ItemCreate, Opaque, ResponseCancel,
    ResponseCreate, ServerEvent, Session, SessionUpdate, Tool, TranscriptionDelta, TurnDetection,
    Usage as WireUsage, TURN_INVALID, VOICEPRINT_URLS,
};
use super::{capabilities, INPUT_RATE, OUTPUT_RATE};
use crate::audio::{AudioEncoding, AudioFormat};
use crate::capabilities::Capabilities;
use crate::codec::{
    decode_json_frame, json_text_frames, DecodeError, EncodeError, RealtimeCodec, WireFrame,
};
use crate::event::{ModelEvent, VoiceprintState};
use crate::input::{ClientInput, Modality, ResponseOptions, SessionConfig, ToolChoice};
use crate::openai::codec::{error_info, response_end, usage_from};
use crate::openai::family::Shared;
use crate::openai::wire::objects::ContentPart;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Decodes Qwen-Audio server frames into normalised events.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    shared: Shared,
    /// Settled input-transcript text per user item.
    settled: HashMap<String, String>,
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
            S::Error(e) => {
                // `invalid_request_error` keeps the socket open; `server_error` ends it.
                let fatal = e.error.kind == "server_error";
                vec![ModelEvent::Error(error_info(&e.error, fatal))]
            }
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
            S::SpeechStarted(e) => vec![Shared::speech_started(e)],
            S::SpeechStopped(e) => {
                let mut out = vec![ModelEvent::SpeechStopped {
                    item_id: e.item_id.clone(),
                    audio_end_ms: e.audio_end_ms,
                }];
                if e.reason.as_deref() == Some(TURN_INVALID) {
                    self.settled.remove(&e.item_id);
                    out.push(ModelEvent::TurnWithdrawn {
                        item_id: e.item_id.clone(),
                    });
                }
                out
            }
            S::InputAudioBufferCommitted(e) => vec![Shared::committed(e)],
            S::InputAudioBufferCleared(_) => vec![ModelEvent::InputCleared],
            S::InputTranscriptionDelta(d) => self.input_delta(d),
            S::InputTranscriptionCompleted(e) => {
                self.settled.remove(&e.item_id);
                vec![Shared::transcription_completed(e)]
            }
            S::InputTranscriptionFailed(e) => vec![Shared::transcription_failed(e)],
            S::AmbientTranscriptionDelta(d) => vec![ModelEvent::AmbientTranscript {
                item_id: d.item_id.clone(),
                text: d
                    .text
                    .clone()
                    .or_else(|| d.delta.clone())
                    .unwrap_or_default(),
                stash: d.stash.clone().filter(|s| !s.is_empty()),
                done: false,
            }],
            S::AmbientTranscriptionCompleted(e) => vec![ModelEvent::AmbientTranscript {
                item_id: e.item_id.clone(),
                text: e.transcript.clone(),
                stash: None,
                done: true,
            }],
            S::VoiceprintInProgress(e) => vec![voiceprint(e, VoiceprintState::InProgress)],
            S::VoiceprintCompleted(e) => vec![voiceprint(e, VoiceprintState::Completed)],
            S::VoiceprintFailed(e) => vec![voiceprint(e, VoiceprintState::Failed)],
            S::ResponseCreated(e) => vec![ModelEvent::ResponseCreated {
                response_id: e.response.id.clone().unwrap_or_default(),
            }],
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
                let details = e.response.status_details.clone().flatten();
                let status = e.response.status.as_deref();
                let interrupted = status == Some("cancelled")
                    && details.as_ref().and_then(|d| d.reason.as_deref()) == Some("turn_detected");
                let usage = e.response.usage.clone().flatten().map(|u: WireUsage| {
                    usage_from(
                        u.total_tokens,
                        u.input_tokens,
                        u.output_tokens,
                        u.input_tokens_details.as_ref(),
                        u.output_tokens_details.as_ref(),
                    )
                });
                response_end(
                    e.response.id.clone().unwrap_or_default(),
                    status,
                    details.as_ref(),
                    usage,
                    interrupted,
                )
            }
            S::ConversationItemCreated(_)
            | S::ConversationItemDeleted(_)
            | S::ConversationItemRetrieved(_)
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

    /// The newly settled part of a user-transcript delta (OpenAI's `delta`
    /// spelling is taken as new text as it is).
    fn input_delta(&mut self, d: &TranscriptionDelta) -> Vec<ModelEvent> {
        let new = match (&d.text, &d.delta) {
            (Some(text), _) => {
                let settled = self.settled.entry(d.item_id.clone()).or_default();
                let new = match text.strip_prefix(settled.as_str()) {
                    Some(suffix) if !settled.is_empty() => suffix.to_owned(),
                    _ => text.clone(),
                };
                if text.starts_with(settled.as_str()) {
                    *settled = text.clone();
                } else {
                    settled.push_str(text);
                }
                new
            }
            (None, Some(delta)) => delta.clone(),
            (None, None) => String::new(),
        };
        if new.is_empty() {
            return vec![];
        }
        vec![ModelEvent::InputTranscriptDelta {
            item_id: d.item_id.clone(),
            delta: new,
        }]
    }

    /// The events for a close frame: the session is over (there is no
    /// goodbye event on this dialect).
    pub fn decode_close(&mut self, code: Option<u16>, reason: &str) -> Vec<ModelEvent> {
        vec![ModelEvent::SessionEnded {
            reason: reason.to_owned(),
            close_code: code,
        }]
    }
}

fn voiceprint(e: &super::wire::VoiceprintEvent, state: VoiceprintState) -> ModelEvent {
    ModelEvent::VoiceprintStatus {
        task_id: e.item_id.clone(),
        state,
        reason: e.reason.clone(),
    }
}

/// Input is PCM16 at 16 kHz (`pcm`).
fn input_format(session: &Session) -> Option<AudioFormat> {
    session
        .input_audio_format
        .as_deref()
        .filter(|f| f.starts_with("pcm"))
        .map(|_| AudioFormat::pcm16(INPUT_RATE))
}

/// Output is PCM16 at 24 kHz (`pcm`).
fn output_format(session: &Session) -> Option<AudioFormat> {
    session
        .output_audio_format
        .as_deref()
        .filter(|f| f.starts_with("pcm"))
        .map(|_| AudioFormat::pcm16(OUTPUT_RATE))
}

/// Encodes normalised inputs as Qwen-Audio client events.
#[derive(Debug, Clone)]
pub struct Encoder {
    capabilities: Capabilities,
    voiceprint_urls: Vec<String>,
    next_event: u64,
}

impl Encoder {
    /// An encoder for `model`.
    pub fn new(model: &str) -> Self {
        Encoder {
            capabilities: capabilities(model),
            voiceprint_urls: Vec::new(),
            next_event: 0,
        }
    }

    /// Voiceprint samples of the target speaker (public http(s) URLs, at
    /// most five) sent with smart-turn detection: the service then treats
    /// other voices as ambient. Only the first `session.update` registers
    /// them.
    pub fn with_voiceprint_urls(mut self, urls: Vec<String>) -> Self {
        self.voiceprint_urls = urls;
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

    /// Turns one input into the client events that carry it (none for
    /// [`ClientInput::EndSession`]: the client just closes).
    pub fn encode(&mut self, input: &ClientInput) -> Result<Vec<ClientEvent>, EncodeError> {
        let event_id = self.event_id();
        let event = match input {
            ClientInput::Session(config) => {
                if let Some(format) = config.input_format {
                    check_rate(format, INPUT_RATE)?;
                }
                ClientEvent::SessionUpdate(SessionUpdate {
                    event_id,
                    session: Some(Box::new(self.session(config)?)),
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
            ClientInput::Text { text } => ClientEvent::ConversationItemCreate(ItemCreate {
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
            }),
            ClientInput::ToolResult {
                call_id, output, ..
            } => ClientEvent::ConversationItemCreate(ItemCreate {
                event_id,
                item: Box::new(Item {
                    kind: "function_call_output".into(),
                    call_id: Some(call_id.clone()),
                    output: Some(output.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ClientInput::CreateResponse(options) => ClientEvent::ResponseCreate(ResponseCreate {
                event_id,
                response: Some(self.response_overrides(options)?),
                ..Default::default()
            }),
            ClientInput::CancelResponse { .. } => ClientEvent::ResponseCancel(ResponseCancel {
                event_id,
                ..Default::default()
            }),
            ClientInput::EndSession => return Ok(vec![]),
            ClientInput::Image { .. } => return Err(self.unsupported("images")),
            ClientInput::Truncate { .. } => return Err(self.unsupported("truncation")),
            ClientInput::Resume { .. } => return Err(self.unsupported("session resumption")),
        };
        Ok(vec![event])
    }

    fn session(&self, config: &SessionConfig) -> Result<Session, EncodeError> {
        let modalities = config.output_modalities.as_deref().map(modality_names);
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
        let tool_choice = match &config.tool_choice {
            None => None,
            Some(ToolChoice::Auto) => Some(json!("auto")),
            Some(_) => return Err(self.unsupported("a tool choice other than `auto`")),
        };
        Ok(Session {
            modalities,
            voice: config.voice.clone(),
            input_audio_format: config.input_format.map(|_| "pcm".to_owned()),
            output_audio_format: config.output_format.map(|_| "pcm".to_owned()),
            instructions: config.instructions.clone(),
            // The service picks the transcription model; `{}` turns it on.
            input_audio_transcription: config.input_transcription.as_ref().map(|_| Some(json!({}))),
            turn_detection: config
                .turn_detection
                .as_ref()
                .map(|td| self.turn_detection(td)),
            tools,
            tool_choice,
            ..Default::default()
        })
    }

    fn turn_detection(&self, detection: &crate::input::TurnDetection) -> Option<TurnDetection> {
        use crate::input::TurnDetection as T;
        match detection {
            T::Manual => None,
            T::ServerVad {
                threshold,
                silence_duration_ms,
                ..
            } => Some(TurnDetection {
                kind: "server_vad".into(),
                threshold: *threshold,
                silence_duration_ms: *silence_duration_ms,
                ..Default::default()
            }),
            T::SemanticVad { .. } => {
                let mut td = TurnDetection {
                    kind: "smart_turn".into(),
                    ..Default::default()
                };
                if !self.voiceprint_urls.is_empty() {
                    td.extra
                        .insert(VOICEPRINT_URLS.into(), json!(self.voiceprint_urls));
                }
                Some(td)
            }
        }
    }

    /// `response.create`'s `response`: only modality (and voice) overrides
    /// exist; the SDK sends `{}` when there are none.
    fn response_overrides(&self, options: &ResponseOptions) -> Result<Value, EncodeError> {
        if options.instructions.is_some() {
            return Err(self.unsupported("per-response instructions"));
        }
        let mut map = serde_json::Map::new();
        if let Some(m) = &options.output_modalities {
            map.insert("modalities".into(), json!(modality_names(m)));
        }
        Ok(Value::Object(map))
    }
}

/// `["text","audio"]` when audio is wanted, else `["text"]`.
fn modality_names(modalities: &[Modality]) -> Vec<String> {
    if modalities.contains(&Modality::Audio) {
        vec!["text".to_owned(), "audio".to_owned()]
    } else {
        vec!["text".to_owned()]
    }
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

/// The Qwen-Audio-Realtime protocol as a [`RealtimeCodec`].
#[derive(Debug, Clone)]
pub struct QwenAudioCodec {
    encoder: Encoder,
    decoder: Decoder,
}

impl QwenAudioCodec {
    /// A codec for a fresh session with `model`.
    pub fn new(model: &str) -> Self {
        QwenAudioCodec {
            encoder: Encoder::new(model),
            decoder: Decoder::new(),
        }
    }
}

impl RealtimeCodec for QwenAudioCodec {
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
