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

use super::capabilities;
use super::wire::{
    ClientEvent, ResponseCancel, ResponseCreate, ServerEvent, Session, SpeechStopped,
    TranscriptionDelta, TurnDetection, TURN_INVALID, VOICEPRINT_URLS,
};
use crate::bounded::BoundedMap;
use crate::capabilities::Capabilities;
use crate::codec::{DecodeError, EncodeError};
use crate::dashscope::core::{
    base_session, client_event_from_common, family_codec, modality_names, unrecognized,
    CoreDecoder, CoreEncoder, DecodeRules,
};
use crate::event::{ModelEvent, VoiceprintState};
use crate::input::{ClientInput, ResponseOptions, SessionConfig, ToolChoice};
use serde_json::{json, Value};

/// Most user items whose settled transcript text the decoder keeps. An
/// item's entry goes when its transcript completes or its turn is withdrawn;
/// the cap (oldest evicted first) bounds a session whose transcripts never
/// complete. A late delta for an evicted item is then taken as new text.
pub const MAX_SETTLED_ITEMS: usize = 64;

/// How Qwen-Audio decodes where the family's dialects differ: flat formats
/// only, a `server_error` ends the session, and a barge-in is known by its
/// `status_details.reason` alone.
const RULES: DecodeRules = DecodeRules {
    nested_formats: false,
    server_error_fatal: true,
    interrupt_by_order: false,
};

/// Decodes Qwen-Audio server frames into normalised events.
#[derive(Debug, Clone)]
pub struct Decoder {
    core: CoreDecoder,
    /// Settled input-transcript text per user item (at most
    /// [`MAX_SETTLED_ITEMS`]).
    settled: BoundedMap<String, String>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            core: CoreDecoder::new(RULES),
            settled: BoundedMap::new(MAX_SETTLED_ITEMS),
        }
    }
}

impl Decoder {
    /// Decodes one parsed server event.
    pub fn decode_event(&mut self, event: &ServerEvent) -> Result<Vec<ModelEvent>, DecodeError> {
        use ServerEvent as S;
        if let ServerEvent::InputTranscriptionCompleted(e) = event {
            self.settled.remove(&e.item_id);
        }
        if let Some(shared) = event.shared() {
            return self.core.decode(shared, event.event_type());
        }
        let out = match event {
            S::SpeechStopped(e) => self.speech_stopped(e),
            S::InputTranscriptionDelta(d) => self.input_delta(d),
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
            S::Unknown(map) => vec![unrecognized(map)],
            _ => vec![],
        };
        Ok(out)
    }

    /// `SpeechStopped`, then `TurnWithdrawn` when smart turn withdrew the turn.
    fn speech_stopped(&mut self, e: &SpeechStopped) -> Vec<ModelEvent> {
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

    /// The newly settled part of a user-transcript delta (OpenAI's `delta`
    /// spelling is taken as new text as it is).
    fn input_delta(&mut self, d: &TranscriptionDelta) -> Vec<ModelEvent> {
        let new = match (&d.text, &d.delta) {
            (Some(text), _) => {
                let settled = self.settled.get_or_default(&d.item_id);
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

/// Encodes normalised inputs as Qwen-Audio client events.
#[derive(Debug, Clone)]
pub struct Encoder {
    core: CoreEncoder,
    voiceprint_urls: Vec<String>,
}

impl Encoder {
    /// An encoder for `model`.
    pub fn new(model: &str) -> Self {
        Encoder {
            core: CoreEncoder::new(capabilities(model)),
            voiceprint_urls: Vec::new(),
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
        self.core.capabilities()
    }

    /// Turns one input into the client events that carry it (none for
    /// [`ClientInput::EndSession`]: the client just closes).
    pub fn encode(&mut self, input: &ClientInput) -> Result<Vec<ClientEvent>, EncodeError> {
        let event_id = self.core.event_id();
        if let Some(common) = self
            .core
            .common(input, &event_id, |config| self.session(config))?
        {
            return Ok(vec![common.into()]);
        }
        let event = match input {
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
            ClientInput::Image { .. } => return Err(self.core.unsupported("images")),
            ClientInput::Truncate { .. } => return Err(self.core.unsupported("truncation")),
            ClientInput::Resume { .. } => return Err(self.core.unsupported("session resumption")),
            // Encoded by the family core above.
            _ => return Err(self.core.unsupported("this input")),
        };
        Ok(vec![event])
    }

    fn session(&self, config: &SessionConfig) -> Result<Session, EncodeError> {
        let tool_choice = match &config.tool_choice {
            None => None,
            Some(ToolChoice::Auto) => Some(json!("auto")),
            Some(_) => return Err(self.core.unsupported("a tool choice other than `auto`")),
        };
        Ok(Session {
            voice: config.voice.clone(),
            input_audio_format: config.input_format.map(|_| "pcm".to_owned()),
            output_audio_format: config.output_format.map(|_| "pcm".to_owned()),
            // The service picks the transcription model; `{}` turns it on.
            input_audio_transcription: config.input_transcription.as_ref().map(|_| Some(json!({}))),
            turn_detection: config
                .turn_detection
                .as_ref()
                .map(|td| self.turn_detection(td)),
            tool_choice,
            ..base_session(config)
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
            return Err(self.core.unsupported("per-response instructions"));
        }
        let mut map = serde_json::Map::new();
        if let Some(m) = &options.output_modalities {
            map.insert("modalities".into(), json!(modality_names(m)));
        }
        Ok(Value::Object(map))
    }
}

client_event_from_common!(ClientEvent);

family_codec! {
    /// The Qwen-Audio-Realtime protocol as a [`RealtimeCodec`](crate::codec::RealtimeCodec).
    pub struct QwenAudioCodec;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(item: &str, text: &str) -> ServerEvent {
        ServerEvent::InputTranscriptionDelta(TranscriptionDelta {
            item_id: item.into(),
            text: Some(text.into()),
            ..Default::default()
        })
    }

    #[test]
    fn settled_text_is_kept_for_the_newest_items_only() {
        let mut decoder = Decoder::new();
        for n in 0..MAX_SETTLED_ITEMS + 10 {
            decoder
                .decode_event(&delta(&format!("item_{n}"), "hello"))
                .expect("decodes");
        }
        assert_eq!(decoder.settled.len(), MAX_SETTLED_ITEMS);
        // The oldest item was forgotten: its next cumulative delta is new text.
        let events = decoder
            .decode_event(&delta("item_0", "hello world"))
            .expect("decodes");
        assert!(matches!(
            events.as_slice(),
            [ModelEvent::InputTranscriptDelta { delta, .. }] if delta == "hello world"
        ));
        // A remembered item still reports only what is newly settled.
        let newest = format!("item_{}", MAX_SETTLED_ITEMS + 9);
        let events = decoder
            .decode_event(&delta(&newest, "hello world"))
            .expect("decodes");
        assert!(matches!(
            events.as_slice(),
            [ModelEvent::InputTranscriptDelta { delta, .. }] if delta == " world"
        ));
    }
}
