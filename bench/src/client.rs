//! A realtime client as a real one behaves: an OpenAI GA session opened with
//! the adapters' registry (`ConnectOptions`: the same URL, headers and
//! handshake the adapter uses) and frames made by the dialect's own codec
//! (`conversation.item.create`, `response.create`). The socket is read raw,
//! each frame only as far as its `type`, so the client spends little CPU
//! next to the server it measures.

use crate::error::{BenchError, Result};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use understudy_adapters::client::{open_socket, Socket};
use understudy_adapters::input::ResponseOptions;
use understudy_adapters::registry::{self, ConnectOptions};
use understudy_adapters::tls::TlsTrust;
use understudy_adapters::{ClientInput, RealtimeCodec, WireFrame};

/// The dialect every bench session speaks.
pub const DIALECT: &str = "openai-ga";
/// The model every bench session asks for.
pub const MODEL: &str = "gpt-realtime";
/// Event type of an audio chunk.
pub const AUDIO_DELTA: &str = "response.output_audio.delta";
/// Event type that ends a response.
pub const RESPONSE_DONE: &str = "response.done";

/// An open session.
pub struct Session {
    socket: Socket,
    codec: Box<dyn RealtimeCodec>,
}

/// What one response took, seen by the client.
#[derive(Debug, Clone, Copy, Default)]
pub struct Turn {
    /// From the turn's last client frame to the first audio delta.
    pub ttfa: Option<Duration>,
    /// Server frames received until `response.done` (included).
    pub frames: u64,
    /// Audio deltas among them.
    pub audio_deltas: u64,
}

/// The `type` of a JSON event, read without building the whole value.
pub fn event_type(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Head<'_>>(text)
        .ok()
        .map(|h| h.kind.into_owned())
}

/// The connect options every bench session uses, for `ws_base`.
fn options(ws_base: &str) -> Result<ConnectOptions> {
    let dialect = registry::dialect(DIALECT)
        .map_err(|e| BenchError::Protocol(format!("dialect {DIALECT}: {e}")))?;
    Ok(ConnectOptions::new(dialect, format!("{ws_base}/v1"), MODEL).api_key("sk-bench"))
}

/// The dialect's codec, for frames encoded once and sent by many sessions.
pub fn codec() -> Result<Box<dyn RealtimeCodec>> {
    Ok(options("ws://127.0.0.1:0")?.codec()?)
}

/// The text frames `input` encodes to (a bench sends text frames only).
pub fn encode_text(codec: &mut dyn RealtimeCodec, input: &ClientInput) -> Result<Vec<String>> {
    Ok(codec
        .encode(input)?
        .into_iter()
        .filter_map(|frame| match frame {
            WireFrame::Text(text) => Some(text),
            _ => None,
        })
        .collect())
}

impl Session {
    /// Connects to the server at `ws_base` (`ws://host:port`), asking for
    /// `cassette` when given, and waits for the greeting (`session.created`).
    /// Returns the session and the time from connect to greeting.
    pub async fn open(ws_base: &str, cassette: Option<&str>) -> Result<(Session, Duration)> {
        let mut options = options(ws_base)?;
        if let Some(name) = cassette {
            options = options.cassette(name);
        }
        let started = Instant::now();
        let socket = open_socket(options.request()?, &TlsTrust::System).await?;
        let mut session = Session {
            socket,
            codec: options.codec()?,
        };
        loop {
            match session.next_type().await? {
                Some(kind) if kind == "session.created" => break,
                Some(kind) if kind == "error" => {
                    return Err(BenchError::Protocol(
                        "the server refused the session".into(),
                    ))
                }
                Some(_) => continue,
                None => {
                    return Err(BenchError::Protocol(
                        "the server closed before session.created".into(),
                    ))
                }
            }
        }
        Ok((session, started.elapsed()))
    }

    /// Sends `inputs` through the dialect's codec.
    async fn send(&mut self, inputs: &[ClientInput]) -> Result<()> {
        for input in inputs {
            for frame in self.codec.encode(input)? {
                let message = match frame {
                    WireFrame::Text(text) => Message::text(text),
                    WireFrame::Binary(bytes) => Message::binary(bytes),
                    WireFrame::Close { .. } => continue,
                };
                self.socket.feed(message).await?;
            }
        }
        self.socket.flush().await?;
        Ok(())
    }

    /// The type of the next server event; `None` when the socket closed.
    async fn next_type(&mut self) -> Result<Option<String>> {
        while let Some(message) = self.socket.next().await {
            match message? {
                Message::Text(text) => {
                    return event_type(text.as_str())
                        .map(Some)
                        .ok_or_else(|| BenchError::Protocol(format!("untyped frame: {text:.120}")))
                }
                Message::Binary(bytes) => {
                    let text = std::str::from_utf8(&bytes)
                        .map_err(|_| BenchError::Protocol("binary frame is not UTF-8".into()))?;
                    return event_type(text).map(Some).ok_or_else(|| {
                        BenchError::Protocol(format!("untyped frame: {text:.120}"))
                    });
                }
                Message::Close(_) => return Ok(None),
                _ => continue,
            }
        }
        Ok(None)
    }

    /// A user text turn: the message, then `response.create`; read until
    /// `response.done`.
    pub async fn text_turn(&mut self, text: &str) -> Result<Turn> {
        let inputs = [
            ClientInput::Text { text: text.into() },
            ClientInput::CreateResponse(ResponseOptions::default()),
        ];
        self.turn(&inputs).await
    }

    /// Only `response.create` (what the replay benchmark's cassette expects);
    /// read until `response.done`.
    pub async fn respond(&mut self) -> Result<Turn> {
        self.turn(&[ClientInput::CreateResponse(ResponseOptions::default())])
            .await
    }

    /// [`respond`](Self::respond), calling `seen` with each server frame's
    /// type and arrival instant (read as the frame is taken off the socket).
    pub async fn respond_observed(
        &mut self,
        seen: &mut (dyn FnMut(&str, Instant) + Send),
    ) -> Result<Turn> {
        self.turn_observed(
            &[ClientInput::CreateResponse(ResponseOptions::default())],
            seen,
        )
        .await
    }

    /// The socket, for a client that reads and writes it itself (after the
    /// greeting).
    pub fn into_socket(self) -> Socket {
        self.socket
    }

    async fn turn(&mut self, inputs: &[ClientInput]) -> Result<Turn> {
        self.turn_observed(inputs, &mut |_, _| {}).await
    }

    async fn turn_observed(
        &mut self,
        inputs: &[ClientInput],
        seen: &mut (dyn FnMut(&str, Instant) + Send),
    ) -> Result<Turn> {
        self.send(inputs).await?;
        let sent = Instant::now();
        let mut turn = Turn::default();
        loop {
            let Some(kind) = self.next_type().await? else {
                return Err(BenchError::Protocol(format!(
                    "the server closed after {} frames, before response.done",
                    turn.frames
                )));
            };
            turn.frames += 1;
            seen(&kind, Instant::now());
            match kind.as_str() {
                AUDIO_DELTA => {
                    turn.audio_deltas += 1;
                    turn.ttfa.get_or_insert_with(|| sent.elapsed());
                }
                RESPONSE_DONE => return Ok(turn),
                "error" => {
                    return Err(BenchError::Protocol(
                        "the server answered the turn with an error event".into(),
                    ))
                }
                _ => {}
            }
        }
    }

    /// Closes the socket politely and waits for the server's close.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
        while let Some(Ok(_)) = self.socket.next().await {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_type() {
        assert_eq!(
            event_type(r#"{"type":"response.done","response":{"type":"x"}}"#).as_deref(),
            Some("response.done")
        );
        assert_eq!(
            event_type(r#"{"delta":"AAAA","type":"response.output_audio.delta"}"#).as_deref(),
            Some(AUDIO_DELTA)
        );
        assert_eq!(event_type("not json"), None);
    }
}
