//! What counts as a sentence end, a clause boundary and an abbreviation.

use crate::text::chars;

/// Punctuation that ends a sentence in Chinese and Japanese, with no space
/// after it.
pub(super) fn is_cjk_sentence_end(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '．')
}

/// Punctuation that ends an English sentence when whitespace follows.
pub(super) fn is_latin_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

/// Closing quotes and brackets that stay with the sentence they end.
pub(super) fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '”' | '’' | '»' | '」' | '』' | '）' | '】' | '》' | '〉'
    )
}

/// Clause punctuation of CJK text, a boundary with nothing after it.
pub(super) fn is_cjk_clause_mark(c: char) -> bool {
    matches!(c, '，' | '、' | '：' | '﹐' | '､')
}

/// Clause punctuation of Latin text, a boundary when whitespace follows (so
/// `1,000` and `12:30` are not cut).
pub(super) fn is_latin_clause_mark(c: char) -> bool {
    matches!(c, ',' | ';' | ':')
}

/// A dash that separates clauses whatever surrounds it.
pub(super) fn is_clause_dash(c: char) -> bool {
    matches!(c, '—' | '―')
}

/// Words that end in a period without ending the sentence, lower-cased and
/// without their final period.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "e.g", "i.e", "cf", "approx", "inc",
    "ltd", "co", "corp", "fig", "vol", "dept", "a.m", "p.m", "u.s", "u.k", "ph.d", "no", "nos",
    "etc.", "mt", "ca",
];

/// Whether the period after `word` marks an abbreviation or an initial, not a
/// sentence end. `word` is the text since the last whitespace, before the period.
pub(super) fn is_abbreviation(word: &str) -> bool {
    let word = word.trim_start_matches(|c: char| chars::is_punctuation(c) && c != '.');
    let mut letters = word.chars();
    if let (Some(c), None) = (letters.next(), letters.next()) {
        // An initial: "J. K. Rowling".
        return c.is_alphabetic() && c.is_uppercase();
    }
    ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// A word that may count towards the first unit's minimum.
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !chars::is_cjk(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_and_initials() {
        assert!(is_abbreviation("Mr"));
        assert!(is_abbreviation("e.g"));
        assert!(is_abbreviation("(i.e"));
        assert!(is_abbreviation("J"));
        assert!(!is_abbreviation("I"[..0].as_ref()));
        assert!(!is_abbreviation("Rust"));
        assert!(!is_abbreviation("v1.2.3"));
        assert!(!is_abbreviation("a"));
    }
}
