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

#[test]
fn validate_on_a_folder_with_no_cassettes_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a cassette").unwrap();
    let (code, stdout, stderr) = understudy(&["fixtures", "validate", s(dir.path())], &[]);
    assert_ne!(
        code, 0,
        "a CI gate must not pass on nothing: {stdout}{stderr}"
    );
    assert!(stdout.contains("nothing to check"), "{stdout}");
    // A folder with a cassette still passes.
    copy_cassette(dir.path(), "openai", "ga-text-turn");
    let (code, stdout, _) = understudy(&["fixtures", "validate", s(dir.path())], &[]);
    assert_eq!(code, 0, "{stdout}");
}

/// `n` bytes whose base64 uses `-`/`_` in the URL-safe alphabet (`+`/`/` in
/// the standard one), as URL-safe base64.
fn url_safe_audio(units: usize) -> String {
    // Six bytes [fb ff bf fb ff bf] are "-_-_-_-_" URL-safe.
    "-_-_-_-_".repeat(units)
}

/// A Gemini Live session as the official google-genai SDK records it:
/// `realtime_input` in snake_case, `mime_type`, URL-safe base64 audio.
fn genai_sdk_session(dir: &Path, chunks: usize, units: usize) -> PathBuf {
    let mut lines = vec![
        serde_json::json!({"understudy_cassette":1,"provider":"gemini","dialect":"gemini-live","model":"gemini-live-2.5-flash-preview","origin":"synthesized","created_at":"2026-12-07T00:00:00Z","toolkit_version":"0.1.0","description":"google-genai SDK microphone audio (synthesized from the SDK's frame shapes)","scrubbed":[],"audio":[],"upstream":null,"incomplete":false}),
        serde_json::json!({"t_us":800,"dir":"c2s","kind":"text","json":{"setup":{"model":"models/gemini-live-2.5-flash-preview"}}}),
        serde_json::json!({"t_us":1200,"dir":"s2c","kind":"binary","json":{"setupComplete":{}}}),
    ];
    for i in 0..chunks {
        lines.push(serde_json::json!({"t_us":10_000 + i as u64 * 500_000,"dir":"c2s","kind":"text","json":{"realtime_input":{"audio":{"data":url_safe_audio(units),"mime_type":"audio/pcm;rate=16000"}}}}));
    }
    let end = 10_000 + chunks as u64 * 500_000;
    lines.push(serde_json::json!({"t_us":end,"dir":"s2c","kind":"binary","json":{"serverContent":{"turnComplete":true}}}));
    let path = dir.join("genai-sdk.jsonl");
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    path
}

#[test]
fn google_genai_snake_case_url_safe_audio_is_measured_and_moved_to_a_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    // 11 chunks of 2667 × 6 bytes: 5.5 s of 16 kHz PCM16.
    let (chunks, units) = (11, 2667);
    let src = genai_sdk_session(dir.path(), chunks, units);
    let want = (chunks * units * 6 / 2) as f64 / 16_000.0;

    let (code, stdout, stderr) = understudy(&["fixtures", "stats", "--json", s(&src)], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let stats: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let got = stats[0]["audio_seconds_c2s"].as_f64().unwrap();
    assert!(
        (got - want).abs() < 0.002,
        "input audio {got} s, sent {want} s"
    );

    let out = dir.path().join("redacted.jsonl");
    let (code, stdout, stderr) =
        understudy(&["fixtures", "redact", s(&src), "--out", s(&out)], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let audio_frames: Vec<serde_json::Value> = frame_lines(&out)
        .into_iter()
        .filter(|f| f["json"].get("realtime_input").is_some())
        .collect();
    assert_eq!(audio_frames.len(), chunks);
    for frame in &audio_frames {
        let data = &frame["json"]["realtime_input"]["audio"]["data"];
        assert!(data.get("$audio").is_some(), "audio left inline: {frame}");
    }
    assert!(dir.path().join("redacted.c2s.wav").exists());
    let (code, stdout, _) = understudy(&["fixtures", "validate", s(&out)], &[]);
    assert_eq!(code, 0, "{stdout}");
    // Read back, the audio is the URL-safe string that was recorded.
    let back = understudy_fixtures::Cassette::read(&out).unwrap();
    let original = understudy_fixtures::Cassette::read(&src).unwrap();
    assert_eq!(back.frames, original.frames, "byte-for-byte");
}

#[test]
fn stats_do_not_count_wind_down_after_the_last_response_as_a_turn() {
    let dir = tempfile::tempdir().unwrap();
    let src = copy_cassette(dir.path(), "openai", "ga-text-turn");
    let mut text = std::fs::read_to_string(&src).unwrap();
    let last = frame_lines(&src)
        .last()
        .and_then(|f| f["t_us"].as_u64())
        .unwrap();
    for (i, event) in [
        serde_json::json!({"type":"rate_limits.updated","event_id":"event_rl","rate_limits":[{"name":"requests","limit":1000,"remaining":999,"reset_seconds":0.06}]}),
        serde_json::json!({"type":"output_audio_buffer.stopped","event_id":"event_st","response_id":"resp_x"}),
    ]
    .into_iter()
    .enumerate()
    {
        let frame = serde_json::json!({"t_us": last + 1000 * (i as u64 + 1), "dir":"s2c","kind":"text","json":event});
        text.push_str(&format!("{frame}\n"));
    }
    std::fs::write(&src, text).unwrap();
    let (code, stdout, stderr) = understudy(&["fixtures", "stats", "--json", s(&src)], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let stats: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let turns = stats[0]["turns"].as_array().unwrap();
    assert!(
        turns.iter().all(|t| t["complete"] == true),
        "wind-down frames reported as an unfinished turn: {turns:?}"
    );
}

/// Seconds of audio and the first audio time the test reads itself from an
/// HTTP cassette's chunks.
fn http_audio(name: &str) -> (f64, f64) {
    use understudy_fixtures::{ChunkData, FrameBody};
    let c = understudy_fixtures::bundled::cassette(name).unwrap();
    let request_us = c.frames[0].t_us;
    let mut seconds = 0.0;
    let mut first = None;
    for frame in &c.frames {
        let FrameBody::HttpResponse(response) = &frame.body else {
            continue;
        };
        for chunk in &response.chunks {
            let s = match &chunk.data {
                ChunkData::Bytes(b) => (b.len() / 2) as f64 / 24_000.0,
                ChunkData::Text(t) => t
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .map(|event| {
                        let data = event
                            .pointer("/choices/0/delta/audio/data")
                            .or_else(|| {
                                event.pointer("/candidates/0/content/parts/0/inlineData/data")
                            })
                            .and_then(|d| d.as_str())
                            .and_then(understudy_fixtures::decode_audio_base64);
                        data.map_or(0.0, |b| (b.len() / 2) as f64 / 24_000.0)
                    })
                    .sum(),
            };
            if s > 0.0 && first.is_none() {
                first = Some((chunk.t_us - request_us) as f64 / 1000.0);
            }
            seconds += s;
        }
    }
    (seconds, first.unwrap())
}

#[test]
fn stats_measure_audio_in_http_answers() {
    for name in [
        "openai/speech-pcm",
        "openai/chat-audio-stream",
        "dashscope/chat-omni-stream",
        "gemini/tts-stream",
    ] {
        let (want_seconds, want_first) = http_audio(name);
        assert!(want_seconds > 0.1, "{name}: {want_seconds}");
        let (code, stdout, stderr) = understudy(&["fixtures", "stats", "--json", name], &[]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let stats: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let got = stats[0]["audio_seconds_s2c"].as_f64().unwrap();
        assert!(
            (got - want_seconds).abs() < 0.002,
            "{name}: {got} vs {want_seconds}"
        );
        assert_eq!(
            stats[0]["turns"][0]["first_audio_ms"].as_f64(),
            Some(want_first),
            "{name}"
        );
    }
}

#[test]
fn the_http_audio_rate_is_an_option() {
    let (want_seconds, _) = http_audio("openai/speech-pcm");
    let (code, stdout, stderr) = understudy(
        &[
            "fixtures",
            "stats",
            "--json",
            "--http-audio-rate",
            "16000",
            "openai/speech-pcm",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let stats: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let got = stats[0]["audio_seconds_s2c"].as_f64().unwrap();
    let want = want_seconds * 24_000.0 / 16_000.0;
    assert!((got - want).abs() < 0.002, "{got} vs {want}");
    let (code, _, stderr) = understudy(
        &[
            "fixtures",
            "stats",
            "--http-audio-rate",
            "0",
            "openai/speech-pcm",
        ],
        &[],
    );
    assert_ne!(code, 0, "a zero rate is refused: {stderr}");
}

#[test]
fn show_lists_the_chunks_of_http_answers() {
    let (code, stdout, stderr) = understudy(&["fixtures", "show", "openai/chat-audio-stream"], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("http_request POST /v1/chat/completions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http_response 200 text/event-stream"),
        "{stdout}"
    );
    let chunks: Vec<&str> = stdout.lines().filter(|l| l.contains("chunk ")).collect();
    assert!(chunks.len() > 3, "{stdout}");
    assert!(
        chunks
            .iter()
            .any(|l| l.contains("chat.completion.chunk") && l.contains("audio ")),
        "{stdout}"
    );
    assert!(chunks.iter().any(|l| l.contains("[DONE]")), "{stdout}");
    let (code, stdout, _) = understudy(&["fixtures", "show", "openai/speech-pcm"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("bytes  audio "), "{stdout}");
}

#[test]
fn fixtures_list_names_every_bundled_cassette_with_its_dialect_and_origin() {
    let (code, stdout, stderr) = understudy(&["fixtures", "list"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with("bundled cassettes"))
        .collect();
    let count = understudy_fixtures::bundled::cassette_names().len();
    assert_eq!(rows.len(), count, "{stdout}");
    assert!(stdout.ends_with(&format!("{count} bundled cassettes\n")));
    let text_turn = rows
        .iter()
        .find(|r| r.starts_with("openai/ga-text-turn "))
        .unwrap_or_else(|| panic!("no openai/ga-text-turn row:\n{stdout}"));
    assert!(text_turn.contains("openai-ga"), "{text_turn}");
    assert!(
        text_turn.contains("synthesized") || text_turn.contains("recorded"),
        "{text_turn}"
    );
    let (code, filtered, _) = understudy(&["fixtures", "list", "gemini"], &[]);
    assert_eq!(code, 0);
    let gemini: Vec<&str> = filtered
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with("bundled cassettes"))
        .collect();
    assert!(!gemini.is_empty() && gemini.len() < count, "{filtered}");
    assert!(gemini.iter().all(|l| l.contains("gemini")), "{filtered}");
}

#[test]
fn a_misspelt_bundled_name_gets_a_suggestion() {
    let (code, _, stderr) = understudy(&["fixtures", "show", "openai/ga-text-trun"], &[]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("did you mean `openai/ga-text-turn`?"),
        "{stderr}"
    );
    let (code, _, stderr) = understudy(&["fixtures", "validate", "openai/ga-text-trun"], &[]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("did you mean `openai/ga-text-turn`?"),
        "{stderr}"
    );
}
