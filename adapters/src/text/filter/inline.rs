//! The inline stage: markup inside a line of prose (code spans, emphasis,
//! links, images, HTML tags, entities, backslash escapes).
//!
//! Inline constructs never span lines here (CommonMark lets some of them span
//! a paragraph), which bounds the look-ahead: text is held only while a
//! construct's opener waits for its closer, and never past the end of the line
//! or [`SPAN_LIMIT`] bytes. Emphasis markers are decided from their
//! neighbours alone (CommonMark's flanking rules), one character after the run.

use super::html::{self, Angle};
use super::output::Output;
use super::policy::{FilterPolicy, Kind, Policy};
use super::scan::{line_window, Probe, SPAN_LIMIT};
use super::speech::SpeechStage;
use crate::text::chars;

/// Streams prose lines, removing inline markup per policy.
#[derive(Debug)]
pub(super) struct InlineStage {
    inline_code: Policy,
    emphasis: Policy,
    links: Policy,
    images: Policy,
    html: Policy,
    pending: String,
    /// The last source character consumed, for the flanking rules.
    prev: char,
    /// Content being removed under `Drop`/`Replace`, until its closer.
    suppress: Option<Suppress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Suppress {
    Emphasis(char),
    Element(String),
}

/// What one step did.
enum Step {
    NeedMore,
    Consumed(usize),
    /// Replace the first `consumed` bytes with `text` and go on (a kept link's
    /// text, which may hold markup of its own).
    Reinject {
        consumed: usize,
        text: String,
    },
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        '\n' | '\\' | '`' | '*' | '_' | '~' | '[' | '!' | '<' | '&'
    )
}

impl InlineStage {
    pub(super) fn new(policy: &FilterPolicy) -> Self {
        InlineStage {
            inline_code: policy.get(Kind::InlineCode).clone(),
            emphasis: policy.get(Kind::Emphasis).clone(),
            links: policy.get(Kind::Links).clone(),
            images: policy.get(Kind::Images).clone(),
            html: policy.get(Kind::Html).clone(),
            pending: String::new(),
            prev: '\n',
            suppress: None,
        }
    }

    /// Bytes held back waiting for more input.
    pub(super) fn held_len(&self) -> usize {
        self.pending.len()
    }

    /// Adds prose (a newline ends the line and settles everything held).
    pub(super) fn push(&mut self, text: &str, speech: &mut SpeechStage, out: &mut Output) {
        self.pending.push_str(text);
        self.run(false, speech, out);
    }

    /// The input ended: settles everything held.
    pub(super) fn finish(&mut self, speech: &mut SpeechStage, out: &mut Output) {
        self.run(true, speech, out);
        self.prev = '\n';
        self.suppress = None;
    }

    fn run(&mut self, eof: bool, speech: &mut SpeechStage, out: &mut Output) {
        let mut pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while start < pending.len() {
            match self.step(&pending[start..], eof, speech, out) {
                Step::NeedMore if eof => {
                    // Unreachable by construction; never lose text if it happens.
                    debug_assert!(false, "inline step undecided at end of input");
                    self.emit(&pending[start..], speech, out);
                    start = pending.len();
                }
                Step::NeedMore => break,
                Step::Consumed(n) => start += n,
                Step::Reinject { consumed, text } => {
                    pending = text + &pending[start + consumed..];
                    start = 0;
                }
            }
        }
        pending.drain(..start);
        self.pending = pending;
    }

    fn step(&mut self, rest: &str, eof: bool, speech: &mut SpeechStage, out: &mut Output) -> Step {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Step::Consumed(0);
        };
        let next = chars.next();
        let need_next = next.is_none() && !eof;
        match c {
            '\n' => {
                self.suppress = None;
                self.prev = '\n';
                speech.push("\n", out);
                Step::Consumed(1)
            }
            '\\' if need_next => Step::NeedMore,
            '\\' => match next {
                Some(n) if n.is_ascii_punctuation() => {
                    self.emit(&rest[1..2], speech, out);
                    self.prev = n;
                    Step::Consumed(2)
                }
                _ => self.literal(rest, 1, speech, out),
            },
            '`' => self.code_span(rest, eof, speech, out),
            '*' | '_' | '~' => self.emphasis(c, rest, eof, speech, out),
            '[' => self.link(rest, 0, eof, speech, out),
            '!' if need_next => Step::NeedMore,
            '!' if next == Some('[') => self.link(rest, 1, eof, speech, out),
            '<' => self.angle(rest, eof, speech, out),
            '&' => self.entity(rest, eof, speech, out),
            _ => {
                let end = rest
                    .char_indices()
                    .skip(1)
                    .find(|&(_, c)| is_special(c))
                    .map_or(rest.len(), |(i, _)| i);
                self.literal(rest, end, speech, out)
            }
        }
    }

    /// Speaks the first `len` bytes of `rest` as they are.
    fn literal(
        &mut self,
        rest: &str,
        len: usize,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) -> Step {
        let text = &rest[..len];
        self.emit(text, speech, out);
        if let Some(last) = text.chars().next_back() {
            self.prev = last;
        }
        Step::Consumed(len)
    }

    fn emit(&self, text: &str, speech: &mut SpeechStage, out: &mut Output) {
        if self.suppress.is_none() {
            speech.push(text, out);
        }
    }

    fn phrase(&self, phrase: &str, speech: &mut SpeechStage, out: &mut Output) {
        if self.suppress.is_none() {
            speech.push_phrase(phrase, out);
        }
    }

    /// `` `code` ``: a run of n backticks up to the next run of exactly n.
    fn code_span(
        &mut self,
        rest: &str,
        eof: bool,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) -> Step {
        let n = rest.bytes().take_while(|&b| b == b'`').count();
        if n == rest.len() && !eof {
            return Step::NeedMore;
        }
        match closing_backticks(&rest[n..], n, eof) {
            Probe::Undecided => Step::NeedMore,
            Probe::IsNot => self.literal(rest, n, speech, out),
            Probe::Is(end) => {
                let content = strip_one_space(&rest[n..n + end]);
                match self.inline_code.clone() {
                    Policy::Keep => self.emit(content, speech, out),
                    Policy::Drop => {}
                    Policy::Replace(p) => self.phrase(&p, speech, out),
                }
                self.prev = '`';
                Step::Consumed(n + end + n)
            }
        }
    }

    /// A run of `*`, `_` or `~`: markup when it can open or close emphasis.
    fn emphasis(
        &mut self,
        c: char,
        rest: &str,
        eof: bool,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) -> Step {
        let run = rest.bytes().take_while(|&b| b == c as u8).count();
        let next = match rest[run..].chars().next() {
            Some(next) => next,
            None if eof => '\n',
            None => return Step::NeedMore,
        };
        let Some(flank) = flanking(c, run, self.prev, next) else {
            return self.literal(rest, run, speech, out);
        };
        match self.emphasis.clone() {
            Policy::Keep => {}
            policy => match &self.suppress {
                Some(Suppress::Emphasis(open)) if *open == c && flank.can_close => {
                    self.suppress = None;
                }
                None if flank.can_open => {
                    if let Policy::Replace(p) = policy {
                        self.phrase(&p, speech, out);
                    }
                    self.suppress = Some(Suppress::Emphasis(c));
                }
                _ => {}
            },
        }
        self.prev = c;
        Step::Consumed(run)
    }

    /// `[text](url)` or, with `bang`, `![alt](url)`.
    fn link(
        &mut self,
        rest: &str,
        bang: usize,
        eof: bool,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) -> Step {
        let open = bang + 1;
        let (window, complete) = line_window(rest, SPAN_LIMIT, eof);
        let Some(text_len) = matching(&window[open..], '[', ']') else {
            return if complete {
                self.literal(rest, open, speech, out)
            } else {
                Step::NeedMore
            };
        };
        let paren = open + text_len + 1;
        match window[paren..].chars().next() {
            Some('(') => {}
            None if !complete => return Step::NeedMore,
            _ => return self.literal(rest, open, speech, out),
        }
        let Some(dest_len) = matching(&window[paren + 1..], '(', ')') else {
            return if complete {
                self.literal(rest, open, speech, out)
            } else {
                Step::NeedMore
            };
        };
        let consumed = paren + 1 + dest_len + 1;
        let text = &rest[open..open + text_len];
        let policy = if bang == 1 { &self.images } else { &self.links };
        self.prev = ')';
        match policy.clone() {
            Policy::Keep if !text.is_empty() && self.suppress.is_none() => Step::Reinject {
                consumed,
                text: text.to_string(),
            },
            Policy::Replace(p) => {
                self.phrase(&p, speech, out);
                Step::Consumed(consumed)
            }
            _ => Step::Consumed(consumed),
        }
    }

    /// `<…>`: an HTML tag, comment or autolink, or a literal `<`.
    fn angle(&mut self, rest: &str, eof: bool, speech: &mut SpeechStage, out: &mut Output) -> Step {
        let (window, complete) = line_window(rest, SPAN_LIMIT, eof);
        match window[1..].chars().next() {
            Some(c) if c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?') => {}
            None if !complete => return Step::NeedMore,
            _ => return self.literal(rest, 1, speech, out),
        }
        let Some(close) = window.find('>') else {
            return if complete {
                self.literal(rest, 1, speech, out)
            } else {
                Step::NeedMore
            };
        };
        let consumed = close + 1;
        match html::classify(&window[1..close]) {
            Angle::Text => return self.literal(rest, 1, speech, out),
            Angle::Comment => {}
            Angle::Autolink(address) => {
                // Surrounded by spaces so the URL rules see a word of its own.
                self.emit(" ", speech, out);
                self.emit(address, speech, out);
                self.emit(" ", speech, out);
            }
            Angle::Tag(tag) => match self.html.clone() {
                Policy::Keep => {
                    if tag.breaks_flow {
                        self.emit(" ", speech, out);
                    }
                }
                policy => {
                    if tag.void && tag.breaks_flow {
                        self.emit(" ", speech, out);
                    }
                    let name = tag.name.to_ascii_lowercase();
                    match &self.suppress {
                        Some(Suppress::Element(open)) if tag.closing && *open == name => {
                            self.suppress = None;
                        }
                        None if !tag.closing && !tag.void => {
                            if let Policy::Replace(p) = policy {
                                self.phrase(&p, speech, out);
                            }
                            self.suppress = Some(Suppress::Element(name));
                        }
                        _ => {}
                    }
                }
            },
        }
        self.prev = '>';
        Step::Consumed(consumed)
    }

    /// `&amp;`, `&lt;`, `&#39;`…: decoded; anything else is a literal `&`.
    fn entity(
        &mut self,
        rest: &str,
        eof: bool,
        speech: &mut SpeechStage,
        out: &mut Output,
    ) -> Step {
        const MAX_NAME: usize = 10;
        let name_len = rest[1..]
            .bytes()
            .take(MAX_NAME + 1)
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
            .count();
        let after = rest.as_bytes().get(1 + name_len);
        if after.is_none() && name_len <= MAX_NAME && !eof {
            return Step::NeedMore;
        }
        if after != Some(&b';') {
            return self.literal(rest, 1, speech, out);
        }
        let Some(decoded) = decode_entity(&rest[1..1 + name_len]) else {
            return self.literal(rest, 1, speech, out);
        };
        let mut buf = [0u8; 4];
        self.emit(decoded.encode_utf8(&mut buf), speech, out);
        self.prev = ';';
        Step::Consumed(name_len + 2)
    }
}

/// Which way a delimiter run can act.
struct Flanking {
    can_open: bool,
    can_close: bool,
}

/// CommonMark's flanking rules for a run of `c` between `prev` and `next`;
/// `None` when the run is literal text (`2 * 3`, `snake_case`, `~5`).
///
/// One deliberate departure: a `*` run between two ASCII letters or digits
/// (`2*3`, `n*t`, `a**b`) is literal. CommonMark allows intraword emphasis
/// there, but in LLM replies it is arithmetic far more often than emphasis,
/// and deciding it by pairing would need unbounded look-ahead. Intraword
/// emphasis in scripts without spaces (`这是**重点**内容`) still works.
fn flanking(c: char, run: usize, prev: char, next: char) -> Option<Flanking> {
    if c == '~' && run != 2 {
        return None;
    }
    if c == '*' && prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric() {
        return None;
    }
    let ws = |x: char| x.is_whitespace();
    let punct = chars::is_punctuation;
    let left = !ws(next) && (!punct(next) || ws(prev) || punct(prev));
    let right = !ws(prev) && (!punct(prev) || ws(next) || punct(next));
    let (can_open, can_close) = if c == '_' {
        (
            left && (!right || punct(prev)),
            right && (!left || punct(next)),
        )
    } else {
        (left, right)
    };
    (can_open || can_close).then_some(Flanking {
        can_open,
        can_close,
    })
}

/// Where the run of exactly `n` backticks closing a code span starts in
/// `body`, looking within the line and [`SPAN_LIMIT`].
fn closing_backticks(body: &str, n: usize, eof: bool) -> Probe<usize> {
    let (window, complete) = line_window(body, SPAN_LIMIT, eof);
    let bytes = window.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        if run == n {
            // A run touching the end of what we have may still grow.
            if i + run == bytes.len() && !complete {
                return Probe::Undecided;
            }
            return Probe::Is(i);
        }
        i += run;
    }
    if complete {
        Probe::IsNot
    } else {
        Probe::Undecided
    }
}

/// The length of `s` up to the `close` that balances an already-open `open`,
/// skipping backslash escapes.
fn matching(s: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == open {
            depth += 1;
        } else if c == close {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
    }
    None
}

/// CommonMark strips one space from both ends of a code span that has both.
fn strip_one_space(content: &str) -> &str {
    if content.len() >= 2
        && content.starts_with(' ')
        && content.ends_with(' ')
        && !content.bytes().all(|b| b == b' ')
    {
        &content[1..content.len() - 1]
    } else {
        content
    }
}

fn decode_entity(name: &str) -> Option<char> {
    let named = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        "ndash" => Some('–'),
        "mdash" => Some('—'),
        "hellip" => Some('…'),
        "copy" => Some('©'),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let number = name.strip_prefix('#')?;
    let code = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace())
}
