//! Which provider serves a session: `config.model_provider` → a
//! [`Connector`] and the session defaults that suit that provider.

use super::error::ClientFault;
use crate::realtime::Connector;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use understudy_adapters::{dashscope, gemini, openai, SessionConfig, TurnDetection};

/// The providers a session can ask for with `model_provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderKind {
    /// OpenAI Realtime (GA dialect).
    OpenAi,
    /// DashScope Qwen-Omni realtime.
    DashScope,
    /// Gemini Live.
    Gemini,
}

impl ProviderKind {
    /// All of them.
    pub const ALL: [ProviderKind; 3] = [
        ProviderKind::OpenAi,
        ProviderKind::DashScope,
        ProviderKind::Gemini,
    ];

    /// The name used in `model_provider` (and on the command line).
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::DashScope => "dashscope",
            ProviderKind::Gemini => "gemini",
        }
    }

    /// The model used when neither the endpoint nor the session names one.
    pub fn default_model(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "gpt-realtime",
            ProviderKind::DashScope => "qwen3-omni-flash-realtime",
            ProviderKind::Gemini => "gemini-live-2.5-flash-preview",
        }
    }

    /// The input transcription model asked for, so that the front end gets
    /// `agent_input_transcription_*` events.
    fn transcription_model(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "gpt-4o-transcribe",
            ProviderKind::DashScope => "gummy-realtime-v1",
            ProviderKind::Gemini => "default",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProviderKind {
    type Err = String;

    /// Case-insensitive; `qwen` / `google` are taken as aliases.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(ProviderKind::OpenAi),
            "dashscope" | "qwen" => Ok(ProviderKind::DashScope),
            "gemini" | "google" => Ok(ProviderKind::Gemini),
            other => Err(format!(
                "unknown model_provider `{other}` (expected openai, dashscope or gemini)"
            )),
        }
    }
}

/// Where one provider is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEndpoint {
    /// The adapter's URL: OpenAI's WebSocket base up to the version
    /// (`wss://api.openai.com/v1`), DashScope's realtime endpoint
    /// (`wss://dashscope.aliyuncs.com/api-ws/v1/realtime`), Gemini's base
    /// (`wss://generativelanguage.googleapis.com`).
    pub url: String,
    /// The API key, if the endpoint wants one.
    pub api_key: Option<String>,
    /// The model; `None` uses [`ProviderKind::default_model`].
    pub model: Option<String>,
}

impl ProviderEndpoint {
    /// An endpoint at `url` with no key and the default model.
    pub fn new(url: impl Into<String>) -> Self {
        ProviderEndpoint {
            url: url.into(),
            api_key: None,
            model: None,
        }
    }

    /// With this key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// With this model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

/// The providers a deployment server can use and the one it picks when the
/// session does not say.
#[derive(Debug, Clone)]
pub struct Providers {
    default: ProviderKind,
    endpoints: BTreeMap<ProviderKind, ProviderEndpoint>,
}

/// What a session will run on.
pub struct ProviderChoice {
    /// The provider.
    pub kind: ProviderKind,
    /// The model asked for.
    pub model: String,
    /// How to reach it.
    pub connector: Box<dyn Connector>,
    /// Session defaults for it (server VAD, input transcription).
    pub session: SessionConfig,
}

impl fmt::Debug for ProviderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderChoice")
            .field("kind", &self.kind)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Providers {
    /// No endpoints yet; `default` is used when a session names no provider.
    pub fn new(default: ProviderKind) -> Self {
        Providers {
            default,
            endpoints: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the endpoint of `kind`.
    pub fn with(mut self, kind: ProviderKind, endpoint: ProviderEndpoint) -> Self {
        self.endpoints.insert(kind, endpoint);
        self
    }

    /// The provider used when the session names none.
    pub fn default_kind(&self) -> ProviderKind {
        self.default
    }

    /// The endpoint of `kind`, if configured.
    pub fn endpoint(&self, kind: ProviderKind) -> Option<&ProviderEndpoint> {
        self.endpoints.get(&kind)
    }

    /// Which providers are configured (AgentScope's `/api/check-models`).
    pub fn available(&self) -> Vec<ProviderKind> {
        self.endpoints.keys().copied().collect()
    }

    /// Picks the provider for a session: `requested` (its `model_provider`)
    /// or the default; `model` overrides the endpoint's model.
    pub fn choose(
        &self,
        requested: Option<&str>,
        model: Option<&str>,
    ) -> Result<ProviderChoice, ClientFault> {
        let kind = match requested.map(str::trim).filter(|r| !r.is_empty()) {
            Some(name) => name
                .parse::<ProviderKind>()
                .map_err(|message| ClientFault::new("unknown_provider", message))?,
            None => self.default,
        };
        let endpoint = self.endpoints.get(&kind).ok_or_else(|| {
            ClientFault::new(
                "unknown_provider",
                format!(
                    "model_provider `{kind}` is not configured on this server (available: {})",
                    self.available()
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let model = model
            .map(str::to_owned)
            .or_else(|| endpoint.model.clone())
            .unwrap_or_else(|| kind.default_model().to_owned());
        let connector: Box<dyn Connector> = match kind {
            ProviderKind::OpenAi => {
                let mut options =
                    openai::ConnectOptions::new(&endpoint.url, openai::Dialect::Ga, &model);
                if let Some(key) = &endpoint.api_key {
                    options = options.api_key(key);
                }
                Box::new(options)
            }
            ProviderKind::DashScope => {
                let mut options = dashscope::ConnectOptions::new(&endpoint.url, &model);
                if let Some(key) = &endpoint.api_key {
                    options = options.api_key(key);
                }
                Box::new(options)
            }
            ProviderKind::Gemini => {
                let mut options = gemini::ConnectOptions::new(&endpoint.url, &model);
                if let Some(key) = &endpoint.api_key {
                    options = options.api_key(key);
                }
                Box::new(options)
            }
        };
        let session = SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            input_transcription: Some(kind.transcription_model().into()),
            ..SessionConfig::default()
        };
        Ok(ProviderChoice {
            kind,
            model,
            connector,
            session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unconfigured_providers_are_refused() {
        assert_eq!("OpenAI".parse(), Ok(ProviderKind::OpenAi));
        assert_eq!(" qwen ".parse(), Ok(ProviderKind::DashScope));
        assert_eq!("google".parse(), Ok(ProviderKind::Gemini));
        assert!("azure".parse::<ProviderKind>().is_err());

        let providers = Providers::new(ProviderKind::Gemini)
            .with(ProviderKind::Gemini, ProviderEndpoint::new("ws://g"))
            .with(
                ProviderKind::OpenAi,
                ProviderEndpoint::new("ws://o").model("gpt-x"),
            );
        let choice = providers.choose(None, None).unwrap();
        assert_eq!(
            (choice.kind, choice.model.as_str()),
            (ProviderKind::Gemini, "gemini-live-2.5-flash-preview")
        );
        let choice = providers.choose(Some("openai"), None).unwrap();
        assert_eq!(choice.model, "gpt-x");
        let choice = providers.choose(Some("openai"), Some("gpt-y")).unwrap();
        assert_eq!(choice.model, "gpt-y");
        let fault = providers.choose(Some("dashscope"), None).unwrap_err();
        assert_eq!(fault.code, "unknown_provider");
        assert!(
            fault.message.contains("available: openai, gemini"),
            "{}",
            fault.message
        );
        assert_eq!(
            providers.choose(Some("azure"), None).unwrap_err().code,
            "unknown_provider"
        );
    }
}
