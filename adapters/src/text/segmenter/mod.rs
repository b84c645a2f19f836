//! Cutting filtered text into speakable units for TTS engines that take whole
//! pieces of text.
//!
//! A unit ends at a sentence end, a newline, or when it grows too long. The
//! first unit of an utterance is cut earlier, at its first clause boundary,
//! because time to first sound matters more than prosody for the opening words.
//!
//! Sentence ends:
//! * `. ! ? …` (and runs of them, with closing quotes and brackets) followed by
//!   whitespace. Not after an abbreviation (`Mr.`, `e.g.`), an initial (`J.`),
//!   a list number at the start of a unit (`1.`), and not when the next word
//!   starts with a lower-case letter (`approx. three`, `Wait... what`). A
//!   period inside a word (`3.14`, `v1.2.3`, `example.com`) is never an end.
//! * `。！？；．` with no space needed, plus closing quotes and brackets.
//! * A newline.
//!
//! Clause boundaries (for the first unit and for over-long units): `, ; :`
//! followed by whitespace, `，、：`, an em dash, and a hyphen or en dash
//! with spaces around it.
//!
//! Look-ahead: a candidate end is decided by the next character (the first
//! non-space character after a period), so a unit is released at most one
//! word after its last character.

mod rules;

use crate::text::chars;

/// How the [`Segmenter`] cuts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmenterConfig {
    /// The first unit is cut at a clause boundary once it has this many
    /// space-separated words (default 3: "Sure, here's how," comes out alone,
    /// "Yes, I can" does not).
    pub first_min_words: usize,
    /// ...or this many CJK characters (default 4: "好的，" is too short, "这个问题，" is not).
    pub first_min_cjk_chars: usize,
    /// The first unit is cut at its last word boundary once it would exceed
    /// this many characters without a clause boundary (default 50, about three
    /// seconds of speech).
    pub first_max_chars: usize,
    /// Later units are cut at their last clause boundary, else their last word
    /// boundary, once they would exceed this many characters (default 200).
    pub max_chars: usize,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        SegmenterConfig {
            first_min_words: 3,
            first_min_cjk_chars: 4,
            first_max_chars: 50,
            max_chars: 200,
        }
    }
}

/// Cuts a stream of speakable text into units (clauses and sentences).
///
/// Push text as it arrives; each call returns the units completed so far,
/// trimmed and never empty (units without a letter or digit, such as a lone
/// `.`, are dropped). [`finish`](Self::finish) returns the last unit and
/// starts a new utterance.
///
/// ```
/// use understudy_adapters::text::{Segmenter, SegmenterConfig};
///
/// let mut seg = Segmenter::new(SegmenterConfig::default());
/// let mut units = seg.push("Sure thing, here is the plan. Mr. Smith arrives at 3.30 p.m. on ");
/// units.extend(seg.push("Monday! 然后我们去吃饭。好吗"));
/// units.extend(seg.finish());
/// assert_eq!(
///     units,
///     ["Sure thing, here is the plan.", "Mr. Smith arrives at 3.30 p.m. on Monday!", "然后我们去吃饭。", "好吗"]
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Segmenter {
    config: SegmenterConfig,
    pending: String,
    /// No unit of this utterance has been emitted yet.
    first: bool,
}

/// Where the next unit ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    /// The unit is `pending[..end]` (before trimming).
    end: usize,
}

impl Segmenter {
    /// A segmenter with `config`.
    pub fn new(config: SegmenterConfig) -> Self {
        Segmenter {
            config,
            pending: String::new(),
            first: true,
        }
    }

    /// Adds text; returns the units it completed.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.pending.push_str(text);
        let mut units = Vec::new();
        while let Some(cut) = self.next_cut(false) {
            if let Some(unit) = self.take_unit(cut) {
                units.push(unit);
            }
        }
        units
    }

    /// Ends the utterance: returns what is left as one last unit, if it has
    /// anything to say, and resets for the next utterance.
    pub fn finish(&mut self) -> Option<String> {
        let mut rest = Vec::new();
        while let Some(cut) = self.next_cut(true) {
            if let Some(unit) = self.take_unit(cut) {
                rest.push(unit);
            }
        }
        self.first = true;
        self.pending.clear();
        let joined = rest.join(" ");
        (!joined.is_empty()).then_some(joined)
    }

    /// Bytes of text received but not yet part of a unit.
    pub fn held_len(&self) -> usize {
        self.pending.len()
    }

    fn take_unit(&mut self, cut: Cut) -> Option<String> {
        let unit = self.pending[..cut.end].trim().to_string();
        self.pending.drain(..cut.end);
        if unit.chars().any(char::is_alphanumeric) {
            self.first = false;
            Some(unit)
        } else {
            None
        }
    }

    /// The end of the next unit in `pending`, if it can be decided.
    fn next_cut(&self, eof: bool) -> Option<Cut> {
        let text = self.pending.as_str();
        if text.is_empty() {
            return None;
        }
        let limit = if self.first {
            self.config.first_max_chars
        } else {
            self.config.max_chars
        };
        let mut count = 0usize;
        let mut words = 0usize;
        let mut cjk = 0usize;
        let mut in_word = false;
        let mut last_clause: Option<usize> = None;
        let mut last_space: Option<usize> = None;
        let mut prev = ' ';
        for (i, c) in text.char_indices() {
            let after = i + c.len_utf8();
            if c == '\n' {
                return Some(Cut { end: after });
            }
            let started = count > 0;
            if !started && c.is_whitespace() {
                prev = c;
                continue;
            }
            count += 1;
            if count > limit.max(1) && !c.is_whitespace() {
                let end = if self.first {
                    last_space
                } else {
                    last_clause.or(last_space)
                };
                return Some(Cut {
                    end: end.unwrap_or_else(|| hard_cut(text, i)),
                });
            }
            if chars::is_cjk(c) {
                cjk += 1;
                in_word = false;
            } else if c.is_whitespace() {
                in_word = false;
                last_space = Some(i);
            } else if rules::is_word_char(c) && !in_word {
                in_word = true;
                words += 1;
            }
            let rest = &text[after..];
            match sentence_end(text, i, c, rest, started_at(text), eof) {
                Decision::Yes(len) => return Some(Cut { end: after + len }),
                Decision::Undecided => return None,
                Decision::No => {}
            }
            match clause_end(prev, c, rest, eof) {
                Decision::Yes(len) => {
                    let end = after + len;
                    let enough = words >= self.config.first_min_words
                        || cjk >= self.config.first_min_cjk_chars;
                    if self.first && enough {
                        return Some(Cut { end });
                    }
                    last_clause = Some(end);
                }
                Decision::Undecided => return None,
                Decision::No => {}
            }
            prev = c;
        }
        eof.then_some(Cut { end: text.len() })
    }
}

/// The outcome of a boundary check; `Yes` carries how many bytes after the
/// character belong to the unit (closing quotes, more punctuation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Yes(usize),
    No,
    Undecided,
}

/// Byte offset of the first non-whitespace character (where the unit starts).
fn started_at(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// Whether a sentence ends with the character `c` at byte `i` of `text`.
fn sentence_end(
    text: &str,
    i: usize,
    c: char,
    rest: &str,
    unit_start: usize,
    eof: bool,
) -> Decision {
    let cjk_end = rules::is_cjk_sentence_end(c);
    if !cjk_end && !rules::is_latin_sentence_end(c) {
        return Decision::No;
    }
    // Absorb more end punctuation and closing quotes.
    let tail = rest
        .char_indices()
        .find(|&(_, n)| {
            !(rules::is_closer(n)
                || rules::is_latin_sentence_end(n)
                || rules::is_cjk_sentence_end(n))
        })
        .map(|(j, _)| j);
    let Some(tail_len) = tail else {
        return if eof {
            Decision::Yes(rest.len())
        } else {
            Decision::Undecided
        };
    };
    if cjk_end {
        return Decision::Yes(tail_len);
    }
    // The punctuation run started earlier: only its last character decides.
    let next = rest[tail_len..].chars().next().unwrap_or(' ');
    if !(next.is_whitespace() || chars::is_cjk(next)) {
        return Decision::No;
    }
    if tail_len > 0 && rest[..tail_len].chars().any(rules::is_latin_sentence_end) {
        // Not the last of the run: the last one decides.
        return Decision::No;
    }
    let run_start = text[..i]
        .char_indices()
        .rev()
        .take_while(|&(_, p)| rules::is_latin_sentence_end(p))
        .last()
        .map_or(i, |(j, _)| j);
    let has_period = text[run_start..i + c.len_utf8()].contains(['.', '…']);
    if !has_period {
        return Decision::Yes(tail_len);
    }
    if run_start == i && c == '.' {
        let word_start = text[..i].rfind(char::is_whitespace).map_or(0, |j| {
            j + text[j..].chars().next().map_or(1, char::len_utf8)
        });
        let word = &text[word_start..i];
        if rules::is_abbreviation(word) {
            return Decision::No;
        }
        let list_number = word_start <= unit_start
            && !word.is_empty()
            && word.bytes().all(|b| b.is_ascii_digit());
        if list_number {
            return Decision::No;
        }
    }
    // A lower-case word after a period continues the sentence.
    let after_space = &rest[tail_len..];
    match after_space
        .chars()
        .find(|n| !matches!(n, ' ' | '\t' | '\r'))
    {
        Some(n) if n.is_lowercase() => Decision::No,
        Some(_) => Decision::Yes(tail_len),
        None if eof => Decision::Yes(tail_len),
        None => Decision::Undecided,
    }
}

/// Whether a clause ends with the character `c`.
fn clause_end(prev: char, c: char, rest: &str, eof: bool) -> Decision {
    if rules::is_cjk_clause_mark(c) || rules::is_clause_dash(c) {
        return Decision::Yes(0);
    }
    let spaced = rules::is_latin_clause_mark(c) || (matches!(c, '-' | '–') && prev == ' ');
    if !spaced {
        return Decision::No;
    }
    match rest.chars().next() {
        Some(n) if n.is_whitespace() => Decision::Yes(0),
        Some(_) => Decision::No,
        None if eof => Decision::Yes(0),
        None => Decision::Undecided,
    }
}

/// Where to cut a unit with no word boundary: before byte `i`, moved back so
/// that a character is never separated from a mark attached to it.
fn hard_cut(text: &str, i: usize) -> usize {
    let mut end = i;
    while let Some(c) = text[end..].chars().next() {
        if !chars::attaches_to_previous(c) && !text[..end].ends_with(chars::ZWJ) {
            break;
        }
        match text[..end].char_indices().next_back() {
            Some((j, _)) if j > 0 => end = j,
            _ => return i,
        }
    }
    end
}

#[cfg(test)]
mod tests;
