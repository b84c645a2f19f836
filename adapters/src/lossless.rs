//! Wire structs that re-encode to the JSON they were decoded from.
//!
//! Provider frames carry two things a plain serde struct of `Option` fields
//! loses: an explicit `null` (`"language": null` decodes to `None`, which
//! re-encodes as an absent key) and the spelling of a key the struct accepts
//! under an alias (Gemini takes `realtime_input` as well as `realtimeInput`).
//! Unknown fields are already kept in each struct's `extra`; this module makes
//! `extra` an [`Extra`], which also remembers those two wire details, so that
//! every frame decodes and re-encodes to an equal JSON value.
//!
//! A wire struct opts in by deriving with `#[serde(remote = "Self")]` (serde
//! then writes the field-by-field code as inherent functions) and naming
//! itself in [`lossless!`](macro@crate::lossless), which writes the `Serialize` and
//! `Deserialize` impls around that code. A struct that code builds (the mock's
//! answers, the encoders' frames) has nothing remembered and serialises exactly
//! as the derive alone would, so nothing is sent as `null` that was not set.
//!
//! serde names those inherent functions `serialize` and `deserialize`, so
//! `Type::deserialize(d)` on a wire type calls the derived code, without the
//! memo; decode through `serde_json::from_*` or
//! `<Type as serde::Deserialize>::deserialize` to keep the wire details.
//!
//! A modelled field that is set always wins: a remembered `null`, or an entry
//! code put in `extra` under the same key, gives way to it (a key is never
//! written twice).

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// How a struct's canonical keys are spelled, which says which other
/// spellings of a key are aliases worth remembering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// snake_case keys, no aliases (OpenAI, DashScope).
    Snake,
    /// lowerCamelCase keys that also accept their snake_case spelling (Gemini).
    Camel,
}

/// The fields of a wire object that its struct does not model, kept verbatim,
/// plus what the struct remembers of how its modelled fields were spelled.
///
/// It derefs to the `Map` of unmodelled fields. Equality compares those fields
/// only: two values that mean the same are equal however they were spelled.
#[derive(Clone, Default)]
pub struct Extra {
    fields: Map<String, Value>,
    memo: Memo,
}

/// Wire details of the modelled fields (empty for a struct built in code).
#[derive(Debug, Clone, Default)]
struct Memo {
    /// Keys that arrived as an explicit `null` for a modelled `Option` field.
    nulls: Vec<String>,
    /// `(canonical, as sent)` for keys that arrived under an alias.
    spellings: Vec<(String, String)>,
}

impl Memo {
    fn is_empty(&self) -> bool {
        self.nulls.is_empty() && self.spellings.is_empty()
    }
}

impl Extra {
    /// Unmodelled fields, without any remembered wire details.
    pub fn new(fields: Map<String, Value>) -> Self {
        Extra {
            fields,
            memo: Memo::default(),
        }
    }

    /// The unmodelled fields as a map.
    pub fn into_map(self) -> Map<String, Value> {
        self.fields
    }

    /// Whether the derived field-by-field code alone re-encodes the struct:
    /// nothing remembered and no unmodelled field that could clash with one.
    #[doc(hidden)]
    pub fn is_plain(&self) -> bool {
        self.memo.is_empty() && self.fields.is_empty()
    }
}

impl Deref for Extra {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.fields
    }
}

impl DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.fields
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(fields: Map<String, Value>) -> Self {
        Extra::new(fields)
    }
}

impl PartialEq for Extra {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.memo.is_empty() {
            self.fields.fmt(f)
        } else {
            f.debug_struct("Extra")
                .field("fields", &self.fields)
                .field("memo", &self.memo)
                .finish()
        }
    }
}

impl<'a> IntoIterator for &'a Extra {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Extra::new)
    }
}

/// A wire struct whose `extra` is an [`Extra`]; implemented by [`lossless!`](macro@crate::lossless).
pub trait Lossless {
    /// How the struct spells its keys.
    const CASE: Case;
    /// The struct's unmodelled fields and wire memo.
    fn extra_mut(&mut self) -> &mut Extra;
}

/// Decodes a `T` with its derived code, then remembers the explicit nulls and
/// alias spellings of the keys its modelled fields took. Used by [`lossless!`](crate::lossless).
#[doc(hidden)]
pub fn deserialize<'de, T, D>(
    deserializer: D,
    derived: impl FnOnce(Value) -> Result<T, serde_json::Error>,
) -> Result<T, D::Error>
where
    T: Lossless,
    D: Deserializer<'de>,
{
    use serde::de::Error as _;
    let map = Map::<String, Value>::deserialize(deserializer)?;
    let noted: Vec<(String, bool)> = map
        .iter()
        .filter_map(|(key, value)| {
            let null = value.is_null();
            let alias = T::CASE == Case::Camel && key.contains('_');
            (null || alias).then(|| (key.clone(), null))
        })
        .collect();
    let mut value = derived(Value::Object(map)).map_err(D::Error::custom)?;
    if !noted.is_empty() {
        let extra = value.extra_mut();
        for (key, null) in noted {
            if extra.fields.contains_key(&key) {
                continue; // unmodelled: already kept verbatim
            }
            if null {
                extra.memo.nulls.push(key);
            } else {
                extra.memo.spellings.push((snake_to_camel(&key), key));
            }
        }
    }
    Ok(value)
}

/// Puts the unmodelled fields and the remembered wire details back into the
/// derived JSON of a struct serialised without its `extra`: a key the derived
/// JSON already has (a modelled field that is set) is not written again.
/// Used by [`lossless!`](crate::lossless) unless [`Extra::is_plain`].
#[doc(hidden)]
pub fn restore(derived: Value, extra: &Extra, case: Case) -> Value {
    let Value::Object(map) = derived else {
        return derived;
    };
    let memo = &extra.memo;
    let mut out: Map<String, Value> = map
        .into_iter()
        .map(|(key, value)| {
            let spelled = memo
                .spellings
                .iter()
                .find(|(canonical, _)| *canonical == key)
                .map(|(_, sent)| sent.clone());
            (spelled.unwrap_or(key), value)
        })
        .collect();
    for (key, value) in &extra.fields {
        if !out.contains_key(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    for key in &memo.nulls {
        let canonical = match case {
            Case::Camel => snake_to_camel(key),
            Case::Snake => key.clone(),
        };
        if !out.contains_key(key) && !out.contains_key(&canonical) {
            out.insert(key.clone(), Value::Null);
        }
    }
    Value::Object(out)
}

/// `prompt_token_count` → `promptTokenCount`.
fn snake_to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `Serialize` and `Deserialize` for wire structs derived with
/// `#[serde(remote = "Self")]` and an `extra: Extra` field, so that they keep
/// explicit nulls and alias spellings (see [`lossless`](mod@crate::lossless)).
///
/// `lossless!(A, B)` for snake_case structs; `lossless!(camel: A, B)` for
/// lowerCamelCase structs that accept snake_case aliases.
#[macro_export]
macro_rules! lossless {
    (camel: $($ty:ty),+ $(,)?) => {
        $( $crate::lossless!(@impl $ty, $crate::lossless::Case::Camel); )+
    };
    ($($ty:ty),+ $(,)?) => {
        $( $crate::lossless!(@impl $ty, $crate::lossless::Case::Snake); )+
    };
    (@impl $ty:ty, $case:expr) => {
        impl $crate::lossless::Lossless for $ty {
            const CASE: $crate::lossless::Case = $case;
            fn extra_mut(&mut self) -> &mut $crate::lossless::Extra {
                &mut self.extra
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if self.extra.is_plain() {
                    return <$ty>::serialize(self, serializer);
                }
                let mut bare = self.clone();
                let extra = ::std::mem::take(&mut bare.extra);
                let derived = <$ty>::serialize(&bare, ::serde_json::value::Serializer)
                    .map_err(<S::Error as ::serde::ser::Error>::custom)?;
                ::serde::Serialize::serialize(
                    &$crate::lossless::restore(derived, &extra, $case),
                    serializer,
                )
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::lossless::deserialize(deserializer, |value| <$ty>::deserialize(value))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_keys_become_camel() {
        assert_eq!(snake_to_camel("prompt_token_count"), "promptTokenCount");
        assert_eq!(snake_to_camel("text"), "text");
    }
}
