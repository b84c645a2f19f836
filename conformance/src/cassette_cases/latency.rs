//! Check 5: per-turn latency of the replay against the recording's own.
//!
//! Both cassettes (the recording, and what came back when its client side was
//! replayed) are timed the same way: a turn's TTFB is the time from its
//! trigger (the last client frame before the turn's first server frame) to
//! its first server frame carrying audio, as `fixtures stats` measures it
//! ([`cassette_stats`]); its TTFA adds the leading silence of that turn's
//! first response's audio (10 ms windows below the audible level the suite
//! uses everywhere). A turn passes when both differ from the recording's by
//! at most the tolerance; replays at another speed are scaled back first.
//!
//! Where the session's clock is its input audio (GPT-Live: turns inferred
//! over continuous audio both ways), the wall clock measures how fast the
//! client streamed, not the provider; such turns are timed on the session
//! timeline instead (`fixtures stats`' `first_audio_timeline_ms`), which
//! no replay speed changes.

use super::decode_check::Located;
use crate::drive::{Latency, AUDIBLE_RMS};
use std::time::Duration;
use understudy_adapters::ModelEvent;
use understudy_fixtures::{cassette_stats, split_turns, Cassette};

/// The tolerance `conform --cassettes` uses unless told otherwise: wide
/// enough for the scheduling jitter of a loaded CI machine running cases
/// side by side, narrow enough to catch a provider (or gateway) that became
/// noticeably slower.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_millis(150);

/// The latency of each turn with audio: its 1-based number and its figures.
pub fn turn_latencies(cassette: &Cassette, events: &[Located]) -> Vec<(usize, Latency)> {
    let split = split_turns(cassette);
    cassette_stats(cassette)
        .turns
        .iter()
        .filter_map(|stats| {
            let ttfb_ms = stats.first_audio_timeline_ms.or(stats.first_audio_ms)?;
            let frames = split.turns.get(stats.number - 1)?.frames.clone();
            let silence_ms = leading_silence_ms(
                events
                    .iter()
                    .filter(|(index, _)| frames.contains(index))
                    .map(|(_, event)| event),
            );
            Some((
                stats.number,
                Latency {
                    ttfb_ms,
                    ttfa_ms: ttfb_ms + silence_ms,
                },
            ))
        })
        .collect()
}

/// Whether `cassette`'s turns are timed on the session timeline (see the
/// module docs): their figures do not scale with a replay's speed.
pub fn on_timeline(cassette: &Cassette) -> bool {
    cassette_stats(cassette)
        .turns
        .iter()
        .any(|t| t.first_audio_timeline_ms.is_some())
}

/// Milliseconds of silence at the start of the first response's audio among `events`.
fn leading_silence_ms<'a>(events: impl Iterator<Item = &'a ModelEvent>) -> f64 {
    let mut first: Option<(&str, u32)> = None;
    let mut samples: Vec<i16> = Vec::new();
    for event in events {
        let ModelEvent::AudioDelta {
            response_id,
            pcm,
            sample_rate,
            ..
        } = event
        else {
            continue;
        };
        let (id, _) = *first.get_or_insert((response_id, *sample_rate));
        if id == response_id {
            samples.extend(pcm.samples());
        }
    }
    let Some((_, rate)) = first else {
        return 0.0;
    };
    let window = (rate as usize / 100).max(1);
    let silent = samples
        .chunks(window)
        .take_while(|w| understudy_adapters::audio::rms(w) < AUDIBLE_RMS)
        .count();
    silent as f64 * 10.0
}

/// Compares the replay's turns with the recording's; `Ok` with a summary
/// when every recorded turn with audio came back within `tolerance`, else the
/// first turn that did not. `speed` is the replay's speed factor.
pub fn compare(
    recorded: &[(usize, Latency)],
    replayed: &[(usize, Latency)],
    tolerance: Duration,
    speed: f64,
) -> Result<String, String> {
    let tolerance_ms = tolerance.as_secs_f64() * 1000.0;
    let mut worst: f64 = 0.0;
    for (turn, want) in recorded {
        let Some((_, got)) = replayed.iter().find(|(n, _)| n == turn) else {
            return Err(format!("turn {turn}: the replay has no audio for it"));
        };
        let scaled = Latency {
            ttfb_ms: got.ttfb_ms * speed,
            ttfa_ms: got.ttfa_ms * speed,
        };
        for (what, w, g) in [
            ("TTFB", want.ttfb_ms, scaled.ttfb_ms),
            ("TTFA", want.ttfa_ms, scaled.ttfa_ms),
        ] {
            let off = (g - w).abs();
            worst = worst.max(off);
            if off > tolerance_ms {
                return Err(format!(
                    "turn {turn}: {what} {g:.1} ms against the recording's {w:.1} ms \
                     (off by {off:.1} ms, tolerance {tolerance_ms:.0} ms)"
                ));
            }
        }
    }
    Ok(format!(
        "{} turns within {tolerance_ms:.0} ms of the recording (largest difference {worst:.1} ms)",
        recorded.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::{compare, leading_silence_ms, Latency};
    use std::time::Duration;
    use understudy_adapters::{ModelEvent, Pcm};

    fn at(ttfb_ms: f64) -> Latency {
        Latency {
            ttfb_ms,
            ttfa_ms: ttfb_ms + 20.0,
        }
    }

    #[test]
    fn turns_within_the_tolerance_pass_and_a_slow_one_is_named() {
        let tolerance = Duration::from_millis(50);
        let recorded = [(1, at(100.0)), (2, at(300.0))];
        compare(&recorded, &[(1, at(120.0)), (2, at(290.0))], tolerance, 1.0).unwrap();
        let why =
            compare(&recorded, &[(1, at(120.0)), (2, at(400.0))], tolerance, 1.0).unwrap_err();
        assert!(
            why.starts_with("turn 2: TTFB 400.0 ms against the recording's 300.0 ms"),
            "{why}"
        );
        let why = compare(&recorded, &[(1, at(100.0))], tolerance, 1.0).unwrap_err();
        assert_eq!(why, "turn 2: the replay has no audio for it");
        // At speed 2 the replay's figures are doubled before comparing.
        compare(&recorded, &[(1, at(50.0)), (2, at(150.0))], tolerance, 2.0).unwrap();
    }

    #[test]
    fn leading_silence_counts_quiet_windows_of_the_first_response() {
        let mut pcm = vec![0u8; 240 * 2 * 3]; // 30 ms of silence at 24 kHz
        pcm.extend(std::iter::repeat_n([0x00, 0x40], 240).flatten()); // then 10 ms loud
        let events = [ModelEvent::AudioDelta {
            response_id: "r".into(),
            item_id: "i".into(),
            pcm: Pcm(pcm),
            sample_rate: 24_000,
        }];
        assert_eq!(leading_silence_ms(events.iter()), 30.0);
    }
}
