//! The Qwen-TTS realtime protocol as a pure state machine: wire frames and
//! the caller's text commands in, frames to send and audio out. No sockets,
//! no timers: the engine's transport (the parent module) passes the time in and asks
//! [`QwenTtsCodec::poll_timeout`] when to wake.
//!
//! One utterance is one session, in phases:
//!
//! 1. **Greeting** — wait for `session.created`, then send the settings
//!    (`session.update`);
//! 2. **Configuring** — wait for `session.updated`: the utterance is ready;
//! 3. **Speaking** — every text push is an `input_text_buffer.append` (plus
//!    a `commit` in `commit` mode); audio deltas become PCM for the caller;
//! 4. **Finishing** — the caller finished (or dropped its input):
//!    `session.finish` was sent, audio still comes until `session.finished`;
//! 5. **Closing** — the server said `session.finished` and closes: wait a
//!    little for its close frame, so the session ends the way the service
//!    ends it;
//! 6. **Done** — nothing more to do (also straight after a cancel: the
//!    protocol has no barge-in, the buffer is cleared and the client leaves).
//!
//! Each of the two handshake waits has its own [`HANDSHAKE_LIMIT`]; an error
//! event fails the utterance with the provider's code and message.

use super::wire::{self, Mode, TtsClientEvent, TtsServerEvent, TtsSession};
use crate::audio::Pcm;
use crate::codec::WireFrame;
use crate::dashscope::wire::{ErrorEvent, Opaque};
use crate::error_text::Failure;
use crate::tts::{TextCommand, TtsError};
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// How long the server may take to greet, and then to acknowledge the settings.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// How long to wait for the server's close after `session.finished`.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// What the codec asks of its transport, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum TtsStep {
    /// Send this frame to the server.
    Send(WireFrame),
    /// The handshake is complete: the utterance can take text.
    Ready,
    /// Audio for the caller (PCM16 mono at the configured rate).
    Audio(Pcm),
}

/// Where the session is (see the module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting { by: Instant },
    Configuring { by: Instant },
    Speaking,
    Finishing,
    Closing { by: Instant },
    Done,
}

/// One Qwen-TTS realtime session's protocol state.
#[derive(Debug)]
pub struct QwenTtsCodec {
    settings: TtsSession,
    mode: Mode,
    phase: Phase,
    /// The caller's command channel is still read (it is not once the caller
    /// dropped its input after finishing).
    listening: bool,
}

impl QwenTtsCodec {
    /// A session that has just connected at `now` and will configure itself
    /// with `settings`; in `mode`, every pushed text is committed at once
    /// ([`Mode::Commit`]) or left to the server ([`Mode::ServerCommit`]).
    pub fn new(settings: TtsSession, mode: Mode, now: Instant) -> Self {
        QwenTtsCodec {
            settings,
            mode,
            phase: Phase::Greeting {
                by: now + HANDSHAKE_LIMIT,
            },
            listening: true,
        }
    }

    /// The handshake is complete.
    pub fn is_ready(&self) -> bool {
        matches!(
            self.phase,
            Phase::Speaking | Phase::Finishing | Phase::Closing { .. } | Phase::Done
        )
    }

    /// Nothing more will happen: the transport closes the socket.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the transport should read the caller's commands now.
    pub fn listening(&self) -> bool {
        self.listening && matches!(self.phase, Phase::Speaking | Phase::Finishing)
    }

    /// When the transport must call [`QwenTtsCodec::on_timeout`] at the latest.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Greeting { by } | Phase::Configuring { by } | Phase::Closing { by } => Some(by),
            _ => None,
        }
    }

    /// The deadline passed: a handshake wait fails, a close wait ends.
    pub fn on_timeout(&mut self, now: Instant) -> Result<(), TtsError> {
        match self.phase {
            Phase::Greeting { by } | Phase::Configuring { by } if now >= by => {
                let wanted = self.awaited().unwrap_or_default();
                Err(TtsError::Protocol(Failure::new(format!(
                    "no `{wanted}` within {HANDSHAKE_LIMIT:?}"
                ))))
            }
            Phase::Closing { by } if now >= by => {
                tracing::debug!("no close within 2 s of session.finished; closing ourselves");
                self.phase = Phase::Done;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One frame from the server.
    pub fn on_frame(&mut self, frame: &WireFrame, now: Instant) -> Result<Vec<TtsStep>, TtsError> {
        let text = match frame {
            WireFrame::Text(text) => Cow::Borrowed(text.as_str()),
            WireFrame::Binary(bytes) => String::from_utf8_lossy(bytes),
            WireFrame::Close { .. } => return self.on_closed().map(|()| Vec::new()),
        };
        if let Phase::Closing { .. } | Phase::Done = self.phase {
            return Ok(Vec::new()); // only the close matters now
        }
        let event: TtsServerEvent = serde_json::from_str(&text).map_err(|e| {
            let message = format!("unreadable server event: {e}");
            TtsError::Protocol(Failure::because(message, e))
        })?;
        self.on_event(event, now)
    }

    /// The socket ended (a close frame, or the stream stopped).
    pub fn on_closed(&mut self) -> Result<(), TtsError> {
        let error = match self.phase {
            Phase::Closing { .. } | Phase::Done => {
                self.phase = Phase::Done;
                return Ok(());
            }
            Phase::Greeting { .. } | Phase::Configuring { .. } => {
                let wanted = self.awaited().unwrap_or_default();
                format!("the server closed before `{wanted}`")
            }
            Phase::Finishing => "the server closed without `session.finished`".into(),
            Phase::Speaking => "the server closed the session mid-utterance".into(),
        };
        self.phase = Phase::Done;
        Err(TtsError::Transport(Failure::new(error)))
    }

    /// The socket broke with `error`: the utterance fails, unless it was only
    /// waiting for the close.
    pub fn on_broken(&mut self, error: TtsError) -> Result<(), TtsError> {
        let closing = matches!(self.phase, Phase::Closing { .. } | Phase::Done);
        self.phase = Phase::Done;
        if closing {
            Ok(())
        } else {
            Err(error)
        }
    }

    /// One command from the caller (`None`: the caller dropped its input,
    /// which counts as finishing).
    pub fn on_command(&mut self, command: Option<TextCommand>) -> Result<Vec<TtsStep>, TtsError> {
        let finishing = self.phase == Phase::Finishing;
        match command {
            Some(TextCommand::Text(_)) if finishing => {
                tracing::debug!("text after finish ignored");
                Ok(Vec::new())
            }
            Some(TextCommand::Text(text)) if text.is_empty() => Ok(Vec::new()),
            Some(TextCommand::Text(text)) => {
                let mut steps = vec![send(&TtsClientEvent::InputTextBufferAppend(
                    wire::TextAppend {
                        event_id: Some(event_id()),
                        text,
                        ..Default::default()
                    },
                ))?];
                if self.mode == Mode::Commit {
                    steps.push(send(&TtsClientEvent::InputTextBufferCommit(opaque()))?);
                }
                Ok(steps)
            }
            Some(TextCommand::Finish) if finishing => Ok(Vec::new()),
            None if finishing => {
                self.listening = false;
                Ok(Vec::new())
            }
            Some(TextCommand::Finish) | None => {
                self.phase = Phase::Finishing;
                Ok(vec![send(&TtsClientEvent::SessionFinish(opaque()))?])
            }
            Some(TextCommand::Cancel) => {
                // No barge-in in this protocol: drop the buffer and leave.
                self.phase = Phase::Done;
                Ok(vec![send(&TtsClientEvent::InputTextBufferClear(opaque()))?])
            }
        }
    }

    /// The event the handshake waits for, while it waits.
    fn awaited(&self) -> Option<&'static str> {
        match self.phase {
            Phase::Greeting { .. } => Some("session.created"),
            Phase::Configuring { .. } => Some("session.updated"),
            _ => None,
        }
    }

    fn on_event(&mut self, event: TtsServerEvent, now: Instant) -> Result<Vec<TtsStep>, TtsError> {
        if let TtsServerEvent::Error(error) = &event {
            return Err(provider_error(error));
        }
        match self.phase {
            Phase::Greeting { .. } if event.event_type() == "session.created" => {
                self.phase = Phase::Configuring {
                    by: now + HANDSHAKE_LIMIT,
                };
                Ok(vec![send(&TtsClientEvent::SessionUpdate(
                    wire::SessionUpdate {
                        event_id: Some(event_id()),
                        session: Box::new(self.settings.clone()),
                        ..Default::default()
                    },
                ))?])
            }
            Phase::Configuring { .. } if event.event_type() == "session.updated" => {
                self.phase = Phase::Speaking;
                Ok(vec![TtsStep::Ready])
            }
            Phase::Speaking | Phase::Finishing => self.hear(event, now),
            _ => Ok(Vec::new()),
        }
    }

    /// What a server event means for the caller once the session is ready.
    fn hear(&mut self, event: TtsServerEvent, now: Instant) -> Result<Vec<TtsStep>, TtsError> {
        match event {
            TtsServerEvent::ResponseAudioDelta(delta) => Pcm::from_base64(&delta.delta)
                .map(|pcm| vec![TtsStep::Audio(pcm)])
                .map_err(|e| {
                    let message = format!("audio delta is not base64: {e}");
                    TtsError::Protocol(Failure::because(message, e))
                }),
            TtsServerEvent::SessionFinished(_) => {
                self.phase = Phase::Closing {
                    by: now + CLOSE_WAIT,
                };
                Ok(Vec::new())
            }
            TtsServerEvent::Unknown(map) => {
                tracing::debug!(event = ?map.get("type"), "unknown Qwen-TTS server event");
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// A client event as the text frame that carries it.
fn send(event: &TtsClientEvent) -> Result<TtsStep, TtsError> {
    serde_json::to_string(event)
        .map(|text| TtsStep::Send(WireFrame::Text(text)))
        .map_err(|e| TtsError::Protocol(Failure::because(e.to_string(), e)))
}

fn provider_error(error: &ErrorEvent) -> TtsError {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn frame(value: Value) -> WireFrame {
        WireFrame::Text(value.to_string())
    }

    fn sent_type(step: &TtsStep) -> String {
        match step {
            TtsStep::Send(WireFrame::Text(text)) => {
                let value: Value = serde_json::from_str(text).expect("JSON");
                value["type"].as_str().unwrap_or_default().to_owned()
            }
            other => panic!("not a send: {other:?}"),
        }
    }

    fn settings() -> TtsSession {
        TtsSession {
            voice: Some("Cherry".into()),
            ..Default::default()
        }
    }

    /// A codec past its handshake.
    fn ready(mode: Mode, now: Instant) -> QwenTtsCodec {
        let mut codec = QwenTtsCodec::new(settings(), mode, now);
        let steps = codec
            .on_frame(
                &frame(json!({"type": "session.created", "session": {}})),
                now,
            )
            .expect("greeting");
        assert_eq!(steps.len(), 1);
        assert_eq!(sent_type(&steps[0]), "session.update");
        let steps = codec
            .on_frame(
                &frame(json!({"type": "session.updated", "session": {}})),
                now,
            )
            .expect("acknowledged");
        assert_eq!(steps, vec![TtsStep::Ready]);
        codec
    }

    #[test]
    fn the_handshake_sends_the_settings_after_the_greeting() {
        let now = Instant::now();
        let mut codec = QwenTtsCodec::new(settings(), Mode::ServerCommit, now);
        assert!(!codec.listening(), "no commands before the handshake");
        let steps = codec
            .on_frame(
                &frame(json!({"type": "session.created", "session": {}})),
                now,
            )
            .unwrap();
        let TtsStep::Send(WireFrame::Text(text)) = &steps[0] else {
            panic!("{steps:?}");
        };
        let sent: Value = serde_json::from_str(text).unwrap();
        assert_eq!(sent["session"]["voice"], "Cherry");
        assert!(!codec.is_ready());
        codec
            .on_frame(
                &frame(json!({"type": "session.updated", "session": {}})),
                now,
            )
            .unwrap();
        assert!(codec.is_ready() && codec.listening());
    }

    #[test]
    fn each_handshake_wait_has_its_own_limit() {
        let start = Instant::now();
        let mut codec = QwenTtsCodec::new(settings(), Mode::ServerCommit, start);
        assert_eq!(codec.poll_timeout(), Some(start + HANDSHAKE_LIMIT));
        let later = start + Duration::from_secs(9);
        codec
            .on_frame(
                &frame(json!({"type": "session.created", "session": {}})),
                later,
            )
            .unwrap();
        assert_eq!(codec.poll_timeout(), Some(later + HANDSHAKE_LIMIT));
        assert!(codec.on_timeout(later).is_ok(), "not yet");
        let error = codec.on_timeout(later + HANDSHAKE_LIMIT).unwrap_err();
        assert_eq!(
            error.to_string(),
            "protocol: no `session.updated` within 10s"
        );
    }

    #[test]
    fn an_error_event_fails_with_the_provider_code() {
        let now = Instant::now();
        let mut codec = QwenTtsCodec::new(settings(), Mode::ServerCommit, now);
        let error = codec
            .on_frame(
                &frame(json!({"type": "error", "error": {"type": "invalid_request_error", "code": "InvalidParameter", "message": "bad voice"}})),
                now,
            )
            .unwrap_err();
        assert_eq!(
            error,
            TtsError::Provider {
                code: "InvalidParameter".into(),
                message: "bad voice".into()
            }
        );
    }

    #[test]
    fn a_close_during_the_handshake_names_what_was_awaited() {
        let now = Instant::now();
        let mut codec = QwenTtsCodec::new(settings(), Mode::ServerCommit, now);
        let error = codec.on_closed().unwrap_err();
        assert_eq!(
            error.to_string(),
            "transport: the server closed before `session.created`"
        );
        assert!(codec.is_done());
    }

    #[test]
    fn text_is_appended_and_committed_in_commit_mode() {
        let now = Instant::now();
        let mut codec = ready(Mode::ServerCommit, now);
        let steps = codec
            .on_command(Some(TextCommand::Text("Hi".into())))
            .unwrap();
        assert_eq!(
            steps.iter().map(sent_type).collect::<Vec<_>>(),
            ["input_text_buffer.append"]
        );
        assert!(codec
            .on_command(Some(TextCommand::Text(String::new())))
            .unwrap()
            .is_empty());
        let mut codec = ready(Mode::Commit, now);
        let steps = codec
            .on_command(Some(TextCommand::Text("Hi".into())))
            .unwrap();
        assert_eq!(
            steps.iter().map(sent_type).collect::<Vec<_>>(),
            ["input_text_buffer.append", "input_text_buffer.commit"]
        );
    }

    #[test]
    fn finishing_sends_one_finish_then_waits_for_the_close() {
        let now = Instant::now();
        let mut codec = ready(Mode::ServerCommit, now);
        let steps = codec.on_command(Some(TextCommand::Finish)).unwrap();
        assert_eq!(
            steps.iter().map(sent_type).collect::<Vec<_>>(),
            ["session.finish"]
        );
        assert!(codec
            .on_command(Some(TextCommand::Finish))
            .unwrap()
            .is_empty());
        assert!(codec
            .on_command(Some(TextCommand::Text("late".into())))
            .unwrap()
            .is_empty());
        assert!(codec.listening());
        assert!(codec.on_command(None).unwrap().is_empty());
        assert!(!codec.listening(), "the caller dropped its input");
        let audio = frame(
            json!({"type": "response.audio.delta", "delta": "AQACAA==", "response_id": "r", "item_id": "i", "output_index": 0, "content_index": 0}),
        );
        assert_eq!(
            codec.on_frame(&audio, now).unwrap(),
            vec![TtsStep::Audio(Pcm(vec![1, 0, 2, 0]))]
        );
        codec
            .on_frame(&frame(json!({"type": "session.finished"})), now)
            .unwrap();
        assert_eq!(codec.poll_timeout(), Some(now + CLOSE_WAIT));
        assert!(codec
            .on_frame(&frame(json!({"type": "anything"})), now)
            .unwrap()
            .is_empty());
        codec
            .on_frame(
                &WireFrame::Close {
                    code: Some(1000),
                    reason: String::new(),
                },
                now,
            )
            .unwrap();
        assert!(codec.is_done());
    }

    #[test]
    fn a_close_wait_ends_at_its_deadline() {
        let now = Instant::now();
        let mut codec = ready(Mode::ServerCommit, now);
        codec
            .on_frame(&frame(json!({"type": "session.finished"})), now)
            .unwrap();
        codec.on_timeout(now + CLOSE_WAIT).unwrap();
        assert!(codec.is_done());
    }

    #[test]
    fn a_close_mid_utterance_is_a_transport_error() {
        let now = Instant::now();
        let mut codec = ready(Mode::ServerCommit, now);
        assert_eq!(
            codec.on_closed().unwrap_err().to_string(),
            "transport: the server closed the session mid-utterance"
        );
        let mut codec = ready(Mode::ServerCommit, now);
        codec.on_command(Some(TextCommand::Finish)).unwrap();
        assert_eq!(
            codec.on_closed().unwrap_err().to_string(),
            "transport: the server closed without `session.finished`"
        );
    }

    #[test]
    fn cancel_clears_the_buffer_and_ends_the_session() {
        let now = Instant::now();
        let mut codec = ready(Mode::ServerCommit, now);
        let steps = codec.on_command(Some(TextCommand::Cancel)).unwrap();
        assert_eq!(
            steps.iter().map(sent_type).collect::<Vec<_>>(),
            ["input_text_buffer.clear"]
        );
        assert!(codec.is_done());
    }

    #[test]
    fn bad_frames_and_bad_audio_are_protocol_errors() {
        let now = Instant::now();
        let mut codec = ready(Mode::ServerCommit, now);
        assert!(matches!(
            codec.on_frame(&WireFrame::Text("{not json".into()), now),
            Err(TtsError::Protocol(_))
        ));
        let audio = frame(
            json!({"type": "response.audio.delta", "delta": "!!", "response_id": "r", "item_id": "i", "output_index": 0, "content_index": 0}),
        );
        let error = codec.on_frame(&audio, now).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("protocol: audio delta is not base64"),
            "{error}"
        );
        assert!(
            std::error::Error::source(&error).is_some(),
            "the base64 error is kept"
        );
    }
}
