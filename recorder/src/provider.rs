//! Which provider a recording is for.

use std::fmt;
use std::str::FromStr;

/// The provider whose protocols the recorder forwards; it names the cassettes'
/// `provider` and picks which fields hold audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI: Realtime (GA and beta), audio/speech, chat completions.
    OpenAi,
    /// Google Gemini: Live API, generateContent TTS.
    Gemini,
    /// Alibaba DashScope: Qwen-Omni and Qwen-TTS realtime, compatible-mode chat.
    DashScope,
}

impl Provider {
    /// The provider's name as cassettes spell it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
            Provider::DashScope => "dashscope",
        }
    }

    /// Environment variables the provider's SDKs read their key from; the
    /// recorder scrubs their values by default when they are set.
    pub fn key_env_vars(self) -> &'static [&'static str] {
        match self {
            Provider::OpenAi => &["OPENAI_API_KEY"],
            Provider::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
            Provider::DashScope => &["DASHSCOPE_API_KEY"],
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown provider name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider {0:?} (expected openai, gemini or dashscope)")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "openai" => Ok(Provider::OpenAi),
            "gemini" | "google" => Ok(Provider::Gemini),
            "dashscope" | "qwen" | "alibaba" => Ok(Provider::DashScope),
            _ => Err(UnknownProvider(s.to_owned())),
        }
    }
}
