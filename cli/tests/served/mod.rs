//! A real `understudy serve` for the journal and inspector tests: started on
//! a free port with its log captured, spoken to over raw HTTP (so a test sees
//! exactly the status, headers and bytes), over the live stream, and over a
//! WebSocket session with audio both ways.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// `understudy serve` on a free port with its stderr captured; killed on drop.
pub struct Served {
    child: Child,
    pub authority: String,
    stderr: Arc<Mutex<String>>,
}

/// An HTTP answer as it came.
pub struct Answer {
    pub code: u16,
    /// The header block, lower-cased.
    pub headers: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_owned()))
    }
}

impl Served {
    pub fn start(args: &[&str]) -> Served {
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
    pub fn log_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.stderr.lock().unwrap().clone();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One raw HTTP/1.0 request (so the body is never chunked).
    pub async fn request(&self, method: &str, path: &str, headers: &[&str]) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .unwrap();
        let mut request = format!("{method} {path} HTTP/1.0\r\nHost: x\r\n");
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        timeout(Duration::from_secs(20), stream.read_to_end(&mut response))
            .await
            .expect("an answer within 20 s")
            .unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
        Answer {
            code: head[9..12].parse().unwrap(),
            headers: head,
            body: response[split + 4..].to_vec(),
        }
    }

    /// One raw HTTP request: the status code and the body as text.
    pub async fn http(&self, method: &str, path: &str, headers: &[&str]) -> (u16, String) {
        let answer = self.request(method, path, headers).await;
        (answer.code, answer.text())
    }

    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.authority)
    }

    /// Subscribes to `GET /__understudy/stream` (with `query`).
    pub async fn stream(&self, query: &str) -> Sse {
        let mut stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .unwrap();
        let request = format!("GET /__understudy/stream{query} HTTP/1.0\r\nHost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut sse = Sse {
            stream,
            buffer: String::new(),
        };
        let head = sse.block(Duration::from_secs(10)).await.expect("headers");
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        sse
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A subscriber of the live stream, read block by block.
pub struct Sse {
    stream: tokio::net::TcpStream,
    buffer: String,
}

/// One SSE block: its `event:` name (empty for a comment) and `data:`.
#[derive(Debug)]
pub struct SseEvent {
    pub name: String,
    pub data: String,
    /// The raw block (a comment is `: heartbeat`).
    pub raw: String,
}

impl Sse {
    /// The next blank-line-terminated block within `wait`.
    async fn block(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].replace('\r', "");
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            if let Some(end) = self.buffer.find("\r\n\r\n") {
                let block = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 4);
                return Some(block);
            }
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return None,
            };
            self.buffer.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    }

    /// The next event or comment within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let raw = self.block(wait).await?;
        let mut name = String::new();
        let mut data = String::new();
        for line in raw.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
        Some(SseEvent { name, data, raw })
    }

    /// Events until one named `name` arrives for `session` (within 10 s).
    pub async fn until(&mut self, name: &str, session: u64) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let Some(event) = self.next(Duration::from_secs(10)).await else {
                break;
            };
            let done = event.name == name
                && serde_json::from_str::<serde_json::Value>(&event.data)
                    .is_ok_and(|v| v["session"] == session);
            seen.push(event);
            if done {
                return seen;
            }
        }
        panic!("no `{name}` for session {session}; saw {seen:?}");
    }
}

/// 24 kHz PCM16 of a 440 Hz tone, `ms` long.
pub fn tone(ms: usize) -> Vec<u8> {
    (0..24 * ms)
        .flat_map(|i| {
            {
                let t = i as f64 / 24_000.0;
                ((t * 440.0 * std::f64::consts::TAU).sin() * 8_000.0) as i16
            }
            .to_le_bytes()
        })
        .collect()
}

/// An OpenAI GA WebSocket session.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects an OpenAI GA session (`query` appended to the URL, `key` sent
/// as `Authorization: Bearer` when given).
pub async fn openai_connect(served: &Served, query: &str, key: Option<&str>) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = served.ws(&format!("/v1/realtime?model=gpt-realtime{query}"));
    let mut request = url.into_client_request().unwrap();
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
    }
    connect_async(request).await.expect("connect").0
}

/// One turn against the respond engine (or a cassette of one): manual
/// turns, 300 ms of audio in, commit, `response.create`, until
/// `response.done`; returns the server event types in order.
pub async fn openai_turn(socket: &mut Socket) -> Vec<String> {
    use base64::Engine as _;
    let audio = base64::engine::general_purpose::STANDARD.encode(tone(300));
    let frames = [
        serde_json::json!({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": null}}}}),
        serde_json::json!({"type": "input_audio_buffer.append", "audio": audio}),
        serde_json::json!({"type": "input_audio_buffer.commit"}),
        serde_json::json!({"type": "response.create"}),
    ];
    for frame in frames {
        socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
    let mut types = Vec::new();
    loop {
        let message = timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a frame within 20 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let kind = value["type"].as_str().unwrap_or_default().to_owned();
            assert_ne!(kind, "error", "{text}");
            types.push(kind.clone());
            if kind == "response.done" {
                break;
            }
        }
    }
    types
}

/// Closes a session and waits until the server has seen it.
pub async fn close(mut socket: Socket) {
    socket.close(None).await.unwrap();
    while let Ok(Some(Ok(_))) = timeout(Duration::from_secs(5), socket.next()).await {}
}

/// Connects, runs one [`openai_turn`] and closes; the server event types.
pub async fn openai_audio_turn(served: &Served, query: &str) -> Vec<String> {
    let mut socket = openai_connect(served, query, None).await;
    let types = openai_turn(&mut socket).await;
    close(socket).await;
    types
}
