//! Timed transcript fragments, the way GPT-Live sends them: words laid on a
//! fixed grid (200 ms in recordings) across the span they were spoken in,
//! several words sharing a cell when they are denser than the grid; the first
//! fragment without a leading space, every later one with its own.

/// One fragment: `[start_ms, end_ms)` on the session timeline and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fragment {
    /// Timeline start, ms.
    pub(super) start_ms: u64,
    /// Timeline end, ms.
    pub(super) end_ms: u64,
    /// The text, with its own leading space (none on the first).
    pub(super) delta: String,
}

/// `text` as fragments spread over `[start_ms, end_ms]`: one per word, or
/// several words sharing one when they are denser than the `grid_ms` grid
/// (one fragment per grid cell at most); the fragments are of equal length
/// and tile the span, each ending where the next begins and the last where
/// the words did.
///
/// Equal and gapless, a client hears them at an even pace, one fragment's
/// length apart: bunched at the start of the span, the last fragment would
/// stretch to its end and arrive long after the one before, and a client
/// that ends the user's turn on a pause in the fragments would cut the
/// sentence in two.
pub(super) fn fragments(text: &str, start_ms: u64, end_ms: u64, grid_ms: u64) -> Vec<Fragment> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Vec::new();
    }
    let span = end_ms.saturating_sub(start_ms);
    let cells = (span / grid_ms.max(1)).max(1) as usize;
    let count = cells.min(words.len());
    let bound = |k: usize| start_ms + span * k as u64 / count as u64;
    let mut out: Vec<Fragment> = Vec::with_capacity(count);
    for (i, word) in words.iter().enumerate() {
        let k = i * count / words.len();
        match out.get_mut(k) {
            Some(fragment) => {
                fragment.delta.push(' ');
                fragment.delta.push_str(word);
            }
            None => {
                let lead = if i == 0 { "" } else { " " };
                out.push(Fragment {
                    start_ms: bound(k),
                    end_ms: bound(k + 1),
                    delta: format!("{lead}{word}"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_spread_on_the_grid_with_their_own_spaces() {
        let f = fragments("What's the weather?", 1000, 1800, 200);
        assert_eq!(
            f,
            vec![
                Fragment {
                    start_ms: 1000,
                    end_ms: 1266,
                    delta: "What's".into()
                },
                Fragment {
                    start_ms: 1266,
                    end_ms: 1533,
                    delta: " the".into()
                },
                Fragment {
                    start_ms: 1533,
                    end_ms: 1800,
                    delta: " weather?".into()
                },
            ]
        );
        let joined: String = fragments("a b c d e", 0, 400, 200)
            .into_iter()
            .map(|f| f.delta)
            .collect();
        assert_eq!(joined, "a b c d e");
        assert_eq!(fragments("one two", 500, 500, 200).len(), 1);
        assert!(fragments("   ", 0, 1000, 200).is_empty());
    }

    /// Sparse words spread evenly over the whole span and tile it: each
    /// fragment ends where the next starts, the last where the words did,
    /// all of one length (so none arrives long after the one before);
    /// dense words share fragments, one per grid cell at most.
    #[test]
    fn fragments_tile_the_span_evenly() {
        for (text, start, end) in [
            ("What is the weather like in Paris today?", 300, 2404),
            (
                "Wait, stop. Actually, tell me about Berlin instead.",
                4200,
                7542,
            ),
        ] {
            let spread = fragments(text, start, end, 200);
            assert_eq!(spread.len(), 8, "{spread:?}");
            assert_eq!(spread[0].start_ms, start);
            assert_eq!(spread.last().map(|f| f.end_ms), Some(end));
            assert!(spread.windows(2).all(|w| w[1].start_ms == w[0].end_ms));
            let even = (end - start) / 8;
            assert!(
                spread
                    .iter()
                    .all(|f| (f.end_ms - f.start_ms).abs_diff(even) <= 1),
                "{spread:?}"
            );
        }
        let dense = fragments("a b c d e f", 0, 400, 200);
        assert_eq!(dense.len(), 2, "{dense:?}");
        assert_eq!(dense[0].delta, "a b c");
        assert_eq!(dense[1].delta, " d e f");
    }
}
