//! Gemini text-to-speech over HTTP: `POST {base}/{version}/models/{model}:generateContent`
//! or `:streamGenerateContent?alt=sse`, with `responseModalities: ["AUDIO"]`.
//!
//! [`GeminiTts`] is a [`TtsEngine`] that synthesises every pushed text with one
//! request (see [`crate::tts::units`] for the ordering and cancel rules). The
//! audio comes back inline as base64 PCM16 whose MIME type carries the rate
//! (`audio/L16;codec=pcm;rate=24000`). The key travels in `x-goog-api-key`. A
//! failed request becomes [`TtsError::Http`] carrying Google's error envelope;
//! an error inside a stream, a blocked prompt, or an answer without audio
//! becomes [`TtsError::Provider`].
//!
//! Whether the TTS models truly stream (several audio events) or send the clip
//! in one event is unconfirmed; the adapter handles both, and
//! [`GeminiMethod::Stream`] is the default because it can only be faster.
//!
//! ```no_run
//! # async fn demo() -> Result<(), understudy_adapters::tts::TtsError> {
//! use understudy_adapters::tts::gemini_tts::GeminiTts;
//! use understudy_adapters::tts::TtsEngine as _;
//!
//! let engine = GeminiTts::builder().api_key("…").voice("Puck").build()?;
//! let mut utterance = engine.start().await?;
//! utterance.input.push("Say cheerfully: have a wonderful day!")?;
//! utterance.input.finish()?;
//! while let Some(chunk) = utterance.output.next_chunk().await {
//!     let chunk = chunk?;
//! }
//! # Ok(()) }
//! ```

pub mod decode;
pub mod wire;

#[cfg(test)]
mod tests;

pub use decode::GeminiDecoder;

use super::http::{decode_body, default_client, env_setting, is_event_stream, join_url, send};
use super::units::{spawn_units, ChunkStream, UnitSynthesizer};
use super::{BoxFuture, TtsCapabilities, TtsEngine, TtsError, Utterance};
use crate::audio::AudioFormat;
use crate::error_text::Failure;
use crate::gemini::wire::{Content, Part};
use std::sync::Arc;
use wire::{GenerateContentRequest, GenerationConfig, SpeechConfig};

/// The model used unless another is chosen.
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash-preview-tts";
/// The voice used unless another is chosen.
pub const DEFAULT_VOICE: &str = "Kore";

/// Which method synthesises each unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeminiMethod {
    /// `streamGenerateContent?alt=sse`: audio events as they are produced (default).
    #[default]
    Stream,
    /// `generateContent`: the whole clip in one JSON answer.
    Generate,
}

impl GeminiMethod {
    /// The URL suffix after the model name.
    fn suffix(self) -> &'static str {
        match self {
            GeminiMethod::Stream => ":streamGenerateContent?alt=sse",
            GeminiMethod::Generate => ":generateContent",
        }
    }
}

/// Configures a [`GeminiTts`] engine.
#[derive(Debug, Clone)]
pub struct GeminiTtsBuilder {
    base_url: Option<String>,
    api_version: String,
    api_key: Option<String>,
    model: String,
    voice: String,
    language_code: Option<String>,
    style: Option<String>,
    method: GeminiMethod,
    prefetch: usize,
    client: Option<reqwest::Client>,
}

impl Default for GeminiTtsBuilder {
    fn default() -> Self {
        GeminiTtsBuilder {
            base_url: None,
            api_version: wire::DEFAULT_API_VERSION.into(),
            api_key: None,
            model: DEFAULT_MODEL.into(),
            voice: DEFAULT_VOICE.into(),
            language_code: None,
            style: None,
            method: GeminiMethod::Stream,
            prefetch: 1,
            client: None,
        }
    }
}

impl GeminiTtsBuilder {
    /// The API base without version, e.g. `http://127.0.0.1:8765` for a mock.
    /// Default: `GOOGLE_GEMINI_BASE_URL` if set, else the public endpoint.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API version path segment (default `v1beta`).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The key, sent as `x-goog-api-key`. Default: `GEMINI_API_KEY`, else
    /// `GOOGLE_API_KEY`, else none.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The model (default [`DEFAULT_MODEL`]).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// A prebuilt voice (default [`DEFAULT_VOICE`]).
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = voice.into();
        self
    }

    /// A BCP-47 language code (`speechConfig.languageCode`), optional.
    pub fn language_code(mut self, code: impl Into<String>) -> Self {
        self.language_code = Some(code.into());
        self
    }

    /// A style direction spoken as a prefix the model follows rather than
    /// reads (Gemini TTS takes style in the prompt): `"Say calmly"` turns each
    /// unit into `"Say calmly: <text>"`.
    pub fn style(mut self, style: impl Into<String>) -> Self {
        self.style = Some(style.into());
        self
    }

    /// Which method synthesises each unit (default [`GeminiMethod::Stream`]).
    pub fn method(mut self, method: GeminiMethod) -> Self {
        self.method = method;
        self
    }

    /// How many units after the playing one are requested early (default 1).
    pub fn prefetch(mut self, units: usize) -> Self {
        self.prefetch = units;
        self
    }

    /// Use this HTTP client.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Builds the engine (fails only if the default HTTP client cannot be built).
    pub fn build(self) -> Result<GeminiTts, TtsError> {
        let client = match self.client {
            Some(client) => client,
            None => default_client()?,
        };
        let base_url = self
            .base_url
            .or_else(|| env_setting("GOOGLE_GEMINI_BASE_URL"))
            .unwrap_or_else(|| wire::DEFAULT_BASE_URL.into());
        let api_key = self
            .api_key
            .or_else(|| env_setting("GEMINI_API_KEY"))
            .or_else(|| env_setting("GOOGLE_API_KEY"));
        let path = format!(
            "{}/models/{}{}",
            self.api_version.trim_matches('/'),
            self.model,
            self.method.suffix()
        );
        Ok(GeminiTts {
            inner: Arc::new(Inner {
                client,
                url: join_url(&base_url, &path),
                api_key,
                voice: self.voice,
                language_code: self.language_code,
                style: self.style,
                method: self.method,
            }),
            prefetch: self.prefetch,
        })
    }
}

/// Gemini TTS as a [`TtsEngine`]: one request per pushed text.
#[derive(Debug, Clone)]
pub struct GeminiTts {
    inner: Arc<Inner>,
    prefetch: usize,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    url: String,
    api_key: Option<String>,
    voice: String,
    language_code: Option<String>,
    style: Option<String>,
    method: GeminiMethod,
}

impl GeminiTts {
    /// A builder with the defaults (flash TTS model, `Kore`, streamed).
    pub fn builder() -> GeminiTtsBuilder {
        GeminiTtsBuilder::default()
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The request body this engine sends for `text`.
    pub fn request_for(&self, text: &str) -> GenerateContentRequest {
        self.inner.request_for(text)
    }
}

impl Inner {
    fn request_for(&self, text: &str) -> GenerateContentRequest {
        let text = match &self.style {
            Some(style) => format!("{style}: {text}"),
            None => text.to_owned(),
        };
        let mut speech = SpeechConfig::voice(&self.voice);
        speech.language_code = self.language_code.clone();
        GenerateContentRequest {
            contents: Some(vec![Content {
                role: Some("user".into()),
                parts: Some(vec![Part {
                    text: Some(text),
                    ..Default::default()
                }]),
                extra: Default::default(),
            }]),
            generation_config: Some(GenerationConfig {
                response_modalities: Some(vec!["AUDIO".into()]),
                speech_config: Some(speech),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl UnitSynthesizer for Inner {
    fn synthesize(&self, text: String) -> BoxFuture<'static, Result<ChunkStream, TtsError>> {
        let body = match serde_json::to_vec(&self.request_for(&text)) {
            Ok(body) => body,
            Err(e) => {
                let error = TtsError::Protocol(Failure::because(e.to_string(), e));
                return Box::pin(async move { Err(error) });
            }
        };
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.api_key {
            request = request.header("x-goog-api-key", key);
        }
        let streamed = self.method == GeminiMethod::Stream;
        Box::pin(async move {
            let response = send(request).await?;
            // What was asked for, unless the Content-Type plainly says otherwise.
            let sse = if streamed {
                !is_json(&response)
            } else {
                is_event_stream(&response)
            };
            Ok(decode_body(response, GeminiDecoder::new(sse)))
        })
    }
}

/// Whether the Content-Type says the body is JSON.
fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

impl TtsEngine for GeminiTts {
    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities {
            incremental_text: false,
            output: AudioFormat::pcm16(wire::SAMPLE_RATE),
        }
    }

    fn start(&self) -> BoxFuture<'_, Result<Utterance, TtsError>> {
        let inner = self.inner.clone();
        let prefetch = self.prefetch;
        Box::pin(async move { Ok(spawn_units(inner, prefetch)) })
    }
}
