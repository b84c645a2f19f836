//! Unit tests of the cutting rules, each checked under every two-way split.

use super::*;

/// Units of `input` pushed whole, char by char and split in two everywhere;
/// asserts all agree.
fn units_with(config: &SegmenterConfig, input: &str) -> Vec<String> {
    let run = |parts: &[&str]| {
        let mut seg = Segmenter::new(config.clone());
        let mut units: Vec<String> = parts.iter().flat_map(|p| seg.push(p)).collect();
        units.extend(seg.finish());
        units
    };
    let whole = run(&[input]);
    let chars: Vec<String> = input.chars().map(String::from).collect();
    let refs: Vec<&str> = chars.iter().map(String::as_str).collect();
    assert_eq!(run(&refs), whole, "char by char: {input:?}");
    for (i, _) in input.char_indices().skip(1) {
        assert_eq!(
            run(&[&input[..i], &input[i..]]),
            whole,
            "split at {i}: {input:?}"
        );
    }
    whole
}

fn units(input: &str) -> Vec<String> {
    units_with(&SegmenterConfig::default(), input)
}

#[test]
fn english_sentences() {
    assert_eq!(
        units("Sure. The build passed! Did it? Yes… it did."),
        ["Sure.", "The build passed!", "Did it?", "Yes… it did."]
    );
}

#[test]
fn not_after_abbreviations_decimals_versions_urls() {
    assert_eq!(
        units("Hi. Ask Mr. Smith, e.g. about pi being 3.14 in v1.2.3 on example.com today. Done."),
        [
            "Hi.",
            "Ask Mr. Smith, e.g. about pi being 3.14 in v1.2.3 on example.com today.",
            "Done."
        ]
    );
    assert_eq!(
        units("Ok. J. K. Rowling wrote it. Fine."),
        ["Ok.", "J. K. Rowling wrote it.", "Fine."]
    );
    assert_eq!(
        units("Ok. Wait... what? No."),
        ["Ok.", "Wait... what?", "No."]
    );
}

#[test]
fn quotes_stay_with_their_sentence() {
    assert_eq!(
        units("Ok. He said \"stop.\" Then (he left.) End"),
        ["Ok.", "He said \"stop.\"", "Then (he left.)", "End"]
    );
}

#[test]
fn list_numbers_do_not_end_a_unit() {
    assert_eq!(
        units("Ok.\n1. Install it.\n2. Run it.\n"),
        ["Ok.", "1. Install it.", "2. Run it."]
    );
}

#[test]
fn newlines_cut_and_empty_units_vanish() {
    assert_eq!(
        units("Intro\n\n\nBody line\n  \n.\nEnd"),
        ["Intro", "Body line", "End"]
    );
}

#[test]
fn chinese_and_japanese() {
    assert_eq!(
        units("好的。这个问题很有意思！我们来看看？第一；第二。"),
        [
            "好的。",
            "这个问题很有意思！",
            "我们来看看？",
            "第一；",
            "第二。"
        ]
    );
    assert_eq!(
        units("はい。「そうです。」次"),
        ["はい。", "「そうです。」", "次"]
    );
}

#[test]
fn first_unit_is_cut_at_the_first_clause_with_enough_words() {
    assert_eq!(
        units("Yes, I can help with that, and here is how it works. Next, we install it, then run it."),
        ["Yes, I can help with that,", "and here is how it works.", "Next, we install it, then run it."]
    );
    assert_eq!(
        units("这个问题很好，我们先看第一部分，然后看第二部分。"),
        ["这个问题很好，", "我们先看第一部分，然后看第二部分。"]
    );
    assert_eq!(units("好的，我们开始吧。"), ["好的，我们开始吧。"]);
    assert_eq!(
        units("The answer to that — as always — depends. Ok."),
        ["The answer to that —", "as always — depends.", "Ok."]
    );
    assert_eq!(
        units("It costs 1,000 dollars at 12:30 today. Ok."),
        ["It costs 1,000 dollars at 12:30 today.", "Ok."]
    );
}

#[test]
fn first_unit_is_cut_at_a_word_boundary_when_too_long() {
    let config = SegmenterConfig {
        first_max_chars: 20,
        ..SegmenterConfig::default()
    };
    assert_eq!(
        units_with(
            &config,
            "Here is a rather long opening sentence without commas. Ok."
        ),
        [
            "Here is a rather",
            "long opening sentence without commas.",
            "Ok."
        ]
    );
    assert_eq!(
        units_with(
            &config,
            "这是一个没有任何标点符号而且非常长的中文句子真的很长很长。"
        ),
        [
            "这是一个没有任何标点符号而且非常长的中文",
            "句子真的很长很长。"
        ]
    );
}

#[test]
fn later_units_are_cut_at_a_clause_then_a_word_when_too_long() {
    let config = SegmenterConfig {
        max_chars: 30,
        ..SegmenterConfig::default()
    };
    assert_eq!(
        units_with(
            &config,
            "Ok. One two three, four five six seven eight nine ten eleven. Ok."
        ),
        [
            "Ok.",
            "One two three,",
            "four five six seven eight nine",
            "ten eleven.",
            "Ok."
        ]
    );
}

#[test]
fn hard_cuts_keep_emoji_sequences_whole() {
    let config = SegmenterConfig {
        first_max_chars: 3,
        ..SegmenterConfig::default()
    };
    let units = units_with(&config, "ab👍🏽cd");
    assert!(
        units.iter().all(|u| !u.starts_with('\u{1F3FD}')),
        "{units:?}"
    );
}

#[test]
fn finish_resets_the_utterance() {
    let mut seg = Segmenter::new(SegmenterConfig::default());
    assert_eq!(
        seg.push("One two three, four. Five six seven, eight"),
        ["One two three,", "four."]
    );
    assert_eq!(seg.finish().as_deref(), Some("Five six seven, eight"));
    assert_eq!(seg.push("One two three, four"), ["One two three,"]);
    assert_eq!(seg.finish().as_deref(), Some("four"));
    assert_eq!(seg.finish(), None);
}

#[test]
fn units_come_out_as_soon_as_decided() {
    let mut seg = Segmenter::new(SegmenterConfig::default());
    assert!(seg.push("Hello there.").is_empty());
    assert_eq!(seg.push(" W"), ["Hello there."]);
    assert_eq!(seg.push("hat? "), ["What?"]);
    assert!(seg.push("ok").is_empty());
    assert_eq!(seg.push("。"), Vec::<String>::new());
    assert_eq!(seg.push("x"), ["ok。"]);
}
