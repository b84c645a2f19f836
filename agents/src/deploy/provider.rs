//! Which provider serves a session: `config.model_provider` → a
//! [`Connector`] and the session defaults that suit that provider.
//!
//! Providers are the adapters' registry entries ([`ProviderSpec`]): the name
//! a session asks for is looked up there (aliases included), the provider's
//! default realtime dialect says how to connect, its default model and its
//! input transcription model. Nothing here names a provider.

use super::error::ClientFault;
use crate::realtime::Connector;
use std::collections::BTreeMap;
use std::fmt;
use understudy_adapters::registry::{self, ConnectOptions, ProviderSpec};
use understudy_adapters::{SessionConfig, TurnDetection};

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
    /// The model; `None` uses [`ProviderSpec::default_model`].
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
    default: &'static ProviderSpec,
    endpoints: BTreeMap<&'static str, ProviderEndpoint>,
}

/// What a session will run on.
pub struct ProviderChoice {
    /// The provider.
    pub provider: &'static ProviderSpec,
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
            .field("provider", &self.provider.name)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Providers {
    /// No endpoints yet; `default` is used when a session names no provider.
    pub fn new(default: &'static ProviderSpec) -> Self {
        Providers {
            default,
            endpoints: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the endpoint of `provider`.
    pub fn with(mut self, provider: &'static ProviderSpec, endpoint: ProviderEndpoint) -> Self {
        self.endpoints.insert(provider.name, endpoint);
        self
    }

    /// The provider used when the session names none.
    pub fn default_provider(&self) -> &'static ProviderSpec {
        self.default
    }

    /// The endpoint of `provider`, if configured.
    pub fn endpoint(&self, provider: &ProviderSpec) -> Option<&ProviderEndpoint> {
        self.endpoints.get(provider.name)
    }

    /// Which providers are configured (AgentScope's `/api/check-models`), in
    /// the registry's order.
    pub fn available(&self) -> Vec<&'static ProviderSpec> {
        registry::providers()
            .iter()
            .filter(|p| self.endpoints.contains_key(p.name))
            .collect()
    }

    /// Picks the provider for a session: `requested` (its `model_provider`)
    /// or the default; `model` overrides the endpoint's model.
    pub fn choose(
        &self,
        requested: Option<&str>,
        model: Option<&str>,
    ) -> Result<ProviderChoice, ClientFault> {
        let provider = match requested.map(str::trim).filter(|r| !r.is_empty()) {
            Some(name) => registry::provider(name).map_err(|error| {
                ClientFault::new(
                    "unknown_provider",
                    format!("unknown model_provider: {error}"),
                )
            })?,
            None => self.default,
        };
        let endpoint = self.endpoint(provider).ok_or_else(|| {
            ClientFault::new(
                "unknown_provider",
                format!(
                    "model_provider `{provider}` is not configured on this server (available: {})",
                    self.available()
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        // A model name can choose another of the provider's dialects
        // (`gpt-live-1` → GPT-Live); without one, the provider's default.
        let named = model.map(str::to_owned).or_else(|| endpoint.model.clone());
        let dialect = match &named {
            Some(model) => provider.realtime_for(model),
            None => provider.realtime(),
        };
        let model = named.unwrap_or_else(|| dialect.default_model.to_owned());
        let mut options = ConnectOptions::new(dialect, &endpoint.url, &model);
        if let Some(key) = &endpoint.api_key {
            options = options.api_key(key);
        }
        let session = SessionConfig {
            turn_detection: Some(TurnDetection::server_vad()),
            input_transcription: dialect.transcription_model.map(str::to_owned),
            ..SessionConfig::default()
        };
        Ok(ProviderChoice {
            provider,
            model,
            connector: Box::new(options),
            session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> &'static ProviderSpec {
        registry::provider(name).unwrap()
    }

    #[test]
    fn names_are_looked_up_and_unconfigured_providers_are_refused() {
        let providers = Providers::new(named("gemini"))
            .with(named("gemini"), ProviderEndpoint::new("ws://g"))
            .with(
                named("openai"),
                ProviderEndpoint::new("ws://o").model("gpt-x"),
            );
        let choice = providers.choose(None, None).unwrap();
        assert_eq!(
            (choice.provider.name, choice.model.as_str()),
            ("gemini", "gemini-live-2.5-flash-preview")
        );
        assert_eq!(
            choice.session.input_transcription.as_deref(),
            Some("default")
        );
        let choice = providers.choose(Some(" OpenAI "), None).unwrap();
        assert_eq!(choice.model, "gpt-x");
        assert_eq!(
            choice.session.input_transcription.as_deref(),
            Some("gpt-4o-transcribe")
        );
        // A GPT-Live model chooses GPT-Live, which has no transcription setting.
        let choice = providers
            .choose(Some("openai"), Some("gpt-live-1"))
            .unwrap();
        assert_eq!(choice.model, "gpt-live-1");
        assert_eq!(choice.session.input_transcription, None);
        let choice = providers.choose(Some("google"), Some("gpt-y")).unwrap();
        assert_eq!(
            (choice.provider.name, choice.model.as_str()),
            ("gemini", "gpt-y")
        );
        let fault = providers.choose(Some("qwen"), None).unwrap_err();
        assert_eq!(fault.code, "unknown_provider");
        assert!(
            fault.message.contains("available: openai, gemini"),
            "{}",
            fault.message
        );
        let fault = providers.choose(Some("azure"), None).unwrap_err();
        assert_eq!(fault.code, "unknown_provider");
        assert!(
            fault.message.contains("openai, dashscope, gemini"),
            "{}",
            fault.message
        );
    }
}
