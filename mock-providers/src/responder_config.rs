//! How the respond engines pace and voice their answers, for every dialect.
//!
//! One [`ResponderConfig`] serves the OpenAI, DashScope (Qwen-Omni and
//! Qwen-TTS) and Gemini respond engines: the delays and chunking of spoken
//! answers, the bundled voice, how a limited session ends in each dialect,
//! and GPT-Live's own settings.
//! It lives at the crate's root, not inside one provider's module, because it
//! carries settings for several of them.

use crate::dashscope::omni::OmniSettings;
use crate::dashscope::DashScopeExpiry;
use crate::gemini::GeminiLiveSettings;
use crate::openai_live::LiveSettings;
use crate::qwen_audio::QwenAudioSettings;
use std::sync::Arc;
use std::time::Duration;

/// How the responder paces and voices its answers.
#[derive(Debug, Clone)]
pub struct ResponderConfig {
    /// Delay between `response.created` and the first audio delta (model "thinking").
    pub first_audio_ms: u64,
    /// Audio carried by each delta, in milliseconds.
    pub chunk_ms: u64,
    /// Wall-clock milliseconds per millisecond of audio streamed (0.5 = twice real time).
    pub pace: f64,
    /// Divides every delay (2.0 = everything twice as fast).
    pub speed: f64,
    /// The voice every answer is spoken in: PCM16 mono at 24 kHz.
    pub voice: Arc<[i16]>,
    /// End sessions after this long, each dialect its own way: OpenAI an
    /// `error` `session_expired` then close 1001 (and `session.expires_at` says
    /// when); DashScope as [`dashscope_expiry`](Self::dashscope_expiry) says;
    /// Gemini `goAway {timeLeft}` then close, like a connection limit (the
    /// shorter of the two wins).
    pub session_limit: Option<Duration>,
    /// How a DashScope session ends at [`session_limit`](Self::session_limit)
    /// (the service's exact way is unconfirmed).
    pub dashscope_expiry: DashScopeExpiry,
    /// Qwen-Omni: whether `session.finish` is acknowledged (default: as the
    /// model's row says) and the codes of its refusals (*unconfirmed*).
    pub dashscope_omni: Box<OmniSettings>,
    /// Qwen-TTS realtime, `server_commit` mode: how long the mock waits after
    /// a sentence end before it cuts and speaks the buffer (divided by
    /// `speed`). A commit within it takes the whole buffer as one response,
    /// acknowledged before the response starts, as in the captured flow. The
    /// service's segmentation is undocumented (*unconfirmed*); the default,
    /// zero, speaks each sentence as soon as it is complete (lowest first
    /// audio), and a commit that finds it all spoken is still acknowledged.
    pub tts_holdback: Duration,
    /// GPT-Live: caps, error codes and timings, each *unconfirmed* point of
    /// the protocol notes with its documented default (see [`LiveSettings`];
    /// boxed, as few sessions need it and every engine configuration carries it).
    pub live: Box<LiveSettings>,
    /// Qwen-Audio-Realtime: how ambient speech is told apart and how
    /// voiceprint registration ends (see [`QwenAudioSettings`]).
    pub qwen_audio: Box<QwenAudioSettings>,
    /// Gemini Live: the switches for its *unconfirmed* points and
    /// field-reported refusals, each with its documented default (see
    /// [`GeminiLiveSettings`]; what differs by model is the model's row).
    pub gemini: Box<GeminiLiveSettings>,
    /// Run just before each end-of-turn recognition; tests make recognition
    /// slow with it (a turn's work must not hold up other sessions).
    pub(crate) recognition_hook: Option<RecognitionHook>,
}

/// A hook run before each end-of-turn recognition (see
/// [`ResponderConfig::recognition_hook`]).
#[derive(Clone)]
pub(crate) struct RecognitionHook(pub(crate) Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for RecognitionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecognitionHook")
    }
}

impl ResponderConfig {
    /// Defaults (180 ms to first audio, 100 ms chunks streamed at twice real
    /// time) with the given voice.
    pub fn with_voice(voice: Arc<[i16]>) -> Self {
        ResponderConfig {
            first_audio_ms: 180,
            chunk_ms: 100,
            pace: 0.5,
            speed: 1.0,
            voice,
            session_limit: None,
            dashscope_expiry: DashScopeExpiry::default(),
            dashscope_omni: Box::default(),
            tts_holdback: Duration::ZERO,
            live: Box::default(),
            qwen_audio: Box::default(),
            gemini: Box::default(),
            recognition_hook: None,
        }
    }

    /// Runs the recognition hook, if one is set (tests only).
    pub(crate) fn before_recognition(&self) {
        if let Some(hook) = &self.recognition_hook {
            (hook.0)();
        }
    }

    /// A delay of `ms` milliseconds at the configured speed (`speed` 2 halves it).
    pub(crate) fn delay(&self, ms: f64) -> Duration {
        Duration::from_secs_f64((ms.max(0.0) / 1000.0) / self.speed.max(1e-6))
    }
}

/// Shortest and longest spoken answer, in milliseconds.
pub(crate) const ANSWER_MS: (u64, u64) = (1000, 6000);

/// The unix time (whole seconds, rounded up) at which a session starting now
/// and ending after `limit` is forced to end: `session.expires_at`.
pub(crate) fn expires_at(limit: Duration) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now + limit).as_secs_f64().ceil() as i64
}
