//! Recognising HTML tags, comments and autolinks between `<` and `>`.

/// What a `<…>` turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Angle<'a> {
    /// `<!-- … -->`, `<!DOCTYPE …>` and the like: never spoken.
    Comment,
    /// `<https://…>` or `<mailto:…>`: the address, handed to the URL rules.
    Autolink(&'a str),
    /// A tag of a known HTML element.
    Tag(Tag<'a>),
    /// Not markup (`a < b`, `Vec<String>`): literal text.
    Text,
}

/// One HTML tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tag<'a> {
    /// The element name as written.
    pub(super) name: &'a str,
    /// `</name>`.
    pub(super) closing: bool,
    /// An element without content or closing tag (`<br>`, `<img …>`, `<x/>`).
    pub(super) void: bool,
    /// An element that breaks the text flow (`<br>`, `<p>`, `<li>`): a space
    /// keeps the words either side apart.
    pub(super) breaks_flow: bool,
}

/// Elements LLMs write inside Markdown. Only these count as tags, so that
/// generics in prose (`Vec<String>`, `Option<T>`) survive.
const KNOWN: &[&str] = &[
    "a",
    "abbr",
    "article",
    "aside",
    "audio",
    "b",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "link",
    "main",
    "mark",
    "meta",
    "nav",
    "ol",
    "option",
    "p",
    "picture",
    "pre",
    "q",
    "s",
    "samp",
    "script",
    "section",
    "select",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
];

const VOID: &[&str] = &[
    "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr",
];

const INLINE: &[&str] = &[
    "a", "abbr", "b", "cite", "code", "del", "em", "font", "i", "ins", "kbd", "mark", "q", "s",
    "samp", "small", "span", "strike", "strong", "sub", "sup", "u", "var",
];

/// Classifies `inner`, the text between `<` and the first `>`.
pub(super) fn classify(inner: &str) -> Angle<'_> {
    if inner.starts_with('!') || inner.starts_with('?') {
        return Angle::Comment;
    }
    if !inner.contains(char::is_whitespace) {
        let lower = inner.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Angle::Autolink(inner);
        }
        if lower.starts_with("mailto:") {
            return Angle::Autolink(&inner["mailto:".len()..]);
        }
    }
    let closing = inner.starts_with('/');
    let body = if closing { &inner[1..] } else { inner };
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(body.len());
    let name = &body[..name_len];
    let after_name = &body[name_len..];
    let well_formed = after_name.is_empty()
        || after_name.starts_with(char::is_whitespace)
        || after_name.starts_with('/');
    let known = KNOWN.iter().any(|k| k.eq_ignore_ascii_case(name));
    if !well_formed || !known {
        return Angle::Text;
    }
    let void = VOID.iter().any(|k| k.eq_ignore_ascii_case(name)) || body.ends_with('/');
    let inline = INLINE.iter().any(|k| k.eq_ignore_ascii_case(name));
    Angle::Tag(Tag {
        name,
        closing,
        void,
        breaks_flow: !inline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_comments_autolinks_and_text() {
        assert_eq!(classify("!-- note --"), Angle::Comment);
        assert_eq!(
            classify("https://x.io/a"),
            Angle::Autolink("https://x.io/a")
        );
        assert_eq!(classify("mailto:a@b.c"), Angle::Autolink("a@b.c"));
        assert_eq!(classify("String"), Angle::Text);
        assert_eq!(classify("T"), Angle::Text);
        assert_eq!(
            classify("b and c"),
            Angle::Tag(Tag {
                name: "b",
                closing: false,
                void: false,
                breaks_flow: false
            })
        );
        let Angle::Tag(br) = classify("br/") else {
            panic!("br")
        };
        assert!(br.void && br.breaks_flow);
        let Angle::Tag(end) = classify("/DIV") else {
            panic!("div")
        };
        assert!(end.closing && end.name == "DIV");
        assert_eq!(classify("div=3"), Angle::Text);
    }
}
