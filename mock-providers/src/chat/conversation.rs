//! Reads a chat request as the responder's conversation, so chat completions
//! answer with the same deterministic rule as the realtime mocks
//! ([`crate::openai::reply::decide`]): echo text, call a tool the user names,
//! read back tool results.
//!
//! Chat messages become realtime-shaped items: user text and recognised
//! input audio (the bundled utterances, see [`crate::speech`]) are the user's
//! words; assistant `tool_calls` become `function_call` items and `tool`
//! messages `function_call_output` items.

use super::errors::ChatFailure;
use base64::Engine as _;
use serde_json::Value;
use understudy_adapters::chat::{ChatDialect, ChatRequest, Content, Role, ToolChoice};
use understudy_adapters::openai::wire::objects::{ContentPart, Item, Tool};

/// Key under which an unrecognised audio part's length travels to `decide`.
const AUDIO_MS: &str = "understudy_audio_ms";

/// The conversation and tools, in the responder's terms.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    /// Items, oldest first (system messages left out).
    pub items: Vec<Item>,
    /// Function tools offered (after `tool_choice: none` removed them).
    pub tools: Vec<Tool>,
    /// A tool the answer must call (`required` or a named `tool_choice`).
    pub forced: Option<Tool>,
    /// The text of the `system` and `developer` messages, one per line (the
    /// realtime sessions' instructions), if there were any.
    pub instructions: Option<String>,
}

impl Conversation {
    /// Milliseconds of unrecognised audio in an item (for "I heard N seconds").
    pub fn audio_ms(item: &Item) -> f64 {
        item.extra
            .get(AUDIO_MS)
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }

    /// Reads `request`; input audio that cannot be decoded is a 400.
    pub fn read(dialect: ChatDialect, request: &ChatRequest) -> Result<Self, ChatFailure> {
        let mut items = Vec::new();
        let mut instructions: Vec<String> = Vec::new();
        for (i, message) in request.messages.iter().enumerate() {
            match message.role {
                Role::System | Role::Developer => instructions.extend(message.text()),
                Role::Other(_) => {}
                Role::User => items.push(user_item(dialect, i, message.content.as_ref())?),
                Role::Assistant => {
                    for call in message.tool_calls.iter().flatten() {
                        items.push(Item {
                            kind: "function_call".into(),
                            call_id: Some(call.id.clone()),
                            name: Some(call.function.name.clone()),
                            arguments: Some(call.function.arguments.clone()),
                            ..Default::default()
                        });
                    }
                    if let Some(text) = message.text() {
                        items.push(Item {
                            kind: "message".into(),
                            role: Some("assistant".into()),
                            content: Some(vec![ContentPart {
                                kind: "text".into(),
                                text: Some(text),
                                ..Default::default()
                            }]),
                            ..Default::default()
                        });
                    }
                }
                Role::Tool => items.push(Item {
                    kind: "function_call_output".into(),
                    call_id: message.tool_call_id.clone(),
                    output: message.text(),
                    ..Default::default()
                }),
            }
        }
        let offered: Vec<Tool> = request
            .tools
            .iter()
            .flatten()
            .filter_map(|t| t.function.as_ref())
            .map(|f| Tool {
                kind: Some("function".into()),
                name: Some(f.name.clone()),
                description: f.description.clone(),
                parameters: f.parameters.clone(),
                ..Default::default()
            })
            .collect();
        let (tools, forced) = match &request.tool_choice {
            Some(ToolChoice::Mode(mode)) if mode == "none" => (Vec::new(), None),
            Some(ToolChoice::Mode(mode)) if mode == "required" => {
                let first = offered.first().cloned();
                (offered, first)
            }
            Some(ToolChoice::Named(named)) => {
                let chosen: Vec<Tool> = offered
                    .into_iter()
                    .filter(|t| t.name.as_deref() == Some(named.function.name.as_str()))
                    .collect();
                let first = chosen.first().cloned();
                (chosen, first)
            }
            _ => (offered, None),
        };
        Ok(Conversation {
            items,
            tools,
            forced,
            instructions: (!instructions.is_empty()).then(|| instructions.join("\n")),
        })
    }
}

fn user_item(
    dialect: ChatDialect,
    i: usize,
    content: Option<&Content>,
) -> Result<Item, ChatFailure> {
    let mut item = Item {
        kind: "message".into(),
        role: Some("user".into()),
        content: Some(Vec::new()),
        ..Default::default()
    };
    let mut parts = Vec::new();
    let mut audio_ms = 0.0;
    match content {
        Some(Content::Text(text)) => parts.push(text_part(text)),
        Some(Content::Parts(list)) => {
            for (j, part) in list.iter().enumerate() {
                match part.kind.as_str() {
                    "text" => parts.push(text_part(part.text.as_deref().unwrap_or_default())),
                    "image_url" => parts.push(ContentPart {
                        kind: "input_image".into(),
                        ..Default::default()
                    }),
                    "input_audio" => {
                        let Some(audio) = &part.input_audio else {
                            continue;
                        };
                        let param = format!("messages[{i}].content[{j}].input_audio.data");
                        match recognise(dialect, &audio.data, &param)? {
                            Heard::Words(words) => parts.push(ContentPart {
                                kind: "input_audio".into(),
                                transcript: Some(Some(words.into())),
                                ..Default::default()
                            }),
                            Heard::Length(ms) => audio_ms += ms,
                        }
                    }
                    _ => {}
                }
            }
        }
        None => {}
    }
    if audio_ms > 0.0 {
        item.extra.insert(AUDIO_MS.into(), Value::from(audio_ms));
    }
    item.content = Some(parts);
    Ok(item)
}

fn text_part(text: &str) -> ContentPart {
    ContentPart {
        kind: "input_text".into(),
        text: Some(text.to_owned()),
        ..Default::default()
    }
}

enum Heard {
    Words(&'static str),
    Length(f64),
}

/// What an `input_audio` part says: a bundled utterance, or only its length.
/// A URL cannot be fetched here, so it is heard as zero-length audio.
fn recognise(dialect: ChatDialect, data: &str, param: &str) -> Result<Heard, ChatFailure> {
    if data.starts_with("http://") || data.starts_with("https://") {
        return Ok(Heard::Length(0.0));
    }
    let encoded = match data.strip_prefix("data:") {
        Some(uri) => uri.split_once("base64,").map(|(_, b64)| b64).unwrap_or(""),
        None => data,
    };
    let invalid = || {
        ChatFailure::bad_request(
            dialect,
            format!("Invalid value for '{param}': the audio data is not valid base64."),
            Some(param),
            Some("invalid_value"),
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    // Only WAV is decodable here; other containers are heard as audio of unknown words.
    let Ok((pcm, rate)) = understudy_fixtures::wav::read_pcm16(&bytes) else {
        return Ok(Heard::Length(0.0));
    };
    Ok(
        match crate::speech::KnownSpeech::bundled().transcribe(&pcm, rate) {
            Some(words) => Heard::Words(words),
            None => Heard::Length(understudy_adapters::audio::pcm16_duration_ms(
                pcm.len(),
                rate,
            )),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use understudy_adapters::chat::{ContentPart as ChatPart, Message, Tool as ChatTool};

    #[test]
    fn bundled_utterances_in_input_audio_are_heard_as_words() {
        let wav = understudy_fixtures::bundled::audio("user-weather-24k.wav").unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(wav);
        for data in [b64.clone(), format!("data:;base64,{b64}")] {
            let request = ChatRequest::new(
                "m",
                vec![Message::user_parts(vec![ChatPart::input_audio(
                    data, "wav",
                )])],
            );
            let conversation = Conversation::read(ChatDialect::OpenAi, &request).unwrap();
            let part = &conversation.items[0].content.as_ref().unwrap()[0];
            assert_eq!(
                part.transcript,
                Some(Some("What is the weather like in Paris today?".into()))
            );
        }
        let bad = ChatRequest::new(
            "m",
            vec![Message::user_parts(vec![ChatPart::input_audio(
                "***", "wav",
            )])],
        );
        let failure = Conversation::read(ChatDialect::OpenAi, &bad).unwrap_err();
        assert_eq!(
            failure.body.error.param.as_deref(),
            Some("messages[0].content[0].input_audio.data")
        );
    }

    #[test]
    fn tool_choice_none_hides_tools_and_named_forces_one() {
        let tools = vec![
            ChatTool::function("get_weather", "w", json!({"type": "object"})),
            ChatTool::function("lookup_order", "o", json!({"type": "object"})),
        ];
        let mut request = ChatRequest::new("m", vec![Message::user("weather?")]).with_tools(tools);
        request.tool_choice = Some(ToolChoice::none());
        assert!(Conversation::read(ChatDialect::OpenAi, &request)
            .unwrap()
            .tools
            .is_empty());
        request.tool_choice = Some(ToolChoice::function("lookup_order"));
        let conversation = Conversation::read(ChatDialect::OpenAi, &request).unwrap();
        assert_eq!(
            conversation.forced.unwrap().name.as_deref(),
            Some("lookup_order")
        );
    }
}
