//! The CI recipe: the composite action (`action.yml`), the example workflow
//! (`.github/workflows/understudy.yml`), the README's job and
//! `scripts/ci-recipe.sh`, which the action runs and other CI systems run as
//! is. The YAML files are parsed (PyYAML from the SDK virtualenv), their
//! inputs and the flags they pass are checked against the action and against
//! `understudy conform --help`, and the script is run against the built binary
//! (`UNDERSTUDY_BIN`, so it installs nothing) for its reports and summary.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{python, repo, understudy};

const SCRIPT: &str = "scripts/ci-recipe.sh";

/// A YAML file parsed by PyYAML, as JSON.
fn yaml(text: &str) -> Value {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run PyYAML");
    assert!(
        out.status.success(),
        "not valid YAML:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("PyYAML's JSON")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `--flag` in `text` (a flag: `--` then lowercase letters and dashes).
fn flags(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("--") {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        if !name.is_empty() {
            found.insert(format!("--{name}"));
        }
    }
    found
}

/// Every `inputs.NAME` referenced in `text`.
fn input_refs(text: &str) -> BTreeSet<String> {
    text.match_indices("inputs.")
        .map(|(i, _)| {
            text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

fn action_inputs(action: &Value) -> BTreeSet<String> {
    action["inputs"]
        .as_object()
        .expect("the action declares inputs")
        .keys()
        .cloned()
        .collect()
}

/// The steps of every job of a workflow that use the action (`uses: ./` or
/// `OWNER/understudy@REF`): their `with` keys.
fn uses_of_the_action(workflow: &Value) -> Vec<BTreeSet<String>> {
    let mut found = Vec::new();
    for job in workflow["jobs"].as_object().expect("jobs").values() {
        for step in job["steps"].as_array().expect("steps") {
            let uses = step["uses"].as_str().unwrap_or_default();
            if uses == "./" || uses.contains("/understudy@") {
                let with = step["with"]
                    .as_object()
                    .map(|w| w.keys().cloned().collect())
                    .unwrap_or_default();
                found.push(with);
            }
        }
    }
    found
}

#[test]
fn the_action_is_a_composite_that_runs_the_recipe_and_uploads_the_reports() {
    let text = read("action.yml");
    let action = yaml(&text);
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().expect("steps");
    for step in steps {
        if step.get("run").is_some() {
            assert_eq!(
                step["shell"], "bash",
                "a composite run step needs a shell: {step}"
            );
        }
    }
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH/cli\"")),
        "the action installs understudy from its own checkout: {runs:?}"
    );
    assert!(
        runs.iter()
            .any(|r| r.contains("$GITHUB_ACTION_PATH/scripts/ci-recipe.sh")),
        "the action runs the recipe script: {runs:?}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@v"))
        })
        .expect("an upload-artifact step");
    assert_eq!(
        upload["if"], "always()",
        "reports are uploaded when the run fails too"
    );
    let path = upload["with"]["path"].as_str().expect("a path");
    assert!(path.contains(".html") && path.contains(".xml"), "{path}");
    // Every input is used, and nothing uses an input that is not declared.
    let declared = action_inputs(&action);
    let used = input_refs(&serde_json::to_string(&action["runs"]).expect("JSON"));
    let outputs = input_refs(&serde_json::to_string(&action["outputs"]).expect("JSON"));
    let referenced: BTreeSet<String> = used.union(&outputs).cloned().collect();
    assert_eq!(
        declared, referenced,
        "declared inputs vs the ones the steps use"
    );
    // Every setting the action passes is one the script reads.
    let script = read(SCRIPT);
    let conform = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("ci-recipe.sh"))
        })
        .expect("the recipe step");
    for name in conform["env"].as_object().expect("env").keys() {
        assert!(
            script.contains(&format!("${{{name}")),
            "the action sets {name}, which {SCRIPT} does not read"
        );
    }
}

#[test]
fn the_workflows_pass_only_inputs_the_action_declares() {
    let action = yaml(&read("action.yml"));
    let declared = action_inputs(&action);
    let workflow = yaml(&read(".github/workflows/understudy.yml"));
    // PyYAML reads the bare key `on` as a boolean (YAML 1.1).
    let on = workflow.get("on").or_else(|| workflow.get("true"));
    assert!(
        on.and_then(|o| o.get("pull_request")).is_some(),
        "the workflow runs on pull requests: {workflow}"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let at = readme.find("## Conformance in CI").expect("the CI section");
    let start = at + readme[at..].find("```yaml\n").expect("a yaml block") + 8;
    let len = readme[start..].find("```").expect("its end");
    let readme_job = yaml(&readme[start..start + len]);
    for (name, doc) in [
        ("the example workflow", &workflow),
        ("README's job", &readme_job),
    ] {
        let uses = uses_of_the_action(doc);
        assert_eq!(uses.len(), 1, "{name} uses the action once: {doc}");
        for key in &uses[0] {
            assert!(
                declared.contains(key),
                "{name} passes `{key}`, not an input of action.yml"
            );
        }
    }
}

#[test]
fn every_flag_the_recipe_passes_exists() {
    let script = read(SCRIPT);
    let (code, help, stderr) = understudy(&["conform", "--help"]);
    assert_eq!(code, 0, "{stderr}");
    let conform_lines: String = script
        .lines()
        .filter(|l| l.contains("args+=(") || l.trim_start().starts_with("run "))
        .map(|l| format!("{l}\n"))
        .collect();
    let conform_flags = flags(&conform_lines);
    assert!(
        conform_flags.contains("--report") && conform_flags.contains("--baseline"),
        "{conform_flags:?}"
    );
    for flag in &conform_flags {
        assert!(
            help.contains(&format!("{flag} ")),
            "{SCRIPT} passes {flag}, which `understudy conform --help` does not list"
        );
    }
    let install_lines: String = script
        .lines()
        .filter(|l| l.contains("cargo install"))
        .map(|l| format!("{l}\n"))
        .collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["install", "--help"])
        .output()
        .expect("cargo install --help");
    let cargo_help = String::from_utf8_lossy(&out.stdout);
    for flag in flags(&install_lines) {
        assert!(cargo_help.contains(&flag), "cargo install has no {flag}");
    }
    let expected: BTreeSet<String> = ["--b", "--f-g"].iter().map(|s| s.to_string()).collect();
    assert_eq!(flags("a --b c--d -e --f-g"), expected);
}

/// Runs the recipe in `dir` with `env`; its exit code and output.
fn recipe(dir: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new("bash");
    command
        .arg(repo().join(SCRIPT))
        .current_dir(dir)
        .env("UNDERSTUDY_BIN", env!("CARGO_BIN_EXE_understudy"))
        .env_remove("GITHUB_STEP_SUMMARY");
    for name in [
        "UNDERSTUDY_BUNDLED",
        "UNDERSTUDY_BASELINE",
        "UNDERSTUDY_CASSETTES",
        "UNDERSTUDY_FILTER",
        "UNDERSTUDY_OUT",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let out = command.output().expect("run the recipe");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Writes a baseline for `filter` with the built binary.
fn baseline(dir: &Path, filter: &str) -> std::path::PathBuf {
    let file = dir.join("baseline.json");
    let (code, _, stderr) = understudy(&[
        "conform",
        "--filter",
        filter,
        "--write-baseline",
        file.to_str().expect("UTF-8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    file
}

#[test]
fn the_recipe_writes_the_reports_junit_and_the_summary() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let filter = "openai.ga.text.turn";
    let base = baseline(dir.path(), filter);
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "# earlier steps\n").expect("a summary file");
    let (code, output) = recipe(
        dir.path(),
        &[
            ("UNDERSTUDY_FILTER", filter),
            ("UNDERSTUDY_BASELINE", base.to_str().expect("UTF-8")),
            ("UNDERSTUDY_OUT", "out"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("UTF-8")),
        ],
    );
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("0 regression(s)"),
        "the baseline was compared:\n{output}"
    );
    let out = dir.path().join("out");
    let html = std::fs::read_to_string(out.join("bundled.html")).expect("the HTML report");
    assert!(
        html.contains("<html") && html.contains(filter),
        "{html:.300}"
    );
    let junit = std::fs::read_to_string(out.join("bundled.xml")).expect("the JUnit report");
    assert!(
        junit.contains("<testsuite") && junit.contains(filter),
        "{junit}"
    );
    let md = std::fs::read_to_string(out.join("bundled.md")).expect("the Markdown report");
    assert!(
        md.contains("understudy conformance: passed (1 cases)"),
        "{md}"
    );
    let step = std::fs::read_to_string(&summary).expect("the step summary");
    assert!(
        step.starts_with("# earlier steps\n") && step.contains(&md),
        "the summary is appended to $GITHUB_STEP_SUMMARY:\n{step}"
    );
    assert!(
        !out.join("cassettes.md").exists(),
        "no cassettes, no cassette run"
    );
}

#[test]
fn a_regression_fails_the_recipe_and_still_writes_the_reports() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let filter = "openai.ga.text.turn";
    let base = baseline(dir.path(), filter);
    let text = std::fs::read_to_string(&base).expect("the baseline");
    let digest = text.find("sha256:").expect("a digest") + 7;
    let tampered = format!(
        "{}{}",
        &text[..digest],
        &text[digest..].replacen(char::is_alphanumeric, "0", 8)
    );
    assert_ne!(tampered, text);
    std::fs::write(&base, tampered).expect("tamper");
    let (code, output) = recipe(
        dir.path(),
        &[
            ("UNDERSTUDY_FILTER", filter),
            ("UNDERSTUDY_BASELINE", base.to_str().expect("UTF-8")),
        ],
    );
    assert_ne!(code, 0, "a regression must fail the recipe:\n{output}");
    assert!(output.contains("the bundled run failed"), "{output}");
    let out = dir.path().join("understudy-report");
    for file in ["bundled.html", "bundled.xml", "bundled.md", "summary.md"] {
        assert!(
            out.join(file).exists(),
            "{file} missing after a failed run:\n{output}"
        );
    }
}

#[test]
fn the_recipe_grades_your_cassettes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cassettes = repo().join("fixtures/cassettes/openai/ga-text-turn.jsonl");
    let (code, output) = recipe(
        dir.path(),
        &[
            ("UNDERSTUDY_BUNDLED", "false"),
            ("UNDERSTUDY_CASSETTES", cassettes.to_str().expect("UTF-8")),
        ],
    );
    assert_eq!(code, 0, "{output}");
    let out = dir.path().join("understudy-report");
    let junit = std::fs::read_to_string(out.join("cassettes.xml")).expect("JUnit");
    assert!(junit.contains("cassette.ga-text-turn."), "{junit}");
    assert!(
        !out.join("bundled.xml").exists(),
        "the bundled run was switched off"
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary");
    assert!(
        summary.contains("understudy conformance: passed"),
        "{summary}"
    );
}

#[test]
fn the_recipe_refuses_bad_settings() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (code, output) = recipe(dir.path(), &[("UNDERSTUDY_BUNDLED", "maybe")]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("must be true or false"), "{output}");
    let (code, output) = recipe(dir.path(), &[("UNDERSTUDY_BUNDLED", "false")]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("nothing to run"), "{output}");
    let (code, output) = recipe(dir.path(), &[("UNDERSTUDY_BIN", "/nonexistent/understudy")]);
    assert_eq!(code, 1, "{output}");
}
