//! Hearing speech the way smart-turn detection sorts it: a sans-IO segmenter
//! over the appended audio that finds every stretch of speech (down to a
//! floor far below the turn VAD's level), measures its loudest window and
//! recognises its words, so the responder can tell a bystander (ambient:
//! transcribed, never a turn) from the user (a turn, answered), and send the
//! user's words as transcription deltas while they speak.
//!
//! The rule is loudness: a segment whose loudest 20 ms window stays below
//! [`QwenAudioSettings::ambient_below_rms`] is ambient. The turn VAD of the
//! shared responder starts turns at that same level, so an ambient segment
//! never becomes a turn nor barges in.

use super::settings::QwenAudioSettings;
use crate::speech::KnownSpeech;
use understudy_adapters::audio::rms;

/// Window the segmenter measures in.
const WINDOW_MS: u64 = 20;
/// Audio kept from before a segment's first loud window, so that its words
/// are recognised from their very start.
const PRE_ROLL_MS: u64 = 300;
/// Halvings of level at which a quiet segment is still recognised.
const MAX_ATTENUATION_SHIFT: u32 = 6;
/// Longest segment kept for recognition (longer ones keep their start).
const MAX_SEGMENT_MS: u64 = 30_000;
/// How far into a segment its words are looked for: a bundled utterance is
/// known by its first 250 ms of speech, so one not found by then is not one.
const RECOGNISE_WITHIN_MS: u64 = PRE_ROLL_MS + 1_000;
/// How often recognition is tried while a segment grows.
const RECOGNISE_EVERY_MS: u64 = 100;

/// What the segmenter heard in one push.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Heard {
    /// The words of the segment in progress were recognised, and it is loud
    /// enough to be the user: `transcript` is what they are saying.
    UserWords {
        /// What is being said.
        transcript: &'static str,
    },
    /// A segment ended below the ambient level.
    Ambient {
        /// What was said, where the words are known.
        transcript: Option<&'static str>,
    },
}

/// The segmenter's state over one session's input audio.
#[derive(Debug)]
pub(crate) struct Segmenter {
    rate: u32,
    settings: QwenAudioSettings,
    window: Vec<i16>,
    /// The last [`PRE_ROLL_MS`] of audio before a segment.
    pre_roll: std::collections::VecDeque<i16>,
    /// The segment in progress, if speech is going on.
    segment: Option<Segment>,
}

#[derive(Debug, Default)]
struct Segment {
    audio: Vec<i16>,
    loudest: f64,
    quiet_ms: u64,
    transcript: Option<&'static str>,
    announced: bool,
}

impl Segmenter {
    /// A segmenter for audio at `rate`.
    pub(crate) fn new(rate: u32, settings: QwenAudioSettings) -> Self {
        Segmenter {
            rate: rate.max(1),
            settings,
            window: Vec::new(),
            pre_roll: std::collections::VecDeque::new(),
            segment: None,
        }
    }

    fn samples_for(&self, ms: u64) -> usize {
        (u64::from(self.rate) * ms / 1000).max(1) as usize
    }

    /// Feeds samples; returns what was heard in them, in order.
    pub(crate) fn push(&mut self, samples: &[i16]) -> Vec<Heard> {
        let window_len = self.samples_for(WINDOW_MS);
        let mut heard = Vec::new();
        for &sample in samples {
            self.window.push(sample);
            if self.window.len() == window_len {
                let window = std::mem::take(&mut self.window);
                self.on_window(&window, &mut heard);
            }
        }
        heard
    }

    fn on_window(&mut self, window: &[i16], heard: &mut Vec<Heard>) {
        let level = rms(window);
        let speech = level >= self.settings.ambient_floor_rms;
        let max_samples = self.samples_for(MAX_SEGMENT_MS);
        match &mut self.segment {
            None if speech => {
                let mut audio: Vec<i16> = self.pre_roll.drain(..).collect();
                audio.extend_from_slice(window);
                self.segment = Some(Segment {
                    audio,
                    loudest: level,
                    ..Segment::default()
                });
            }
            None => {
                self.pre_roll.extend(window);
                let keep = self.samples_for(PRE_ROLL_MS);
                while self.pre_roll.len() > keep {
                    self.pre_roll.pop_front();
                }
                return;
            }
            Some(segment) => {
                if segment.audio.len() < max_samples {
                    segment.audio.extend_from_slice(window);
                }
                segment.loudest = segment.loudest.max(level);
                segment.quiet_ms = if speech {
                    0
                } else {
                    segment.quiet_ms + WINDOW_MS
                };
            }
        }
        let ambient_below = self.settings.ambient_below_rms;
        let silence_ms = self.settings.ambient_silence_ms;
        let rate = self.rate;
        let Some(segment) = self.segment.as_mut() else {
            return;
        };
        let length_ms = segment.audio.len() as u64 * 1000 / u64::from(rate);
        let try_now = length_ms <= RECOGNISE_WITHIN_MS
            && (length_ms / WINDOW_MS) % (RECOGNISE_EVERY_MS / WINDOW_MS) == 0;
        if segment.transcript.is_none() && try_now {
            let bytes: Vec<u8> = segment.audio.iter().flat_map(|s| s.to_le_bytes()).collect();
            segment.transcript = KnownSpeech::bundled()
                .recognise_attenuated(&bytes, rate, MAX_ATTENUATION_SHIFT)
                .map(|r| r.transcript);
        }
        if let (Some(transcript), false) = (segment.transcript, segment.announced) {
            if segment.loudest >= ambient_below {
                segment.announced = true;
                heard.push(Heard::UserWords { transcript });
            }
        }
        if segment.quiet_ms >= silence_ms {
            if let Some(done) = self.segment.take() {
                if done.loudest < ambient_below {
                    heard.push(Heard::Ambient {
                        transcript: done.transcript,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(name: &str, shift: u32) -> Vec<i16> {
        let (pcm, _) = understudy_fixtures::wav::read_pcm16(
            understudy_fixtures::bundled::audio(name).expect("bundled clip"),
        )
        .expect("wav");
        pcm.chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]) >> shift)
            .collect()
    }

    fn hear(samples: &[i16]) -> Vec<Heard> {
        let mut segmenter = Segmenter::new(16_000, QwenAudioSettings::default());
        let mut heard = Vec::new();
        for chunk in samples.chunks(1_600) {
            heard.extend(segmenter.push(chunk));
        }
        heard.extend(segmenter.push(&vec![0; 16_000]));
        heard
    }

    #[test]
    fn a_bystander_24_db_down_is_ambient_with_its_words() {
        assert_eq!(
            hear(&clip("user-order-16k.wav", 4)),
            [Heard::Ambient {
                transcript: Some("Can you check the status of order A seventeen?")
            }]
        );
    }

    #[test]
    fn the_user_at_full_level_is_not_ambient_and_their_words_are_heard_early() {
        let heard = hear(&clip("user-weather-16k.wav", 0));
        assert_eq!(
            heard,
            [Heard::UserWords {
                transcript: "What is the weather like in Paris today?"
            }]
        );
    }

    #[test]
    fn the_ambient_level_is_a_setting() {
        let settings = QwenAudioSettings {
            ambient_below_rms: 0.5,
            ..QwenAudioSettings::default()
        };
        let mut segmenter = Segmenter::new(16_000, settings);
        let mut heard = segmenter.push(&clip("user-weather-16k.wav", 0));
        heard.extend(segmenter.push(&vec![0; 16_000]));
        assert!(matches!(
            heard.as_slice(),
            [Heard::Ambient {
                transcript: Some(_)
            }]
        ));
    }

    #[test]
    fn silence_is_nothing() {
        assert!(hear(&vec![0; 48_000]).is_empty());
    }
}
