//! The sans-IO decoder: SSE bytes in, [`ChatEvent`]s out.
//!
//! [`ChatDecoder`] turns the data of one SSE event into events and keeps the
//! little state a stream needs (tool calls being assembled, base64 carried
//! between audio fragments, the audio id and expiry, finish reasons, usage).
//! [`ChatStreamDecoder`] puts the SSE parser in front of it, so a transport
//! only feeds bytes and reads events. Neither does I/O or looks at a clock.
//!
//! Rules (protocol notes §11): `[DONE]` (a prefix match) ends the stream; an
//! event whose JSON has a truthy top-level `error` is a provider error; the
//! `finish_reason` chunk does not end the stream (audio expiry and usage
//! follow); end of input after a `finish_reason` is a normal end, before one it
//! is [`ChatError::Truncated`]. The first error ends the stream: later input is
//! ignored.

use super::audio_stream::AudioStream;
use super::chunk::{ChatChunk, ChunkChoice, FinishReason};
use super::dialect::ChatDialect;
use super::error::ChatError;
use super::event::{AudioInfo, ChatEvent};
use super::sse::{SseError, SseParser, DEFAULT_MAX_EVENT_BYTES};
use super::tool_calls::ToolCallAssembler;
use crate::audio::Pcm;
use crate::event::Usage;
use std::collections::BTreeMap;
use tracing::{debug, trace};

/// Which field a spoken answer's text has come from so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpokenTextField {
    Content,
    Transcript,
}

/// Decodes the data of SSE events, one at a time.
#[derive(Debug)]
pub struct ChatDecoder {
    dialect: ChatDialect,
    audio_output: bool,
    started: bool,
    spoken_text: Option<SpokenTextField>,
    tools: ToolCallAssembler,
    audio: BTreeMap<u32, AudioStream>,
    audio_info: Option<AudioInfo>,
    finish: BTreeMap<u32, FinishReason>,
    usage: Option<Usage>,
    ended: bool,
}

impl ChatDecoder {
    /// A decoder for one response of `dialect`. `audio_output` says whether the
    /// request asked for audio: then all assistant text is the transcript of the
    /// audio ([`ChatEvent::TranscriptDelta`]), whichever field carries it.
    pub fn new(dialect: ChatDialect, audio_output: bool) -> Self {
        ChatDecoder {
            dialect,
            audio_output,
            started: false,
            spoken_text: None,
            tools: ToolCallAssembler::default(),
            audio: BTreeMap::new(),
            audio_info: None,
            finish: BTreeMap::new(),
            usage: None,
            ended: false,
        }
    }

    /// Whether the stream is over (done, or failed).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Decodes one SSE event's data, appending events to `out`.
    pub fn decode(&mut self, data: &str, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        if self.ended {
            trace!("event after the end of the stream; ignored");
            return Ok(());
        }
        let result = self.decode_inner(data, out);
        if result.is_err() {
            self.ended = true;
        }
        result
    }

    fn decode_inner(&mut self, data: &str, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        if data.starts_with("[DONE]") {
            return self.end(out);
        }
        let value: serde_json::Value = serde_json::from_str(data)
            .map_err(|e| ChatError::decode(format!("not JSON: {e}"), data))?;
        if !value.is_object() {
            return Err(ChatError::decode("not a JSON object", data));
        }
        if let Some(error) = ChatError::from_envelope(self.dialect, None, &value, None) {
            return Err(error);
        }
        let chunk: ChatChunk = serde_json::from_value(value)
            .map_err(|e| ChatError::decode(format!("not a chat.completion.chunk: {e}"), data))?;
        if let Some(object) = chunk.object.as_deref() {
            if object != super::chunk::CHUNK_OBJECT {
                debug!(object, "chunk with an unexpected `object`; read anyway");
            }
        }
        if !self.started {
            self.started = true;
            out.push(ChatEvent::Started {
                completion_id: chunk.id.clone(),
                model: chunk.model.clone(),
                created: chunk.created,
            });
        }
        for choice in &chunk.choices {
            self.choice(choice, out)?;
        }
        if let Some(usage) = chunk.usage() {
            self.usage = Some(Usage::from(usage));
        }
        Ok(())
    }

    fn choice(&mut self, choice: &ChunkChoice, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        let n = choice.index;
        let delta = &choice.delta;
        if let Some(text) = delta.reasoning_content.as_deref().filter(|t| !t.is_empty()) {
            out.push(ChatEvent::ReasoningDelta {
                choice: n,
                text: text.to_owned(),
            });
        }
        if let Some(text) = delta.content().filter(|t| !t.is_empty()) {
            self.assistant_text(n, text, SpokenTextField::Content, out);
        }
        if let Some(text) = delta.refusal().filter(|t| !t.is_empty()) {
            out.push(ChatEvent::RefusalDelta {
                choice: n,
                text: text.to_owned(),
            });
        }
        if let Some(audio) = &delta.audio {
            if let Some(text) = audio.transcript.as_deref().filter(|t| !t.is_empty()) {
                self.assistant_text(n, text, SpokenTextField::Transcript, out);
            }
            if audio.id.as_deref().is_some_and(|id| !id.is_empty()) || audio.expires_at.is_some() {
                let info = self.audio_info.get_or_insert_with(AudioInfo::default);
                if info.id.is_none() {
                    info.id = audio.id.clone().filter(|id| !id.is_empty());
                }
                if audio.expires_at.is_some() {
                    info.expires_at = audio.expires_at;
                }
            }
            if let Some(data) = audio.data.as_deref().filter(|d| !d.is_empty()) {
                let pcm = self.audio.entry(n).or_default().push(data)?;
                self.push_audio(n, pcm, out);
            }
        }
        for fragment in delta.tool_calls.iter().flatten() {
            out.extend(self.tools.push(n, fragment));
        }
        if let Some(reason) = choice.finish_reason() {
            if self.finish.contains_key(&n) {
                debug!(choice = n, %reason, "a second finish_reason for one choice; ignored");
            } else {
                out.extend(self.tools.finish_choice(n));
                self.flush_audio(n, out)?;
                self.finish.insert(n, reason.clone());
                out.push(ChatEvent::Finished {
                    choice: n,
                    reason: reason.clone(),
                });
            }
        }
        Ok(())
    }

    /// Routes assistant text. Without audio output it is plain text (content)
    /// or, should a provider send one, a transcript. With audio output it is
    /// the transcript of what is spoken, from whichever field carries it; the
    /// first field that carries text wins, so a provider that sends the same
    /// words in both fields is not heard twice (§7.4).
    fn assistant_text(
        &mut self,
        choice: u32,
        text: &str,
        field: SpokenTextField,
        out: &mut Vec<ChatEvent>,
    ) {
        let text = text.to_owned();
        if !self.audio_output {
            out.push(match field {
                SpokenTextField::Content => ChatEvent::TextDelta { choice, text },
                SpokenTextField::Transcript => ChatEvent::TranscriptDelta { choice, text },
            });
            return;
        }
        match self.spoken_text {
            Some(latched) if latched != field => {
                trace!(
                    ?field,
                    "spoken text already comes from the other field; ignored"
                );
            }
            _ => {
                self.spoken_text = Some(field);
                out.push(ChatEvent::TranscriptDelta { choice, text });
            }
        }
    }

    fn push_audio(&self, choice: u32, pcm: Vec<u8>, out: &mut Vec<ChatEvent>) {
        if !pcm.is_empty() {
            out.push(ChatEvent::AudioDelta {
                choice,
                pcm: Pcm(pcm),
                format: self.dialect.capabilities().output_format,
            });
        }
    }

    fn flush_audio(&mut self, choice: u32, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        if let Some(stream) = self.audio.get_mut(&choice) {
            let pcm = stream.finish()?;
            self.push_audio(choice, pcm, out);
        }
        Ok(())
    }

    /// `[DONE]`: completes whatever is open and emits [`ChatEvent::Done`].
    fn end(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        out.extend(self.tools.finish_all());
        let choices: Vec<u32> = self.audio.keys().copied().collect();
        for choice in choices {
            self.flush_audio(choice, out)?;
        }
        self.ended = true;
        let finish_reason = self
            .finish
            .get(&0)
            .or_else(|| self.finish.values().next())
            .cloned();
        out.push(ChatEvent::Done {
            finish_reason,
            usage: self.usage.clone(),
            audio: self.audio_info.clone(),
        });
        Ok(())
    }

    /// End of input. After a `finish_reason` (or `[DONE]`) this is a normal
    /// end; before one the answer was cut short.
    pub fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        if self.ended {
            return Ok(());
        }
        if self.finish.is_empty() {
            self.ended = true;
            return Err(ChatError::Truncated);
        }
        debug!("stream ended without [DONE] after a finish_reason; accepted");
        self.end(out)
    }
}

/// SSE parser and chunk decoder together: bytes in, events out.
#[derive(Debug)]
pub struct ChatStreamDecoder {
    sse: SseParser,
    chat: ChatDecoder,
    events: Vec<super::sse::SseEvent>,
}

impl ChatStreamDecoder {
    /// A decoder for one streamed response (see [`ChatDecoder::new`]).
    pub fn new(dialect: ChatDialect, audio_output: bool) -> Self {
        Self::with_limit(dialect, audio_output, DEFAULT_MAX_EVENT_BYTES)
    }

    /// The same, refusing SSE events larger than `max_event_bytes`.
    pub fn with_limit(dialect: ChatDialect, audio_output: bool, max_event_bytes: usize) -> Self {
        ChatStreamDecoder {
            sse: SseParser::new(max_event_bytes),
            chat: ChatDecoder::new(dialect, audio_output),
            events: Vec::new(),
        }
    }

    /// Whether the stream is over (done, or failed).
    pub fn is_ended(&self) -> bool {
        self.chat.is_ended()
    }

    /// Feeds bytes as received; appends the events they complete to `out`
    /// (events decoded before an error are kept in `out`).
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        if self.chat.is_ended() {
            return Ok(());
        }
        let parsed = self.sse.push(bytes, &mut self.events);
        for event in std::mem::take(&mut self.events) {
            self.chat.decode(&event.data, out)?;
            if self.chat.is_ended() {
                return Ok(());
            }
        }
        parsed.map_err(|SseError::TooLarge { limit }| {
            self.chat.ended = true;
            ChatError::TooLarge { limit }
        })
    }

    /// End of input (see [`ChatDecoder::finish`]).
    pub fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        if self.sse.finish().is_some() {
            // The grammar (and OpenAI's SDK) drop an event left unterminated.
            tracing::trace!("SSE input ended inside an event; dropped");
        }
        self.chat.finish(out)
    }
}

#[cfg(test)]
pub(crate) mod tests;
