//! Mappings the OpenAI-style codecs share (OpenAI GA and beta, DashScope
//! Qwen-Omni): their VAD, transcription, delta and tool-call payloads are
//! field-for-field the same wire types, so they normalise in one place, and
//! their `turn_detection` setting is the same object, so it is encoded in one
//! place ([`turn_detection_wire`]).

use super::wire::objects::{self, Item};
use super::wire::server::{
    BufferCommitted, ContentDelta, ContentRef, FunctionCallArgumentsDelta,
    FunctionCallArgumentsDone, InputTranscriptionCompleted, InputTranscriptionDelta,
    InputTranscriptionFailed, OutputItemEvent, SpeechStarted, SpeechStopped, TextDone,
    TranscriptDone,
};
use crate::audio::Pcm;
use crate::bounded::BoundedMap;
use crate::codec::DecodeError;
use crate::event::{MessagePhase, ModelEvent};
use crate::input::TurnDetection;
use serde_json::Value;

/// The wire `turn_detection` for a normalised setting (`None`: manual turns,
/// the client commits). OpenAI (both dialects) and Qwen-Omni take the same
/// object.
pub(crate) fn turn_detection_wire(detection: &TurnDetection) -> Option<objects::TurnDetection> {
    match detection {
        TurnDetection::Manual => None,
        TurnDetection::ServerVad {
            threshold,
            prefix_padding_ms,
            silence_duration_ms,
            create_response,
            interrupt_response,
        } => Some(objects::TurnDetection {
            kind: "server_vad".into(),
            threshold: *threshold,
            prefix_padding_ms: *prefix_padding_ms,
            silence_duration_ms: *silence_duration_ms,
            create_response: *create_response,
            interrupt_response: *interrupt_response,
            ..Default::default()
        }),
        TurnDetection::SemanticVad {
            eagerness,
            create_response,
            interrupt_response,
        } => Some(objects::TurnDetection {
            kind: "semantic_vad".into(),
            eagerness: eagerness.clone(),
            create_response: *create_response,
            interrupt_response: *interrupt_response,
            ..Default::default()
        }),
    }
}

/// Most output items whose tool name or phase [`Shared`] remembers: the
/// events that read them follow their item closely, so the newest 1024 are
/// plenty; the cap (oldest forgotten first) keeps a long session's decoder
/// from growing with every call and message.
pub(crate) const MAX_TRACKED_ITEMS: usize = 1024;

/// The state the shared mappings need: each call's tool name, taken from its
/// output item because a `function_call_arguments.done` may omit it, and each
/// assistant message's phase (preamble or answer), which only its item says
/// (each for the newest [`MAX_TRACKED_ITEMS`] items).
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    tool_names: BoundedMap<String, String>,
    phases: BoundedMap<String, MessagePhase>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            tool_names: BoundedMap::new(MAX_TRACKED_ITEMS),
            phases: BoundedMap::new(MAX_TRACKED_ITEMS),
        }
    }
}

impl Shared {
    pub(crate) fn speech_started(e: &SpeechStarted) -> ModelEvent {
        ModelEvent::SpeechStarted {
            item_id: e.item_id.clone(),
            audio_start_ms: e.audio_start_ms,
        }
    }

    pub(crate) fn speech_stopped(e: &SpeechStopped) -> ModelEvent {
        ModelEvent::SpeechStopped {
            item_id: e.item_id.clone(),
            audio_end_ms: e.audio_end_ms,
        }
    }

    pub(crate) fn committed(e: &BufferCommitted) -> ModelEvent {
        ModelEvent::InputCommitted {
            item_id: e.item_id.clone(),
        }
    }

    /// Empty transcription deltas carry nothing and give no event.
    pub(crate) fn transcription_delta(e: &InputTranscriptionDelta) -> Vec<ModelEvent> {
        match &e.delta {
            Some(delta) if !delta.is_empty() => vec![ModelEvent::InputTranscriptDelta {
                item_id: e.item_id.clone(),
                delta: delta.clone(),
            }],
            _ => vec![],
        }
    }

    pub(crate) fn transcription_completed(e: &InputTranscriptionCompleted) -> ModelEvent {
        ModelEvent::InputTranscriptDone {
            item_id: e.item_id.clone(),
            transcript: e.transcript.clone(),
        }
    }

    pub(crate) fn transcription_failed(e: &InputTranscriptionFailed) -> ModelEvent {
        ModelEvent::InputTranscriptFailed {
            item_id: e.item_id.clone(),
            error: e
                .error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("transcription failed")
                .to_owned(),
        }
    }

    /// Remembers the tool name of a function-call item and the phase of a message.
    pub(crate) fn note_item(&mut self, e: &OutputItemEvent) {
        self.note(&e.item);
    }

    /// Remembers what later events of `item` need (tool name, message phase).
    pub(crate) fn note(&mut self, item: &Item) {
        if let (Some(call_id), Some(name)) = (&item.call_id, &item.name) {
            self.tool_names.insert(call_id.clone(), name.clone());
        }
        if let (Some(id), Some(phase)) = (&item.id, &item.phase) {
            self.phases
                .insert(id.clone(), MessagePhase::from(phase.as_str()));
        }
    }

    /// The phase of an output item, where its model marked one.
    fn phase(&self, item_id: &str) -> Option<MessagePhase> {
        self.phases.get(item_id).cloned()
    }

    /// Audio deltas decode from base64; empty ones carry no audio and give no event.
    pub(crate) fn audio_delta(
        event_type: &str,
        d: &ContentDelta,
        sample_rate: u32,
    ) -> Result<Vec<ModelEvent>, DecodeError> {
        if d.delta.is_empty() {
            return Ok(vec![]);
        }
        let pcm = Pcm::from_base64(&d.delta).map_err(|source| DecodeError::Base64 {
            event_type: event_type.to_owned(),
            source,
        })?;
        Ok(vec![ModelEvent::AudioDelta {
            response_id: d.response_id.clone(),
            item_id: d.item_id.clone(),
            pcm,
            sample_rate,
        }])
    }

    pub(crate) fn audio_done(&self, r: &ContentRef) -> ModelEvent {
        ModelEvent::AudioDone {
            response_id: r.response_id.clone(),
            item_id: r.item_id.clone(),
            phase: self.phase(&r.item_id),
        }
    }

    pub(crate) fn transcript_delta(&self, d: &ContentDelta) -> ModelEvent {
        ModelEvent::TranscriptDelta {
            response_id: d.response_id.clone(),
            item_id: d.item_id.clone(),
            delta: d.delta.clone(),
            phase: self.phase(&d.item_id),
        }
    }

    pub(crate) fn transcript_done(&self, t: &TranscriptDone) -> ModelEvent {
        ModelEvent::TranscriptDone {
            response_id: t.response_id.clone(),
            item_id: t.item_id.clone(),
            transcript: t.transcript.clone(),
            phase: self.phase(&t.item_id),
        }
    }

    pub(crate) fn text_delta(&self, d: &ContentDelta) -> ModelEvent {
        ModelEvent::TextDelta {
            response_id: d.response_id.clone(),
            item_id: d.item_id.clone(),
            delta: d.delta.clone(),
            phase: self.phase(&d.item_id),
        }
    }

    pub(crate) fn text_done(&self, t: &TextDone) -> ModelEvent {
        ModelEvent::TextDone {
            response_id: t.response_id.clone(),
            item_id: t.item_id.clone(),
            text: t.text.clone(),
            phase: self.phase(&t.item_id),
        }
    }

    pub(crate) fn tool_delta(&self, d: &FunctionCallArgumentsDelta) -> ModelEvent {
        ModelEvent::ToolCallDelta {
            response_id: d.response_id.clone(),
            item_id: d.item_id.clone(),
            call_id: d.call_id.clone(),
            name: self.tool_names.get(&d.call_id).cloned(),
            arguments_delta: d.delta.clone(),
        }
    }

    pub(crate) fn tool_done(&self, d: &FunctionCallArgumentsDone) -> ModelEvent {
        ModelEvent::ToolCall {
            response_id: d.response_id.clone(),
            item_id: d.item_id.clone(),
            call_id: d.call_id.clone(),
            name: d
                .name
                .clone()
                .or_else(|| self.tool_names.get(&d.call_id).cloned())
                .unwrap_or_default(),
            arguments: d.arguments.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_and_phases_are_kept_for_the_newest_items_only() {
        let mut shared = Shared::default();
        for n in 0..MAX_TRACKED_ITEMS + 10 {
            shared.note(&Item {
                id: Some(format!("item_{n}")),
                call_id: Some(format!("call_{n}")),
                name: Some("lookup".into()),
                phase: Some("final_answer".into()),
                ..Default::default()
            });
        }
        assert_eq!(shared.tool_names.len(), MAX_TRACKED_ITEMS);
        assert_eq!(shared.phases.len(), MAX_TRACKED_ITEMS);
        assert!(shared.tool_names.get("call_0").is_none());
        let newest = format!("call_{}", MAX_TRACKED_ITEMS + 9);
        assert_eq!(
            shared.tool_names.get(&newest).map(String::as_str),
            Some("lookup")
        );
    }
}
