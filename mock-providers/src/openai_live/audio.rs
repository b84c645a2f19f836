//! The session's one audio format, both directions (`session.audio.format`):
//! PCM16 at 16 or 24 kHz, or G.711 µ-law / A-law at 8 kHz. Input is decoded
//! to PCM16 samples for the VAD and the recogniser; the output track is
//! encoded back into it.

use understudy_adapters::g711;
use understudy_adapters::openai_live::wire::session::AudioFormat;

/// A session audio format the service offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveFormat {
    /// Signed 16-bit little-endian PCM at this rate.
    Pcm(u32),
    /// G.711 µ-law, 8 kHz.
    Ulaw,
    /// G.711 A-law, 8 kHz.
    Alaw,
}

impl LiveFormat {
    /// The format a validated `session.audio.format` names (the default,
    /// PCM16 at 24 kHz, when absent).
    pub fn of(format: Option<&AudioFormat>) -> Self {
        match format.map(|f| (f.kind.as_str(), f.rate)) {
            Some(("audio/pcmu", _)) => LiveFormat::Ulaw,
            Some(("audio/pcma", _)) => LiveFormat::Alaw,
            Some((_, Some(16_000))) => LiveFormat::Pcm(16_000),
            _ => LiveFormat::Pcm(24_000),
        }
    }

    /// Samples per second.
    pub fn rate(self) -> u32 {
        match self {
            LiveFormat::Pcm(rate) => rate,
            LiveFormat::Ulaw | LiveFormat::Alaw => 8_000,
        }
    }

    /// The wire bytes as PCM16 samples.
    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        match self {
            LiveFormat::Pcm(_) => bytes
                .chunks_exact(2)
                .map(|p| i16::from_le_bytes([p[0], p[1]]))
                .collect(),
            LiveFormat::Ulaw => bytes.iter().map(|b| g711::ulaw_to_linear(*b)).collect(),
            LiveFormat::Alaw => bytes.iter().map(|b| g711::alaw_to_linear(*b)).collect(),
        }
    }

    /// PCM16 samples as wire bytes.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        match self {
            LiveFormat::Pcm(_) => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
            LiveFormat::Ulaw => samples.iter().map(|s| g711::linear_to_ulaw(*s)).collect(),
            LiveFormat::Alaw => samples.iter().map(|s| g711::linear_to_alaw(*s)).collect(),
        }
    }

    /// Samples in `ms` milliseconds.
    pub fn samples_in(self, ms: u64) -> usize {
        (u64::from(self.rate()) * ms / 1000) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_decode_what_they_encode() {
        let samples = [0i16, 1000, -1000, 20_000];
        assert_eq!(
            LiveFormat::Pcm(24_000).decode(&LiveFormat::Pcm(24_000).encode(&samples)),
            samples
        );
        assert_eq!(LiveFormat::Ulaw.encode(&samples).len(), 4);
        assert_eq!(LiveFormat::Pcm(16_000).samples_in(100), 1600);
        assert_eq!(LiveFormat::Ulaw.samples_in(100), 800);
        let pcmu = AudioFormat {
            kind: "audio/pcmu".into(),
            rate: Some(8000),
            ..Default::default()
        };
        assert_eq!(LiveFormat::of(Some(&pcmu)), LiveFormat::Ulaw);
        assert_eq!(LiveFormat::of(None), LiveFormat::Pcm(24_000));
    }
}
