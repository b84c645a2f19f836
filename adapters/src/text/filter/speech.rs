//! The last filter stage: bare URLs, emoji and symbols.
//!
//! Everything the filter speaks passes through here (prose, kept code, link
//! text), so a URL or an emoji is handled the same wherever it appears.
//! Look-ahead: a word that may begin a URL is held until it is known not to
//! (at most `https://`, 8 characters); inside a URL, a run of trailing
//! punctuation is held until the URL ends or continues. Emoji and symbols are
//! decided per character.

use super::output::Output;
use super::policy::Policy;
use crate::text::chars;

/// What begins a bare URL, lower-cased.
const URL_PREFIXES: [&str; 3] = ["http://", "https://", "www."];

/// Streams speakable text, removing URLs, emoji and symbols per policy.
#[derive(Debug)]
pub(super) struct SpeechStage {
    urls: Policy,
    emoji: Policy,
    symbols: Policy,
    /// The last character fed in (not necessarily written), to tell word starts.
    prev: char,
    state: State,
    emoji_run: EmojiRun,
}

#[derive(Debug)]
enum State {
    Text,
    /// Held characters that are a proper prefix of a URL prefix.
    Prefix(String),
    Url(Url),
}

#[derive(Debug, Default)]
struct Url {
    /// Still in the host name (only matters for `Policy::Keep`).
    in_host: bool,
    /// Open parentheses inside the URL: a `)` closes one before it ends the URL.
    parens: u32,
    /// Punctuation that belongs to the URL only if more URL follows.
    trailing: String,
}

/// Where we are in a run of emoji characters.
#[derive(Debug, Default, Clone, Copy)]
struct EmojiRun {
    active: bool,
    after_joiner: bool,
    odd_regional: bool,
}

impl SpeechStage {
    pub(super) fn new(urls: Policy, emoji: Policy, symbols: Policy) -> Self {
        SpeechStage {
            urls,
            emoji,
            symbols,
            prev: '\n',
            state: State::Text,
            emoji_run: EmojiRun::default(),
        }
    }

    /// Bytes held back waiting for more input.
    pub(super) fn held_len(&self) -> usize {
        match &self.state {
            State::Text => 0,
            State::Prefix(held) => held.len(),
            State::Url(url) => url.trailing.len(),
        }
    }

    pub(super) fn push(&mut self, text: &str, out: &mut Output) {
        for c in text.chars() {
            self.feed(c, out);
        }
    }

    /// Writes a replacement phrase: whatever is held is settled first, as if a
    /// word boundary came here.
    pub(super) fn push_phrase(&mut self, phrase: &str, out: &mut Output) {
        self.flush(out);
        out.separate();
        out.push_str(phrase);
        self.prev = ' ';
        self.emoji_run = EmojiRun::default();
    }

    /// Settles everything held, as at the end of the input.
    pub(super) fn flush(&mut self, out: &mut Output) {
        match std::mem::replace(&mut self.state, State::Text) {
            State::Text => {}
            State::Prefix(held) => self.release_prefix(&held, out),
            State::Url(url) => self.end_url(url, out),
        }
    }

    fn feed(&mut self, c: char, out: &mut Output) {
        match &mut self.state {
            State::Text => self.feed_text(c, out),
            State::Prefix(held) => {
                held.push(c);
                let held_bytes = held.as_bytes();
                let starts = |p: &&str| {
                    p.len() >= held_bytes.len()
                        && p.as_bytes()[..held_bytes.len()].eq_ignore_ascii_case(held_bytes)
                };
                if URL_PREFIXES.iter().any(|p| p.eq_ignore_ascii_case(held)) {
                    let prefix = std::mem::take(held);
                    self.start_url(&prefix, out);
                    self.prev = c;
                } else if !URL_PREFIXES.iter().any(starts) {
                    let held = std::mem::take(held);
                    self.state = State::Text;
                    self.release_prefix(&held, out);
                }
            }
            State::Url(url) => {
                if ends_url(c, url.parens) {
                    let url = std::mem::take(url);
                    self.state = State::Text;
                    self.end_url(url, out);
                    self.feed_text(c, out);
                } else if is_trailing_punctuation(c) {
                    url.trailing.push(c);
                    self.prev = c;
                } else {
                    match c {
                        '(' => url.parens += 1,
                        ')' => url.parens = url.parens.saturating_sub(1),
                        _ => {}
                    }
                    let keep = self.urls == Policy::Keep;
                    let trailing = std::mem::take(&mut url.trailing);
                    for t in trailing.chars().chain(std::iter::once(c)) {
                        if matches!(t, '/' | '?' | '#' | ':') {
                            url.in_host = false;
                        }
                        if keep && url.in_host {
                            out.push(t);
                        }
                    }
                    self.prev = c;
                }
            }
        }
    }

    /// Plain text outside any URL.
    fn feed_text(&mut self, c: char, out: &mut Output) {
        if matches!(c, 'h' | 'H' | 'w' | 'W') && self.at_word_start() {
            self.state = State::Prefix(c.to_string());
            self.prev = c;
            return;
        }
        self.emit(c, out);
    }

    /// Held characters turned out not to start a URL: the first is plain text,
    /// the rest are fed again (one of them may start a URL).
    fn release_prefix(&mut self, held: &str, out: &mut Output) {
        let mut chars = held.chars();
        if let Some(first) = chars.next() {
            self.emit(first, out);
        }
        for c in chars {
            self.feed(c, out);
        }
    }

    fn start_url(&mut self, prefix: &str, out: &mut Output) {
        self.emoji_run = EmojiRun::default();
        let in_host = true;
        match &self.urls {
            Policy::Drop => {}
            Policy::Replace(phrase) => {
                out.separate();
                out.push_str(phrase);
            }
            Policy::Keep => {
                if prefix.eq_ignore_ascii_case("www.") {
                    out.push_str(prefix);
                }
            }
        }
        self.state = State::Url(Url {
            in_host,
            ..Url::default()
        });
    }

    /// The URL ended: its held trailing punctuation is ordinary text again.
    fn end_url(&mut self, url: Url, out: &mut Output) {
        for t in url.trailing.chars() {
            self.emit(t, out);
        }
    }

    fn at_word_start(&self) -> bool {
        let p = self.prev;
        !(p.is_ascii_alphanumeric()
            || matches!(
                p,
                '_' | '-' | '.' | '/' | '@' | '+' | '%' | '&' | '=' | '~' | ':'
            ))
    }

    /// One character of text: emoji and symbols per policy, the rest written.
    fn emit(&mut self, c: char, out: &mut Output) {
        self.prev = c;
        if chars::is_emoji_component(c) {
            if self.emoji_run.active {
                self.emoji_run.after_joiner = c == chars::ZWJ;
                if self.emoji == Policy::Keep {
                    out.push(c);
                }
            } else if c == chars::ZWJ || self.emoji == Policy::Keep {
                // A joiner outside emoji shapes Indic scripts; stray selectors
                // and keycap marks are invisible and only kept with `Keep`.
                out.push(c);
            }
            return;
        }
        let regional = chars::is_regional_indicator(c);
        if regional || chars::is_pictographic(c) {
            let run = self.emoji_run;
            let continues = run.active && (run.after_joiner || (regional && run.odd_regional));
            if !continues {
                replace_with(&self.emoji, c, out);
            } else if self.emoji == Policy::Keep {
                out.push(c);
            }
            self.emoji_run = EmojiRun {
                active: true,
                after_joiner: false,
                odd_regional: regional && !(continues && run.odd_regional),
            };
            return;
        }
        self.emoji_run = EmojiRun::default();
        if chars::is_unspeakable_symbol(c) {
            replace_with(&self.symbols, c, out);
        } else {
            out.push(c);
        }
    }
}

/// Applies a per-character policy: nothing but a separating space, a phrase,
/// or the character itself.
fn replace_with(policy: &Policy, c: char, out: &mut Output) {
    match policy {
        Policy::Drop => out.separate(),
        Policy::Replace(phrase) => {
            out.separate();
            out.push_str(phrase);
        }
        Policy::Keep => out.push(c),
    }
}

/// Characters that cannot be part of a bare URL.
fn ends_url(c: char, parens: u32) -> bool {
    c.is_whitespace()
        || c.is_control()
        || !c.is_ascii()
        || matches!(
            c,
            '<' | '>' | '"' | '`' | '|' | '[' | ']' | '{' | '}' | '\\'
        )
        || (c == ')' && parens == 0)
}

/// Punctuation that ends a sentence as often as it continues a URL.
fn is_trailing_punctuation(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ':' | ';' | '!' | '?' | '*' | '_' | '~' | '\''
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policy: (Policy, Policy, Policy), deltas: &[&str]) -> String {
        let mut stage = SpeechStage::new(policy.0, policy.1, policy.2);
        let mut out = Output::new();
        for d in deltas {
            stage.push(d, &mut out);
        }
        stage.flush(&mut out);
        out.take()
    }

    fn drop_all(deltas: &[&str]) -> String {
        run((Policy::Drop, Policy::Drop, Policy::Drop), deltas)
    }

    #[test]
    fn bare_urls_are_dropped_with_their_path_but_not_trailing_punctuation() {
        assert_eq!(
            drop_all(&["See https://docs.rs/tokio/latest/tokio/. Then"]),
            "See . Then"
        );
        assert_eq!(drop_all(&["go to www.example.com, now"]), "go to , now");
        assert_eq!(drop_all(&["(see http://x.org/a_(b)) ok"]), "(see ) ok");
        assert_eq!(
            drop_all(&["what when http or https"]),
            "what when http or https"
        );
        assert_eq!(drop_all(&["访问https://example.com获取"]), "访问获取");
    }

    #[test]
    fn url_keep_speaks_the_host() {
        let keep = (Policy::Keep, Policy::Drop, Policy::Drop);
        assert_eq!(
            run(keep.clone(), &["at https://docs.rs/serde?x=1."]),
            "at docs.rs."
        );
        assert_eq!(
            run(keep, &["at www.rust-lang.org/learn"]),
            "at www.rust-lang.org"
        );
    }

    #[test]
    fn url_replace_speaks_a_phrase() {
        let replace = (Policy::replace("a link"), Policy::Drop, Policy::Drop);
        assert_eq!(run(replace, &["see https://a.b/c here"]), "see a link here");
    }

    #[test]
    fn emoji_sequences_are_dropped_whole() {
        assert_eq!(drop_all(&["Great job! 🎉"]), "Great job! ");
        assert_eq!(drop_all(&["A👨‍👩‍👧‍👦B"]), "A B");
        assert_eq!(drop_all(&["I ❤️ Rust"]), "I  Rust");
        assert_eq!(drop_all(&["flag 🇺🇸🇫🇷 end"]), "flag  end");
        assert_eq!(drop_all(&["1️⃣ one"]), "1 one");
        assert_eq!(drop_all(&["wave 👋🏽!"]), "wave !");
    }

    #[test]
    fn emoji_replace_counts_sequences() {
        let replace = (Policy::Drop, Policy::replace("emoji"), Policy::Drop);
        assert_eq!(run(replace.clone(), &["a 👨‍👩‍👧 b"]), "a emoji b");
        assert_eq!(run(replace, &["🇺🇸🇫🇷"]), "emoji emoji");
    }

    #[test]
    fn joiner_outside_emoji_is_kept_for_indic_scripts() {
        assert_eq!(drop_all(&["क्\u{200D}ष"]), "क्\u{200D}ष");
    }

    #[test]
    fn symbols_become_one_space() {
        assert_eq!(drop_all(&["A → B | C"]), "A  B  C");
        assert_eq!(drop_all(&["a|b"]), "a b");
        let keep = (Policy::Drop, Policy::Drop, Policy::Keep);
        assert_eq!(run(keep, &["A → B"]), "A → B");
    }

    #[test]
    fn split_anywhere_gives_the_same_text() {
        let text = "Visit https://example.com/a.b, or www.x.io! 👨‍👩‍👧 h wh http";
        let whole = drop_all(&[text]);
        let chars: Vec<char> = text.chars().collect();
        for cut in 0..chars.len() {
            let a: String = chars[..cut].iter().collect();
            let b: String = chars[cut..].iter().collect();
            assert_eq!(drop_all(&[&a, &b]), whole, "cut at {cut}");
        }
    }
}
