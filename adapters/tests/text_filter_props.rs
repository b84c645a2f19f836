//! Property tests of the text filter and segmenter: the output never depends
//! on how the input is split into deltas, nothing panics, and the held-back
//! text stays within the documented bound.

use proptest::prelude::*;
use understudy_adapters::text::filter::{LINE_LIMIT, SPAN_LIMIT};
use understudy_adapters::text::{
    filter_text, ContentFilter, FilterPolicy, Kind, Policy, Segmenter, SegmenterConfig,
};

// --- generated Markdown ---------------------------------------------------

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,8}",
        2 => "[A-Z][a-z]{0,6}",
        2 => "[\u{4e00}-\u{4e40}\u{3041}-\u{3060}]{1,5}",
        1 => "[0-9]{1,4}",
        1 => prop::sample::select(vec![
            "snake_case", "3.14", "v1.2.3", "e.g.", "Mr.", "U.S.", "don't", "C#", "x_1",
            "well-known", "2 * 3", "a*b", "~5", "1,000", "12:30",
        ])
        .prop_map(String::from),
    ]
}

fn punctuation() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ", " ", " ", ". ", ", ", "! ", "? ", "… ", "...", ": ", "; ", " — ", " - ", "。", "，",
        "、", "！", "？", "；", "“", "”", "\"", "(", ")",
    ])
}

fn inline_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (word(), punctuation()).prop_map(|(w, p)| format!("{w}{p}")),
        1 => word().prop_map(|w| format!("`{w}` ")),
        1 => word().prop_map(|w| format!("``{w} ` x`` ")),
        1 => word().prop_map(|w| format!("**{w}** ")),
        1 => word().prop_map(|w| format!("*{w}* ")),
        1 => word().prop_map(|w| format!("_{w}_ ")),
        1 => word().prop_map(|w| format!("__{w}__ ")),
        1 => word().prop_map(|w| format!("~~{w}~~ ")),
        1 => word().prop_map(|w| format!("[{w}](https://example.com/{w}?q=1) ")),
        1 => word().prop_map(|w| format!("![{w}](img/{w}.png) ")),
        1 => word().prop_map(|w| format!("[![{w}](b.svg)](https://ci/{w}) ")),
        1 => prop::sample::select(vec![
            "https://docs.rs/tokio/latest/tokio/. ",
            "http://localhost:8080/api_v1 ",
            "www.example.org, ",
            "(see https://en.wikipedia.org/wiki/Rust_(programming_language)) ",
            "<https://x.io/a> ",
            "<b>bold</b> ",
            "<kbd>Ctrl</kbd>+<kbd>C</kbd> ",
            "line<br>break ",
            "<!-- hidden --> ",
            "Vec<String> ",
            "a < b > c ",
            "&amp; &lt;tag&gt; &#39;q&#39; ",
            "\\*literal\\* ",
            "🎉 ", "✅", "👨‍👩‍👧‍👦", "👍🏽 ", "🇺🇸", "❤️ ", "1️⃣ ", "→ ", "• ", "| ", "# ",
        ])
        .prop_map(String::from),
    ]
}

fn text_line() -> impl Strategy<Value = String> {
    prop::collection::vec(inline_piece(), 0..10).prop_map(|p| p.concat().trim_end().to_string())
}

fn code_line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "def main():",
            "    print(\"hello | world\")",
            "fn main() { println!(\"**x**\"); }",
            "SELECT * FROM users WHERE id = 1;",
            "const x = `tpl ${y}`;",
            "# a comment",
            "  ``",
            "~~~~ not a close",
            "",
            "| a | b |",
            "<div>html</div>",
            "https://in.code/",
        ])
        .prop_map(String::from),
        "[ -~]{0,30}",
    ]
}

fn block() -> impl Strategy<Value = String> {
    let paragraph = prop::collection::vec(text_line(), 1..4).prop_map(|l| l.join("\n"));
    let heading = (1usize..=7, text_line()).prop_map(|(n, l)| format!("{} {l}", "#".repeat(n)));
    let list = (
        prop::sample::select(vec![
            "- ", "* ", "+ ", "1. ", "2) ", "- [ ] ", "- [x] ", "  - ",
        ]),
        prop::collection::vec(text_line(), 1..4),
    )
        .prop_map(|(m, items)| {
            items
                .iter()
                .map(|i| format!("{m}{i}"))
                .collect::<Vec<_>>()
                .join("\n")
        });
    let fenced = (
        prop::sample::select(vec!["```", "~~~", "````", "  ```"]),
        prop::sample::select(vec!["", "python", "rust title=\"x\"", "sql", "bash", "js"]),
        prop::collection::vec(code_line(), 0..5),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(f, info, lines, closed)| {
            let mut s = format!("{f}{info}\n{}", lines.join("\n"));
            if closed {
                s.push('\n');
                s.push_str(f.trim_start());
            }
            s
        });
    let indented = prop::collection::vec(code_line(), 1..4).prop_map(|l| {
        let body: Vec<String> = l.iter().map(|c| format!("    {c}")).collect();
        format!("\n{}", body.join("\n"))
    });
    let table = (
        1usize..4,
        prop::collection::vec(prop::collection::vec(word(), 3), 0..4),
        prop::bool::ANY,
    )
        .prop_map(|(cols, rows, lead)| {
            let edge = if lead { "|" } else { "" };
            let row = |cells: &[String]| format!("{edge} {} {edge}", cells[..cols].join(" | "));
            let header: Vec<String> = (0..cols).map(|i| format!("H{i}")).collect();
            let mut lines = vec![
                row(&header),
                format!("{edge}{}{edge}", vec!["---"; cols].join("|")),
            ];
            lines.extend(rows.iter().map(|r| row(r)));
            lines.join("\n")
        });
    let quote = text_line().prop_map(|l| format!("> {l}"));
    let rule =
        prop::sample::select(vec!["---", "***", "___", "===", "- - -"]).prop_map(String::from);
    prop_oneof![
        6 => paragraph,
        2 => heading,
        3 => list,
        3 => fenced,
        1 => indented,
        2 => table,
        1 => quote,
        1 => rule,
    ]
}

fn markdown() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(block(), 1..8),
        prop::sample::select(vec!["\n", "\n\n", "\r\n"]),
        prop::bool::ANY,
    )
        .prop_map(|(blocks, sep, trailing)| {
            let mut doc = blocks.join(sep);
            if trailing {
                doc.push('\n');
            }
            doc
        })
}

/// Markdown-ish character soup: every special character, in any order.
fn soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        "`", "``", "```", "~", "~~", "~~~", "*", "**", "_", "__", "|", "#", "##", "-", "+", "=",
        ">", "[", "]", "(", ")", "!", "<", "&", ";", "\\", " ", "    ", "\t", "\n", "\n\n", "\r\n",
        "a", "b", "W", "1", "2.", ".", ",", "中", "。", "，", "😀", "\u{200D}", "🏽", "\u{FE0F}",
        "🇺", "http://", "https://", "www.", "h", "w", ":", "/", "br", "kbd", "b>", "</", "amp",
        "#39", "|---|", "1.", "e.g.", "Mr.", "…", "→", "[x] ", "- ", "    ```",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..80).prop_map(|t| t.concat())
}

fn policies() -> impl Strategy<Value = FilterPolicy> {
    let one = prop_oneof![
        Just(Policy::Keep),
        Just(Policy::Drop),
        Just(Policy::replace("omitted")),
    ];
    prop_oneof![
        3 => Just(FilterPolicy::default()),
        1 => Just(FilterPolicy::uniform(Policy::Keep)),
        1 => Just(FilterPolicy::uniform(Policy::Drop)),
        1 => Just(FilterPolicy::uniform(Policy::replace("x"))),
        2 => prop::collection::vec(one, Kind::ALL.len()).prop_map(|ps| {
            Kind::ALL
                .iter()
                .zip(ps)
                .fold(FilterPolicy::default(), |acc, (&k, p)| acc.with(k, p))
        }),
    ]
}

/// Cuts `text` at char boundaries into pieces of the given char counts
/// (cycled), the last piece taking the rest.
fn split(text: &str, sizes: &[usize]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= chars.len() {
            break;
        }
        let end = (at + size).min(chars.len());
        pieces.push(chars[at..end].iter().collect());
        at = end;
    }
    pieces
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=16, 1..40)
}

/// The documented worst case: a table header line and a delimiter-row
/// prefix, an inline span, a URL prefix, a few bytes of slack.
const HELD_BOUND: usize = 2 * LINE_LIMIT + SPAN_LIMIT + 64;

fn filter_deltas(policy: &FilterPolicy, deltas: &[String]) -> String {
    let mut filter = ContentFilter::new(policy.clone());
    let mut out = String::new();
    for d in deltas {
        out += &filter.push(d);
        assert!(
            filter.held_len() <= HELD_BOUND,
            "held {}",
            filter.held_len()
        );
    }
    out + &filter.finish()
}

fn segment_deltas(deltas: &[String]) -> Vec<String> {
    let mut seg = Segmenter::new(SegmenterConfig::default());
    let mut units: Vec<String> = deltas.iter().flat_map(|d| seg.push(d)).collect();
    units.extend(seg.finish());
    units
}

proptest! {
    // 1024 cases by default; PROPTEST_CASES overrides for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024),
        ..ProptestConfig::default()
    })]

    #[test]
    fn filter_output_is_split_independent_on_markdown(
        doc in markdown(), policy in policies(), sizes in sizes()
    ) {
        let whole = filter_text(&policy, &doc);
        let deltas = split(&doc, &sizes);
        prop_assert_eq!(filter_deltas(&policy, &deltas), whole);
    }

    #[test]
    fn filter_output_is_split_independent_on_soup(
        doc in soup(), policy in policies(), sizes in sizes()
    ) {
        let whole = filter_text(&policy, &doc);
        let deltas = split(&doc, &sizes);
        prop_assert_eq!(filter_deltas(&policy, &deltas), whole);
    }

    #[test]
    fn filter_never_panics_on_arbitrary_unicode(doc in "\\PC*", sizes in sizes()) {
        let deltas = split(&doc, &sizes);
        let _ = filter_deltas(&FilterPolicy::default(), &deltas);
    }

    #[test]
    fn filter_never_panics_on_any_chars(doc in any::<String>(), sizes in sizes()) {
        let deltas = split(&doc, &sizes);
        let _ = filter_deltas(&FilterPolicy::uniform(Policy::Keep), &deltas);
        let _ = segment_deltas(&deltas);
    }

    #[test]
    fn segmenter_is_split_independent(doc in prop_oneof![markdown(), soup()], sizes in sizes()) {
        let whole = segment_deltas(std::slice::from_ref(&doc));
        prop_assert_eq!(segment_deltas(&split(&doc, &sizes)), whole.clone());
        for unit in &whole {
            prop_assert!(!unit.is_empty());
            prop_assert_eq!(unit.trim(), unit.as_str());
        }
    }

    #[test]
    fn filter_then_segmenter_is_split_independent(doc in markdown(), sizes in sizes()) {
        let policy = FilterPolicy::default();
        let whole = segment_deltas(&[filter_text(&policy, &doc)]);
        // Feed the filter's per-delta output to the segmenter, as a pipeline does.
        let mut filter = ContentFilter::new(policy);
        let mut spoken: Vec<String> =
            split(&doc, &sizes).iter().map(|d| filter.push(d)).collect();
        spoken.push(filter.finish());
        prop_assert_eq!(segment_deltas(&spoken), whole);
    }

    #[test]
    fn segmenter_units_respect_the_length_limits(doc in markdown()) {
        let config = SegmenterConfig::default();
        let units = segment_deltas(&[filter_text(&FilterPolicy::default(), &doc)]);
        for (i, unit) in units.iter().enumerate() {
            let max = if i == 0 { config.first_max_chars } else { config.max_chars };
            // Sentence punctuation and closing quotes may follow the limit.
            prop_assert!(unit.chars().count() <= max + 8, "unit {} too long: {:?}", i, unit);
        }
    }
}
