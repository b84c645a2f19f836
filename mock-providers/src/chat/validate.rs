//! Checks a request body the way the service would, before anything streams
//! (protocol notes §10.3). Wording marked *unconfirmed* in the notes is this
//! mock's choice; the status, `type`, `param` and `code` follow §8.

use super::errors::ChatFailure;
use serde_json::Value;
use understudy_adapters::chat::{ChatDialect, ChatRequest, Content, Role, ToolChoice};

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
    let request: ChatRequest = serde_json::from_value(value.clone()).map_err(|e| {
        ChatFailure::bad_request(
            dialect,
            format!("Invalid request body: {e}"),
            None,
            Some("invalid_type"),
        )
    })?;
    check_messages(dialect, &request)?;
    check_streaming(dialect, &request)?;
    check_audio(dialect, &request)?;
    check_tools(dialect, &request)?;
    Ok(request)
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
                json!({"model": "m", "messages": []}),
                Some("messages"),
                Some("empty_array"),
            ),
            (
                json!({"model": "m", "messages": [{"role": "narrator", "content": "x"}]}),
                Some("messages[0].role"),
                Some("invalid_value"),
            ),
            (
                json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
                Some("messages[0].tool_call_id"),
                Some("missing_required_parameter"),
            ),
            (
                json!({"model": "m", "messages": user, "stream_options": {"include_usage": true}}),
                Some("stream_options"),
                Some("invalid_value"),
            ),
            (
                json!({"model": "m", "messages": user, "stream": true, "modalities": ["text", "audio"]}),
                Some("audio"),
                Some("missing_required_parameter"),
            ),
            (
                json!({"model": "m", "messages": user, "stream": true, "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}),
                Some("audio.format"),
                Some("unsupported_value"),
            ),
            (
                json!({"model": "m", "messages": user, "tool_choice": "auto"}),
                Some("tool_choice"),
                None,
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "sticker"}]}]}),
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
