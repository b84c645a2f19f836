//! Classifying the start of a line: blank, code, fence, table, heading, list
//! item, rule, quote or prose.
//!
//! Each probe looks only as far as it must: the leading whitespace and the
//! markup prefix, except for the few constructs whose kind depends on the rest
//! of the line (a backtick fence, a thematic break) or on the next line (a
//! table header).

use super::scan::{line_window, Probe, LINE_LIMIT};
use super::table;

/// The leading whitespace of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Indent {
    /// Its length in bytes.
    pub(super) bytes: usize,
    /// Its width in columns (a tab advances to the next multiple of four).
    pub(super) cols: usize,
}

impl Indent {
    pub(super) fn measure(line: &str) -> Indent {
        let mut cols = 0;
        let mut bytes = 0;
        for b in line.bytes() {
            match b {
                b' ' => cols += 1,
                b'\t' => cols += 4 - cols % 4,
                b'\r' => {}
                _ => break,
            }
            bytes += 1;
        }
        Indent { bytes, cols }
    }

    /// Bytes of leading whitespace that make up at most `cols` columns.
    pub(super) fn bytes_within(line: &str, max_cols: usize) -> usize {
        let mut cols = 0;
        let mut bytes = 0;
        for b in line.bytes() {
            let next = match b {
                b' ' => cols + 1,
                b'\t' => cols + 4 - cols % 4,
                _ => break,
            };
            if next > max_cols {
                break;
            }
            cols = next;
            bytes += 1;
        }
        bytes
    }
}

/// What a line turned out to be, with the bytes of markup at its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LineKind {
    /// Only whitespace.
    Blank,
    /// A line inside a code block; `strip` bytes of indentation are not code.
    CodeLine { strip: usize },
    /// The opening fence of a fenced code block (the whole line is markup).
    FenceOpen {
        fence: char,
        len: usize,
        indent: usize,
    },
    /// The closing fence (the whole line is markup).
    FenceClose,
    /// The first line of an indented code block.
    IndentedCodeStart { strip: usize },
    /// A table header row and its delimiter row, `header` and `delimiter`
    /// bytes long including their newlines.
    TableStart { header: usize, delimiter: usize },
    /// A table body row.
    TableRow,
    /// An ATX heading; `marker` bytes of indentation, `#`s and one space.
    Heading { marker: usize },
    /// A list item; `marker` bytes up to the item text, whose column is
    /// `content_cols`.
    ListItem { marker: usize, content_cols: usize },
    /// A thematic break or setext underline (the whole line is markup).
    Break,
    /// A block quote marker `>` and one space.
    Quote { marker: usize },
    /// Prose after `strip` bytes of indentation.
    Prose { strip: usize },
}

/// A fenced code block's opening fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fence {
    pub(super) fence: char,
    pub(super) len: usize,
    pub(super) indent: usize,
}

/// A line inside a fenced code block: content or the closing fence.
pub(super) fn fenced_line(rest: &str, fence: Fence, eof: bool) -> Option<LineKind> {
    let strip = Indent::bytes_within(rest, fence.indent);
    // A fence inside a block quote closes with the quote markers before it.
    let unquoted = strip_quote_markers(rest);
    let indent = Indent::measure(unquoted);
    let after = &unquoted[indent.bytes..];
    if after.is_empty() {
        return eof.then_some(LineKind::CodeLine { strip });
    }
    let content = Some(LineKind::CodeLine { strip });
    if indent.cols > fence.indent + 3 || !after.starts_with(fence.fence) {
        return content;
    }
    let run = after
        .bytes()
        .take_while(|&b| b == fence.fence as u8)
        .count();
    let tail = &after[run..];
    if run < fence.len {
        return if tail.is_empty() && !eof {
            None
        } else {
            content
        };
    }
    let (window, complete) = line_window(tail, LINE_LIMIT, eof);
    if !window.chars().all(char::is_whitespace) {
        return content;
    }
    complete.then_some(LineKind::FenceClose)
}

fn strip_quote_markers(line: &str) -> &str {
    let mut s = line;
    loop {
        let trimmed = s.trim_start_matches([' ', '\t']);
        match trimmed.strip_prefix('>') {
            Some(inner) => s = inner,
            None => return s,
        }
    }
}

/// What the line starting `after` (its indentation already measured) opens,
/// outside any code block or table. `None`: undecided until more input.
pub(super) fn block_start(rest: &str, indent: Indent, eof: bool) -> Option<LineKind> {
    let after = &rest[indent.bytes..];
    let first = after.chars().next()?;
    let prose = LineKind::Prose {
        strip: indent.bytes,
    };
    let kind = match first {
        '`' | '~' => match fence_open(after, eof) {
            Probe::Is((fence, len)) => LineKind::FenceOpen {
                fence,
                len,
                indent: indent.cols,
            },
            Probe::IsNot => prose,
            Probe::Undecided => return None,
        },
        '|' => match table_start(rest, eof) {
            Probe::Is((header, delimiter)) => LineKind::TableStart { header, delimiter },
            Probe::IsNot => prose,
            Probe::Undecided => return None,
        },
        '#' => match heading(after, eof) {
            Probe::Is(marker) => LineKind::Heading {
                marker: indent.bytes + marker,
            },
            Probe::IsNot => prose,
            Probe::Undecided => return None,
        },
        '>' => match after[1..].chars().next() {
            Some(' ') => LineKind::Quote {
                marker: indent.bytes + 2,
            },
            None if !eof => return None,
            _ => LineKind::Quote {
                marker: indent.bytes + 1,
            },
        },
        '-' | '*' | '_' | '=' | '+' => {
            if first != '+' {
                match thematic_break(after, first, eof) {
                    Probe::Is(()) => return Some(LineKind::Break),
                    Probe::Undecided => return None,
                    Probe::IsNot => {}
                }
            }
            if first == '_' || first == '=' {
                prose
            } else {
                match bullet(after, eof) {
                    Probe::Is(marker) => LineKind::ListItem {
                        marker: indent.bytes + marker,
                        content_cols: indent.cols + 2,
                    },
                    Probe::IsNot => prose,
                    Probe::Undecided => return None,
                }
            }
        }
        '0'..='9' => match ordered(after, eof) {
            Probe::Is(marker) => LineKind::ListItem {
                marker: indent.bytes + marker,
                content_cols: indent.cols + marker,
            },
            Probe::IsNot => prose,
            Probe::Undecided => return None,
        },
        _ => prose,
    };
    Some(kind)
}

/// ```` ``` ```` or `~~~` (three or more) opening a code block. A backtick
/// fence's info string may not contain a backtick (then it is inline code),
/// so it is decided at the end of the line.
fn fence_open(after: &str, eof: bool) -> Probe<(char, usize)> {
    let fence = if after.starts_with('`') { '`' } else { '~' };
    let run = after.bytes().take_while(|&b| b == fence as u8).count();
    if run == after.len() && !eof {
        return Probe::Undecided;
    }
    if run < 3 {
        return Probe::IsNot;
    }
    if fence == '~' {
        return Probe::Is((fence, run));
    }
    let (info, complete) = line_window(&after[run..], LINE_LIMIT, eof);
    if info.contains('`') {
        Probe::IsNot
    } else if complete {
        Probe::Is((fence, run))
    } else {
        Probe::Undecided
    }
}

/// A line starting with `|` followed by a delimiter row with as many cells.
/// Returns the byte lengths of both lines, newlines included.
fn table_start(rest: &str, eof: bool) -> Probe<(usize, usize)> {
    let (header, complete) = line_window(rest, LINE_LIMIT, eof);
    if !complete {
        return Probe::Undecided;
    }
    if rest.as_bytes().get(header.len()) != Some(&b'\n') {
        return Probe::IsNot;
    }
    let next = &rest[header.len() + 1..];
    let (delimiter, complete) = line_window(next, LINE_LIMIT, eof);
    if !delimiter.chars().all(table::is_delimiter_char) {
        return Probe::IsNot;
    }
    if !complete {
        return Probe::Undecided;
    }
    if !table::is_delimiter_row(delimiter, table::cells(header).len()) {
        return Probe::IsNot;
    }
    let newline = usize::from(next.as_bytes().get(delimiter.len()) == Some(&b'\n'));
    Probe::Is((header.len() + 1, delimiter.len() + newline))
}

/// `#` to `######` followed by a space, a tab or the end of the line; the
/// marker includes one following space or tab.
fn heading(after: &str, eof: bool) -> Probe<usize> {
    let run = after.bytes().take_while(|&b| b == b'#').count();
    if run > 6 {
        return Probe::IsNot;
    }
    match after[run..].chars().next() {
        None if !eof => Probe::Undecided,
        None | Some('\n') | Some('\r') => Probe::Is(run),
        Some(' ' | '\t') => Probe::Is(run + 1),
        Some(_) => Probe::IsNot,
    }
}

/// Three or more `-`, `*`, `_` or `=` alone on a line (spaces allowed).
fn thematic_break(after: &str, mark: char, eof: bool) -> Probe<()> {
    let (window, complete) = line_window(after, LINE_LIMIT, eof);
    let mut count = 0;
    for c in window.chars() {
        if c == mark {
            count += 1;
        } else if !matches!(c, ' ' | '\t' | '\r') {
            return Probe::IsNot;
        }
    }
    match (complete, count >= 3) {
        (false, _) => Probe::Undecided,
        (true, true) => Probe::Is(()),
        (true, false) => Probe::IsNot,
    }
}

/// `-`, `*` or `+` followed by a space (or an empty item), with an optional
/// task box `[ ]`/`[x]`. Returns the marker length including one space.
fn bullet(after: &str, eof: bool) -> Probe<usize> {
    match after[1..].chars().next() {
        None if !eof => return Probe::Undecided,
        None | Some('\n') | Some('\r') => return Probe::Is(1),
        Some(' ' | '\t') => {}
        Some(_) => return Probe::IsNot,
    }
    let text = &after[2..];
    for task in ["[ ] ", "[x] ", "[X] "] {
        if text.starts_with(task) {
            return Probe::Is(2 + task.len());
        }
        if task.starts_with(text) && !eof {
            return Probe::Undecided;
        }
    }
    Probe::Is(2)
}

/// One to nine digits, `.` or `)`, then a space or the end of the line.
fn ordered(after: &str, eof: bool) -> Probe<usize> {
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 9 {
        return Probe::IsNot;
    }
    match after[digits..].chars().next() {
        None if !eof => return Probe::Undecided,
        Some('.' | ')') => {}
        _ => return Probe::IsNot,
    }
    match after[digits + 1..].chars().next() {
        None if !eof => Probe::Undecided,
        None | Some('\n') | Some('\r') => Probe::Is(digits + 1),
        Some(' ' | '\t') => Probe::Is(digits + 2),
        Some(_) => Probe::IsNot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(line: &str, eof: bool) -> Option<LineKind> {
        block_start(line, Indent::measure(line), eof)
    }

    #[test]
    fn headings_need_a_space() {
        assert_eq!(
            start("## Title", false),
            Some(LineKind::Heading { marker: 3 })
        );
        assert_eq!(start("#hashtag", false), Some(LineKind::Prose { strip: 0 }));
        assert_eq!(start("##", false), None);
        assert_eq!(
            start("####### x", false),
            Some(LineKind::Prose { strip: 0 })
        );
    }

    #[test]
    fn fences_and_inline_code_at_line_start() {
        assert_eq!(start("``", false), None);
        assert_eq!(start("``x", false), Some(LineKind::Prose { strip: 0 }));
        assert_eq!(start("```rust", false), None);
        assert_eq!(
            start("```rust\n", false),
            Some(LineKind::FenceOpen {
                fence: '`',
                len: 3,
                indent: 0
            })
        );
        assert_eq!(
            start("```a``` b", false),
            Some(LineKind::Prose { strip: 0 })
        );
        assert_eq!(
            start("~~~", true),
            Some(LineKind::FenceOpen {
                fence: '~',
                len: 3,
                indent: 0
            })
        );
    }

    #[test]
    fn tables_need_the_delimiter_row() {
        assert_eq!(start("| a | b |", false), None);
        assert_eq!(start("| a | b |\n|--", false), None);
        assert_eq!(
            start("| a | b |\n|---|---|\n", false),
            Some(LineKind::TableStart {
                header: 10,
                delimiter: 10
            })
        );
        assert_eq!(
            start("| a | b |\nx", false),
            Some(LineKind::Prose { strip: 0 })
        );
        assert_eq!(
            start("| a | b |\n|---|\n", false),
            Some(LineKind::Prose { strip: 0 })
        );
    }

    #[test]
    fn lists_rules_and_emphasis() {
        assert_eq!(
            start("- item", false),
            Some(LineKind::ListItem {
                marker: 2,
                content_cols: 2
            })
        );
        assert_eq!(
            start("- [x] done", false),
            Some(LineKind::ListItem {
                marker: 6,
                content_cols: 2
            })
        );
        assert_eq!(start("- [", false), None);
        assert_eq!(start("---", false), None);
        assert_eq!(start("---\n", false), Some(LineKind::Break));
        assert_eq!(start("* * *\n", false), Some(LineKind::Break));
        assert_eq!(start("**bold**", false), Some(LineKind::Prose { strip: 0 }));
        assert_eq!(
            start("12. twelve", false),
            Some(LineKind::ListItem {
                marker: 4,
                content_cols: 4
            })
        );
        assert_eq!(
            start("3.14 is pi", false),
            Some(LineKind::Prose { strip: 0 })
        );
        assert_eq!(start("2024", false), None);
    }

    #[test]
    fn closing_fences() {
        let fence = Fence {
            fence: '`',
            len: 3,
            indent: 0,
        };
        assert_eq!(
            fenced_line("```\n", fence, false),
            Some(LineKind::FenceClose)
        );
        assert_eq!(fenced_line("``", fence, false), None);
        assert_eq!(fenced_line("```", fence, false), None);
        assert_eq!(
            fenced_line("```x", fence, false),
            Some(LineKind::CodeLine { strip: 0 })
        );
        assert_eq!(
            fenced_line("``x", fence, false),
            Some(LineKind::CodeLine { strip: 0 })
        );
        assert_eq!(
            fenced_line("> ```\n", fence, false),
            Some(LineKind::FenceClose)
        );
        let four = Fence {
            fence: '`',
            len: 4,
            indent: 0,
        };
        assert_eq!(
            fenced_line("```\n", four, false),
            Some(LineKind::CodeLine { strip: 0 })
        );
    }
}
