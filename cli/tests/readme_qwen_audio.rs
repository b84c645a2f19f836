//! The README's Qwen-Audio-Realtime Python snippet, run as written — only
//! the port changes — with the pinned `dashscope` SDK against `understudy
//! serve --engine replay`, so the README cannot rot: the snippet must connect
//! (`rt`), and its session then plays the smart-turn scenario over the
//! cassette its header names (`tests/sdk/readme_qwen_audio.py`).

mod support;

use support::{repo, run_harness, Serve};

/// The snippet's first line in the README's SDK code block.
const MARKER: &str = "# dashscope v2 client (Qwen-Audio-Realtime";
/// The address the README's snippets use for a local `serve`.
const README_BASE: &str = "ws://127.0.0.1:8765";

/// The snippet: from [`MARKER`] to the first blank line, inside a ```python block.
fn snippet(readme: &str) -> String {
    let start = readme
        .find(MARKER)
        .unwrap_or_else(|| panic!("README.md has no `{MARKER}` snippet"));
    let fences_before = readme[..start].matches("\n```").count();
    let opening = readme[..start]
        .rfind("\n```")
        .map(|i| &readme[i + 4..])
        .unwrap_or_default();
    assert!(
        fences_before % 2 == 1 && opening.starts_with("python"),
        "the Qwen-Audio snippet is not inside a ```python block"
    );
    let rest = &readme[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    let block_end = rest.find("\n```").unwrap_or(rest.len());
    rest[..end.min(block_end)].to_owned()
}

/// The cassette the snippet's `X-Understudy-Cassette` header names.
fn cassette(snippet: &str) -> String {
    let key = "\"X-Understudy-Cassette\": \"";
    let start = snippet
        .find(key)
        .unwrap_or_else(|| panic!("the snippet sets no cassette header:\n{snippet}"))
        + key.len();
    let len = snippet[start..].find('"').expect("a closing quote");
    snippet[start..start + len].to_owned()
}

#[test]
fn the_readme_qwen_audio_snippet_runs_against_serve() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let snippet = snippet(&readme);
    assert_eq!(
        snippet.matches(README_BASE).count(),
        1,
        "the snippet should name {README_BASE} once:\n{snippet}"
    );
    let cassette = cassette(&snippet);
    let serve = Serve::start(&["--engine", "replay"]);
    let base = serve.url.replacen("http://", "ws://", 1);
    let runnable = snippet.replace(README_BASE, &base);
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("readme_qwen_audio_snippet.py");
    std::fs::write(&file, &runnable).expect("write the snippet");
    let (ok, output) = run_harness(
        "tests/sdk/readme_qwen_audio.py",
        &[file.to_str().expect("a UTF-8 path"), &cassette],
    );
    assert!(ok, "the README snippet failed:\n{runnable}\n---\n{output}");
    assert!(
        output.lines().any(|l| l.starts_with("OK readme")),
        "{output}"
    );
}

#[test]
fn the_snippet_extraction_finds_the_block_and_stops_at_its_end() {
    let readme = "text\n```python\n# other\nx = 1\n\n# dashscope v2 client (Qwen-Audio-Realtime: x)\nrt = Client().audio.realtime.connect(model=\"qwen-audio-3.1-realtime-plus\",\n    headers={\"X-Understudy-Cassette\": \"dashscope/audio-smart-turn\"})\nrt.connect()\n```\nmore\n";
    let got = snippet(readme);
    assert!(
        got.starts_with(MARKER) && got.ends_with("rt.connect()"),
        "{got}"
    );
    assert_eq!(cassette(&got), "dashscope/audio-smart-turn");
}
