//! Turning streamed audio bodies into whole PCM16 samples, incrementally.
//!
//! An HTTP body arrives in chunks cut at arbitrary bytes, so a chunk may end in
//! the middle of a sample or of a WAV header. [`SampleAligner`] holds back a
//! trailing odd byte until its partner arrives; [`WavStream`] reads a WAV
//! header as it streams in, takes the sample rate from it, and then passes the
//! samples through. Streamed WAV headers are written before the length is
//! known, so their sizes may be placeholders (`0` or `0xFFFFFFFF`): the data
//! chunk is then read to the end of the body.

/// Keeps PCM16 chunks whole-sample: an odd trailing byte waits for the next chunk.
#[derive(Debug, Default)]
pub struct SampleAligner {
    carry: Option<u8>,
}

impl SampleAligner {
    /// The whole samples available after `bytes` (an even number of bytes).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() + 1);
        if let Some(byte) = self.carry.take() {
            out.push(byte);
        }
        out.extend_from_slice(bytes);
        if out.len() % 2 == 1 {
            self.carry = out.pop();
        }
        out
    }

    /// Whether a half sample is still waiting (at the end of a body: it was truncated).
    pub fn has_partial(&self) -> bool {
        self.carry.is_some()
    }
}

/// Why a WAV stream cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavStreamError {
    /// The body does not start with `RIFF…WAVE`.
    #[error("not a WAV stream (no RIFF/WAVE header)")]
    NotWav,
    /// The samples are not 16-bit PCM mono.
    #[error("unsupported WAV format: {0}")]
    Unsupported(String),
    /// The body ended before the header did.
    #[error("the WAV header is truncated")]
    Truncated,
    /// The `data` chunk came before any `fmt ` chunk.
    #[error("WAV data before its fmt chunk")]
    NoFormat,
}

/// Where the reader is in the file.
#[derive(Debug)]
enum Stage {
    /// Reading the 12-byte RIFF header, then an 8-byte chunk header.
    Header,
    /// Collecting a `fmt ` body of this many bytes (padding included).
    Format(usize),
    /// Skipping the remaining bytes of a chunk that is neither `fmt ` nor `data`.
    Skip(u64),
    /// In the samples; `None` when the size was a placeholder (read to the end).
    Data(Option<u64>),
    /// The data chunk is over; anything after it is ignored.
    Trailer,
}

/// Header sizes that mean "not known yet" in a streamed WAV.
fn is_placeholder(size: u32) -> bool {
    size == 0 || size == u32::MAX
}

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_EXTENSIBLE` (the sub-format must then be PCM).
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Incremental WAV reader: push body chunks, get PCM16 samples back.
#[derive(Debug)]
pub struct WavStream {
    stage: Stage,
    buf: Vec<u8>,
    riff_seen: bool,
    rate: Option<u32>,
    aligner: SampleAligner,
}

impl Default for WavStream {
    fn default() -> Self {
        WavStream {
            stage: Stage::Header,
            buf: Vec::new(),
            riff_seen: false,
            rate: None,
            aligner: SampleAligner::default(),
        }
    }
}

impl WavStream {
    /// A reader at the start of a body.
    pub fn new() -> Self {
        WavStream::default()
    }

    /// The sample rate, once the `fmt ` chunk has been read.
    pub fn sample_rate(&self) -> Option<u32> {
        self.rate
    }

    /// Feeds the next chunk; returns the whole samples it completed (possibly none).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, WavStreamError> {
        let mut input = bytes;
        let mut out = Vec::new();
        while !input.is_empty() {
            match &mut self.stage {
                Stage::Trailer => break,
                Stage::Data(remaining) => {
                    let take = match remaining {
                        Some(left) => (*left).min(input.len() as u64) as usize,
                        None => input.len(),
                    };
                    out.extend(self.aligner.push(&input[..take]));
                    input = &input[take..];
                    if let Some(left) = remaining {
                        *left -= take as u64;
                        if *left == 0 {
                            self.stage = Stage::Trailer;
                        }
                    }
                }
                Stage::Skip(left) => {
                    let take = (*left).min(input.len() as u64) as usize;
                    *left -= take as u64;
                    input = &input[take..];
                    if *left == 0 {
                        self.stage = Stage::Header;
                    }
                }
                Stage::Format(len) => {
                    let len = *len;
                    if !self.fill(len, &mut input) {
                        break;
                    }
                    self.read_format()?;
                    self.buf.clear();
                    self.stage = Stage::Header;
                }
                Stage::Header => {
                    let want = if self.riff_seen { 8 } else { 12 };
                    if !self.fill(want, &mut input) {
                        break;
                    }
                    self.read_header()?;
                    self.buf.clear();
                }
            }
        }
        Ok(out)
    }

    /// Moves bytes from `input` into `buf` until it holds `want`; whether it does.
    fn fill(&mut self, want: usize, input: &mut &[u8]) -> bool {
        let take = want.saturating_sub(self.buf.len()).min(input.len());
        self.buf.extend_from_slice(&input[..take]);
        *input = &input[take..];
        self.buf.len() >= want
    }

    /// Reads the RIFF header or a chunk header from `buf` and picks the next stage.
    fn read_header(&mut self) -> Result<(), WavStreamError> {
        let b = &self.buf;
        if !self.riff_seen {
            if &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
                return Err(WavStreamError::NotWav);
            }
            // The RIFF size is not used: streamed files carry a placeholder.
            self.riff_seen = true;
            return Ok(());
        }
        let size = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        self.stage = match &b[0..4] {
            b"data" => {
                if self.rate.is_none() {
                    return Err(WavStreamError::NoFormat);
                }
                Stage::Data((!is_placeholder(size)).then_some(u64::from(size)))
            }
            b"fmt " => {
                if !(16..=1024).contains(&size) {
                    return Err(WavStreamError::Unsupported(format!(
                        "a fmt chunk of {size} bytes"
                    )));
                }
                Stage::Format(size as usize + size as usize % 2)
            }
            // Other chunks (LIST, fact, …) are skipped; chunks are padded to even sizes.
            _ => match u64::from(size) + u64::from(size % 2) {
                0 => Stage::Header,
                n => Stage::Skip(n),
            },
        };
        Ok(())
    }

    /// Checks the `fmt ` body in `buf` (16-bit PCM mono) and keeps its rate.
    fn read_format(&mut self) -> Result<(), WavStreamError> {
        let b = &self.buf;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let mut tag = u16_at(0);
        let channels = u16_at(2);
        let rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let bits = u16_at(14);
        if tag == FORMAT_EXTENSIBLE && b.len() >= 26 {
            tag = u16_at(24);
        }
        if tag != FORMAT_PCM {
            return Err(WavStreamError::Unsupported(format!(
                "format tag {tag:#06x}"
            )));
        }
        if channels != 1 || bits != 16 {
            return Err(WavStreamError::Unsupported(format!(
                "{channels} channel(s) of {bits}-bit samples (expected 16-bit mono)"
            )));
        }
        if rate == 0 {
            return Err(WavStreamError::Unsupported("a sample rate of 0".into()));
        }
        self.rate = Some(rate);
        Ok(())
    }

    /// The body ended: an error if it ended inside the header.
    pub fn finish(&self) -> Result<(), WavStreamError> {
        match self.stage {
            Stage::Data(_) | Stage::Trailer => Ok(()),
            _ => Err(WavStreamError::Truncated),
        }
    }
}

/// A 44-byte header for PCM16 mono at `rate` with `data_len` bytes of samples;
/// `None` writes the placeholder sizes a streaming server uses (`0xFFFFFFFF`).
pub fn wav_header(rate: u32, data_len: Option<u32>) -> Vec<u8> {
    let data = data_len.unwrap_or(u32::MAX);
    let riff = data_len.map_or(u32::MAX, |n| n.saturating_add(36));
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * 2).to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn samples(n: usize) -> Vec<u8> {
        (0..n as i16).flat_map(|s| (s * 7).to_le_bytes()).collect()
    }

    fn read_all(chunks: &[&[u8]]) -> Result<(Vec<u8>, Option<u32>), WavStreamError> {
        let mut wav = WavStream::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(wav.push(chunk)?);
        }
        wav.finish()?;
        Ok((out, wav.sample_rate()))
    }

    #[test]
    fn exact_sizes_stop_at_the_end_of_data() {
        let pcm = samples(100);
        let mut file = wav_header(22_050, Some(pcm.len() as u32));
        file.extend(&pcm);
        file.extend(b"LIST\x04\x00\x00\x00abcd");
        assert_eq!(read_all(&[&file]).unwrap(), (pcm, Some(22_050)));
    }

    #[test]
    fn placeholder_sizes_read_to_the_end() {
        let pcm = samples(50);
        for header in [wav_header(24_000, None), {
            let mut h = wav_header(24_000, Some(0));
            h[4..8].copy_from_slice(&0u32.to_le_bytes());
            h
        }] {
            let mut file = header;
            file.extend(&pcm);
            assert_eq!(read_all(&[&file]).unwrap(), (pcm.clone(), Some(24_000)));
        }
    }

    #[test]
    fn chunks_before_data_are_skipped_and_extensible_pcm_is_accepted() {
        let pcm = samples(10);
        let mut file = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        file.extend(b"LIST\x03\x00\x00\x00abc\x00");
        file.extend(b"fmt \x28\x00\x00\x00");
        let mut fmt = vec![0u8; 40];
        fmt[0..2].copy_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        fmt[2..4].copy_from_slice(&1u16.to_le_bytes());
        fmt[4..8].copy_from_slice(&16_000u32.to_le_bytes());
        fmt[14..16].copy_from_slice(&16u16.to_le_bytes());
        fmt[24..26].copy_from_slice(&FORMAT_PCM.to_le_bytes());
        file.extend(fmt);
        file.extend(b"data\xff\xff\xff\xff");
        file.extend(&pcm);
        assert_eq!(read_all(&[&file]).unwrap(), (pcm, Some(16_000)));
    }

    #[test]
    fn bad_streams_are_errors_not_panics() {
        assert_eq!(
            read_all(&[b"ID3\x04 not a wav file"]),
            Err(WavStreamError::NotWav)
        );
        assert_eq!(
            read_all(&[b"RIFF\0\0\0\0WAVEfm"]),
            Err(WavStreamError::Truncated)
        );
        let mut stereo = wav_header(24_000, None);
        stereo[22] = 2;
        assert!(matches!(
            read_all(&[&stereo]),
            Err(WavStreamError::Unsupported(_))
        ));
        let mut no_fmt = b"RIFF\0\0\0\0WAVE".to_vec();
        no_fmt.extend(b"data\x02\x00\x00\x00\x01\x02");
        assert_eq!(read_all(&[&no_fmt]), Err(WavStreamError::NoFormat));
    }

    #[test]
    fn the_aligner_holds_back_half_samples() {
        let mut aligner = SampleAligner::default();
        assert_eq!(aligner.push(&[1, 2, 3]), vec![1, 2]);
        assert!(aligner.has_partial());
        assert_eq!(aligner.push(&[4]), vec![3, 4]);
        assert!(!aligner.has_partial());
    }

    proptest! {
        #[test]
        fn any_chunking_yields_the_same_samples(
            n in 0usize..300,
            placeholder in any::<bool>(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let pcm = samples(n);
            let mut file = wav_header(24_000, (!placeholder).then_some(pcm.len() as u32));
            file.extend(&pcm);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(file.len() + 1)).collect();
            points.sort_unstable();
            let mut wav = WavStream::new();
            let mut out = Vec::new();
            let mut from = 0;
            for point in points {
                let got = wav.push(&file[from..point]).unwrap();
                prop_assert_eq!(got.len() % 2, 0);
                out.extend(got);
                from = point;
            }
            out.extend(wav.push(&file[from..]).unwrap());
            wav.finish().unwrap();
            prop_assert_eq!(out, pcm);
        }
    }
}
