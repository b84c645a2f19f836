//! The two agents before realtime, built on chat completions:
//!
//! - [`TextVoiceAgent`] (stage 1): a chat model answers in text; the text
//!   stream is spoken as it arrives through a [`Speaker`] (filter, segmenter,
//!   TTS).
//! - [`OmniChatAgent`] (stage 2): an omni chat model answers in audio itself
//!   (`modalities: ["text","audio"]`); the agent plays what it returns.
//!
//! Both keep the conversation (a system prompt, then user and assistant turns)
//! and report what a listener would measure: when the first sound arrived.

use crate::speaker::{Speaker, SpeakerTurn};
use futures_util::StreamExt;
use std::time::Duration;
use understudy_adapters::chat::{
    ChatClient, ChatError, ChatEvent, ChatRequest, Message, TimedChatEvent,
};
use understudy_adapters::tts::{AudioChunk, TtsError};

/// Why a reply failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The chat model failed.
    #[error("chat: {0}")]
    Chat(#[from] ChatError),
    /// The speech engine failed.
    #[error("speech: {0}")]
    Tts(#[from] TtsError),
}

/// One spoken reply and its timings.
#[derive(Debug, Clone, Default)]
pub struct VoiceReply {
    /// What the model wrote (stage 1) or said (stage 2, its transcript).
    pub text: String,
    /// What was actually spoken (stage 1: after the content filter).
    pub spoken: String,
    /// The audio, in order.
    pub audio: Vec<AudioChunk>,
    /// Request sent → first text (or transcript) delta.
    pub time_to_first_delta: Option<Duration>,
    /// Request sent → first audio chunk: what the listener waits.
    pub time_to_first_audio: Option<Duration>,
    /// Stage 1 only: first text delta → first audio chunk (the speaking
    /// pipeline and the TTS engine, without the chat model's thinking).
    pub time_to_first_sound: Option<Duration>,
}

impl VoiceReply {
    /// Total audio bytes.
    pub fn audio_bytes(&self) -> usize {
        self.audio.iter().map(|c| c.pcm.len()).sum()
    }
}

/// Stage 1: a chat model's text, spoken by a TTS engine as it streams.
#[derive(Debug)]
pub struct TextVoiceAgent {
    chat: ChatClient,
    model: String,
    speaker: Speaker,
    history: Vec<Message>,
}

impl TextVoiceAgent {
    /// An agent that asks `model` through `chat` and speaks with `speaker`,
    /// instructed by `instructions`.
    pub fn new(
        chat: ChatClient,
        model: impl Into<String>,
        speaker: Speaker,
        instructions: &str,
    ) -> Self {
        TextVoiceAgent {
            chat,
            model: model.into(),
            speaker,
            history: vec![Message::system(instructions)],
        }
    }

    /// The conversation so far.
    pub fn history(&self) -> &[Message] {
        &self.history
    }

    /// Answers `user` aloud: the TTS utterance is opened first, then every
    /// text delta goes to it as it arrives.
    pub async fn reply(&mut self, user: &str) -> Result<VoiceReply, AgentError> {
        self.history.push(Message::user(user));
        let SpeakerTurn {
            mut text,
            mut audio,
        } = self.speaker.open().await?;
        let request = ChatRequest::new(&self.model, self.history.clone());
        let mut stream = self.chat.stream(request).await?;
        let sent = stream.sent_at();
        let mut reply = VoiceReply::default();
        let speak = async {
            while let Some(item) = stream.next().await {
                let TimedChatEvent { event, received_at } = item?;
                if let ChatEvent::TextDelta { text: delta, .. } = event {
                    reply.time_to_first_delta.get_or_insert(received_at - sent);
                    reply.text.push_str(&delta);
                    text.push(&delta)?;
                }
            }
            text.finish()?;
            Ok::<_, AgentError>(())
        };
        let listen = async {
            let mut chunks = Vec::new();
            while let Some(chunk) = audio.next_chunk().await {
                chunks.push(chunk?);
            }
            Ok::<_, AgentError>(chunks)
        };
        let (spoke, heard) = tokio::join!(speak, listen);
        if let Err(error) = spoke {
            let _ = text.cancel();
            return Err(error);
        }
        reply.audio = heard?;
        reply.spoken = text.spoken().to_owned();
        reply.time_to_first_sound = audio.time_to_first_sound();
        reply.time_to_first_audio = reply.audio.first().map(|c| c.received_at - sent);
        self.history.push(Message::assistant(reply.text.clone()));
        Ok(reply)
    }
}

/// Stage 2: an omni chat model that answers in audio; the agent plays it.
#[derive(Debug)]
pub struct OmniChatAgent {
    chat: ChatClient,
    model: String,
    voice: String,
    history: Vec<Message>,
}

impl OmniChatAgent {
    /// An agent that asks `model` through `chat` for spoken answers in `voice`.
    pub fn new(
        chat: ChatClient,
        model: impl Into<String>,
        voice: impl Into<String>,
        instructions: &str,
    ) -> Self {
        OmniChatAgent {
            chat,
            model: model.into(),
            voice: voice.into(),
            history: vec![Message::system(instructions)],
        }
    }

    /// The conversation so far.
    pub fn history(&self) -> &[Message] {
        &self.history
    }

    /// Answers `user`: the model's audio, as it streams, and its transcript.
    pub async fn reply(&mut self, user: &str) -> Result<VoiceReply, AgentError> {
        self.history.push(Message::user(user));
        let capabilities = self.chat.dialect().capabilities();
        let request = ChatRequest::new(&self.model, self.history.clone())
            .with_audio(&self.voice, capabilities.streaming_audio_format);
        let mut stream = self.chat.stream(request).await?;
        let sent = stream.sent_at();
        let mut reply = VoiceReply::default();
        let mut audio_id = None;
        while let Some(item) = stream.next().await {
            let TimedChatEvent { event, received_at } = item?;
            match event {
                ChatEvent::TranscriptDelta { text, .. } | ChatEvent::TextDelta { text, .. } => {
                    reply.time_to_first_delta.get_or_insert(received_at - sent);
                    reply.text.push_str(&text);
                }
                ChatEvent::AudioDelta { pcm, format, .. } => {
                    reply.time_to_first_audio.get_or_insert(received_at - sent);
                    reply.audio.push(AudioChunk {
                        pcm,
                        format,
                        received_at,
                    });
                }
                ChatEvent::Done { audio, .. } => audio_id = audio.and_then(|a| a.id),
                _ => {}
            }
        }
        reply.spoken = reply.text.clone();
        // Later turns refer to a spoken answer by its id where the service
        // keeps it (OpenAI); elsewhere by its transcript.
        let remembered = match audio_id {
            Some(id) if capabilities.audio_history => Message::assistant_audio(id),
            _ => Message::assistant(reply.text.clone()),
        };
        self.history.push(remembered);
        Ok(reply)
    }
}
