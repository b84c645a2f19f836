//! G.711 µ-law and A-law companding, to and from PCM16.
//!
//! Some sessions (GPT-Live with `audio/pcmu` or `audio/pcma`, telephony)
//! carry 8-bit G.711 on the wire. The normalised layer speaks PCM16
//! ([`Pcm`](crate::audio::Pcm)), so an adapter expands what it receives and
//! compresses what it sends; that also lets one silence rule (peak sample
//! level) serve every format. The mappings are the ITU-T G.711 segment
//! tables: µ-law with its 0x84 bias, A-law with its even-bit inversion
//! (0x55).

/// Expands one µ-law byte to a PCM16 sample.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let magnitude = ((i32::from(u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
    let sample = if u & 0x80 != 0 {
        0x84 - magnitude
    } else {
        magnitude - 0x84
    };
    sample as i16
}

/// Expands one A-law byte to a PCM16 sample.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut magnitude = i32::from(a & 0x0f) << 4;
    match (a & 0x70) >> 4 {
        0 => magnitude += 8,
        1 => magnitude += 0x108,
        segment => magnitude = (magnitude + 0x108) << (segment - 1),
    }
    let sample = if a & 0x80 != 0 { magnitude } else { -magnitude };
    sample as i16
}

/// The segment (0–7) whose upper bound holds `value`, or 8 when none does.
fn segment(value: i32, upper_bounds: &[i32; 8]) -> u8 {
    upper_bounds
        .iter()
        .position(|bound| value <= *bound)
        .map_or(8, |i| i as u8)
}

/// Compresses one PCM16 sample to µ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    const UPPER: [i32; 8] = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
    let mut value = i32::from(sample) >> 2;
    let mask: u8 = if value < 0 {
        value = -value;
        0x7f
    } else {
        0xff
    };
    value = value.min(8159) + 0x21;
    let seg = segment(value, &UPPER);
    if seg >= 8 {
        return 0x7f ^ mask;
    }
    let mantissa = ((value >> (seg + 1)) & 0x0f) as u8;
    ((seg << 4) | mantissa) ^ mask
}

/// Compresses one PCM16 sample to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    const UPPER: [i32; 8] = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
    let mut value = i32::from(sample) >> 3;
    let mask: u8 = if value >= 0 {
        0xd5
    } else {
        value = -value - 1;
        0x55
    };
    let seg = segment(value, &UPPER);
    if seg >= 8 {
        return 0x7f ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let mantissa = ((value >> shift) & 0x0f) as u8;
    ((seg << 4) | mantissa) ^ mask
}

/// Expands µ-law bytes to PCM16 little-endian bytes.
pub fn decode_ulaw(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|b| ulaw_to_linear(*b).to_le_bytes())
        .collect()
}

/// Expands A-law bytes to PCM16 little-endian bytes.
pub fn decode_alaw(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|b| alaw_to_linear(*b).to_le_bytes())
        .collect()
}

/// Compresses PCM16 little-endian bytes to µ-law (a trailing odd byte is ignored).
pub fn encode_ulaw(pcm: &[u8]) -> Vec<u8> {
    pcm.chunks_exact(2)
        .map(|p| linear_to_ulaw(i16::from_le_bytes([p[0], p[1]])))
        .collect()
}

/// Compresses PCM16 little-endian bytes to A-law (a trailing odd byte is ignored).
pub fn encode_alaw(pcm: &[u8]) -> Vec<u8> {
    pcm.chunks_exact(2)
        .map(|p| linear_to_alaw(i16::from_le_bytes([p[0], p[1]])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_codes_expand_to_near_zero() {
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_alaw(0), 0xd5);
    }

    #[test]
    fn full_scale_expands_to_the_largest_magnitudes() {
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
    }

    #[test]
    fn every_code_survives_expand_then_compress() {
        for code in 0..=255u8 {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law {code:#x}"
            );
            let back = linear_to_ulaw(ulaw_to_linear(code));
            // µ-law has two zeros (0x7f, 0xff); both expand to 0.
            let expected = if code == 0x7f { 0xff } else { code };
            assert_eq!(back, expected, "µ-law {code:#x}");
        }
    }

    #[test]
    fn companding_error_stays_within_the_segment_step() {
        for sample in (i16::MIN..=i16::MAX).step_by(97) {
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(sample)));
            let a = i32::from(alaw_to_linear(linear_to_alaw(sample)));
            let s = i32::from(sample);
            let step = (s.abs() / 16).max(16) + 8;
            assert!((u - s).abs() <= step, "µ-law {sample} -> {u}");
            assert!((a - s).abs() <= step, "A-law {sample} -> {a}");
        }
    }

    #[test]
    fn byte_helpers_keep_lengths() {
        let pcm: Vec<u8> = [0i16, 1000, -1000]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        assert_eq!(encode_ulaw(&pcm).len(), 3);
        assert_eq!(decode_ulaw(&encode_ulaw(&pcm)).len(), 6);
        assert_eq!(decode_alaw(&encode_alaw(&pcm)).len(), 6);
    }
}
