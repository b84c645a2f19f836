//! The input side: the session timeline (milliseconds of input audio
//! received), the energy VAD every mock dialect uses, muting, and the
//! recognition of the bundled utterances.
//!
//! GPT-Live's timeline is the input audio itself, so [`Hearing`] owns the
//! clock. Muted input (and input while a fixture plays) still advances the
//! timeline — the client did stream it — but the model hears silence. An
//! utterance is what the VAD heard between a start and a stop. Its audio is
//! matched against the bundled utterances ([`KnownSpeech`]) at 24 or 16 kHz
//! (G.711 sessions at 8 kHz are heard but not recognised) while the user is
//! still speaking, as soon as the fingerprint (its first words) has been
//! heard: GPT-Live transcribes as the user speaks, a few hundred ms behind,
//! and a client infers a barge-in from those early fragments. What is not
//! recognised by the stop is tried once more on the whole utterance.

use crate::speech::{KnownSpeech, Recognised};
use crate::vad::{EnergyVad, VadConfig, VadEvent};

/// What the input side noticed in one append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Heard {
    /// The user started speaking at this timeline point.
    Started {
        /// Timeline ms.
        at_ms: u64,
    },
    /// The utterance in progress is a known one: its words and length are
    /// known before it ends (once per utterance).
    Recognised {
        /// Timeline ms where it began.
        start_ms: u64,
        /// What it says, and how long that takes.
        found: Recognised,
    },
    /// An utterance ended (noticed after the end-of-speech silence).
    Utterance {
        /// Timeline ms where it began.
        start_ms: u64,
        /// Timeline ms where its last loud window ended.
        end_ms: u64,
        /// Its words, when a [`Heard::Recognised`] already announced them.
        text: Option<&'static str>,
        /// Whether a [`Heard::Recognised`] already announced them.
        announced: bool,
        /// Otherwise its audio, to be recognised once more as a whole
        /// ([`Unheard::recognise`]), off the session task with the rest of
        /// the turn.
        unheard: Option<Unheard>,
    },
}

/// The audio of an utterance not recognised while it was spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unheard {
    /// PCM16 bytes since the previous utterance ended.
    audio: Vec<u8>,
    /// Their rate.
    rate: u32,
}

impl Unheard {
    /// Its words, when the whole of it is a bundled utterance.
    pub(super) fn recognise(&self) -> Option<&'static str> {
        KnownSpeech::bundled().transcribe(&self.audio, self.rate)
    }
}

/// The session clock, the VAD, mute and the utterance being heard.
#[derive(Debug)]
pub(super) struct Hearing {
    rate: u32,
    samples: u64,
    vad: EnergyVad,
    muted: bool,
    /// Audio since the previous utterance ended (PCM16 bytes), what the
    /// recogniser searches.
    heard: Vec<u8>,
    speech_start: Option<u64>,
    /// The utterance in progress, once recognised.
    recognised: Option<Recognised>,
}

impl Hearing {
    /// A clock at zero for input at `rate`; speech ends after `silence_ms`.
    pub(super) fn new(rate: u32, silence_ms: u64) -> Self {
        Hearing {
            rate: rate.max(1),
            samples: 0,
            vad: EnergyVad::new(VadConfig::from_provider_threshold(0.5, silence_ms), rate),
            muted: false,
            heard: Vec::new(),
            speech_start: None,
            recognised: None,
        }
    }

    /// The session timeline: ms of input received.
    pub(super) fn t_ms(&self) -> u64 {
        self.samples * 1000 / u64::from(self.rate)
    }

    /// Mutes or unmutes the microphone the model hears.
    pub(super) fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// Takes appended samples; `deaf` (a fixture playing) drops them like a
    /// mute does. Returns what was noticed, in order.
    pub(super) fn hear(&mut self, samples: &[i16], deaf: bool) -> Vec<Heard> {
        self.samples += samples.len() as u64;
        let silent = self.muted || deaf;
        let input: Vec<i16> = if silent {
            vec![0; samples.len()]
        } else {
            samples.to_vec()
        };
        self.heard
            .extend(input.iter().flat_map(|s| s.to_le_bytes()));
        let mut out = Vec::new();
        for event in self.vad.push(&input) {
            match event {
                VadEvent::SpeechStarted { at_ms } => {
                    self.speech_start = Some(at_ms);
                    out.push(Heard::Started { at_ms });
                }
                VadEvent::SpeechStopped { at_ms } => {
                    let announced = self.recognised.take();
                    let unheard = match announced {
                        Some(_) => {
                            self.heard.clear();
                            None
                        }
                        None => Some(Unheard {
                            audio: std::mem::take(&mut self.heard),
                            rate: self.rate,
                        }),
                    };
                    out.push(Heard::Utterance {
                        start_ms: self.speech_start.take().unwrap_or(at_ms),
                        end_ms: at_ms,
                        text: announced.map(|found| found.transcript),
                        announced: announced.is_some(),
                        unheard,
                    });
                }
            }
        }
        if let (Some(start_ms), None) = (self.speech_start, self.recognised) {
            if let Some(found) = KnownSpeech::bundled().recognise(&self.heard, self.rate) {
                self.recognised = Some(found);
                out.push(Heard::Recognised { start_ms, found });
            }
        }
        if self.speech_start.is_none() && self.heard.len() > 2 * self.rate as usize * 2 {
            // Keep one second of lead-in while nobody speaks.
            let keep = self.rate as usize * 2;
            self.heard.drain(..self.heard.len() - keep);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(name: &str) -> Vec<i16> {
        let (pcm, _) = understudy_fixtures::wav::read_pcm16(
            understudy_fixtures::bundled::audio(name).unwrap(),
        )
        .unwrap();
        pcm.chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect()
    }

    #[test]
    fn a_bundled_utterance_is_heard_with_its_words_and_timed() {
        let mut hearing = Hearing::new(24_000, 500);
        let mut heard = hearing.hear(&vec![0; 24_000], false);
        for chunk in clip("user-weather-24k.wav").chunks(480) {
            heard.extend(hearing.hear(chunk, false));
        }
        heard.extend(hearing.hear(&vec![0; 24_000], false));
        assert!(matches!(heard[0], Heard::Started { at_ms } if at_ms >= 1000));
        // Known from its first words, long before it ends.
        let Some(Heard::Recognised {
            start_ms: at,
            found,
        }) = heard.get(1).cloned()
        else {
            panic!("{heard:?}");
        };
        assert_eq!(found.transcript, "What is the weather like in Paris today?");
        assert!(found.speech_ms > 2_000, "{found:?}");
        let Some(Heard::Utterance {
            start_ms,
            end_ms,
            text,
            announced,
            unheard,
        }) = heard.last().cloned()
        else {
            panic!("{heard:?}");
        };
        assert_eq!(heard.len(), 3, "{heard:?}");
        assert!(announced);
        assert_eq!(unheard, None, "nothing left to recognise");
        assert_eq!(at, start_ms);
        assert_eq!(text, Some("What is the weather like in Paris today?"));
        assert!(
            start_ms >= 1000 && end_ms > start_ms + 1000,
            "{start_ms}..{end_ms}"
        );
        assert!(hearing.t_ms() > end_ms);
    }

    #[test]
    fn muted_input_advances_the_clock_but_is_not_heard() {
        let mut hearing = Hearing::new(24_000, 500);
        hearing.set_muted(true);
        let mut heard = Vec::new();
        for chunk in clip("user-weather-24k.wav").chunks(480) {
            heard.extend(hearing.hear(chunk, false));
        }
        assert!(heard.is_empty());
        assert!(hearing.t_ms() > 1000);
    }
}
