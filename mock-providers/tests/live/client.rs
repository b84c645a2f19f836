//! A raw GPT-Live client for the mock's tests: a reader task collects every
//! frame (so the mock never blocks on a full socket while the test streams
//! audio), audio is streamed in 20 ms frames the way integrations do.

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use understudy_mock::MockServer;

/// What the reader saw.
#[derive(Debug)]
pub enum Seen {
    Json(Value),
    Close(u16),
}

pub struct LiveClient {
    sink: futures_util::stream::SplitSink<super::support::Socket, Message>,
    rx: mpsc::UnboundedReceiver<Seen>,
}

/// A bundled utterance's PCM16 bytes at 24 kHz.
pub fn audio_of(name: &str) -> Vec<u8> {
    let wav = understudy_fixtures::bundled::audio(name).unwrap();
    let (pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).unwrap();
    assert_eq!(rate, 24_000);
    pcm
}

/// Whether an output delta carries non-silent samples.
pub fn loud(delta: &Value) -> bool {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(delta["delta"].as_str().unwrap())
        .unwrap();
    bytes
        .chunks_exact(2)
        .any(|p| i16::from_le_bytes([p[0], p[1]]).unsigned_abs() > 64)
}

impl LiveClient {
    pub async fn connect(server: &MockServer) -> Self {
        Self::connect_to(&server.openai_live_url()).await
    }

    pub async fn connect_with_key(server: &MockServer, key: &str) -> Self {
        let bearer = format!("Bearer {key}");
        let socket =
            super::support::raw_connect(&server.openai_live_url(), &[("authorization", &bearer)])
                .await;
        Self::wrap(socket)
    }

    pub async fn connect_to(url: &str) -> Self {
        let socket = super::support::raw_connect(url, &[("authorization", "Bearer sk-test")]).await;
        Self::wrap(socket)
    }

    pub fn from_socket(socket: super::support::Socket) -> Self {
        Self::wrap(socket)
    }

    fn wrap(socket: super::support::Socket) -> Self {
        let (sink, mut stream) = socket.split();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = stream.next().await {
                let message = match message {
                    Ok(message) => message,
                    Err(error) => {
                        eprintln!("live client: socket error {error}");
                        break;
                    }
                };
                let seen = match message {
                    Message::Text(text) => Seen::Json(serde_json::from_str(&text).unwrap()),
                    Message::Close(frame) => Seen::Close(frame.map_or(1005, |f| u16::from(f.code))),
                    _ => continue,
                };
                if tx.send(seen).is_err() {
                    break;
                }
            }
        });
        LiveClient { sink, rx }
    }

    pub async fn send(&mut self, event: Value) {
        self.sink
            .send(Message::Text(event.to_string().into()))
            .await
            .unwrap();
    }

    /// Streams `pcm` then `silence_ms` of silence in 20 ms appends; returns
    /// the milliseconds streamed.
    pub async fn stream_with_silence(&mut self, pcm: &[u8], silence_ms: usize) -> u64 {
        let mut audio = pcm.to_vec();
        audio.extend(vec![0u8; 48 * silence_ms]);
        for frame in audio.chunks(960) {
            let encoded = base64::engine::general_purpose::STANDARD.encode(frame);
            self.send(serde_json::json!({"type": "session.input_audio.append", "audio": encoded}))
                .await;
        }
        (audio.len() / 48) as u64
    }

    async fn next(&mut self, wait: Duration) -> Option<Seen> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next JSON frame (10 s at most).
    pub async fn next_json(&mut self) -> Value {
        match self.next(Duration::from_secs(10)).await {
            Some(Seen::Json(value)) => value,
            other => panic!("expected a JSON frame, got {other:?}"),
        }
    }

    /// The next frame of type `kind`, skipping others.
    pub async fn next_json_of(&mut self, kind: &str) -> Value {
        loop {
            let value = self.next_json().await;
            if value["type"] == kind {
                return value;
            }
        }
    }

    /// The close code that ends the socket (JSON frames before it skipped).
    pub async fn next_close(&mut self) -> u16 {
        loop {
            match self.next(Duration::from_secs(10)).await {
                Some(Seen::Close(code)) => return code,
                Some(Seen::Json(_)) => continue,
                None => panic!("no close frame"),
            }
        }
    }

    /// The frames already received, without waiting.
    pub fn ready(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(seen) = self.rx.try_recv() {
            match seen {
                Seen::Json(value) => out.push(value),
                Seen::Close(code) => panic!("closed with {code}"),
            }
        }
        out
    }

    /// Every frame until the mock has been quiet for 300 ms.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(seen) = self.next(Duration::from_millis(300)).await {
            match seen {
                Seen::Json(value) => out.push(value),
                Seen::Close(code) => panic!("closed with {code} while draining"),
            }
        }
        out
    }
}
