//! The DashScope realtime family's shared codec core: what Qwen-Omni
//! ([`crate::dashscope`]) and Qwen-Audio-Realtime ([`crate::qwen_audio`]) do
//! the same way, written once.
//!
//! The two dialects share the URL path, the framing and most payloads. Their
//! differences are data or small hooks, never a second copy:
//!
//! - [`events`]: the server events both send, declared once
//!   (`dashscope_server_events!`); each
//!   dialect names its own payloads for the two events whose shape differs
//!   and adds its own events;
//! - `decode`: the normalisation of those shared events, with the points
//!   where the dialects disagree as `DecodeRules` (a row per dialect);
//! - `encode`: event ids, the inputs both encode alike (audio, commit,
//!   clear, text and tool-result items), the session parts both write, the
//!   capabilities both start from.

pub(crate) mod decode;
pub(crate) mod encode;
pub mod events;

pub(crate) use decode::{unrecognized, CoreDecoder, DecodeRules};
pub(crate) use encode::{
    base_session, capabilities, client_event_from_common, family_codec, modality_names,
    CapabilityRow, Common, CoreEncoder,
};
pub(crate) use events::dashscope_server_events;
pub use events::SharedEvent;
