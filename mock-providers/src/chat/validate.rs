//! Checks a request body the way the service would, before anything streams
//! (protocol notes §10.3). Wording marked *unconfirmed* in the notes is this
//! mock's choice; the status, `type`, `param` and `code` follow §8.

use super::errors::ChatFailure;
use serde_json::Value;
use understudy_adapters::chat::{ChatDialect, ChatRequest, Content, Role, ToolChoice};
use understudy_adapters::tts::openai_speech::wire::VOICES;

/// Roles OpenAI accepts, in its error message's order.
const ROLES: &str = "'system', 'assistant', 'user', 'function', 'tool', and 'developer'";

/// Whether a DashScope model only streams (the Qwen-Omni family).
pub fn stream_only(model: &str) -> bool {
    model.contains("omni")
}

/// Parses and validates a body for `dialect`.
pub fn validate(dialect: ChatDialect, body: &[u8]) -> Result<ChatRequest, ChatFailure> {
    let bad = |message: String, param: &str, code: Option<&str>| {
        ChatFailure::bad_request(dialect, message, Some(param), code)
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| ChatFailure::unparsable(dialect))?;
    let Some(object) = value.as_object() else {
        return Err(ChatFailure::unparsable(dialect));
    };
    match object.get("model") {
        Some(Value::String(m)) if !m.is_empty() => {}
        _ => {
            return Err(ChatFailure::bad_request(
                dialect,
                "you must provide a model parameter",
                None,
                None,
            ))
        }
    }
    let messages = match object.get("messages") {
        None | Some(Value::Null) => {
            return Err(bad(
                "Missing required parameter: 'messages'.".into(),
                "messages",
                Some("missing_required_parameter"),
            ))
        }
        Some(Value::Array(m)) => m,
        Some(_) => {
            return Err(bad(
                "Invalid type for 'messages': expected an array of objects.".into(),
                "messages",
                Some("invalid_type"),
            ))
        }
    };
    if messages.is_empty() {
        return Err(bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.".into(),
            "messages",
            Some("empty_array"),
        ));
    }
    for (i, message) in messages.iter().enumerate() {
        match message.get("role").and_then(Value::as_str) {
            None => {
                return Err(bad(
                    format!("Missing required parameter: 'messages[{i}].role'."),
                    &format!("messages[{i}].role"),
                    Some("missing_required_parameter"),
                ))
            }
            Some(role) if matches!(Role::from(role.to_owned()), Role::Other(_)) => {
                return Err(bad(
                    format!("Invalid value: '{role}'. Supported values are: {ROLES}."),
                    &format!("messages[{i}].role"),
                    Some("invalid_value"),
                ))
            }
            _ => {}
        }
    }
    let request = <ChatRequest as serde::Deserialize>::deserialize(&value).map_err(|e| {
        match crate::wrong_type::locate::<ChatRequest>(&value) {
            Some(wrong) => ChatFailure::bad_request(
                dialect,
                wrong.message(),
                Some(&wrong.param),
                Some("invalid_type"),
            ),
            None => ChatFailure::bad_request(
                dialect,
                format!("Invalid request body: {e}"),
                None,
                Some("invalid_type"),
            ),
        }
    })?;
    check_messages(dialect, &request)?;
    check_streaming(dialect, &request)?;
    check_audio(dialect, &request)?;
    check_voice(dialect, &request)?;
    check_tools(dialect, &request)?;
    check_model(dialect, &request.model)?;
    Ok(request)
}

/// OpenAI chat model families; each also answers to its dated snapshots
/// (`gpt-4o-mini-2024-07-18`) and fine-tunes (`ft:…`). The service answers any
/// other name with 404 `model_not_found`, as the speech route does.
const OPENAI_CHAT_MODELS: &[&str] = &[
    "gpt-audio",
    "gpt-audio-mini",
    "gpt-4o-audio-preview",
    "gpt-4o-mini-audio-preview",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4o-search-preview",
    "gpt-4o-mini-search-preview",
    "chatgpt-4o-latest",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-3.5-turbo",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5-chat-latest",
    "gpt-5.1",
    "gpt-5.2",
    "o1",
    "o1-mini",
    "o3",
    "o3-mini",
    "o4-mini",
];

/// Whether OpenAI serves chat completions for `model`.
pub fn is_openai_chat_model(model: &str) -> bool {
    model.starts_with("ft:")
        || OPENAI_CHAT_MODELS.iter().any(|family| {
            model == *family
                || model
                    .strip_prefix(family)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|date| {
                        date.len() >= 4 && date.chars().all(|c| c.is_ascii_digit() || c == '-')
                    })
        })
}

/// An unknown OpenAI model: 404 `model_not_found`, worded as the speech route
/// words it. (DashScope's answer to an unknown model is unconfirmed, so its
/// dialect accepts any name.)
fn check_model(dialect: ChatDialect, model: &str) -> Result<(), ChatFailure> {
    if dialect == ChatDialect::OpenAi && !is_openai_chat_model(model) {
        return Err(ChatFailure::model_not_found(dialect, model));
    }
    Ok(())
}

/// OpenAI voices are the speech route's (or a custom `{"id": "voice_…"}`).
/// DashScope's sets differ per model and its answer to an unknown one is
/// unconfirmed, so its dialect is not checked.
fn check_voice(dialect: ChatDialect, request: &ChatRequest) -> Result<(), ChatFailure> {
    let Some(audio) = &request.audio else {
        return Ok(());
    };
    if dialect != ChatDialect::OpenAi {
        return Ok(());
    }
    let bad = |message: String, param: &str, code: &str| {
        ChatFailure::bad_request(dialect, message, Some(param), Some(code))
    };
    match &audio.voice {
        Value::String(name) if VOICES.contains(&name.as_str()) => Ok(()),
        Value::String(name) => Err(bad(
            format!(
                "Invalid value: '{name}'. Supported values are: {}.",
                crate::http_tts::openai::listing(VOICES)
            ),
            "audio.voice",
            "invalid_value",
        )),
        Value::Object(custom) => match custom.get("id") {
            Some(Value::String(id)) if !id.is_empty() => Ok(()),
            None => Err(bad(
                "Missing required parameter: 'audio.voice.id'.".into(),
                "audio.voice.id",
                "missing_required_parameter",
            )),
            Some(other) => Err(bad(
                format!(
                    "Invalid type for 'audio.voice.id': expected a string, but got {} instead.",
                    crate::wrong_type::type_name(other)
                ),
                "audio.voice.id",
                "invalid_type",
            )),
        },
        other => Err(bad(
            format!(
                "Invalid type for 'audio.voice': expected one of a string or an object, but got {} instead.",
                crate::wrong_type::type_name(other)
            ),
            "audio.voice",
            "invalid_type",
        )),
    }
}

fn check_messages(dialect: ChatDialect, request: &ChatRequest) -> Result<(), ChatFailure> {
    for (i, message) in request.messages.iter().enumerate() {
        if message.role == Role::Tool && message.tool_call_id.is_none() {
            return Err(ChatFailure::bad_request(
                dialect,
                format!("Missing required parameter: 'messages[{i}].tool_call_id'."),
                Some(&format!("messages[{i}].tool_call_id")),
                Some("missing_required_parameter"),
            ));
        }
        let needs_content = message.role != Role::Assistant;
        if needs_content && message.content.is_none() {
            return Err(ChatFailure::bad_request(
                dialect,
                format!("Missing required parameter: 'messages[{i}].content'."),
                Some(&format!("messages[{i}].content")),
                Some("missing_required_parameter"),
            ));
        }
        if let Some(Content::Parts(parts)) = &message.content {
            for (j, part) in parts.iter().enumerate() {
                let known = matches!(
                    part.kind.as_str(),
                    "text" | "image_url" | "input_audio" | "file" | "refusal"
                ) || (dialect == ChatDialect::DashScope
                    && matches!(part.kind.as_str(), "video_url" | "video"));
                if !known {
                    return Err(ChatFailure::bad_request(
                        dialect,
                        format!(
                            "Invalid value: '{}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.",
                            part.kind
                        ),
                        Some(&format!("messages[{i}].content[{j}].type")),
                        Some("invalid_value"),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_streaming(dialect: ChatDialect, request: &ChatRequest) -> Result<(), ChatFailure> {
    if request.stream_options.is_some() && !request.is_streaming() {
        // Wording unconfirmed (§2).
        return Err(ChatFailure::bad_request(
            dialect,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options"),
            Some("invalid_value"),
        ));
    }
    if dialect == ChatDialect::DashScope && stream_only(&request.model) && !request.is_streaming() {
        return Err(ChatFailure::bad_request(
            dialect,
            "This model only support stream mode, please enable the stream parameter to access the model. ",
            None,
            None,
        ));
    }
    Ok(())
}

fn check_audio(dialect: ChatDialect, request: &ChatRequest) -> Result<(), ChatFailure> {
    for (i, modality) in request.modalities.iter().flatten().enumerate() {
        if modality != "text" && modality != "audio" {
            return Err(ChatFailure::bad_request(
                dialect,
                format!("Invalid value: '{modality}'. Supported values are: 'text' and 'audio'."),
                Some(&format!("modalities[{i}]")),
                Some("invalid_value"),
            ));
        }
    }
    if !request.wants_audio() {
        return Ok(());
    }
    let Some(audio) = &request.audio else {
        // Wording unconfirmed (§12).
        return Err(ChatFailure::bad_request(
            dialect,
            "Missing required parameter: 'audio'. It is required when 'modalities' includes 'audio'.",
            Some("audio"),
            Some("missing_required_parameter"),
        ));
    };
    let thinking = request.extra.get("enable_thinking") == Some(&Value::Bool(true));
    if dialect == ChatDialect::DashScope && thinking {
        // Status and body unconfirmed (§7.1): thinking mode supports text output only.
        return Err(ChatFailure::bad_request(
            dialect,
            "The audio output is not supported when enable_thinking is true.",
            None,
            None,
        ));
    }
    if dialect == ChatDialect::OpenAi && request.is_streaming() && audio.format != "pcm16" {
        return Err(ChatFailure::bad_request(
            dialect,
            format!(
                "Unsupported value: 'audio.format' does not support '{}' when stream=true. Supported values are: 'pcm16'.",
                audio.format
            ),
            Some("audio.format"),
            Some("unsupported_value"),
        ));
    }
    Ok(())
}

fn check_tools(dialect: ChatDialect, request: &ChatRequest) -> Result<(), ChatFailure> {
    let tools = request.tools.as_deref().unwrap_or_default();
    for (i, tool) in tools.iter().enumerate() {
        if tool.kind != "function" || tool.function.is_none() {
            return Err(ChatFailure::bad_request(
                dialect,
                format!(
                    "Invalid value for 'tools[{i}]': only function tools are served by this mock."
                ),
                Some(&format!("tools[{i}]")),
                Some("invalid_value"),
            ));
        }
    }
    match &request.tool_choice {
        Some(_) if tools.is_empty() => Err(ChatFailure::bad_request(
            dialect,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            Some("tool_choice"),
            None,
        )),
        Some(ToolChoice::Mode(mode)) if !matches!(mode.as_str(), "none" | "auto" | "required") => {
            Err(ChatFailure::bad_request(
                dialect,
                format!("Invalid value: '{mode}'. Supported values are: 'none', 'auto', and 'required'."),
                Some("tool_choice"),
                Some("invalid_value"),
            ))
        }
        Some(ToolChoice::Named(named)) if !tools.iter().any(|t| t.name() == Some(&named.function.name)) => {
            Err(ChatFailure::bad_request(
                dialect,
                format!(
                    "Invalid value for 'tool_choice': tool '{}' not found in 'tools'.",
                    named.function.name
                ),
                Some("tool_choice"),
                Some("invalid_value"),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(
        dialect: ChatDialect,
        body: Value,
    ) -> Result<ChatRequest, (u16, Option<String>, Option<String>)> {
        validate(dialect, body.to_string().as_bytes())
            .map_err(|f| (f.status.as_u16(), f.body.error.param, f.body.error.code))
    }

    #[test]
    fn openai_names_the_offending_parameter() {
        let user = json!([{"role": "user", "content": "Hi"}]);
        let cases = [
            (json!({"messages": user}), None, None),
            (
                json!({"model": "m"}),
                Some("messages"),
                Some("missing_required_parameter"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": []}),
                Some("messages"),
                Some("empty_array"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": [{"role": "narrator", "content": "x"}]}),
                Some("messages[0].role"),
                Some("invalid_value"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": [{"role": "tool", "content": "x"}]}),
                Some("messages[0].tool_call_id"),
                Some("missing_required_parameter"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": user, "stream_options": {"include_usage": true}}),
                Some("stream_options"),
                Some("invalid_value"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": user, "stream": true, "modalities": ["text", "audio"]}),
                Some("audio"),
                Some("missing_required_parameter"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": user, "stream": true, "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}),
                Some("audio.format"),
                Some("unsupported_value"),
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": user, "tool_choice": "auto"}),
                Some("tool_choice"),
                None,
            ),
            (
                json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "sticker"}]}]}),
                Some("messages[0].content[0].type"),
                Some("invalid_value"),
            ),
        ];
        for (body, param, code) in cases {
            let (status, p, c) = check(ChatDialect::OpenAi, body.clone()).unwrap_err();
            assert_eq!(
                (status, p.as_deref(), c.as_deref()),
                (400, param, code),
                "{body}"
            );
        }
        assert!(check(ChatDialect::OpenAi, json!({"model": "gpt-audio-mini", "messages": user, "stream": false, "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}})).is_ok());
        assert!(validate(ChatDialect::OpenAi, b"{oops").is_err());
    }

    #[test]
    fn openai_unknown_models_voices_and_wrong_types_are_refused() {
        let user = json!([{"role": "user", "content": "Hi"}]);
        let (status, param, code) = check(
            ChatDialect::OpenAi,
            json!({"model": "gpt-nonexistent", "messages": user}),
        )
        .unwrap_err();
        assert_eq!(
            (status, param, code.as_deref()),
            (404, None, Some("model_not_found"))
        );
        for known in [
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            "gpt-audio-mini-2025-12-15",
            "ft:gpt-4o-mini:acme::1",
        ] {
            assert!(
                check(
                    ChatDialect::OpenAi,
                    json!({"model": known, "messages": user})
                )
                .is_ok(),
                "{known}"
            );
        }
        let audio = |voice: Value| json!({"model": "gpt-audio-mini", "messages": user, "modalities": ["text", "audio"], "audio": {"voice": voice, "format": "wav"}});
        let (status, param, code) = check(ChatDialect::OpenAi, audio(json!("bob"))).unwrap_err();
        assert_eq!(
            (status, param.as_deref(), code.as_deref()),
            (400, Some("audio.voice"), Some("invalid_value"))
        );
        assert!(check(ChatDialect::OpenAi, audio(json!("coral"))).is_ok());
        assert!(check(ChatDialect::OpenAi, audio(json!({"id": "voice_123"}))).is_ok());
        let (status, param, code) = check(
            ChatDialect::OpenAi,
            json!({"model": "gpt-audio-mini", "messages": user, "audio": 123}),
        )
        .unwrap_err();
        assert_eq!(
            (status, param.as_deref(), code.as_deref()),
            (400, Some("audio"), Some("invalid_type"))
        );
        // DashScope's voice sets and unknown-model answer are unconfirmed: accepted.
        assert!(check(
            ChatDialect::DashScope,
            json!({"model": "qwen3-omni-flash", "messages": user, "stream": true, "modalities": ["text", "audio"], "audio": {"voice": "Cherry", "format": "wav"}})
        )
        .is_ok());
    }

    #[test]
    fn dashscope_omni_models_only_stream_and_do_not_think_aloud() {
        let user = json!([{"role": "user", "content": "Hi"}]);
        let (status, param, code) = check(
            ChatDialect::DashScope,
            json!({"model": "qwen3-omni-flash", "messages": user}),
        )
        .unwrap_err();
        assert_eq!(
            (status, param, code.as_deref()),
            (400, None, Some("invalid_parameter_error"))
        );
        assert!(check(
            ChatDialect::DashScope,
            json!({"model": "qwen-plus", "messages": user})
        )
        .is_ok());
        let thinking = json!({"model": "qwen3-omni-flash", "messages": user, "stream": true, "enable_thinking": true, "modalities": ["text", "audio"], "audio": {"voice": "Cherry", "format": "wav"}});
        assert!(check(ChatDialect::DashScope, thinking).is_err());
        let wav = json!({"model": "qwen3-omni-flash", "messages": user, "stream": true, "modalities": ["text", "audio"], "audio": {"voice": "Cherry", "format": "wav"}});
        assert!(
            check(ChatDialect::DashScope, wav).is_ok(),
            "DashScope streams wav requests"
        );
    }
}
