//! DashScope Qwen-TTS realtime: streaming text in, audio out, over the same
//! WebSocket endpoint as Qwen-Omni (`/api-ws/v1/realtime?model=qwen…tts…`).
//!
//! [`QwenTtsRealtime`] is a [`TtsEngine`]. In `server_commit` mode (the
//! default) it takes arbitrary text deltas and the server decides where to cut
//! ([`TtsCapabilities::incremental_text`] is true); in `commit` mode every
//! pushed text is committed at once, so the caller pushes whole sentences.
//! See `shared/protocols/dashscope-tts-realtime.md`.

pub mod wire;

use super::ConnectOptions;
use crate::audio::{AudioFormat, Pcm};
use crate::client::{open_socket, tap_push, ClientError, FrameTap, Socket, TapDirection};
use crate::codec::WireFrame;
use crate::dashscope::wire::Opaque;
use crate::error_text::Failure;
use crate::tts::{
    AudioChunk, BoxFuture, TextCommand, TtsCapabilities, TtsEngine, TtsError, Utterance,
    UtteranceDriver,
};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
pub use wire::{Mode, TtsClientEvent, TtsServerEvent, TtsSession, DIALECT};

/// The default model.
pub const DEFAULT_MODEL: &str = "qwen3-tts-flash-realtime";
/// The default voice (the SDK's).
pub const DEFAULT_VOICE: &str = "Cherry";
/// The default output rate.
pub const DEFAULT_SAMPLE_RATE: u32 = 24_000;
/// How long the server may take to greet and to acknowledge the settings.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// A Qwen-TTS realtime engine: where to connect and how to speak.
#[derive(Debug, Clone)]
pub struct QwenTtsRealtime {
    connect: ConnectOptions,
    voice: String,
    mode: Mode,
    language_type: Option<String>,
    sample_rate: u32,
    tap: Option<FrameTap>,
}

impl QwenTtsRealtime {
    /// An engine at `url` (`wss://dashscope.aliyuncs.com/api-ws/v1/realtime`, or
    /// a mock's `ws://…/api-ws/v1/realtime`) with the default model and voice,
    /// PCM at 24 kHz, `server_commit` mode.
    pub fn new(url: impl Into<String>) -> Self {
        QwenTtsRealtime {
            connect: ConnectOptions::new(url, DEFAULT_MODEL),
            voice: DEFAULT_VOICE.into(),
            mode: Mode::ServerCommit,
            language_type: None,
            sample_rate: DEFAULT_SAMPLE_RATE,
            tap: None,
        }
    }

    /// Logs every raw frame of every utterance to `tap` (recording a
    /// cassette, evidence for a report).
    pub fn tap(mut self, tap: FrameTap) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Uses these connection options (key, model, workspace, trust, query).
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.connect = options;
        self
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.connect = self.connect.api_key(key);
        self
    }

    /// Sets the model (`qwen3-tts-flash-realtime`, `qwen-tts-realtime`, …).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.connect.model = model.into();
        self
    }

    /// Sets the voice.
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = voice.into();
        self
    }

    /// Sets who decides where to cut: the server (`server_commit`) or the
    /// caller (`commit`: every push is committed).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the language hint (`English`, `Chinese`, …; `Auto` by default).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language_type = Some(language.into());
        self
    }

    /// Sets the output rate (8000, 16000, 24000, 48000).
    pub fn sample_rate(mut self, rate: u32) -> Self {
        self.sample_rate = rate;
        self
    }

    /// The `session.update` this engine sends.
    pub fn session(&self) -> TtsSession {
        TtsSession {
            voice: Some(self.voice.clone()),
            mode: Some(self.mode.as_str().into()),
            language_type: self.language_type.clone(),
            response_format: Some("pcm".into()),
            sample_rate: Some(self.sample_rate),
            ..Default::default()
        }
    }
}

impl TtsEngine for QwenTtsRealtime {
    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities {
            incremental_text: self.mode == Mode::ServerCommit,
            output: AudioFormat::pcm16(self.sample_rate),
        }
    }

    fn start(&self) -> BoxFuture<'_, Result<Utterance, TtsError>> {
        Box::pin(async move {
            let request = self.connect.request().map_err(transport)?;
            let socket = open_socket(request, &self.connect.trust)
                .await
                .map_err(|e| match e {
                    ClientError::Rejected { status, url } => TtsError::Http {
                        status,
                        body: format!("{url} refused the WebSocket upgrade"),
                    },
                    other => transport(other),
                })?;
            let mut session = Session {
                socket,
                mode: self.mode,
                format: AudioFormat::pcm16(self.sample_rate),
                tap: self.tap.clone(),
            };
            session.handshake(self.session()).await?;
            let (utterance, driver) = Utterance::channel();
            tokio::spawn(session.run(driver));
            Ok(utterance)
        })
    }
}

/// A socket or connection error as a [`TtsError`], keeping it as the source.
fn transport(error: impl std::error::Error + Send + Sync + 'static) -> TtsError {
    TtsError::Transport(Failure::because(error.to_string(), error))
}

/// One open Qwen-TTS connection.
struct Session {
    socket: Socket,
    mode: Mode,
    format: AudioFormat,
    tap: Option<FrameTap>,
}

/// What one server frame means to the utterance.
enum Heard {
    Audio(Pcm),
    Finished,
    Nothing,
}

impl Session {
    async fn send(&mut self, event: &TtsClientEvent) -> Result<(), TtsError> {
        let text = serde_json::to_string(event)
            .map_err(|e| TtsError::Protocol(Failure::because(e.to_string(), e)))?;
        tap_push(
            &self.tap,
            TapDirection::Sent,
            &WireFrame::Text(text.clone()),
        );
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(transport)
    }

    /// The next server event; `None` when the socket closed.
    async fn next(&mut self) -> Result<Option<TtsServerEvent>, TtsError> {
        loop {
            let Some(message) = self.socket.next().await else {
                return Ok(None);
            };
            let text = match message.map_err(transport)? {
                Message::Text(text) => text.to_string(),
                Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Message::Close(close) => {
                    let frame = WireFrame::Close {
                        code: close.as_ref().map(|c| u16::from(c.code)),
                        reason: close.map(|c| c.reason.to_string()).unwrap_or_default(),
                    };
                    tap_push(&self.tap, TapDirection::Received, &frame);
                    return Ok(None);
                }
                _ => continue,
            };
            tap_push(
                &self.tap,
                TapDirection::Received,
                &WireFrame::Text(text.clone()),
            );
            return serde_json::from_str(&text).map(Some).map_err(|e| {
                let message = format!("unreadable server event: {e}");
                TtsError::Protocol(Failure::because(message, e))
            });
        }
    }

    /// Waits for `session.created`, sends the settings, waits for `session.updated`.
    async fn handshake(&mut self, settings: TtsSession) -> Result<(), TtsError> {
        self.expect("session.created").await?;
        self.send(&TtsClientEvent::SessionUpdate(wire::SessionUpdate {
            event_id: Some(event_id()),
            session: Box::new(settings),
            ..Default::default()
        }))
        .await?;
        self.expect("session.updated").await
    }

    async fn expect(&mut self, wanted: &str) -> Result<(), TtsError> {
        let deadline = tokio::time::Instant::now() + HANDSHAKE_LIMIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.next())
                .await
                .map_err(|_| {
                    TtsError::Protocol(Failure::new(format!(
                        "no `{wanted}` within {HANDSHAKE_LIMIT:?}"
                    )))
                })??;
            match event {
                Some(TtsServerEvent::Error(error)) => return Err(provider_error(&error)),
                Some(event) if event.event_type() == wanted => return Ok(()),
                Some(_) => continue,
                None => {
                    return Err(TtsError::Transport(Failure::new(format!(
                        "the server closed before `{wanted}`"
                    ))))
                }
            }
        }
    }

    /// What a server event means for the caller.
    fn hear(&self, event: TtsServerEvent) -> Result<Heard, TtsError> {
        match event {
            TtsServerEvent::ResponseAudioDelta(delta) => Pcm::from_base64(&delta.delta)
                .map(Heard::Audio)
                .map_err(|e| {
                    let message = format!("audio delta is not base64: {e}");
                    TtsError::Protocol(Failure::because(message, e))
                }),
            TtsServerEvent::SessionFinished(_) => Ok(Heard::Finished),
            TtsServerEvent::Error(error) => Err(provider_error(&error)),
            TtsServerEvent::Unknown(map) => {
                tracing::debug!(event = ?map.get("type"), "unknown Qwen-TTS server event");
                Ok(Heard::Nothing)
            }
            _ => Ok(Heard::Nothing),
        }
    }

    /// Feeds the caller's text in and the server's audio out until the session
    /// is finished, cancelled, or fails (the failure is the last item the caller reads).
    async fn run(mut self, mut driver: UtteranceDriver) {
        if let Err(error) = self.pump(&mut driver).await {
            let _ = driver.audio.send(Err(error)).await;
        }
        let _ = self.socket.close(None).await;
    }

    async fn pump(&mut self, driver: &mut UtteranceDriver) -> Result<(), TtsError> {
        let mut finishing = false;
        // Open until the caller drops its input; a cancel after `finish` (the
        // text is complete, the audio is not) must still stop the audio.
        let mut listening = true;
        loop {
            tokio::select! {
                command = driver.commands.recv(), if listening => match command {
                    Some(TextCommand::Text(_)) if finishing => {
                        tracing::debug!("text after finish ignored");
                    }
                    Some(TextCommand::Text(text)) if text.is_empty() => {}
                    Some(TextCommand::Text(text)) => {
                        self.append(text).await?;
                    }
                    Some(TextCommand::Finish) if finishing => {}
                    None if finishing => listening = false,
                    Some(TextCommand::Finish) | None => {
                        finishing = true;
                        self.send(&TtsClientEvent::SessionFinish(opaque())).await?;
                    }
                    Some(TextCommand::Cancel) => {
                        // No barge-in in this protocol: drop the buffer and leave.
                        self.send(&TtsClientEvent::InputTextBufferClear(opaque())).await?;
                        return Ok(());
                    }
                },
                event = self.next() => match event? {
                    None if finishing => {
                        return Err(TtsError::Transport(
                            "the server closed without `session.finished`".into(),
                        ))
                    }
                    None => {
                        return Err(TtsError::Transport(
                            "the server closed the session mid-utterance".into(),
                        ))
                    }
                    Some(event) => match self.hear(event)? {
                        Heard::Audio(pcm) => {
                            let chunk = AudioChunk {
                                pcm,
                                format: self.format,
                                received_at: Instant::now(),
                            };
                            if driver.audio.send(Ok(chunk)).await.is_err() {
                                return Ok(()); // nobody is listening any more
                            }
                        }
                        Heard::Finished => {
                            self.await_close().await;
                            return Ok(());
                        }
                        Heard::Nothing => {}
                    },
                },
            }
        }
    }

    /// After `session.finished` the server closes: wait briefly for its close
    /// frame, so the session ends the way the service ends it.
    async fn await_close(&mut self) {
        let wait = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(Some(_)) = self.next().await {}
        });
        if wait.await.is_err() {
            tracing::debug!("no close within 2 s of session.finished; closing ourselves");
        }
    }

    async fn append(&mut self, text: String) -> Result<(), TtsError> {
        self.send(&TtsClientEvent::InputTextBufferAppend(wire::TextAppend {
            event_id: Some(event_id()),
            text,
            ..Default::default()
        }))
        .await?;
        if self.mode == Mode::Commit {
            self.send(&TtsClientEvent::InputTextBufferCommit(opaque()))
                .await?;
        }
        Ok(())
    }
}

fn provider_error(error: &crate::dashscope::wire::ErrorEvent) -> TtsError {
    TtsError::Provider {
        code: error
            .error
            .code
            .clone()
            .flatten()
            .unwrap_or_else(|| error.error.kind.clone()),
        message: error.error.message.clone(),
    }
}

fn opaque() -> Opaque {
    Opaque {
        event_id: Some(event_id()),
        ..Default::default()
    }
}

/// A client event id in the SDK's shape (`event_<32 hex>`).
fn event_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("event_{nanos:016x}{n:016x}")
}
