//! The Qwen-Audio responder's tunable values: how the mock tells ambient
//! speech from speech addressed to the model, and how voiceprint
//! registration ends. Each is a point the protocol notes leave open (the
//! service's smart-turn model is semantic and speaker-aware; a mock cannot be
//! either), so each is a setting with a documented default.

use std::time::Duration;

/// How a Qwen-Audio session tells ambient speech and ends voiceprint
/// registration, beyond the [`ResponderConfig`](crate::ResponderConfig)
/// every dialect shares.
#[derive(Debug, Clone, PartialEq)]
pub struct QwenAudioSettings {
    /// In `smart_turn` mode, speech whose loudest 20 ms window stays below
    /// this RMS level (0.0–1.0 of full scale) is ambient: a bystander or
    /// background talk, transcribed as `ambient_audio_transcription` and never
    /// answered. Default 0.02, the level the mock's VAD starts a turn at
    /// (threshold 0.5), so all speech the VAD would not take as a turn is
    /// ambient. The bundled utterances 24 dB down (every sample shifted right
    /// by 4 bits) peak at 0.018 and are heard, and transcribed, as a
    /// bystander.
    pub ambient_below_rms: f64,
    /// Below this RMS level a window is silence, not even ambient speech
    /// (default 0.002, about −54 dBFS).
    pub ambient_floor_rms: f64,
    /// Silence that ends an ambient segment, in ms (default 800, the
    /// service's `silence_duration_ms` default).
    pub ambient_silence_ms: u64,
    /// How voiceprint registration ends: `None` completes it, `Some(reason)`
    /// fails it with that reason (the conversation goes on either way).
    /// Default `None` (the 2026-09-21 probe saw `completed` for every
    /// reachable URL).
    pub voiceprint_failure: Option<String>,
    /// Time from `voiceprint_audio_list.in_progress` to its end (unconfirmed;
    /// default 500 ms, divided by the mock's speed).
    pub voiceprint_delay: Duration,
}

impl Default for QwenAudioSettings {
    fn default() -> Self {
        QwenAudioSettings {
            ambient_below_rms: 0.02,
            ambient_floor_rms: 0.002,
            ambient_silence_ms: 800,
            voiceprint_failure: None,
            voiceprint_delay: Duration::from_millis(500),
        }
    }
}
