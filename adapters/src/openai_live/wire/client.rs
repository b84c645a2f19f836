//! Client → server commands of GPT-Live: the union of the SDK's primary
//! (`ClientEvent`), fork (`ForkClientEvent`) and sideband
//! (`ConnectClientEvent`) vocabularies. Which socket accepts which command
//! is the server's business (the mock checks it); one enum parses them all.
//!
//! `event_id` is optional on every command except `decision.create`, where
//! the SDK requires it; it is an `Option` here too so that a command without
//! it still parses and the server can answer with the service's error.

use super::session::{SessionConfig, SessionUpdateConfig};
use crate::lossless::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

crate::tagged_union! {
    /// Every command a client may send, by wire `type`.
    pub enum ClientEvent {
        /// First frame: start the session (or a fork, with overrides).
        SessionStart(SessionStart) = "session.start",
        /// Change delegation settings or triggers.
        SessionUpdate(SessionUpdate) = "session.update",
        /// Microphone audio, base64 in the session format; never acknowledged.
        InputAudioAppend(AudioAppend) = "session.input_audio.append",
        /// Feed silence to the model until unmuted.
        InputAudioMute(Command) = "session.input_audio.mute",
        /// Stop muting.
        InputAudioUnmute(Command) = "session.input_audio.unmute",
        /// Play a pre-recorded clip (PCM16 24 kHz, ≤ 30 s) through the output.
        OutputAudioFixturePlay(FixturePlay) = "session.output_audio.fixture.play",
        /// Add developer instructions to the running conversation.
        InstructionsAppend(ContextAppend) = "session.instructions.append",
        /// Add silent context (or a delegation's progress).
        ThinkingAppend(ContextAppend) = "session.thinking.append",
        /// Add speakable content (or a delegation's result).
        CommentaryAppend(ContextAppend) = "session.commentary.append",
        /// Run one Decision now (`event_id` required).
        DecisionCreate(Command) = "decision.create",
        /// Add a Decision input item.
        DecisionItemCreate(DecisionItemCreate) = "decision.item.create",
        /// Remove a Decision input item.
        DecisionItemDelete(DecisionItemDelete) = "decision.item.delete",
        /// Responses delegation: add an input item (a `function_call_output`).
        ResponseItemCreate(ResponseItemCreate) = "response.item.create",
        /// Responses delegation: resume the backend after tool results.
        ResponseCreate(Command) = "response.create",
        /// End the session; the server answers `session.closed`.
        SessionClose(Command) = "session.close",
        /// Sideband, SIP only: send one DTMF key.
        TransportDtmfSend(DtmfSend) = "transport.dtmf.send",
    }
}

/// A command with nothing but its optional `event_id` (mute, unmute,
/// `response.create`, `session.close`, `decision.create`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Command {
    /// Client id, echoed as `client_event_id`.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Command {
    /// A command carrying `event_id`.
    pub fn with_id(event_id: impl Into<String>) -> Self {
        Command {
            event_id: Some(event_id.into()),
            extra: Extra::default(),
        }
    }
}

/// `session.start`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionStart {
    /// The session configuration (fork: overrides, may be `{}`); boxed, it
    /// is by far the largest payload.
    pub session: Box<SessionConfig>,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.update`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct SessionUpdate {
    /// What changes (boxed, like the start's configuration).
    pub session: Box<SessionUpdateConfig>,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.input_audio.append`: the client's command, and (server → client)
/// the sideband's reflection of the caller's audio, which has no `event_id`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct AudioAppend {
    /// Base64 audio, no container header.
    pub audio: String,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.output_audio.fixture.play`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct FixturePlay {
    /// Base64 PCM16 mono 24 kHz, whatever the session format.
    pub audio: String,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.instructions.append`, `session.thinking.append`,
/// `session.commentary.append`.
///
/// `delegation_id` is required but nullable (the SDK always sends it, `null`
/// for general context): `None` = absent, `Some(None)` = `null`,
/// `Some(Some(id))` = the delegation this answers.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ContextAppend {
    /// The text (≤ 500 tokens).
    pub content: String,
    /// The client delegation this answers, `null` for general context.
    #[serde(
        default,
        with = "::serde_with::rust::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub delegation_id: Option<Option<String>>,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ContextAppend {
    /// An append the way the SDK sends it: `delegation_id` always present.
    pub fn new(content: impl Into<String>, delegation_id: Option<String>) -> Self {
        ContextAppend {
            content: content.into(),
            delegation_id: Some(delegation_id),
            event_id: None,
            extra: Extra::default(),
        }
    }
}

/// `decision.item.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DecisionItemCreate {
    /// The Decision input item (a message, a function call or its output), as JSON.
    pub item: Value,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `decision.item.delete`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DecisionItemDelete {
    /// The item to remove.
    pub item_id: String,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `response.item.create`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseItemCreate {
    /// A Responses input item.
    pub item: ResponseInputItem,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Responses input item: `function_call_output` is modelled (it is how a
/// function result goes back); a message or any other item keeps its fields
/// in `extra`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ResponseInputItem {
    /// `function_call_output`, `message`, ….
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The call answered.
    pub call_id: Option<String>,
    /// The result: a string, or a list of output parts.
    pub output: Option<Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponseInputItem {
    /// A `function_call_output` answering `call_id`.
    pub fn function_call_output(call_id: impl Into<String>, output: impl Into<String>) -> Self {
        ResponseInputItem {
            kind: Some("function_call_output".into()),
            call_id: Some(call_id.into()),
            output: Some(Value::String(output.into())),
            extra: Extra::default(),
        }
    }
}

/// `transport.dtmf.send` (sideband, SIP).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DtmfSend {
    /// The key: `0`–`9`, `A`–`D`, `*`, `#`.
    pub event: String,
    /// Client id.
    pub event_id: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::lossless!(
    Command,
    SessionStart,
    SessionUpdate,
    AudioAppend,
    FixturePlay,
    ContextAppend,
    DecisionItemCreate,
    DecisionItemDelete,
    ResponseItemCreate,
    ResponseInputItem,
    DtmfSend,
);
