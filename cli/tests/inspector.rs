//! The inspector page in a real browser: `understudy serve --journal full`
//! (under `--api-key`), the page opened in headless Chromium with the key,
//! and a session run while the page is open. Through the DevTools protocol
//! the test waits until the page's live stream has shown the session, then
//! checks the list, the timeline (the turn, TTFB/TTFA marks) and the audio
//! elements' sources — and fetches the WAV a source names. A screenshot goes
//! to `/work/tgt/inspector.png` (or `$UNDERSTUDY_INSPECTOR_SCREENSHOT`).
//!
//! Chromium comes from `scripts/chromium.sh` (found on PATH, or Debian's
//! `chromium` installed when root); without it the test fails in CI
//! (`CI=true`) and says why it did not run elsewhere.

mod served;

use futures_util::{SinkExt, StreamExt};
use served::Served;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "sk-inspector-test";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chromium() -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(repo().join("scripts/chromium.sh"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run scripts/chromium.sh: {e}"))?;
    if !out.status.success() {
        return Err("scripts/chromium.sh found no Chromium (see its message above)".into());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .last()
        .map(|l| PathBuf::from(l.trim()))
        .ok_or_else(|| "scripts/chromium.sh printed no path".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Headless Chromium on one page, driven over the DevTools protocol.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// The page's DevTools session, once attached.
    session: Option<String>,
    next_id: u64,
}

impl Browser {
    async fn open(binary: &PathBuf, url: &str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-extensions",
                "--window-size=1400,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…"
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].to_owned());
                }
            }
        });
        let browser_ws = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium announced its DevTools address within 60 s");
        let (socket, _) = timeout(Duration::from_secs(30), connect_async(browser_ws))
            .await
            .expect("the DevTools socket within 30 s")
            .expect("DevTools browser socket");
        let mut browser = Browser {
            child,
            _profile: profile,
            socket,
            session: None,
            next_id: 1,
        };
        // Attach to the page (flat sessions: page calls carry `sessionId`).
        let deadline = Instant::now() + Duration::from_secs(30);
        let target = loop {
            let targets = browser
                .call("Target.getTargets", serde_json::json!({}))
                .await;
            let page = targets["targetInfos"].as_array().and_then(|t| {
                t.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["targetId"].as_str())
                    .map(str::to_owned)
            });
            if let Some(page) = page {
                break page;
            }
            assert!(Instant::now() < deadline, "no page target: {targets}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let attached = browser
            .call(
                "Target.attachToTarget",
                serde_json::json!({"targetId": target, "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"].as_str().map(str::to_owned);
        assert!(browser.session.is_some(), "{attached}");
        browser
    }

    /// Calls a DevTools method and returns its `result`.
    async fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = serde_json::json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = serde_json::Value::String(session.clone());
        }
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
        loop {
            let reply = timeout(Duration::from_secs(30), self.socket.next())
                .await
                .expect("a DevTools reply within 30 s")
                .expect("DevTools socket open")
                .expect("no DevTools socket error");
            let Message::Text(text) = reply else { continue };
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            if value["id"] == id {
                assert!(value["error"].is_null(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    async fn eval(&mut self, expression: &str) -> serde_json::Value {
        let result = self
            .call(
                "Runtime.evaluate",
                serde_json::json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Waits (up to 45 s) until `expression` is true in the page.
    async fn wait_for(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(45);
        while self.eval(expression).await != serde_json::Value::Bool(true) {
            if Instant::now() > deadline {
                let dom = self.eval("document.body.innerText").await;
                panic!("the page never showed {what}; it shows:\n{dom}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_inspector_shows_a_live_session_its_turn_and_its_audio_in_chromium() {
    let binary = match chromium() {
        Ok(binary) => binary,
        Err(why) if in_ci() => panic!("the inspector test needs Chromium and cannot get it: {why}"),
        Err(why) => {
            eprintln!("NOT RUN (not in CI): the inspector test needs Chromium: {why}");
            return;
        }
    };
    let served = Served::start(&["--journal", "full", "--api-key", KEY]);
    let url = format!("http://{}/__understudy/?key={KEY}", served.authority);
    let mut browser = Browser::open(&binary, &url).await;
    browser
        .wait_for(
            "its live stream connected",
            "document.getElementById('status').textContent === 'live'",
        )
        .await;
    assert_eq!(
        browser.eval("location.search.includes('key')").await,
        false,
        "the key is dropped from the address bar"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#sessions tbody tr').length")
            .await,
        0
    );

    // A session starts while the page is open: the stream brings it in.
    let mut socket = served::openai_connect(&served, "", Some(KEY)).await;
    browser
        .wait_for(
            "the open session in the list",
            "[...document.querySelectorAll('#sessions tbody tr')].some(r => r.dataset.session === '1')",
        )
        .await;
    served::openai_turn(&mut socket).await;
    served::close(socket).await;
    browser
        .wait_for(
            "the turn in the timeline",
            "document.querySelector('#timeline').innerText.includes('end of turn 1')",
        )
        .await;
    browser
        .wait_for(
            "the session's turn count and TTFA",
            "document.querySelector('#sessions tbody tr td:nth-child(7)').textContent === '1' \
             && !!document.querySelector('#timeline .ttfa')",
        )
        .await;

    let timeline = browser
        .eval("document.querySelector('#timeline').innerText")
        .await;
    let timeline = timeline.as_str().unwrap();
    for expected in [
        "input_audio_buffer.commit",
        "response.output_audio.delta",
        "response.done",
        "TTFB ",
        "TTFA ",
    ] {
        assert!(timeline.contains(expected), "{expected} in:\n{timeline}");
    }
    // TTFA is TTFB plus leading silence, so never before it.
    let mark = |v: serde_json::Value| -> u64 {
        let text = v.as_str().unwrap_or_default().to_owned();
        text.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a latency mark: {text:?}"))
    };
    let ttfb = mark(
        browser
            .eval("document.querySelector('#timeline .ttfb').textContent")
            .await,
    );
    let ttfa = mark(
        browser
            .eval("document.querySelector('#timeline .ttfa').textContent")
            .await,
    );
    assert!(ttfa >= ttfb, "TTFA {ttfa} ms before TTFB {ttfb} ms");
    let row = browser
        .eval("document.querySelector('#sessions tbody tr').innerText")
        .await;
    let row = row.as_str().unwrap();
    assert!(
        row.contains("openai-ga") && row.contains("gpt-realtime") && row.contains("respond"),
        "{row}"
    );

    // Each audio element has the WAV route as its source, and it is a WAV
    // with samples.
    for (way, expected) in [("in", served::tone(300)), ("out", Vec::new())] {
        let src = browser
            .eval(&format!(
                "document.getElementById('audio-{way}').getAttribute('src')"
            ))
            .await;
        let src = src.as_str().unwrap_or_default().to_owned();
        assert!(
            src.starts_with(&format!("/__understudy/sessions/1/audio/{way}.wav")),
            "{way}: {src}"
        );
        let answer = served.request("GET", &src, &[]).await;
        assert_eq!(answer.code, 200, "{src}: {}", answer.text());
        let (pcm, rate) = understudy_fixtures::wav::read_pcm16(&answer.body).unwrap();
        assert_eq!(rate, 24_000);
        assert!(
            pcm.len() > 2_000 && pcm.iter().any(|b| *b != 0),
            "{way}: {} bytes",
            pcm.len()
        );
        if !expected.is_empty() {
            assert_eq!(pcm, expected, "{way}: the client's audio");
        }
        // Without the key the same route is refused.
        let bare = src.split('?').next().unwrap();
        assert_eq!(served.request("GET", bare, &[]).await.code, 401);
    }
    let download = browser
        .eval("document.getElementById('download').getAttribute('href')")
        .await;
    assert!(
        download
            .as_str()
            .is_some_and(|h| h.starts_with("/__understudy/sessions/1/cassette")),
        "{download}"
    );

    let shot = browser
        .call(
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        )
        .await;
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let path = std::env::var("UNDERSTUDY_INSPECTOR_SCREENSHOT")
        .unwrap_or_else(|_| "/work/tgt/inspector.png".into());
    match std::fs::write(&path, &png) {
        Ok(()) => eprintln!("screenshot: {path}"),
        Err(error) => eprintln!("screenshot not saved to {path}: {error}"),
    }
}
