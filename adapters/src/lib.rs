//! # understudy-adapters
//!
//! Provider wire types, sans-IO codecs and realtime clients. Every provider's
//! protocol is turned into one normalised [`ModelEvent`] stream, and one set of
//! normalised [`ClientInput`]s is turned into each provider's frames.
//!
//! The protocol cores are plain data and pure functions (wire types, a decoder
//! with a small explicit state machine, an encoder); sockets and tasks live in the
//! thin client layer on top. The mock providers use the same wire types, so the
//! client and the server cannot drift apart.
//!
//! A codec is sans-IO: frames in, normalised events out, and the other way.
//! Looked up by dialect id (as cassettes name it) and model:
//!
//! ```
//! use understudy_adapters::{codec_for_dialect, ClientInput, ModelEvent, WireFrame};
//!
//! let mut codec = codec_for_dialect("openai-ga", "gpt-realtime").expect("a known dialect");
//! // A user's typed message becomes the provider's frames ...
//! let frames = codec.encode(&ClientInput::Text { text: "Hello".into() })?;
//! let WireFrame::Text(first) = &frames[0] else { panic!("a JSON text frame") };
//! assert!(first.contains(r#""type":"conversation.item.create""#), "{first}");
//! // ... and the provider's frames become ModelEvents, the same on every provider.
//! let delta = r#"{"type":"response.output_text.delta","event_id":"e1","response_id":"r1",
//!     "item_id":"i1","output_index":0,"content_index":0,"delta":"Hi"}"#;
//! let events = codec.decode(&WireFrame::Text(delta.into()))?;
//! assert!(
//!     matches!(&events[..], [ModelEvent::TextDelta { delta, .. }] if delta == "Hi"),
//!     "{events:?}"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod audio;
pub mod bounded;
pub mod capabilities;
pub mod chat;
pub mod client;
pub mod codec;
pub mod dashscope;
pub mod error_text;
pub mod event;
pub mod g711;
pub mod gemini;
pub mod input;
pub mod lossless;
pub mod openai;
pub mod openai_live;
pub mod qwen_audio;
pub mod registry;
pub mod resumption;
pub mod round_trip;
pub mod serve_limits;
pub mod sse;
pub mod tagged;
pub mod text;
pub mod tls;
pub mod tts;
pub mod ws_fault;

pub use audio::{AudioEncoding, AudioFormat, Pcm};
pub use capabilities::{Capabilities, SessionLimits};
pub use client::{ClientError, FrameTap, RealtimeClient, TapDirection, TappedFrame, TimedEvent};
pub use codec::{DecodeError, EncodeError, RealtimeCodec, WireFrame};
pub use event::{
    ErrorInfo, InteractionState, MessagePhase, ModelEvent, ResponseStatus, Usage, VoiceprintState,
};
pub use input::{
    ClientInput, Modality, ResponseOptions, SessionConfig, ToolBehavior, ToolChoice,
    ToolResultScheduling, ToolSpec, TurnDetection,
};
pub use tls::{TlsError, TlsTrust};

pub use registry::{codec_for_dialect, ConnectOptions, DialectKind, DialectSpec, ProviderSpec};
