//! Serde types for every GPT-Live client command and server event the
//! official Python SDK (`openai` 3.57.0, `types/live`) defines, for the
//! primary, fork and sideband sockets.
//!
//! Unknown event types deserialise to `Unknown` and unknown fields land in
//! each struct's `extra` ([`Extra`](crate::lossless::Extra)), with explicit
//! nulls remembered, so every frame re-encodes to the JSON it came from. The
//! client adapter and the mock server share these types.

pub mod client;
pub mod server;
pub mod session;

pub use client::ClientEvent;
pub use server::ServerEvent;
