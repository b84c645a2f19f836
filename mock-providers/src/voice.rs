//! The speech every mock speaks: the bundled voice recording, looped to a
//! length that grows with the text, at the rate the client asked for.
//!
//! Realtime answers, TTS utterances and chat audio all come from here, so one
//! rule decides how long "speaking" a text takes everywhere.

/// Milliseconds of speech per character of text.
pub const MS_PER_CHAR: u64 = 60;

/// The rate of the bundled voice recording.
pub const VOICE_RATE: u32 = 24_000;

/// How long speaking `text` takes, in milliseconds, kept within `bounds`.
pub fn speech_ms(text: &str, bounds: (u64, u64)) -> u64 {
    (text.chars().count() as u64 * MS_PER_CHAR).clamp(bounds.0, bounds.1)
}

/// `ms` of the voice (PCM16 at [`VOICE_RATE`]) looped, resampled to `rate`.
/// An empty voice speaks silence of the same length.
///
/// Sample `i` is the looped recording's sample `i × VOICE_RATE / rate`
/// (the nearest one at or before that instant), stepped without a division
/// per sample: this runs at the end of every spoken turn.
pub fn speak_for(voice: &[i16], ms: u64, rate: u32) -> Vec<i16> {
    let wanted = (u64::from(rate) * ms / 1000) as usize;
    if voice.is_empty() {
        return vec![0; wanted];
    }
    let rate = u64::from(rate.max(1));
    let step = u64::from(VOICE_RATE);
    let mut out = Vec::with_capacity(wanted);
    // Invariant: i × VOICE_RATE = source × rate + remainder, and `index`
    // is `source` modulo the recording's length.
    let (mut index, mut remainder) = (0usize, 0u64);
    for _ in 0..wanted {
        out.push(voice[index]);
        remainder += step;
        while remainder >= rate {
            remainder -= rate;
            index += 1;
            if index == voice.len() {
                index = 0;
            }
        }
    }
    out
}

/// The voice speaking `text` at `rate`, its length kept within `bounds` (ms).
pub fn speak(voice: &[i16], text: &str, rate: u32, bounds: (u64, u64)) -> Vec<i16> {
    speak_for(voice, speech_ms(text, bounds), rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_text_speaks_longer_within_bounds() {
        assert_eq!(speech_ms("abcd", (0, 10_000)), 240);
        assert_eq!(speech_ms("a", (1000, 6000)), 1000);
        assert_eq!(speech_ms(&"x".repeat(1000), (1000, 6000)), 6000);
    }

    #[test]
    fn the_voice_is_looped_and_resampled() {
        let voice: Vec<i16> = (0..10).collect();
        let same = speak_for(&voice, 1, VOICE_RATE);
        assert_eq!(same, (0..10).chain(0..10).chain(0..4).collect::<Vec<_>>());
        let half = speak_for(&voice, 1, VOICE_RATE / 2);
        assert_eq!(half.len(), 12);
        assert_eq!(&half[..5], &[0, 2, 4, 6, 8]);
        assert_eq!(speak_for(&[], 10, 16_000), vec![0; 160]);
    }

    #[test]
    fn stepping_picks_the_sample_the_division_names_at_every_rate() {
        let voice: Vec<i16> = (0..997).map(|i| (i * 31 % 2000) as i16).collect();
        for rate in [8_000, 11_025, 16_000, 22_050, 24_000, 44_100, 48_000] {
            let wanted = (u64::from(rate) * 1_250 / 1000) as usize;
            let divided: Vec<i16> = (0..wanted)
                .map(|i| {
                    let source = (i as u64 * u64::from(VOICE_RATE) / u64::from(rate)) as usize;
                    voice[source % voice.len()]
                })
                .collect();
            assert_eq!(speak_for(&voice, 1_250, rate), divided, "{rate} Hz");
        }
    }
}
