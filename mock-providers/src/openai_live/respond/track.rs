//! The continuous output track: one `session.output_audio.delta` per 100 ms
//! of session timeline for the life of the session, the model's voice where
//! it speaks and digital silence elsewhere (or, with the idle track off, the
//! voiced chunks only).
//!
//! Speech is laid on the track as [`Segment`]s at timeline points; a chunk
//! goes out once the input timeline has passed its end, so speech laid at
//! any point not yet passed is never lost to a chunk already sent silent. A barge-in cuts every
//! segment at a point: nothing of them is voiced from there on, which is how
//! the model "simply stops" (there is no cancel event in GPT-Live).

use super::super::audio::LiveFormat;

/// Length of one output chunk, ms (the service: 100 ms, 4,800 bytes at 24 kHz).
pub(super) const CHUNK_MS: u64 = 100;

/// One stretch of speech on the track.
#[derive(Debug, Clone)]
struct Segment {
    /// What it belongs to (a reply's tag).
    tag: String,
    /// Timeline start, ms.
    start_ms: u64,
    /// PCM16 at the session rate.
    samples: Vec<i16>,
    /// Where a barge-in cut it, if one did.
    cut_ms: Option<u64>,
}

impl Segment {
    fn end_ms(&self, rate: u32) -> u64 {
        let natural = self.start_ms + self.samples.len() as u64 * 1000 / u64::from(rate.max(1));
        self.cut_ms.map_or(natural, |cut| cut.min(natural))
    }
}

/// The output track of one session.
#[derive(Debug)]
pub(super) struct OutputTrack {
    format: LiveFormat,
    segments: Vec<Segment>,
    /// Index of the next chunk to send.
    next_chunk: u64,
    /// Whether silent chunks are sent.
    idle: bool,
}

impl OutputTrack {
    /// An empty track in `format`; `idle` sends the silence too.
    pub(super) fn new(format: LiveFormat, idle: bool) -> Self {
        OutputTrack {
            format,
            segments: Vec::new(),
            next_chunk: 0,
            idle,
        }
    }

    /// Lays `samples` (PCM16 at the session rate) on the track from `start_ms`.
    pub(super) fn play(&mut self, tag: &str, start_ms: u64, samples: Vec<i16>) {
        self.segments.push(Segment {
            tag: tag.to_owned(),
            start_ms,
            samples,
            cut_ms: None,
        });
    }

    /// Removes the segments tagged `tag` (a reply withdrawn before it sounds).
    pub(super) fn drop_tag(&mut self, tag: &str) {
        self.segments.retain(|s| s.tag != tag);
    }

    /// When everything laid on the track has been spoken (0 when nothing).
    pub(super) fn busy_until(&self) -> u64 {
        let rate = self.format.rate();
        self.segments
            .iter()
            .map(|s| s.end_ms(rate))
            .max()
            .unwrap_or(0)
    }

    /// Whether the model is voicing something at `t_ms`.
    pub(super) fn speaking_at(&self, t_ms: u64) -> bool {
        let rate = self.format.rate();
        self.segments
            .iter()
            .any(|s| s.start_ms <= t_ms && t_ms < s.end_ms(rate))
    }

    /// Stops every segment still sounding (or still to come) at `at_ms`;
    /// returns their tags, so their later transcript can be dropped.
    pub(super) fn cut(&mut self, at_ms: u64) -> Vec<String> {
        let rate = self.format.rate();
        let mut tags = Vec::new();
        for segment in &mut self.segments {
            if segment.end_ms(rate) > at_ms {
                segment.cut_ms = Some(at_ms.max(segment.start_ms));
                tags.push(segment.tag.clone());
            }
        }
        tags
    }

    /// The chunks whose end the timeline (`t_ms`) has reached: each one's
    /// timeline start and its PCM16 samples at the session rate; silent ones
    /// only with the idle track.
    pub(super) fn advance(&mut self, t_ms: u64) -> Vec<(u64, Vec<i16>)> {
        let rate = self.format.rate();
        let per_chunk = self.format.samples_in(CHUNK_MS);
        let mut out = Vec::new();
        while (self.next_chunk + 1) * CHUNK_MS <= t_ms {
            let chunk_start = self.next_chunk * CHUNK_MS;
            self.next_chunk += 1;
            let mut samples = vec![0i16; per_chunk];
            let mut voiced = false;
            for segment in &self.segments {
                let end = segment.end_ms(rate);
                if segment.start_ms >= chunk_start + CHUNK_MS || end <= chunk_start {
                    continue;
                }
                voiced = true;
                let offset = |ms: u64| (u64::from(rate) * ms / 1000) as usize;
                let from = offset(chunk_start.max(segment.start_ms) - segment.start_ms);
                let to = offset(end.min(chunk_start + CHUNK_MS) - segment.start_ms);
                let at = offset(segment.start_ms.saturating_sub(chunk_start));
                for (i, sample) in segment.samples[from..to.min(segment.samples.len())]
                    .iter()
                    .enumerate()
                {
                    if let Some(slot) = samples.get_mut(at + i) {
                        *slot = *sample;
                    }
                }
            }
            if voiced || self.idle {
                out.push((chunk_start, samples));
            }
        }
        // Finished segments no longer shape the track.
        let passed = self.next_chunk * CHUNK_MS;
        self.segments.retain(|s| s.end_ms(rate) > passed);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_track_is_continuous_and_voices_only_the_segments() {
        let mut track = OutputTrack::new(LiveFormat::Pcm(24_000), true);
        track.play("r1", 200, vec![1000; 2400 * 2]); // 200–400 ms
        let chunks = track.advance(550);
        assert_eq!(
            chunks.len(),
            5,
            "chunks at 0,100,200,300,400 (the 500 one is not over)"
        );
        assert!(chunks.iter().all(|(_, c)| c.len() == 2400));
        let starts: Vec<u64> = chunks.iter().map(|(at, _)| *at).collect();
        assert_eq!(starts, [0, 100, 200, 300, 400]);
        let loud = |(_, c): &(u64, Vec<i16>)| c.iter().any(|s| *s != 0);
        assert_eq!(
            chunks.iter().map(loud).collect::<Vec<_>>(),
            [false, false, true, true, false]
        );
        assert!(!track.speaking_at(450));
        // Speech laid where the timeline has not passed is heard in full.
        track.play("r2", 520, vec![1000; 2400]);
        let next = track.advance(700);
        assert_eq!(next.iter().map(loud).collect::<Vec<_>>(), [true, true]);
    }

    #[test]
    fn a_cut_silences_the_rest_and_the_idle_track_can_be_off() {
        let mut track = OutputTrack::new(LiveFormat::Pcm(16_000), false);
        track.play("r1", 0, vec![500; 16_000]); // 1 s
        assert!(track.speaking_at(500));
        assert_eq!(track.cut(300), vec!["r1".to_owned()]);
        assert_eq!(track.busy_until(), 300);
        let chunks = track.advance(2000);
        assert_eq!(chunks.len(), 3, "only the voiced chunks before the cut");
        assert_eq!(chunks[0].1.len(), 1600);
        assert!(track.cut(2500).is_empty());
    }
}
