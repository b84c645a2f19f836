//! The block stage: which kind of line each line is, and what of it is spoken.
//!
//! Works line by line. At the start of a line it holds text until the line's
//! kind is decided (see [`super::line_kind`]); after that the rest of the line
//! streams without delay: prose to the inline stage, kept code straight to the
//! speech stage, removed lines nowhere.

use super::inline::InlineStage;
use super::line_kind::{self, Fence, Indent, LineKind};
use super::output::Output;
use super::policy::{FilterPolicy, Kind, Policy};
use super::scan::{line_window, take_line, LINE_LIMIT};
use super::speech::SpeechStage;
use super::table;

/// Streams raw input, deciding each line's kind.
#[derive(Debug)]
pub(super) struct BlockStage {
    code_blocks: Policy,
    tables: Policy,
    headings: Policy,
    list_items: Policy,
    pending: String,
    line: Line,
    block: Block,
    /// An indented line here would start a code block: the previous line was
    /// blank or ended a block (indented code cannot interrupt a paragraph).
    indented_code_allowed: bool,
    /// The content column of the innermost open list item: lines indented at
    /// least this far belong to the item, not to an indented code block.
    list_content_cols: Option<usize>,
}

/// What to do with the rest of the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// At the start of a line, its kind undecided.
    Start,
    /// Prose: to the inline stage.
    Prose,
    /// Markup or removed content: nowhere.
    Skip,
    /// Kept code: straight to the speech stage.
    Code,
    /// A kept table row: held whole, then spoken cell by cell.
    TableRow,
}

/// The open block the next line may continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Paragraph,
    Fenced(Fence),
    Indented,
    Table,
}

impl BlockStage {
    pub(super) fn new(policy: &FilterPolicy) -> Self {
        BlockStage {
            code_blocks: policy.get(Kind::CodeBlocks).clone(),
            tables: policy.get(Kind::Tables).clone(),
            headings: policy.get(Kind::Headings).clone(),
            list_items: policy.get(Kind::ListItems).clone(),
            pending: String::new(),
            line: Line::Start,
            block: Block::Paragraph,
            indented_code_allowed: true,
            list_content_cols: None,
        }
    }

    /// Bytes held back waiting for more input.
    pub(super) fn held_len(&self) -> usize {
        self.pending.len()
    }

    /// Processes as much of the pending input as can be decided; with `eof`,
    /// all of it.
    pub(super) fn run(
        &mut self,
        input: &str,
        eof: bool,
        inline: &mut InlineStage,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) {
        self.pending.push_str(input);
        let mut pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while start < pending.len() {
            let rest = &pending[start..];
            let consumed = match self.line {
                Line::Start => match self.classify(rest, eof) {
                    Some(kind) => self.apply(kind, rest, inline, speech, out),
                    None if eof => {
                        // Unreachable by construction; never lose text if it happens.
                        debug_assert!(false, "line kind undecided at end of input");
                        self.line = Line::Prose;
                        0
                    }
                    None => break,
                },
                Line::Prose => {
                    let (chunk, ended) = take_line(rest);
                    inline.push(chunk, speech, out);
                    self.end_line_if(ended);
                    chunk.len()
                }
                Line::Skip => {
                    let (chunk, ended) = take_line(rest);
                    self.end_line_if(ended);
                    chunk.len()
                }
                Line::Code => {
                    let (chunk, ended) = take_line(rest);
                    speech.push(chunk, out);
                    self.end_line_if(ended);
                    chunk.len()
                }
                Line::TableRow => {
                    let (row, complete) = line_window(rest, LINE_LIMIT, eof);
                    if !complete {
                        break;
                    }
                    speak_cells(row, inline, speech, out);
                    let newline = rest.as_bytes().get(row.len()) == Some(&b'\n');
                    if newline {
                        inline.push("\n", speech, out);
                        self.line = Line::Start;
                    } else {
                        // Input ended, or the row is over the limit: the rest
                        // of an overlong row is spoken as prose.
                        self.line = Line::Prose;
                    }
                    row.len() + usize::from(newline)
                }
            };
            start += consumed;
        }
        pending.drain(..start);
        self.pending = pending;
    }

    fn end_line_if(&mut self, ended: bool) {
        if ended {
            self.line = Line::Start;
        }
    }

    /// The kind of the line starting `rest`, given the open block.
    fn classify(&self, rest: &str, eof: bool) -> Option<LineKind> {
        if let Block::Fenced(fence) = self.block {
            return line_kind::fenced_line(rest, fence, eof);
        }
        let indent = Indent::measure(rest);
        let after = &rest[indent.bytes..];
        match after.chars().next() {
            None => return eof.then_some(LineKind::Blank),
            Some('\n') => return Some(LineKind::Blank),
            Some(_) => {}
        }
        let container = self
            .list_content_cols
            .filter(|&cols| indent.cols >= cols)
            .unwrap_or(0);
        let relative = indent.cols - container;
        if self.block == Block::Indented && relative >= 4 {
            let strip = Indent::bytes_within(rest, container + 4);
            return Some(LineKind::CodeLine { strip });
        }
        if self.block == Block::Table && relative <= 3 && after.starts_with('|') {
            return Some(LineKind::TableRow);
        }
        if relative >= 4 {
            if self.indented_code_allowed {
                let strip = Indent::bytes_within(rest, container + 4);
                return Some(LineKind::IndentedCodeStart { strip });
            }
            return Some(LineKind::Prose {
                strip: indent.bytes,
            });
        }
        line_kind::block_start(rest, indent, eof)
    }

    /// Acts on a decided line kind; returns the bytes of markup consumed.
    fn apply(
        &mut self,
        kind: LineKind,
        rest: &str,
        inline: &mut InlineStage,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) -> usize {
        let continues_block = matches!(
            (&kind, self.block),
            (
                LineKind::CodeLine { .. } | LineKind::FenceClose,
                Block::Fenced(_)
            ) | (LineKind::CodeLine { .. } | LineKind::Blank, Block::Indented)
                | (LineKind::TableRow, Block::Table)
        );
        if !continues_block {
            self.block = Block::Paragraph;
        }
        let indent = Indent::measure(rest);
        if self.indented_code_allowed
            && !matches!(kind, LineKind::Blank | LineKind::ListItem { .. })
            && self
                .list_content_cols
                .is_some_and(|cols| indent.cols < cols)
        {
            // A line back at the margin after a blank line ends the list.
            self.list_content_cols = None;
        }
        self.indented_code_allowed = matches!(
            kind,
            LineKind::Blank | LineKind::FenceClose | LineKind::Break | LineKind::Heading { .. }
        );
        match kind {
            LineKind::Blank => {
                let (line, _) = take_line(rest);
                if self.block != Block::Indented {
                    inline.push(if line.ends_with('\n') { "\n" } else { "" }, speech, out);
                }
                self.indented_code_allowed = true;
                line.len()
            }
            LineKind::CodeLine { strip } => {
                self.line = self.code_line();
                strip
            }
            LineKind::FenceOpen { fence, len, indent } => {
                self.block = Block::Fenced(Fence { fence, len, indent });
                announce(&self.code_blocks, speech, out);
                self.line = Line::Skip;
                0
            }
            LineKind::FenceClose => {
                self.block = Block::Paragraph;
                self.line = Line::Skip;
                0
            }
            LineKind::IndentedCodeStart { strip } => {
                self.block = Block::Indented;
                announce(&self.code_blocks, speech, out);
                self.line = self.code_line();
                strip
            }
            LineKind::TableStart { header, delimiter } => {
                self.block = Block::Table;
                self.list_content_cols = None;
                if self.tables == Policy::Keep {
                    let (row, _) = line_window(rest, LINE_LIMIT, true);
                    speak_cells(row, inline, speech, out);
                    inline.push("\n", speech, out);
                } else {
                    announce(&self.tables, speech, out);
                }
                header + delimiter
            }
            LineKind::TableRow => {
                self.line = if self.tables == Policy::Keep {
                    Line::TableRow
                } else {
                    Line::Skip
                };
                0
            }
            LineKind::Heading { marker } => {
                self.list_content_cols = None;
                self.line = speak_or_skip(&self.headings, speech, out);
                marker
            }
            LineKind::ListItem {
                marker,
                content_cols,
            } => {
                self.list_content_cols = Some(content_cols);
                self.line = speak_or_skip(&self.list_items, speech, out);
                marker
            }
            LineKind::Break => {
                self.line = Line::Skip;
                0
            }
            LineKind::Quote { marker } => marker,
            LineKind::Prose { strip } => {
                self.line = Line::Prose;
                strip
            }
        }
    }

    fn code_line(&self) -> Line {
        if self.code_blocks == Policy::Keep {
            Line::Code
        } else {
            Line::Skip
        }
    }
}

/// Starts a removed block: its replacement phrase, on a line of its own.
fn announce(policy: &Policy, speech: &mut SpeechStage, out: &mut Output) {
    if let Policy::Replace(phrase) = policy {
        speech.push_phrase(phrase, out);
        speech.push("\n", out);
    }
}

/// A line-level construct whose text is prose: spoken with `Keep`, skipped
/// (after its phrase) otherwise.
fn speak_or_skip(policy: &Policy, speech: &mut SpeechStage, out: &mut Output) -> Line {
    match policy {
        Policy::Keep => Line::Prose,
        other => {
            announce(other, speech, out);
            Line::Skip
        }
    }
}

/// A kept table row: its non-empty cells as prose, separated by commas.
fn speak_cells(row: &str, inline: &mut InlineStage, speech: &mut SpeechStage, out: &mut Output) {
    let mut first = true;
    for cell in table::cells(row).into_iter().filter(|c| !c.is_empty()) {
        if !first {
            inline.push(", ", speech, out);
        }
        inline.push(cell, speech, out);
        first = false;
    }
}
