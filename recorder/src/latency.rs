//! What the proxy adds per frame: the time between reading a frame from one
//! side and handing it to the other.

use serde::Serialize;
use std::time::Duration;

/// Every forwarding delay of a session, kept until the session ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct LatencySamples {
    nanos: Vec<u64>,
}

/// Percentiles of the added latency, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct LatencySummary {
    /// Frames (or body chunks) measured.
    pub frames: usize,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest.
    pub max_us: f64,
    /// Mean.
    pub mean_us: f64,
}

impl LatencySamples {
    pub(crate) fn record(&mut self, delay: Duration) {
        self.nanos
            .push(u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX));
    }

    /// The summary, or `None` when nothing was forwarded.
    pub(crate) fn summary(&self) -> Option<LatencySummary> {
        if self.nanos.is_empty() {
            return None;
        }
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            let index = ((sorted.len() - 1) as f64 * q).round() as usize;
            sorted[index.min(sorted.len() - 1)] as f64 / 1000.0
        };
        let sum: u128 = sorted.iter().map(|&n| u128::from(n)).sum();
        Some(LatencySummary {
            frames: sorted.len(),
            p50_us: at(0.5),
            p99_us: at(0.99),
            max_us: at(1.0),
            mean_us: sum as f64 / sorted.len() as f64 / 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_samples() {
        let mut samples = LatencySamples::default();
        assert!(samples.summary().is_none());
        for us in 1..=100u64 {
            samples.record(Duration::from_micros(us));
        }
        let s = samples.summary().unwrap();
        assert_eq!(s.frames, 100);
        assert_eq!(s.max_us, 100.0);
        assert!((s.p50_us - 50.0).abs() <= 1.0, "{s:?}");
        assert!((s.p99_us - 99.0).abs() <= 1.0, "{s:?}");
        assert!((s.mean_us - 50.5).abs() < 1e-9, "{s:?}");
    }
}
