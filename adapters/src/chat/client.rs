//! The HTTP transport around the sans-IO decoder: `reqwest` (rustls with the
//! ring provider, no OpenSSL) posting a request and streaming the SSE answer.
//!
//! ```no_run
//! # async fn demo() -> Result<(), understudy_adapters::chat::ChatError> {
//! use futures_util::StreamExt;
//! use understudy_adapters::chat::{ChatClient, ChatEvent, ChatRequest, Message};
//!
//! let client = ChatClient::builder()
//!     .base_url("https://api.openai.com/v1")
//!     .api_key("sk-…")
//!     .model("gpt-audio-mini")
//!     .build()?;
//! let request = ChatRequest::new("", vec![Message::user("Say hello.")]).with_audio("alloy", "pcm16");
//! let mut stream = client.stream(request).await?;
//! while let Some(event) = stream.next().await {
//!     match event?.event {
//!         ChatEvent::AudioDelta { pcm, .. } => { /* play it */ }
//!         ChatEvent::TranscriptDelta { text, .. } => print!("{text}"),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Request-level failures are retried the way the official SDKs do (408, 409,
//! 429 and 5xx; twice by default; `retry-after-ms` / `retry-after` honoured up
//! to 120 s, `x-should-retry` obeyed). Nothing is retried once a stream has
//! started.

use super::decode::ChatStreamDecoder;
use super::dialect::ChatDialect;
use super::error::ChatError;
use super::event::{ChatEvent, TimedChatEvent};
use super::request::ChatRequest;
use crate::error_text::Failure;
use futures_util::stream::{self, Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// Longest provider-requested wait the client honours before retrying.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Most of an error body quoted in [`ChatError::Http`].
const ERROR_BODY_QUOTE: usize = 400;

/// Configures a [`ChatClient`].
#[derive(Debug, Clone, Default)]
pub struct ChatClientBuilder {
    base_url: Option<String>,
    api_key: Option<String>,
    model: Option<String>,
    dialect: Option<ChatDialect>,
    headers: Vec<(String, String)>,
    max_retries: Option<u32>,
    timeout: Option<Duration>,
    http: Option<reqwest::Client>,
}

impl ChatClientBuilder {
    /// The API base, e.g. `https://api.openai.com/v1` or
    /// `https://dashscope-intl.aliyuncs.com/compatible-mode/v1`; the client
    /// posts to `{base}/chat/completions`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The bearer key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The model used when a request leaves `model` empty.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The dialect (default: guessed from the base URL, see [`ChatDialect::from_base_url`]).
    pub fn dialect(mut self, dialect: ChatDialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// A header sent with every request (`OpenAI-Organization`, a gateway's key, …).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How many times a failed request is retried (default 2, as the SDKs do).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Connect timeout (default 10 s). The stream itself has no overall timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Use this `reqwest` client (its TLS and proxy settings) instead of a new one.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<ChatClient, ChatError> {
        let base = self
            .base_url
            .ok_or_else(|| ChatError::Config("a base URL is required".into()))?;
        let parsed = url::Url::parse(&base)
            .map_err(|e| ChatError::Config(format!("base URL `{base}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ChatError::Config(format!(
                "base URL `{base}`: expected http or https"
            )));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ChatError::Config(format!("header name `{name}`: {e}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| ChatError::Config(format!("header `{name}` value: {e}")))?;
            headers.insert(name, value);
        }
        if let Some(key) = &self.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|e| ChatError::Config(format!("API key: {e}")))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeout.unwrap_or(Duration::from_secs(10)))
                .build()
                .map_err(|e| ChatError::Config(format!("HTTP client: {e}")))?,
        };
        let dialect = self
            .dialect
            .unwrap_or_else(|| ChatDialect::from_base_url(&base));
        Ok(ChatClient {
            endpoint: format!("{}/chat/completions", base.trim_end_matches('/')),
            http,
            headers,
            model: self.model.unwrap_or_default(),
            dialect,
            max_retries: self.max_retries.unwrap_or(2),
        })
    }
}

/// A chat-completions client for one endpoint and key.
#[derive(Debug, Clone)]
pub struct ChatClient {
    endpoint: String,
    http: reqwest::Client,
    headers: HeaderMap,
    model: String,
    dialect: ChatDialect,
    max_retries: u32,
}

impl ChatClient {
    /// A builder.
    pub fn builder() -> ChatClientBuilder {
        ChatClientBuilder::default()
    }

    /// The dialect this client speaks.
    pub fn dialect(&self) -> ChatDialect {
        self.dialect
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The request as it will be sent: default model filled in and the
    /// dialect's streaming rules applied ([`ChatDialect::prepare_stream`]).
    pub fn prepare(&self, mut request: ChatRequest) -> Result<ChatRequest, ChatError> {
        if request.model.is_empty() {
            if self.model.is_empty() {
                return Err(ChatError::InvalidRequest(
                    "no model: set one on the request or the client".into(),
                ));
            }
            request.model = self.model.clone();
        }
        self.dialect.prepare_stream(&mut request)?;
        Ok(request)
    }

    /// Sends `request` as a stream and returns the normalised events as they
    /// arrive. Fails here if the request is refused (after retries); errors
    /// during the stream come as its last item.
    pub async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ChatError> {
        let request = self.prepare(request)?;
        let audio_output = request.wants_audio();
        let body = serde_json::to_vec(&request)
            .map_err(|e| ChatError::InvalidRequest(format!("cannot serialise: {e}")))?;
        let mut attempt = 0;
        loop {
            let sent_at = Instant::now();
            debug!(endpoint = %self.endpoint, model = %request.model, attempt, "chat completions request");
            let response = self
                .http
                .post(&self.endpoint)
                .headers(self.headers.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                // The official SDKs number their attempts this way; mocks and
                // journals use it to tell a retry from a new request.
                .header("x-stainless-retry-count", attempt.to_string())
                .body(body.clone())
                .send()
                .await
                .map_err(|e| ChatError::Transport(Failure::of(e)))?;
            let headers_at = Instant::now();
            let status = response.status();
            if status.is_success() {
                let content_type = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !content_type.starts_with("text/event-stream") {
                    warn!(
                        content_type,
                        "stream answered without text/event-stream; parsed as SSE anyway"
                    );
                }
                let decoder = ChatStreamDecoder::new(self.dialect, audio_output);
                return Ok(ChatStream::new(response, decoder, sent_at, headers_at));
            }
            let retry_after = retry_after(response.headers());
            let should_retry = should_retry(status.as_u16(), response.headers());
            let text = response.text().await.unwrap_or_default();
            let error = self.error_from_body(status.as_u16(), &text, retry_after);
            if attempt < self.max_retries && should_retry {
                let wait = retry_after
                    .filter(|d| *d <= MAX_RETRY_AFTER)
                    .unwrap_or_else(|| backoff(attempt));
                if retry_after.is_some_and(|d| d > MAX_RETRY_AFTER) {
                    return Err(error);
                }
                warn!(%error, ?wait, attempt, "chat completions request failed; retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Err(error);
        }
    }

    fn error_from_body(&self, status: u16, text: &str, retry_after: Option<Duration>) -> ChatError {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|body| {
                ChatError::from_envelope(self.dialect, Some(status), &body, retry_after)
            })
            .unwrap_or_else(|| ChatError::Http {
                status,
                body: text.chars().take(ERROR_BODY_QUOTE).collect(),
            })
    }
}

/// The retry decision the SDKs make: `x-should-retry` wins; else 408, 409, 429, 5xx.
fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429) || status >= 500,
    }
}

/// `retry-after-ms`, else `retry-after` in seconds (HTTP dates are not honoured).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

/// 0.5 s, 1 s, 2 s, … capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(4)).min(8_000))
}

type EventStream = Pin<Box<dyn Stream<Item = Result<TimedChatEvent, ChatError>> + Send>>;

/// A streamed answer: normalised events, each stamped with when its bytes
/// arrived. Ends after [`ChatEvent::Done`] or after the first error.
pub struct ChatStream {
    inner: EventStream,
    sent_at: Instant,
    headers_at: Instant,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("sent_at", &self.sent_at)
            .field("headers_at", &self.headers_at)
            .finish_non_exhaustive()
    }
}

struct Pump {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    decoder: ChatStreamDecoder,
    ready: VecDeque<Result<TimedChatEvent, ChatError>>,
    finished: bool,
}

impl Pump {
    /// Reads network chunks until there is something to hand out or the body ends.
    async fn next(mut self) -> Option<(Result<TimedChatEvent, ChatError>, Pump)> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some((item, self));
            }
            if self.finished {
                return None;
            }
            let mut events = Vec::new();
            let outcome = match self.body.next().await {
                Some(Ok(bytes)) => self.decoder.push(&bytes, &mut events),
                Some(Err(e)) => Err(ChatError::Transport(Failure::of(e))),
                None => {
                    self.finished = true;
                    self.decoder.finish(&mut events)
                }
            };
            let received_at = Instant::now();
            self.ready.extend(
                events
                    .into_iter()
                    .map(|event| Ok(TimedChatEvent { event, received_at })),
            );
            if let Err(error) = outcome {
                self.ready.push_back(Err(error));
                self.finished = true;
            }
            if self.decoder.is_ended() {
                self.finished = true;
            }
        }
    }
}

impl ChatStream {
    fn new(
        response: reqwest::Response,
        decoder: ChatStreamDecoder,
        sent_at: Instant,
        headers_at: Instant,
    ) -> Self {
        let pump = Pump {
            body: Box::pin(response.bytes_stream()),
            decoder,
            ready: VecDeque::new(),
            finished: false,
        };
        ChatStream {
            inner: Box::pin(stream::unfold(pump, Pump::next)),
            sent_at,
            headers_at,
        }
    }

    /// When the (last attempt of the) request was sent.
    pub fn sent_at(&self) -> Instant {
        self.sent_at
    }

    /// When the response headers arrived.
    pub fn headers_at(&self) -> Instant {
        self.headers_at
    }

    /// Reads the whole stream into a [`ChatAnswer`].
    pub async fn collect_answer(mut self) -> Result<ChatAnswer, ChatError> {
        let mut answer = ChatAnswer {
            sent_at: Some(self.sent_at),
            ..Default::default()
        };
        while let Some(item) = self.next().await {
            answer.absorb(item?);
        }
        Ok(answer)
    }
}

impl Stream for ChatStream {
    type Item = Result<TimedChatEvent, ChatError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// A whole answer, gathered from its events (tests, simple callers).
#[derive(Debug, Clone, Default)]
pub struct ChatAnswer {
    /// Concatenated [`ChatEvent::TextDelta`]s.
    pub text: String,
    /// Concatenated [`ChatEvent::TranscriptDelta`]s.
    pub transcript: String,
    /// All audio, PCM16.
    pub pcm: crate::audio::Pcm,
    /// The audio's format, if there was audio.
    pub format: Option<crate::audio::AudioFormat>,
    /// Completed tool calls: `(call_id, name, arguments)`.
    pub tool_calls: Vec<(String, String, String)>,
    /// Every event, in order.
    pub events: Vec<ChatEvent>,
    /// The final [`ChatEvent::Done`] fields.
    pub finish_reason: Option<super::chunk::FinishReason>,
    /// Usage, when sent.
    pub usage: Option<crate::event::Usage>,
    /// The spoken answer's id and expiry.
    pub audio: Option<super::event::AudioInfo>,
    /// When the request was sent.
    pub sent_at: Option<Instant>,
    /// When the first content event (text, transcript, audio, tool call) arrived.
    pub first_content_at: Option<Instant>,
}

impl ChatAnswer {
    /// Time from sending the request to the first content delta.
    pub fn time_to_first_delta(&self) -> Option<Duration> {
        Some(self.first_content_at?.duration_since(self.sent_at?))
    }

    fn absorb(&mut self, timed: TimedChatEvent) {
        if timed.event.is_content() && self.first_content_at.is_none() {
            self.first_content_at = Some(timed.received_at);
        }
        match &timed.event {
            ChatEvent::TextDelta { text, .. } => self.text.push_str(text),
            ChatEvent::TranscriptDelta { text, .. } => self.transcript.push_str(text),
            ChatEvent::AudioDelta { pcm, format, .. } => {
                self.pcm.0.extend_from_slice(&pcm.0);
                self.format = Some(*format);
            }
            ChatEvent::ToolCall {
                call_id,
                name,
                arguments,
                ..
            } => self
                .tool_calls
                .push((call_id.clone(), name.clone(), arguments.clone())),
            ChatEvent::Done {
                finish_reason,
                usage,
                audio,
            } => {
                self.finish_reason = finish_reason.clone();
                self.usage = usage.clone();
                self.audio = audio.clone();
            }
            _ => {}
        }
        self.events.push(timed.event);
    }
}

#[cfg(test)]
mod tests;
