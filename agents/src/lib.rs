//! # understudy-agents
//!
//! The agent layer the conformance suite replays sessions through:
//! `RealtimeAgent`, the multi-agent `ChatRoom`, the deployment server, the
//! stage-1 TTS speaker and the stage-2 omni chat agent. They work on any
//! realtime adapter through [`understudy_adapters::ModelEvent`] alone.
//!
//! Not built yet (issue 6); the crate exists so the dependency graph of the
//! design (`cli → conformance → agents → adapters`) holds from the start.

pub use understudy_adapters::{Capabilities, ClientInput, ModelEvent};
