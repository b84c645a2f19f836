//! Running an utterance on an engine that synthesises one whole text per request.
//!
//! HTTP TTS engines (OpenAI `audio/speech`, Gemini TTS) cannot take text
//! deltas: every [`UtteranceInput::push`](super::UtteranceInput::push) is one
//! *unit*, synthesised by one request. [`spawn_units`] turns such an engine into
//! an [`Utterance`] with these guarantees:
//!
//! - requests go out in push order: the request for unit N+1 is sent only after
//!   the provider has accepted unit N's (success status and headers received),
//!   and never after a refused one;
//! - up to `prefetch` units after the one being played are requested early, so
//!   the next unit's first audio is usually ready when the current one ends;
//! - audio is delivered in unit order: every chunk of unit N before any of N+1;
//! - `finish` ends the audio stream after the last unit's last chunk;
//! - `cancel` (or dropping the output) stops at once: requests in flight are
//!   dropped, which closes their connections, and the stream ends;
//! - the first error ends the stream (after being delivered), dropping the rest.
//!
//! Blank units (empty or whitespace) are skipped rather than sent, since the
//! providers reject empty input.

use super::{AudioChunk, BoxFuture, TextCommand, TtsError, Utterance, UtteranceDriver};
use futures_util::stream::Stream;
use futures_util::StreamExt as _;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The audio of one unit, as it arrives.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<AudioChunk, TtsError>> + Send>>;

/// An engine that synthesises one whole text per request.
pub trait UnitSynthesizer: Send + Sync + 'static {
    /// Sends the request for `text`. Resolves once the provider has answered
    /// (a success status and headers) with the stream of the unit's audio, or
    /// with the error the provider answered.
    fn synthesize(&self, text: String) -> BoxFuture<'static, Result<ChunkStream, TtsError>>;
}

/// How many chunks of a prefetched unit may wait before its request is held back.
const UNIT_BUFFER: usize = 64;

/// A unit whose request is under way; dropping it drops the request.
struct Running {
    audio: mpsc::Receiver<Result<AudioChunk, TtsError>>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens an utterance whose units `synthesizer` speaks, `prefetch` units ahead.
///
/// Must be called within a Tokio runtime: the utterance runs in a task of its own.
pub fn spawn_units<S: UnitSynthesizer>(synthesizer: Arc<S>, prefetch: usize) -> Utterance {
    let (utterance, driver) = Utterance::channel();
    tokio::spawn(drive(synthesizer, driver, prefetch));
    utterance
}

/// The utterance's task: obeys commands, runs units, forwards their audio in order.
async fn drive<S: UnitSynthesizer>(
    synthesizer: Arc<S>,
    mut driver: UtteranceDriver,
    prefetch: usize,
) {
    let mut queued: VecDeque<String> = VecDeque::new();
    let mut running: VecDeque<Running> = VecDeque::new();
    // Resolves when the last started unit's request has been answered
    // (`true`: with success).
    let mut last_answered: Option<oneshot::Receiver<bool>> = None;
    let mut finished = false;
    let mut commands_open = true;
    let mut unit_number = 0u64;
    loop {
        while running.len() <= prefetch {
            let Some(text) = queued.pop_front() else {
                break;
            };
            unit_number += 1;
            let (answered_tx, answered_rx) = oneshot::channel();
            let previous = last_answered.replace(answered_rx);
            running.push_back(start_unit(
                synthesizer.clone(),
                text,
                previous,
                answered_tx,
                unit_number,
            ));
        }
        if finished && running.is_empty() && queued.is_empty() {
            tracing::debug!(units = unit_number, "utterance complete");
            return;
        }
        tokio::select! {
            biased;
            command = driver.commands.recv(), if commands_open => match command {
                Some(TextCommand::Text(text)) if finished => {
                    tracing::warn!(chars = text.chars().count(), "text pushed after finish is ignored");
                }
                Some(TextCommand::Text(text)) => {
                    if text.trim().is_empty() {
                        tracing::debug!("blank unit skipped");
                    } else {
                        queued.push_back(text);
                    }
                }
                Some(TextCommand::Finish) => finished = true,
                None => {
                    finished = true;
                    commands_open = false;
                }
                Some(TextCommand::Cancel) => {
                    tracing::debug!(in_flight = running.len(), queued = queued.len(), "utterance cancelled");
                    return;
                }
            },
            () = driver.audio.closed() => {
                tracing::debug!("the caller stopped listening; utterance dropped");
                return;
            }
            next = next_chunk(&driver.audio, running.front_mut()) => match next {
                None => return,
                Some((permit, Some(Ok(chunk)))) => permit.send(Ok(chunk)),
                Some((permit, Some(Err(error)))) => {
                    tracing::debug!(%error, "unit failed; utterance ends");
                    permit.send(Err(error));
                    return;
                }
                Some((_, None)) => {
                    running.pop_front();
                }
            },
        }
    }
}

/// Waits for room in the caller's buffer, then for the front unit's next item.
/// Never resolves when no unit is running. `None`: the caller is gone.
async fn next_chunk<'a>(
    audio: &'a mpsc::Sender<Result<AudioChunk, TtsError>>,
    front: Option<&mut Running>,
) -> Option<(
    mpsc::Permit<'a, Result<AudioChunk, TtsError>>,
    Option<Result<AudioChunk, TtsError>>,
)> {
    let Some(front) = front else {
        return std::future::pending().await;
    };
    let permit = audio.reserve().await.ok()?;
    let item = front.audio.recv().await;
    Some((permit, item))
}

fn start_unit<S: UnitSynthesizer>(
    synthesizer: Arc<S>,
    text: String,
    previous: Option<oneshot::Receiver<bool>>,
    answered: oneshot::Sender<bool>,
    number: u64,
) -> Running {
    let (tx, rx) = mpsc::channel(UNIT_BUFFER);
    let task = tokio::spawn(async move {
        if let Some(previous) = previous {
            // After a refused (or dropped) request the utterance is ending:
            // nothing more goes out.
            if previous.await != Ok(true) {
                return;
            }
        }
        tracing::debug!(
            unit = number,
            chars = text.chars().count(),
            "requesting unit"
        );
        let answer = synthesizer.synthesize(text).await;
        let _ = answered.send(answer.is_ok());
        let mut stream = match answer {
            Ok(stream) => stream,
            Err(error) => {
                let _ = tx.send(Err(error)).await;
                return;
            }
        };
        while let Some(item) = stream.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    Running { audio: rx, task }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioFormat, Pcm};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// A synthesizer that answers each text after a delay with one chunk per
    /// character (its byte value), recording when each request started.
    struct Fake {
        answer_delay: Duration,
        chunk_delay: Duration,
        started: Mutex<Vec<String>>,
        fail_on: Option<&'static str>,
    }

    impl Fake {
        fn new(answer_ms: u64, chunk_ms: u64) -> Arc<Self> {
            Arc::new(Fake {
                answer_delay: Duration::from_millis(answer_ms),
                chunk_delay: Duration::from_millis(chunk_ms),
                started: Mutex::new(Vec::new()),
                fail_on: None,
            })
        }
    }

    impl UnitSynthesizer for Fake {
        fn synthesize(&self, text: String) -> BoxFuture<'static, Result<ChunkStream, TtsError>> {
            self.started.lock().unwrap().push(text.clone());
            let answer = self.answer_delay;
            let chunk = self.chunk_delay;
            let fail = self.fail_on == Some(text.as_str());
            Box::pin(async move {
                tokio::time::sleep(answer).await;
                if fail {
                    return Err(TtsError::Http {
                        status: 400,
                        body: "bad unit".into(),
                    });
                }
                let stream =
                    futures_util::stream::iter(text.into_bytes()).then(move |b| async move {
                        tokio::time::sleep(chunk).await;
                        Ok(AudioChunk {
                            pcm: Pcm(vec![b, 0]),
                            format: AudioFormat::pcm16(24_000),
                            received_at: Instant::now(),
                        })
                    });
                Ok(Box::pin(stream) as ChunkStream)
            })
        }
    }

    async fn collect(utterance: &mut Utterance) -> (Vec<u8>, Option<TtsError>) {
        let mut bytes = Vec::new();
        while let Some(item) = utterance.output.next_chunk().await {
            match item {
                Ok(chunk) => bytes.push(chunk.pcm.0[0]),
                Err(e) => return (bytes, Some(e)),
            }
        }
        (bytes, None)
    }

    #[tokio::test]
    async fn units_play_in_order_even_when_later_ones_answer_first() {
        // Unit "ab" streams slowly; "cd" is prefetched and ready long before.
        let fake = Fake::new(5, 20);
        let mut utterance = spawn_units(fake.clone(), 2);
        utterance.input.push("ab").unwrap();
        utterance.input.push("   ").unwrap();
        utterance.input.push("cd").unwrap();
        utterance.input.push("e").unwrap();
        utterance.input.finish().unwrap();
        let (bytes, error) = collect(&mut utterance).await;
        assert_eq!(error, None);
        assert_eq!(bytes, b"abcde");
        assert_eq!(
            *fake.started.lock().unwrap(),
            vec!["ab", "cd", "e"],
            "blank skipped, order kept"
        );
    }

    #[tokio::test]
    async fn prefetch_zero_requests_the_next_unit_only_after_the_current_one() {
        let fake = Fake::new(30, 1);
        let mut utterance = spawn_units(fake.clone(), 0);
        utterance.input.push("a").unwrap();
        utterance.input.push("b").unwrap();
        utterance.input.finish().unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(fake.started.lock().unwrap().len(), 1, "b waits for a");
        let (bytes, _) = collect(&mut utterance).await;
        assert_eq!(bytes, b"ab");
    }

    #[tokio::test]
    async fn cancel_ends_the_stream_promptly_mid_unit() {
        let fake = Fake::new(1, 200);
        let mut utterance = spawn_units(fake, 1);
        utterance.input.push("abcdefgh").unwrap();
        utterance.input.finish().unwrap();
        let first = utterance.output.next_chunk().await.unwrap().unwrap();
        assert_eq!(first.pcm.0[0], b'a');
        let asked = Instant::now();
        utterance.input.cancel().unwrap();
        let rest = tokio::time::timeout(Duration::from_millis(150), collect(&mut utterance))
            .await
            .expect("cancel is prompt");
        assert!(
            rest.0.len() <= 1,
            "at most one chunk already in flight: {:?}",
            rest.0
        );
        assert!(asked.elapsed() < Duration::from_millis(150));
    }

    #[tokio::test]
    async fn an_error_is_delivered_then_the_stream_ends() {
        let fake = Arc::new(Fake {
            answer_delay: Duration::from_millis(1),
            chunk_delay: Duration::from_millis(1),
            started: Mutex::new(Vec::new()),
            fail_on: Some("bad"),
        });
        let mut utterance = spawn_units(fake, 1);
        for unit in ["ok", "bad", "never"] {
            utterance.input.push(unit).unwrap();
        }
        utterance.input.finish().unwrap();
        let (bytes, error) = collect(&mut utterance).await;
        assert_eq!(bytes, b"ok");
        assert!(matches!(error, Some(TtsError::Http { status: 400, .. })));
        assert!(utterance.output.next_chunk().await.is_none());
    }

    #[tokio::test]
    async fn dropping_the_input_counts_as_finish() {
        let fake = Fake::new(1, 1);
        let Utterance { input, mut output } = spawn_units(fake, 1);
        input.push("xy").unwrap();
        drop(input);
        let mut bytes = Vec::new();
        while let Some(Ok(chunk)) = output.next_chunk().await {
            bytes.push(chunk.pcm.0[0]);
        }
        assert_eq!(bytes, b"xy");
    }
}
