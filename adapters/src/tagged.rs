//! Tagged unions of wire events that keep what they do not know.
//!
//! Provider events are JSON objects discriminated by a string `type`. The
//! [`tagged_union!`](crate::tagged_union) macro builds an enum with one variant per known
//! type plus `Unknown`, which keeps an unrecognised event verbatim instead of
//! failing. Known payload structs keep unknown fields in their own `extra`
//! ([`crate::lossless::Extra`], which also remembers explicit nulls and alias
//! spellings), so a frame survives a decode/encode round trip unchanged.

use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// Serialises `payload` as a JSON object with `"type": tag` first.
///
/// Used by [`tagged_union!`](crate::tagged_union); public only for the macro.
#[doc(hidden)]
pub fn serialize_tagged<S: Serializer, P: Serialize>(
    tag: &str,
    payload: &P,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let fields = match serde_json::to_value(payload).map_err(S::Error::custom)? {
        Value::Object(fields) => fields,
        other => {
            return Err(S::Error::custom(format!(
                "event payload for `{tag}` must be an object, got {other}"
            )))
        }
    };
    let mut out = Map::with_capacity(fields.len() + 1);
    out.insert("type".to_owned(), Value::String(tag.to_owned()));
    for (key, value) in fields {
        out.insert(key, value);
    }
    out.serialize(serializer)
}

/// Builds a `type`-tagged enum of wire events with an `Unknown` catch-all.
///
/// Each variant names its wire `type` string; several variants may share a
/// payload struct (GA and beta names for the same event). Deserialising an
/// object whose `type` is not listed yields `Unknown(map)` with every field
/// kept; an object without a string `type` is an error.
#[macro_export]
macro_rules! tagged_union {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) = $tag:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($payload), )*
            /// An event type this crate does not know, kept verbatim (with its `type`).
            Unknown(::serde_json::Map<String, ::serde_json::Value>),
        }

        impl $name {
            /// Every wire `type` string this enum knows.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The wire `type` string of this event.
            pub fn event_type(&self) -> &str {
                match self {
                    $( $name::$variant(_) => $tag, )*
                    $name::Unknown(map) => map.get("type").and_then(|t| t.as_str()).unwrap_or(""),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( $name::$variant(payload) => $crate::tagged::serialize_tagged($tag, payload, serializer), )*
                    $name::Unknown(map) => ::serde::Serialize::serialize(map, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let mut map = <::serde_json::Map<String, ::serde_json::Value> as ::serde::Deserialize>::deserialize(deserializer)?;
                let tag = match map.get("type") {
                    Some(::serde_json::Value::String(tag)) => tag.clone(),
                    Some(_) => return Err(D::Error::custom("the 'type' field must be a string")),
                    None => return Err(D::Error::custom("the 'type' field is missing")),
                };
                match tag.as_str() {
                    $( $tag => {
                        map.remove("type");
                        ::serde_json::from_value(::serde_json::Value::Object(map))
                            .map($name::$variant)
                            .map_err(|e| D::Error::custom(format!("{}: {}", $tag, e)))
                    } )*
                    _ => Ok($name::Unknown(map)),
                }
            }
        }
    };
}
