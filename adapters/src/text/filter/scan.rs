//! Bounded look-ahead helpers: every construct is decided within the current
//! line and within a byte limit, so the filter never waits for more than that.

/// The most bytes of one line the block stage looks at to decide a line's
/// kind (a table header candidate, a fence opener, a kept table row). A longer
/// line is decided as if it ended there.
pub const LINE_LIMIT: usize = 4096;

/// The most bytes an inline construct (code span, link, HTML tag) may span;
/// an opener without its closer within this many bytes is literal text.
pub const SPAN_LIMIT: usize = 1024;

/// The outcome of a look-ahead probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe<T> {
    /// The construct is there.
    Is(T),
    /// It is not, whatever follows.
    IsNot,
    /// More input could change the answer.
    Undecided,
}

/// The part of `s` a probe may look at: up to the first newline (excluded)
/// and at most `limit` bytes. The flag says whether that window is final:
/// a newline or the limit was reached, or the input ended.
pub(crate) fn line_window(s: &str, limit: usize, eof: bool) -> (&str, bool) {
    let bounded = &s[..floor_char_boundary(s, limit)];
    if let Some(i) = bounded.find('\n') {
        return (&s[..i], true);
    }
    if s.len() >= limit {
        return (bounded, true);
    }
    (s, eof)
}

/// The largest char boundary of `s` not above `index`.
pub(crate) fn floor_char_boundary(s: &str, index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    let mut i = index;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `s` up to and including its first newline, and whether there was one.
pub(crate) fn take_line(s: &str) -> (&str, bool) {
    match s.find('\n') {
        Some(i) => (&s[..=i], true),
        None => (s, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_stops_at_newline_limit_or_eof() {
        assert_eq!(line_window("ab\ncd", 10, false), ("ab", true));
        assert_eq!(line_window("abcd", 10, false), ("abcd", false));
        assert_eq!(line_window("abcd", 10, true), ("abcd", true));
        assert_eq!(line_window("abcdef", 4, false), ("abcd", true));
        assert_eq!(line_window("ab中", 3, false), ("ab", true));
        assert_eq!(take_line("a\nb"), ("a\n", true));
        assert_eq!(take_line("ab"), ("ab", false));
    }
}
