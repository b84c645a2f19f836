//! OpenAI GPT-Live (`/v1/live/sessions`): wire types, the sans-IO codec and
//! its capabilities.
//!
//! GPT-Live is OpenAI's full-duplex voice protocol. It is not a dialect of
//! the Realtime API: different URL, first frame (`session.start`), event
//! vocabulary and tool model (delegation), so it lives in its own folder
//! rather than in [`openai`](crate::openai), whose GA/beta types and
//! [`openai::Dialect`](crate::openai::Dialect) switch share nothing with it.
//! The provider is the same (`openai` in the registry).

pub mod wire;

/// The dialect id cassettes, journals and the registry use.
pub const DIALECT: &str = "openai-live";
