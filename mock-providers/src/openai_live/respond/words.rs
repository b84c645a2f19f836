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

/// `text` as fragments on a `grid_ms` grid spread over `[start_ms, end_ms]`.
pub(super) fn fragments(text: &str, start_ms: u64, end_ms: u64, grid_ms: u64) -> Vec<Fragment> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Vec::new();
    }
    let grid = grid_ms.max(1);
    // Every cell of the span (the last one may be partial), so that sparse
    // words spread across it as they were spoken, the last word in the last
    // cell: no fragment is longer than the grid, and a client hears them at
    // an even pace, none long after the one before.
    let cells = (end_ms.saturating_sub(start_ms)).div_ceil(grid).max(1) as usize;
    let mut out: Vec<Fragment> = Vec::with_capacity(cells);
    for (i, word) in words.iter().enumerate() {
        let cell = if i + 1 == words.len() {
            cells - 1
        } else {
            i * cells / words.len()
        };
        let cell_start = start_ms + cell as u64 * grid;
        match out.last_mut() {
            Some(last) if last.start_ms == cell_start => {
                last.delta.push(' ');
                last.delta.push_str(word);
            }
            _ => {
                let lead = if i == 0 { "" } else { " " };
                out.push(Fragment {
                    start_ms: cell_start,
                    end_ms: (cell_start + grid).min(end_ms.max(cell_start)),
                    delta: format!("{lead}{word}"),
                });
            }
        }
    }
    // The last fragment ends where the words did.
    if let Some(last) = out.last_mut() {
        last.end_ms = end_ms.max(last.start_ms);
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
                    end_ms: 1200,
                    delta: "What's".into()
                },
                Fragment {
                    start_ms: 1200,
                    end_ms: 1400,
                    delta: " the".into()
                },
                Fragment {
                    start_ms: 1600,
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
        // Sparse words spread over the whole span: no fragment longer than
        // a cell, the last one in the last (partial) cell, ending where the
        // words did.
        let spread = fragments("What is the weather like in Paris today?", 300, 2404, 200);
        assert_eq!(spread.len(), 8);
        assert!(
            spread.iter().all(|f| f.end_ms - f.start_ms <= 200),
            "{spread:?}"
        );
        assert_eq!(
            spread.last().map(|f| (f.start_ms, f.end_ms)),
            Some((2300, 2404))
        );
        assert!(spread.windows(2).all(|w| w[1].start_ms >= w[0].end_ms));
        assert!(fragments("   ", 0, 1000, 200).is_empty());
    }
}
