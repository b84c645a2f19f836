//! The two dialects of chat completions and how they differ, as data (§7.4).
//!
//! OpenAI and DashScope's compatible mode share one request and chunk schema
//! but disagree on where spoken text lands, which audio format to ask for,
//! whether streaming is optional, how input audio is passed and whether
//! history may refer to earlier audio. Those differences live in
//! [`ChatCapabilities`]; the decoder and client read them instead of matching
//! on the provider.

use super::error::ChatError;
use super::request::{ChatRequest, Content, Role};
use crate::audio::AudioFormat;
use serde::{Deserialize, Serialize};
use std::fmt;
use tracing::debug;

/// Which service's flavour of chat completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChatDialect {
    /// `POST /v1/chat/completions` at OpenAI.
    OpenAi,
    /// `POST /compatible-mode/v1/chat/completions` at DashScope (Qwen-Omni).
    DashScope,
}

/// Where a dialect puts the text of a spoken answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptField {
    /// `delta.audio.transcript` (`content` stays `null`).
    AudioTranscript,
    /// `delta.content` (published DashScope samples).
    Content,
}

/// What a dialect accepts and sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatCapabilities {
    /// Where the text of a spoken answer arrives. The decoder accepts either
    /// field anyway (§7.4 marks DashScope's choice unconfirmed); this is the
    /// documented one.
    pub transcript_field: TranscriptField,
    /// The `audio.format` to request when streaming audio.
    pub streaming_audio_format: &'static str,
    /// The format of `delta.audio.data` once base64-decoded.
    pub output_format: AudioFormat,
    /// Whether a non-streaming request is refused.
    pub stream_required: bool,
    /// Whether `input_audio.data` must be a data URI (`data:;base64,…`) or URL.
    pub input_audio_data_uri: bool,
    /// Whether history may refer to an earlier answer by `audio{id}`.
    pub audio_history: bool,
}

impl ChatDialect {
    /// The dialect a base URL points at: DashScope when its path is under
    /// `/compatible-mode/`, OpenAI otherwise.
    pub fn from_base_url(url: &str) -> ChatDialect {
        if url.contains("/compatible-mode/")
            || url.trim_end_matches('/').ends_with("/compatible-mode")
        {
            ChatDialect::DashScope
        } else {
            ChatDialect::OpenAi
        }
    }

    /// The provider's name, for messages.
    pub fn provider(self) -> &'static str {
        match self {
            ChatDialect::OpenAi => "OpenAI",
            ChatDialect::DashScope => "DashScope",
        }
    }

    /// The dialect's name in journals and cassettes.
    pub fn name(self) -> &'static str {
        match self {
            ChatDialect::OpenAi => "openai-chat",
            ChatDialect::DashScope => "dashscope-chat",
        }
    }

    /// What it accepts and sends.
    pub fn capabilities(self) -> ChatCapabilities {
        match self {
            ChatDialect::OpenAi => ChatCapabilities {
                transcript_field: TranscriptField::AudioTranscript,
                streaming_audio_format: "pcm16",
                output_format: AudioFormat::pcm16(24_000),
                stream_required: false,
                input_audio_data_uri: false,
                audio_history: true,
            },
            ChatDialect::DashScope => ChatCapabilities {
                transcript_field: TranscriptField::Content,
                // Documented value; the bytes that come back are raw PCM16 anyway.
                streaming_audio_format: "wav",
                output_format: AudioFormat::pcm16(24_000),
                stream_required: true,
                input_audio_data_uri: true,
                audio_history: false,
            },
        }
    }

    /// Rewrites a request into what this dialect expects for a stream (§11,
    /// "Outgoing"): `stream: true`; the dialect's streaming audio format;
    /// DashScope input audio as a data URI; DashScope history without audio
    /// references (an assistant message with only an audio id cannot be sent:
    /// give its transcript as `content`).
    pub fn prepare_stream(self, request: &mut ChatRequest) -> Result<(), ChatError> {
        let caps = self.capabilities();
        request.stream = Some(true);
        if let Some(audio) = request.audio.as_mut() {
            if audio.format != caps.streaming_audio_format {
                debug!(
                    dialect = self.name(),
                    from = %audio.format,
                    to = caps.streaming_audio_format,
                    "streaming audio format set for the dialect"
                );
                audio.format = caps.streaming_audio_format.to_owned();
            }
        }
        if caps.input_audio_data_uri {
            for message in &mut request.messages {
                let Some(Content::Parts(parts)) = message.content.as_mut() else {
                    continue;
                };
                for audio in parts.iter_mut().filter_map(|p| p.input_audio.as_mut()) {
                    if !is_uri(&audio.data) {
                        audio.data = format!("data:;base64,{}", audio.data);
                    }
                }
            }
        }
        if !caps.audio_history {
            for (i, message) in request.messages.iter_mut().enumerate() {
                if message.role != Role::Assistant || message.audio.is_none() {
                    continue;
                }
                if message.content.is_none() && message.tool_calls.is_none() {
                    return Err(ChatError::InvalidRequest(format!(
                        "messages[{i}]: {} keeps no audio; send the earlier answer's transcript as content",
                        self.provider()
                    )));
                }
                message.audio = None;
            }
        }
        Ok(())
    }
}

fn is_uri(data: &str) -> bool {
    data.starts_with("data:") || data.starts_with("http://") || data.starts_with("https://")
}

impl fmt::Display for ChatDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::request::{ContentPart, Message};

    #[test]
    fn the_base_url_path_picks_the_dialect() {
        assert_eq!(
            ChatDialect::from_base_url("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
            ChatDialect::DashScope
        );
        assert_eq!(
            ChatDialect::from_base_url("http://127.0.0.1:9/v1"),
            ChatDialect::OpenAi
        );
    }

    #[test]
    fn openai_streams_pcm16_and_keeps_audio_history() {
        let mut request =
            ChatRequest::new("gpt-audio-mini", vec![Message::assistant_audio("audio_1")])
                .with_audio("alloy", "wav");
        request.stream = None;
        ChatDialect::OpenAi.prepare_stream(&mut request).unwrap();
        assert_eq!(request.audio.as_ref().unwrap().format, "pcm16");
        assert_eq!(request.stream, Some(true));
        assert!(request.messages[0].audio.is_some());
    }

    #[test]
    fn dashscope_wants_wav_data_uris_and_text_history() {
        let mut history = Message::assistant("It is ten past three.");
        history.audio = Some(crate::chat::request::AudioRef {
            id: "audio_x".into(),
        });
        let mut request = ChatRequest::new(
            "qwen3-omni-flash",
            vec![
                Message::user_parts(vec![
                    ContentPart::input_audio("UklGRg==", "wav"),
                    ContentPart::input_audio("https://example.invalid/a.mp3", "mp3"),
                ]),
                history,
            ],
        )
        .with_audio("Cherry", "pcm16");
        ChatDialect::DashScope.prepare_stream(&mut request).unwrap();
        assert_eq!(request.audio.as_ref().unwrap().format, "wav");
        let Some(Content::Parts(parts)) = &request.messages[0].content else {
            panic!("parts")
        };
        assert_eq!(
            parts[0].input_audio.as_ref().unwrap().data,
            "data:;base64,UklGRg=="
        );
        assert_eq!(
            parts[1].input_audio.as_ref().unwrap().data,
            "https://example.invalid/a.mp3"
        );
        assert!(request.messages[1].audio.is_none());

        let mut audio_only = ChatRequest::new(
            "qwen3-omni-flash",
            vec![Message::assistant_audio("audio_x")],
        );
        assert!(matches!(
            ChatDialect::DashScope.prepare_stream(&mut audio_only),
            Err(ChatError::InvalidRequest(_))
        ));
    }
}
