//! Audio as the normalised layer sees it: raw PCM16 little-endian mono bytes.
//!
//! Providers put audio on the wire as base64 inside JSON. That is a wire detail:
//! the codecs decode it, and everything above the adapters handles [`Pcm`] bytes
//! and a sample rate. In JSON (evidence, snapshots) a [`Pcm`] is written as a
//! standard base64 string so the normalised form stays lossless.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Raw PCM16 little-endian mono audio bytes.
///
/// `Debug` prints only the length, so logs never fill with sample data.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Pcm(pub Vec<u8>);

impl Pcm {
    /// Decodes a base64 payload as it appears on provider wires.
    pub fn from_base64(encoded: &str) -> Result<Self, base64::DecodeError> {
        STANDARD.decode(encoded).map(Pcm)
    }

    /// Encodes the bytes as standard (padded) base64, the form every provider uses.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no audio at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Duration in milliseconds at the given rate, assuming 16-bit mono samples.
    pub fn duration_ms(&self, sample_rate: u32) -> f64 {
        pcm16_duration_ms(self.0.len(), sample_rate)
    }

    /// Iterates over the 16-bit samples (a trailing odd byte is ignored).
    pub fn samples(&self) -> impl Iterator<Item = i16> + '_ {
        self.0
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
    }

    /// Builds PCM bytes from 16-bit samples.
    pub fn from_samples(samples: &[i16]) -> Self {
        Pcm(samples.iter().flat_map(|s| s.to_le_bytes()).collect())
    }
}

/// Duration in milliseconds of `byte_len` bytes of 16-bit mono audio at `sample_rate`.
pub fn pcm16_duration_ms(byte_len: usize, sample_rate: u32) -> f64 {
    if sample_rate == 0 {
        return 0.0;
    }
    (byte_len / 2) as f64 * 1000.0 / f64::from(sample_rate)
}

impl From<Vec<u8>> for Pcm {
    fn from(bytes: Vec<u8>) -> Self {
        Pcm(bytes)
    }
}

impl fmt::Debug for Pcm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pcm({} bytes)", self.0.len())
    }
}

impl Serialize for Pcm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Pcm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let encoded = String::deserialize(deserializer)?;
        Pcm::from_base64(&encoded).map_err(serde::de::Error::custom)
    }
}

/// How audio samples are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioEncoding {
    /// Signed 16-bit little-endian PCM.
    Pcm16,
    /// G.711 µ-law, 8 bits per sample.
    G711Ulaw,
    /// G.711 A-law, 8 bits per sample.
    G711Alaw,
}

/// An audio stream's format: encoding, rate, always mono.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AudioFormat {
    /// Sample encoding.
    pub encoding: AudioEncoding,
    /// Samples per second.
    pub sample_rate: u32,
}

impl AudioFormat {
    /// PCM16 mono at the given rate.
    pub const fn pcm16(sample_rate: u32) -> Self {
        AudioFormat {
            encoding: AudioEncoding::Pcm16,
            sample_rate,
        }
    }

    /// G.711 µ-law at 8 kHz.
    pub const G711_ULAW: AudioFormat = AudioFormat {
        encoding: AudioEncoding::G711Ulaw,
        sample_rate: 8000,
    };

    /// G.711 A-law at 8 kHz.
    pub const G711_ALAW: AudioFormat = AudioFormat {
        encoding: AudioEncoding::G711Alaw,
        sample_rate: 8000,
    };
}

/// Root-mean-square energy of PCM16 samples, normalised to 0.0–1.0.
///
/// The mock providers' energy VAD and the conformance audibility check (TTFA) both
/// use this, so "audible" means the same thing on both sides.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples
        .iter()
        .map(|&s| {
            let x = f64::from(s) / 32768.0;
            x * x
        })
        .sum();
    (sum / samples.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_json_is_base64_and_round_trips() {
        let pcm = Pcm::from_samples(&[0, 1, -1, i16::MAX, i16::MIN]);
        let json = serde_json::to_string(&pcm).unwrap();
        assert_eq!(json, format!("\"{}\"", pcm.to_base64()));
        let back: Pcm = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pcm);
        assert_eq!(
            back.samples().collect::<Vec<_>>(),
            vec![0, 1, -1, i16::MAX, i16::MIN]
        );
    }

    #[test]
    fn duration_counts_samples_not_bytes() {
        let pcm = Pcm(vec![0; 48_000]);
        assert_eq!(pcm.duration_ms(24_000), 1000.0);
        assert_eq!(pcm16_duration_ms(10, 0), 0.0);
    }

    #[test]
    fn rms_of_silence_is_zero_and_of_full_scale_is_near_one() {
        assert_eq!(rms(&[0; 100]), 0.0);
        assert!(rms(&[i16::MIN; 100]) > 0.99);
        assert_eq!(rms(&[]), 0.0);
    }
}
