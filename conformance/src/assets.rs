//! The bundled audio the cases speak and the mocks answer with, decoded once
//! per process.
//!
//! Decoding a WAV is the heaviest thing a case does on the suite's own task
//! (in an unoptimised build, tens of milliseconds a clip). With every case
//! running at once, each decoding its clips and its mock's voice at start-up,
//! that burst delayed the first replies of the cases around it and moved
//! their latency figures. Decoded once and shared, it happens once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use understudy_mock::ResponderConfig;

/// A decoded clip: PCM16 little-endian bytes and their sample rate.
pub(crate) type Clip = (Arc<[u8]>, u32);

/// The mock's bundled voice (empty if it cannot be decoded: the cases that
/// need audio then fail on their own checks).
pub(crate) fn voice() -> Arc<[i16]> {
    static VOICE: OnceLock<Arc<[i16]>> = OnceLock::new();
    Arc::clone(VOICE.get_or_init(|| {
        understudy_mock::bundled_voice().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the bundled voice could not be decoded");
            Arc::from(Vec::new())
        })
    }))
}

/// A responder that speaks in the bundled voice.
pub(crate) fn speaking() -> ResponderConfig {
    ResponderConfig::with_voice(voice())
}

/// The bundled clip `name`, decoded.
pub(crate) fn clip(name: &str) -> Result<Clip, String> {
    static CLIPS: OnceLock<Mutex<HashMap<String, Clip>>> = OnceLock::new();
    let clips = CLIPS.get_or_init(Default::default);
    if let Some(clip) = clips.lock().ok().and_then(|c| c.get(name).cloned()) {
        return Ok(clip);
    }
    let bytes = understudy_fixtures::bundled::audio(name)
        .ok_or_else(|| format!("no bundled audio `{name}`"))?;
    let (pcm, rate) =
        understudy_fixtures::wav::read_pcm16(bytes).map_err(|e| format!("{name}: {e}"))?;
    let clip: Clip = (Arc::from(pcm), rate);
    if let Ok(mut clips) = clips.lock() {
        clips.insert(name.to_owned(), clip.clone());
    }
    Ok(clip)
}

#[cfg(test)]
mod tests {
    use super::{clip, voice};

    #[test]
    fn a_clip_is_decoded_once_and_shared() {
        let (a, rate) = clip("user-weather-24k.wav").expect("the clip is bundled");
        let (b, _) = clip("user-weather-24k.wav").expect("the clip is bundled");
        assert_eq!(rate, 24_000);
        assert!(!a.is_empty());
        assert!(
            std::sync::Arc::ptr_eq(&a, &b),
            "the second call decodes again"
        );
        assert!(std::sync::Arc::ptr_eq(&voice(), &voice()));
    }

    #[test]
    fn an_unknown_clip_is_an_error_naming_it() {
        let error = clip("no-such-clip.wav").unwrap_err();
        assert!(error.contains("no-such-clip.wav"), "{error}");
    }
}
