//! `understudy fixtures redact | trim | diff | stats`, run as a user runs them,
//! on copies of bundled cassette files.

use std::path::{Path, PathBuf};
use std::process::Command;

const CASSETTES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/cassettes");

fn understudy(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_understudy"));
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run understudy");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Copies `provider/name.jsonl` and its sidecars into `dir`; returns the copy.
fn copy_cassette(dir: &Path, provider: &str, name: &str) -> PathBuf {
    let src = Path::new(CASSETTES).join(provider);
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        if file == format!("{name}.jsonl") || file.starts_with(&format!("{name}.")) {
            std::fs::copy(&path, dir.join(&file)).unwrap();
        }
    }
    dir.join(format!("{name}.jsonl"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn frame_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn trim_keeps_the_selected_turn_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let src = copy_cassette(dir.path(), "openai", "ga-barge-in");
    let out = dir.path().join("second.jsonl");
    let (code, stdout, stderr) = understudy(
        &[
            "fixtures",
            "trim",
            s(&src),
            "--turns",
            "2",
            "--out",
            s(&out),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("kept turns 2"), "{stdout}");

    let (code, stdout, _) = understudy(&["fixtures", "validate", s(&out)], &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(dir.path().join("second.s2c.wav").exists());

    let header: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(header["description"]
        .as_str()
        .unwrap()
        .contains("[trimmed to turn 2 of 2]"));
    assert_eq!(header["origin"], "synthesized");

    let frames = frame_lines(&out);
    let times: Vec<u64> = frames.iter().map(|f| f["t_us"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "t_us not monotonic");
    let types: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["json"]["type"].as_str())
        .collect();
    assert_eq!(
        &types[..3],
        ["session.created", "session.update", "session.updated"]
    );
    assert_eq!(types.iter().filter(|t| **t == "response.done").count(), 1);
    assert_eq!(*types.last().unwrap(), "response.done");
    // Turn 1's barge-in truncation is gone; turn 2's is kept.
    assert_eq!(
        types.iter().filter(|t| **t == "response.created").count(),
        1
    );
    assert!(types.contains(&"conversation.item.truncate"));
    let original = frame_lines(&src);
    assert!(frames.len() < original.len());
    // The removed turn leaves no gap: the session is shorter by about its length.
    assert!(times.last().unwrap() < original.last().unwrap()["t_us"].as_u64().as_ref().unwrap());

    // The trimmed turn is the original's second turn, ids and times aside.
    let (code, stdout, _) = understudy(&["fixtures", "stats", "--json", s(&out)], &[]);
    assert_eq!(code, 0);
    let stats: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stats[0]["turns"].as_array().unwrap().len(), 1);
}

#[test]
fn trim_out_of_range_names_the_turn_count() {
    let dir = tempfile::tempdir().unwrap();
    let src = copy_cassette(dir.path(), "gemini", "interrupted");
    let out = dir.path().join("x.jsonl");
    let (code, _, stderr) = understudy(
        &[
            "fixtures",
            "trim",
            s(&src),
            "--turns",
            "2..5",
            "--out",
            s(&out),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("the cassette has 2 turns"), "{stderr}");
    assert!(!out.exists());
    let (code, _, stderr) = understudy(
        &[
            "fixtures",
            "trim",
            s(&src),
            "--turns",
            "two",
            "--out",
            s(&out),
        ],
        &[],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("invalid turn range"), "{stderr}");
}

#[test]
fn diff_ignores_ids_and_times_but_not_content() {
    let dir = tempfile::tempdir().unwrap();
    let src = copy_cassette(dir.path(), "dashscope", "manual-turn");
    let text = std::fs::read_to_string(&src).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();

    // Same session, other ids and times.
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    header["created_at"] = "2030-01-01T00:00:00Z".into();
    header["toolkit_version"] = "9.9.9".into();
    let mut same = vec![header.to_string()];
    for line in &lines[1..] {
        let mut f: serde_json::Value = serde_json::from_str(line).unwrap();
        f["t_us"] = (f["t_us"].as_u64().unwrap() * 2 + 7).into();
        if let Some(json) = f.get_mut("json") {
            if let Some(id) = json.get_mut("event_id") {
                *id = "event_other".into();
            }
            if let Some(id) = json.get_mut("response").and_then(|r| r.get_mut("id")) {
                *id = "resp_other".into();
            }
        }
        same.push(f.to_string());
    }
    let same_path = dir.path().join("same.jsonl");
    std::fs::write(&same_path, same.join("\n") + "\n").unwrap();
    let (code, stdout, stderr) = understudy(&["fixtures", "diff", s(&src), s(&same_path)], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "no differences (ignoring ids and timing)");

    // A changed close code and a changed transcript are reported where they are.
    let last = lines.len() - 1;
    assert!(lines[last].contains("\"kind\":\"close\""));
    let mut close: serde_json::Value = serde_json::from_str(&lines[last]).unwrap();
    assert_eq!(close["code"], 1000);
    close["code"] = 1011.into();
    lines[last] = close.to_string();
    let delta = lines
        .iter()
        .position(|l| l.contains("response.audio_transcript.delta"))
        .unwrap();
    let mut f: serde_json::Value = serde_json::from_str(&lines[delta]).unwrap();
    f["json"]["delta"] = "Bonjour".into();
    lines[delta] = f.to_string();
    let changed = dir.path().join("changed.jsonl");
    std::fs::write(&changed, lines.join("\n") + "\n").unwrap();
    let (code, stdout, _) = understudy(&["fixtures", "diff", s(&src), s(&changed)], &[]);
    assert_eq!(code, 1, "{stdout}");
    let out: Vec<&str> = stdout.lines().collect();
    assert_eq!(out.len(), 3, "{stdout}");
    // Frame numbers are 1-based: frame N is line N + 1 of the file.
    assert!(
        out[0].starts_with(&format!(
            "frame {delta} s2c response.audio_transcript.delta /delta: "
        )) && out[0].ends_with("→ \"Bonjour\""),
        "{stdout}"
    );
    assert_eq!(out[1], format!("frame {last} s2c close /code: 1000 → 1011"));
    assert_eq!(out[2], "2 differences");

    // --ignore hides a key.
    let (code, stdout, _) = understudy(
        &[
            "fixtures",
            "diff",
            s(&src),
            s(&changed),
            "--ignore",
            "delta",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(!stdout.contains("/delta"), "{stdout}");

    // A missing frame is one line, not a cascade.
    lines.remove(delta);
    std::fs::write(&changed, lines.join("\n") + "\n").unwrap();
    let (code, stdout, _) = understudy(&["fixtures", "diff", s(&src), s(&changed)], &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.lines().next().unwrap().starts_with(&format!(
            "frame {delta} s2c response.audio_transcript.delta: only in left"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("2 differences"), "{stdout}");
}

#[test]
fn redact_scrubs_env_secrets_headers_and_params_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let src = copy_cassette(dir.path(), "openai", "speech-pcm");
    let secret = "fake-live-abcdefghijklmnop";
    // Plant the secret, a team header and a signed query parameter.
    let text = std::fs::read_to_string(&src).unwrap();
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[1]["path"] = "/v1/audio/speech?sig=s3cr3t&x=1".into();
    lines[1]["headers"]["x-team"] = "blue-team".into();
    lines[1]["body"]["input"] = format!("my key is {secret}").into();
    let planted: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(&src, planted.join("\n") + "\n").unwrap();

    let out = dir.path().join("clean.jsonl");
    let (code, stdout, stderr) = understudy(
        &[
            "fixtures",
            "redact",
            s(&src),
            "--out",
            s(&out),
            "--secret-env",
            "MY_KEY",
            "--header",
            "X-Team",
            "--query",
            "sig",
        ],
        &[("MY_KEY", secret)],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("scrubbed: ") && stdout.contains("MY_KEY"),
        "{stdout}"
    );
    assert!(
        stdout.contains("x-team") && stdout.contains("?sig"),
        "{stdout}"
    );
    let clean = std::fs::read_to_string(&out).unwrap();
    assert!(!clean.contains(secret) && !clean.contains("blue-team") && !clean.contains("s3cr3t"));
    assert!(clean.contains("<scrubbed:MY_KEY>"));
    assert!(
        std::fs::read_to_string(&src).unwrap().contains(secret),
        "--out leaves the source"
    );
    let (code, _, _) = understudy(&["fixtures", "validate", s(&out)], &[]);
    assert_eq!(code, 0);

    // In place, on a cassette with sidecars: they are rewritten and still verify.
    let vad = copy_cassette(dir.path(), "gemini", "audio-turn");
    let (code, stdout, stderr) = understudy(&["fixtures", "redact", s(&vad)], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, _) = understudy(&["fixtures", "validate", s(&vad)], &[]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, _) = understudy(&["fixtures", "diff", s(&vad), "gemini/audio-turn"], &[]);
    assert_eq!(code, 0, "{stdout}");

    // An unset or short secret is refused by name, and nothing is written.
    let (code, _, stderr) = understudy(
        &[
            "fixtures",
            "redact",
            s(&src),
            "--secret-env",
            "UNDERSTUDY_NO_SUCH_VAR",
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("UNDERSTUDY_NO_SUCH_VAR is not set"),
        "{stderr}"
    );
    let (code, _, stderr) = understudy(
        &["fixtures", "redact", s(&src), "--secret-env", "SHORT"],
        &[("SHORT", "abc")],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("SHORT") && stderr.contains("shorter than 8"),
        "{stderr}"
    );
    assert!(std::fs::read_to_string(&src).unwrap().contains(secret));
}

#[test]
fn stats_reports_turns_audio_and_first_audio() {
    let dir = tempfile::tempdir().unwrap();
    let tool = copy_cassette(dir.path(), "openai", "ga-tool-round-trip");
    let vad = copy_cassette(dir.path(), "dashscope", "vad-turn");
    let (code, stdout, stderr) =
        understudy(&["fixtures", "stats", "--json", s(&tool), s(&vad)], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let stats: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let tool_stats = &stats[0];
    assert_eq!(tool_stats["dialect"], "openai-ga");
    assert_eq!(tool_stats["turns"].as_array().unwrap().len(), 2);
    assert!(
        tool_stats["turns"][0]["first_audio_ms"].is_null(),
        "a tool call has no audio"
    );
    assert!(tool_stats["turns"][1]["first_audio_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(tool_stats["audio_seconds_c2s"], 0.0);

    // Audio seconds agree with the sidecars the header declares.
    let header: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&vad)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    for entry in header["audio"].as_array().unwrap() {
        let want = entry["samples"].as_f64().unwrap() / entry["sample_rate"].as_f64().unwrap();
        let key = format!("audio_seconds_{}", entry["direction"].as_str().unwrap());
        let got = stats[1][&key].as_f64().unwrap();
        assert!((got - want).abs() < 0.002, "{key}: {got} vs {want}");
    }

    let (code, stdout, _) = understudy(&["fixtures", "stats", s(&tool)], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("turns 2"), "{stdout}");
    assert!(
        stdout.contains("turn 1  13 frames  first audio -"),
        "{stdout}"
    );
    assert!(
        stdout.contains("turn 2  53 frames  first audio "),
        "{stdout}"
    );
}
