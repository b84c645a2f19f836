//! A heuristic for the most common DashScope input bug: speech recorded at
//! 24 kHz sent to a 16 kHz session.
//!
//! Played at the wrong rate, speech is 2/3 as fast and its pitch drops by the
//! same factor: a typical 100–250 Hz voice lands at 67–167 Hz, and most of it
//! below the 85 Hz floor of ordinary adult speech. The check estimates the
//! pitch of loud 40 ms windows by autocorrelation and, once it has a second of
//! voiced audio, judges the median once. It is a heuristic: a very deep voice
//! can trip it, and a high voice sent at the wrong rate can pass.

/// Median pitch below which speech is judged to be at the wrong rate.
pub const SUSPICIOUS_F0_HZ: f64 = 80.0;
/// Voiced windows needed before judging (25 × 40 ms = 1 s).
const WINDOWS_NEEDED: usize = 25;
const WINDOW_MS: usize = 40;
/// Windows quieter than this RMS (of full scale) are not voiced.
const VOICED_RMS: f64 = 0.05;

/// The verdict on the session's input rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateVerdict {
    /// Speech pitch is ordinary at the labelled rate.
    Plausible {
        /// Median pitch, in Hz.
        median_f0: f64,
    },
    /// Speech pitch is implausibly low: probably audio at 1.5× the labelled rate.
    Suspicious {
        /// Median pitch, in Hz.
        median_f0: f64,
    },
}

/// Streams samples and judges once there is enough voiced audio.
#[derive(Debug, Clone)]
pub struct RateCheck {
    rate: u32,
    window: Vec<i16>,
    pitches: Vec<f64>,
    verdict: Option<RateVerdict>,
}

impl RateCheck {
    /// A check for audio labelled `rate`.
    pub fn new(rate: u32) -> Self {
        RateCheck {
            rate: rate.max(1),
            window: Vec::new(),
            pitches: Vec::new(),
            verdict: None,
        }
    }

    /// Feeds samples; returns the verdict the moment it is reached (once).
    pub fn push(&mut self, samples: &[i16]) -> Option<RateVerdict> {
        if self.verdict.is_some() {
            return None;
        }
        let window_len = self.rate as usize * WINDOW_MS / 1000;
        for &sample in samples {
            self.window.push(sample);
            if self.window.len() == window_len {
                if let Some(f0) = pitch(&self.window, self.rate) {
                    self.pitches.push(f0);
                }
                self.window.clear();
            }
        }
        if self.pitches.len() < WINDOWS_NEEDED {
            return None;
        }
        let mut sorted = self.pitches.clone();
        sorted.sort_by(f64::total_cmp);
        let median_f0 = sorted[sorted.len() / 2];
        let verdict = if median_f0 < SUSPICIOUS_F0_HZ {
            RateVerdict::Suspicious { median_f0 }
        } else {
            RateVerdict::Plausible { median_f0 }
        };
        self.verdict = Some(verdict);
        Some(verdict)
    }
}

/// Pitch of a loud window by autocorrelation over 50–400 Hz; `None` when quiet.
fn pitch(window: &[i16], rate: u32) -> Option<f64> {
    if understudy_adapters::audio::rms(window) < VOICED_RMS {
        return None;
    }
    let x: Vec<f64> = window.iter().map(|&s| f64::from(s)).collect();
    let lo = (rate / 400).max(1) as usize;
    let hi = ((rate / 50) as usize).min(x.len().saturating_sub(1));
    let mut best: Option<(f64, usize)> = None;
    for lag in lo..hi {
        let c: f64 = x.iter().zip(&x[lag..]).step_by(2).map(|(a, b)| a * b).sum();
        if best.is_none_or(|(bc, _)| c > bc) {
            best = Some((c, lag));
        }
    }
    best.filter(|(c, _)| *c > 0.0)
        .map(|(_, lag)| f64::from(rate) / lag as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(name: &str) -> (Vec<i16>, u32) {
        let wav = understudy_fixtures::bundled::audio(name).unwrap();
        let (pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).unwrap();
        (
            pcm.chunks_exact(2)
                .map(|p| i16::from_le_bytes([p[0], p[1]]))
                .collect(),
            rate,
        )
    }

    fn verdict(samples: &[i16], labelled: u32) -> RateVerdict {
        let mut check = RateCheck::new(labelled);
        samples
            .chunks(1600)
            .find_map(|c| check.push(c))
            .expect("enough voiced audio")
    }

    #[test]
    fn speech_at_its_own_rate_is_plausible() {
        let (pcm, rate) = voice("user-weather-16k.wav");
        assert!(
            matches!(verdict(&pcm, rate), RateVerdict::Plausible { median_f0 } if median_f0 > 85.0)
        );
    }

    #[test]
    fn speech_at_24k_labelled_16k_is_suspicious() {
        for name in ["user-weather-24k.wav", "user-order-24k.wav"] {
            let (pcm, rate) = voice(name);
            assert_eq!(rate, 24_000);
            assert!(
                matches!(verdict(&pcm, 16_000), RateVerdict::Suspicious { .. }),
                "{name}"
            );
            assert!(
                matches!(verdict(&pcm, 24_000), RateVerdict::Plausible { .. }),
                "{name} at its own rate"
            );
        }
    }

    #[test]
    fn the_verdict_comes_once() {
        let (pcm, rate) = voice("user-weather-16k.wav");
        let mut check = RateCheck::new(rate);
        let verdicts = pcm.chunks(800).filter_map(|c| check.push(c)).count();
        assert_eq!(verdicts, 1);
    }
}
