//! Plans an answer: which chunks go out, and when (sans-IO; the transport in
//! [`super`] only sleeps and writes).
//!
//! Chunk order follows the protocol notes: §5.1 text, §5.2 tool calls, §6.3
//! OpenAI audio (role → transcript fragments, the first with the audio id →
//! PCM16 data → `finish_reason` → trailing `expires_at` chunk without a
//! `finish_reason` key → usage → `[DONE]`) and §7.3 DashScope audio (text in
//! `content` → audio chunks each carrying `data`, `expires_at` = `created` and
//! `id` → `finish_reason` with `{"content":""}` → usage → `[DONE]`).
//! Unconfirmed points are this mock's choices: transcript before audio (no
//! interleaving), no repeated `role`/`audio.id` on the first data chunk (it
//! garbles the SDK's accumulating helper), no audio when the answer is a tool
//! call, OpenAI audio tokens at 10 per second.

use super::conversation::Conversation;
use super::errors::ChatFailure;
use crate::openai::recall;
use crate::openai::reply::{arguments_for, decide, Reply};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use understudy_adapters::audio::Pcm;
use understudy_adapters::chat::chunk::{
    ChunkChoice, CompletionAudio, CompletionChoice, CompletionMessage, Delta, DeltaAudio,
    FunctionDelta, TokenDetails, ToolCallDelta, CHUNK_OBJECT, COMPLETION_OBJECT,
};
use understudy_adapters::chat::{
    ChatChunk, ChatCompletion, ChatDialect, ChatRequest, ChatUsage, FinishReason, ToolCall,
};
use understudy_adapters::openai::wire::objects::Item;

/// Output sample rate of both dialects.
pub const RATE: u32 = 24_000;

/// Pacing and voice of the answers.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// Delay before the first content chunk ("time to first token").
    pub first_token: Duration,
    /// Gap between text fragments.
    pub text_step: Duration,
    /// Gap between audio chunks.
    pub audio_step: Duration,
    /// Audio per chunk, in milliseconds.
    pub chunk_ms: u64,
    /// The voice answers are spoken in (PCM16 24 kHz).
    pub voice: Arc<[i16]>,
}

/// A fault asked for with `X-Understudy-Fault` (protocol notes §10.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatFault {
    /// An `{"error":…}` event after the first content chunk, then the body ends.
    MidstreamError,
    /// The body ends halfway through the content: no finish, usage or `[DONE]`.
    Truncate,
    /// 429 before anything streams (with `x-should-retry: false`).
    RateLimit,
}

impl ChatFault {
    /// The names [`parse`](Self::parse) takes, for messages that list them.
    pub const NAMES: [&'static str; 3] = ["midstream-error", "truncate", "rate-limit"];

    /// Reads the header value (`midstream-error`, `truncate`, `rate-limit`).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "midstream-error" => Some(ChatFault::MidstreamError),
            "truncate" => Some(ChatFault::Truncate),
            "rate-limit" => Some(ChatFault::RateLimit),
            _ => None,
        }
    }
}

/// One SSE event to send `at` after the request arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    /// Offset from the request.
    pub at: Duration,
    /// The event's data (one line of JSON, or `[DONE]`).
    pub data: String,
}

/// Identity of one completion.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `chatcmpl-…`.
    pub id: String,
    /// `audio_…`.
    pub audio_id: String,
    /// `call_…` prefix source.
    pub call_id: String,
    /// Unix seconds.
    pub created: i64,
    /// Random padding for OpenAI's `obfuscation`.
    pub padding: String,
}

impl Identity {
    /// Fresh ids for `dialect`, from `seed` (unique per request) and the clock.
    pub fn mint(dialect: ChatDialect, seed: u64, created: i64) -> Self {
        let mut state = seed ^ (created as u64).wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
        let mut alnum = |n: usize| -> String {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ALPHABET[(state % ALPHABET.len() as u64) as usize] as char
                })
                .collect()
        };
        let hex: String = alnum(32)
            .bytes()
            .map(|b| char::from_digit(u32::from(b) % 16, 16).unwrap_or('0'))
            .collect();
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        match dialect {
            ChatDialect::OpenAi => Identity {
                id: format!("chatcmpl-{}", alnum(29)),
                audio_id: format!("audio_{hex}"),
                call_id: format!("call_{}", alnum(24)),
                created,
                padding: alnum(8),
            },
            ChatDialect::DashScope => Identity {
                id: format!("chatcmpl-{uuid}"),
                audio_id: format!("audio_{uuid}"),
                call_id: format!("call_{}", &hex[..24]),
                created,
                padding: String::new(),
            },
        }
    }
}

/// What the model decided to say or call.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Speak or write this text.
    Say(String),
    /// Call this tool.
    Call {
        /// Function name.
        name: String,
        /// JSON arguments.
        arguments: String,
    },
}

/// Decides the answer with the realtime responders' rule, honouring a forced
/// tool choice when the user has just spoken.
///
/// A system or developer message that asks to summarize (`summarize` or
/// `summarise`) makes this mock the model a summariser calls: the answer is
/// [`recall::summary`] of the user messages' text, whatever else was asked.
pub fn decide_answer(conversation: &Conversation) -> Decision {
    let instructions = conversation.instructions.as_deref();
    if instructions.is_some_and(recall::asks_for_summary) {
        return Decision::Say(recall::summary(&user_texts(&conversation.items).join("\n")));
    }
    let reply = decide(
        &conversation.items,
        &conversation.tools,
        instructions,
        Conversation::audio_ms,
    );
    match (reply, &conversation.forced) {
        (Reply::Call { name, arguments }, _) => Decision::Call { name, arguments },
        (Reply::Speak(_), Some(tool)) if last_is_user(&conversation.items) => Decision::Call {
            name: tool.name.clone().unwrap_or_default(),
            arguments: arguments_for(tool, &last_user_text(&conversation.items)),
        },
        (Reply::Speak(text), _) => Decision::Say(text),
    }
}

fn last_is_user(items: &[Item]) -> bool {
    items
        .last()
        .is_some_and(|i| i.role.as_deref() == Some("user"))
}

fn last_user_text(items: &[Item]) -> String {
    items
        .iter()
        .rev()
        .find(|i| i.role.as_deref() == Some("user"))
        .map(item_text)
        .unwrap_or_default()
}

/// The text of every user message, oldest first.
fn user_texts(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter(|i| i.role.as_deref() == Some("user"))
        .map(item_text)
        .collect()
}

/// An item's words: its text parts and recognised audio transcripts.
fn item_text(item: &Item) -> String {
    item.content
        .iter()
        .flatten()
        .filter_map(|p| p.text.clone().or_else(|| p.transcript.clone().flatten()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything needed to plan one answer.
#[derive(Debug)]
pub struct Planner<'a> {
    /// The dialect.
    pub dialect: ChatDialect,
    /// The validated request.
    pub request: &'a ChatRequest,
    /// Ids and time.
    pub identity: Identity,
    /// Timing and voice.
    pub pacing: Pacing,
}

impl Planner<'_> {
    /// The streamed answer to `decision`.
    pub fn stream(&self, decision: &Decision, fault: Option<ChatFault>) -> Vec<Scheduled> {
        let mut out = Vec::new();
        let mut at = self.pacing.first_token;
        let openai = self.dialect == ChatDialect::OpenAi;
        let audio = self.request.wants_audio() && matches!(decision, Decision::Say(_));
        // Content chunks: (offset, choice delta).
        let mut content: Vec<(Duration, Delta)> = Vec::new();
        let (reason, completion_text, audio_seconds) = match decision {
            Decision::Say(text) => {
                let words: Vec<&str> = text.split_inclusive(' ').collect();
                for (n, word) in words.iter().enumerate() {
                    let delta = if audio && openai {
                        Delta {
                            content: (n == 0).then_some(None),
                            audio: Some(DeltaAudio {
                                id: (n == 0).then(|| self.identity.audio_id.clone()),
                                transcript: Some((*word).to_owned()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }
                    } else {
                        Delta::text(*word)
                    };
                    content.push((at, delta));
                    at += self.pacing.text_step;
                }
                let mut seconds = 0.0;
                if audio {
                    let pcm = self.voice_for(text);
                    seconds = pcm.len() as f64 / f64::from(RATE);
                    let per_chunk = (RATE as u64 * self.pacing.chunk_ms / 1000).max(1) as usize;
                    for piece in pcm.chunks(per_chunk) {
                        let data = Pcm::from_samples(piece).to_base64();
                        let delta_audio = if openai {
                            DeltaAudio {
                                data: Some(data),
                                ..Default::default()
                            }
                        } else {
                            DeltaAudio {
                                data: Some(data),
                                expires_at: Some(self.identity.created),
                                id: Some(self.identity.audio_id.clone()),
                                ..Default::default()
                            }
                        };
                        content.push((
                            at,
                            Delta {
                                audio: Some(delta_audio),
                                ..Default::default()
                            },
                        ));
                        at += self.pacing.audio_step;
                    }
                }
                (FinishReason::Stop, text.clone(), seconds)
            }
            Decision::Call { name, arguments } => {
                let first = ToolCallDelta {
                    index: 0,
                    id: Some(self.identity.call_id.clone()),
                    kind: Some("function".into()),
                    function: Some(FunctionDelta {
                        name: Some(name.clone()),
                        arguments: Some(String::new()),
                    }),
                };
                content.push((
                    at,
                    Delta {
                        role: Some("assistant".into()),
                        content: Some(None),
                        tool_calls: Some(vec![first]),
                        ..Default::default()
                    },
                ));
                for piece in split_in_three(arguments) {
                    at += self.pacing.text_step;
                    content.push((
                        at,
                        Delta {
                            tool_calls: Some(vec![ToolCallDelta {
                                index: 0,
                                function: Some(FunctionDelta {
                                    name: None,
                                    arguments: Some(piece),
                                }),
                                ..Default::default()
                            }]),
                            ..Default::default()
                        },
                    ));
                }
                (FinishReason::ToolCalls, arguments.clone(), 0.0)
            }
        };
        let is_call = matches!(decision, Decision::Call { .. });
        // The role chunk (a tool call carries the role in its first fragment).
        if !is_call {
            let role = match (self.dialect, audio) {
                (ChatDialect::OpenAi, true) => Delta {
                    role: Some("assistant".into()),
                    refusal: Some(None),
                    ..Default::default()
                },
                (ChatDialect::OpenAi, false) => Delta {
                    role: Some("assistant".into()),
                    content: Some(Some(String::new())),
                    refusal: Some(None),
                    ..Default::default()
                },
                (ChatDialect::DashScope, _) => Delta {
                    role: Some("assistant".into()),
                    content: Some(Some(String::new())),
                    ..Default::default()
                },
            };
            out.push(self.event(
                self.pacing.first_token,
                self.choice(role, Some(None), audio),
            ));
        }
        let cut = match fault {
            Some(ChatFault::Truncate) => Some(content.len().div_ceil(2)),
            Some(ChatFault::MidstreamError) => Some(1),
            _ => None,
        };
        for (n, (t, delta)) in content.into_iter().enumerate() {
            if cut == Some(n) {
                break;
            }
            out.push(self.event(t, self.choice(delta, Some(None), audio)));
        }
        if let Some(fault) = fault.filter(|_| cut.is_some()) {
            if fault == ChatFault::MidstreamError {
                let error = json!({"error": {"message": "Selected model is at capacity. Please try a different model.", "type": "server_error", "param": null, "code": "server_error"}});
                out.push(Scheduled {
                    at,
                    data: error.to_string(),
                });
            }
            return out;
        }
        let stop = match self.dialect {
            ChatDialect::OpenAi => Delta::default(),
            ChatDialect::DashScope => Delta::text(""),
        };
        out.push(self.event(at, self.choice(stop, Some(Some(reason)), audio)));
        if audio && openai {
            let expiry = Delta {
                audio: Some(DeltaAudio {
                    expires_at: Some(self.identity.created + 3600),
                    ..Default::default()
                }),
                ..Default::default()
            };
            out.push(self.event(at, self.choice(expiry, None, audio)));
        }
        if self.request.wants_usage() {
            let mut chunk = self.envelope(Vec::new());
            chunk.usage = Some(Some(self.usage(&completion_text, audio_seconds)));
            out.push(Scheduled {
                at,
                data: to_json(&chunk),
            });
        }
        out.push(Scheduled {
            at,
            data: "[DONE]".into(),
        });
        out
    }

    /// The non-streaming answer; `Err` for an audio format this mock cannot encode.
    pub fn completion(&self, decision: &Decision) -> Result<ChatCompletion, ChatFailure> {
        let audio = self.request.wants_audio() && matches!(decision, Decision::Say(_));
        let mut message = CompletionMessage {
            role: "assistant".into(),
            content: Some(None),
            refusal: Some(None),
            extra: Map::from_iter([("annotations".to_owned(), json!([]))]).into(),
            ..Default::default()
        };
        let (reason, text, seconds) = match decision {
            Decision::Say(text) if audio => {
                let pcm = Pcm::from_samples(&self.voice_for(text));
                let format = self.request.audio.as_ref().map(|a| a.format.as_str());
                let data = match format {
                    Some("pcm16") => pcm.to_base64(),
                    Some("wav") => understudy_fixtures::wav::write_pcm16(&pcm.0, RATE)
                        .map(|wav| Pcm(wav).to_base64())
                        .unwrap_or_default(),
                    other => {
                        return Err(ChatFailure::bad_request(
                            self.dialect,
                            format!(
                                "Unsupported value: 'audio.format' '{}' is not produced by this mock. Supported values are: 'wav' and 'pcm16'.",
                                other.unwrap_or_default()
                            ),
                            Some("audio.format"),
                            Some("unsupported_value"),
                        ))
                    }
                };
                message.audio = Some(CompletionAudio {
                    id: self.identity.audio_id.clone(),
                    data,
                    expires_at: self.identity.created + 3600,
                    transcript: text.clone(),
                });
                (
                    FinishReason::Stop,
                    text.clone(),
                    pcm.len() as f64 / 2.0 / f64::from(RATE),
                )
            }
            Decision::Say(text) => {
                message.content = Some(Some(text.clone()));
                (FinishReason::Stop, text.clone(), 0.0)
            }
            Decision::Call { name, arguments } => {
                message.tool_calls = Some(vec![ToolCall::function(
                    self.identity.call_id.clone(),
                    name.clone(),
                    arguments.clone(),
                )]);
                (FinishReason::ToolCalls, arguments.clone(), 0.0)
            }
        };
        Ok(ChatCompletion {
            id: self.identity.id.clone(),
            object: COMPLETION_OBJECT.into(),
            created: self.identity.created,
            model: self.request.model.clone(),
            choices: vec![CompletionChoice {
                index: 0,
                message,
                finish_reason: Some(reason),
                logprobs: None,
            }],
            usage: Some(self.usage(&text, seconds)),
            system_fingerprint: Some(self.fingerprint()),
            extra: Default::default(),
        })
    }

    /// The answer's audio: the bundled voice, long enough for the words (as
    /// the realtime responders do).
    fn voice_for(&self, text: &str) -> Vec<i16> {
        let ms = (text.chars().count() as u64 * 60).clamp(1000, 6000);
        let wanted = (RATE as u64 * ms / 1000) as usize;
        if self.pacing.voice.is_empty() {
            return vec![0; wanted];
        }
        self.pacing
            .voice
            .iter()
            .copied()
            .cycle()
            .take(wanted)
            .collect()
    }

    fn fingerprint(&self) -> Option<String> {
        (self.dialect == ChatDialect::OpenAi).then(|| "fp_un4e85d1e1".to_owned())
    }

    fn envelope(&self, choices: Vec<ChunkChoice>) -> ChatChunk {
        let mut extra = Map::new();
        let usage = match self.dialect {
            ChatDialect::OpenAi => {
                extra.insert("service_tier".into(), json!("default"));
                let obfuscate = self
                    .request
                    .stream_options
                    .as_ref()
                    .and_then(|o| o.include_obfuscation)
                    .unwrap_or(true);
                if obfuscate {
                    extra.insert("obfuscation".into(), json!(self.identity.padding));
                }
                self.request.wants_usage().then_some(None)
            }
            ChatDialect::DashScope => Some(None),
        };
        ChatChunk {
            id: Some(self.identity.id.clone()),
            object: Some(CHUNK_OBJECT.into()),
            created: Some(self.identity.created),
            model: Some(self.request.model.clone()),
            choices,
            usage,
            system_fingerprint: Some(self.fingerprint()),
            error: None,
            extra: extra.into(),
        }
    }

    /// One choice; `finish_reason: None` omits the key (OpenAI's expiry chunk).
    fn choice(
        &self,
        delta: Delta,
        finish_reason: Option<Option<FinishReason>>,
        audio: bool,
    ) -> ChunkChoice {
        // OpenAI's audio captures carry no `logprobs`; its text streams and DashScope send `null`.
        let logprobs = (!(audio && self.dialect == ChatDialect::OpenAi)).then_some(None);
        ChunkChoice {
            index: 0,
            delta,
            finish_reason,
            logprobs,
            extra: Default::default(),
        }
    }

    fn event(&self, at: Duration, choice: ChunkChoice) -> Scheduled {
        Scheduled {
            at,
            data: to_json(&self.envelope(vec![choice])),
        }
    }

    fn usage(&self, completion_text: &str, audio_seconds: f64) -> ChatUsage {
        let words = |text: &str| text.split_whitespace().count() as u64;
        let prompt_text: u64 = self
            .request
            .messages
            .iter()
            .map(|m| words(&m.text().unwrap_or_default()) + 4)
            .sum();
        let text_out = words(completion_text).max(1);
        let audio_out = if audio_seconds > 0.0 {
            let rate = match self.dialect {
                ChatDialect::OpenAi => 10.0,
                ChatDialect::DashScope if self.request.model.contains("omni-turbo") => 25.0,
                ChatDialect::DashScope => 12.5,
            };
            Some((audio_seconds.max(1.0) * rate).ceil() as u64)
        } else {
            None
        };
        let completion = text_out + audio_out.unwrap_or(0);
        let (prompt_details, completion_details) = match self.dialect {
            ChatDialect::OpenAi => (
                TokenDetails {
                    cached_tokens: Some(0),
                    audio_tokens: Some(0),
                    text_tokens: Some(prompt_text),
                    image_tokens: Some(0),
                    ..Default::default()
                },
                TokenDetails {
                    reasoning_tokens: Some(0),
                    audio_tokens: Some(audio_out.unwrap_or(0)),
                    accepted_prediction_tokens: Some(0),
                    rejected_prediction_tokens: Some(0),
                    text_tokens: Some(text_out),
                    ..Default::default()
                },
            ),
            ChatDialect::DashScope => (
                TokenDetails {
                    text_tokens: Some(prompt_text),
                    ..Default::default()
                },
                TokenDetails {
                    audio_tokens: audio_out,
                    text_tokens: Some(text_out),
                    ..Default::default()
                },
            ),
        };
        ChatUsage {
            prompt_tokens: prompt_text,
            completion_tokens: completion,
            total_tokens: prompt_text + completion,
            prompt_tokens_details: Some(prompt_details),
            completion_tokens_details: Some(completion_details),
        }
    }
}

/// Splits text into up to three pieces at character boundaries.
fn split_in_three(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(3).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!(%e, "chunk did not serialise");
        Value::Null.to_string()
    })
}

#[cfg(test)]
mod tests;
