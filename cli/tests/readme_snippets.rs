//! The README's snippets and sample outputs, checked against the code and the
//! tool so the README cannot rot:
//!
//! - the Rust "In-process, from Rust tests" snippet is, line for line, the
//!   crate example of `understudy-mock` (run by `cargo test` as a doctest with
//!   a timeout);
//! - the official-SDK Python snippets run as written, in order, against
//!   `understudy serve` (only the addresses change), each checked by
//!   `tests/sdk/readme_snippets.py` (Qwen-Audio's runs under replay in
//!   `readme_qwen_audio.rs`);
//! - the conformance sample's case count is what `conform --list` lists, and
//!   the sample `record` line has the shape `record` prints.

mod support;

use support::{repo, run_harness, understudy, Serve};

/// The first line of the README's official-SDK Python block.
const PYTHON_BLOCK_MARKER: &str = "# openai (GA;";
/// The snippet tested on its own, under replay (`readme_qwen_audio.rs`).
const QWEN_AUDIO_MARKER: &str = "# dashscope v2 client (Qwen-Audio-Realtime";
/// The README's heading above the in-process Rust snippet.
const RUST_HEADING: &str = "### In-process, from Rust tests";

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).expect("README.md")
}

/// The body of the fenced block (` ```lang `) that follows `after` in `text`.
fn fenced_after<'a>(text: &'a str, after: &str, lang: &str) -> &'a str {
    let at = text
        .find(after)
        .unwrap_or_else(|| panic!("README.md has no {after:?}"));
    let open = format!("```{lang}\n");
    let start = at + text[at..].find(&open).expect("an opening fence") + open.len();
    let len = text[start..].find("```").expect("a closing fence");
    &text[start..start + len]
}

/// The body of the ```python block that contains `marker`.
fn python_block<'a>(text: &'a str, marker: &str) -> &'a str {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("README.md has no {marker:?}"));
    let start = text[..at]
        .rfind("```python\n")
        .expect("inside a ```python block")
        + 10;
    let len = text[start..].find("\n```").expect("a closing fence") + 1;
    &text[start..start + len]
}

/// The snippets of a block: runs of lines separated by blank lines.
fn snippets(block: &str) -> Vec<String> {
    block
        .split("\n\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The example in `mock-providers/src/lib.rs`'s crate docs, without its
/// hidden (`# `) lines.
fn mock_crate_example() -> String {
    let lib = std::fs::read_to_string(repo().join("mock-providers/src/lib.rs")).expect("lib.rs");
    let docs: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let start = docs.find("```\n").expect("a doc example") + 4;
    let len = docs[start..].find("```\n").expect("its end");
    docs[start..start + len]
        .lines()
        .filter(|l| !(l.starts_with("# ") || *l == "#"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn the_in_process_snippet_is_the_mock_crate_doctest() {
    let readme = readme();
    let snippet = fenced_after(&readme, RUST_HEADING, "rust");
    let example = mock_crate_example();
    assert!(
        snippet.contains("gpt.send(") && snippet.contains("break"),
        "the snippet must send a turn and end:\n{snippet}"
    );
    assert_eq!(
        snippet, example,
        "README's in-process snippet and understudy-mock's crate example differ"
    );
}

#[test]
fn the_readme_python_snippets_run_against_serve() {
    let readme = readme();
    let block = python_block(&readme, PYTHON_BLOCK_MARKER);
    let run: Vec<String> = snippets(block)
        .into_iter()
        .filter(|s| !s.starts_with(QWEN_AUDIO_MARKER))
        .collect();
    assert!(run.len() >= 6, "expected the SDK snippets, got {run:#?}");
    let dir = tempfile::tempdir().expect("a temp dir");
    let ca = dir.path().join("ca.pem");
    let serve = Serve::start(&["--tls-port", "0", "--ca-file", ca.to_str().expect("UTF-8")]);
    let http = serve.url.clone();
    let ws = http.replacen("http://", "ws://", 1);
    let https = serve.tls_url.clone().expect("the TLS address");
    let mut files = Vec::new();
    for (i, snippet) in run.iter().enumerate() {
        let runnable = snippet
            .replace("http://127.0.0.1:8765", &http)
            .replace("ws://127.0.0.1:8765", &ws)
            .replace("https://127.0.0.1:8443", &https);
        assert!(
            !runnable.contains(":8765") && !runnable.contains(":8443"),
            "a README address the test does not map:\n{snippet}"
        );
        let file = dir.path().join(format!("snippet_{i:02}.py"));
        std::fs::write(&file, runnable).expect("write a snippet");
        files.push(file.display().to_string());
    }
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    std::env::set_var("SSL_CERT_FILE", &ca);
    std::env::remove_var("DASHSCOPE_API_KEY");
    let (ok, output) = run_harness("tests/sdk/readme_snippets.py", &args);
    assert!(ok, "a README snippet failed:\n{output}");
    let last = output.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!("OK readme-snippets {}", run.len()),
        "{output}"
    );
    eprintln!("{output}");
}

#[test]
fn the_readme_case_count_is_what_conform_lists() {
    let (code, stdout, stderr) = understudy(&["conform", "--list"]);
    assert_eq!(code, 0, "{stderr}");
    let listed = stdout.lines().filter(|l| !l.trim().is_empty()).count();
    let readme = readme();
    let header = "understudy conformance — ";
    let at = readme.find(header).expect("the sample's header") + header.len();
    let count: usize = readme[at..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a case count after the header");
    assert_eq!(
        count, listed,
        "README says {count} cases, --list lists {listed}"
    );
    // The sample's closing counts add up to the same number.
    let summary = readme
        .lines()
        .find(|l| l.contains(" OK, ") && l.contains(" FAILED"))
        .expect("the sample's summary line");
    let total: usize = summary
        .split(", ")
        .filter_map(|part| part.split_whitespace().next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(
        total, listed,
        "the summary {summary:?} does not add up to {listed}"
    );
    // And so does the progress line's denominator.
    let progress = format!("/{listed}] running");
    assert!(
        readme.contains(&progress),
        "README's progress line is not [N/{listed}]"
    );
}

#[test]
fn the_snippet_extraction_splits_on_blank_lines_inside_the_block() {
    let text = "x\n```python\n# openai (GA; a)\nimport a\n\n# b\nb = 1\n```\n";
    let block = python_block(text, PYTHON_BLOCK_MARKER);
    assert_eq!(
        snippets(block),
        vec!["# openai (GA; a)\nimport a", "# b\nb = 1"]
    );
    let text = "## h\n### In-process, from Rust tests\n\n```rust\nlet a = 1;\n```\n";
    assert_eq!(fenced_after(text, RUST_HEADING, "rust"), "let a = 1;\n");
}

#[test]
fn the_readme_record_sample_is_what_record_prints() {
    use understudy_recorder::{LatencySummary, SessionSummary};
    // The README's sample session, as the recorder summarises it.
    let summary = SessionSummary {
        cassette: Some("openai-ga-001.jsonl".into()),
        dialect: "openai-ga".into(),
        model: "gpt-realtime".into(),
        complete: true,
        incomplete_reason: None,
        duration_ms: 2_200.0,
        frames_c2s: 5,
        frames_s2c: 57,
        scrubbed: Vec::new(),
        added_latency: Some(LatencySummary {
            frames: 60,
            p50_us: 46.0,
            p99_us: 140.0,
            max_us: 300.0,
            mean_us: 60.0,
        }),
        write_error: None,
    };
    let readme = readme();
    let sample = fenced_after(&readme, "## Recording new cassettes", "sh");
    assert!(
        sample.contains(&format!("#   {}\n", summary.line())),
        "README's sample `recorded` line is not what record prints:\n  {}\n{sample}",
        summary.line()
    );
    assert!(
        sample.contains("#   understudy recording on http://127.0.0.1:8766 "),
        "README's banner is not record's (default port 8766):\n{sample}"
    );
    let (code, help, _) = understudy(&["record", "--help"]);
    assert_eq!(code, 0);
    assert!(help.contains("[default: 8766]"), "{help}");
}
