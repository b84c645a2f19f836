//! The streaming content filter: keeps markup, code and symbols from being
//! read aloud.
//!
//! Three stages, each streaming and each holding back only what it cannot
//! decide yet:
//!
//! 1. the **block** stage decides what each line is (code, table, heading,
//!    list item, rule, prose) and passes on only what is to be spoken;
//! 2. the **inline** stage removes markup inside prose (code spans, emphasis,
//!    links, images, HTML tags, entities, escapes);
//! 3. the **speech** stage removes bare URLs, emoji and unspeakable symbols
//!    from everything that is spoken, kept code included.
//!
//! # Split independence
//!
//! The concatenated output of [`ContentFilter::push`] and
//! [`ContentFilter::finish`] depends only on the concatenated input, never on
//! how it was cut into deltas. Every decision is made either from text already
//! seen or, when that text cannot settle it, deferred until it can; nothing
//! depends on where a delta happens to end.
//!
//! # Look-ahead bound
//!
//! Text comes out as soon as its fate is known. What is held back, at most:
//!
//! * **At the start of a line**, its leading whitespace and markup prefix until
//!   the line's kind is decided: one character after `#`…`######`, after a
//!   bullet (four more for a `[ ]` task box), after `1.`; the first
//!   non-space character after four columns of indentation. Prose lines are
//!   decided at their first character.
//! * **Whole lines**, only for lines whose kind depends on their end or on the
//!   next line, capped at [`LINE_LIMIT`] bytes each:
//!   - a line starting with `|` (after up to three spaces) is held to its end
//!     plus the part of the next line needed to tell whether that is a
//!     delimiter row (the next line is ruled out at its first character other
//!     than `| - :` and whitespace). This is the documented table rule: only a
//!     line *starting* with a pipe can be a table header, so a `|` in the
//!     middle of prose never holds anything back, and GFM tables without a
//!     leading pipe are not recognised (their pipes are removed as symbols);
//!   - a line starting with three or more backticks is held to its end (a
//!     backtick in the info string makes it inline code instead of a fence);
//!   - a line made only of `-`, `*`, `_` or `=` and spaces so far (a possible
//!     thematic break);
//!   - inside a fenced block, a line starting with the fence character until it
//!     is known to be (or not be) the closing fence;
//!   - a table row under [`Policy::Keep`], which is spoken cell by cell.
//! * **Inside a line**, an inline construct's opener until its closer, the end
//!   of the line, or [`SPAN_LIMIT`] bytes: a code span, a link or image, an HTML
//!   tag; a run of `*`, `_` or `~` plus one character; an entity (up to 12
//!   bytes); a backslash plus one character.
//! * **In the speech stage**, a word that may begin a URL until it cannot
//!   (`https://`, 8 characters), and punctuation at the end of a URL until the
//!   URL continues or ends.
//!
//! So plain prose flows through with a delay of at most one word (a word
//! starting with `h` or `w` waits for its second character), and nothing is
//! ever held past the end of its line except a table header candidate.

mod block;
mod html;
mod inline;
mod line_kind;
mod output;
mod policy;
mod scan;
mod speech;
mod table;
#[cfg(test)]
mod tests;

pub use policy::{FilterPolicy, Kind, Policy, CODE_OMITTED, TABLE_OMITTED};
pub use scan::{LINE_LIMIT, SPAN_LIMIT};

use block::BlockStage;
use inline::InlineStage;
use output::Output;
use speech::SpeechStage;

/// A streaming filter from an LLM's Markdown to text that is safe to speak.
///
/// Feed it deltas with [`push`](Self::push) as they arrive and speak what it
/// returns; call [`finish`](Self::finish) at the end of the reply. Afterwards
/// it is ready for the next reply, with the same policy.
///
/// ```
/// use understudy_adapters::text::{ContentFilter, FilterPolicy};
///
/// let mut filter = ContentFilter::new(FilterPolicy::default());
/// let mut spoken = filter.push("Use **`cargo add`** (see [docs](https://doc.rust-lang.org)) 🚀\n");
/// spoken += &filter.push("```sh\ncargo add serde\n```\nDone.");
/// spoken += &filter.finish();
/// assert_eq!(spoken, "Use cargo add (see docs) \ncode omitted\nDone.");
/// ```
#[derive(Debug)]
pub struct ContentFilter {
    policy: FilterPolicy,
    blocks: BlockStage,
    inline: InlineStage,
    speech: SpeechStage,
    out: Output,
}

impl ContentFilter {
    /// A filter applying `policy`.
    pub fn new(policy: FilterPolicy) -> Self {
        let speech = SpeechStage::new(
            policy.get(Kind::Urls).clone(),
            policy.get(Kind::Emoji).clone(),
            policy.get(Kind::Symbols).clone(),
        );
        ContentFilter {
            blocks: BlockStage::new(&policy),
            inline: InlineStage::new(&policy),
            speech,
            out: Output::new(),
            policy,
        }
    }

    /// The policy this filter applies.
    pub fn policy(&self) -> &FilterPolicy {
        &self.policy
    }

    /// Adds the next delta of the reply; returns the text that is now known to
    /// be speakable (possibly empty). Never panics, whatever the input.
    pub fn push(&mut self, delta: &str) -> String {
        self.blocks.run(
            delta,
            false,
            &mut self.inline,
            &mut self.speech,
            &mut self.out,
        );
        self.out.take()
    }

    /// Ends the reply: settles everything held back (an unterminated code
    /// block stays removed, an unclosed code span becomes text) and returns
    /// the rest of the speakable text. The filter is then ready for a new reply.
    pub fn finish(&mut self) -> String {
        self.blocks
            .run("", true, &mut self.inline, &mut self.speech, &mut self.out);
        self.inline.finish(&mut self.speech, &mut self.out);
        self.speech.flush(&mut self.out);
        let text = self.out.take();
        *self = ContentFilter::new(self.policy.clone());
        text
    }

    /// Bytes of input received but not yet decided: the look-ahead currently
    /// in use, for tests of the bound and for diagnostics.
    pub fn held_len(&self) -> usize {
        self.blocks.held_len() + self.inline.held_len() + self.speech.held_len()
    }
}

/// Filters a whole reply at once: what `push(text)` then `finish()` return.
pub fn filter_text(policy: &FilterPolicy, text: &str) -> String {
    let mut filter = ContentFilter::new(policy.clone());
    let mut spoken = filter.push(text);
    spoken.push_str(&filter.finish());
    spoken
}
