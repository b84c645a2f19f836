//! Energy-based voice activity detection, sans-IO.
//!
//! Feed PCM16 samples as they arrive; the detector reports when speech starts
//! and stops, in milliseconds of audio since the session began. It is
//! deliberately simple (RMS over 20 ms windows against a threshold, a short
//! minimum speech run, a silence hang-over) because its job is to behave like a
//! provider's server VAD on clean test audio, deterministically.

use understudy_adapters::audio::rms;

/// Window length the detector works in.
const WINDOW_MS: u64 = 20;
/// Consecutive loud windows needed before speech counts as started.
const MIN_SPEECH_WINDOWS: u32 = 2;

/// Tuning of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// RMS level (0.0–1.0 of full scale) above which a window is speech.
    pub rms_threshold: f64,
    /// Silence that ends speech, in milliseconds.
    pub silence_duration_ms: u64,
}

impl VadConfig {
    /// Maps an OpenAI-style threshold (0.0–1.0, default 0.5) onto an RMS level:
    /// 0.5 ⇒ 0.02 of full scale, scaling linearly.
    pub fn from_provider_threshold(threshold: f64, silence_duration_ms: u64) -> Self {
        VadConfig {
            rms_threshold: (threshold.clamp(0.0, 1.0) * 0.04).max(0.001),
            silence_duration_ms,
        }
    }
}

impl Default for VadConfig {
    fn default() -> Self {
        Self::from_provider_threshold(0.5, 500)
    }
}

/// What the detector heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech began at this offset (ms of audio since the session began).
    SpeechStarted {
        /// Offset of the first loud window.
        at_ms: u64,
    },
    /// Speech ended at this offset (end of the last loud window).
    SpeechStopped {
        /// Offset of the end of speech.
        at_ms: u64,
    },
}

/// Streaming energy VAD over PCM16 mono.
#[derive(Debug, Clone)]
pub struct EnergyVad {
    config: VadConfig,
    sample_rate: u32,
    window: Vec<i16>,
    windows_seen: u64,
    loud_run: u32,
    speaking: bool,
    last_loud_end_ms: u64,
}

impl EnergyVad {
    /// A detector for audio at `sample_rate`.
    pub fn new(config: VadConfig, sample_rate: u32) -> Self {
        EnergyVad {
            config,
            sample_rate: sample_rate.max(1),
            window: Vec::new(),
            windows_seen: 0,
            loud_run: 0,
            speaking: false,
            last_loud_end_ms: 0,
        }
    }

    /// Whether speech is in progress.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Feeds samples; returns what was detected in them, in order.
    pub fn push(&mut self, samples: &[i16]) -> Vec<VadEvent> {
        let window_len = (self.sample_rate as u64 * WINDOW_MS / 1000).max(1) as usize;
        let mut events = Vec::new();
        for &sample in samples {
            self.window.push(sample);
            if self.window.len() == window_len {
                let loud = rms(&self.window) >= self.config.rms_threshold;
                self.window.clear();
                self.windows_seen += 1;
                self.on_window(loud, &mut events);
            }
        }
        events
    }

    /// Changes the tuning; the clock and any speech in progress are kept.
    pub fn reconfigure(&mut self, config: VadConfig) {
        self.config = config;
    }

    /// Forgets speech state (after a manual commit or clear) but keeps the clock.
    pub fn reset(&mut self) {
        self.loud_run = 0;
        self.speaking = false;
    }

    fn on_window(&mut self, loud: bool, events: &mut Vec<VadEvent>) {
        let end_ms = self.windows_seen * WINDOW_MS;
        if loud {
            self.loud_run += 1;
            self.last_loud_end_ms = end_ms;
            if !self.speaking && self.loud_run >= MIN_SPEECH_WINDOWS {
                self.speaking = true;
                let start = end_ms.saturating_sub(u64::from(self.loud_run) * WINDOW_MS);
                events.push(VadEvent::SpeechStarted { at_ms: start });
            }
        } else {
            self.loud_run = 0;
            if self.speaking && end_ms - self.last_loud_end_ms >= self.config.silence_duration_ms {
                self.speaking = false;
                events.push(VadEvent::SpeechStopped {
                    at_ms: self.last_loud_end_ms,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: u64, rate: u32) -> Vec<i16> {
        (0..(rate as u64 * ms / 1000))
            .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
            .collect()
    }

    #[test]
    fn detects_a_tone_between_silences() {
        let rate = 24_000;
        let mut vad = EnergyVad::new(VadConfig::default(), rate);
        let mut audio = vec![0i16; 24_000 / 10 * 3]; // 300 ms
        audio.extend(tone(1000, rate));
        audio.extend(vec![0i16; 24_000]); // 1 s
        let events = vad.push(&audio);
        assert_eq!(
            events,
            vec![
                VadEvent::SpeechStarted { at_ms: 300 },
                VadEvent::SpeechStopped { at_ms: 1300 }
            ]
        );
        assert!(!vad.is_speaking());
    }

    #[test]
    fn silence_shorter_than_the_hangover_does_not_end_speech() {
        let rate = 16_000;
        let mut vad = EnergyVad::new(VadConfig::from_provider_threshold(0.5, 500), rate);
        let mut audio = tone(400, rate);
        audio.extend(vec![0i16; 16 * 200]);
        audio.extend(tone(400, rate));
        let events = vad.push(&audio);
        assert_eq!(events, vec![VadEvent::SpeechStarted { at_ms: 0 }]);
        assert!(vad.is_speaking());
    }

    #[test]
    fn reconfiguring_keeps_the_clock() {
        let rate = 24_000;
        let mut vad = EnergyVad::new(VadConfig::default(), rate);
        vad.push(&vec![0i16; 24_000]); // 1 s of silence
        vad.reconfigure(VadConfig::from_provider_threshold(0.5, 300));
        let events = vad.push(&tone(500, rate));
        assert_eq!(events, vec![VadEvent::SpeechStarted { at_ms: 1000 }]);
    }

    #[test]
    fn chunking_does_not_change_the_result() {
        let rate = 24_000;
        let mut audio = vec![0i16; 4800];
        audio.extend(tone(700, rate));
        audio.extend(vec![0i16; 24_000]);
        let whole = EnergyVad::new(VadConfig::default(), rate).push(&audio);
        let mut vad = EnergyVad::new(VadConfig::default(), rate);
        let pieces: Vec<VadEvent> = audio.chunks(333).flat_map(|c| vad.push(c)).collect();
        assert_eq!(whole, pieces);
    }
}
