//! # understudy-agents
//!
//! The agent layer the conformance suite replays sessions through. Built so
//! far: the stage-1 [`speaker`] (an LLM's text stream → content filter →
//! segmenter → TTS engine → audio, with time to first sound measured) and
//! the two chat agents of [`stages`]: a text model spoken by TTS (stage 1) and
//! an omni model that answers in audio (stage 2).
//! The [`realtime`] module holds the bidirectional [`RealtimeAgent`], the [`room`] module its multi-agent [`ChatRoom`] with turn-taking and
//! bounded per-member queues, and [`deploy`] the WebSocket deployment server
//! that puts agents behind AgentScope's front-end event vocabulary. They work
//! on any realtime adapter through [`understudy_adapters::ModelEvent`] alone.

#![warn(missing_docs)]

pub mod deploy;
pub mod realtime;
pub mod room;
pub mod speaker;
pub mod stages;

pub use realtime::{AgentConfig, AgentEvent, RealtimeAgent, Tool, ToolRegistry};
pub use room::{ChatRoom, RealtimeMember, RoomEvent};

pub use speaker::{Segmenting, Speaker, SpeakerTurn, Spoken};
pub use stages::{AgentError, OmniChatAgent, TextVoiceAgent, VoiceReply};
pub use understudy_adapters::{Capabilities, ClientInput, ModelEvent};
