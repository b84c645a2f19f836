//! HTTP plumbing shared by the HTTP TTS adapters: the client, error bodies, and
//! turning a streamed response body into [`AudioChunk`]s through a sans-IO
//! [`BodyDecoder`].
//!
//! Each provider's body format (raw PCM, WAV, OpenAI SSE, Gemini JSON or SSE)
//! is a `BodyDecoder`: plain bytes in, PCM pieces out, no I/O. [`decode_body`]
//! feeds it the response as it streams in and stamps every chunk with the
//! instant its bytes arrived, for time-to-first-sound figures.

/// The HTTP client crate the adapters are built on, re-exported so that callers
/// can build a [`reqwest::Client`] for the builders' `client(...)` without
/// depending on a matching version themselves.
pub use reqwest;

use super::units::ChunkStream;
use super::{AudioChunk, TtsError};
use crate::audio::{AudioFormat, Pcm};
use crate::error_text::Failure;
use futures_util::StreamExt as _;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Longest error body kept in [`TtsError::Http`], in bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A decoded piece of audio: PCM16 mono bytes (whole samples) and their rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcmPiece {
    /// PCM16 little-endian mono bytes.
    pub pcm: Vec<u8>,
    /// Their sample rate.
    pub sample_rate: u32,
}

/// Turns a provider's response body into PCM, without doing any I/O.
pub trait BodyDecoder: Send + 'static {
    /// Decodes the next bytes of the body (cut anywhere).
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<PcmPiece>, TtsError>;
    /// The body ended: whatever was held back, or an error if it ended early.
    fn finish(&mut self) -> Result<Vec<PcmPiece>, TtsError>;
    /// Whether the provider has said the audio is complete (the reader stops
    /// there even if the connection stays open).
    fn is_done(&self) -> bool {
        false
    }
}

/// The client the adapters use by default: rustls (ring) with the webpki roots,
/// a connect timeout, no overall timeout (audio streams can be long).
pub fn default_client() -> Result<reqwest::Client, TtsError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| {
            TtsError::Transport(Failure::because(
                format!("building the HTTP client: {e}"),
                e,
            ))
        })
}

/// An environment variable's value, unless unset or empty (the official SDKs
/// read base URLs and keys this way).
pub fn env_setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `base` + `path`, with exactly one `/` between them.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A transport failure as a [`TtsError`].
pub fn transport_error(error: reqwest::Error) -> TtsError {
    // The source chain carries the useful part (connection refused, TLS, reset).
    TtsError::Transport(Failure::of(error))
}

/// Sends `request`; a non-success status becomes [`TtsError::Http`] with the
/// provider's error body (truncated to 64 KiB).
pub async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, TtsError> {
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        match piece {
            Ok(bytes) => {
                body.extend_from_slice(&bytes);
                if body.len() >= MAX_ERROR_BODY {
                    body.truncate(MAX_ERROR_BODY);
                    break;
                }
            }
            Err(error) => {
                tracing::debug!(%error, "error body cut short");
                break;
            }
        }
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    tracing::debug!(status = status.as_u16(), %body, "provider refused the request");
    Err(TtsError::Http {
        status: status.as_u16(),
        body,
    })
}

/// Whether the response says it is a server-sent event stream.
pub fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        })
}

/// What [`decode_body`] carries between reads.
struct Reading<D> {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    decoder: D,
    ready: VecDeque<Result<AudioChunk, TtsError>>,
    ended: bool,
}

impl<D: BodyDecoder> Reading<D> {
    fn queue(&mut self, decoded: Result<Vec<PcmPiece>, TtsError>, at: Instant) {
        match decoded {
            Ok(pieces) => self
                .ready
                .extend(pieces.into_iter().filter(|p| !p.pcm.is_empty()).map(|p| {
                    Ok(AudioChunk {
                        pcm: Pcm(p.pcm),
                        format: AudioFormat::pcm16(p.sample_rate),
                        received_at: at,
                    })
                })),
            Err(error) => {
                self.ready.push_back(Err(error));
                self.ended = true;
            }
        }
    }
}

/// The audio of a successful response, decoded as it streams in. The stream
/// ends after the decoder's last piece, or after the first error.
pub fn decode_body<D: BodyDecoder>(response: reqwest::Response, decoder: D) -> ChunkStream {
    let reading = Reading {
        body: Box::pin(response.bytes_stream()),
        decoder,
        ready: VecDeque::new(),
        ended: false,
    };
    Box::pin(futures_util::stream::unfold(reading, |mut r| async move {
        loop {
            if let Some(item) = r.ready.pop_front() {
                if item.is_err() {
                    r.ready.clear();
                    r.ended = true;
                }
                return Some((item, r));
            }
            if r.ended {
                return None;
            }
            match r.body.next().await {
                Some(Ok(bytes)) => {
                    let at = Instant::now();
                    let decoded = r.decoder.push(&bytes);
                    r.queue(decoded, at);
                    if r.decoder.is_done() && !r.ended {
                        let rest = r.decoder.finish();
                        r.queue(rest, at);
                        r.ended = true;
                    }
                }
                Some(Err(error)) => {
                    r.ready.push_back(Err(transport_error(error)));
                    r.ended = true;
                }
                None => {
                    let rest = r.decoder.finish();
                    r.queue(rest, Instant::now());
                    r.ended = true;
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(
            join_url("http://h/v1/", "/audio/speech"),
            "http://h/v1/audio/speech"
        );
        assert_eq!(
            join_url("http://h/v1", "audio/speech"),
            "http://h/v1/audio/speech"
        );
    }
}
