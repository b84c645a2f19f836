//! Serde types for every OpenAI Realtime client and server event, both dialects.
//!
//! Unknown event types deserialise to `Unknown` and unknown fields land in each
//! struct's `extra` map, so nothing the provider adds is lost or fatal.

pub mod client;
pub mod common;
pub mod objects;
pub mod server;

pub use client::ClientEvent;
pub use server::ServerEvent;
