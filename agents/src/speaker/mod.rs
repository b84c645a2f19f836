//! Stage 1 of a voice agent: speak an LLM's text stream as it is generated.
//!
//! Text deltas go through the [`ContentFilter`] (so code, tables, markup and
//! URLs are not read aloud), then — for engines that synthesise whole pieces
//! of text — through the [`Segmenter`], then into a [`TtsEngine`] utterance;
//! audio comes out the other side. The speaker measures **time to first
//! sound**: from the first text delta pushed to the first audio chunk received.
//!
//! A [`Speaker`] is configured once and opens a [`SpeakerTurn`] per reply. The
//! turn's utterance is opened before any text arrives (a WebSocket engine
//! connects then), so time to first sound measures the pipeline and the
//! engine's first-audio delay, not the connection set-up.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use understudy_adapters::text::{ContentFilter, FilterPolicy, Segmenter, SegmenterConfig};
use understudy_adapters::tts::{AudioChunk, TtsEngine, TtsError, UtteranceInput, UtteranceOutput};

/// Whether the speaker cuts the text into units before the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Segmenting {
    /// Segment when the engine takes whole pieces of text
    /// (`incremental_text` false), pass deltas through otherwise.
    #[default]
    Auto,
    /// Always segment, with this configuration.
    Always(SegmenterConfig),
    /// Never segment (the engine gets the filtered deltas as they come).
    Never,
}

/// A configured speaking pipeline over one TTS engine.
#[derive(Clone)]
pub struct Speaker {
    engine: Arc<dyn TtsEngine>,
    policy: FilterPolicy,
    segmenting: Segmenting,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("capabilities", &self.engine.capabilities())
            .field("segmenting", &self.segmenting)
            .finish_non_exhaustive()
    }
}

impl Speaker {
    /// A speaker over `engine` with the default filter policy, segmenting
    /// where the engine needs it.
    pub fn new(engine: Arc<dyn TtsEngine>) -> Self {
        Speaker {
            engine,
            policy: FilterPolicy::default(),
            segmenting: Segmenting::Auto,
        }
    }

    /// Uses this filter policy.
    pub fn filter(mut self, policy: FilterPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Uses this segmenting rule.
    pub fn segmenting(mut self, segmenting: Segmenting) -> Self {
        self.segmenting = segmenting;
        self
    }

    /// The segmenter a turn uses, if any.
    fn segmenter(&self) -> Option<Segmenter> {
        match &self.segmenting {
            Segmenting::Auto if self.engine.capabilities().incremental_text => None,
            Segmenting::Auto => Some(Segmenter::new(SegmenterConfig::default())),
            Segmenting::Always(config) => Some(Segmenter::new(config.clone())),
            Segmenting::Never => None,
        }
    }

    /// Opens a turn: the engine's utterance is ready before the first delta.
    pub async fn open(&self) -> Result<SpeakerTurn, TtsError> {
        let utterance = self.engine.start().await?;
        let first_text = Arc::new(OnceLock::new());
        Ok(SpeakerTurn {
            text: TurnText {
                filter: ContentFilter::new(self.policy.clone()),
                segmenter: self.segmenter(),
                input: utterance.input,
                first_text: Arc::clone(&first_text),
                spoken: String::new(),
                pushes: 0,
            },
            audio: TurnAudio {
                output: utterance.output,
                first_text,
                first_audio: None,
            },
        })
    }
}

/// One reply being spoken: text in, audio out.
#[derive(Debug)]
pub struct SpeakerTurn {
    /// Where the reply's text deltas go.
    pub text: TurnText,
    /// Where its audio comes from.
    pub audio: TurnAudio,
}

/// The text side of a turn.
#[derive(Debug)]
pub struct TurnText {
    filter: ContentFilter,
    segmenter: Option<Segmenter>,
    input: UtteranceInput,
    first_text: Arc<OnceLock<Instant>>,
    spoken: String,
    pushes: usize,
}

impl TurnText {
    /// Takes one text delta from the LLM: whatever is safe to speak now goes
    /// to the engine.
    pub fn push(&mut self, delta: &str) -> Result<(), TtsError> {
        let _ = self.first_text.set(Instant::now());
        let speakable = self.filter.push(delta);
        self.forward(&speakable)
    }

    /// The reply is complete: the rest is spoken and the audio ends after it.
    pub fn finish(&mut self) -> Result<(), TtsError> {
        let rest = self.filter.finish();
        self.forward(&rest)?;
        if let Some(unit) = self.segmenter.as_mut().and_then(Segmenter::finish) {
            self.send(unit)?;
        }
        self.input.finish()
    }

    /// Stops speaking now (barge-in).
    pub fn cancel(&self) -> Result<(), TtsError> {
        self.input.cancel()
    }

    /// Everything handed to the engine so far: what the listener will hear.
    pub fn spoken(&self) -> &str {
        &self.spoken
    }

    /// How many pieces of text went to the engine.
    pub fn pushes(&self) -> usize {
        self.pushes
    }

    fn forward(&mut self, speakable: &str) -> Result<(), TtsError> {
        if speakable.is_empty() {
            return Ok(());
        }
        match self.segmenter.as_mut() {
            Some(segmenter) => {
                for unit in segmenter.push(speakable) {
                    self.send(unit)?;
                }
                Ok(())
            }
            None => self.send(speakable.to_owned()),
        }
    }

    fn send(&mut self, text: String) -> Result<(), TtsError> {
        if self.segmenter.is_some() && !self.spoken.is_empty() {
            self.spoken.push(' ');
        }
        self.spoken.push_str(&text);
        self.pushes += 1;
        self.input.push(text)
    }
}

/// The audio side of a turn.
#[derive(Debug)]
pub struct TurnAudio {
    output: UtteranceOutput,
    first_text: Arc<OnceLock<Instant>>,
    first_audio: Option<Instant>,
}

impl TurnAudio {
    /// The next chunk; `None` when the turn's audio is complete.
    pub async fn next_chunk(&mut self) -> Option<Result<AudioChunk, TtsError>> {
        let chunk = self.output.next_chunk().await;
        if let Some(Ok(chunk)) = &chunk {
            self.first_audio.get_or_insert(chunk.received_at);
        }
        chunk
    }

    /// From the first text delta to the first audio chunk, once both happened.
    pub fn time_to_first_sound(&self) -> Option<Duration> {
        let text = self.first_text.get()?;
        Some(self.first_audio?.saturating_duration_since(*text))
    }
}

/// What speaking one reply produced.
#[derive(Debug, Clone)]
pub struct Spoken {
    /// The audio, in order.
    pub audio: Vec<AudioChunk>,
    /// The text the engine was given.
    pub text: String,
    /// How many pieces of text went to the engine.
    pub pieces: usize,
    /// First text delta to first audio chunk.
    pub time_to_first_sound: Option<Duration>,
}

impl Spoken {
    /// Total audio bytes.
    pub fn audio_bytes(&self) -> usize {
        self.audio.iter().map(|c| c.pcm.len()).sum()
    }
}

impl Speaker {
    /// Speaks a whole reply arriving as `deltas` (each after its delay), and
    /// collects the audio. The text and audio sides run concurrently, as in
    /// an agent.
    pub async fn speak<I>(&self, deltas: I) -> Result<Spoken, TtsError>
    where
        I: IntoIterator<Item = (Duration, String)>,
    {
        let SpeakerTurn {
            mut text,
            mut audio,
        } = self.open().await?;
        let collect = async {
            let mut chunks = Vec::new();
            while let Some(chunk) = audio.next_chunk().await {
                chunks.push(chunk?);
            }
            Ok::<_, TtsError>(chunks)
        };
        let feed = async {
            for (delay, delta) in deltas {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                text.push(&delta)?;
            }
            text.finish()?;
            Ok::<_, TtsError>(())
        };
        let (fed, chunks) = tokio::join!(feed, collect);
        fed?;
        let chunks = chunks?;
        Ok(Spoken {
            audio: chunks,
            text: text.spoken().to_owned(),
            pieces: text.pushes(),
            time_to_first_sound: audio.time_to_first_sound(),
        })
    }
}
