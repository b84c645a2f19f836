//! What one response runs with: the session's settings, overridden by the
//! `response.create` that asked for it, and how the response object reports
//! them.
//!
//! A client may override, per response (protocol notes `openai-realtime.md`
//! §5): the output modalities, instructions, tools, the output voice and
//! format, `max_output_tokens` (beta `max_response_output_tokens`, plus
//! `temperature`), `metadata`, and `conversation: "none"` for an out-of-band
//! response that is not added to the conversation. The service echoes them in
//! `response.created` and `response.done` (§6): clients such as livekit-agents
//! match a `response.created` to their request by `metadata`, so a mock that
//! dropped it would make them time out.

use serde_json::{json, Value};
use understudy_adapters::openai::wire::objects::{Response, ResponseParams, Session};
use understudy_adapters::openai::Dialect;

/// Output rate of PCM answers in both dialects.
const RATE: u32 = 24_000;

/// Output tokens the responder counts per spoken word (one text token and
/// three audio tokens, as its usage reports them).
const TOKENS_PER_WORD: u64 = 4;

/// The effective settings of one response.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsePlan {
    /// Whether the answer is spoken (else text only).
    pub audio: bool,
    /// The voice, as the dialect reports it (a name or `{id}`).
    pub voice: Value,
    /// The output format: GA `{type, rate?}`, beta `"pcm16"`/`"g711_*"`.
    pub format: Value,
    /// `"inf"` or a number of tokens.
    pub max_output_tokens: Value,
    /// The caller's metadata, echoed back (`null` when none).
    pub metadata: Value,
    /// Beta sampling temperature (reported on beta responses only).
    pub temperature: Value,
    /// `conversation: "none"`: the output is not added to the conversation.
    pub out_of_band: bool,
}

impl ResponsePlan {
    /// The settings of a response in `dialect` under `session`, with the
    /// `response.create` overrides `params`.
    pub fn new(dialect: Dialect, session: &Session, params: Option<&ResponseParams>) -> Self {
        let extra = |key: &str| params.and_then(|p| p.extra.get(key)).cloned();
        let modalities = match dialect {
            Dialect::Ga => params
                .and_then(|p| p.output_modalities.clone())
                .or_else(|| session.output_modalities.clone()),
            Dialect::Beta => params
                .and_then(|p| p.modalities.clone())
                .or_else(|| session.modalities.clone()),
        };
        let audio = modalities.is_none_or(|m| m.iter().any(|x| x == "audio"));
        let metadata = params
            .and_then(|p| p.metadata.clone())
            .unwrap_or(Value::Null);
        let out_of_band = params.and_then(|p| p.conversation.as_deref()) == Some("none");
        match dialect {
            Dialect::Ga => {
                let session_output = session.audio.as_ref().and_then(|a| a.output.as_ref());
                let asked = extra("audio");
                let asked_output = asked.as_ref().and_then(|a| a.get("output"));
                let voice = asked_output
                    .and_then(|o| o.get("voice"))
                    .cloned()
                    .or_else(|| session_output.and_then(|o| o.voice.clone()))
                    .unwrap_or_else(|| json!("alloy"));
                let format = asked_output
                    .and_then(|o| o.get("format"))
                    .cloned()
                    .or_else(|| {
                        session_output
                            .and_then(|o| o.format.as_ref())
                            .and_then(|f| serde_json::to_value(f).ok())
                    })
                    .unwrap_or_else(|| json!({"type": "audio/pcm", "rate": RATE}));
                ResponsePlan {
                    audio,
                    voice,
                    format: complete_ga_format(format),
                    max_output_tokens: extra("max_output_tokens")
                        .or_else(|| session.max_output_tokens.clone())
                        .unwrap_or_else(|| json!("inf")),
                    metadata,
                    temperature: Value::Null,
                    out_of_band,
                }
            }
            Dialect::Beta => ResponsePlan {
                audio,
                voice: extra("voice")
                    .or_else(|| session.voice.clone().map(Value::from))
                    .unwrap_or_else(|| json!("alloy")),
                format: extra("output_audio_format")
                    .or_else(|| session.output_audio_format.clone().map(Value::from))
                    .unwrap_or_else(|| json!("pcm16")),
                max_output_tokens: extra("max_response_output_tokens")
                    .or_else(|| session.max_response_output_tokens.clone())
                    .unwrap_or_else(|| json!("inf")),
                metadata,
                temperature: extra("temperature")
                    .or_else(|| session.temperature.map(Value::from))
                    .unwrap_or_else(|| json!(0.8)),
                out_of_band,
            },
        }
    }

    /// How many words of `text` fit under `max_output_tokens`, or `None`
    /// when all of it does.
    pub fn word_limit(&self, text: &str) -> Option<usize> {
        let limit = self.max_output_tokens.as_u64()?;
        let fits = usize::try_from(limit / TOKENS_PER_WORD)
            .unwrap_or(usize::MAX)
            .max(1);
        (text.split_whitespace().count() > fits).then_some(fits)
    }

    /// Writes the settings into a response object the way `dialect` reports
    /// them; `conversation_id` is the conversation's, or `null` out of band.
    pub fn report(&self, dialect: Dialect, response: &mut Response, conversation_id: String) {
        if self.out_of_band {
            response.conversation_id = None;
            response.extra.insert("conversation_id".into(), Value::Null);
        } else {
            response.conversation_id = Some(conversation_id);
        }
        let extra = &mut response.extra;
        match dialect {
            Dialect::Ga => {
                response.output_modalities =
                    Some(vec![if self.audio { "audio" } else { "text" }.into()]);
                extra.insert(
                    "audio".into(),
                    json!({"output": {"format": self.format, "voice": self.voice}}),
                );
            }
            Dialect::Beta => {
                response.modalities = Some(if self.audio {
                    vec!["text".into(), "audio".into()]
                } else {
                    vec!["text".into()]
                });
                extra.insert("voice".into(), self.voice.clone());
                extra.insert("output_audio_format".into(), self.format.clone());
                extra.insert("temperature".into(), self.temperature.clone());
            }
        }
        extra.insert("max_output_tokens".into(), self.max_output_tokens.clone());
        extra.insert("metadata".into(), self.metadata.clone());
    }
}

/// A GA format as the service reports it: PCM always with its rate.
fn complete_ga_format(mut format: Value) -> Value {
    if format.get("type").and_then(Value::as_str) == Some("audio/pcm") {
        if let Some(map) = format.as_object_mut() {
            map.entry("rate").or_insert_with(|| json!(RATE));
        }
    }
    format
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: Value) -> ResponseParams {
        serde_json::from_value(value).expect("response params")
    }

    #[test]
    fn ga_overrides_win_over_the_session_and_are_reported() {
        let session: Session = serde_json::from_value(json!({
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {"output": {"voice": "marin"}},
        }))
        .expect("session");
        let asked = params(json!({
            "output_modalities": ["text"],
            "metadata": {"client_event_id": "response_create_1"},
            "max_output_tokens": 40,
            "audio": {"output": {"voice": "coral", "format": {"type": "audio/pcmu"}}},
            "conversation": "none",
        }));
        let plan = ResponsePlan::new(Dialect::Ga, &session, Some(&asked));
        assert!(!plan.audio);
        assert!(plan.out_of_band);
        let mut response = Response::default();
        plan.report(Dialect::Ga, &mut response, "conv_1".into());
        let reported = serde_json::to_value(&response).expect("json");
        assert_eq!(reported["output_modalities"], json!(["text"]));
        assert_eq!(
            reported["metadata"],
            json!({"client_event_id": "response_create_1"})
        );
        assert_eq!(reported["max_output_tokens"], json!(40));
        assert_eq!(reported["audio"]["output"]["voice"], "coral");
        assert_eq!(reported["audio"]["output"]["format"]["type"], "audio/pcmu");
        assert!(reported["conversation_id"].is_null());
        assert!(reported
            .as_object()
            .expect("object")
            .contains_key("conversation_id"));
        assert_eq!(
            plan.word_limit("one two three four five six seven eight nine ten eleven"),
            Some(10)
        );
    }

    #[test]
    fn defaults_come_from_the_session() {
        let session: Session = serde_json::from_value(json!({
            "voice": "verse", "output_audio_format": "g711_ulaw", "temperature": 0.7,
        }))
        .expect("session");
        let plan = ResponsePlan::new(Dialect::Beta, &session, None);
        assert!(plan.audio && !plan.out_of_band);
        let mut response = Response::default();
        plan.report(Dialect::Beta, &mut response, "conv_2".into());
        let reported = serde_json::to_value(&response).expect("json");
        assert_eq!(reported["voice"], "verse");
        assert_eq!(reported["output_audio_format"], "g711_ulaw");
        assert_eq!(reported["temperature"], json!(0.7));
        assert_eq!(reported["max_output_tokens"], "inf");
        assert!(reported["metadata"].is_null());
        assert_eq!(reported["conversation_id"], "conv_2");
        assert_eq!(plan.word_limit("a b c"), None);
    }
}
