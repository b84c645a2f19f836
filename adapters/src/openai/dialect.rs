//! The two OpenAI Realtime dialects and what differs between them, as data.

use crate::capabilities::{Capabilities, SessionLimits};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which shape of the OpenAI Realtime protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// The GA interface (`session.type = "realtime"`, `response.output_audio.delta`).
    Ga,
    /// The beta interface (`OpenAI-Beta: realtime=v1`, `response.audio.delta`).
    Beta,
}

/// The handshake header that selects the beta dialect.
pub const BETA_HEADER: (&str, &str) = ("openai-beta", "realtime=v1");

impl Dialect {
    /// Picks the dialect the way the hosted service does: from the `OpenAI-Beta` header.
    pub fn from_beta_header(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.split(',').any(|part| part.trim() == "realtime=v1") => Dialect::Beta,
            _ => Dialect::Ga,
        }
    }

    /// Stable name used in cassettes, reports and capabilities (`openai-ga`, `openai-beta`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Ga => "openai-ga",
            Dialect::Beta => "openai-beta",
        }
    }

    /// The registry's description of this dialect.
    pub fn spec(self) -> &'static crate::registry::DialectSpec {
        match self {
            Dialect::Ga => &crate::registry::table::OPENAI_GA,
            Dialect::Beta => &crate::registry::table::OPENAI_BETA,
        }
    }

    /// Wire name of the audio delta event.
    pub fn audio_delta(self) -> &'static str {
        match self {
            Dialect::Ga => "response.output_audio.delta",
            Dialect::Beta => "response.audio.delta",
        }
    }

    /// What this dialect supports and its limits.
    pub fn capabilities(self) -> Capabilities {
        Capabilities {
            dialect: self.name().to_owned(),
            text_input: true,
            image_input: matches!(self, Dialect::Ga),
            truncation: true,
            server_vad: true,
            manual_turns: true,
            tool_calls: true,
            response_after_tool_result: true,
            resumption: false,
            end_handshake: false,
            vad_events: true,
            session_updates: true,
            tool_call_deltas: true,
            inferred_turns: false,
            delegated_tools: false,
            continuous_input: false,
            tool_calls_non_blocking: false,
            tool_result_scheduling: false,
            interaction_status: false,
            input_sample_rate: 24_000,
            output_sample_rate: 24_000,
            limits: SessionLimits {
                session_secs: Some(match self {
                    Dialect::Ga => 60 * 60,
                    Dialect::Beta => 30 * 60,
                }),
                connection_secs: None,
                context_tokens: None,
                announces_expiry: true,
                warns_before_close: false,
            },
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown dialect name.
#[derive(Debug, thiserror::Error)]
#[error("unknown OpenAI dialect `{0}` (expected `ga`, `beta`, `openai-ga` or `openai-beta`)")]
pub struct UnknownDialect(String);

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ga" | "openai-ga" => Ok(Dialect::Ga),
            "beta" | "openai-beta" => Ok(Dialect::Beta),
            other => Err(UnknownDialect(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_header_selects_beta_and_anything_else_ga() {
        assert_eq!(
            Dialect::from_beta_header(Some("realtime=v1")),
            Dialect::Beta
        );
        assert_eq!(
            Dialect::from_beta_header(Some("assistants=v2, realtime=v1")),
            Dialect::Beta
        );
        assert_eq!(
            Dialect::from_beta_header(Some("assistants=v2")),
            Dialect::Ga
        );
        assert_eq!(Dialect::from_beta_header(None), Dialect::Ga);
    }

    #[test]
    fn names_parse_back() {
        for d in [Dialect::Ga, Dialect::Beta] {
            assert_eq!(d.name().parse::<Dialect>().unwrap(), d);
        }
        assert!("gemini".parse::<Dialect>().is_err());
    }
}
