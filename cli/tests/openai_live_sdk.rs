//! The official `openai` Python SDK (pinned in `scripts/requirements-sdk.txt`),
//! unmodified — `client.live.connect()` with `base_url="http://127.0.0.1:PORT/v1"`
//! — against `understudy serve`: a GPT-Live session with a spoken turn, a
//! client-delegation round trip, the other commands and a clean close, on the
//! respond engine and on the replay engine; a Responses-delegation function
//! call on the respond engine; and a rejected key. The harness
//! (`tests/sdk/openai_live_turn.py`) validates every server event strictly
//! against the SDK's own `openai.types.live` models.
//!
//! The replay runs play cassettes made by these tests, two ways: the harness
//! logs every frame of its respond-engine session (`--write-wire`) and the
//! test writes them as a `synthesized` cassette with the fixtures crate; or
//! the session goes through `understudy record` (the recorder's cassette,
//! scrubbed, with WAV sidecars). A replaying `understudy serve --cassettes`
//! then plays each back to the same harness.

mod support;

use support::{repo, run_harness, run_scenarios, Serve};
use understudy_fixtures::{AudioRules, Cassette, Direction, Frame, Header, Origin};

/// The cassette's name under the replaying server's folder.
const CASSETTE: &str = "openai/live-turn";

fn wav(name: &str) -> String {
    repo()
        .join("fixtures/audio")
        .join(name)
        .display()
        .to_string()
}

/// The harness's arguments for the session against `serve`.
fn turn_args(serve: &Serve, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--base-url".into(),
        format!("{}/v1", serve.url),
        "--audio".into(),
        wav("user-weather-24k.wav"),
        "--delegate-audio".into(),
        wav("user-order-24k.wav"),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[test]
fn official_sdk_completes_a_live_session_against_the_respond_engine() {
    let serve = Serve::start(&["--engine", "respond"]);
    let responses: Vec<String> = vec![
        "--base-url".into(),
        format!("{}/v1", serve.url),
        "--scenario".into(),
        "responses".into(),
        "--audio".into(),
        wav("user-weather-24k.wav"),
    ];
    run_scenarios(
        "tests/sdk/openai_live_turn.py",
        &[
            ("turn".into(), turn_args(&serve, &[])),
            ("responses".into(), responses),
        ],
    );
}

#[test]
fn official_sdk_completes_a_live_session_against_the_replay_engine() {
    let dir = tempfile::tempdir().unwrap();
    let wire = dir.path().join("wire.jsonl");
    {
        let serve = Serve::start(&["--engine", "respond"]);
        let args = turn_args(&serve, &["--write-wire", wire.to_str().unwrap()]);
        run_scenarios("tests/sdk/openai_live_turn.py", &[("turn".into(), args)]);
    }
    let cassettes = dir.path().join("cassettes");
    let cassette = cassette_from_wire(&std::fs::read_to_string(&wire).unwrap());
    let report = cassette.validate();
    assert!(report.is_valid(), "{:?}", report.issues);
    let path = cassettes.join(format!("{CASSETTE}.jsonl"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    cassette
        .write(&path, &AudioRules::for_provider("openai"))
        .unwrap();
    // The audio went to WAV sidecars, as for every OpenAI cassette.
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains(".c2s.wav") && written.contains(".s2c.wav"));

    let serve = Serve::start(&[
        "--engine",
        "replay",
        "--cassettes",
        cassettes.to_str().unwrap(),
    ]);
    run_scenarios(
        "tests/sdk/openai_live_turn.py",
        &[("turn".into(), turn_args(&serve, &["--cassette", CASSETTE]))],
    );
}

/// The same session recorded through `understudy record` (the recorder's
/// own cassette writer, scrubbing and sidecars), then replayed to the SDK.
#[test]
fn official_sdk_replays_a_live_session_recorded_through_understudy_record() {
    use support::record::{cassettes, Record, KEY};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recordings");
    {
        let upstream = Serve::start(&["--engine", "respond"]);
        let record = Record::start(&upstream.url, &out, &["--provider", "openai"]);
        let base_url = format!("{}/v1", record.url);
        let mut args = turn_args(&upstream, &["--api-key", KEY]);
        args[1] = base_url;
        run_scenarios("tests/sdk/openai_live_turn.py", &[("turn".into(), args)]);
        let summary = record.stop();
        assert!(summary.contains("openai-live"), "{summary}");
    }
    let files = cassettes(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let cassette = Cassette::read(&files[0]).unwrap();
    assert_eq!(cassette.header.dialect, "openai-live");
    assert!(!std::fs::read_to_string(&files[0]).unwrap().contains(KEY));
    let name = files[0].file_stem().unwrap().to_str().unwrap().to_owned();

    let serve = Serve::start(&["--engine", "replay", "--cassettes", out.to_str().unwrap()]);
    run_scenarios(
        "tests/sdk/openai_live_turn.py",
        &[("turn".into(), turn_args(&serve, &["--cassette", &name]))],
    );
}

#[test]
fn official_sdk_sees_invalid_api_key_and_close_3000_on_live() {
    let serve = Serve::start(&["--api-key", "sk-understudy-good"]);
    let base_url = format!("{}/v1", serve.url);
    let (ok, output) = run_harness(
        "tests/sdk/openai_live_turn.py",
        &["--base-url", &base_url, "--expect-auth-failure"],
    );
    assert!(ok, "{output}");
    assert!(output.contains("closed with 3000"), "{output}");
    let good = turn_args(&serve, &["--api-key", "sk-understudy-good"]);
    run_scenarios("tests/sdk/openai_live_turn.py", &[("turn".into(), good)]);
}

#[test]
fn the_live_harness_strict_validator_rejects_broken_events() {
    let (ok, output) = run_harness("tests/sdk/openai_live_turn.py", &["--self-check"]);
    assert!(ok, "{output}");
    assert!(output.contains("OK self-check"), "{output}");
}

/// The harness's frame log as a cassette of the dialect, marked synthesized
/// (the answers are the respond engine's, not the service's).
fn cassette_from_wire(wire: &str) -> Cassette {
    let header = Header::new("openai", "openai-live", "gpt-live-1", Origin::Synthesized)
        .with_description(
            "GPT-Live spoken turn, client delegation and close — synthesized from the respond \
             engine by cli/tests/openai_live_sdk.rs",
        );
    let mut cassette = Cassette::new(header);
    for line in wire.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let t_us = entry["t_us"].as_u64().unwrap();
        let json = entry["json"].clone();
        let frame = match entry["dir"].as_str().unwrap() {
            "c2s" => Frame::text_json(t_us, Direction::ClientToServer, json),
            "s2c" => Frame::text_json(t_us, Direction::ServerToClient, json),
            "s2c-close" => Frame::close(
                t_us,
                Direction::ServerToClient,
                json["code"].as_u64().unwrap() as u16,
                json["reason"].as_str().unwrap_or_default(),
            ),
            other => panic!("unknown direction {other}"),
        };
        cassette.frames.push(frame);
    }
    cassette
}
