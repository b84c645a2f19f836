//! Recording official-SDK sessions through `understudy record`: the recorder
//! process, one session per realtime dialect (OpenAI's Realtime GA and beta
//! and GPT-Live, Gemini Live, Qwen-Omni, Qwen-TTS; and OpenAI speech and
//! chat over HTTP), and the cassettes a recording folder holds. `record.rs` checks the
//! recordings; `conform_cassettes.rs` grades them with `conform --cassettes`.

use super::{repo, run_harness, Serve};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The key every session uses; random enough that no window of it occurs by chance.
pub const KEY: &str = "fake-key-Zq8XwV3mLr5TnP0yKc7BdF2hJ9";

/// `understudy record` on a free port; stopped with SIGINT by [`Record::stop`].
pub struct Record {
    child: Child,
    /// `http://127.0.0.1:PORT` of the recorder.
    pub url: String,
    /// The TLS listener's URL, when started with `--tls-port`.
    pub tls_url: Option<String>,
    stdout: BufReader<std::process::ChildStdout>,
    /// Where the recorder's log goes.
    pub stderr_path: PathBuf,
}

impl Record {
    pub fn start(upstream: &str, out: &Path, extra: &[&str]) -> Record {
        let stderr_path = out.with_extension("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["record", "--port", "0", "--upstream", upstream, "--out"])
            .arg(out)
            .args(extra)
            .env("UNDERSTUDY_TEST_KEY", KEY)
            .env("UNDERSTUDY_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start understudy record");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("banner");
        let url = line
            .trim()
            .strip_prefix("understudy recording on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let tls_url = extra.contains(&"--tls-port").then(|| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("TLS banner");
            line.trim()
                .strip_prefix("understudy recording TLS on ")
                .unwrap_or_else(|| panic!("unexpected TLS line {line:?}"))
                .to_owned()
        });
        Record {
            child,
            url,
            tls_url,
            stdout,
            stderr_path,
        }
    }

    /// Stops with Ctrl-C; returns what it printed after the banner.
    pub fn stop(self) -> String {
        self.stop_with("-INT")
    }

    /// Stops with `signal` (`-INT`, `-TERM`), checks the exit is a success;
    /// returns what it printed after the banner.
    pub fn stop_with(mut self, signal: &str) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "record exited with {exit}: {rest}");
        rest
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One realtime dialect's SDK session: harness and arguments for a base URL.
pub struct Dialect {
    pub label: &'static str,
    pub script: &'static str,
    /// Whether the SDK needs wss:// (Gemini).
    pub tls: bool,
    pub args: fn(base: &str, ca: &str) -> Vec<String>,
    /// How many turns `fixtures stats` must find with a first-audio time
    /// in the recording (0: not checked).
    pub answered_turns: usize,
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn audio(name: &str) -> String {
    repo()
        .join("fixtures/audio")
        .join(name)
        .display()
        .to_string()
}

pub const DIALECTS: &[Dialect] = &[
    Dialect {
        label: "openai-ga",
        script: "tests/sdk/openai_realtime_turn.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--base-url",
                &format!("{base}/v1"),
                "--dialect",
                "ga",
                "--scenario",
                "text",
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
    Dialect {
        label: "openai-beta",
        script: "tests/sdk/openai_realtime_turn.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--base-url",
                &format!("{base}/v1"),
                "--dialect",
                "beta",
                "--scenario",
                "audio",
                "--audio",
                &audio("user-weather-24k.wav"),
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
    Dialect {
        label: "openai-live",
        script: "tests/sdk/openai_live_turn.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--base-url",
                &format!("{base}/v1"),
                "--audio",
                &audio("user-weather-24k.wav"),
                "--delegate-audio",
                &audio("user-order-24k.wav"),
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 2,
    },
    Dialect {
        label: "gemini-live",
        script: "tests/sdk/gemini_live_turn.py",
        tls: true,
        args: |base, ca| {
            owned(&[
                "--base-url",
                base,
                "--ca-file",
                ca,
                "--scenario",
                "audio",
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
    Dialect {
        label: "dashscope-omni",
        script: "tests/sdk/dashscope_omni_turn.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--url",
                &format!(
                    "{}/api-ws/v1/realtime",
                    base.replacen("http://", "ws://", 1)
                ),
                "--scenario",
                "manual",
                "--audio",
                &audio("user-weather-16k.wav"),
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
    Dialect {
        label: "dashscope-tts",
        script: "tests/sdk/dashscope_tts_realtime.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--url",
                &format!(
                    "{}/api-ws/v1/realtime",
                    base.replacen("http://", "ws://", 1)
                ),
                "--key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
    // HTTP exchanges record and replay the same way.
    Dialect {
        label: "openai-speech",
        script: "tests/sdk/http_tts.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--provider",
                "openai",
                "--scenario",
                "wav",
                "--base-url",
                &format!("{base}/v1"),
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
    Dialect {
        label: "openai-chat",
        script: "tests/sdk/openai_chat_stream.py",
        tls: false,
        args: |base, _| {
            owned(&[
                "--base-url",
                &format!("{base}/v1"),
                "--scenario",
                "text",
                "--api-key",
                KEY,
            ])
        },
        answered_turns: 0,
    },
];

/// Every file under `dir` (recursively).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The cassettes a recording folder holds, in the order they were numbered
/// (one per WebSocket connection or HTTP exchange).
pub fn cassettes(dir: &Path) -> Vec<PathBuf> {
    let mut cassettes: Vec<PathBuf> = files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    cassettes.sort();
    assert!(
        !cassettes.is_empty(),
        "nothing recorded in {}",
        dir.display()
    );
    cassettes
}

pub fn understudy(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs `dialect`'s SDK session through a recorder in front of `upstream`;
/// returns the cassette and the recorder's log file.
pub fn record_session(dialect: &Dialect, upstream: &Serve, out: &Path) -> (Vec<PathBuf>, PathBuf) {
    let ca = out.with_extension("ca.pem").display().to_string();
    let extra: Vec<&str> = if dialect.tls {
        vec![
            "--provider",
            provider_of(dialect.label),
            "--tls-port",
            "0",
            "--ca-file",
            &ca,
        ]
    } else {
        vec!["--provider", provider_of(dialect.label)]
    };
    let mut extra = extra;
    extra.extend(["--secret-env", "UNDERSTUDY_TEST_KEY"]);
    let record = Record::start(&upstream.url, out, &extra);
    let base = record.tls_url.clone().unwrap_or_else(|| record.url.clone());
    let (ok, output) = run_harness(
        dialect.script,
        &(dialect.args)(&base, &ca)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let log = record.stderr_path.clone();
    let printed = record.stop();
    assert!(
        ok,
        "{}: the SDK session through the recorder failed:\n{output}",
        dialect.label
    );
    assert!(printed.contains("recorded "), "{printed}");
    (cassettes(out), log)
}

pub fn provider_of(label: &str) -> &'static str {
    match label.split('-').next() {
        Some("openai") => "openai",
        Some("gemini") => "gemini",
        _ => "dashscope",
    }
}
