//! Turns the base64 fragments of `delta.audio.data` into whole PCM16 samples.
//!
//! Fragments are concatenated, not decoded one by one: a provider may cut the
//! base64 text anywhere (a fragment's length need not be a multiple of four)
//! and the decoded bytes need not end on a sample boundary (§6.1). Padded
//! fragments (`…==`, what both services send) decode on their own. A split
//! sample is carried into the next delta so every delta holds whole samples.

use super::error::ChatError;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Base64 text and a byte left over between fragments.
#[derive(Debug, Clone, Default)]
pub struct AudioStream {
    base64: String,
    odd_byte: Option<u8>,
    total_bytes: usize,
}

impl AudioStream {
    /// Adds a fragment; returns the whole samples it completes (possibly none).
    pub fn push(&mut self, fragment: &str) -> Result<Vec<u8>, ChatError> {
        self.base64
            .extend(fragment.chars().filter(|c| !c.is_ascii_whitespace()));
        let ready = self.base64.len() - self.base64.len() % 4;
        if ready == 0 {
            return Ok(Vec::new());
        }
        // Decode quad by quad groups; a quad with padding ends a group, so
        // padded fragments that were concatenated still decode.
        let mut decoded = Vec::with_capacity(ready / 4 * 3);
        let mut start = 0;
        let text = self.base64.as_bytes();
        for quad in (0..ready).step_by(4) {
            let end = quad + 4;
            if end == ready || text[quad..end].contains(&b'=') {
                LENIENT
                    .decode_vec(&text[start..end], &mut decoded)
                    .map_err(|e| {
                        ChatError::Audio(format!("{e} in `{}`", snippet(&self.base64[start..])))
                    })?;
                start = end;
            }
        }
        self.base64.drain(..ready);
        Ok(self.whole_samples(decoded))
    }

    /// End of the audio: decodes what is left. A final odd byte (half a
    /// sample) is dropped.
    pub fn finish(&mut self) -> Result<Vec<u8>, ChatError> {
        let rest = std::mem::take(&mut self.base64);
        let decoded = if rest.is_empty() {
            Vec::new()
        } else {
            LENIENT
                .decode(&rest)
                .map_err(|e| ChatError::Audio(format!("{e} at the end of the audio `{rest}`")))?
        };
        let samples = self.whole_samples(decoded);
        if self.odd_byte.take().is_some() {
            tracing::debug!("audio ended with half a sample; dropped");
        }
        Ok(samples)
    }

    /// Bytes decoded so far.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    fn whole_samples(&mut self, decoded: Vec<u8>) -> Vec<u8> {
        self.total_bytes += decoded.len();
        let mut bytes = Vec::with_capacity(decoded.len() + 1);
        bytes.extend(self.odd_byte.take());
        bytes.extend(decoded);
        if bytes.len() % 2 == 1 {
            self.odd_byte = bytes.pop();
        }
        bytes
    }
}

fn snippet(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    #[test]
    fn padded_fragments_decode_alone_and_odd_bytes_carry_over() {
        let mut stream = AudioStream::default();
        // "AQID" = [1,2,3]: three bytes, one sample and a carried byte.
        assert_eq!(stream.push("AQID").unwrap(), vec![1, 2]);
        assert_eq!(stream.push("BA==").unwrap(), vec![3, 4]);
        assert_eq!(stream.finish().unwrap(), Vec::<u8>::new());
        assert_eq!(stream.total_bytes(), 4);
        // Two padded fragments arriving as one string still decode.
        let mut stream = AudioStream::default();
        assert_eq!(stream.push("AQI=AwQ=").unwrap(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut stream = AudioStream::default();
        assert!(matches!(stream.push("!!!!"), Err(ChatError::Audio(_))));
        let mut stream = AudioStream::default();
        stream.push("A").unwrap();
        assert!(matches!(stream.finish(), Err(ChatError::Audio(_))));
    }

    proptest! {
        #[test]
        fn cutting_the_base64_anywhere_yields_the_same_bytes(
            bytes in prop::collection::vec(any::<u8>(), 0..300),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let text = STANDARD.encode(&bytes);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(text.len() + 1)).collect();
            points.sort_unstable();
            let mut stream = AudioStream::default();
            let mut out = Vec::new();
            let mut start = 0;
            for p in points {
                let piece = stream.push(&text[start..p]).unwrap();
                prop_assert!(piece.len() % 2 == 0);
                out.extend(piece);
                start = p;
            }
            out.extend(stream.push(&text[start..]).unwrap());
            out.extend(stream.finish().unwrap());
            let whole = bytes.len() - bytes.len() % 2;
            prop_assert_eq!(&out[..], &bytes[..whole]);
        }
    }
}
