//! What the filter does with each kind of construct.

/// What the filter does with one kind of construct.
///
/// A construct is some markup plus, usually, content: a fenced code block is
/// its fences plus the code, a link is brackets and a URL around the link text,
/// a heading is `#` markers plus the heading text. The three policies read the
/// same for every kind:
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// Speak nothing for the construct: neither its markup nor its content.
    Drop,
    /// Speak this short phrase instead of the construct (e.g. `"code omitted"`),
    /// so the listener knows something visual was skipped.
    Replace(String),
    /// Speak the construct's content without its markup characters (the code
    /// without the fences, the link text without the URL, the heading text
    /// without the `#`s).
    Keep,
}

impl Policy {
    /// `Policy::Replace(phrase)`, for brevity.
    pub fn replace(phrase: impl Into<String>) -> Self {
        Policy::Replace(phrase.into())
    }
}

/// The kinds of construct the filter recognises, each with its own [`Policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Fenced (```` ``` ```` or `~~~`) and indented (four spaces or a tab after a
    /// blank line) code blocks. `Keep` speaks the code lines.
    CodeBlocks,
    /// `` `inline code` `` spans. `Keep` speaks the code without backticks.
    InlineCode,
    /// GFM tables (a `|` header row followed by a delimiter row). `Keep`
    /// speaks each row's cells separated by commas, one row per line.
    Tables,
    /// ATX headings (`# Title`). `Keep` speaks the heading text; `Drop` and
    /// `Replace` apply to the whole heading line.
    Headings,
    /// List items (`-`, `*`, `+`, `1.`, `1)`, with an optional `[ ]` task box).
    /// `Keep` speaks the item text; `Drop` and `Replace` apply to the item's
    /// first line.
    ListItems,
    /// Emphasis (`*a*`, `_a_`, `**a**`, `__a__`, `~~a~~`). `Keep` speaks the
    /// text; `Drop` and `Replace` apply to the emphasised text up to its
    /// closing marker or the end of the line.
    Emphasis,
    /// Inline links `[text](url)`. `Keep` speaks the link text.
    Links,
    /// Images `![alt](url)`. `Keep` speaks the alt text.
    Images,
    /// Bare URLs starting with `http://`, `https://` or `www.`, and autolinks
    /// `<https://…>`. `Keep` speaks the host name only (`docs.rs`): the scheme,
    /// path and query are never worth hearing.
    Urls,
    /// HTML tags and comments. `Keep` drops the tags and speaks the text
    /// between them; `Drop` and `Replace` also remove the element's text up to
    /// its closing tag or the end of the line. Comments are always dropped.
    Html,
    /// Emoji and pictographs, including joined sequences, skin tones, flags and
    /// keycaps. `Drop` leaves at most a space where they stood.
    Emoji,
    /// Symbols TTS engines read out by name: stray `|`, `` ` `` and `#`,
    /// bullets, arrows, box drawing, geometric shapes. `Drop` leaves at most a
    /// space where they stood.
    Symbols,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 12] = [
        Kind::CodeBlocks,
        Kind::InlineCode,
        Kind::Tables,
        Kind::Headings,
        Kind::ListItems,
        Kind::Emphasis,
        Kind::Links,
        Kind::Images,
        Kind::Urls,
        Kind::Html,
        Kind::Emoji,
        Kind::Symbols,
    ];
}

/// The phrase spoken instead of a code block by default.
pub const CODE_OMITTED: &str = "code omitted";
/// The phrase spoken instead of a table by default.
pub const TABLE_OMITTED: &str = "table omitted";

/// One [`Policy`] per [`Kind`]: what the filter speaks for each construct.
///
/// Built from [`FilterPolicy::default`] and adjusted with one method per kind:
///
/// ```
/// use understudy_adapters::text::{FilterPolicy, Kind, Policy};
/// let policy = FilterPolicy::default()
///     .code_blocks(Policy::Drop)
///     .urls(Policy::replace("link"));
/// assert_eq!(policy.get(Kind::CodeBlocks), &Policy::Drop);
/// ```
///
/// Defaults, chosen for a voice agent that shows the full reply on a screen
/// and speaks its prose:
///
/// | kind | default | why |
/// | --- | --- | --- |
/// | code blocks | `Replace("code omitted")` | code read aloud is noise, but the listener should know it is on screen |
/// | inline code | `Keep` | usually a name (`main`, `pip`) that belongs to the sentence |
/// | tables | `Replace("table omitted")` | rows of cells make no sense spoken; say that one was skipped |
/// | headings | `Keep` | the heading text introduces what follows |
/// | list items | `Keep` | the item text is the content; bullets and numbers are markup |
/// | emphasis | `Keep` | the words stay, the `*`/`_`/`~~` go |
/// | links | `Keep` | the link text is part of the sentence, the URL is not |
/// | images | `Drop` | alt text is rarely worth hearing |
/// | URLs | `Drop` | nobody wants to hear `h t t p s colon slash slash` |
/// | HTML | `Keep` | tags go, the text between them stays |
/// | emoji | `Drop` | engines read their names ("party popper") or skip them unpredictably |
/// | symbols | `Drop` | same |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPolicy {
    policies: [Policy; 12],
}

impl Default for FilterPolicy {
    fn default() -> Self {
        let mut policies: [Policy; 12] = std::array::from_fn(|_| Policy::Keep);
        policies[Kind::CodeBlocks as usize] = Policy::replace(CODE_OMITTED);
        policies[Kind::Tables as usize] = Policy::replace(TABLE_OMITTED);
        policies[Kind::Images as usize] = Policy::Drop;
        policies[Kind::Urls as usize] = Policy::Drop;
        policies[Kind::Emoji as usize] = Policy::Drop;
        policies[Kind::Symbols as usize] = Policy::Drop;
        FilterPolicy { policies }
    }
}

impl FilterPolicy {
    /// The same policy for every kind (`FilterPolicy::uniform(Policy::Keep)`
    /// keeps all content and removes only markup characters).
    pub fn uniform(policy: Policy) -> Self {
        FilterPolicy {
            policies: std::array::from_fn(|_| policy.clone()),
        }
    }

    /// The policy for `kind`.
    pub fn get(&self, kind: Kind) -> &Policy {
        &self.policies[kind as usize]
    }

    /// Sets the policy for `kind` (the general form of the per-kind methods).
    pub fn with(mut self, kind: Kind, policy: Policy) -> Self {
        self.policies[kind as usize] = policy;
        self
    }

    /// Sets the policy for fenced and indented code blocks.
    pub fn code_blocks(self, policy: Policy) -> Self {
        self.with(Kind::CodeBlocks, policy)
    }

    /// Sets the policy for inline code spans.
    pub fn inline_code(self, policy: Policy) -> Self {
        self.with(Kind::InlineCode, policy)
    }

    /// Sets the policy for tables.
    pub fn tables(self, policy: Policy) -> Self {
        self.with(Kind::Tables, policy)
    }

    /// Sets the policy for headings.
    pub fn headings(self, policy: Policy) -> Self {
        self.with(Kind::Headings, policy)
    }

    /// Sets the policy for list items.
    pub fn list_items(self, policy: Policy) -> Self {
        self.with(Kind::ListItems, policy)
    }

    /// Sets the policy for emphasis.
    pub fn emphasis(self, policy: Policy) -> Self {
        self.with(Kind::Emphasis, policy)
    }

    /// Sets the policy for links.
    pub fn links(self, policy: Policy) -> Self {
        self.with(Kind::Links, policy)
    }

    /// Sets the policy for images.
    pub fn images(self, policy: Policy) -> Self {
        self.with(Kind::Images, policy)
    }

    /// Sets the policy for bare URLs and autolinks.
    pub fn urls(self, policy: Policy) -> Self {
        self.with(Kind::Urls, policy)
    }

    /// Sets the policy for HTML tags.
    pub fn html(self, policy: Policy) -> Self {
        self.with(Kind::Html, policy)
    }

    /// Sets the policy for emoji.
    pub fn emoji(self, policy: Policy) -> Self {
        self.with(Kind::Emoji, policy)
    }

    /// Sets the policy for unspeakable symbols.
    pub fn symbols(self, policy: Policy) -> Self {
        self.with(Kind::Symbols, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_table() {
        let p = FilterPolicy::default();
        assert_eq!(p.get(Kind::CodeBlocks), &Policy::replace("code omitted"));
        assert_eq!(p.get(Kind::Tables), &Policy::replace("table omitted"));
        for kind in [
            Kind::InlineCode,
            Kind::Headings,
            Kind::ListItems,
            Kind::Emphasis,
            Kind::Links,
            Kind::Html,
        ] {
            assert_eq!(p.get(kind), &Policy::Keep, "{kind:?}");
        }
        for kind in [Kind::Images, Kind::Urls, Kind::Emoji, Kind::Symbols] {
            assert_eq!(p.get(kind), &Policy::Drop, "{kind:?}");
        }
    }

    #[test]
    fn builder_sets_one_kind() {
        let p = FilterPolicy::default().tables(Policy::Keep);
        assert_eq!(p.get(Kind::Tables), &Policy::Keep);
        assert_eq!(p.get(Kind::CodeBlocks), &Policy::replace("code omitted"));
        assert!(Kind::ALL
            .iter()
            .all(|&k| FilterPolicy::uniform(Policy::Drop).get(k) == &Policy::Drop));
    }
}
