//! `conform`'s reports and baselines as a user runs them: several reports in
//! one run, a baseline written and compared (clean, with a planted regression,
//! with an improvement alone), and every `conform` command the README shows
//! accepted by the command line.

use serde_json::Value;
use std::path::Path;

mod support;
use support::understudy;

/// A quick filtered run: three OpenAI GA cases at speed 4.
const FILTER: &str = "openai.ga.t";

fn conform(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["conform", "--speed", "4", "--filter", FILTER];
    args.extend_from_slice(extra);
    understudy(&args)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).expect("json")).expect("write");
}

#[test]
fn a_baseline_round_trip_passes_clean_fails_on_a_planted_regression_and_not_on_an_improvement() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.json");
    let base_arg = base.to_str().unwrap();

    // Write.
    let (code, stdout, stderr) = conform(&["--write-baseline", base_arg]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("baseline written to"), "{stdout}");
    let written = read_json(&base);
    let cases = written["cases"].as_object().expect("cases");
    let ids: Vec<&String> = cases.keys().collect();
    assert_eq!(
        ids,
        [
            "openai.ga.text.turn",
            "openai.ga.tool.round-trip",
            "openai.ga.tool.spoken-round-trip"
        ]
    );
    for (id, expected) in cases {
        assert_eq!(expected["grade"], "OK", "{id}");
        assert!(expected["events"].as_str().unwrap().starts_with("sha256:"));
    }
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(!text.contains("ms") && !text.contains("duration"), "{text}");

    // Compare clean, writing three reports in the same run.
    let html = dir.path().join("out/r.html");
    let junit = dir.path().join("r.xml");
    let (code, stdout, stderr) = conform(&[
        "--baseline",
        base_arg,
        "--report",
        &format!("html={}", html.display()),
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        "markdown=-",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("## understudy conformance: passed (3 cases)"),
        "the Markdown report alone on stdout: {stdout}"
    );
    assert!(
        stderr.contains("baseline: 0 regression(s), 0 improvement(s), 3 unchanged"),
        "{stderr}"
    );
    assert!(stderr.contains("report written to"), "{stderr}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg class=\"cdf\"") && page.contains("openai.ga.tool.round-trip"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<property name=\"response.1.ttfb_ms\""),
        "{xml}"
    );

    // A planted regression: one case's events expected different, one case
    // the run no longer produces.
    let mut planted = written.clone();
    planted["cases"]["openai.ga.tool.round-trip"]["events"] =
        Value::from(format!("sha256:{}", "0".repeat(64)));
    planted["cases"]["openai.ga.text.vanished"] = serde_json::json!({"grade": "OK"});
    let regressed = dir.path().join("regressed.json");
    write_json(&regressed, &planted);
    let (code, stdout, stderr) = conform(&["--baseline", regressed.to_str().unwrap()]);
    assert_eq!(code, 1, "a regression fails the run: {stdout}{stderr}");
    assert!(stdout.contains("baseline: 2 regression(s)"), "{stdout}");
    assert!(
        stdout
            .contains("REGRESSION   openai.ga.text.vanished: missing from this run (expected OK)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "REGRESSION   openai.ga.tool.round-trip: normalised events changed (000000000000 → "
        ),
        "{stdout}"
    );

    // Improvements alone: a case expected FAILED now passes, a case the
    // baseline does not know appears.
    let mut better = written.clone();
    better["cases"]["openai.ga.text.turn"]["grade"] = Value::from("FAILED");
    better["cases"]
        .as_object_mut()
        .unwrap()
        .remove("openai.ga.tool.spoken-round-trip");
    let improved = dir.path().join("improved.json");
    write_json(&improved, &better);
    let (code, stdout, stderr) = conform(&["--baseline", improved.to_str().unwrap()]);
    assert_eq!(code, 0, "improvements alone pass: {stdout}{stderr}");
    assert!(
        stdout.contains("0 regression(s), 2 improvement(s), 1 unchanged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("IMPROVEMENT  openai.ga.text.turn: FAILED → OK"),
        "{stdout}"
    );
    assert!(
        stdout.contains("IMPROVEMENT  openai.ga.tool.spoken-round-trip: new case, OK"),
        "{stdout}"
    );
}

#[test]
fn bad_report_and_baseline_arguments_are_clear_errors() {
    let (code, _, stderr) = understudy(&["conform", "--report", "pdf=r.pdf", "--list"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown report format \"pdf\""), "{stderr}");
    let (code, _, stderr) = understudy(&["conform", "--report", "html", "--list"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("expected FORMAT=PATH"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"tool\": \"understudy\"").unwrap();
    let (code, stdout, stderr) = conform(&["--baseline", broken.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not a baseline file"), "{stderr}");
    assert!(!stdout.contains("OK"), "refused before the run: {stdout}");
    let (code, _, stderr) = conform(&["--report", "json=-", "--report", "markdown=-"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("more than one report asks for standard output"),
        "{stderr}"
    );
}

/// The arguments of every `conform` command in the README's code blocks
/// (`understudy conform …` or `cargo run … -- conform …`, `\` continuations
/// joined, stopping at a redirection or pipe).
fn readme_conform_commands() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let mut commands = Vec::new();
    let mut in_code = false;
    let mut joined = String::new();
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let line = line.split(" #").next().unwrap_or("");
        joined.push_str(line.trim_end_matches('\\'));
        joined.push(' ');
        if line.trim_end().ends_with('\\') {
            continue;
        }
        // The joined line ends in a space, so `conform ` also ends a command.
        let command = std::mem::take(&mut joined);
        let rest = command
            .split_once("understudy conform ")
            .or_else(|| command.split_once("-- conform "))
            .map(|(_, rest)| rest);
        if let Some(rest) = rest {
            let args = rest
                .split_whitespace()
                .take_while(|t| !matches!(*t, ">" | ">>" | "|" | "&&" | ";" | "2>&1"))
                .map(|t| t.trim_matches('"').to_owned())
                .collect();
            commands.push(args);
        }
    }
    commands
}

/// The bundled cassettes' folder.
fn bundled_cassettes() -> String {
    format!("{}/../fixtures/cassettes", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_conform_command_in_the_readme_is_accepted() {
    let commands = readme_conform_commands();
    assert!(commands.len() >= 5, "{commands:?}");
    assert!(
        commands
            .iter()
            .any(|c| c.contains(&"--baseline".to_owned()))
            && commands
                .iter()
                .any(|c| c.iter().any(|a| a.starts_with("html="))),
        "the CI section's commands are among them: {commands:?}"
    );
    for args in commands {
        // `--list` makes the run a listing, after every flag was parsed.
        let mut full = vec!["conform".to_owned()];
        // The README's cassette folders are the reader's own; the bundled
        // cassettes stand in for them.
        let mut in_cassettes = false;
        for arg in &args {
            if arg.starts_with("--") {
                in_cassettes = arg == "--cassettes";
                full.push(arg.clone());
            } else if in_cassettes {
                full.push(bundled_cassettes());
            } else {
                full.push(arg.clone());
            }
        }
        if !args.iter().any(|a| a == "--list") {
            full.push("--list".into());
        }
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let (code, _, stderr) = understudy(&refs);
        assert_eq!(code, 0, "README: understudy {}\n{stderr}", args.join(" "));
    }
}
