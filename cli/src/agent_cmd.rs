//! `understudy agent`: the deployment server (AgentScope's front-end event
//! vocabulary over WebSocket) with one realtime agent per session.

use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use understudy_adapters::registry::{self, ProviderSpec};
use understudy_agents::deploy::{DeployConfig, DeployServer, ProviderEndpoint, Providers};
use understudy_mock::{JournalMode, MockServer, ResponderConfig};

/// Looks a provider up in the adapters' registry (aliases included).
fn parse_provider(name: &str) -> Result<&'static ProviderSpec, String> {
    registry::provider(name).map_err(|e| e.to_string())
}

/// Arguments of `understudy agent` (documented on the subcommand).
#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// Port to listen on (0 picks a free one; the URL is printed on the first line).
    /// Each command has its own default (serve 8765, record 8766, agent 8767) so
    /// all three can run side by side.
    #[arg(long, default_value_t = 8767)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Provider for sessions whose `config.model_provider` is absent.
    #[arg(long, value_parser = parse_provider, default_value = "openai")]
    provider: &'static ProviderSpec,

    /// OpenAI WebSocket base up to the version, e.g. wss://api.openai.com/v1
    /// (`/realtime?model=` is appended). Absent: the in-process mock.
    #[arg(long, value_name = "URL")]
    openai_url: Option<String>,
    /// OpenAI API key.
    #[arg(
        long,
        value_name = "KEY",
        env = "OPENAI_API_KEY",
        hide_env_values = true
    )]
    openai_key: Option<String>,
    /// OpenAI model [default: gpt-realtime].
    #[arg(long, value_name = "MODEL")]
    openai_model: Option<String>,

    /// DashScope realtime endpoint, e.g. wss://dashscope.aliyuncs.com/api-ws/v1/realtime
    /// (`?model=` is appended). Absent: the in-process mock.
    #[arg(long, value_name = "URL")]
    dashscope_url: Option<String>,
    /// DashScope API key.
    #[arg(
        long,
        value_name = "KEY",
        env = "DASHSCOPE_API_KEY",
        hide_env_values = true
    )]
    dashscope_key: Option<String>,
    /// DashScope model [default: qwen3-omni-flash-realtime].
    #[arg(long, value_name = "MODEL")]
    dashscope_model: Option<String>,

    /// Gemini base URL, e.g. wss://generativelanguage.googleapis.com (the Live
    /// path is appended). Absent: the in-process mock.
    #[arg(long, value_name = "URL")]
    gemini_url: Option<String>,
    /// Gemini API key.
    #[arg(
        long,
        value_name = "KEY",
        env = "GEMINI_API_KEY",
        hide_env_values = true
    )]
    gemini_key: Option<String>,
    /// Gemini model [default: gemini-live-2.5-flash-preview].
    #[arg(long, value_name = "MODEL")]
    gemini_model: Option<String>,

    /// Timing factor of the in-process mock: 2 answers twice as fast.
    #[arg(long, default_value_t = 1.0, value_parser = crate::options::speed)]
    mock_speed: f64,
    /// Longest wait for a provider when a session is created, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0, value_parser = crate::options::seconds)]
    connect_timeout: f64,
    /// Require this key of front ends (repeatable): `Authorization: Bearer KEY`,
    /// `?token=KEY` in the socket URL, or the subprotocols `understudy` and
    /// `understudy-key.KEY` (a browser's `new WebSocket(url, [...])`). A missing
    /// or wrong key gets 401 at the upgrade. Default: no auth.
    #[arg(
        long = "api-key",
        value_name = "KEY",
        env = "UNDERSTUDY_AGENT_KEY",
        hide_env_values = true
    )]
    api_keys: Vec<String>,
    #[command(flatten)]
    limits: crate::limit_args::LimitArgs,
}

struct ProviderArgs<'a> {
    provider: &'static ProviderSpec,
    url: Option<&'a str>,
    key: Option<&'a str>,
    model: Option<&'a str>,
}

impl AgentArgs {
    /// The per-provider flags, each group with the registry entry it is for.
    fn providers(&self) -> Result<[ProviderArgs<'_>; 3]> {
        Ok([
            ProviderArgs {
                provider: registry::provider("openai")?,
                url: self.openai_url.as_deref(),
                key: self.openai_key.as_deref(),
                model: self.openai_model.as_deref(),
            },
            ProviderArgs {
                provider: registry::provider("dashscope")?,
                url: self.dashscope_url.as_deref(),
                key: self.dashscope_key.as_deref(),
                model: self.dashscope_model.as_deref(),
            },
            ProviderArgs {
                provider: registry::provider("gemini")?,
                url: self.gemini_url.as_deref(),
                key: self.gemini_key.as_deref(),
                model: self.gemini_model.as_deref(),
            },
        ])
    }
}

pub async fn run(args: AgentArgs) -> Result<()> {
    let needs_mock = args.providers()?.iter().any(|p| p.url.is_none());
    // The in-process mock serves every agent user's conversation: it keeps no
    // journal, and it takes only a key minted here and given to the agent's
    // own provider endpoints, so nobody else who can reach its port can read
    // a session, attach a sideband or fork a stored one.
    let mock_key = mint_key();
    let mock = if needs_mock {
        let voice = understudy_mock::bundled_voice().context("loading the bundled voice")?;
        Some(
            MockServer::builder()
                .respond(ResponderConfig::with_voice(voice))
                .speed(args.mock_speed)
                .journal(JournalMode::Off)
                .require_auth(vec![mock_key.clone()])
                .start()
                .await
                .context("starting the in-process mock")?,
        )
    } else {
        None
    };
    let mut providers = Providers::new(args.provider);
    let mut lines = Vec::new();
    for p in args.providers()? {
        let (url, real) = match (p.url, &mock) {
            (Some(url), _) => (url.to_owned(), true),
            (None, Some(mock)) => (
                p.provider
                    .realtime()
                    .connect
                    .base_url_at(&mock.url().replacen("http://", "ws://", 1)),
                false,
            ),
            (None, None) => unreachable!("the mock runs when a URL is missing"),
        };
        let mut endpoint = ProviderEndpoint::new(&url);
        // The mock takes only its minted key; a real provider gets the one given.
        if !real {
            endpoint = endpoint.api_key(&mock_key);
        } else if let Some(key) = p.key.filter(|k| !k.is_empty()) {
            endpoint = endpoint.api_key(key);
        }
        if let Some(model) = p.model {
            endpoint = endpoint.model(model);
        }
        let model = p.model.unwrap_or(p.provider.default_model());
        let default = if p.provider == providers.default_provider() {
            " (default)"
        } else {
            ""
        };
        lines.push(if real {
            format!(
                "  {:<10} {url} model {model}{}{default}",
                format!("{}:", p.provider),
                if endpoint.api_key.is_some() {
                    ", key set"
                } else {
                    ", no key"
                }
            )
        } else {
            format!(
                "  {:<10} in-process mock {url} model {model}{default}",
                format!("{}:", p.provider)
            )
        });
        if !real && p.key.is_some_and(|k| !k.is_empty()) {
            eprintln!(
                "note: a {} key is set but no --{}-url: sessions on {} use the in-process mock",
                p.provider, p.provider, p.provider
            );
        }
        providers = providers.with(p.provider, endpoint);
    }
    let mut config = DeployConfig::new(providers);
    config.connect_timeout = Duration::from_secs_f64(args.connect_timeout);
    // The agent server reads no request bodies: no body timeout.
    config.gate = understudy_agents::deploy::Gate {
        keys: args.api_keys.clone(),
        slots: understudy_adapters::serve_limits::SessionSlots::new(args.limits.max_sessions),
        timeouts: args.limits.timeouts(None),
    };
    if let Some(warning) = crate::options::exposure_warning(
        args.host,
        "The agent route takes sessions without a key, and each session talks to the \
         providers with the keys this process holds.",
    ) {
        eprintln!("{warning}");
    }
    let server = DeployServer::start(SocketAddr::new(args.host, args.port), config)
        .await
        .context("starting the deployment server")?;
    let mut banner = format!("understudy agent serving on {}\n", server.url());
    banner.push_str(&format!(
        "  route:     {}/ws/{{user_id}}/{{session_id}}\n",
        server.url()
    ));
    for line in lines {
        banner.push_str(&line);
        banner.push('\n');
    }
    crate::announce_and_wait(&banner).await?;
    eprintln!("shutting down");
    server.shutdown().await;
    if let Some(mock) = mock {
        mock.shutdown().await;
    }
    Ok(())
}

/// A fresh 128-bit key for the in-process mock, from the standard library's
/// OS-seeded hasher keys (no key a user could guess or reuse).
fn mint_key() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        hasher.finish()
    };
    format!("understudy-agent-{:016x}{:016x}", half(), half())
}
