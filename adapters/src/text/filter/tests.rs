//! Unit tests: each kind under each policy, split independence of each
//! example, and the look-ahead bound.

use super::*;

/// Filters `input` whole, char by char and split in two at every char
/// boundary; asserts all agree and returns the whole-input result.
fn filtered(policy: &FilterPolicy, input: &str) -> String {
    let whole = filter_text(policy, input);
    let mut filter = ContentFilter::new(policy.clone());
    let mut by_char = String::new();
    for c in input.chars() {
        by_char += &filter.push(c.encode_utf8(&mut [0; 4]));
    }
    by_char += &filter.finish();
    assert_eq!(by_char, whole, "char-by-char split of {input:?}");
    for (i, _) in input.char_indices().skip(1) {
        let mut filter = ContentFilter::new(policy.clone());
        let mut two = filter.push(&input[..i]);
        two += &filter.push(&input[i..]);
        two += &filter.finish();
        assert_eq!(two, whole, "split at byte {i} of {input:?}");
    }
    whole
}

fn default(input: &str) -> String {
    filtered(&FilterPolicy::default(), input)
}

fn with(kind: Kind, policy: Policy, input: &str) -> String {
    filtered(&FilterPolicy::default().with(kind, policy), input)
}

fn drop_(kind: Kind, input: &str) -> String {
    with(kind, Policy::Drop, input)
}

fn keep(kind: Kind, input: &str) -> String {
    with(kind, Policy::Keep, input)
}

fn say(kind: Kind, input: &str) -> String {
    with(kind, Policy::replace("X"), input)
}

#[test]
fn prose_passes_through() {
    let text = "Hello world, this is plain prose. 2 * 3 = 6, snake_case stays; 中文也可以。\n";
    assert_eq!(default(text), text);
}

#[test]
fn fenced_code_blocks_each_policy() {
    let input = "Run this:\n```python title=\"x\"\nprint('hi')\n```\nDone.\n";
    assert_eq!(default(input), "Run this:\ncode omitted\nDone.\n");
    assert_eq!(drop_(Kind::CodeBlocks, input), "Run this:\nDone.\n");
    assert_eq!(say(Kind::CodeBlocks, input), "Run this:\nX\nDone.\n");
    assert_eq!(
        keep(Kind::CodeBlocks, input),
        "Run this:\nprint('hi')\nDone.\n"
    );
}

#[test]
fn tilde_fences_longer_fences_and_unterminated_fences() {
    assert_eq!(default("~~~\na\n~~~\nb"), "code omitted\nb");
    assert_eq!(
        default("````md\n```\ninner\n```\n````\nafter"),
        "code omitted\nafter"
    );
    assert_eq!(
        default("Look:\n```rust\nfn main() {"),
        "Look:\ncode omitted\n"
    );
    assert_eq!(default("```"), "code omitted\n");
    assert_eq!(default("```a``` is inline"), "a is inline");
}

#[test]
fn fence_inside_list_item_and_quote() {
    let input = "1. Install:\n\n    ```bash\n    pip install x\n    ```\n2. Run it\n";
    assert_eq!(default(input), "Install:\n\ncode omitted\nRun it\n");
    assert_eq!(
        default("> ```\n> code\n> ```\n> after\n"),
        "code omitted\nafter\n"
    );
}

#[test]
fn indented_code_blocks() {
    let input = "Example:\n\n    let x = 1;\n\n    let y = 2;\nAfter.\n";
    assert_eq!(default(input), "Example:\n\ncode omitted\nAfter.\n");
    assert_eq!(
        keep(Kind::CodeBlocks, input),
        "Example:\n\nlet x = 1;\nlet y = 2;\nAfter.\n"
    );
    // Without a blank line before, an indented line continues the paragraph.
    assert_eq!(default("Text\n    more text\n"), "Text\nmore text\n");
    // Under a list item it is the item's continuation.
    assert_eq!(
        default("- item\n\n    more about it\n"),
        "item\n\nmore about it\n"
    );
    assert_eq!(default("\tcode\n"), "code omitted\n");
}

#[test]
fn inline_code_each_policy() {
    let input = "Call `foo_bar()` or ``a ` b`` now";
    assert_eq!(
        default(input),
        "Call foo_bar() or a ` b now"
            .replace('`', " ")
            .replace("a   b", "a  b")
    );
    assert_eq!(drop_(Kind::InlineCode, input), "Call  or  now");
    assert_eq!(say(Kind::InlineCode, input), "Call X or X now");
    assert_eq!(
        default("unclosed `tick here\nnext"),
        "unclosed tick here\nnext"
    );
}

#[test]
fn tables_each_policy() {
    let input =
        "Compare:\n| Name | Speed |\n|------|:-----:|\n| Rust | **fast** |\n| Py | ok |\n\nEnd.\n";
    assert_eq!(default(input), "Compare:\ntable omitted\n\nEnd.\n");
    assert_eq!(drop_(Kind::Tables, input), "Compare:\n\nEnd.\n");
    assert_eq!(say(Kind::Tables, input), "Compare:\nX\n\nEnd.\n");
    assert_eq!(
        keep(Kind::Tables, input),
        "Compare:\nName, Speed\nRust, fast\nPy, ok\n\nEnd.\n"
    );
}

#[test]
fn pipe_lines_that_are_not_tables_are_prose() {
    assert_eq!(
        default("| not a table\nnext line\n"),
        " not a table\nnext line\n"
    );
    assert_eq!(default("a | b\n---\n"), "a  b\n");
    assert_eq!(default("|x|\n"), "x \n");
}

#[test]
fn table_ends_at_a_line_without_leading_pipe() {
    let input = "|a|b|\n|-|-|\n|1|2|\nProse again.";
    assert_eq!(default(input), "table omitted\nProse again.");
}

#[test]
fn headings_each_policy() {
    let input = "## Install ##\nText\n#hashtag\n";
    assert_eq!(default(input), "Install \nText\nhashtag\n");
    assert_eq!(drop_(Kind::Headings, input), "Text\nhashtag\n");
    assert_eq!(say(Kind::Headings, input), "X\nText\nhashtag\n");
}

#[test]
fn list_items_each_policy() {
    let input = "Steps:\n1. First\n2) Second\n- a\n* b\n+ c\n- [x] done\n";
    assert_eq!(default(input), "Steps:\nFirst\nSecond\na\nb\nc\ndone\n");
    assert_eq!(drop_(Kind::ListItems, input), "Steps:\n");
    assert_eq!(say(Kind::ListItems, input), "Steps:\nX\nX\nX\nX\nX\nX\n");
    assert_eq!(default("3.14 is pi\n"), "3.14 is pi\n");
}

#[test]
fn emphasis_each_policy() {
    let input = "This is **bold**, *it*, __b__, _i_ and ~~old~~ text.";
    assert_eq!(default(input), "This is bold, it, b, i and old text.");
    assert_eq!(drop_(Kind::Emphasis, input), "This is , , ,  and  text.");
    assert_eq!(say(Kind::Emphasis, input), "This is X, X, X, X and X text.");
}

#[test]
fn emphasis_spares_identifiers_and_arithmetic() {
    assert_eq!(
        default("use my_var_name and __init__"),
        "use my_var_name and init"
    );
    assert_eq!(
        default("2 * 3 and 2*3 and a ** b"),
        "2 * 3 and 2*3 and a ** b"
    );
    assert_eq!(default("A = P * (1 + r)^(n*t)"), "A = P * (1 + r)^(n*t)");
    // Known limit of deciding locally: a `*` between a letter and punctuation
    // flanks like a closing marker and is removed.
    assert_eq!(default("P*(1 + r)"), "P(1 + r)");
    assert_eq!(default("~5 min, a~b"), "~5 min, a~b");
    assert_eq!(default("这是**重点**内容"), "这是重点内容");
}

#[test]
fn links_and_images_each_policy() {
    let input = "See [the docs](https://docs.rs/x \"t\") and ![a cat](cat.png).";
    assert_eq!(default(input), "See the docs and .");
    assert_eq!(drop_(Kind::Links, input), "See  and .");
    assert_eq!(say(Kind::Links, input), "See X and .");
    assert_eq!(keep(Kind::Images, input), "See the docs and a cat.");
    assert_eq!(say(Kind::Images, input), "See the docs and X.");
    assert_eq!(
        default("[**bold** link](u) [x] [y](z"),
        "bold link [x] [y](z"
    );
    assert_eq!(default("[![badge](b.svg)](https://ci)"), "");
}

#[test]
fn bare_urls_each_policy() {
    let input = "Go to https://example.com/path?q=1. Or www.rust-lang.org!";
    assert_eq!(default(input), "Go to . Or !");
    assert_eq!(
        keep(Kind::Urls, input),
        "Go to example.com. Or www.rust-lang.org!"
    );
    assert_eq!(say(Kind::Urls, input), "Go to X. Or X!");
    assert_eq!(
        default("<https://x.io> and <mailto:a@b.co>"),
        "   and  a@b.co "
    );
}

#[test]
fn html_each_policy() {
    let input = "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Then <!-- hidden --> go. Vec<String> a < b";
    assert_eq!(default(input), "Press Ctrl+C. Then  go. Vec<String> a < b");
    assert_eq!(
        drop_(Kind::Html, input),
        "Press +. Then  go. Vec<String> a < b"
    );
    assert_eq!(
        say(Kind::Html, input),
        "Press X+ X. Then  go. Vec<String> a < b"
    );
}

#[test]
fn emoji_each_policy() {
    let input = "Great job! 🎉 Next 👨‍👩‍👧 step.";
    assert_eq!(default(input), "Great job!  Next  step.");
    assert_eq!(keep(Kind::Emoji, input), input);
    assert_eq!(say(Kind::Emoji, input), "Great job! X Next X step.");
}

#[test]
fn symbols_each_policy() {
    let input = "A → B • C #1";
    assert_eq!(default(input), "A  B  C 1");
    assert_eq!(keep(Kind::Symbols, input), input);
    assert_eq!(say(Kind::Symbols, input), "A X B X C X1");
}

#[test]
fn rules_quotes_entities_escapes() {
    assert_eq!(default("a\n\n---\n\nb\n***\nc\n"), "a\n\n\nb\nc\n");
    assert_eq!(default("> quoted *text*\n"), "quoted text\n");
    assert_eq!(
        default("Tom &amp; Jerry &lt;3 &#39;x&#39; &bogus; &"),
        "Tom & Jerry <3 'x' &bogus; &"
    );
    assert_eq!(
        default("\\*not emphasis\\* and \\_x\\_"),
        "*not emphasis* and _x_"
    );
    assert_eq!(default("Title\n=====\n"), "Title\n");
}

#[test]
fn crlf_line_endings() {
    assert_eq!(
        default("Hi\r\n```\r\ncode\r\n```\r\nBye\r\n"),
        "Hi\r\ncode omitted\nBye\r\n"
    );
}

#[test]
fn uniform_keep_still_removes_markup() {
    let input = "# T\n**b** `c` [l](u)\n```\nx\n```\n|a|\n|-|\n|1|\n";
    assert_eq!(
        filtered(&FilterPolicy::uniform(Policy::Keep), input),
        "T\nb c l\nx\na\n1\n"
    );
}

#[test]
fn filter_is_reusable_after_finish() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    let _ = filter.push("```\nunterminated");
    let _ = filter.finish();
    assert_eq!(filter.push("Hello again."), "Hello again.");
    assert_eq!(filter.finish(), "");
}

// --- the look-ahead bound -------------------------------------------------

#[test]
fn prose_is_released_promptly() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(
        filter.push("Hello world, this is "),
        "Hello world, this is "
    );
    assert_eq!(filter.held_len(), 0);
    // A word that may start a URL waits for its second character only.
    assert_eq!(filter.push("w"), "");
    assert_eq!(filter.push("h"), "wh");
    assert_eq!(filter.push("at about 中文"), "at about 中文");
}

#[test]
fn line_start_markup_is_held_only_until_decided() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(filter.push("Intro.\n#"), "Intro.\n");
    assert_eq!(filter.held_len(), 1);
    assert_eq!(filter.push("# Setup and more"), "Setup and more");
    assert_eq!(filter.push("\n1"), "\n");
    assert_eq!(filter.push("0. Ten"), "Ten");
    assert_eq!(filter.push("\n-"), "\n");
    assert_eq!(filter.push("-x"), "--x");
}

#[test]
fn mid_line_pipe_never_holds_prose() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(filter.push("use a | b or "), "use a  b or ");
    assert_eq!(filter.held_len(), 0);
}

#[test]
fn pipe_line_is_held_until_the_next_line_decides() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(filter.push("| Name | Age |"), "");
    assert_eq!(filter.push("\n| --- "), "");
    assert_eq!(filter.push("| --- |\n| Bob"), "table omitted\n");
    // A row split mid-cell is simply skipped.
    assert_eq!(filter.push(" | 3"), "");
    assert_eq!(filter.push("2 |\nAfter"), "After");

    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(filter.push("| just a pipe"), "");
    assert_eq!(filter.push("\nThen"), " just a pipe\nThen");
}

#[test]
fn fence_split_as_two_backticks_then_one() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(filter.push("Code:\n``"), "Code:\n");
    assert_eq!(filter.push("`py\nprint(1)\n`"), "code omitted\n");
    assert_eq!(filter.push("``\nok"), "ok");
}

#[test]
fn inline_constructs_hold_at_most_their_line() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    assert_eq!(filter.push("see `a"), "see ");
    assert_eq!(filter.push("b` and [li"), "ab and ");
    assert_eq!(filter.push("nk](https://x"), "");
    assert_eq!(filter.push(") done"), "link done");
    assert_eq!(filter.push(" and `never closed"), " and ");
    assert_eq!(filter.push("\n"), "never closed\n");
    assert_eq!(filter.held_len(), 0);
}

#[test]
fn held_text_is_capped() {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    let long = "x".repeat(LINE_LIMIT * 2);
    let _ = filter.push("| ");
    let _ = filter.push(&long);
    assert!(
        filter.held_len() <= LINE_LIMIT,
        "held {}",
        filter.held_len()
    );
    let mut filter = ContentFilter::new(FilterPolicy::default());
    let _ = filter.push("`");
    let _ = filter.push(&long);
    assert!(
        filter.held_len() <= SPAN_LIMIT,
        "held {}",
        filter.held_len()
    );
}
