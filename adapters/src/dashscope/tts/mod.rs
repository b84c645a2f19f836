//! DashScope Qwen-TTS realtime: streaming text in, audio out, over the same
//! WebSocket endpoint as Qwen-Omni (`/api-ws/v1/realtime?model=qwen…tts…`).
//!
//! [`QwenTtsRealtime`] is a [`TtsEngine`]. In `server_commit` mode (the
//! default) it takes arbitrary text deltas and the server decides where to cut
//! ([`TtsCapabilities::incremental_text`] is true); in `commit` mode every
//! pushed text is committed at once, so the caller pushes whole sentences.
//!
//! The protocol — handshake, text commands, audio, the end of a session — is
//! the pure [`QwenTtsCodec`] (time passed in, unit-tested without sockets);
//! this file is the engine's configuration and the thin transport around the
//! codec: the socket opened by the same `open_socket` every WebSocket adapter
//! uses, one loop that waits on the caller's commands, the socket and the
//! codec's deadline, and carries out what the codec asks.

pub mod codec;
pub mod wire;

use crate::audio::AudioFormat;
use crate::client::{
    frame_of, message_of, open_socket, tap_push, ClientError, FrameTap, Socket, TapDirection,
};
use crate::codec::WireFrame;
use crate::error_text::Failure;
use crate::registry::ConnectOptions;
use crate::tts::{
    AudioChunk, BoxFuture, TextCommand, TtsCapabilities, TtsEngine, TtsError, Utterance,
    UtteranceDriver,
};
pub use codec::{QwenTtsCodec, TtsStep};
use futures_util::{SinkExt, StreamExt};
use std::time::Instant;
pub use wire::{Mode, TtsClientEvent, TtsServerEvent, TtsSession, DIALECT};

/// The default model.
pub const DEFAULT_MODEL: &str = "qwen3-tts-flash-realtime";
/// The default voice (the SDK's).
pub const DEFAULT_VOICE: &str = "Cherry";
/// The default output rate.
pub const DEFAULT_SAMPLE_RATE: u32 = 24_000;

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
            connect: ConnectOptions::new(
                &crate::registry::table::DASHSCOPE_TTS,
                url,
                DEFAULT_MODEL,
            ),
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
                codec: QwenTtsCodec::new(self.session(), self.mode, Instant::now()),
                format: AudioFormat::pcm16(self.sample_rate),
                tap: self.tap.clone(),
            };
            session.handshake().await?;
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

/// One open Qwen-TTS connection: the socket and the codec that decides what
/// to do with it. This is the I/O half; the protocol is in [`codec`].
struct Session {
    socket: Socket,
    codec: QwenTtsCodec,
    format: AudioFormat,
    tap: Option<FrameTap>,
}

/// What woke the session.
enum Wake {
    /// A command from the caller (`None`: the caller dropped its input).
    Command(Option<TextCommand>),
    /// A frame (or the end of the socket), with when it was read.
    Frame(Option<Result<WireFrame, TtsError>>, Instant),
    /// The codec's deadline passed.
    Timeout,
}

impl Session {
    /// Runs the handshake: returns once the settings are acknowledged.
    async fn handshake(&mut self) -> Result<(), TtsError> {
        while !self.codec.is_ready() {
            let wake = tokio::select! {
                frame = next_frame(&mut self.socket) => Wake::Frame(frame, Instant::now()),
                () = sleep_until(self.codec.poll_timeout()) => Wake::Timeout,
            };
            self.on_wake(wake, None).await?;
        }
        Ok(())
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
        while !self.codec.is_done() {
            let listening = self.codec.listening();
            let wake = tokio::select! {
                command = driver.commands.recv(), if listening => Wake::Command(command),
                frame = next_frame(&mut self.socket) => Wake::Frame(frame, Instant::now()),
                () = sleep_until(self.codec.poll_timeout()) => Wake::Timeout,
            };
            if !self.on_wake(wake, Some(driver)).await? {
                return Ok(()); // nobody is listening any more
            }
        }
        Ok(())
    }

    /// Hands one wake-up to the codec and carries out what it asks; false
    /// when the caller stopped listening.
    async fn on_wake(
        &mut self,
        wake: Wake,
        mut driver: Option<&mut UtteranceDriver>,
    ) -> Result<bool, TtsError> {
        let (steps, received_at) = match wake {
            Wake::Command(command) => (self.codec.on_command(command)?, Instant::now()),
            Wake::Frame(None, _) => return self.codec.on_closed().map(|()| true),
            Wake::Frame(Some(Err(error)), _) => return self.codec.on_broken(error).map(|()| true),
            Wake::Frame(Some(Ok(frame)), received_at) => {
                tap_push(&self.tap, TapDirection::Received, &frame);
                (self.codec.on_frame(&frame, received_at)?, received_at)
            }
            Wake::Timeout => return self.codec.on_timeout(Instant::now()).map(|()| true),
        };
        for step in steps {
            match step {
                TtsStep::Send(frame) => self.send(frame).await?,
                TtsStep::Ready => {}
                TtsStep::Audio(pcm) => {
                    let chunk = AudioChunk {
                        pcm,
                        format: self.format,
                        received_at,
                    };
                    let Some(driver) = driver.as_deref_mut() else {
                        continue; // no audio before the handshake is over
                    };
                    if driver.audio.send(Ok(chunk)).await.is_err() {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    async fn send(&mut self, frame: WireFrame) -> Result<(), TtsError> {
        tap_push(&self.tap, TapDirection::Sent, &frame);
        self.socket.send(message_of(frame)).await.map_err(transport)
    }
}

/// The next frame off the socket (a binary frame is read as text: the
/// service speaks JSON only); `None` once the socket has ended.
async fn next_frame(socket: &mut Socket) -> Option<Result<WireFrame, TtsError>> {
    loop {
        match socket.next().await? {
            Err(error) => return Some(Err(transport(error))),
            Ok(message) => match frame_of(message) {
                Some(WireFrame::Binary(bytes)) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    return Some(Ok(WireFrame::Text(text)));
                }
                Some(frame) => return Some(Ok(frame)),
                None => continue,
            },
        }
    }
}

/// Sleeps until `deadline`; never wakes without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
