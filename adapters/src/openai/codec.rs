//! Sans-IO OpenAI Realtime codec: server frames → [`ModelEvent`]s, and
//! [`ClientInput`]s → client frames, for either dialect.
//!
//! The decoder is tolerant: it accepts GA and beta event names in either
//! dialect (older servers and proxies mix them) and only keeps the state the
//! protocol forces on it: the output sample rate (from the session) and the
//! tool name of each call (beta's `function_call_arguments.done` omits it, so it
//! is taken from `response.output_item.added`).
//!
//! | wire event | normalised |
//! |---|---|
//! | `session.created` / `.updated` | `SessionCreated` / `SessionUpdated` |
//! | `input_audio_buffer.speech_started` / `_stopped` / `committed` / `cleared` | `SpeechStarted` / `SpeechStopped` / `InputCommitted` / `InputCleared` |
//! | `conversation.item.input_audio_transcription.delta` / `completed` / `failed` | `InputTranscriptDelta` / `Done` / `Failed` |
//! | `response.created` | `ResponseCreated` |
//! | `response.output_audio.delta` (beta `response.audio.delta`) | `AudioDelta` (base64 decoded; empty deltas carry no audio and are skipped) |
//! | `response.output_audio.done` (beta `response.audio.done`) | `AudioDone` |
//! | `response.output_audio_transcript.*` (beta `response.audio_transcript.*`) | `TranscriptDelta` / `TranscriptDone` |
//! | `response.output_text.*` (beta `response.text.*`) | `TextDelta` / `TextDone` |
//! | `response.function_call_arguments.delta` / `.done` | `ToolCallDelta` / `ToolCall` |
//! | `conversation.item.truncated` | `Truncated` |
//! | `response.done` | `Interrupted` (when cancelled by `turn_detected`), `ResponseDone`, then `Usage` (when counted) |
//! | `output_audio_buffer.started` / `.stopped` (WebRTC/SIP sidebands) | `PlaybackStarted` / `PlaybackStopped` |
//! | `response.output_item.*`, `conversation.item.added/done/created` | nothing; an assistant message's `phase` is kept and carried on its text, transcript and audio-done events |
//! | `error` | `Error` |
//! | unknown type | `Unrecognized` |
//!
//! Other known events (content parts, rate limits, `output_audio_buffer.cleared`,
//! MCP) carry nothing the normalised vocabulary needs and decode to no event.

use super::dialect::Dialect;
use super::family::{turn_detection_wire, Shared};
use super::wire::client::{
    ConversationItemCreate, ConversationItemTruncate, InputAudioBufferAppend, ResponseCancel,
    ResponseCreate, SessionUpdate,
};
use super::wire::common::Opaque;
use super::wire::objects::{
    self, AudioFormatSpec, AudioInput, AudioOutput, ContentPart, Item, ResponseParams, Session,
    SessionAudio, Tool,
};
use super::wire::server::ServerEvent;
use super::wire::ClientEvent;
use crate::audio::{AudioEncoding, AudioFormat};
use crate::capabilities::Capabilities;
use crate::codec::{
    decode_json_frame, json_text_frames, DecodeError, EncodeError, RealtimeCodec, WireFrame,
};
use crate::event::{ErrorInfo, ModelEvent, ResponseStatus, Usage};
use crate::input::{ClientInput, Modality, ResponseOptions, SessionConfig, ToolChoice};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

/// Default PCM rate of both dialects.
const DEFAULT_RATE: u32 = 24_000;

/// Decodes OpenAI Realtime server frames into normalised events.
#[derive(Debug, Clone)]
pub struct Decoder {
    output_rate: u32,
    shared: Shared,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            output_rate: DEFAULT_RATE,
            shared: Shared::default(),
        }
    }
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

    /// Decodes one already-parsed server event.
    pub fn decode_event(&mut self, event: &ServerEvent) -> Result<Vec<ModelEvent>, DecodeError> {
        use ServerEvent as S;
        let out = match event {
            S::Error(e) => vec![ModelEvent::Error(error_info(&e.error, false))],
            S::SessionCreated(e) => {
                let (input_format, output_format) = self.track_formats(&e.session);
                vec![ModelEvent::SessionCreated {
                    session_id: e.session.id.clone().unwrap_or_default(),
                    model: e.session.model.clone().unwrap_or_default(),
                    input_format,
                    output_format,
                    expires_at: e.session.expires_at,
                }]
            }
            S::SessionUpdated(e) => {
                let (input_format, output_format) = self.track_formats(&e.session);
                vec![ModelEvent::SessionUpdated {
                    input_format,
                    output_format,
                }]
            }
            S::SpeechStarted(e) => vec![Shared::speech_started(e)],
            S::SpeechStopped(e) => vec![Shared::speech_stopped(e)],
            S::InputAudioBufferCommitted(e) => vec![Shared::committed(e)],
            S::InputAudioBufferCleared(_) => vec![ModelEvent::InputCleared],
            S::InputTranscriptionDelta(e) => Shared::transcription_delta(e),
            S::InputTranscriptionCompleted(e) => vec![Shared::transcription_completed(e)],
            S::InputTranscriptionFailed(e) => vec![Shared::transcription_failed(e)],
            S::ResponseCreated(e) => vec![ModelEvent::ResponseCreated {
                response_id: e.response.id.clone().unwrap_or_default(),
            }],
            S::ResponseOutputItemAdded(e) | S::ResponseOutputItemDone(e) => {
                self.shared.note_item(e);
                vec![]
            }
            S::ResponseOutputAudioDelta(d) | S::ResponseAudioDelta(d) => {
                Shared::audio_delta(event.event_type(), d, self.output_rate)?
            }
            S::ResponseOutputAudioDone(r) | S::ResponseAudioDone(r) => {
                vec![self.shared.audio_done(r)]
            }
            S::ResponseOutputAudioTranscriptDelta(d) | S::ResponseAudioTranscriptDelta(d) => {
                vec![self.shared.transcript_delta(d)]
            }
            S::ResponseOutputAudioTranscriptDone(t) | S::ResponseAudioTranscriptDone(t) => {
                vec![self.shared.transcript_done(t)]
            }
            S::ResponseOutputTextDelta(d) | S::ResponseTextDelta(d) => {
                vec![self.shared.text_delta(d)]
            }
            S::ResponseOutputTextDone(t) | S::ResponseTextDone(t) => vec![self.shared.text_done(t)],
            S::FunctionCallArgumentsDelta(d) => vec![self.shared.tool_delta(d)],
            S::FunctionCallArgumentsDone(d) => vec![self.shared.tool_done(d)],
            S::ConversationItemTruncated(t) => vec![ModelEvent::Truncated {
                item_id: t.item_id.clone(),
                audio_end_ms: t.audio_end_ms,
            }],
            S::ResponseDone(e) => response_done(&e.response),
            S::ConversationItemAdded(e)
            | S::ConversationItemDone(e)
            | S::ConversationItemCreated(e) => {
                self.shared.note(&e.item);
                vec![]
            }
            S::OutputAudioBufferStarted(e) => {
                playback(e, |response_id| ModelEvent::PlaybackStarted { response_id })
            }
            S::OutputAudioBufferStopped(e) => {
                playback(e, |response_id| ModelEvent::PlaybackStopped { response_id })
            }
            S::Unknown(map) => vec![ModelEvent::Unrecognized {
                provider_type: map
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            }],
            S::TranscriptionSessionUpdated(_)
            | S::ConversationCreated(_)
            | S::ConversationItemRetrieved(_)
            | S::ConversationItemDeleted(_)
            | S::InputTranscriptionSegment(_)
            | S::InputAudioBufferTimeoutTriggered(_)
            | S::InputAudioBufferDtmfEventReceived(_)
            | S::OutputAudioBufferCleared(_)
            | S::RateLimitsUpdated(_)
            | S::ResponseContentPartAdded(_)
            | S::ResponseContentPartDone(_)
            | S::McpListToolsInProgress(_)
            | S::McpListToolsCompleted(_)
            | S::McpListToolsFailed(_)
            | S::McpCallArgumentsDelta(_)
            | S::McpCallArgumentsDone(_)
            | S::McpCallInProgress(_)
            | S::McpCallCompleted(_)
            | S::McpCallFailed(_) => vec![],
        };
        Ok(out)
    }

    /// The normalised event for a close frame: the session is over.
    pub fn decode_close(&mut self, code: Option<u16>, reason: &str) -> Vec<ModelEvent> {
        vec![ModelEvent::SessionEnded {
            reason: reason.to_owned(),
            close_code: code,
        }]
    }

    fn track_formats(&mut self, session: &Session) -> (Option<AudioFormat>, Option<AudioFormat>) {
        let (input, output) = session_formats(session);
        if let Some(format) = output {
            self.output_rate = format.sample_rate;
        }
        (input, output)
    }
}

/// A playback event of a WebRTC/SIP sideband; one without a `response_id`
/// names nothing a consumer could tie it to, and gives no event.
fn playback(
    e: &super::wire::server::OutputAudioBuffer,
    event: impl FnOnce(String) -> ModelEvent,
) -> Vec<ModelEvent> {
    e.response_id.clone().map(event).into_iter().collect()
}

/// Input and output audio formats a session object declares (GA or beta shape).
pub fn session_formats(session: &Session) -> (Option<AudioFormat>, Option<AudioFormat>) {
    let ga_input = session
        .audio
        .as_ref()
        .and_then(|a| a.input.as_ref())
        .and_then(|i| i.format.as_ref())
        .and_then(ga_format);
    let ga_output = session
        .audio
        .as_ref()
        .and_then(|a| a.output.as_ref())
        .and_then(|o| o.format.as_ref())
        .and_then(ga_format);
    let beta_input = session.input_audio_format.as_deref().and_then(beta_format);
    let beta_output = session.output_audio_format.as_deref().and_then(beta_format);
    (ga_input.or(beta_input), ga_output.or(beta_output))
}

/// Parses a GA format object (`audio/pcm`, `audio/pcmu`, `audio/pcma`).
pub fn ga_format(spec: &AudioFormatSpec) -> Option<AudioFormat> {
    match spec.kind.as_str() {
        "audio/pcm" => Some(AudioFormat::pcm16(spec.rate.unwrap_or(DEFAULT_RATE))),
        "audio/pcmu" => Some(AudioFormat::G711_ULAW),
        "audio/pcma" => Some(AudioFormat::G711_ALAW),
        _ => None,
    }
}

/// Parses a beta format name (`pcm16`, `g711_ulaw`, `g711_alaw`).
pub fn beta_format(name: &str) -> Option<AudioFormat> {
    match name {
        "pcm16" => Some(AudioFormat::pcm16(DEFAULT_RATE)),
        "g711_ulaw" => Some(AudioFormat::G711_ULAW),
        "g711_alaw" => Some(AudioFormat::G711_ALAW),
        _ => None,
    }
}

/// An OpenAI-family `error` object as a normalised [`ErrorInfo`] (shared with
/// DashScope, whose errors have the same shape).
pub(crate) fn error_info(detail: &objects::ErrorDetail, fatal: bool) -> ErrorInfo {
    let code = detail
        .code
        .clone()
        .flatten()
        .unwrap_or_else(|| detail.kind.clone());
    ErrorInfo {
        code,
        message: detail.message.clone(),
        fatal,
        kind: Some(detail.kind.clone()),
        param: detail.param.clone().flatten(),
        event_id: detail.event_id.clone().flatten(),
    }
}

/// The normalised end of a response from its id, wire status, status details
/// and usage; `interrupted` puts an [`ModelEvent::Interrupted`] before it.
/// Shared by the OpenAI-family codecs.
pub(crate) fn response_end(
    response_id: String,
    status: Option<&str>,
    details: Option<&objects::StatusDetails>,
    usage: Option<Usage>,
    interrupted: bool,
) -> Vec<ModelEvent> {
    let reason = details.and_then(|d| d.reason.clone());
    let status = match status {
        Some("cancelled") => ResponseStatus::Cancelled,
        Some("incomplete") => ResponseStatus::Incomplete,
        Some("failed") => ResponseStatus::Failed,
        _ => ResponseStatus::Completed,
    };
    let error = details
        .and_then(|d| d.error.as_ref())
        .map(|e| error_info(e, false))
        .or_else(|| {
            (status == ResponseStatus::Failed).then(|| ErrorInfo {
                code: "response_failed".to_owned(),
                message: "the response failed".to_owned(),
                ..ErrorInfo::default()
            })
        });
    let mut out = Vec::with_capacity(2);
    if interrupted {
        out.push(ModelEvent::Interrupted {
            response_id: Some(response_id.clone()),
        });
    }
    out.push(ModelEvent::ResponseDone {
        response_id: response_id.clone(),
        status,
        reason,
        error,
    });
    // Usage follows the response it counts, on every provider (see `event`).
    if let Some(usage) = usage {
        out.push(ModelEvent::Usage {
            response_id: Some(response_id),
            usage,
        });
    }
    out
}

/// Token usage from OpenAI-family counts and per-modality details.
pub(crate) fn usage_from(
    total: Option<u64>,
    input: Option<u64>,
    output: Option<u64>,
    input_details: Option<&objects::TokenDetails>,
    output_details: Option<&objects::TokenDetails>,
) -> Usage {
    let cached = input_details.and_then(|d| d.cached_tokens_details.as_deref());
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total,
        input_audio_tokens: input_details.and_then(|d| d.audio_tokens),
        output_audio_tokens: output_details.and_then(|d| d.audio_tokens),
        cached_tokens: input_details.and_then(|d| d.cached_tokens),
        cached_text_tokens: cached.and_then(|c| c.text_tokens),
        cached_audio_tokens: cached.and_then(|c| c.audio_tokens),
        cached_image_tokens: cached.and_then(|c| c.image_tokens),
        input_image_tokens: input_details.and_then(|d| d.image_tokens),
        reasoning_tokens: output_details.and_then(|d| d.reasoning_tokens),
    }
}

fn response_done(response: &objects::Response) -> Vec<ModelEvent> {
    let details = response.status_details.clone().flatten();
    let usage = response.usage.clone().flatten().map(|u| {
        usage_from(
            u.total_tokens,
            u.input_tokens,
            u.output_tokens,
            u.input_token_details.as_ref(),
            u.output_token_details.as_ref(),
        )
    });
    // OpenAI names the barge-in: cancelled because a turn was detected.
    let interrupted = response.status.as_deref() == Some("cancelled")
        && details.as_ref().and_then(|d| d.reason.as_deref()) == Some("turn_detected");
    response_end(
        response.id.clone().unwrap_or_default(),
        response.status.as_deref(),
        details.as_ref(),
        usage,
        interrupted,
    )
}

/// Encodes normalised inputs as OpenAI Realtime client events for one dialect.
#[derive(Debug, Clone)]
pub struct Encoder {
    dialect: Dialect,
    input_rate: u32,
}

impl Encoder {
    /// An encoder for a session in `dialect` (PCM16 at 24 kHz until configured otherwise).
    pub fn new(dialect: Dialect) -> Self {
        Encoder {
            dialect,
            input_rate: DEFAULT_RATE,
        }
    }

    /// The dialect this encoder writes.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Turns one input into the client events that carry it.
    pub fn encode(&mut self, input: &ClientInput) -> Result<Vec<ClientEvent>, EncodeError> {
        let event = match input {
            ClientInput::Session(config) => {
                if let Some(format) = config.input_format {
                    self.input_rate = format.sample_rate;
                }
                ClientEvent::SessionUpdate(SessionUpdate {
                    session: Box::new(session_update(self.dialect, config)),
                    ..Default::default()
                })
            }
            ClientInput::Audio { pcm, sample_rate } => {
                if *sample_rate != self.input_rate {
                    return Err(EncodeError::SampleRate {
                        expected: self.input_rate,
                        got: *sample_rate,
                    });
                }
                ClientEvent::InputAudioBufferAppend(InputAudioBufferAppend {
                    audio: pcm.to_base64(),
                    ..Default::default()
                })
            }
            ClientInput::CommitAudio => ClientEvent::InputAudioBufferCommit(Opaque::default()),
            ClientInput::ClearAudio => ClientEvent::InputAudioBufferClear(Opaque::default()),
            ClientInput::Text { text } => user_message(ContentPart {
                kind: "input_text".into(),
                text: Some(text.clone()),
                ..Default::default()
            }),
            ClientInput::Image { mime_type, data } => {
                if !self.dialect.capabilities().image_input {
                    return Err(self.unsupported("image input"));
                }
                user_message(ContentPart {
                    kind: "input_image".into(),
                    image_url: Some(format!(
                        "data:{mime_type};base64,{}",
                        STANDARD.encode(&data.0)
                    )),
                    ..Default::default()
                })
            }
            ClientInput::ToolResult {
                call_id, output, ..
            } => ClientEvent::ConversationItemCreate(ConversationItemCreate {
                item: Item {
                    kind: "function_call_output".into(),
                    call_id: Some(call_id.clone()),
                    output: Some(output.clone()),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ClientInput::CreateResponse(options) => ClientEvent::ResponseCreate(ResponseCreate {
                response: response_params(self.dialect, options),
                ..Default::default()
            }),
            ClientInput::CancelResponse { response_id } => {
                ClientEvent::ResponseCancel(ResponseCancel {
                    response_id: response_id.clone(),
                    ..Default::default()
                })
            }
            ClientInput::Truncate {
                item_id,
                content_index,
                audio_end_ms,
            } => ClientEvent::ConversationItemTruncate(ConversationItemTruncate {
                item_id: item_id.clone(),
                content_index: *content_index,
                audio_end_ms: *audio_end_ms,
                ..Default::default()
            }),
            ClientInput::Resume { .. } => return Err(self.unsupported("session resumption")),
            // OpenAI has no goodbye event: the client just closes the socket.
            ClientInput::EndSession => return Ok(vec![]),
        };
        Ok(vec![event])
    }

    fn unsupported(&self, input: &'static str) -> EncodeError {
        EncodeError::Unsupported {
            input,
            dialect: self.dialect.name().to_owned(),
        }
    }
}

fn user_message(part: ContentPart) -> ClientEvent {
    ClientEvent::ConversationItemCreate(ConversationItemCreate {
        item: Item {
            kind: "message".into(),
            role: Some("user".into()),
            content: Some(vec![part]),
            ..Default::default()
        },
        ..Default::default()
    })
}

fn modality_names(dialect: Dialect, modalities: &[Modality]) -> Vec<String> {
    let wants_audio = modalities.contains(&Modality::Audio);
    match (dialect, wants_audio) {
        // GA takes one modality; audio responses carry their transcript anyway.
        (Dialect::Ga, true) => vec!["audio".into()],
        (Dialect::Ga, false) => vec!["text".into()],
        // Beta expresses audio as text+audio.
        (Dialect::Beta, true) => vec!["text".into(), "audio".into()],
        (Dialect::Beta, false) => vec!["text".into()],
    }
}

fn ga_format_spec(format: AudioFormat) -> AudioFormatSpec {
    let (kind, rate) = match format.encoding {
        AudioEncoding::Pcm16 => ("audio/pcm", Some(format.sample_rate)),
        AudioEncoding::G711Ulaw => ("audio/pcmu", None),
        AudioEncoding::G711Alaw => ("audio/pcma", None),
    };
    AudioFormatSpec {
        kind: kind.into(),
        rate,
        ..Default::default()
    }
}

fn beta_format_name(format: AudioFormat) -> String {
    match format.encoding {
        AudioEncoding::Pcm16 => "pcm16",
        AudioEncoding::G711Ulaw => "g711_ulaw",
        AudioEncoding::G711Alaw => "g711_alaw",
    }
    .to_owned()
}

fn tool_choice_wire(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Function(name) => json!({"type": "function", "name": name}),
    }
}

/// Builds the `session` object of a `session.update` in the dialect's shape.
fn session_update(dialect: Dialect, config: &SessionConfig) -> Session {
    let tools = (!config.tools.is_empty()).then(|| {
        config
            .tools
            .iter()
            .map(|t| Tool {
                kind: Some("function".into()),
                name: Some(t.name.clone()),
                description: Some(t.description.clone()),
                parameters: Some(t.parameters.clone()),
                ..Default::default()
            })
            .collect()
    });
    let transcription = config.input_transcription.as_ref().map(|model| {
        Some(objects::Transcription {
            model: Some(model.clone()),
            ..Default::default()
        })
    });
    let turn_detection = config.turn_detection.as_ref().map(turn_detection_wire);
    let mut session = Session {
        instructions: config.instructions.clone(),
        tools,
        tool_choice: config.tool_choice.as_ref().map(tool_choice_wire),
        ..Default::default()
    };
    match dialect {
        Dialect::Ga => {
            session.kind = Some("realtime".into());
            session.output_modalities = config
                .output_modalities
                .as_deref()
                .map(|m| modality_names(dialect, m));
            let input = AudioInput {
                format: config.input_format.map(ga_format_spec),
                transcription,
                turn_detection,
                ..Default::default()
            };
            let output = AudioOutput {
                format: config.output_format.map(ga_format_spec),
                voice: config.voice.clone().map(Value::String),
                ..Default::default()
            };
            let has_input = input != AudioInput::default();
            let has_output = output != AudioOutput::default();
            if has_input || has_output {
                session.audio = Some(SessionAudio {
                    input: has_input.then_some(input),
                    output: has_output.then_some(output),
                    ..Default::default()
                });
            }
        }
        Dialect::Beta => {
            session.modalities = config
                .output_modalities
                .as_deref()
                .map(|m| modality_names(dialect, m));
            session.voice = config.voice.clone();
            session.input_audio_format = config.input_format.map(beta_format_name);
            session.output_audio_format = config.output_format.map(beta_format_name);
            session.input_audio_transcription = transcription;
            session.turn_detection = turn_detection;
        }
    }
    session
}

fn response_params(dialect: Dialect, options: &ResponseOptions) -> Option<ResponseParams> {
    if options == &ResponseOptions::default() {
        return None;
    }
    let modalities = options
        .output_modalities
        .as_deref()
        .map(|m| modality_names(dialect, m));
    let mut params = ResponseParams {
        instructions: options.instructions.clone(),
        ..Default::default()
    };
    match dialect {
        Dialect::Ga => params.output_modalities = modalities,
        Dialect::Beta => params.modalities = modalities,
    }
    Some(params)
}

/// The OpenAI Realtime protocol as a [`RealtimeCodec`]: encoder plus decoder.
#[derive(Debug, Clone)]
pub struct OpenAiCodec {
    encoder: Encoder,
    decoder: Decoder,
}

impl OpenAiCodec {
    /// A codec for a fresh session in `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        OpenAiCodec {
            encoder: Encoder::new(dialect),
            decoder: Decoder::new(),
        }
    }
}

impl RealtimeCodec for OpenAiCodec {
    fn capabilities(&self) -> Capabilities {
        self.encoder.dialect().capabilities()
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
