//! Deterministic "speech" for the HTTP TTS respond engine, and its pacing.
//!
//! The mock cannot speak arbitrary text, so it answers with slices of the
//! bundled voice recording: about 60 ms of audio per character (capped), divided
//! by the requested speed, starting at an offset taken from a hash of the text.
//! The same text always yields the same samples; a longer text yields more;
//! two different texts almost always differ. Pacing comes from the respond
//! engine's [`ResponderConfig`]: a first-audio delay ("thinking"), then chunks
//! of `chunk_ms` audio at `pace` wall-clock time per audio time, all divided by
//! the mock's speed factor.

use crate::ResponderConfig;
use std::sync::Arc;
use std::time::Duration;

/// Audio per character of input.
pub const MS_PER_CHAR: u64 = 60;
/// Shortest answer (a single character still sounds like something).
pub const MIN_MS: u64 = 300;
/// Longest answer, before the speed factor (keeps long inputs cheap to test).
pub const MAX_MS: u64 = 20_000;

/// How the respond engine voices and paces HTTP TTS answers.
#[derive(Debug, Clone)]
pub struct Synth {
    /// The voice: PCM16 mono samples.
    pub voice: Arc<[i16]>,
    /// Its sample rate.
    pub rate: u32,
    /// Delay before the first audio byte.
    pub first_audio: Duration,
    /// Audio per body chunk, in milliseconds.
    pub chunk_ms: u64,
    /// Wall-clock time per audio time while streaming (0.5 = twice real time).
    pub pace: f64,
}

impl Synth {
    /// The settings of a running mock: its responder's voice and pacing, and
    /// its speed factor.
    pub fn from_responder(config: &ResponderConfig, speed: f64) -> Self {
        let speed = if speed > 0.0 { speed } else { 1.0 };
        Synth {
            voice: config.voice.clone(),
            rate: 24_000,
            first_audio: Duration::from_secs_f64(config.first_audio_ms as f64 / 1000.0 / speed),
            chunk_ms: config.chunk_ms.max(10),
            pace: (config.pace / speed).max(0.0),
        }
    }

    /// This request's first-audio delay: an `X-Understudy-First-Audio-Ms`
    /// header overrides the configured one (clients measuring time to first
    /// sound set it).
    pub fn with_first_audio_ms(mut self, ms: Option<u64>) -> Self {
        if let Some(ms) = ms {
            self.first_audio = Duration::from_millis(ms);
        }
        self
    }

    /// How long `text` sounds at `speed`.
    pub fn duration_ms(text: &str, speed: f64) -> u64 {
        let chars = text.chars().count() as u64;
        let ms = (chars * MS_PER_CHAR).clamp(MIN_MS, MAX_MS) as f64;
        (ms / speed.clamp(0.25, 4.0)).round() as u64
    }

    /// The samples spoken for `text` at `speed`.
    pub fn samples(&self, text: &str, speed: f64) -> Vec<i16> {
        let wanted = (u64::from(self.rate) * Self::duration_ms(text, speed) / 1000) as usize;
        if self.voice.is_empty() {
            return vec![0; wanted];
        }
        let offset = (fnv1a(text.as_bytes()) % self.voice.len() as u64) as usize;
        self.voice
            .iter()
            .copied()
            .cycle()
            .skip(offset)
            .take(wanted)
            .collect()
    }

    /// The samples as PCM16 little-endian bytes.
    pub fn pcm(&self, text: &str, speed: f64) -> Vec<u8> {
        self.samples(text, speed)
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect()
    }

    /// Bytes of PCM16 per chunk.
    pub fn chunk_bytes(&self) -> usize {
        (self.rate as usize * self.chunk_ms as usize / 1000).max(1) * 2
    }

    /// Wall-clock time to stream one chunk of `bytes` PCM16 bytes.
    pub fn chunk_delay(&self, bytes: usize) -> Duration {
        let audio_s = (bytes / 2) as f64 / f64::from(self.rate);
        Duration::from_secs_f64(audio_s * self.pace)
    }
}

/// FNV-1a, 64-bit: a tiny stable hash (std's hasher is not stable across releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth() -> Synth {
        let voice: Vec<i16> = (0..24_000).map(|i| (i % 2000) as i16).collect();
        Synth {
            voice: voice.into(),
            rate: 24_000,
            first_audio: Duration::from_millis(100),
            chunk_ms: 100,
            pace: 0.5,
        }
    }

    #[test]
    fn length_grows_with_the_text_and_is_capped() {
        let s = synth();
        assert_eq!(s.samples("a", 1.0).len(), 24_000 * 300 / 1000);
        assert_eq!(s.samples("hello world", 1.0).len(), 24_000 * 660 / 1000);
        assert!(s.samples(&"x".repeat(1000), 1.0).len() == 24_000 * 20);
        assert_eq!(s.samples("hello world", 2.0).len(), 24_000 * 330 / 1000);
    }

    #[test]
    fn the_same_text_gives_the_same_audio_and_another_text_differs() {
        let s = synth();
        assert_eq!(s.pcm("hello there", 1.0), s.pcm("hello there", 1.0));
        assert_ne!(s.pcm("hello there", 1.0), s.pcm("hello where", 1.0));
    }

    #[test]
    fn pacing_follows_the_responder_and_the_speed_factor() {
        let s = synth();
        assert_eq!(s.chunk_bytes(), 4_800);
        assert_eq!(s.chunk_delay(4_800), Duration::from_millis(50));
        let config = ResponderConfig::with_voice(s.voice.clone());
        let fast = Synth::from_responder(&config, 2.0);
        assert_eq!(fast.first_audio, Duration::from_millis(90));
        assert_eq!(
            fast.with_first_audio_ms(Some(5)).first_audio,
            Duration::from_millis(5)
        );
    }
}
