//! `understudy conform --target`: grading a server that claims a dialect.
//!
//! The targets are `understudy serve` itself (both engines: it must grade
//! with no FAILED) and a deliberately broken server, a tiny proxy in front of
//! `serve` that reorders or drops events (it must FAIL, naming what is wrong).

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use support::Serve;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// Runs `understudy conform --target URL --dialect D` plus `extra` with the
/// environment `env`; returns the exit code, the stdout and the JSON report.
fn conform_target(
    url: &str,
    dialect: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, Value) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["conform", "--target", url, "--dialect", dialect])
        .args(["--format", "json", "--output"])
        .arg(&report)
        .args(extra)
        .envs(env.iter().copied())
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .env_remove("DASHSCOPE_API_KEY")
        .output()
        .expect("run understudy conform");
    let stdout = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), stdout, json)
}

/// Each case's id and grade, in report order.
fn grades(report: &Value) -> Vec<(String, String)> {
    report["cases"]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .map(|c| {
                    let id = c["id"].as_str().unwrap_or_default().to_owned();
                    (id, c["grade"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every realtime dialect with cases, against `serve` with `engine`: no case
/// FAILED, each dialect's cases (and only those) ran, most of them OK; with
/// `exact`, every case that ran is OK (the bundled cassettes replayed are
/// exactly our mock's scripts).
fn serve_grades_cleanly(engine: &str, exact: bool) {
    let serve = Serve::start(&["--engine", engine]);
    let runs: Vec<_> = ["openai-ga", "gemini-live", "dashscope-omni"]
        .into_iter()
        .map(|dialect| {
            let url = serve.url.clone();
            std::thread::spawn(move || (dialect, conform_target(&url, dialect, &[], &[])))
        })
        .collect();
    for run in runs {
        let (dialect, (code, stdout, report)) = run.join().expect("a conform run");
        assert_eq!(code, 0, "{engine} {dialect}:\n{stdout}");
        assert_eq!(
            report["summary"]["failed"], 0,
            "{engine} {dialect}:\n{stdout}"
        );
        let graded = grades(&report);
        let prefix = dialect.split('-').next().unwrap_or(dialect);
        assert!(graded.len() >= 6, "{engine} {dialect}: {graded:?}");
        assert!(
            graded.iter().all(|(id, _)| id.starts_with(prefix)),
            "{engine} {dialect} ran another dialect's case: {graded:?}"
        );
        let ran = graded
            .iter()
            .filter(|(_, g)| g == "OK" || g == "INFORMATIONAL");
        assert!(ran.count() >= 5, "{engine} {dialect}: {graded:?}");
        if exact {
            let ok_or_not_run = |(_, g): &(String, String)| g == "OK" || g == "UNIMPLEMENTED";
            assert!(
                graded.iter().all(ok_or_not_run),
                "{engine} {dialect}: {graded:?}"
            );
        }
        // Each case's line printed as it finished, before the summary.
        let summary_at = stdout
            .find("understudy conformance —")
            .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
        for (id, _) in &graded {
            let line = stdout.find(&format!(" {id} ")).unwrap_or(usize::MAX);
            assert!(line < summary_at, "{id} not streamed:\n{stdout}");
        }
    }
}

#[test]
fn serve_with_the_respond_engine_grades_with_no_failure() {
    serve_grades_cleanly("respond", false);
}

#[test]
fn serve_replaying_the_bundled_cassettes_grades_every_run_case_ok() {
    serve_grades_cleanly("replay", true);
}

#[test]
fn the_key_comes_from_the_named_variable_and_is_never_printed() {
    let key = "sk-target-test-7f3a";
    let serve = Serve::start(&["--api-key", key]);
    let filter = ["--filter", "openai.ga.text.turn"];
    let env = [("UNDERSTUDY_TARGET_KEY", key)];
    let (code, stdout, report) = conform_target(
        &serve.url,
        "openai-ga",
        &[&filter[..], &["--key-env", "UNDERSTUDY_TARGET_KEY"]].concat(),
        &env,
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        grades(&report),
        [("openai.ga.text.turn".into(), "OK".into())]
    );
    assert!(stdout.contains("$UNDERSTUDY_TARGET_KEY"), "{stdout}");
    assert!(!stdout.contains(key), "the key was printed: {stdout}");
    assert!(
        !report.to_string().contains(key),
        "the key is in the report"
    );
    // Without it, the placeholder key is refused the provider's way: FAILED.
    let (code, stdout, report) = conform_target(&serve.url, "openai-ga", &filter, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        grades(&report),
        [("openai.ga.text.turn".into(), "FAILED".into())]
    );
    // A named variable that is unset is an error, not a silent placeholder.
    let (code, stdout, _) = conform_target(
        &serve.url,
        "openai-ga",
        &[&filter[..], &["--key-env", "UNDERSTUDY_UNSET_KEY"]].concat(),
        &[],
    );
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("UNDERSTUDY_UNSET_KEY"), "{stdout}");
}

/// What the broken server does to the frames the real one sends.
#[derive(Clone, Copy)]
enum Breakage {
    /// Holds back the first audio delta until after `response.done`.
    AudioAfterDone,
    /// Never passes `response.done` on.
    DropResponseDone,
}

fn frame_type(message: &Message) -> String {
    let Message::Text(text) = message else {
        return String::new();
    };
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A handshake callback that keeps the request's path and query in `path`.
#[allow(clippy::result_large_err)] // the callback's type is tungstenite's
fn keep_path(
    path: &Arc<Mutex<String>>,
) -> impl FnOnce(&Request, Response) -> Result<Response, ErrorResponse> {
    let path = Arc::clone(path);
    move |request, response| {
        *path.lock().expect("path") = request.uri().to_string();
        Ok(response)
    }
}

/// A WebSocket proxy to `upstream` (`ws://HOST:PORT`) that breaks what the
/// server sends as `breakage` says; returns its `ws://` origin.
async fn broken_server(upstream: String, breakage: Breakage) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("ws://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let path = Arc::new(Mutex::new(String::new()));
                let client = tokio_tungstenite::accept_hdr_async(socket, keep_path(&path))
                    .await
                    .expect("handshake");
                let path = path.lock().expect("path").clone();
                let (server, _) = tokio_tungstenite::connect_async(format!("{upstream}{path}"))
                    .await
                    .expect("connect upstream");
                let (mut to_client, mut from_client) = client.split();
                let (mut to_server, mut from_server) = server.split();
                tokio::spawn(async move {
                    while let Some(Ok(message)) = from_client.next().await {
                        if to_server.send(message).await.is_err() {
                            break;
                        }
                    }
                });
                let mut held = None;
                while let Some(Ok(message)) = from_server.next().await {
                    let kind = frame_type(&message);
                    let mut out = vec![message];
                    match breakage {
                        Breakage::AudioAfterDone => {
                            if kind.ends_with("audio.delta") && held.is_none() {
                                held = out.pop();
                            } else if kind == "response.done" {
                                out.extend(held.take());
                            }
                        }
                        Breakage::DropResponseDone if kind == "response.done" => out.clear(),
                        Breakage::DropResponseDone => {}
                    }
                    for message in out {
                        if to_client.send(message).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    origin
}

/// Runs the OpenAI text turn against `serve` behind a server broken by
/// `breakage`; returns the case's grade and reason.
async fn graded_behind(breakage: Breakage) -> (String, String) {
    let serve = Serve::start(&[]);
    let upstream = serve.url.replacen("http://", "ws://", 1);
    let broken = broken_server(upstream, breakage).await;
    let (code, stdout, report) = tokio::task::spawn_blocking(move || {
        conform_target(
            &broken,
            "openai-ga",
            &["--filter", "openai.ga.text.turn"],
            &[],
        )
    })
    .await
    .expect("the conform run");
    assert_eq!(code, 1, "a broken target must fail the run:\n{stdout}");
    let case = &report["cases"][0];
    (
        case["grade"].as_str().unwrap_or_default().to_owned(),
        case["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_that_sends_audio_after_response_done_fails_naming_it() {
    let (grade, reason) = graded_behind(Breakage::AudioAfterDone).await;
    assert_eq!(grade, "FAILED", "{reason}");
    assert!(
        reason.contains("no output after response_done")
            && reason.contains("after its response_done"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_that_drops_response_done_fails_naming_it() {
    let (grade, reason) = graded_behind(Breakage::DropResponseDone).await;
    assert_eq!(grade, "FAILED", "{reason}");
    assert!(reason.contains("`response_done`"), "{reason}");
}
