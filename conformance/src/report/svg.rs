//! Hand-written inline SVG: the cumulative distribution (CDF) of latency
//! samples, one step line per metric, for the HTML report.
//!
//! A CDF reads well from one sample to thousands: the x axis is milliseconds
//! (0 to a round number above the largest sample), the y axis the share of
//! samples at or below it, so p50/p95/p99 are where a line crosses 0.5, 0.95
//! and 0.99 (drawn as faint guides). Each line is a `<path>` with a class per
//! metric (`cdf ttfb`), so the page's CSS colours it and a test can find it.
//! No library, no script: the page stays one self-contained file.

use super::escape_markup as esc;
use super::stats::{Distribution, Metric};
use std::fmt::Write as _;

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 150.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ that is ≥ `value` (an axis end).
fn round_up(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * magnitude)
        .find(|end| *end >= value)
        .unwrap_or(10.0 * magnitude)
}

/// A CSS class for a metric's line.
pub fn class(metric: Metric) -> &'static str {
    match metric {
        Metric::Ttfb => "ttfb",
        Metric::Ttfa => "ttfa",
        Metric::Ttfs => "ttfs",
    }
}

/// An inline `<svg>` CDF of `lines` (one group's metrics); `title` names it
/// for screen readers. Empty lines are skipped.
pub fn cdf(title: &str, lines: &[&Distribution]) -> String {
    let max = lines
        .iter()
        .flat_map(|d| d.samples.last())
        .fold(0.0f64, |a, &b| a.max(b));
    let x_end = round_up(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |ms: f64| LEFT + (ms / x_end).clamp(0.0, 1.0) * plot_w;
    let y = |share: f64| TOP + (1.0 - share) * plot_h;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"cdf\" role=\"img\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\"><title>{}</title>",
        esc(title)
    );
    // Percentile guides and the axes.
    for share in [0.5, 0.95, 0.99] {
        let _ = write!(
            out,
            "<line class=\"guide\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
            LEFT + plot_w,
            y(share),
            y(share)
        );
    }
    let _ = write!(
        out,
        "<path class=\"axis\" d=\"M{LEFT} {TOP}V{:.1}H{:.1}\"/>",
        TOP + plot_h,
        LEFT + plot_w
    );
    for (share, label) in [(0.0, "0"), (0.5, "p50"), (1.0, "1")] {
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            LEFT - 4.0,
            y(share) + 3.0
        );
    }
    for fraction in [0.0, 0.5, 1.0] {
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(fraction * x_end),
            TOP + plot_h + 13.0,
            fraction * x_end
        );
    }
    let _ = write!(
        out,
        "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">ms</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 4.0
    );
    for d in lines.iter().filter(|d| !d.samples.is_empty()) {
        let n = d.samples.len() as f64;
        let mut path = format!("M{:.1} {:.1}", x(d.samples[0]), y(0.0));
        for (i, &ms) in d.samples.iter().enumerate() {
            let _ = write!(
                path,
                "L{:.1} {:.1}L{:.1} {:.1}",
                x(ms),
                y(i as f64 / n),
                x(ms),
                y((i + 1) as f64 / n)
            );
        }
        let _ = write!(
            out,
            "<path class=\"cdf {}\" d=\"{path}\"><title>{} n={}</title></path>",
            class(d.metric),
            d.metric.label(),
            d.samples.len()
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ends_are_round_numbers_above_the_largest_sample() {
        assert_eq!(round_up(0.0), 1.0);
        assert_eq!(round_up(7.0), 10.0);
        assert_eq!(round_up(180.0), 200.0);
        assert_eq!(round_up(210.0), 250.0);
        assert_eq!(round_up(1000.0), 1000.0);
    }

    #[test]
    fn one_step_path_per_metric_ending_at_the_top() {
        let ttfb = Distribution {
            group: "openai-ga".into(),
            metric: Metric::Ttfb,
            samples: vec![10.0, 20.0],
        };
        let ttfa = Distribution {
            metric: Metric::Ttfa,
            samples: vec![15.0, 40.0],
            ..ttfb.clone()
        };
        let svg = cdf("openai-ga <latency>", &[&ttfb, &ttfa]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>openai-ga &lt;latency&gt;</title>"));
        assert_eq!(svg.matches("<path class=\"cdf ").count(), 2);
        // The x axis ends at 50 ms: 40 ms sits at 80 % of the plot width, and the
        // last step of the TTFA line reaches the top of the plot (share 1).
        let plot_w = WIDTH - LEFT - RIGHT;
        let last = format!("L{:.1} {:.1}\"", LEFT + 0.8 * plot_w, TOP);
        assert!(svg.contains(&last), "{last} in {svg}");
    }
}
