//! Keeping a session whose clock runs on input audio moving: [`Filler`]
//! decides when silence is due while the front end sends no audio, and how
//! much. The runner sends it.
//!
//! GPT-Live's session timeline is the input audio itself: replies, the
//! adapter's inferred turn ends and append acknowledgements all wait for it
//! (`Capabilities::continuous_input`). A front end that stops sending — a
//! test that says one clip, a push-to-talk button released — would freeze
//! the session mid-reply. The filler counts from the front end's last audio
//! (or the session becoming ready): once [`SilenceFill::after`] has passed,
//! the silence owed is the time since then times [`SilenceFill::pace`],
//! sent in whole chunks; the front end's next chunk stops it.

use crate::realtime::config::SilenceFill;
use std::time::Duration;
use tokio::time::Instant;

/// At most this much silence is sent at one wake-up: a loop held up for
/// long (a slow machine) catches up over several wake-ups instead of in
/// one burst.
const MOST_AT_ONCE_MS: f64 = 1_000.0;

/// When silence is due and how much.
#[derive(Debug)]
pub(super) struct Filler {
    fill: Option<SilenceFill>,
    /// The session's clock runs on input audio and a session is ready.
    active: bool,
    /// The front end's last audio (or the session becoming ready).
    quiet_since: Instant,
    /// Silence sent since then, in ms of audio.
    filled_ms: f64,
}

impl Filler {
    /// A filler with `fill`'s settings (`None`: never fills), inactive.
    pub(super) fn new(fill: Option<SilenceFill>) -> Self {
        Filler {
            fill,
            active: false,
            quiet_since: Instant::now(),
            filled_ms: 0.0,
        }
    }

    /// A session became ready at `now`; `continuous` says whether its clock
    /// runs on input audio (only then is silence sent).
    pub(super) fn ready(&mut self, continuous: bool, now: Instant) {
        self.active = continuous && self.fill.is_some();
        self.heard(now);
    }

    /// The session is gone: nothing is sent until the next one is ready.
    pub(super) fn stop(&mut self) {
        self.active = false;
    }

    /// The front end sent audio at `now`: the quiet starts again.
    pub(super) fn heard(&mut self, now: Instant) {
        self.quiet_since = now;
        self.filled_ms = 0.0;
    }

    fn pace(fill: &SilenceFill) -> f64 {
        fill.pace.max(0.01)
    }

    fn chunk_ms(fill: &SilenceFill) -> f64 {
        (fill.chunk.as_secs_f64() * 1000.0).max(1.0)
    }

    /// When the next chunk of silence is due, if any.
    pub(super) fn next_at(&self) -> Option<Instant> {
        let fill = self.fill.as_ref().filter(|_| self.active)?;
        let owed_at_ms = (self.filled_ms + Self::chunk_ms(fill)) / Self::pace(fill);
        let due = Duration::from_secs_f64(owed_at_ms / 1000.0).max(fill.after);
        Some(self.quiet_since + due)
    }

    /// The silence due at `now`, in whole chunks, as milliseconds of audio
    /// (0 when none is); counted as sent.
    pub(super) fn take_due(&mut self, now: Instant) -> u64 {
        let Some(fill) = self.fill.as_ref().filter(|_| self.active) else {
            return 0;
        };
        let quiet = now.saturating_duration_since(self.quiet_since);
        if quiet < fill.after {
            return 0;
        }
        let chunk = Self::chunk_ms(fill);
        let owed = quiet.as_secs_f64() * 1000.0 * Self::pace(fill) - self.filled_ms;
        let chunks = (owed.min(MOST_AT_ONCE_MS) / chunk).floor().max(0.0);
        let ms = chunks * chunk;
        self.filled_ms += ms;
        ms as u64
    }
}

/// `ms` of PCM16 mono silence at `rate` Hz.
pub(super) fn silence(ms: u64, rate: u32) -> Vec<u8> {
    vec![0u8; (u64::from(rate) * ms / 1000) as usize * 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(pace: f64) -> SilenceFill {
        SilenceFill {
            after: Duration::from_millis(200),
            chunk: Duration::from_millis(100),
            pace,
        }
    }

    #[test]
    fn silence_follows_the_wall_clock_once_the_front_end_pauses() {
        let mut filler = Filler::new(Some(fill(1.0)));
        let start = Instant::now();
        assert_eq!(filler.next_at(), None, "no session yet");
        filler.ready(true, start);
        assert_eq!(filler.next_at(), Some(start + Duration::from_millis(200)));
        assert_eq!(filler.take_due(start + Duration::from_millis(150)), 0);
        // The pause counts from the last audio: 250 ms owed, two chunks sent.
        assert_eq!(filler.take_due(start + Duration::from_millis(250)), 200);
        assert_eq!(filler.next_at(), Some(start + Duration::from_millis(300)));
        assert_eq!(filler.take_due(start + Duration::from_millis(299)), 0);
        assert_eq!(filler.take_due(start + Duration::from_millis(300)), 100);
        // Audio from the front end stops it until the next pause.
        let spoke = start + Duration::from_millis(320);
        filler.heard(spoke);
        assert_eq!(filler.take_due(spoke + Duration::from_millis(100)), 0);
        assert_eq!(filler.next_at(), Some(spoke + Duration::from_millis(200)));
        // A long hold-up is caught up a second at a time.
        assert_eq!(filler.take_due(spoke + Duration::from_secs(5)), 1_000);
        assert_eq!(filler.take_due(spoke + Duration::from_secs(5)), 1_000);
        filler.stop();
        assert_eq!(filler.next_at(), None);
        assert_eq!(filler.take_due(spoke + Duration::from_secs(9)), 0);
    }

    #[test]
    fn only_a_clock_that_runs_on_input_is_filled_and_pace_scales_it() {
        let start = Instant::now();
        let mut filler = Filler::new(Some(fill(1.0)));
        filler.ready(false, start);
        assert_eq!(filler.next_at(), None, "the dialect's clock is its own");
        let mut off = Filler::new(None);
        off.ready(true, start);
        assert_eq!(off.next_at(), None, "filling switched off");
        let mut fast = Filler::new(Some(fill(4.0)));
        fast.ready(true, start);
        assert_eq!(fast.take_due(start + Duration::from_millis(200)), 800);
        assert_eq!(fast.next_at(), Some(start + Duration::from_millis(225)));
        assert_eq!(silence(100, 24_000).len(), 4_800);
        assert_eq!(silence(20, 16_000).len(), 640);
    }
}
