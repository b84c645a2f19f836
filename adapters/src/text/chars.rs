//! Character classes shared by the filter and the segmenter: emoji, symbols a
//! TTS engine reads badly, punctuation and CJK ideographs.
//!
//! Hand-written ranges instead of a Unicode-properties dependency: they cover
//! what LLMs actually emit (Unicode 15 emoji blocks, dingbats, arrows, box
//! drawing) and cost a few comparisons per character.

/// Zero-width joiner: glues emoji into one pictograph (and, elsewhere, shapes
/// Indic scripts, so it is only dropped inside an emoji sequence).
pub(crate) const ZWJ: char = '\u{200D}';

/// Characters that only modify a neighbouring emoji: the joiner, variation
/// selectors, the combining keycap, skin-tone modifiers and tag characters.
pub(crate) fn is_emoji_component(c: char) -> bool {
    matches!(
        c as u32,
        0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F
    )
}

/// Regional indicator letters; two of them make one flag.
pub(crate) fn is_regional_indicator(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}

/// Emoji and other pictographs (roughly Unicode's `Extended_Pictographic`,
/// without © ® ™ which read fine).
pub(crate) fn is_pictographic(c: char) -> bool {
    matches!(
        c as u32,
        0x203C
            | 0x2049
            | 0x2139
            | 0x2194..=0x2199
            | 0x21A9..=0x21AA
            | 0x231A..=0x231B
            | 0x2328
            | 0x23CF
            | 0x23E9..=0x23F3
            | 0x23F8..=0x23FA
            | 0x24C2
            | 0x25AA..=0x25AB
            | 0x25B6
            | 0x25C0
            | 0x25FB..=0x25FE
            | 0x2600..=0x27BF
            | 0x2934..=0x2935
            | 0x2B05..=0x2B07
            | 0x2B1B..=0x2B1C
            | 0x2B50
            | 0x2B55
            | 0x3030
            | 0x303D
            | 0x3297
            | 0x3299
            | 0x1F000..=0x1FAFF
            | 0x1FC00..=0x1FFFD
    )
}

/// Symbols a TTS engine reads out by name or mangles: stray Markdown
/// characters (pipe, backtick, hash), bullets, arrows, box drawing, block
/// elements and geometric shapes.
pub(crate) fn is_unspeakable_symbol(c: char) -> bool {
    matches!(c, '|' | '`' | '#')
        || matches!(
            c as u32,
            0x2022 | 0x2023 | 0x2043 | 0x2219
                | 0x2190..=0x21FF
                | 0x2500..=0x25FF
                | 0x27F0..=0x27FF
                | 0x2900..=0x297F
                | 0x2B00..=0x2BFF
        )
}

/// Punctuation in the sense of CommonMark's flanking rules: ASCII punctuation
/// plus the general, CJK and full-width punctuation blocks.
pub(crate) fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c as u32,
            0x00A1..=0x00BF
                | 0x2010..=0x2027
                | 0x2030..=0x205E
                | 0x3000..=0x303F
                | 0xFE10..=0xFE1F
                | 0xFE30..=0xFE4F
                | 0xFF01..=0xFF0F
                | 0xFF1A..=0xFF20
                | 0xFF3B..=0xFF40
                | 0xFF5B..=0xFF65
        )
}

/// Han ideographs and Japanese kana: scripts written without spaces, where
/// every character is a possible cut point.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(
        c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF
    )
}

/// Characters a cut must not come right before: they attach to the previous
/// character (combining marks, joiners, variation selectors, emoji modifiers).
pub(crate) fn attaches_to_previous(c: char) -> bool {
    is_emoji_component(c)
        || matches!(
            c as u32,
            0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE00..=0xFE0F
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_pictographic('😀'));
        assert!(is_pictographic('✅'));
        assert!(is_pictographic('🚀'));
        assert!(!is_pictographic('中'));
        assert!(!is_pictographic('©'));
        assert!(is_emoji_component(ZWJ));
        assert!(is_emoji_component('\u{1F3FD}'));
        assert!(is_regional_indicator('🇺'));
        assert!(is_unspeakable_symbol('→'));
        assert!(is_unspeakable_symbol('│'));
        assert!(!is_unspeakable_symbol('a'));
        assert!(is_punctuation('，'));
        assert!(is_punctuation('*'));
        assert!(!is_punctuation('中'));
        assert!(is_cjk('中'));
        assert!(is_cjk('の'));
        assert!(!is_cjk('，'));
    }
}
