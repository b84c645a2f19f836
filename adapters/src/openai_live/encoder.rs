//! Normalised [`ClientInput`]s → GPT-Live client commands.
//!
//! | input | command |
//! |---|---|
//! | `Session` (first) | `session.start` (model, instructions, one audio format for both directions, voice, delegation) |
//! | `Session` (later) | `session.update` with the backend's tools (Responses delegation); nothing else is mutable |
//! | anything before a `Session` | a default `session.start` first: it must be the first frame |
//! | `Audio` | `session.input_audio.append` (G.711 compressed for `audio/pcmu`/`pcma` sessions) |
//! | `ToolResult` for a client delegation | `session.commentary.append` (or `thinking.append`) with the delegation id, split below the 500-token limit |
//! | `ToolResult` for a backend function call | `response.item.create {function_call_output}` |
//! | `CreateResponse` | `response.create` under Responses delegation; refused otherwise |
//! | `EndSession` | `session.close` (answered by `session.closed`) |
//! | `Text`, `Image`, `CommitAudio`, `ClearAudio`, `CancelResponse`, `Truncate`, `Resume` | refused: GPT-Live has no user text turn, images, commit, clear, cancel, truncation or resumption |
//!
//! Commands are written as soon as they are given, as the official SDK does:
//! nothing waits for `session.started`. What the service does with commands
//! that arrive before it has started the session is **unconfirmed** (the docs
//! advise waiting); a caller that wants to wait holds its inputs until the
//! decoder reports `SessionCreated`. Once the decoder has seen
//! `session.started` without this encoder having written a start (a sideband
//! attach, which must not send one), no start is written.

use super::settings::{DelegationMode, LiveSettings, ResultPlacement};
use super::wire::client::{
    AudioAppend, ClientEvent, Command, ContextAppend, ResponseInputItem, ResponseItemCreate,
    SessionStart, SessionUpdate,
};
use super::wire::session::{
    AudioFormat as WireFormat, AudioOutput, Delegation, ResponsesConfig, ResponsesTool,
    SessionAudio, SessionConfig as WireConfig, SessionUpdateConfig, Voice,
};
use super::DIALECT;
use crate::audio::{AudioEncoding, AudioFormat};
use crate::codec::EncodeError;
use crate::input::{ClientInput, Modality, SessionConfig, ToolChoice, TurnDetection};
use serde_json::{json, Value};

/// Encodes normalised inputs as GPT-Live client commands.
#[derive(Debug, Clone)]
pub struct Encoder {
    model: String,
    settings: LiveSettings,
    started: bool,
    format: AudioFormat,
    next_result: u64,
    /// `(event_id, delegation_id)` of result appends sent since the last
    /// [`Encoder::take_result_appends`].
    result_appends: Vec<(String, String)>,
    /// Input audio sent, in ms: the session timeline as this client drives it.
    input_ms: f64,
    /// Timeline points (ms) of voiced input chunks sent since the last
    /// [`Encoder::take_voiced_input`].
    voiced_input: Vec<u64>,
}

impl Encoder {
    /// An encoder for `model` (it goes inside `session.start`).
    pub fn new(model: impl Into<String>, settings: LiveSettings) -> Self {
        Encoder {
            model: model.into(),
            settings,
            started: false,
            format: AudioFormat::pcm16(24_000),
            next_result: 0,
            result_appends: Vec::new(),
            input_ms: 0.0,
            voiced_input: Vec::new(),
        }
    }

    /// The audio format the session was started with (both directions).
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// Notes that the session runs in `format` without this encoder having
    /// started it (a sideband attach, where the service replays
    /// `session.started` and a client must not send `session.start`), so
    /// no start is written.
    pub fn already_started(&mut self, format: AudioFormat) {
        self.started = true;
        self.format = format;
    }

    /// Whether `session.start` has been written.
    pub fn started(&self) -> bool {
        self.started
    }

    /// The result appends written since the last call, as
    /// `(event_id, delegation_id)`; the codec hands them to the decoder so
    /// that their acknowledgements report the delegation answered.
    pub fn take_result_appends(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.result_appends)
    }

    /// Where voiced input audio (peak above the settings'
    /// `input_voice_peak`) started on the timeline, per chunk sent since the
    /// last call; the codec hands them to the decoder's barge-in rule.
    pub fn take_voiced_input(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.voiced_input)
    }

    /// Turns one input into commands. `backend_call` says whether a call id
    /// is a backend function call (its result is a `function_call_output`)
    /// rather than a client delegation.
    pub fn encode(
        &mut self,
        input: &ClientInput,
        backend_call: impl Fn(&str) -> bool,
    ) -> Result<Vec<ClientEvent>, EncodeError> {
        let mut out = Vec::new();
        if let ClientInput::Session(config) = input {
            if self.started {
                return Ok(self.update(config).into_iter().collect());
            }
            out.push(self.start(config)?);
            return Ok(out);
        }
        if !self.started {
            out.push(self.start(&SessionConfig::default())?);
        }
        match input {
            ClientInput::Session(_) => {}
            ClientInput::Audio { pcm, sample_rate } => {
                if *sample_rate != self.format.sample_rate {
                    return Err(EncodeError::SampleRate {
                        expected: self.format.sample_rate,
                        got: *sample_rate,
                    });
                }
                let at_ms = self.input_ms.round() as u64;
                self.input_ms += pcm.duration_ms(*sample_rate);
                let peak = pcm.samples().map(|s| i32::from(s).abs()).max();
                if let (Some(level), Some(peak)) = (self.settings.input_voice_peak, peak) {
                    if peak > i32::from(level) {
                        self.voiced_input.push(at_ms);
                    }
                }
                let bytes = match self.format.encoding {
                    AudioEncoding::Pcm16 => pcm.clone(),
                    AudioEncoding::G711Ulaw => crate::g711::encode_ulaw(&pcm.0).into(),
                    AudioEncoding::G711Alaw => crate::g711::encode_alaw(&pcm.0).into(),
                };
                out.push(ClientEvent::InputAudioAppend(AudioAppend {
                    audio: bytes.to_base64(),
                    ..Default::default()
                }));
            }
            ClientInput::ToolResult {
                call_id, output, ..
            } => {
                if backend_call(call_id) {
                    out.push(ClientEvent::ResponseItemCreate(ResponseItemCreate {
                        item: ResponseInputItem::function_call_output(call_id, output),
                        ..Default::default()
                    }));
                } else {
                    out.extend(self.result_appends_for(call_id, output));
                }
            }
            ClientInput::CreateResponse(_) => match self.settings.delegation {
                DelegationMode::Responses { .. } => {
                    out.push(ClientEvent::ResponseCreate(Command::default()));
                }
                DelegationMode::Client => {
                    return Err(unsupported(
                        "response.create (the voice model takes turns itself; only a Responses backend takes it)",
                    ))
                }
            },
            ClientInput::EndSession => out.push(ClientEvent::SessionClose(Command::default())),
            ClientInput::Text { .. } => {
                return Err(unsupported(
                    "user text messages (append context with session.instructions.append instead)",
                ))
            }
            ClientInput::Image { .. } => return Err(unsupported("image input")),
            ClientInput::CommitAudio => {
                return Err(unsupported("committing audio (turns are the model's)"))
            }
            ClientInput::ClearAudio => return Err(unsupported("clearing input audio")),
            ClientInput::CancelResponse { .. } => {
                return Err(unsupported(
                    "cancelling a response (the model stops when the user talks)",
                ))
            }
            ClientInput::Truncate { .. } => return Err(unsupported("truncation")),
            ClientInput::Resume { .. } => return Err(unsupported("session resumption")),
        }
        Ok(out)
    }

    fn start(&mut self, config: &SessionConfig) -> Result<ClientEvent, EncodeError> {
        if matches!(config.turn_detection, Some(TurnDetection::Manual)) {
            return Err(unsupported("manual turns (turn-taking is the model's)"));
        }
        if let Some(modalities) = &config.output_modalities {
            if !modalities.contains(&Modality::Audio) {
                return Err(unsupported("text-only output"));
            }
        }
        if config.turn_detection.is_some() {
            tracing::debug!(
                "GPT-Live has no VAD settings; the turn detection asked for is not sent"
            );
        }
        if config.input_transcription.is_some() {
            tracing::debug!("GPT-Live always transcribes; the transcription model is not sent");
        }
        let format =
            match (config.input_format, config.output_format) {
                (Some(input), Some(output)) if input != output => return Err(unsupported(
                    "different input and output audio formats (one format serves both directions)",
                )),
                (input, output) => input.or(output),
            };
        let wire_format = format.map(wire_format).transpose()?;
        if let Some(format) = format {
            self.format = format;
        }
        let voice = config.voice.clone().map(Voice::Name);
        let audio = (wire_format.is_some() || voice.is_some()).then(|| SessionAudio {
            format: wire_format,
            output: voice.map(|voice| AudioOutput {
                voice: Some(voice),
                ..Default::default()
            }),
            ..Default::default()
        });
        let delegation = match &self.settings.delegation {
            DelegationMode::Client => {
                if !config.tools.is_empty() {
                    tracing::debug!(
                        tools = config.tools.len(),
                        "client delegation declares no tools to the voice model; delegations arrive as `{}` calls",
                        self.settings.delegation_tool_name
                    );
                }
                Delegation::client()
            }
            DelegationMode::Responses { model } => Delegation {
                kind: "responses".into(),
                responses: Some(Box::new(ResponsesConfig {
                    model: Some(model.clone()),
                    ..backend_tools(config)
                })),
                ..Default::default()
            },
        };
        self.started = true;
        Ok(ClientEvent::SessionStart(SessionStart {
            session: Box::new(WireConfig {
                model: Some(self.model.clone()),
                instructions: config.instructions.clone(),
                audio,
                delegation: Some(delegation),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    /// A later configuration: only a Responses backend's tools can change.
    fn update(&self, config: &SessionConfig) -> Option<ClientEvent> {
        if config.instructions.is_some()
            || config.voice.is_some()
            || config.input_format.is_some()
            || config.output_format.is_some()
        {
            tracing::warn!("GPT-Live instructions, voice and audio format are fixed at session.start; the change is not sent");
        }
        match &self.settings.delegation {
            DelegationMode::Responses { .. } if !config.tools.is_empty() => {
                Some(ClientEvent::SessionUpdate(SessionUpdate {
                    session: Box::new(SessionUpdateConfig {
                        delegation: Some(Delegation {
                            kind: "responses".into(),
                            responses: Some(Box::new(backend_tools(config))),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }))
            }
            _ => None,
        }
    }

    /// The appends carrying a client delegation's result, split below the
    /// service's 500-token limit; the last one's id marks the result.
    fn result_appends_for(&mut self, delegation_id: &str, output: &str) -> Vec<ClientEvent> {
        let pieces = split(output, self.settings.max_append_chars.max(1));
        let count = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(index, piece)| {
                self.next_result += 1;
                let event_id = format!("understudy_result_{}", self.next_result);
                if index + 1 == count {
                    self.result_appends
                        .push((event_id.clone(), delegation_id.to_owned()));
                }
                let append = ContextAppend {
                    event_id: Some(event_id),
                    ..ContextAppend::new(piece, Some(delegation_id.to_owned()))
                };
                match self.settings.result_placement {
                    ResultPlacement::Commentary => ClientEvent::CommentaryAppend(append),
                    ResultPlacement::Thinking => ClientEvent::ThinkingAppend(append),
                }
            })
            .collect()
    }
}

fn unsupported(input: &'static str) -> EncodeError {
    EncodeError::Unsupported {
        input,
        dialect: DIALECT.to_owned(),
    }
}

/// The wire format for a normalised one the service offers.
fn wire_format(format: AudioFormat) -> Result<WireFormat, EncodeError> {
    let (kind, rate) = match (format.encoding, format.sample_rate) {
        (AudioEncoding::Pcm16, rate @ (16_000 | 24_000)) => ("audio/pcm", rate),
        (AudioEncoding::G711Ulaw, 8_000) => ("audio/pcmu", 8_000),
        (AudioEncoding::G711Alaw, 8_000) => ("audio/pcma", 8_000),
        (AudioEncoding::Pcm16, rate) => {
            return Err(EncodeError::SampleRate {
                expected: 24_000,
                got: rate,
            })
        }
        (_, rate) => {
            return Err(EncodeError::SampleRate {
                expected: 8_000,
                got: rate,
            })
        }
    };
    Ok(WireFormat {
        kind: kind.into(),
        rate: Some(rate),
        ..Default::default()
    })
}

/// The backend settings a session's tools make (function tools and choice).
fn backend_tools(config: &SessionConfig) -> ResponsesConfig {
    let tools = config
        .tools
        .iter()
        .map(|tool| ResponsesTool {
            kind: "function".into(),
            name: Some(tool.name.clone()),
            description: Some(tool.description.clone()),
            parameters: Some(tool.parameters.clone()),
            ..Default::default()
        })
        .collect::<Vec<_>>();
    let tool_choice = config.tool_choice.as_ref().map(|choice| match choice {
        ToolChoice::Auto => Value::from("auto"),
        ToolChoice::None => Value::from("none"),
        ToolChoice::Required => Value::from("required"),
        ToolChoice::Function(name) => json!({"type": "function", "name": name}),
    });
    ResponsesConfig {
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        ..Default::default()
    }
}

/// Splits `text` into pieces of at most `max` characters, at whitespace
/// where there is some; an empty text is one empty piece.
fn split(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        let cut = rest
            .char_indices()
            .nth(max)
            .map_or(rest.len(), |(index, _)| index);
        let at = if rest[cut..].starts_with(char::is_whitespace) {
            cut
        } else {
            rest[..cut]
                .rfind(char::is_whitespace)
                .filter(|at| *at > 0)
                .unwrap_or(cut)
        };
        pieces.push(rest[..at].to_owned());
        rest = rest[at..].trim_start();
    }
    pieces.push(rest.to_owned());
    pieces
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn long_results_split_at_whitespace_below_the_limit() {
        assert_eq!(split("", 5), [""]);
        assert_eq!(split("short", 5), ["short"]);
        assert_eq!(split("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert_eq!(split("aaa bbbb ccc", 7), ["aaa", "bbbb", "ccc"]);
        assert_eq!(split("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let pieces = split("é é é é é é", 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 3), "{pieces:?}");
        assert_eq!(pieces.join(" "), "é é é é é é");
    }
}
