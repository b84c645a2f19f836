//! Recognises the bundled user utterances in committed audio.
//!
//! The mock cannot transcribe arbitrary speech, but the toolkit ships its own
//! test utterances (`fixtures/audio/user-*.wav`, rendered with espeak-ng from
//! known texts). When a committed buffer contains one of them sample for
//! sample, the responder knows what was said: it can answer the words, call a
//! tool they name, and emit the provider's input-transcription event. Audio it
//! does not recognise is acknowledged by length instead.

use std::sync::OnceLock;

/// The bundled utterances and what they say (see `fixtures/audio/README.md`).
const CLIPS: &[(&str, &str)] = &[
    (
        "user-weather-24k.wav",
        "What is the weather like in Paris today?",
    ),
    (
        "user-weather-16k.wav",
        "What is the weather like in Paris today?",
    ),
    (
        "user-order-24k.wav",
        "Can you check the status of order A seventeen?",
    ),
    (
        "user-order-16k.wav",
        "Can you check the status of order A seventeen?",
    ),
    (
        "user-interrupt-24k.wav",
        "Wait, stop. Actually, tell me about Berlin instead.",
    ),
    (
        "user-interrupt-16k.wav",
        "Wait, stop. Actually, tell me about Berlin instead.",
    ),
    (
        "user-remember-24k.wav",
        "Remember that the code word is falcon.",
    ),
    (
        "user-remember-16k.wav",
        "Remember that the code word is falcon.",
    ),
    ("user-recall-24k.wav", "What did I say the code word is?"),
    ("user-recall-16k.wav", "What did I say the code word is?"),
];

/// Length of the fingerprint taken from the start of each utterance's speech.
const NEEDLE_MS: usize = 250;

#[derive(Debug)]
struct Clip {
    rate: u32,
    needle: Vec<i16>,
    transcript: &'static str,
    /// From the first to the last non-zero sample, in ms.
    speech_ms: u64,
}

/// A known utterance found in audio: its words and how long they take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognised {
    /// What it says.
    pub transcript: &'static str,
    /// How long its speech lasts, from its first to its last non-zero
    /// sample, in ms: where a dialect that transcribes while the user is
    /// still speaking (GPT-Live) lays the words.
    pub speech_ms: u64,
}

/// The utterances the mock can recognise.
#[derive(Debug, Default)]
pub struct KnownSpeech {
    clips: Vec<Clip>,
}

impl KnownSpeech {
    /// The bundled utterances (loaded once).
    pub fn bundled() -> &'static KnownSpeech {
        static BUNDLED: OnceLock<KnownSpeech> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            let clips = CLIPS
                .iter()
                .filter_map(|(file, transcript)| {
                    let wav = understudy_fixtures::bundled::audio(file)?;
                    let (pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).ok()?;
                    let samples: Vec<i16> = pcm
                        .chunks_exact(2)
                        .map(|p| i16::from_le_bytes([p[0], p[1]]))
                        .collect();
                    let onset = samples.iter().position(|s| *s != 0)?;
                    let len = rate as usize * NEEDLE_MS / 1000;
                    let needle = samples.get(onset..onset + len)?.to_vec();
                    let end = samples.iter().rposition(|s| *s != 0).unwrap_or(onset);
                    Some(Clip {
                        rate,
                        needle,
                        transcript,
                        speech_ms: ((end + 1 - onset) as u64 * 1000) / u64::from(rate.max(1)),
                    })
                })
                .collect();
            KnownSpeech { clips }
        })
    }

    /// What `pcm` (PCM16 at `rate`) says, if it contains a known utterance.
    pub fn transcribe(&self, pcm: &[u8], rate: u32) -> Option<&'static str> {
        self.recognise(pcm, rate).map(|found| found.transcript)
    }

    /// The known utterance `pcm` (PCM16 at `rate`) contains, with its
    /// length. The fingerprint is the utterance's first 250 ms of speech, so
    /// it is found as soon as those have been heard, long before the
    /// utterance ends.
    pub fn recognise(&self, pcm: &[u8], rate: u32) -> Option<Recognised> {
        let samples: Vec<i16> = pcm
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect();
        self.clips
            .iter()
            .filter(|clip| clip.rate == rate)
            .find(|clip| contains(&samples, &clip.needle))
            .map(|clip| Recognised {
                transcript: clip.transcript,
                speech_ms: clip.speech_ms,
            })
    }
}

impl KnownSpeech {
    /// The known utterance `pcm` contains at its own level or attenuated by
    /// up to `max_shift` halvings (every sample shifted right by that many
    /// bits, an arithmetic shift: the bundled utterances played 6 dB per bit
    /// quieter, standing for a bystander further from the microphone).
    pub fn recognise_attenuated(
        &self,
        pcm: &[u8],
        rate: u32,
        max_shift: u32,
    ) -> Option<Recognised> {
        let samples: Vec<i16> = pcm
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect();
        (0..=max_shift.min(15)).find_map(|shift| {
            self.clips
                .iter()
                .filter(|clip| clip.rate == rate)
                .find(|clip| {
                    let needle: Vec<i16> = clip.needle.iter().map(|s| s >> shift).collect();
                    contains(&samples, &needle)
                })
                .map(|clip| Recognised {
                    transcript: clip.transcript,
                    speech_ms: clip.speech_ms,
                })
        })
    }
}

fn contains(haystack: &[i16], needle: &[i16]) -> bool {
    let Some(&first) = needle.first() else {
        return false;
    };
    haystack.len() >= needle.len()
        && (0..=haystack.len() - needle.len())
            .any(|i| haystack[i] == first && haystack[i..i + needle.len()] == *needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(name: &str) -> (Vec<u8>, u32) {
        understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
            .unwrap()
    }

    #[test]
    fn bundled_utterances_are_recognised_at_their_own_rate_only() {
        let known = KnownSpeech::bundled();
        let (weather, rate) = pcm("user-weather-24k.wav");
        let mut padded = vec![0u8; 9_600];
        padded.extend(&weather);
        padded.extend(vec![0u8; 48_000]);
        assert_eq!(
            known.transcribe(&padded, rate),
            Some("What is the weather like in Paris today?")
        );
        assert_eq!(
            known.transcribe(&weather, 16_000),
            None,
            "24 kHz samples are not 16 kHz speech"
        );
        let (order, rate) = pcm("user-order-24k.wav");
        assert_eq!(
            known.transcribe(&order, rate),
            Some("Can you check the status of order A seventeen?")
        );
        let (voice, rate) = pcm("voice-24k.wav");
        assert_eq!(known.transcribe(&voice, rate), None);
    }

    #[test]
    fn an_utterance_is_recognised_from_its_first_words_with_its_length() {
        let known = KnownSpeech::bundled();
        let (interrupt, rate) = pcm("user-interrupt-24k.wav");
        let onset = interrupt.chunks_exact(2).position(|p| p != [0, 0]).unwrap() * 2;
        // 300 ms of speech: the fingerprint and a little more.
        let start = &interrupt[..onset + 2 * 7_200];
        let found = known.recognise(start, rate).expect("recognised early");
        assert_eq!(
            found.transcript,
            "Wait, stop. Actually, tell me about Berlin instead."
        );
        let whole_ms = (interrupt.len() / 2) as u64 * 1000 / u64::from(rate);
        assert!(
            found.speech_ms > 3_000 && found.speech_ms <= whole_ms,
            "{} ms of a {whole_ms} ms clip",
            found.speech_ms
        );
        assert_eq!(known.recognise(&interrupt[..onset + 2 * 2_400], rate), None);
    }

    #[test]
    fn an_attenuated_utterance_is_recognised_within_the_shift_allowed() {
        let known = KnownSpeech::bundled();
        let (order, rate) = pcm("user-order-16k.wav");
        let quiet: Vec<u8> = order
            .chunks_exact(2)
            .flat_map(|p| (i16::from_le_bytes([p[0], p[1]]) >> 4).to_le_bytes())
            .collect();
        assert_eq!(known.transcribe(&quiet, rate), None, "not at full level");
        assert_eq!(known.recognise_attenuated(&quiet, rate, 3), None);
        assert_eq!(
            known
                .recognise_attenuated(&quiet, rate, 4)
                .map(|r| r.transcript),
            Some("Can you check the status of order A seventeen?")
        );
    }

    #[test]
    fn every_clip_is_heard_as_its_own_text() {
        // "What did I say…" and "What is the weather…" start alike: each must
        // still be told apart by its own fingerprint.
        let known = KnownSpeech::bundled();
        for (name, text) in CLIPS {
            let (speech, rate) = pcm(name);
            assert_eq!(known.transcribe(&speech, rate), Some(*text), "{name}");
        }
    }
}
