//! What the DashScope realtime dialects encode alike: event ids, audio,
//! commit, clear, text and tool-result items, the session frame and its
//! common parts, and the capabilities they start from. Each dialect's
//! encoder builds its own session body and handles its own inputs.

use crate::audio::{AudioEncoding, AudioFormat};
use crate::capabilities::{Capabilities, SessionLimits};
use crate::codec::EncodeError;
use crate::dashscope::wire::{
    AudioAppend, ContentPart, FunctionDef, Item, ItemCreate, Opaque, Session, SessionUpdate, Tool,
};
use crate::dashscope::{INPUT_RATE, OUTPUT_RATE};
use crate::input::{ClientInput, Modality, SessionConfig, ToolSpec};

/// A client event every DashScope realtime dialect sends with the same
/// payload; each dialect's `ClientEvent` converts from it
/// (`client_event_from_common!`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Common {
    /// `session.update`.
    SessionUpdate(SessionUpdate),
    /// `input_audio_buffer.append`.
    Append(AudioAppend),
    /// `input_audio_buffer.commit`.
    Commit(Opaque),
    /// `input_audio_buffer.clear`.
    Clear(Opaque),
    /// `conversation.item.create` (a text turn or a tool result).
    ItemCreate(ItemCreate),
}

/// The encoder state both dialects keep: what the model supports and the
/// client event counter.
#[derive(Debug, Clone)]
pub(crate) struct CoreEncoder {
    capabilities: Capabilities,
    next_event: u64,
}

impl CoreEncoder {
    /// An encoder core for a model with these capabilities.
    pub(crate) fn new(capabilities: Capabilities) -> Self {
        CoreEncoder {
            capabilities,
            next_event: 0,
        }
    }

    /// What the model supports.
    pub(crate) fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// A fresh client event id (`event_<32 hex>`, as the SDK sends).
    pub(crate) fn event_id(&mut self) -> Option<String> {
        self.next_event += 1;
        Some(format!("event_{:032x}", self.next_event))
    }

    /// The error for an input this dialect cannot carry.
    pub(crate) fn unsupported(&self, input: &'static str) -> EncodeError {
        EncodeError::Unsupported {
            input,
            dialect: self.capabilities.dialect.clone(),
        }
    }

    /// Encodes `input` when the family encodes it alike (`session` builds the
    /// dialect's session body); `Ok(None)` leaves it to the dialect. Text and
    /// tool results are refused where the capabilities say so.
    pub(crate) fn common(
        &self,
        input: &ClientInput,
        event_id: &Option<String>,
        session: impl FnOnce(&SessionConfig) -> Result<Session, EncodeError>,
    ) -> Result<Option<Common>, EncodeError> {
        let event_id = event_id.clone();
        let common = match input {
            ClientInput::Session(config) => {
                if let Some(format) = config.input_format {
                    check_rate(format, INPUT_RATE)?;
                }
                Common::SessionUpdate(SessionUpdate {
                    event_id,
                    session: Some(Box::new(session(config)?)),
                    ..Default::default()
                })
            }
            ClientInput::Audio { pcm, sample_rate } => {
                check_rate(AudioFormat::pcm16(*sample_rate), INPUT_RATE)?;
                Common::Append(AudioAppend {
                    event_id,
                    audio: pcm.to_base64(),
                    ..Default::default()
                })
            }
            ClientInput::CommitAudio => Common::Commit(Opaque {
                event_id,
                ..Default::default()
            }),
            ClientInput::ClearAudio => Common::Clear(Opaque {
                event_id,
                ..Default::default()
            }),
            ClientInput::Text { text } => {
                if !self.capabilities.text_input {
                    return Err(self.unsupported("text input"));
                }
                item_create(
                    event_id,
                    Item {
                        kind: "message".into(),
                        role: Some("user".into()),
                        content: Some(vec![ContentPart {
                            kind: "input_text".into(),
                            text: Some(text.clone()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    },
                )
            }
            ClientInput::ToolResult {
                call_id, output, ..
            } => {
                if !self.capabilities.tool_calls {
                    return Err(
                        self.unsupported("tool results (this model has no function calling)")
                    );
                }
                item_create(
                    event_id,
                    Item {
                        kind: "function_call_output".into(),
                        call_id: Some(call_id.clone()),
                        output: Some(output.clone()),
                        ..Default::default()
                    },
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(common))
    }
}

fn item_create(event_id: Option<String>, item: Item) -> Common {
    Common::ItemCreate(ItemCreate {
        event_id,
        item: Box::new(item),
        ..Default::default()
    })
}

/// Audio must be PCM16 at the session's rate.
pub(crate) fn check_rate(format: AudioFormat, expected: u32) -> Result<(), EncodeError> {
    if format.encoding != AudioEncoding::Pcm16 || format.sample_rate != expected {
        return Err(EncodeError::SampleRate {
            expected,
            got: format.sample_rate,
        });
    }
    Ok(())
}

/// `["text","audio"]` when audio is wanted, else `["text"]`.
pub(crate) fn modality_names(modalities: &[Modality]) -> Vec<String> {
    if modalities.contains(&Modality::Audio) {
        vec!["text".to_owned(), "audio".to_owned()]
    } else {
        vec!["text".to_owned()]
    }
}

/// The session parts both dialects write alike: modalities, instructions
/// and Chat-Completions-shaped tools (`None` when there are none).
pub(crate) fn base_session(config: &SessionConfig) -> Session {
    Session {
        modalities: config.output_modalities.as_deref().map(modality_names),
        instructions: config.instructions.clone(),
        tools: tools(&config.tools),
        ..Default::default()
    }
}

fn tools(specs: &[ToolSpec]) -> Option<Vec<Tool>> {
    (!specs.is_empty()).then(|| {
        specs
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
    })
}

/// What differs between the DashScope realtime dialects' capabilities; the
/// rest ([`capabilities`]) is the family's: server VAD and push-to-talk, VAD
/// events, session updates, streamed tool arguments, tool results followed
/// by an explicit `response.create`, no truncation, no resumption, 16 kHz
/// in and 24 kHz out, sessions of 120 minutes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CapabilityRow {
    /// The dialect id.
    pub dialect: &'static str,
    /// Text turns as `conversation.item.create` messages.
    pub text_input: bool,
    /// `input_image_buffer.append`.
    pub image_input: bool,
    /// Function calling.
    pub tool_calls: bool,
    /// `session.finish` is acknowledged.
    pub end_handshake: bool,
    /// Input tokens of context the service keeps, where known.
    pub context_tokens: Option<u32>,
    /// `session.created` carries `expires_at`.
    pub announces_expiry: bool,
}

/// The family's capabilities with a dialect's row applied.
pub(crate) fn capabilities(row: CapabilityRow) -> Capabilities {
    Capabilities {
        dialect: row.dialect.to_owned(),
        text_input: row.text_input,
        image_input: row.image_input,
        truncation: false,
        server_vad: true,
        manual_turns: true,
        tool_calls: row.tool_calls,
        response_after_tool_result: true,
        resumption: false,
        end_handshake: row.end_handshake,
        vad_events: true,
        session_updates: true,
        tool_call_deltas: true,
        inferred_turns: false,
        delegated_tools: false,
        continuous_input: false,
        tool_calls_non_blocking: false,
        tool_result_scheduling: false,
        interaction_status: false,
        input_sample_rate: INPUT_RATE,
        output_sample_rate: OUTPUT_RATE,
        limits: SessionLimits {
            session_secs: Some(120 * 60),
            connection_secs: None,
            context_tokens: row.context_tokens,
            announces_expiry: row.announces_expiry,
            warns_before_close: false,
        },
    }
}

/// `impl From<Common> for $event`: a dialect's `ClientEvent` from the
/// family's common events (the variant names are the family's).
macro_rules! client_event_from_common {
    ($event:ty) => {
        impl From<$crate::dashscope::core::Common> for $event {
            fn from(common: $crate::dashscope::core::Common) -> Self {
                use $crate::dashscope::core::Common as C;
                match common {
                    C::SessionUpdate(e) => Self::SessionUpdate(e),
                    C::Append(e) => Self::InputAudioBufferAppend(e),
                    C::Commit(e) => Self::InputAudioBufferCommit(e),
                    C::Clear(e) => Self::InputAudioBufferClear(e),
                    C::ItemCreate(e) => Self::ConversationItemCreate(e),
                }
            }
        }
    };
}
pub(crate) use client_event_from_common;

/// A dialect's codec type: its `Encoder` (`new`-able from the model name)
/// and `Decoder` (`Default`, with `decode_event` and `decode_close`) as a
/// [`RealtimeCodec`](crate::codec::RealtimeCodec); also gives the decoder its
/// `new` and `decode_text`.
macro_rules! family_codec {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        impl Decoder {
            /// A decoder for a fresh session.
            pub fn new() -> Self {
                Self::default()
            }

            /// Decodes one text frame.
            pub fn decode_text(
                &mut self,
                text: &str,
            ) -> Result<Vec<$crate::event::ModelEvent>, $crate::codec::DecodeError> {
                let event: ServerEvent = serde_json::from_str(text)?;
                self.decode_event(&event)
            }
        }

        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            encoder: Encoder,
            decoder: Decoder,
        }

        impl $name {
            /// A codec for a fresh session with `model`.
            pub fn new(model: &str) -> Self {
                $name {
                    encoder: Encoder::new(model),
                    decoder: Decoder::new(),
                }
            }
        }

        impl $crate::codec::RealtimeCodec for $name {
            fn capabilities(&self) -> $crate::capabilities::Capabilities {
                self.encoder.capabilities().clone()
            }

            fn encode(
                &mut self,
                input: &$crate::input::ClientInput,
            ) -> Result<Vec<$crate::codec::WireFrame>, $crate::codec::EncodeError> {
                $crate::codec::json_text_frames(&self.encoder.encode(input)?)
            }

            fn decode(
                &mut self,
                frame: &$crate::codec::WireFrame,
            ) -> Result<Vec<$crate::event::ModelEvent>, $crate::codec::DecodeError> {
                $crate::codec::decode_json_frame(
                    &mut self.decoder,
                    frame,
                    Decoder::decode_text,
                    Decoder::decode_close,
                )
            }
        }
    };
}
pub(crate) use family_codec;
