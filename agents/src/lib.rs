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
//!
//! A realtime agent on an in-process mock: type a turn, read what the agent
//! said, as events that are the same on every provider:
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use understudy_adapters::{openai, ResponseStatus, SessionConfig};
//! use understudy_agents::{AgentConfig, AgentEvent, RealtimeAgent, ToolRegistry};
//! use understudy_mock::MockServer;
//!
//! let server = MockServer::start().await?;
//! let connector = openai::connect_options(server.openai_base_url(), openai::Dialect::Ga,
//!     "gpt-realtime").api_key("sk-test");
//! let config = AgentConfig::new(SessionConfig::default());
//! let mut agent = RealtimeAgent::start(connector, config, ToolRegistry::new()).await?;
//! agent.input().text("What's the weather like?").await?;
//! let mut said = String::new();
//! while let Some(event) = agent.next_event().await {
//!     match event {
//!         AgentEvent::TranscriptDone { text, .. } => said = text,
//!         AgentEvent::ResponseDone { status, .. } => {
//!             assert_eq!(status, ResponseStatus::Completed);
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! assert!(!said.is_empty(), "the agent said nothing");
//! agent.close().await;
//! # Ok(()) }
//! ```

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
