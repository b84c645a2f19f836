//! Whether a dialect's wire types carry a frame without loss.
//!
//! Every wire type decodes a frame and re-encodes it to an equal JSON value
//! (explicit nulls, unknown fields and key spellings kept; see
//! [`lossless`](mod@crate::lossless)). [`round_trip`] checks that for one JSON
//! payload, given the dialect id a cassette names and which side sent it; the
//! table [`WIRE_TYPES`] says which wire type reads each dialect's frames each
//! way. The adapters' own cassette tests and conformance's `--cassettes`
//! cases both check recordings through it.

use crate::chat::{ChatChunk, ChatRequest};
use crate::tts::gemini_tts::wire::{GenerateContentRequest, GenerateContentResponse};
use crate::tts::openai_speech::wire::SpeechRequest;
use crate::{dashscope, gemini, openai};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Decodes one payload as a wire type and re-encodes it.
pub type RoundTripFn = fn(&Value) -> Result<(), RoundTripError>;

/// The wire types that read one or more dialects' frames.
#[derive(Debug, Clone, Copy)]
pub struct WireTypes {
    /// The dialect ids (as cassettes name them) these types read.
    pub dialects: &'static [&'static str],
    /// The client → server type, if the dialect's client sends JSON.
    pub client: Option<RoundTripFn>,
    /// The server → client type, if the dialect's server sends JSON.
    pub server: Option<RoundTripFn>,
}

/// Every dialect's wire types, one row per family of dialects.
pub const WIRE_TYPES: &[WireTypes] = &[
    WireTypes {
        dialects: &["openai-ga", "openai-beta"],
        client: Some(typed::<openai::wire::ClientEvent>),
        server: Some(typed::<openai::wire::ServerEvent>),
    },
    WireTypes {
        dialects: &[crate::openai_live::DIALECT],
        client: Some(typed::<crate::openai_live::wire::ClientEvent>),
        server: Some(typed::<crate::openai_live::wire::ServerEvent>),
    },
    WireTypes {
        dialects: &["gemini-live"],
        client: Some(typed::<gemini::wire::ClientMessage>),
        server: Some(typed::<gemini::wire::ServerMessage>),
    },
    WireTypes {
        dialects: &["dashscope-omni"],
        client: Some(typed::<dashscope::wire::ClientEvent>),
        server: Some(typed::<dashscope::wire::ServerEvent>),
    },
    WireTypes {
        dialects: &[crate::qwen_audio::DIALECT],
        client: Some(typed::<crate::qwen_audio::wire::ClientEvent>),
        server: Some(typed::<crate::qwen_audio::wire::ServerEvent>),
    },
    WireTypes {
        dialects: &["dashscope-tts"],
        client: Some(typed::<dashscope::tts::TtsClientEvent>),
        server: Some(typed::<dashscope::tts::TtsServerEvent>),
    },
    WireTypes {
        dialects: &["openai-chat", "dashscope-chat"],
        client: Some(typed::<ChatRequest>),
        server: Some(typed::<ChatChunk>),
    },
    WireTypes {
        dialects: &["openai-speech"],
        client: Some(typed::<SpeechRequest>),
        server: None,
    },
    WireTypes {
        dialects: &["gemini-tts"],
        client: Some(typed::<GenerateContentRequest>),
        server: Some(typed::<GenerateContentResponse>),
    },
];

/// How a payload failed to round-trip.
#[derive(Debug, thiserror::Error)]
pub enum RoundTripError {
    /// The wire type does not accept the payload.
    #[error("rejected: {0}")]
    Rejected(#[source] serde_json::Error),
    /// The decoded value does not encode again.
    #[error("does not encode: {0}")]
    DoesNotEncode(#[source] serde_json::Error),
    /// It encodes to a different JSON value.
    #[error("changed:\n  sent  {sent}\n  again {again}")]
    Changed {
        /// The payload as sent.
        sent: Box<Value>,
        /// What the wire type made of it.
        again: Box<Value>,
    },
    /// No wire type reads this dialect's frames this way.
    #[error("no wire type for {side} frames of dialect {dialect}")]
    NoWireType {
        /// The dialect id.
        dialect: String,
        /// `client` or `server`.
        side: &'static str,
    },
}

/// Decodes `json` as `T`, encodes it again, and says how the result differs.
pub fn typed<T: DeserializeOwned + Serialize>(json: &Value) -> Result<(), RoundTripError> {
    let typed: T = serde_json::from_value(json.clone()).map_err(RoundTripError::Rejected)?;
    let again = serde_json::to_value(&typed).map_err(RoundTripError::DoesNotEncode)?;
    if &again == json {
        Ok(())
    } else {
        Err(RoundTripError::Changed {
            sent: Box::new(json.clone()),
            again: Box::new(again),
        })
    }
}

/// The wire types of `dialect`, if the table has them.
pub fn wire_types(dialect: &str) -> Option<&'static WireTypes> {
    WIRE_TYPES
        .iter()
        .find(|row| row.dialects.contains(&dialect))
}

/// Round-trips one payload of `dialect`, sent by the client when
/// `from_client`, through its wire type.
pub fn round_trip(dialect: &str, from_client: bool, json: &Value) -> Result<(), RoundTripError> {
    let side = if from_client { "client" } else { "server" };
    let check =
        wire_types(dialect).and_then(|row| if from_client { row.client } else { row.server });
    match check {
        Some(check) => check(json),
        None => Err(RoundTripError::NoWireType {
            dialect: dialect.to_owned(),
            side,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{round_trip, RoundTripError, WIRE_TYPES};

    #[test]
    fn every_table_dialect_is_a_registry_dialect() {
        for row in WIRE_TYPES {
            for id in row.dialects {
                assert!(
                    crate::registry::dialect(id).is_ok(),
                    "{id} is not in the registry"
                );
            }
        }
    }

    #[test]
    fn a_changed_or_rejected_payload_is_reported() {
        let ok = serde_json::json!({"type": "response.create"});
        round_trip("openai-ga", true, &ok).unwrap();
        let unknown = round_trip("no-such", true, &ok);
        assert!(matches!(unknown, Err(RoundTripError::NoWireType { .. })));
        let speech_answer = round_trip("openai-speech", false, &ok);
        assert!(matches!(
            speech_answer,
            Err(RoundTripError::NoWireType { .. })
        ));
    }
}
