//! Server → client events of GPT-Live: the union of the SDK's primary
//! (`ServerEvent`, 28 types), fork (`ForkServerEvent`) and sideband
//! (`ConnectServerEvent`, adds `session.paused` / `session.resumed`)
//! vocabularies.
//!
//! `event_id` is an `Option` everywhere: the SDK requires it on nearly every
//! event but does not validate what it parses, and `session.output_audio.delta`
//! and the sideband audio reflection carry none, so a decoder that demanded it
//! would fail where the SDK does not. Servers built on these types (the mock)
//! set it where the service does.

pub use super::client::AudioAppend;
use super::session::{ContextWindow, SessionResource, SessionUsage};
use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

crate::tagged_union! {
    /// Every event the server may send, by wire `type`.
    pub enum ServerEvent {
        /// Answer to `session.start`: the resolved session.
        SessionStarted(SessionEvent) = "session.started",
        /// Answer to `session.update`: the resolved session.
        SessionUpdated(SessionEvent) = "session.updated",
        /// Sideband: idle timeout paused inference.
        SessionPaused(Ack) = "session.paused",
        /// Sideband: speech woke inference.
        SessionResumed(Ack) = "session.resumed",
        /// Answer to `session.input_audio.mute`.
        InputAudioMuted(Ack) = "session.input_audio.muted",
        /// Answer to `session.input_audio.unmute`.
        InputAudioUnmuted(Ack) = "session.input_audio.unmuted",
        /// A fixture was accepted and plays.
        OutputAudioFixturePlaying(Ack) = "session.output_audio.fixture.playing",
        /// A fixture drained; normal inference resumed.
        OutputAudioFixturePlayed(Ack) = "session.output_audio.fixture.played",
        /// An instructions append was placed on the timeline.
        InstructionsAppended(Placed) = "session.instructions.appended",
        /// A thinking append was placed on the timeline.
        ThinkingAppended(Placed) = "session.thinking.appended",
        /// A commentary append was placed on the timeline.
        CommentaryAppended(Placed) = "session.commentary.appended",
        /// Sideband: the caller's audio, reflected (PCM16 24 kHz, no `event_id`).
        InputAudioAppend(AudioAppend) = "session.input_audio.append",
        /// 100 ms of the continuous output track (silence included; no `event_id`).
        OutputAudioDelta(OutputAudioDelta) = "session.output_audio.delta",
        /// A timed fragment of the user's transcript.
        InputTranscriptDelta(TranscriptDelta) = "session.input_transcript.delta",
        /// A timed fragment of what the model says.
        OutputTranscriptDelta(TranscriptDelta) = "session.output_transcript.delta",
        /// The model delegated work (the "tool call").
        DelegationCreated(DelegationCreated) = "session.delegation.created",
        /// A Decision finished.
        DecisionEvent(DecisionEvent) = "decision.event",
        /// Answer to `decision.item.create`.
        DecisionItemCreated(DecisionItemCreated) = "decision.item.created",
        /// Answer to `decision.item.delete`.
        DecisionItemDeleted(DecisionItemDeleted) = "decision.item.deleted",
        /// A nested Responses streaming event of a backend delegation.
        ResponseEvent(ResponseEvent) = "response.event",
        /// Cumulative billable time and context use (~every 15 s).
        SessionUsageUpdated(UsageUpdated) = "session.usage.updated",
        /// The session ended: reason, final snapshot, final usage.
        SessionClosed(SessionClosed) = "session.closed",
        /// A command or the session failed.
        Error(ErrorEvent) = "error",
        /// A notice (`data_channel_permissions`, …).
        Info(Info) = "info",
        /// Sideband, SIP: the caller pressed a key.
        TransportDtmfReceived(Dtmf) = "transport.dtmf.received",
        /// Legacy DTMF delivery notice (old SDKs, saved events).
        TransportDtmfSend(Dtmf) = "transport.dtmf.send",
        /// Sideband, SIP: a DTMF key reached the trunk.
        TransportDtmfSent(Dtmf) = "transport.dtmf.sent",
        /// Sideband, SIP: the outbound leg rings.
        TransportRinging(TransportCall) = "transport.ringing",
        /// Sideband, SIP: the outbound leg answered.
        TransportAnswered(TransportCall) = "transport.answered",
        /// Sideband, SIP: outbound call setup failed.
        TransportFailed(TransportFailed) = "transport.failed",
    }
}

/// `session.started` / `session.updated`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The resolved session (boxed: it is by far the largest payload).
    pub session: Box<SessionResource>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An acknowledgement with nothing but ids (mute, unmute, fixture, pause).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Ack {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.*.appended`: where an append landed on the session timeline.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Placed {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// Timeline start, ms.
    pub start_ms: u64,
    /// Timeline end, ms (may equal the start).
    pub end_ms: u64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.output_audio.delta`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct OutputAudioDelta {
    /// Base64 audio in the session format.
    pub delta: String,
    /// Timeline start, ms (sideband only).
    pub start_ms: Option<u64>,
    /// Timeline end, ms (sideband only).
    pub end_ms: Option<u64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.input_transcript.delta` / `session.output_transcript.delta`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TranscriptDelta {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The text, with its own leading space.
    pub delta: String,
    /// Timeline start, ms.
    pub start_ms: u64,
    /// Timeline end, ms.
    pub end_ms: u64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.delegation.created`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DelegationCreated {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The delegation.
    pub delegation: DelegationRef,
    /// Timeline point of the request (end of the user's words).
    pub offset_ms: u64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `delegation` of `session.delegation.created`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DelegationRef {
    /// Delegation id (`item_…`); what a result names as `delegation_id`.
    pub id: String,
    /// Always `delegation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `client`, `responses` or `decisions`.
    pub target: String,
    /// The backend response, for `responses`.
    pub response_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.event`: one Responses streaming event, nested verbatim.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The delegation it belongs to (may be absent or null).
    pub delegation_id: Option<String>,
    /// The nested event (`response.created`, `response.output_item.done`,
    /// `response.completed`, …).
    pub event: Map<String, Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `decision.event`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DecisionEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The delegation (null for triggers).
    pub delegation_id: Option<String>,
    /// `{type:"decision.completed", decision:{answers, model, usage}}`, as JSON.
    pub event: Value,
    /// The transcript delta that fired a trigger.
    pub source_event_id: Option<String>,
    /// Its type.
    pub source_event_type: Option<String>,
    /// The trigger.
    pub trigger_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `decision.item.created`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DecisionItemCreated {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The stored item (with its `id`), as JSON.
    pub item: Value,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `decision.item.deleted`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DecisionItemDeleted {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The removed item.
    pub item_id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.usage.updated`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct UsageUpdated {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// Cumulative billable time.
    pub usage: SessionUsage,
    /// Context use.
    pub context_window: Option<ContextWindow>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.closed`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionClosed {
    /// Server event id.
    pub event_id: Option<String>,
    /// The `session.close` command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// `close_requested`, `expired`, `content`, `remote_hangup`, `connection_lost`.
    pub reason: String,
    /// The final session snapshot (boxed: it is by far the largest payload).
    pub session: Box<SessionResource>,
    /// Final cumulative usage.
    pub usage: SessionUsage,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `error`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ErrorEvent {
    /// Server event id.
    pub event_id: Option<String>,
    /// The failed command's `event_id` (also possibly inside `error`).
    pub client_event_id: Option<String>,
    /// What went wrong.
    pub error: ErrorBody,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `error` object (also `transport.failed.error`, type `call_error`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ErrorBody {
    /// `invalid_request_error`, `server_error`, `call_error`, ….
    #[serde(rename = "type")]
    pub kind: String,
    /// Machine code; the SDK types it as a string, OpenAI's guide says it
    /// may be null.
    pub code: Option<String>,
    /// Human message.
    pub message: String,
    /// Dotted path of the offending parameter.
    pub param: Option<String>,
    /// The failed command's `event_id`.
    pub client_event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `info`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Info {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// Notice code.
    pub code: String,
    /// Notice text.
    pub message: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `transport.dtmf.received` / `.sent` / legacy server `.send`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Dtmf {
    /// Server event id.
    pub event_id: Option<String>,
    /// The command's `event_id`, when it had one.
    pub client_event_id: Option<String>,
    /// The key.
    pub event: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `transport.ringing` / `transport.answered`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TransportCall {
    /// Server event id.
    pub event_id: Option<String>,
    /// The Live session id.
    pub session_id: String,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `transport.failed`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct TransportFailed {
    /// Server event id.
    pub event_id: Option<String>,
    /// The Live session id.
    pub session_id: String,
    /// `{type:"call_error", code, message, param?}`.
    pub error: ErrorBody,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(
    SessionEvent,
    Ack,
    Placed,
    OutputAudioDelta,
    TranscriptDelta,
    DelegationCreated,
    DelegationRef,
    ResponseEvent,
    DecisionEvent,
    DecisionItemCreated,
    DecisionItemDeleted,
    UsageUpdated,
    SessionClosed,
    ErrorEvent,
    ErrorBody,
    Info,
    Dtmf,
    TransportCall,
    TransportFailed,
);
