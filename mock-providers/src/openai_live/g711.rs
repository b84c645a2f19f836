//! G.711 µ-law and A-law, the two 8 kHz formats a GPT-Live WebSocket may
//! choose (`audio/pcmu`, `audio/pcma`): decoded so the VAD hears the caller,
//! encoded so the answer goes out in the session's format.
//!
//! Written from the ITU-T G.711 segment tables (sign, 3-bit segment, 4-bit
//! mantissa); µ-law uses a bias of 0x84 and inverts all bits, A-law inverts
//! every other bit (0x55).

/// One µ-law byte as a PCM16 sample.
pub fn ulaw_to_pcm(byte: u8) -> i16 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let value = if sign != 0 { -magnitude } else { magnitude };
    value as i16
}

/// One PCM16 sample as a µ-law byte.
pub fn pcm_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    let value = value.min(CLIP) + BIAS;
    let exponent = (0..8).rev().find(|e| value & (0x80 << e) != 0).unwrap_or(0);
    let mantissa = (value >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// One A-law byte as a PCM16 sample.
pub fn alaw_to_pcm(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let sign = a & 0x80;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i32::from(a & 0x0F);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    let value = if sign != 0 { magnitude } else { -magnitude };
    value as i16
}

/// One PCM16 sample as an A-law byte.
pub fn pcm_to_alaw(sample: i16) -> u8 {
    let value = i32::from(sample);
    let (sign, magnitude) = if value >= 0 {
        (0x80, value)
    } else {
        (0, (-value - 1).max(0))
    };
    let magnitude = magnitude.min(32_767);
    let byte = if magnitude < 256 {
        magnitude >> 4
    } else {
        let exponent = (1..8)
            .rev()
            .find(|e| magnitude >= (0x100 << (e - 1)))
            .unwrap_or(1);
        (exponent << 4) | ((magnitude >> (exponent + 3)) & 0x0F)
    };
    ((sign | byte) as u8) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_round_trips_within_its_quantisation() {
        for sample in [-32_000i16, -5_000, -100, 0, 100, 5_000, 32_000] {
            let back = ulaw_to_pcm(pcm_to_ulaw(sample));
            let error = (i32::from(back) - i32::from(sample)).abs();
            assert!(
                error <= i32::from(sample).abs() / 16 + 8,
                "{sample} -> {back}"
            );
        }
        assert_eq!(pcm_to_ulaw(0), 0xFF);
        assert_eq!(ulaw_to_pcm(0xFF), 0);
    }

    #[test]
    fn alaw_round_trips_within_its_quantisation() {
        for sample in [-32_000i16, -5_000, -100, 0, 100, 5_000, 32_000] {
            let back = alaw_to_pcm(pcm_to_alaw(sample));
            let error = (i32::from(back) - i32::from(sample)).abs();
            assert!(
                error <= i32::from(sample).abs() / 16 + 16,
                "{sample} -> {back}"
            );
        }
        assert_eq!(pcm_to_alaw(0), 0xD5);
    }

    #[test]
    fn every_byte_decodes_and_reencodes_to_itself() {
        for byte in 0..=255u8 {
            assert_eq!(
                pcm_to_ulaw(ulaw_to_pcm(byte)),
                byte | if byte == 0x7F { 0x80 } else { 0 },
                "ulaw {byte:#x}"
            );
        }
        for byte in 0..=255u8 {
            assert_eq!(pcm_to_alaw(alaw_to_pcm(byte)), byte, "alaw {byte:#x}");
        }
    }
}
