//! The dialect registry: every dialect and provider this build speaks, described
//! once, as data.
//!
//! A *dialect* is one wire protocol a cassette, the mock, the recorder or a
//! client can speak: `openai-ga`, `gemini-live`, `openai-speech`, …. A
//! [`DialectSpec`] says everything the layers above the adapters need to know
//! about one: which provider offers it, what kind of exchange it is, its
//! default and input-transcription models, its [`Capabilities`] and codec per
//! model, how a request for it is recognised (path shape, headers, query), and
//! how a client connects (URL shape, where the model, the key and the cassette
//! choice go). A [`ProviderSpec`] says what a provider is: its name and
//! aliases, where its SDKs read their key, and its default realtime dialect.
//!
//! Code above the adapters never matches on a provider or a dialect: it looks
//! one up here ([`dialect`], [`provider`], [`recognise_websocket`],
//! [`recognise_http`]) and reads the entry. Adding a dialect is a codec folder
//! in `adapters/`, a folder in `mock-providers/` and one entry in
//! [`table`].
//!
//! Naming: [`openai::Dialect`](crate::openai::Dialect) is the OpenAI GA/beta
//! enum the OpenAI codec switches on; the registry's description of a dialect
//! is [`DialectSpec`], a different thing.
//!
//! Layout: [`table`] holds the entries; [`mod@recognise`] turns a request into
//! an entry; [`mod@connect`] turns an entry plus a URL and a model into a
//! connected [`RealtimeClient`](crate::RealtimeClient).

pub mod connect;
pub mod models;
pub mod recognise;
pub mod table;

pub use connect::{
    connect, connect_with_tap, insert_header, ConnectOptions, ConnectShape, KeyPlacement,
    ModelPlacement, Placement,
};
pub use recognise::{recognise_http, recognise_websocket, Condition, PathShape, Recognition};

use crate::capabilities::Capabilities;
use crate::codec::RealtimeCodec;
use std::fmt;

/// What kind of exchange a dialect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialectKind {
    /// A realtime voice session over a WebSocket (speech in, speech out).
    RealtimeSession,
    /// Realtime text-to-speech over a WebSocket (text in, audio out).
    RealtimeTts,
    /// Text-to-speech over plain HTTP (one request, a streamed answer).
    HttpTts,
    /// Chat completions with audio, over HTTP.
    Chat,
}

impl DialectKind {
    /// Whether the dialect runs over a WebSocket.
    pub fn is_websocket(self) -> bool {
        matches!(
            self,
            DialectKind::RealtimeSession | DialectKind::RealtimeTts
        )
    }
}

/// One provider: its names, where its key lives, and its default realtime session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderSpec {
    /// The name cassettes, `model_provider` and the command line use (`openai`).
    pub name: &'static str,
    /// The name for messages (`OpenAI`).
    pub display: &'static str,
    /// Other names accepted for it (`qwen`, `alibaba`, `google`).
    pub aliases: &'static [&'static str],
    /// Environment variables its SDKs read the key from (the recorder scrubs their values).
    pub key_env_vars: &'static [&'static str],
    /// The origin (scheme and host) its SDKs call; a recorder's default upstream.
    pub api_origin: &'static str,
    /// The id of the realtime session dialect used when only the provider is named.
    pub realtime_dialect: &'static str,
}

impl ProviderSpec {
    /// The provider's default realtime session dialect.
    pub fn realtime(&self) -> &'static DialectSpec {
        dialect(self.realtime_dialect).unwrap_or_else(|_| {
            unreachable!("the table names realtime dialects it holds (a unit test pins this)")
        })
    }

    /// The realtime session dialect that serves `model`: the provider's
    /// dialect whose [`DialectSpec::model_prefixes`] claim the name
    /// (`gpt-live-1` → `openai-live`), else its default
    /// ([`realtime`](Self::realtime)).
    pub fn realtime_for(&self, model: &str) -> &'static DialectSpec {
        self.dialects()
            .filter(|d| d.kind == DialectKind::RealtimeSession)
            .find(|d| d.model_prefixes.iter().any(|p| model.starts_with(p)))
            .unwrap_or_else(|| self.realtime())
    }

    /// The model used when neither the caller nor the endpoint names one: the
    /// default realtime dialect's default model.
    pub fn default_model(&self) -> &'static str {
        self.realtime().default_model
    }

    /// Every dialect this provider offers, in table order.
    pub fn dialects(&self) -> impl Iterator<Item = &'static DialectSpec> + '_ {
        dialects().filter(move |d| d.provider == self.name)
    }
}

impl fmt::Display for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Makes a dialect's codec for a model.
pub type CodecFn = fn(&str) -> Box<dyn RealtimeCodec>;

/// One dialect, described once (see the module docs). Distinct from
/// [`openai::Dialect`](crate::openai::Dialect), the OpenAI GA/beta enum.
#[derive(Debug, Clone, Copy)]
pub struct DialectSpec {
    /// The id cassettes, journals and reports use (`openai-ga`, `gemini-tts`).
    pub id: &'static str,
    /// The [`ProviderSpec::name`] of the provider that offers it.
    pub provider: &'static str,
    /// What kind of exchange it is.
    pub kind: DialectKind,
    /// The model used when none is named.
    pub default_model: &'static str,
    /// The input transcription model a session asks for so that the user's
    /// speech comes back as text (`None` where the dialect has no such setting).
    pub transcription_model: Option<&'static str>,
    /// Model-name prefixes that choose this dialect when a client names its
    /// provider and a model (`gpt-live` → GPT-Live rather than the
    /// provider's default Realtime dialect); see [`ProviderSpec::realtime_for`].
    pub model_prefixes: &'static [&'static str],
    /// How a request for it is recognised.
    pub recognition: Recognition,
    /// How a client connects to it.
    pub connect: ConnectShape,
    /// Capabilities per model (realtime session dialects only).
    pub capabilities: Option<fn(&str) -> Capabilities>,
    /// The codec per model (realtime session dialects only).
    pub codec: Option<CodecFn>,
}

impl DialectSpec {
    /// What the dialect supports for `model`, or `None` when it is not a
    /// realtime session dialect.
    pub fn capabilities(&self, model: &str) -> Option<Capabilities> {
        self.capabilities.map(|f| f(model))
    }

    /// The codec that speaks this dialect for `model`, or `None` when the
    /// dialect has no realtime session codec.
    pub fn codec(&self, model: &str) -> Option<Box<dyn RealtimeCodec>> {
        self.codec.map(|f| f(model))
    }

    /// The provider that offers it.
    pub fn provider_spec(&self) -> &'static ProviderSpec {
        provider(self.provider).unwrap_or_else(|_| {
            unreachable!("the table names providers it holds (a unit test pins this)")
        })
    }
}

impl fmt::Display for DialectSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl PartialEq for DialectSpec {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for DialectSpec {}

/// A name the registry does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No provider has this name or alias.
    #[error("unknown provider `{name}` (expected one of: {valid})")]
    UnknownProvider {
        /// The name asked for.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// No dialect has this id.
    #[error("unknown dialect `{name}` (expected one of: {valid})")]
    UnknownDialect {
        /// The id asked for.
        name: String,
        /// The valid ids, comma-separated.
        valid: String,
    },
}

/// Every provider, in table order.
pub fn providers() -> &'static [ProviderSpec] {
    table::PROVIDERS
}

/// Every dialect, in table order.
pub fn dialects() -> impl Iterator<Item = &'static DialectSpec> {
    table::DIALECTS.iter().copied()
}

/// The realtime session dialects (those with a codec), in table order.
pub fn realtime_dialects() -> impl Iterator<Item = &'static DialectSpec> {
    dialects().filter(|d| d.kind == DialectKind::RealtimeSession)
}

/// The provider called `name` (or one of its aliases), case-insensitive and
/// ignoring surrounding space.
pub fn provider(name: &str) -> Result<&'static ProviderSpec, LookupError> {
    let wanted = name.trim().to_ascii_lowercase();
    providers()
        .iter()
        .find(|p| p.name == wanted || p.aliases.contains(&wanted.as_str()))
        .ok_or_else(|| LookupError::UnknownProvider {
            name: name.trim().to_owned(),
            valid: providers()
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The dialect with id `id` (exact).
pub fn dialect(id: &str) -> Result<&'static DialectSpec, LookupError> {
    dialects()
        .find(|d| d.id == id)
        .ok_or_else(|| LookupError::UnknownDialect {
            name: id.to_owned(),
            valid: dialects().map(|d| d.id).collect::<Vec<_>>().join(", "),
        })
}

/// The codec that speaks `dialect` (a cassette header's dialect id) for
/// `model`, or `None` when the id is unknown or has no realtime codec.
pub fn codec_for_dialect(dialect_id: &str, model: &str) -> Option<Box<dyn RealtimeCodec>> {
    dialect(dialect_id).ok()?.codec(model)
}

#[cfg(test)]
mod tests;
