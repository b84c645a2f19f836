//! A small streaming linear resampler for PCM16 mono audio.
//!
//! The agent resamples at its edges: user audio from the front end's rate to
//! the model's input rate, model audio from the model's output rate to the
//! front end's playback rate (`Capabilities::input_sample_rate` /
//! `output_sample_rate` say what the model takes and gives). Linear
//! interpolation is crude next to a windowed-sinc filter (it aliases a little
//! when downsampling), but it is cheap, allocation-light, has no lookahead and
//! keeps speech intelligible, which is what a voice agent's edges need.
//!
//! The resampler is stateful so that a stream cut into arbitrary chunks comes
//! out the same as the whole stream at once: it carries the last input sample,
//! the fractional read position and a dangling odd byte from one chunk to the
//! next.

/// Converts a stream of PCM16 little-endian mono audio from one rate to another.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// The last input sample of the previous chunk (index 0 of the next
    /// virtual buffer), once any audio was seen.
    prev: Option<i16>,
    /// Read position of the next output sample in units of `1 / to` input
    /// samples, relative to `prev` (or to the first sample of the next chunk
    /// when there is no `prev` yet). Integer arithmetic keeps a chunked
    /// stream bit-identical to the whole clip.
    pos: u64,
    /// A trailing odd byte held back until its pair arrives.
    odd: Option<u8>,
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz. A zero rate is treated as 1 Hz
    /// (nonsense in, but never a division by zero or a panic).
    pub fn new(from: u32, to: u32) -> Self {
        let (from, to) = (from.max(1), to.max(1));
        Resampler {
            from,
            to,
            prev: None,
            pos: 0,
            odd: None,
        }
    }

    /// The input rate.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// The output rate.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// Whether the rates are equal (the audio passes through untouched).
    pub fn is_passthrough(&self) -> bool {
        self.from == self.to
    }

    /// Resamples the next chunk of the stream. Odd byte counts are fine: the
    /// last byte waits for the next chunk.
    pub fn process(&mut self, pcm: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(pcm.len() + 1);
        if let Some(b) = self.odd.take() {
            bytes.push(b);
        }
        bytes.extend_from_slice(pcm);
        if bytes.len() % 2 == 1 {
            self.odd = bytes.pop();
        }
        if self.is_passthrough() {
            return bytes;
        }
        let mut input: Vec<i16> = Vec::with_capacity(bytes.len() / 2 + 1);
        input.extend(self.prev);
        input.extend(
            bytes
                .chunks_exact(2)
                .map(|p| i16::from_le_bytes([p[0], p[1]])),
        );
        if input.len() < 2 {
            // Not enough to interpolate yet: keep the one sample for later.
            self.prev = input.first().copied();
            return Vec::new();
        }
        let (from, to) = (u64::from(self.from), u64::from(self.to));
        let last = input.len() - 1;
        let expected = (last as u64 * to).saturating_sub(self.pos) / from + 1;
        let mut out = Vec::with_capacity(expected as usize * 2);
        while (self.pos / to) < last as u64 {
            let i = (self.pos / to) as usize;
            let frac = (self.pos % to) as f64 / to as f64;
            let a = f64::from(input[i]);
            let b = f64::from(input[i + 1]);
            let y = (a + (b - a) * frac).round();
            let y = y.clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
            out.extend_from_slice(&y.to_le_bytes());
            self.pos += from;
        }
        self.prev = Some(input[last]);
        self.pos -= last as u64 * to;
        out
    }
}

/// Resamples a whole clip at once (a fresh [`Resampler`] over one chunk).
pub fn resample_pcm16(pcm: &[u8], from: u32, to: u32) -> Vec<u8> {
    Resampler::new(from, to).process(pcm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64) -> Vec<u8> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                ((t * freq * std::f64::consts::TAU).sin() * 12_000.0).round() as i16
            })
            .flat_map(i16::to_le_bytes)
            .collect()
    }

    fn samples(pcm: &[u8]) -> Vec<i16> {
        pcm.chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect()
    }

    /// Frequency estimated from upward zero crossings.
    fn frequency(pcm: &[u8], rate: u32) -> f64 {
        let s = samples(pcm);
        let crossings = s.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        crossings as f64 * f64::from(rate) / s.len() as f64
    }

    #[test]
    fn lengths_scale_with_the_rate_ratio() {
        for (from, to) in [
            (16_000, 24_000),
            (24_000, 16_000),
            (48_000, 24_000),
            (8_000, 24_000),
        ] {
            let input = vec![0u8; from as usize * 2]; // one second
            let out = resample_pcm16(&input, from, to);
            let got = out.len() / 2;
            assert!(
                got.abs_diff(to as usize) <= 3,
                "{from}->{to}: {got} samples for one second"
            );
        }
    }

    #[test]
    fn a_sine_keeps_its_frequency() {
        for (from, to) in [(16_000, 24_000), (24_000, 16_000), (24_000, 48_000)] {
            let input = sine(440.0, from, 1.0);
            let out = resample_pcm16(&input, from, to);
            let f = frequency(&out, to);
            assert!((f - 440.0).abs() < 5.0, "{from}->{to}: {f} Hz");
        }
    }

    #[test]
    fn chunked_streams_match_the_whole_clip() {
        let input = sine(300.0, 16_000, 0.5);
        let whole = resample_pcm16(&input, 16_000, 24_000);
        let mut r = Resampler::new(16_000, 24_000);
        let mut chunked = Vec::new();
        // Odd chunk sizes split samples across chunks.
        for chunk in input.chunks(317) {
            chunked.extend(r.process(chunk));
        }
        assert_eq!(chunked, whole);
    }

    #[test]
    fn odd_byte_counts_and_tiny_inputs_do_not_panic() {
        let mut r = Resampler::new(24_000, 16_000);
        assert!(r.process(&[]).is_empty());
        assert!(r.process(&[7]).is_empty());
        assert!(r.process(&[0]).is_empty(), "one sample is not enough yet");
        let out = r.process(&[1, 2, 3]);
        assert_eq!(out.len() % 2, 0);
        assert!(resample_pcm16(&[1], 16_000, 24_000).is_empty());
        assert!(resample_pcm16(&[1, 2, 3], 0, 0).len() <= 2);
    }

    #[test]
    fn equal_rates_pass_through() {
        let input = sine(200.0, 24_000, 0.1);
        assert_eq!(resample_pcm16(&input, 24_000, 24_000), input);
    }
}
