//! The content filter over a corpus of assistant replies written the way LLMs
//! write them (`tests/data/assistant-replies/*.md`): code answers with prose
//! around them, tables, step lists, links, bare URLs, headings, emphasis,
//! emoji, HTML, Chinese and Japanese replies.
//!
//! Each reply's first line is a metadata comment, removed before filtering:
//! `<!-- keep: w1,w2 drop: t1,t2 -->`, prose words that must be spoken and
//! extra tokens that must not. Beyond those, tokens that only occur inside the
//! reply's fenced code blocks or tables are derived mechanically and must be
//! absent from the spoken text, and no markup character may survive.
//!
//! Set `CORPUS_PRINT=1` to print every reply's spoken text and units.

use std::collections::BTreeSet;
use std::path::PathBuf;
use understudy_adapters::text::{ContentFilter, FilterPolicy, Segmenter, SegmenterConfig};

struct Reply {
    name: String,
    text: String,
    keep: Vec<String>,
    drop: Vec<String>,
}

fn corpus() -> Vec<Reply> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/assistant-replies");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let raw = std::fs::read_to_string(&path).expect("read reply");
            let (meta, text) = raw.split_once('\n').expect("metadata line");
            let meta = meta
                .strip_prefix("<!--")
                .and_then(|m| m.strip_suffix("-->"))
                .expect("metadata comment");
            let list = |key: &str| -> Vec<String> {
                meta.split(key)
                    .nth(1)
                    .map(|rest| rest.split_whitespace().next().unwrap_or(""))
                    .unwrap_or("")
                    .split(',')
                    .filter(|w| !w.is_empty() && !w.ends_with(':'))
                    .map(String::from)
                    .collect()
            };
            Reply {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                text: text.to_string(),
                keep: list("keep:"),
                drop: list("drop:"),
            }
        })
        .collect()
}

/// Splits into LLM-token-sized deltas (1 to 16 chars, pseudo-random but fixed
/// per seed), cutting anywhere, CJK and emoji sequences included.
fn deltas(text: &str, seed: u64) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let size = 1 + ((state >> 33) % 16) as usize;
        let end = (at + size).min(chars.len());
        out.push(chars[at..end].iter().collect());
        at = end;
    }
    out
}

fn speak(text: &str, seed: u64) -> String {
    let mut filter = ContentFilter::new(FilterPolicy::default());
    let mut spoken: String = deltas(text, seed).iter().map(|d| filter.push(d)).collect();
    spoken += &filter.finish();
    spoken
}

fn identifiers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 4 && w.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(String::from)
        .collect()
}

/// The reply's lines inside fenced code blocks and tables, and all other lines.
fn split_code_and_prose(text: &str) -> (String, String) {
    let mut code = String::new();
    let mut prose = String::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match &fence {
            Some(f) => {
                if trimmed.starts_with(f.as_str())
                    && trimmed.trim_start_matches(f.as_str()).trim().is_empty()
                {
                    fence = None;
                } else {
                    code += line;
                    code.push('\n');
                }
            }
            None if trimmed.starts_with("```") || trimmed.starts_with("~~~") => {
                let mark = trimmed.chars().next().unwrap_or('`');
                let len = trimmed.chars().take_while(|&c| c == mark).count();
                fence = Some(mark.to_string().repeat(len));
            }
            None if trimmed.starts_with('|') => {
                code += line;
                code.push('\n');
            }
            None => {
                prose += line;
                prose.push('\n');
            }
        }
    }
    (code, prose)
}

/// Contents of the inline code spans outside code blocks: kept verbatim by
/// default, so their characters are allowed in the spoken text.
fn inline_code_contents(prose: &str) -> Vec<String> {
    let mut spans = Vec::new();
    for line in prose.lines() {
        let mut parts = line.split('`');
        parts.next();
        while let (Some(inside), Some(_)) = (parts.next(), parts.next()) {
            if !inside.trim().is_empty() {
                spans.push(inside.trim().to_string());
            }
        }
    }
    spans.sort_by_key(|s| std::cmp::Reverse(s.len()));
    spans
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0xFE0F | 0x2B50 | 0x2B55 | 0x203C | 0x2049)
}

const TAGS: &[&str] = &[
    "b", "i", "br", "kbd", "div", "span", "details", "summary", "p", "sup", "a", "img", "em",
    "strong",
];

/// Everything wrong with `spoken` as speech: markup that survived.
fn markup_problems(spoken: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for bad in [
        "`", "|", "#", "~~", "](", "![", "http://", "https://", "www.", "<!--", "</",
    ] {
        if spoken.contains(bad) {
            problems.push(format!("contains {bad:?}"));
        }
    }
    let chars: Vec<char> = spoken.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        match c {
            '*' => {
                let arithmetic = (prev.is_whitespace() && next.is_whitespace())
                    || (prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric());
                if !arithmetic {
                    problems.push(format!("emphasis star at char {i}"));
                }
            }
            '_' if !(prev.is_alphanumeric() && next.is_alphanumeric()) => {
                problems.push(format!("underscore at word edge at char {i}"));
            }
            '<' => {
                let rest: String = chars[i + 1..].iter().take(12).collect();
                let rest = rest.to_ascii_lowercase();
                for tag in TAGS {
                    if rest.starts_with(tag) && rest[tag.len()..].starts_with([' ', '>', '/']) {
                        problems.push(format!("html tag <{tag} at char {i}"));
                    }
                }
            }
            c if is_emoji(c) => problems.push(format!("emoji {c:?} at char {i}")),
            _ => {}
        }
    }
    problems
}

#[test]
fn corpus_has_enough_replies() {
    assert!(
        corpus().len() >= 50,
        "corpus has {} replies",
        corpus().len()
    );
}

#[test]
fn spoken_corpus_has_no_code_markup_urls_or_emoji_and_keeps_the_prose() {
    let print = std::env::var_os("CORPUS_PRINT").is_some();
    let mut failures = Vec::new();
    for (index, reply) in corpus().iter().enumerate() {
        let spoken = speak(&reply.text, index as u64);
        // Split independence on real text, with a second delta pattern.
        assert_eq!(
            speak(&reply.text, 1000 + index as u64),
            spoken,
            "{}",
            reply.name
        );
        let (code, prose) = split_code_and_prose(&reply.text);
        let code_only: BTreeSet<String> = identifiers(&code)
            .difference(&identifiers(&prose))
            .cloned()
            .collect();
        let spoken_words = identifiers(&spoken);
        let mut problems: Vec<String> = code_only
            .intersection(&spoken_words)
            .map(|w| format!("code token {w:?} spoken"))
            .collect();
        let mut checked = spoken.clone();
        for span in inline_code_contents(&prose) {
            checked = checked.replace(&span, " ");
        }
        problems.extend(markup_problems(&checked));
        let spoken_lower = spoken.to_lowercase();
        for word in &reply.keep {
            if !spoken_lower.contains(&word.to_lowercase()) {
                problems.push(format!("prose word {word:?} missing"));
            }
        }
        for word in &reply.drop {
            let present = if word.is_ascii() {
                spoken_words.contains(word)
            } else {
                spoken.contains(word.as_str())
            };
            if present {
                problems.push(format!("dropped token {word:?} spoken"));
            }
        }
        if print {
            let mut seg = Segmenter::new(SegmenterConfig::default());
            let mut units = seg.push(&spoken);
            units.extend(seg.finish());
            println!("=== {}\n{spoken}\n--- units: {units:#?}", reply.name);
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{spoken}", reply.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn corpus_segments_into_trimmed_non_empty_units() {
    for (index, reply) in corpus().iter().enumerate() {
        let spoken = speak(&reply.text, index as u64);
        let mut seg = Segmenter::new(SegmenterConfig::default());
        let mut units: Vec<String> = deltas(&spoken, index as u64)
            .iter()
            .flat_map(|d| seg.push(d))
            .collect();
        units.extend(seg.finish());
        assert!(!units.is_empty(), "{}", reply.name);
        for unit in &units {
            assert!(
                !unit.is_empty() && unit.trim() == unit,
                "{}: {unit:?}",
                reply.name
            );
        }
        let mut whole = Segmenter::new(SegmenterConfig::default());
        let mut whole_units = whole.push(&spoken);
        whole_units.extend(whole.finish());
        assert_eq!(units, whole_units, "{}", reply.name);
    }
}
