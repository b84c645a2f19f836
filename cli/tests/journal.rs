//! The journal as `understudy serve` users meet it: keyed like the provider
//! routes under `--require-auth`, cleared by `DELETE`, and a replay that goes
//! wrong (or a client that sends something invalid) is a `warn` line in the
//! server's log, not only a journal entry.

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// `understudy serve` on a free port with its stderr captured; killed on drop.
struct Served {
    child: Child,
    authority: String,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["serve", "--port", "0"])
            .args(args)
            .env_remove("UNDERSTUDY_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start understudy serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the serving line");
        let authority = line
            .trim()
            .strip_prefix("understudy serving on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Served {
            child,
            authority,
            stderr,
        }
    }

    /// The server's log once it holds `needle` (or after 10 s, whatever it holds).
    fn log_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.stderr.lock().unwrap().clone();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One raw HTTP/1.1 request: the status line's code and the body.
    async fn http(&self, method: &str, path: &str, headers: &[&str]) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let code = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (code, body)
    }

    fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.authority)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn under_require_auth_every_journal_route_wants_a_key() {
    let served = Served::start(&["--api-key", "sk-journal"]);
    for (method, path) in [
        ("GET", "/__understudy/journal"),
        ("GET", "/__understudy/journal?offset=0&limit=5"),
        ("GET", "/__understudy/journal/stats"),
        ("DELETE", "/__understudy/journal"),
        ("GET", "/__understudy/sessions"),
        ("GET", "/__understudy/sessions/1"),
    ] {
        for refused in [&[][..], &["Authorization: Bearer sk-wrong"][..]] {
            let (code, body) = served.http(method, path, refused).await;
            assert_eq!(code, 401, "{method} {path} {refused:?}: {body}");
            assert!(body.contains("invalid_api_key"), "{body}");
        }
    }
    let key = ["Authorization: Bearer sk-journal"];
    let (code, body) = served.http("GET", "/__understudy/journal", &key).await;
    assert_eq!((code, body.as_str()), (200, "[]"));
    let (code, body) = served
        .http(
            "GET",
            "/__understudy/journal/stats",
            &["x-goog-api-key: sk-journal"],
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["mode"], "summary");
    assert_eq!(stats["caps"]["max_sessions"], 1000);
    assert_eq!(
        served.http("DELETE", "/__understudy/journal", &key).await.0,
        204
    );
    // Health stays open: it says nothing about anyone's sessions.
    assert_eq!(served.http("GET", "/__understudy/health", &[]).await.0, 200);
}

#[tokio::test]
async fn journal_off_keeps_nothing_and_delete_clears() {
    let off = Served::start(&["--journal", "off"]);
    let (code, body) = off.http("GET", "/__understudy/journal", &[]).await;
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("journal is off"), "{body}");

    let served = Served::start(&["--journal-max-sessions", "2"]);
    for n in 0..3 {
        let url = served.ws("/v1/realtime?model=gpt-realtime");
        let (mut socket, _) = connect_async(url).await.unwrap();
        first_text(&mut socket).await;
        socket
            .send(Message::Text(
                format!(r#"{{"type":"no.such.event.{n}"}}"#).into(),
            ))
            .await
            .unwrap();
        first_text(&mut socket).await;
        socket.close(None).await.unwrap();
    }
    let (code, body) = served.http("GET", "/__understudy/journal/stats", &[]).await;
    assert_eq!(code, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            stats["sessions"].as_u64(),
            stats["evicted_sessions"].as_u64()
        ),
        (Some(2), Some(1)),
        "{stats}"
    );
    let (_, body) = served
        .http("GET", "/__understudy/journal?limit=1", &[])
        .await;
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["session"], 2, "the oldest was evicted: {page}");
    assert_eq!(
        served.http("DELETE", "/__understudy/journal", &[]).await.0,
        204
    );
    assert_eq!(
        served.http("GET", "/__understudy/journal", &[]).await.1,
        "[]"
    );
}

#[tokio::test]
async fn an_unknown_cassette_is_a_warning_and_the_close_names_it() {
    let served = Served::start(&["--engine", "replay"]);
    let url = served.ws("/v1/realtime?model=gpt-realtime&cassette=no-such-cassette");
    let (mut socket, _) = connect_async(url).await.unwrap();
    let mut reason = None;
    while let Ok(Some(Ok(message))) = timeout(Duration::from_secs(10), socket.next()).await {
        if let Message::Close(Some(close)) = message {
            reason = Some(close.reason.to_string());
            break;
        }
    }
    assert_eq!(
        reason.as_deref(),
        Some("no cassette named `no-such-cassette`")
    );
    let log = served.log_with("no-such-cassette");
    let line = log
        .lines()
        .find(|l| l.contains("no-such-cassette") && l.contains("WARN"))
        .unwrap_or_else(|| panic!("no warn line names the cassette:\n{log}"));
    assert!(
        line.contains("loaded:"),
        "the line names what is loaded: {line}"
    );
}

#[tokio::test]
async fn a_misspelt_cassette_gets_a_suggestion_and_the_log_has_no_colour_codes() {
    let served = Served::start(&["--engine", "replay"]);
    let url = served.ws("/v1/realtime?model=gpt-realtime&cassette=ga-text-trun");
    let (mut socket, _) = connect_async(url).await.unwrap();
    let mut reason = None;
    while let Ok(Some(Ok(message))) = timeout(Duration::from_secs(10), socket.next()).await {
        if let Message::Close(Some(close)) = message {
            reason = Some(close.reason.to_string());
            break;
        }
    }
    assert_eq!(
        reason.as_deref(),
        Some("no cassette named `ga-text-trun` (did you mean `openai/ga-text-turn`?)")
    );
    let log = served.log_with("ga-text-trun");
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("did you mean `openai/ga-text-turn`?")),
        "the warn line suggests the name:\n{log}"
    );
    // stderr is a pipe here, not a terminal: no ANSI escapes in the log.
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a redirected log:\n{log:?}"
    );
}

#[tokio::test]
async fn a_client_that_sends_something_invalid_is_a_warning() {
    let served = Served::start(&[]);
    let (mut socket, _) = connect_async(served.ws("/v1/realtime?model=gpt-realtime"))
        .await
        .unwrap();
    first_text(&mut socket).await;
    socket
        .send(Message::Text(r#"{"type":"response.creat"}"#.into()))
        .await
        .unwrap();
    let error = first_text(&mut socket).await;
    assert!(error.contains("\"error\""), "{error}");
    let log = served.log_with("invalid event");
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("invalid event")
            && l.contains("response.creat")),
        "no warn line for the invalid event:\n{log}"
    );
}

/// The next text frame.
async fn first_text<S>(socket: &mut S) -> String
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return text.to_string();
        }
    }
}
