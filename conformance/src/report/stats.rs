//! Latency as distributions: the samples a run measured, grouped per dialect
//! and per case family, with nearest-rank percentiles.
//!
//! Every latency figure a case carries is one sample of one [`Metric`]: each
//! spoken response gives a TTFB and a TTFA, a speaking-pipeline case gives a
//! time to first sound. The HTML and Markdown reports both print the same
//! [`Distribution`]s, built here once: per dialect (`CaseResult::dialect`) and
//! per family (the case id up to its first dot: `openai`, `cross`, `agent`, …).
//!
//! Percentiles are nearest-rank: p50 of `n` sorted samples is the sample at
//! rank ⌈0.5·n⌉, so every figure printed is a value that was measured.

use crate::grade::CaseResult;
use std::collections::BTreeMap;

/// What a latency sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// First audio byte after the end of user input.
    Ttfb,
    /// First audible sample after the end of user input.
    Ttfa,
    /// Speaking pipeline: first text delta to first audio chunk.
    Ttfs,
}

impl Metric {
    /// Every metric, in print order.
    pub const ALL: [Metric; 3] = [Metric::Ttfb, Metric::Ttfa, Metric::Ttfs];

    /// How the metric is printed.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Ttfb => "TTFB",
            Metric::Ttfa => "TTFA",
            Metric::Ttfs => "TTFS",
        }
    }

    /// The samples of this metric one case carries, in milliseconds.
    pub fn samples(self, result: &CaseResult) -> Vec<f64> {
        match self {
            Metric::Ttfb => result.latency.iter().map(|l| l.ttfb_ms).collect(),
            Metric::Ttfa => result.latency.iter().map(|l| l.ttfa_ms).collect(),
            Metric::Ttfs => result.time_to_first_sound_ms.into_iter().collect(),
        }
    }
}

/// How results are grouped for distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// By `CaseResult::dialect`.
    Dialect,
    /// By case family: the id up to its first dot.
    Family,
}

impl Grouping {
    /// How the grouping is printed (a table heading).
    pub fn label(self) -> &'static str {
        match self {
            Grouping::Dialect => "dialect",
            Grouping::Family => "family",
        }
    }

    /// The group `result` belongs to.
    pub fn key(self, result: &CaseResult) -> &str {
        match self {
            Grouping::Dialect => &result.dialect,
            Grouping::Family => family(&result.id),
        }
    }
}

/// A case's family: its id up to the first dot (`openai.ga.tool` → `openai`).
pub fn family(id: &str) -> &str {
    id.split_once('.').map_or(id, |(head, _)| head)
}

/// The samples of one metric in one group, sorted ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// The group (a dialect or a family).
    pub group: String,
    /// What was measured.
    pub metric: Metric,
    /// The samples in milliseconds, sorted ascending; never empty.
    pub samples: Vec<f64>,
}

impl Distribution {
    /// The nearest-rank `p`th percentile (`p` in 0..=100).
    pub fn percentile(&self, p: f64) -> f64 {
        percentile(&self.samples, p)
    }

    /// How many samples.
    pub fn count(&self) -> usize {
        self.samples.len()
    }
}

/// The nearest-rank `p`th percentile of ascending `sorted` samples (NaN when
/// there are none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The distributions of every metric per group, groups in name order and
/// metrics in [`Metric::ALL`] order; groups or metrics with no sample are left
/// out.
pub fn distributions(results: &[CaseResult], grouping: Grouping) -> Vec<Distribution> {
    let mut groups: BTreeMap<(&str, Metric), Vec<f64>> = BTreeMap::new();
    for result in results {
        for metric in Metric::ALL {
            let samples = metric.samples(result);
            if !samples.is_empty() {
                groups
                    .entry((grouping.key(result), metric))
                    .or_default()
                    .extend(samples.into_iter().filter(|s| s.is_finite()));
            }
        }
    }
    groups
        .into_iter()
        .filter(|(_, samples)| !samples.is_empty())
        .map(|((group, metric), mut samples)| {
            samples.sort_by(f64::total_cmp);
            Distribution {
                group: group.to_owned(),
                metric,
                samples,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::Latency;
    use crate::grade::blank;

    fn spoken(id: &str, dialect: &str, pairs: &[(f64, f64)]) -> CaseResult {
        let mut result = blank(id.into(), "a case");
        result.dialect = dialect.into();
        result.latency = pairs
            .iter()
            .map(|&(ttfb_ms, ttfa_ms)| Latency { ttfb_ms, ttfa_ms })
            .collect();
        result
    }

    #[test]
    fn nearest_rank_percentiles_are_measured_values() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 50.0), 50.0);
        assert_eq!(percentile(&samples, 95.0), 95.0);
        assert_eq!(percentile(&samples, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), 2.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn distributions_group_by_dialect_and_by_family() {
        let mut tts = blank("tts.openai.first-sound".into(), "speaking");
        tts.time_to_first_sound_ms = Some(12.0);
        let results = [
            spoken("openai.ga.text", "openai-ga", &[(30.0, 40.0), (10.0, 20.0)]),
            spoken("cross.question", "openai-ga", &[(50.0, 60.0)]),
            spoken("gemini.live.text", "gemini-live", &[]),
            tts,
        ];
        let by_dialect = distributions(&results, Grouping::Dialect);
        let keys: Vec<(&str, Metric, usize)> = by_dialect
            .iter()
            .map(|d| (d.group.as_str(), d.metric, d.count()))
            .collect();
        assert_eq!(
            keys,
            [
                ("openai-ga", Metric::Ttfb, 3),
                ("openai-ga", Metric::Ttfa, 3),
                ("tts", Metric::Ttfs, 1),
            ]
        );
        assert_eq!(by_dialect[0].samples, [10.0, 30.0, 50.0], "sorted");
        let by_family = distributions(&results, Grouping::Family);
        let families: Vec<&str> = by_family.iter().map(|d| d.group.as_str()).collect();
        assert_eq!(families, ["cross", "cross", "openai", "openai", "tts"]);
    }
}
