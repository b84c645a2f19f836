//! The container image's recipe (`Dockerfile`, `.dockerignore`) and the
//! README's `docker` commands, checked without a container runtime: the
//! stages and base images, a non-root user, that every `COPY` source exists
//! and is not ignored, that the entrypoint's default command and every
//! README `docker run` command are real `understudy` subcommands and flags,
//! and that the binary alone — no source tree, as in the image — serves its
//! bundled cassettes.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::{repo, understudy};

/// One Dockerfile instruction: its keyword (upper case) and the rest.
#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    keyword: String,
    rest: String,
}

/// The instructions of a Dockerfile: comments dropped, `\` continuations joined.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut found = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, rest) = current.split_once(' ').unwrap_or((&current, ""));
                found.push(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    rest: rest.trim().to_owned(),
                });
                current.clear();
            }
        }
    }
    found
}

/// The instructions of each stage (from its `FROM`).
fn stages(all: &[Instruction]) -> Vec<Vec<Instruction>> {
    let mut stages: Vec<Vec<Instruction>> = Vec::new();
    for i in all {
        if i.keyword == "FROM" {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push(i.clone());
        }
    }
    stages
}

fn dockerfile() -> Vec<Instruction> {
    instructions(&std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile"))
}

fn one<'a>(stage: &'a [Instruction], keyword: &str) -> &'a Instruction {
    let mut found = stage.iter().filter(|i| i.keyword == keyword);
    let first = found
        .next()
        .unwrap_or_else(|| panic!("no {keyword} in {stage:?}"));
    assert!(found.next().is_none(), "more than one {keyword}");
    first
}

/// `understudy ARGS --help` succeeds and lists every `--flag` of ARGS.
fn assert_real_command(args: &[String], whence: &str) {
    let subcommands: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .take_while(|a| !a.starts_with('-'))
        .collect();
    let mut help_args = subcommands.clone();
    help_args.push("--help");
    let (code, help, stderr) = understudy(&help_args);
    assert_eq!(
        code,
        0,
        "{whence}: `understudy {}` is not a command: {stderr}",
        subcommands.join(" ")
    );
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        let name = flag.split('=').next().unwrap_or(flag);
        assert!(
            help.contains(&format!("{name} ")),
            "{whence}: `understudy {}` has no {name}",
            subcommands.join(" ")
        );
    }
}

#[test]
fn the_dockerfile_builds_in_a_rust_bookworm_stage_and_runs_on_bookworm_slim() {
    let all = dockerfile();
    let stages = stages(&all);
    assert_eq!(stages.len(), 2, "a builder and a runtime: {stages:?}");
    let arg = all
        .iter()
        .find(|i| i.keyword == "ARG" && i.rest.starts_with("RUST_VERSION="))
        .expect("ARG RUST_VERSION=");
    let rust_version = arg.rest.trim_start_matches("RUST_VERSION=");
    let builder_from = one(&stages[0], "FROM")
        .rest
        .replace("${RUST_VERSION}", rust_version);
    let (image, alias) = builder_from.split_once(" AS ").expect("FROM … AS builder");
    assert!(
        image.starts_with("rust:") && image.ends_with("-bookworm"),
        "{image}"
    );
    assert_eq!(alias, "builder");
    let build = stages[0]
        .iter()
        .find(|i| i.keyword == "RUN" && i.rest.contains("cargo build"))
        .expect("a cargo build");
    assert!(
        build.rest.contains("--release") && build.rest.contains("--locked"),
        "{build:?}"
    );
    let cli = std::fs::read_to_string(repo().join("cli/Cargo.toml")).expect("cli/Cargo.toml");
    assert!(cli.contains("name = \"understudy\"") && build.rest.contains("-p understudy"));
    assert!(
        build.rest.contains("/usr/local/bin/understudy"),
        "the builder puts the binary where the runtime copies it from: {build:?}"
    );
    let runtime = &stages[1];
    assert_eq!(one(runtime, "FROM").rest, "debian:bookworm-slim");
    let copied = runtime
        .iter()
        .find(|i| i.keyword == "COPY" && i.rest.starts_with("--from=builder "))
        .expect("the binary copied from the builder");
    assert_eq!(
        copied.rest,
        "--from=builder /usr/local/bin/understudy /usr/local/bin/understudy"
    );
}

#[test]
fn the_dockerfile_needs_no_frontend_image_from_docker_hub() {
    // A `# syntax=` parser directive makes BuildKit pull that frontend image
    // (docker/dockerfile) before anything else, so the build fails wherever
    // Docker Hub is out of reach even with local base images; the built-in
    // frontend has everything the recipe uses (`RUN --mount=type=cache`).
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let directive = text.lines().find(|l| {
        let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        compact.to_ascii_lowercase().starts_with("#syntax=")
    });
    assert_eq!(
        directive, None,
        "a frontend image is pulled for {directive:?}"
    );
    assert!(
        text.contains("RUN --mount=type=cache"),
        "the cache mounts are what needs BuildKit"
    );
}

#[test]
fn the_image_runs_understudy_as_a_non_root_user() {
    let stages = stages(&dockerfile());
    let runtime = &stages[1];
    let user = one(runtime, "USER").rest.clone();
    let name = user.split(':').next().unwrap_or_default();
    assert!(!matches!(name, "root" | "0" | ""), "USER {user}");
    let created = runtime.iter().any(|i| {
        i.keyword == "RUN"
            && i.rest.contains("useradd")
            && i.rest.contains(&format!("--uid {name}"))
    });
    assert!(created, "USER {user} is created by useradd --uid {name}");
    // The group too: `useradd --user-group` picks a system gid of its own, so
    // `USER 10001:10001` ran with a gid that no group had.
    if let Some(group) = user.split(':').nth(1) {
        let grouped = runtime.iter().any(|i| {
            i.keyword == "RUN"
                && i.rest
                    .contains(&format!("groupadd --system --gid {group} "))
                && i.rest.contains(&format!("--gid {group} --create-home"))
        });
        assert!(
            grouped,
            "USER {user}: group {group} is created and is the user's"
        );
    }
    let user_at = runtime.iter().position(|i| i.keyword == "USER");
    let entry_at = runtime.iter().position(|i| i.keyword == "ENTRYPOINT");
    assert!(user_at < entry_at, "USER comes before ENTRYPOINT");
}

#[test]
fn the_entrypoint_and_default_command_are_real_understudy_commands() {
    let stages = stages(&dockerfile());
    let runtime = &stages[1];
    let entry: Vec<String> =
        serde_json::from_str(&one(runtime, "ENTRYPOINT").rest).expect("ENTRYPOINT in JSON form");
    assert_eq!(entry, ["understudy"]);
    let cmd: Vec<String> =
        serde_json::from_str(&one(runtime, "CMD").rest).expect("CMD in JSON form");
    assert_eq!(cmd, ["serve", "--host", "0.0.0.0"]);
    assert_real_command(&cmd, "CMD");
    // The ports it exposes are the commands' defaults.
    let exposed: Vec<u16> = one(runtime, "EXPOSE")
        .rest
        .split_whitespace()
        .map(|p| p.parse().expect("a port"))
        .collect();
    for (command, port) in [("serve", 8765), ("record", 8766), ("agent", 8767)] {
        let (_, help, _) = understudy(&[command, "--help"]);
        assert!(
            help.contains(&format!("[default: {port}]")),
            "{command}'s default port is not {port}"
        );
        assert!(exposed.contains(&port), "EXPOSE lacks {command}'s {port}");
    }
}

/// The `.dockerignore` patterns, comments and blank lines left out.
fn dockerignore() -> Vec<String> {
    std::fs::read_to_string(repo().join(".dockerignore"))
        .expect(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_copy_source_exists_and_the_context_leaves_out_target() {
    let ignore = dockerignore();
    let patterns: Vec<&str> = ignore.iter().map(String::as_str).collect();
    assert!(patterns.contains(&"target/"), "{patterns:?}");
    for i in dockerfile()
        .iter()
        .filter(|i| i.keyword == "COPY" && !i.rest.starts_with("--from"))
    {
        let parts: Vec<&str> = i.rest.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            if *source == "." {
                continue;
            }
            assert!(
                repo().join(source).exists(),
                "COPY {source}: not in the repository"
            );
            let first = source.split('/').next().unwrap_or_default();
            assert!(
                !patterns
                    .iter()
                    .any(|p| p.trim_end_matches('/') == first || p == source),
                "COPY {source} is excluded by .dockerignore"
            );
        }
    }
}

/// `name` matches the glob segment `pattern` (`*` any run, `?` one character).
fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&pattern[1..], name)
                || (!name.is_empty() && segment_matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => segment_matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// `path` (segments) matches the pattern (segments), `**` standing for any
/// number of segments, as Docker reads a `.dockerignore` line.
fn path_matches(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| path_matches(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((name, tail)) => {
                segment_matches(first.as_bytes(), name.as_bytes()) && path_matches(rest, tail)
            }
            None => false,
        },
    }
}

/// The repository-relative path is left out of the build context: it or a
/// folder above it matches one of the patterns.
fn dockerignored(patterns: &[&str], relative: &str) -> bool {
    let path: Vec<&str> = relative.split('/').collect();
    patterns.iter().any(|p| {
        let pattern: Vec<&str> = p.trim_matches('/').split('/').collect();
        (1..=path.len()).any(|n| path_matches(&pattern, &path[..n]))
    })
}

/// Every file under `dir` (repository-relative), skipping the root's
/// `target` and `.git` (build output and history, not sources).
fn source_files(dir: &std::path::Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        let relative = path
            .strip_prefix(repo())
            .expect("under the repository")
            .to_string_lossy()
            .replace('\\', "/");
        if matches!(relative.as_str(), "target" | ".git") {
            continue;
        }
        if path.is_dir() {
            source_files(&path, found);
        } else {
            found.push(relative);
        }
    }
}

#[test]
fn the_build_context_keeps_every_source_file() {
    // `**/target/` once dropped conformance/src/target/ (a module) from the
    // context, and the image's `cargo build` failed with E0583.
    let ignore = dockerignore();
    let patterns: Vec<&str> = ignore.iter().map(String::as_str).collect();
    assert!(
        patterns.iter().all(|p| !p.starts_with('!')),
        "the matcher here has no exceptions: {patterns:?}"
    );
    let mut files = Vec::new();
    source_files(&repo(), &mut files);
    let needed: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".rs") || f.ends_with("Cargo.toml") || *f == "Cargo.lock")
        .collect();
    assert!(
        needed.iter().any(|f| *f == "conformance/src/target/mod.rs"),
        "the walk sees the sources"
    );
    let dropped: Vec<&&String> = needed
        .iter()
        .filter(|f| dockerignored(&patterns, f))
        .collect();
    assert!(
        dropped.is_empty(),
        ".dockerignore drops sources: {dropped:?}"
    );
    // The matcher itself: what the recipe means to leave out is left out.
    for (pattern, path, expected) in [
        ("target/", "target/release/understudy", true),
        ("*/target/", "cli/target/debug/x", true),
        ("*/target/", "conformance/src/target/mod.rs", false),
        ("**/target/", "conformance/src/target/mod.rs", true),
        ("**/__pycache__/", "tests/sdk/__pycache__/a.pyc", true),
        ("*.pyc", "a.pyc", true),
        ("*.pyc", "tests/a.pyc", false),
        (".venv*/", ".venv-sdk/bin/python", true),
    ] {
        assert_eq!(
            dockerignored(&[pattern], path),
            expected,
            "{pattern} {path}"
        );
    }
}

#[test]
fn the_readme_docker_commands_are_real_commands() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let runs: Vec<&str> = readme
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("docker run "))
        .collect();
    assert!(
        runs.len() >= 2,
        "README shows how to run the image: {runs:?}"
    );
    assert!(
        readme
            .lines()
            .any(|l| l.trim().starts_with("docker build -t understudy .")),
        "README shows how to build the image"
    );
    for line in runs {
        let command = line.split(" #").next().unwrap_or(line);
        let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        let image = words
            .iter()
            .position(|w| w == "understudy")
            .unwrap_or_else(|| panic!("no image name in {line:?}"));
        let args = &words[image + 1..];
        if !args.is_empty() {
            assert_real_command(args, line);
        }
    }
}

#[test]
fn the_binary_alone_serves_its_bundled_cassettes() {
    // As in the image: the binary copied out, run from an empty folder with
    // no source tree and a bare environment.
    let dir = tempfile::tempdir().expect("a temp dir");
    let bin = dir.path().join("understudy");
    std::fs::copy(env!("CARGO_BIN_EXE_understudy"), &bin).expect("copy the binary");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("a work dir");
    let list = Command::new(&bin)
        .args(["fixtures", "list"])
        .current_dir(&work)
        .env_clear()
        .output()
        .expect("fixtures list");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.status.success() && listed.contains("openai/ga-text-turn"),
        "{listed}"
    );
    let mut serve = Command::new(&bin)
        .args([
            "serve", "--host", "0.0.0.0", "--port", "0", "--engine", "replay",
        ])
        .current_dir(&work)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(serve.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the serving line");
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        line.starts_with("understudy serving on http://0.0.0.0:"),
        "{line:?}"
    );
}

#[test]
fn the_parser_joins_continuations_and_skips_comments() {
    let parsed = instructions("# c\nFROM a AS b\nRUN x \\\n    && y\n\nCMD [\"z\"]\n");
    let keywords: Vec<&str> = parsed.iter().map(|i| i.keyword.as_str()).collect();
    assert_eq!(keywords, ["FROM", "RUN", "CMD"]);
    assert_eq!(parsed[1].rest, "x  && y");
}
