//! OpenAI text-to-speech over HTTP: `POST {base}/audio/speech`.
//!
//! [`OpenAiSpeech`] is a [`TtsEngine`] that synthesises every pushed text with
//! one request (see [`crate::tts::units`] for the ordering and cancel rules).
//! It asks for `pcm` (raw 24 kHz PCM16) or `wav` (the header is stripped as it
//! streams in and gives the rate), and reads the body as it arrives, either as
//! the audio bytes themselves (`stream_format: "audio"`, chunked) or as
//! server-sent events (`stream_format: "sse"`, base64 in `speech.audio.delta`).
//! A failed request becomes [`TtsError::Http`] carrying OpenAI's error envelope;
//! an error event inside a stream becomes [`TtsError::Provider`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), understudy_adapters::tts::TtsError> {
//! use understudy_adapters::tts::openai_speech::OpenAiSpeech;
//! use understudy_adapters::tts::TtsEngine as _;
//!
//! let engine = OpenAiSpeech::builder().api_key("sk-…").voice("coral").build()?;
//! let mut utterance = engine.start().await?;
//! utterance.input.push("Hello there.")?;
//! utterance.input.finish()?;
//! while let Some(chunk) = utterance.output.next_chunk().await {
//!     let chunk = chunk?; // PCM16 mono, chunk.format.sample_rate Hz
//! }
//! # Ok(()) }
//! ```

pub mod decode;
pub mod wire;

#[cfg(test)]
mod tests;

pub use decode::{SpeechDecoder, SpeechFormat};

use super::http::{decode_body, default_client, env_setting, is_event_stream, join_url, send};
use super::units::{spawn_units, ChunkStream, UnitSynthesizer};
use super::{BoxFuture, TtsCapabilities, TtsEngine, TtsError, Utterance};
use crate::audio::AudioFormat;
use crate::error_text::Failure;
use std::sync::Arc;
use wire::{ResponseFormat, SpeechRequest, StreamFormat, Voice};

/// The public API base.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The model used unless another is chosen.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini-tts";
/// The voice used unless another is chosen.
pub const DEFAULT_VOICE: &str = "alloy";

/// How the answer's body is streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpeechStreaming {
    /// The audio file itself, read as it arrives (`stream_format: "audio"`,
    /// the default; works with every model).
    #[default]
    Audio,
    /// Server-sent events (`stream_format: "sse"`; not for `tts-1*`).
    Sse,
}

/// Configures an [`OpenAiSpeech`] engine.
#[derive(Debug, Clone)]
pub struct OpenAiSpeechBuilder {
    base_url: Option<String>,
    api_key: Option<String>,
    model: String,
    voice: Voice,
    format: SpeechFormat,
    streaming: SpeechStreaming,
    instructions: Option<String>,
    speed: Option<f64>,
    prefetch: usize,
    client: Option<reqwest::Client>,
}

impl Default for OpenAiSpeechBuilder {
    fn default() -> Self {
        OpenAiSpeechBuilder {
            base_url: None,
            api_key: None,
            model: DEFAULT_MODEL.into(),
            voice: Voice::Named(DEFAULT_VOICE.into()),
            format: SpeechFormat::Pcm,
            streaming: SpeechStreaming::Audio,
            instructions: None,
            speed: None,
            prefetch: 1,
            client: None,
        }
    }
}

impl OpenAiSpeechBuilder {
    /// The API base, e.g. `http://127.0.0.1:8765/v1` for a mock. Default:
    /// `OPENAI_BASE_URL` if set, else [`DEFAULT_BASE_URL`] (as the official SDK does).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The bearer key. Default: `OPENAI_API_KEY` if set, else no `Authorization` header.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The model (default [`DEFAULT_MODEL`]).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// A built-in voice by name (default [`DEFAULT_VOICE`]).
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Voice::Named(voice.into());
        self
    }

    /// A custom voice by id (`voice_…`).
    pub fn custom_voice(mut self, id: impl Into<String>) -> Self {
        self.voice = Voice::Custom { id: id.into() };
        self
    }

    /// The audio container asked for (default [`SpeechFormat::Pcm`]).
    pub fn format(mut self, format: SpeechFormat) -> Self {
        self.format = format;
        self
    }

    /// How the body is streamed (default [`SpeechStreaming::Audio`]).
    pub fn streaming(mut self, streaming: SpeechStreaming) -> Self {
        self.streaming = streaming;
        self
    }

    /// A style prompt (`instructions`; ignored by `tts-1*`).
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Speaking speed, 0.25–4.0 (omitted unless set; the service defaults to 1.0).
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// How many units after the playing one are requested early (default 1;
    /// 0 requests each unit only when the previous one has finished).
    pub fn prefetch(mut self, units: usize) -> Self {
        self.prefetch = units;
        self
    }

    /// Use this HTTP client (proxies, custom roots, timeouts).
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Builds the engine (fails only if the default HTTP client cannot be built).
    pub fn build(self) -> Result<OpenAiSpeech, TtsError> {
        let client = match self.client {
            Some(client) => client,
            None => default_client()?,
        };
        let base_url = self
            .base_url
            .or_else(|| env_setting("OPENAI_BASE_URL"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.into());
        let api_key = self.api_key.or_else(|| env_setting("OPENAI_API_KEY"));
        Ok(OpenAiSpeech {
            inner: Arc::new(Inner {
                client,
                url: join_url(&base_url, wire::PATH),
                api_key,
                model: self.model,
                voice: self.voice,
                format: self.format,
                streaming: self.streaming,
                instructions: self.instructions,
                speed: self.speed,
            }),
            prefetch: self.prefetch,
        })
    }
}

/// OpenAI `audio/speech` as a [`TtsEngine`]: one request per pushed text.
#[derive(Debug, Clone)]
pub struct OpenAiSpeech {
    inner: Arc<Inner>,
    prefetch: usize,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    url: String,
    api_key: Option<String>,
    model: String,
    voice: Voice,
    format: SpeechFormat,
    streaming: SpeechStreaming,
    instructions: Option<String>,
    speed: Option<f64>,
}

impl OpenAiSpeech {
    /// A builder with the defaults (`gpt-4o-mini-tts`, `alloy`, `pcm`, streamed audio).
    pub fn builder() -> OpenAiSpeechBuilder {
        OpenAiSpeechBuilder::default()
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The request body this engine sends for `text`.
    pub fn request_for(&self, text: &str) -> SpeechRequest {
        self.inner.request_for(text)
    }
}

impl Inner {
    fn request_for(&self, text: &str) -> SpeechRequest {
        SpeechRequest {
            model: self.model.clone(),
            input: text.to_owned(),
            voice: self.voice.clone(),
            instructions: self.instructions.clone(),
            response_format: Some(match self.format {
                SpeechFormat::Pcm => ResponseFormat::Pcm,
                SpeechFormat::Wav => ResponseFormat::Wav,
            }),
            speed: self.speed,
            stream_format: match self.streaming {
                SpeechStreaming::Audio => None,
                SpeechStreaming::Sse => Some(StreamFormat::Sse),
            },
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
        let accept = match self.streaming {
            SpeechStreaming::Audio => "application/octet-stream",
            SpeechStreaming::Sse => "text/event-stream",
        };
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, accept)
            .body(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let format = self.format;
        let asked_sse = self.streaming == SpeechStreaming::Sse;
        Box::pin(async move {
            let response = send(request).await?;
            // What was asked for, unless the Content-Type plainly says otherwise.
            let sse = if asked_sse {
                !is_audio_type(&response)
            } else {
                is_event_stream(&response)
            };
            tracing::debug!(status = response.status().as_u16(), sse, "speech answer");
            Ok(decode_body(response, SpeechDecoder::new(format, sse)))
        })
    }
}

/// Whether the Content-Type says the body is audio bytes.
fn is_audio_type(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start().to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("audio/") || v.starts_with("application/octet-stream"))
}

impl TtsEngine for OpenAiSpeech {
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
