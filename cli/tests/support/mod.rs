//! What the official-SDK tests share: the pinned virtualenv and a real
//! `understudy serve` process on a free port.
#![allow(dead_code)]

pub mod record;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The source file of the bundled cassette `name` (`openai/ga-text-turn`).
pub fn cassette_file(name: &str) -> String {
    repo()
        .join("fixtures/cassettes")
        .join(format!("{name}.jsonl"))
        .display()
        .to_string()
}

/// The two `--replay-order` runs of an SDK harness (`replay-pipelined`,
/// `replay-one-at-a-time`) over the bundled cassette `name`: the harness's
/// own connection arguments, then the cassette file and the pacing.
pub fn replay_order_runs(connection: &[&str], name: &str) -> Vec<(String, Vec<String>)> {
    let file = cassette_file(name);
    ["pipelined", "one-at-a-time"]
        .iter()
        .map(|pacing| {
            let args = connection
                .iter()
                .copied()
                .chain(["--replay-order", &file, "--pacing", pacing])
                .map(str::to_owned)
                .collect();
            (format!("replay-{pacing}"), args)
        })
        .collect()
}

/// Runs the `understudy` binary with `args`: its exit code, stdout and stderr.
pub fn understudy(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .output()
        .expect("run understudy");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The python of the official-SDK virtualenv (`scripts/python-env.sh`).
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv_python("sdk"))
}

/// The python of the livekit-agents virtualenv
/// (`scripts/python-env.sh --profile livekit`).
pub fn livekit_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv_python("livekit"))
}

/// The python of the AgentScope virtualenv
/// (`scripts/python-env.sh --profile agentscope`).
pub fn agentscope_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv_python("agentscope"))
}

fn venv_python(profile: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg(repo().join("scripts/python-env.sh"))
        .args(["--profile", profile])
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/python-env.sh");
    assert!(
        out.status.success(),
        "scripts/python-env.sh --profile {profile} failed"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("python path").trim())
}

/// `understudy serve` on a free port; killed on drop.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `https://127.0.0.1:PORT` when started with `--tls-port`.
    pub tls_url: Option<String>,
}

impl Serve {
    pub fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start understudy serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the serving line");
        let url = line
            .trim()
            .strip_prefix("understudy serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        let tls_url = args.contains(&"--tls-port").then(|| {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read the TLS line");
            line.trim()
                .strip_prefix("understudy serving TLS on ")
                .unwrap_or_else(|| panic!("unexpected TLS line: {line:?}"))
                .to_owned()
        });
        // Keep draining so the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Serve {
            child,
            url,
            tls_url,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a harness script with the venv's python; returns success and output.
pub fn run_harness(script: &str, args: &[&str]) -> (bool, String) {
    run_harness_with(python(), script, args)
}

/// Runs a harness script with `python`; returns success and output.
pub fn run_harness_with(python: &Path, script: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(python)
        .arg(repo().join(script))
        .args(args)
        .output()
        .expect("run the SDK harness");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs a harness once per labelled argument list; fails with every failing
/// run's output. A run passes when it exits 0 with a last line `OK <label>`.
pub fn run_scenarios(script: &str, runs: &[(String, Vec<String>)]) {
    let mut failures = Vec::new();
    for (label, args) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, output) = run_harness(script, &args);
        let last = output.lines().last().unwrap_or_default();
        if ok && last.starts_with(&format!("OK {label}")) {
            eprintln!("{last}");
        } else {
            failures.push(format!("{label}:\n{output}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{script} failed:\n{}",
        failures.join("\n")
    );
}
