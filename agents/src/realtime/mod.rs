//! The realtime voice agent: bidirectional and event-driven, over any
//! realtime adapter through [`understudy_adapters::ModelEvent`] alone.
//!
//! - [`connect`]: how the agent opens and re-opens its model session
//!   ([`Connector`]; ready-made for the registry's `ConnectOptions`, which
//!   reaches every realtime dialect).
//! - [`tools`]: the [`Tool`] trait, the [`ToolRegistry`] and the runner that
//!   executes calls concurrently with the conversation.
//! - [`agent`]: the [`RealtimeAgent`] handle, [`AgentInput`], and the task
//!   that runs the conversation, split by job into private modules: the event
//!   loop, front-end commands, model events, the connection's life
//!   (reconnects with back-off), sending and the bounded input buffer,
//!   barge-in (cancel where the provider will not, truncate to what was heard
//!   where it can) and tool calls (a follow-up request only where the dialect
//!   needs one).
//! - [`events`]: [`AgentEvent`], what the front end hears.
//! - [`transcript`]: the ordered [`Transcript`] of the session.
//! - [`resample`]: the linear [`Resampler`] used at the edges.
//! - [`config`]: [`AgentConfig`] and [`ReconnectPolicy`].
//! - [`compaction`]: carrying the conversation into a session that cannot
//!   resume the old one: [`Summariser`]s and the instructions they feed.
//!
//! The design follows AgentScope's `RealtimeAgent` (AgentScope 1.0.x) and
//! closes its known gaps:
//! truncation to the audio actually played, tool results sent for every call
//! (none left dangling after a barge-in), resampling at the edges instead of
//! a rate-mismatch error.

pub mod agent;
pub mod compaction;
pub mod config;
pub mod connect;
pub mod events;
pub mod resample;
pub mod tools;
pub mod transcript;

pub use agent::{AgentInput, RealtimeAgent, RealtimeAgentError};
pub use compaction::{ChatSummariser, ExtractiveSummariser, SharedSummariser, Summariser};
pub use config::{AgentConfig, DelegationRoute, ReconnectPolicy, SilenceFill};
pub use connect::{connector_fn, Connector, FnConnector, SharedConnector};
pub use events::AgentEvent;
pub use resample::{resample_pcm16, Resampler};
pub use tools::{
    tool_fn, FnTool, SchedulingFn, Tool, ToolError, ToolFuture, ToolOutput, ToolRegistry,
};
pub use transcript::{Transcript, TranscriptEntry};
