//! Everything that can go wrong with a chat-completions call, as one enum.

use super::chunk::ApiError;
use super::dialect::ChatDialect;
use crate::error_text::Failure;
use serde_json::Value;
use std::time::Duration;

/// A failed chat-completions call or stream. Errors end the stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChatError {
    /// The provider answered with its error envelope: before the stream with an
    /// HTTP status, or mid-stream as an `{"error":{…}}` event (`status: None`).
    #[error("{} error{}: {}{}", dialect.provider(), status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(), error.message, error.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default())]
    Api {
        /// Which service answered.
        dialect: ChatDialect,
        /// HTTP status, or `None` for an error event inside a 200 stream.
        status: Option<u16>,
        /// The error object: message, type, param, code (boxed: errors stay small).
        error: Box<ApiError>,
        /// DashScope's `request_id`, when given.
        request_id: Option<String>,
        /// How long the provider asked us to wait (`retry-after-ms` / `retry-after`).
        retry_after: Option<Duration>,
    },
    /// A non-2xx answer whose body is not the provider's error envelope.
    #[error("HTTP {status}: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The body (cut to a few hundred characters).
        body: String,
    },
    /// The connection failed or broke; the HTTP client's error is the source.
    #[error("transport: {0}")]
    Transport(#[source] Failure),
    /// A stream event that is not a chunk this adapter can read.
    #[error("malformed stream event: {reason} (data: {snippet})")]
    Decode {
        /// What was wrong.
        reason: String,
        /// The start of the offending event's data.
        snippet: String,
    },
    /// An audio fragment that is not valid base64.
    #[error("malformed audio data: {0}")]
    Audio(String),
    /// The stream ended before `[DONE]` and before any `finish_reason`.
    #[error("the stream ended before the answer finished (no [DONE], no finish_reason)")]
    Truncated,
    /// An SSE event exceeded the size limit.
    #[error("stream event larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request cannot be sent to this dialect as it stands.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client is misconfigured (bad base URL, bad header).
    #[error("configuration: {0}")]
    Config(String),
}

impl ChatError {
    /// A decode error quoting the start of the offending data.
    pub(crate) fn decode(reason: impl Into<String>, data: &str) -> Self {
        ChatError::Decode {
            reason: reason.into(),
            snippet: data.chars().take(120).collect(),
        }
    }

    /// The provider error from a JSON body, if it has the envelope shape
    /// (`{"error":{…}}`, DashScope adds `request_id`).
    pub(crate) fn from_envelope(
        dialect: ChatDialect,
        status: Option<u16>,
        body: &Value,
        retry_after: Option<Duration>,
    ) -> Option<Self> {
        let error = body.get("error").filter(|e| is_truthy(e))?;
        Some(ChatError::Api {
            dialect,
            status,
            error: Box::new(ApiError::from_value(error)),
            request_id: body
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            retry_after,
        })
    }

    /// The provider error object, when this is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            ChatError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status, when the failure came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ChatError::Api { status, .. } => *status,
            ChatError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// JavaScript-ish truthiness, as the Python SDK applies it to `error`.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_map_with_message_code_and_request_id() {
        let body = json!({"error":{"code":"invalid_parameter_error","param":null,"message":"This model only support stream mode","type":"invalid_request_error"},"request_id":"6a3c"});
        let e = ChatError::from_envelope(ChatDialect::DashScope, Some(400), &body, None).unwrap();
        assert_eq!(e.status(), Some(400));
        assert_eq!(
            e.api_error().unwrap().code.as_deref(),
            Some("invalid_parameter_error")
        );
        let shown = e.to_string();
        assert!(
            shown.contains("DashScope") && shown.contains("HTTP 400"),
            "{shown}"
        );
        assert!(shown.contains("only support stream mode"), "{shown}");
        assert!(matches!(e, ChatError::Api { request_id: Some(ref r), .. } if r == "6a3c"));
    }

    #[test]
    fn falsy_error_fields_are_not_errors() {
        for body in [
            json!({"error": null}),
            json!({"error": {}}),
            json!({"error": ""}),
            json!({}),
        ] {
            assert!(ChatError::from_envelope(ChatDialect::OpenAi, None, &body, None).is_none());
        }
    }
}
