//! Streaming text-to-speech: one interface over every TTS engine.
//!
//! A voice agent's first stage feeds an LLM's text stream into a TTS engine as it
//! is generated, so the agent starts speaking almost as soon as it starts
//! thinking. Engines differ in what they accept: a streaming engine (Qwen-TTS
//! realtime in `server_commit` mode) takes arbitrary text deltas and decides
//! itself where to cut; an HTTP engine (OpenAI `audio/speech`, Gemini TTS) takes
//! one whole piece of text per request. [`TtsCapabilities::incremental_text`]
//! says which, so the speaker pipeline knows whether to segment first.
//!
//! Every engine hands out the same [`Utterance`]: push text, finish, and read
//! [`AudioChunk`]s (always PCM16 mono with their format: an engine that receives
//! WAV strips the header and reports the rate it declared). Pushing and reading
//! happen concurrently, so an utterance splits into an [`UtteranceInput`] and an
//! [`UtteranceOutput`]; the engine drives the transport in a task of its own
//! through the matching [`UtteranceDriver`].

pub mod gemini_tts;
pub mod http;
pub mod openai_speech;
pub mod pcm_stream;
#[cfg(test)]
mod test_server;
pub mod units;

use crate::audio::{AudioFormat, Pcm};
use crate::error_text::Failure;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;
use tokio::sync::mpsc;

/// What an engine needs to be fed and what it gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtsCapabilities {
    /// The engine accepts text as arbitrary deltas and segments it itself. When
    /// false, every [`UtteranceInput::push`] is synthesised as one whole unit,
    /// so the caller should push complete sentences or clauses.
    pub incremental_text: bool,
    /// The format of the audio the engine returns.
    pub output: AudioFormat,
}

/// One piece of synthesised audio.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioChunk {
    /// PCM16 little-endian mono samples.
    pub pcm: Pcm,
    /// Their format (always PCM16; the rate is the engine's output rate).
    pub format: AudioFormat,
    /// When the adapter received the bytes, for time-to-first-sound figures.
    pub received_at: Instant,
}

/// Why an utterance failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TtsError {
    /// The HTTP request failed with a status; `body` is the provider's error
    /// body (its message is usually the useful part).
    #[error("HTTP {status}: {body}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// Response body, as text.
        body: String,
    },
    /// The provider answered with an error event or envelope.
    #[error("provider error {code}: {message}")]
    Provider {
        /// Provider error code (or type).
        code: String,
        /// Provider message.
        message: String,
    },
    /// The connection could not be made or broke; the socket or HTTP error,
    /// when there was one, is the source.
    #[error("transport: {0}")]
    Transport(#[source] Failure),
    /// The provider sent something this adapter cannot read; the parse error,
    /// when there was one, is the source.
    #[error("protocol: {0}")]
    Protocol(#[source] Failure),
    /// The utterance was already finished or cancelled, or its engine task ended.
    #[error("the utterance is closed")]
    Closed,
}

/// What the caller tells the engine, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextCommand {
    /// More text to speak.
    Text(String),
    /// No more text: speak what is buffered, then end the audio stream.
    Finish,
    /// Stop now: drop buffered text and end the audio stream promptly.
    Cancel,
}

/// The caller's end for text.
#[derive(Debug, Clone)]
pub struct UtteranceInput {
    commands: mpsc::UnboundedSender<TextCommand>,
}

impl UtteranceInput {
    /// Queues text to be spoken.
    pub fn push(&self, text: impl Into<String>) -> Result<(), TtsError> {
        self.send(TextCommand::Text(text.into()))
    }

    /// Declares the text complete; the audio stream ends after the last chunk.
    pub fn finish(&self) -> Result<(), TtsError> {
        self.send(TextCommand::Finish)
    }

    /// Stops the utterance: the engine stops synthesising and ends the audio stream.
    pub fn cancel(&self) -> Result<(), TtsError> {
        self.send(TextCommand::Cancel)
    }

    fn send(&self, command: TextCommand) -> Result<(), TtsError> {
        self.commands.send(command).map_err(|_| TtsError::Closed)
    }
}

/// The caller's end for audio.
#[derive(Debug)]
pub struct UtteranceOutput {
    audio: mpsc::Receiver<Result<AudioChunk, TtsError>>,
}

impl UtteranceOutput {
    /// The next chunk, an error (after which the stream ends), or `None` once the
    /// utterance is complete.
    pub async fn next_chunk(&mut self) -> Option<Result<AudioChunk, TtsError>> {
        self.audio.recv().await
    }
}

/// One utterance: text in, audio out.
#[derive(Debug)]
pub struct Utterance {
    /// Where text goes.
    pub input: UtteranceInput,
    /// Where audio comes from.
    pub output: UtteranceOutput,
}

/// The engine's end of an utterance: the commands to obey and where audio goes.
#[derive(Debug)]
pub struct UtteranceDriver {
    /// Text commands from the caller, in order. `None` means the caller dropped
    /// its input, which counts as [`TextCommand::Finish`].
    pub commands: mpsc::UnboundedReceiver<TextCommand>,
    /// Where audio chunks (or a final error) go. A send error means the caller
    /// stopped listening; the engine should stop too.
    pub audio: mpsc::Sender<Result<AudioChunk, TtsError>>,
}

/// How many chunks may wait unread before the engine is held back.
const AUDIO_BUFFER: usize = 64;

impl Utterance {
    /// A new utterance and the driver an engine's task runs it with.
    pub fn channel() -> (Utterance, UtteranceDriver) {
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (audio_tx, audio_rx) = mpsc::channel(AUDIO_BUFFER);
        (
            Utterance {
                input: UtteranceInput {
                    commands: commands_tx,
                },
                output: UtteranceOutput { audio: audio_rx },
            },
            UtteranceDriver {
                commands: commands_rx,
                audio: audio_tx,
            },
        )
    }
}

/// A future the [`TtsEngine`] trait returns (object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A text-to-speech engine: opens utterances.
///
/// Engines are configured when built (endpoint, key, model, voice, format) and
/// open any number of utterances, each in its own task.
pub trait TtsEngine: Send + Sync {
    /// What the engine accepts and returns.
    fn capabilities(&self) -> TtsCapabilities;

    /// Opens an utterance. Connection-level failures (refused, bad key at the
    /// upgrade) surface here or as the first item of the audio stream.
    fn start(&self) -> BoxFuture<'_, Result<Utterance, TtsError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_reach_the_driver_in_order_and_audio_reaches_the_caller() {
        let (utterance, mut driver) = Utterance::channel();
        utterance.input.push("Hello, ").unwrap();
        utterance.input.push("world.").unwrap();
        utterance.input.finish().unwrap();
        let mut seen = Vec::new();
        while let Ok(command) = driver.commands.try_recv() {
            seen.push(command);
        }
        assert_eq!(
            seen,
            vec![
                TextCommand::Text("Hello, ".into()),
                TextCommand::Text("world.".into()),
                TextCommand::Finish
            ]
        );
        let chunk = AudioChunk {
            pcm: Pcm(vec![1, 0, 2, 0]),
            format: AudioFormat::pcm16(24_000),
            received_at: Instant::now(),
        };
        driver.audio.send(Ok(chunk.clone())).await.unwrap();
        drop(driver);
        let mut output = utterance.output;
        assert_eq!(output.next_chunk().await, Some(Ok(chunk)));
        assert_eq!(output.next_chunk().await, None);
    }

    #[test]
    fn pushing_after_the_engine_is_gone_is_an_error() {
        let (utterance, driver) = Utterance::channel();
        drop(driver);
        assert_eq!(utterance.input.push("late"), Err(TtsError::Closed));
    }
}
