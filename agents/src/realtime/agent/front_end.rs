//! The front end's side of the agent: [`UserAudio`] owns the resampler that
//! brings user audio to the model's input rate, and [`refusal`] decides which
//! commands the current dialect cannot take (refused with an `Error` event
//! rather than sent to fail at the provider). The runner turns each command
//! into model input, a playback report, a barge-in or the end of the session.

use super::input::Command;
use crate::realtime::resample::Resampler;
use understudy_adapters::Capabilities;

/// User audio on its way to the model: the resampler for the front end's
/// rate, kept across chunks so that no samples are lost at their seams.
#[derive(Default)]
pub(super) struct UserAudio {
    resampler: Option<Resampler>,
}

impl UserAudio {
    /// `pcm` at `from` Hz, resampled to `to` Hz (a new resampler when either
    /// rate changed); may be empty while the resampler fills.
    pub(super) fn resample(&mut self, pcm: &[u8], from: u32, to: u32) -> Vec<u8> {
        let resampler = match &mut self.resampler {
            Some(r) if r.from_rate() == from && r.to_rate() == to => r,
            slot => slot.insert(Resampler::new(from, to)),
        };
        resampler.process(pcm)
    }

    /// A new connection: whatever the old resampler held is left behind.
    pub(super) fn reset(&mut self) {
        self.resampler = None;
    }
}

/// Why the dialect described by `caps` cannot take `command`, if it cannot.
pub(super) fn refusal(caps: &Capabilities, command: &Command) -> Option<String> {
    match command {
        Command::Image { .. } if !caps.image_input => {
            Some(format!("{} takes no images", caps.dialect))
        }
        Command::Text(_) if !caps.text_input => {
            Some(format!("{} takes no text input", caps.dialect))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_images_are_refused_where_the_dialect_takes_none() {
        let mut caps = understudy_adapters::gemini::capabilities();
        caps.text_input = false;
        caps.image_input = true;
        let text = Command::Text("hi".into());
        let image = Command::Image {
            mime_type: "image/png".into(),
            data: vec![1],
        };
        assert!(refusal(&caps, &text).is_some_and(|m| m.ends_with("takes no text input")));
        assert_eq!(refusal(&caps, &image), None);
        assert_eq!(refusal(&caps, &Command::Commit), None);
        caps.text_input = true;
        caps.image_input = false;
        assert_eq!(refusal(&caps, &text), None);
        assert!(refusal(&caps, &image).is_some_and(|m| m.ends_with("takes no images")));
    }

    #[test]
    fn audio_at_the_model_rate_passes_and_a_rate_change_starts_afresh() {
        let mut audio = UserAudio::default();
        let chunk = vec![0u8; 320];
        let same = audio.resample(&chunk, 16_000, 16_000);
        assert_eq!(same.len(), chunk.len());
        let up = audio.resample(&chunk, 8_000, 16_000);
        assert!(up.len() <= chunk.len() * 2);
        audio.reset();
        assert_eq!(audio.resample(&chunk, 16_000, 16_000).len(), 320);
    }
}
