//! The normalised event vocabulary: what every provider adapter emits.
//!
//! [`ModelEvent`] is the contract that every layer above the adapters (agents,
//! chat rooms, conformance checks) depends on. Each provider codec translates its
//! own wire events into this vocabulary, so code above this line never needs to
//! know which provider it is talking to.
//!
//! Correlation ids: `response_id` names a model response, `item_id` an output
//! item (a message or a tool call), `call_id` a tool call. Audio is raw PCM16
//! mono bytes plus its sample rate.
//!
//! In JSON every event is an object with a snake_case `type` tag, for example
//! `{"type":"audio_delta","response_id":"resp_1",...}`; conformance evidence and
//! snapshots use that form.
//!
//! **Usage placement.** Token usage is always its own [`ModelEvent::Usage`]
//! event, naming the response it counts, and it comes *after* that response's
//! [`ModelEvent::ResponseDone`] — on every provider. OpenAI and DashScope put
//! usage inside `response.done`, so their decoders emit `ResponseDone` and
//! then `Usage`; Gemini sends `usageMetadata` with or after `turnComplete`
//! (and, on some servers, with other messages too), so its decoder emits
//! `Usage` when it arrives. A consumer that adds up usage listens to `Usage`
//! alone and never looks for counts on `ResponseDone`.
//!
//! **Message phase.** Some models (`gpt-realtime-2.1`) mark an assistant
//! message as a preamble (`commentary`: "I'll check the weather for you.") or
//! the answer (`final_answer`). The text, transcript and audio-done events of
//! such an item carry it as `phase`, so an agent can tell the two apart.

use crate::audio::{AudioFormat, Pcm};
use serde::{Deserialize, Serialize};

/// One normalised event from a realtime model session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ModelEvent {
    // ---- session -------------------------------------------------------------
    /// The provider opened a session.
    SessionCreated {
        /// Provider session id (`sess_…` on OpenAI).
        session_id: String,
        /// Model serving the session, as the provider names it.
        model: String,
        /// Audio format the provider expects from the client.
        input_format: Option<AudioFormat>,
        /// Audio format the provider sends.
        output_format: Option<AudioFormat>,
        /// When the provider will end the session, in unix seconds, where it
        /// says so at the start (OpenAI's and DashScope's `expires_at`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<i64>,
    },
    /// The provider acknowledged a session configuration change.
    SessionUpdated {
        /// Audio format the provider now expects from the client.
        input_format: Option<AudioFormat>,
        /// Audio format the provider now sends.
        output_format: Option<AudioFormat>,
    },
    /// The session is over: the socket closed or the provider ended it.
    SessionEnded {
        /// Human-readable reason (close reason, or why the adapter stopped).
        reason: String,
        /// WebSocket close code, when the session ended with a close frame.
        close_code: Option<u16>,
    },
    /// The provider announced that it will close the connection soon.
    GoAway {
        /// Time left before the close, in milliseconds, when the provider says.
        time_left_ms: Option<u64>,
    },
    /// A handle that a new connection can use to resume this session.
    ResumptionHandle {
        /// The newest handle (absent when the provider says none is usable now).
        handle: Option<String>,
        /// Whether the session can be resumed at this point.
        resumable: bool,
    },

    // ---- user input ----------------------------------------------------------
    /// Provider VAD heard the user start speaking.
    SpeechStarted {
        /// Id the user's input item will get.
        item_id: String,
        /// Offset into the audio the client has sent, in milliseconds.
        audio_start_ms: u64,
    },
    /// Provider VAD heard the user stop speaking.
    SpeechStopped {
        /// Id the user's input item will get.
        item_id: String,
        /// Offset into the audio the client has sent, in milliseconds.
        audio_end_ms: u64,
    },
    /// The buffered user audio became a conversation item.
    InputCommitted {
        /// Id of the new user item.
        item_id: String,
    },
    /// The provider discarded the buffered user audio.
    InputCleared,
    /// A piece of the transcript of the user's speech.
    InputTranscriptDelta {
        /// The user item being transcribed.
        item_id: String,
        /// The new text.
        delta: String,
    },
    /// A provisional transcript of what the user is saying, while they still
    /// speak (Gemini `interimInputTranscription`): each replaces the one
    /// before; the settled transcript comes as deltas and done as usual.
    InputTranscriptInterim {
        /// The user item being transcribed.
        item_id: String,
        /// The provisional text.
        text: String,
    },
    /// The full transcript of one user turn.
    InputTranscriptDone {
        /// The user item that was transcribed.
        item_id: String,
        /// The whole transcript.
        transcript: String,
    },
    /// The provider could not transcribe a user turn.
    InputTranscriptFailed {
        /// The user item that failed.
        item_id: String,
        /// The provider's explanation.
        error: String,
    },

    // ---- response ------------------------------------------------------------
    /// The model started a response.
    ResponseCreated {
        /// Id of the new response.
        response_id: String,
    },
    /// A chunk of the model's spoken audio.
    AudioDelta {
        /// Response the audio belongs to.
        response_id: String,
        /// Output item the audio belongs to.
        item_id: String,
        /// PCM16 mono samples.
        pcm: Pcm,
        /// Sample rate of `pcm`.
        sample_rate: u32,
    },
    /// The model finished the audio of one output item.
    AudioDone {
        /// Response the audio belonged to.
        response_id: String,
        /// Output item the audio belonged to.
        item_id: String,
        /// Preamble or answer, where the model marks its messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<MessagePhase>,
    },
    /// The client's player started playing a response's audio. Sent by
    /// providers that deliver audio out of band (OpenAI over WebRTC or SIP,
    /// whose WebSocket sideband sees no audio deltas).
    PlaybackStarted {
        /// The response being played.
        response_id: String,
    },
    /// The client's player finished (or stopped) playing a response's audio.
    PlaybackStopped {
        /// The response that was played.
        response_id: String,
    },
    /// A piece of the transcript of what the model is saying.
    TranscriptDelta {
        /// Response being transcribed.
        response_id: String,
        /// Output item being transcribed.
        item_id: String,
        /// The new text.
        delta: String,
        /// Preamble or answer, where the model marks its messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<MessagePhase>,
    },
    /// The full transcript of what the model said in one output item.
    TranscriptDone {
        /// Response that was transcribed.
        response_id: String,
        /// Output item that was transcribed.
        item_id: String,
        /// The whole transcript.
        transcript: String,
        /// Preamble or answer, where the model marks its messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<MessagePhase>,
    },
    /// A piece of a text-modality answer.
    TextDelta {
        /// Response the text belongs to.
        response_id: String,
        /// Output item the text belongs to.
        item_id: String,
        /// The new text.
        delta: String,
        /// Preamble or answer, where the model marks its messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<MessagePhase>,
    },
    /// The full text of a text-modality answer.
    TextDone {
        /// Response the text belonged to.
        response_id: String,
        /// Output item the text belonged to.
        item_id: String,
        /// The whole text.
        text: String,
        /// Preamble or answer, where the model marks its messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<MessagePhase>,
    },
    /// A fragment of a tool call's arguments as the model produces them.
    ToolCallDelta {
        /// Response that makes the call.
        response_id: String,
        /// Output item of the call.
        item_id: String,
        /// Id the tool result must carry.
        call_id: String,
        /// Tool name, where the provider or earlier events said it.
        name: Option<String>,
        /// The new fragment of the JSON arguments.
        arguments_delta: String,
    },
    /// A complete tool call, ready to run.
    ToolCall {
        /// Response that makes the call.
        response_id: String,
        /// Output item of the call.
        item_id: String,
        /// Id the tool result must carry.
        call_id: String,
        /// Tool name.
        name: String,
        /// Arguments as JSON text, exactly as the model wrote them.
        arguments: String,
    },
    /// The provider withdrew tool calls (for example after a barge-in).
    ToolCallCancelled {
        /// The calls withdrawn.
        call_ids: Vec<String>,
    },
    /// The call just reported by [`ModelEvent::ToolCall`] does not pause the
    /// model (Gemini's `NON_BLOCKING`, the default on 3.8 Live): the response
    /// goes on, and may end, while the call runs; the user can talk about
    /// other things meanwhile; the result, when sent, is voiced as its
    /// [`ToolResultScheduling`](crate::ToolResultScheduling) says.
    ToolCallNonBlocking {
        /// Response that made the call.
        response_id: String,
        /// The call.
        call_id: String,
    },
    /// The model's output was interrupted by the user.
    Interrupted {
        /// The interrupted response, where the provider names it.
        response_id: Option<String>,
    },
    /// A conversation item was truncated to the audio actually played.
    Truncated {
        /// The truncated item.
        item_id: String,
        /// Audio kept, in milliseconds.
        audio_end_ms: u64,
    },
    /// A response ended, however it ended.
    ResponseDone {
        /// The response that ended.
        response_id: String,
        /// How it ended.
        status: ResponseStatus,
        /// Why, where the provider says (`turn_detected`, `client_cancelled`, …).
        reason: Option<String>,
        /// The failure, when `status` is `failed`.
        error: Option<ErrorInfo>,
    },

    // ---- delegation and session state (GPT-Live) -------------------------------
    /// The model handed work to the application or a hosted backend
    /// (GPT-Live `session.delegation.created`). A client delegation is also
    /// reported as a [`ModelEvent::ToolCall`] (call id = delegation id), so
    /// agents that run tools need nothing new; this event keeps what a tool
    /// call cannot say: the target and the timeline point of the request.
    DelegationCreated {
        /// Delegation id; a result answers it as `delegation_id`.
        delegation_id: String,
        /// Who does the work: `client`, `responses` or `decisions`.
        target: String,
        /// The backend response, for `responses` delegations.
        response_id: Option<String>,
        /// Timeline point (ms from session start) where the request ended.
        offset_ms: u64,
    },
    /// Delegated work reached its end: a backend response's terminal event
    /// (`completed`, `failed`, `incomplete`), a Decision's result, or the
    /// provider's acknowledgement that the application's result for a client
    /// delegation was placed on the session timeline.
    DelegationResult {
        /// The delegation answered.
        delegation_id: String,
        /// The backend response, where there is one.
        response_id: Option<String>,
        /// How the work ended.
        status: ResponseStatus,
    },
    /// The provider paused inference (GPT-Live idle timeout on WebRTC/SIP);
    /// the session and its id persist and speech wakes it.
    SessionPaused,
    /// Inference resumed after a [`ModelEvent::SessionPaused`] (or at the first wake).
    SessionResumed,
    /// Billable session time, cumulative: each report replaces the previous
    /// one and must not be added to it (GPT-Live `session.usage.updated` and
    /// `session.closed.usage`; the voice model reports no tokens).
    SessionUsage {
        /// Billable seconds so far.
        seconds: f64,
        /// Active seconds, where reported (WebRTC).
        active_seconds: Option<f64>,
        /// Paused seconds, where reported (WebRTC).
        paused_seconds: Option<f64>,
        /// Active context over the model's limit (0.0–1.0), where reported.
        context_usage_ratio: Option<f64>,
        /// Whether this is the final report of a closed session.
        final_report: bool,
    },

    // ---- speech not addressed to the model (Qwen-Audio smart_turn) -------------
    /// Speech the provider heard but judged not addressed to the model
    /// (a bystander, a backchannel, noise): transcribed, never a user turn,
    /// never a reply, never a barge-in (Qwen-Audio
    /// `conversation.item.ambient_audio_transcription.*`).
    AmbientTranscript {
        /// A throw-away id: the speech is not in the conversation.
        item_id: String,
        /// Settled text so far (the whole transcript when `done`).
        text: String,
        /// Provisional tail that may still change (deltas only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stash: Option<String>,
        /// Whether this is the whole transcript.
        done: bool,
    },
    /// The provider withdrew a user turn it had first judged valid: no
    /// response follows (Qwen-Audio `speech_stopped {reason: turn_invalid}`).
    TurnWithdrawn {
        /// The withdrawn user item.
        item_id: String,
    },
    /// Progress of the target-speaker voiceprint registration (Qwen-Audio
    /// `voiceprint_audio_list.*`); a failure does not stop the conversation.
    VoiceprintStatus {
        /// The registration task (`vp_…`).
        task_id: String,
        /// Where it stands.
        state: VoiceprintState,
        /// Why it failed, where the provider says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },

    // ---- other ---------------------------------------------------------------
    /// Token usage, on every provider its own event after the `ResponseDone`
    /// of the response it counts (see the module docs).
    Usage {
        /// The response counted, where the provider's report can be tied to one.
        response_id: Option<String>,
        /// The counts.
        #[serde(flatten)]
        usage: Usage,
    },
    /// Sources the model grounded its answer in (Gemini `groundingMetadata`:
    /// search queries, web chunks, supports), kept as the provider sent them.
    Grounding {
        /// The response grounded, where one is running or just ended.
        response_id: Option<String>,
        /// The provider's grounding object, verbatim.
        metadata: serde_json::Value,
    },
    /// Whether the model is still working on the user's request (Gemini 3.8
    /// Extended Thinking's `interactionStatus`, sent with every
    /// `turnComplete`). Where the dialect reports it (capability
    /// `interaction_status`), a [`ModelEvent::ResponseDone`] ends one spoken
    /// segment only: more speech or tool calls follow until
    /// [`InteractionState::Idle`].
    InteractionStatus {
        /// The response whose end carried the status, where there is one.
        response_id: Option<String>,
        /// In progress or idle.
        status: InteractionState,
    },
    /// A piece of the model's reasoning (Gemini `thought: true` parts, sent
    /// with `includeThoughts`): narration, never to be spoken or played.
    ThoughtDelta {
        /// Response the thought belongs to.
        response_id: String,
        /// The text.
        text: String,
    },
    /// The provider reported an error.
    Error(ErrorInfo),
    /// A server event type the adapter does not know. Kept so that provider
    /// changes show up in evidence instead of vanishing.
    Unrecognized {
        /// The provider's event type string.
        provider_type: String,
    },
}

/// Where the model is with the user's request ([`ModelEvent::InteractionStatus`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InteractionState {
    /// More output or tool calls will follow (`IN_PROGRESS`).
    InProgress,
    /// All reasoning and tool work is done; the model waits for the user
    /// (`IDLE`, and its deprecated alias `REQUIRES_ACTION`).
    Idle,
    /// A value this crate does not know, as the provider spelled it (read
    /// as "not in progress").
    Other(String),
}

impl InteractionState {
    /// The provider's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            InteractionState::InProgress => "IN_PROGRESS",
            InteractionState::Idle => "IDLE",
            InteractionState::Other(other) => other,
        }
    }
}

impl From<&str> for InteractionState {
    fn from(status: &str) -> Self {
        match status {
            "IN_PROGRESS" => InteractionState::InProgress,
            "IDLE" | "REQUIRES_ACTION" => InteractionState::Idle,
            other => InteractionState::Other(other.to_owned()),
        }
    }
}

impl Serialize for InteractionState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InteractionState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| InteractionState::from(s.as_str()))
    }
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// The model finished normally.
    Completed,
    /// The response was cancelled (barge-in or client request).
    Cancelled,
    /// The model stopped early (token limit, content filter).
    Incomplete,
    /// The provider failed to produce the response.
    Failed,
}

/// Where a voiceprint registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceprintState {
    /// The provider is fetching and enrolling the samples.
    InProgress,
    /// The voiceprint is in use.
    Completed,
    /// Registration failed; turn detection goes on without it.
    Failed,
}

/// Whether an assistant message is a preamble or the answer
/// (OpenAI `item.phase`, sent by `gpt-realtime-2.1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessagePhase {
    /// A preamble spoken before the work (`commentary`).
    Commentary,
    /// The answer itself (`final_answer`).
    FinalAnswer,
    /// A phase this crate does not know, as the provider spelled it.
    Other(String),
}

impl MessagePhase {
    /// The provider's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            MessagePhase::Commentary => "commentary",
            MessagePhase::FinalAnswer => "final_answer",
            MessagePhase::Other(other) => other,
        }
    }
}

impl From<&str> for MessagePhase {
    fn from(phase: &str) -> Self {
        match phase {
            "commentary" => MessagePhase::Commentary,
            "final_answer" => MessagePhase::FinalAnswer,
            other => MessagePhase::Other(other.to_owned()),
        }
    }
}

impl Serialize for MessagePhase {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessagePhase {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| MessagePhase::from(s.as_str()))
    }
}

/// Token usage of a response or a session, in one spelling for every
/// provider: OpenAI `usage` with its token details, DashScope
/// `input_tokens_details`, Gemini `usageMetadata` in both its Gemini API
/// (`responseTokenCount`) and Vertex AI (`candidatesTokenCount`) spellings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens billed.
    pub input_tokens: Option<u64>,
    /// Output tokens billed.
    pub output_tokens: Option<u64>,
    /// Total tokens billed.
    pub total_tokens: Option<u64>,
    /// Input tokens that were audio.
    pub input_audio_tokens: Option<u64>,
    /// Output tokens that were audio.
    pub output_audio_tokens: Option<u64>,
    /// Input tokens served from the provider's cache.
    pub cached_tokens: Option<u64>,
    /// Cached input tokens that were text (OpenAI `cached_tokens_details`,
    /// Gemini `cacheTokensDetails`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_text_tokens: Option<u64>,
    /// Cached input tokens that were audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_audio_tokens: Option<u64>,
    /// Cached input tokens that were images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_image_tokens: Option<u64>,
    /// Input tokens that were images (OpenAI `image_tokens`, Gemini `IMAGE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_image_tokens: Option<u64>,
    /// Tokens the model spent thinking (OpenAI `reasoning_tokens`, Gemini
    /// `thoughtsTokenCount`); billed as output, not part of what was said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// A provider error, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Provider error code (`invalid_event`, `session_expired`, …), or its type
    /// when the provider gives no code.
    pub code: String,
    /// Provider message.
    pub message: String,
    /// Whether the session cannot continue after this error.
    pub fatal: bool,
    /// Provider error category (`invalid_request_error`, `server_error`, …).
    pub kind: Option<String>,
    /// Dotted path of the offending parameter, where given.
    pub param: Option<String>,
    /// Id of the client event that caused the error, where echoed.
    pub event_id: Option<String>,
}

impl ModelEvent {
    /// The event's `type` tag as it appears in JSON (`audio_delta`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            ModelEvent::SessionCreated { .. } => "session_created",
            ModelEvent::SessionUpdated { .. } => "session_updated",
            ModelEvent::SessionEnded { .. } => "session_ended",
            ModelEvent::GoAway { .. } => "go_away",
            ModelEvent::ResumptionHandle { .. } => "resumption_handle",
            ModelEvent::SpeechStarted { .. } => "speech_started",
            ModelEvent::SpeechStopped { .. } => "speech_stopped",
            ModelEvent::InputCommitted { .. } => "input_committed",
            ModelEvent::InputCleared => "input_cleared",
            ModelEvent::InputTranscriptDelta { .. } => "input_transcript_delta",
            ModelEvent::InputTranscriptInterim { .. } => "input_transcript_interim",
            ModelEvent::InputTranscriptDone { .. } => "input_transcript_done",
            ModelEvent::InputTranscriptFailed { .. } => "input_transcript_failed",
            ModelEvent::ResponseCreated { .. } => "response_created",
            ModelEvent::AudioDelta { .. } => "audio_delta",
            ModelEvent::AudioDone { .. } => "audio_done",
            ModelEvent::PlaybackStarted { .. } => "playback_started",
            ModelEvent::PlaybackStopped { .. } => "playback_stopped",
            ModelEvent::TranscriptDelta { .. } => "transcript_delta",
            ModelEvent::TranscriptDone { .. } => "transcript_done",
            ModelEvent::TextDelta { .. } => "text_delta",
            ModelEvent::TextDone { .. } => "text_done",
            ModelEvent::ToolCallDelta { .. } => "tool_call_delta",
            ModelEvent::ToolCall { .. } => "tool_call",
            ModelEvent::ToolCallCancelled { .. } => "tool_call_cancelled",
            ModelEvent::ToolCallNonBlocking { .. } => "tool_call_non_blocking",
            ModelEvent::Interrupted { .. } => "interrupted",
            ModelEvent::Truncated { .. } => "truncated",
            ModelEvent::ResponseDone { .. } => "response_done",
            ModelEvent::DelegationCreated { .. } => "delegation_created",
            ModelEvent::DelegationResult { .. } => "delegation_result",
            ModelEvent::SessionPaused => "session_paused",
            ModelEvent::SessionResumed => "session_resumed",
            ModelEvent::SessionUsage { .. } => "session_usage",
            ModelEvent::Usage { .. } => "usage",
            ModelEvent::Grounding { .. } => "grounding",
            ModelEvent::AmbientTranscript { .. } => "ambient_transcript",
            ModelEvent::TurnWithdrawn { .. } => "turn_withdrawn",
            ModelEvent::VoiceprintStatus { .. } => "voiceprint_status",
            ModelEvent::InteractionStatus { .. } => "interaction_status",
            ModelEvent::ThoughtDelta { .. } => "thought_delta",
            ModelEvent::Error(_) => "error",
            ModelEvent::Unrecognized { .. } => "unrecognized",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_a_snake_case_type_tag() {
        let event = ModelEvent::AudioDelta {
            response_id: "resp_1".into(),
            item_id: "item_1".into(),
            pcm: Pcm(vec![1, 0, 2, 0]),
            sample_rate: 24_000,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "audio_delta");
        assert_eq!(json["pcm"], "AQACAA==");
        assert_eq!(event.kind(), "audio_delta");
        let back: ModelEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn phases_keep_their_provider_spelling() {
        for spelled in ["commentary", "final_answer", "aside"] {
            let phase = MessagePhase::from(spelled);
            let json = serde_json::to_value(&phase).unwrap();
            assert_eq!(json, spelled);
            assert_eq!(serde_json::from_value::<MessagePhase>(json).unwrap(), phase);
        }
        assert_eq!(MessagePhase::from("commentary"), MessagePhase::Commentary);
    }

    #[test]
    fn usage_events_put_their_counts_beside_the_response_id() {
        let event = ModelEvent::Usage {
            response_id: Some("resp_1".into()),
            usage: Usage {
                total_tokens: Some(3),
                reasoning_tokens: Some(1),
                ..Usage::default()
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["response_id"], "resp_1");
        assert_eq!(json["total_tokens"], 3);
        assert_eq!(json["reasoning_tokens"], 1);
        assert!(json.get("cached_text_tokens").is_none());
        assert_eq!(serde_json::from_value::<ModelEvent>(json).unwrap(), event);
    }

    #[test]
    fn kind_matches_the_serialised_tag_for_every_shape() {
        let samples = vec![
            ModelEvent::InputCleared,
            ModelEvent::Usage {
                response_id: None,
                usage: Usage::default(),
            },
            ModelEvent::Grounding {
                response_id: None,
                metadata: serde_json::json!({}),
            },
            ModelEvent::PlaybackStarted {
                response_id: "r".into(),
            },
            ModelEvent::PlaybackStopped {
                response_id: "r".into(),
            },
            ModelEvent::Error(ErrorInfo::default()),
            ModelEvent::GoAway { time_left_ms: None },
            ModelEvent::ToolCallCancelled { call_ids: vec![] },
            ModelEvent::DelegationCreated {
                delegation_id: "item_1".into(),
                target: "client".into(),
                response_id: None,
                offset_ms: 1800,
            },
            ModelEvent::DelegationResult {
                delegation_id: "item_1".into(),
                response_id: Some("resp_1".into()),
                status: ResponseStatus::Completed,
            },
            ModelEvent::SessionPaused,
            ModelEvent::SessionResumed,
            ModelEvent::AmbientTranscript {
                item_id: "amb_1".into(),
                text: "mm-hmm".into(),
                stash: None,
                done: true,
            },
            ModelEvent::TurnWithdrawn {
                item_id: "item_1".into(),
            },
            ModelEvent::VoiceprintStatus {
                task_id: "vp_1".into(),
                state: VoiceprintState::Failed,
                reason: Some("download timeout".into()),
            },
            ModelEvent::SessionUsage {
                seconds: 15.0,
                active_seconds: None,
                paused_seconds: None,
                context_usage_ratio: Some(0.01),
                final_report: false,
            },
        ];
        for event in samples {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.kind());
        }
    }
}
