//! Request-level errors as each dialect sends them (protocol notes §8): plain
//! JSON with the HTTP status, before any stream starts. OpenAI's envelope is
//! `{"error":{message,type,param,code}}`; DashScope adds a top-level
//! `request_id` and reports every bad parameter as `invalid_parameter_error`
//! with `param: null`.

use axum::http::StatusCode;
use understudy_adapters::chat::{ApiError, ChatDialect, ErrorBody};

/// A refused request: status and the dialect's body.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// The envelope (boxed: failures travel in `Result`s).
    pub body: Box<ErrorBody>,
    /// Extra response headers (`retry-after-ms`, `x-should-retry`).
    pub headers: Vec<(&'static str, String)>,
}

impl ChatFailure {
    fn new(dialect: ChatDialect, status: StatusCode, error: ApiError) -> Self {
        let request_id = (dialect == ChatDialect::DashScope).then(request_id);
        ChatFailure {
            status,
            body: Box::new(ErrorBody {
                error,
                request_id,
                id: None,
            }),
            headers: Vec::new(),
        }
    }

    /// 400 for a bad parameter. OpenAI names the parameter and a code;
    /// DashScope says `invalid_parameter_error` and no param.
    pub fn bad_request(
        dialect: ChatDialect,
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&str>,
    ) -> Self {
        let error = match dialect {
            ChatDialect::OpenAi => ApiError {
                message: message.into(),
                kind: Some("invalid_request_error".into()),
                param: param.map(str::to_owned),
                code: code.map(str::to_owned),
            },
            ChatDialect::DashScope => ApiError {
                message: message.into(),
                kind: Some("invalid_request_error".into()),
                param: None,
                code: Some("invalid_parameter_error".into()),
            },
        };
        Self::new(dialect, StatusCode::BAD_REQUEST, error)
    }

    /// 404 for a model the provider does not serve, in the speech route's
    /// words (`model_not_found`, no `param`).
    pub fn model_not_found(dialect: ChatDialect, model: &str) -> Self {
        let error = ApiError {
            message: format!("The model `{model}` does not exist or you do not have access to it."),
            kind: Some("invalid_request_error".into()),
            param: None,
            code: Some("model_not_found".into()),
        };
        Self::new(dialect, StatusCode::NOT_FOUND, error)
    }

    /// A body that is not JSON.
    pub fn unparsable(dialect: ChatDialect) -> Self {
        let message = match dialect {
            ChatDialect::OpenAi => "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
            ChatDialect::DashScope => "The request body is not valid JSON.",
        };
        Self::bad_request(dialect, message, None, None)
    }

    /// 401: no key (`key` is `None`) or a wrong one.
    pub fn unauthorised(dialect: ChatDialect, key: Option<&str>) -> Self {
        let error = match (dialect, key) {
            (_, None) => ApiError {
                message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".into(),
                kind: Some("invalid_request_error".into()),
                param: None,
                code: None,
            },
            (ChatDialect::OpenAi, Some(key)) => ApiError {
                message: format!(
                    "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                    mask(key)
                ),
                kind: Some("invalid_request_error".into()),
                param: None,
                code: Some("invalid_api_key".into()),
            },
            (ChatDialect::DashScope, Some(_)) => ApiError {
                message: "Incorrect API key provided. ".into(),
                kind: Some("invalid_request_error".into()),
                param: None,
                code: Some("invalid_api_key".into()),
            },
        };
        Self::new(dialect, StatusCode::UNAUTHORIZED, error)
    }

    /// 429, with `x-should-retry: false` so clients fail fast (a fault on demand).
    pub fn rate_limited(dialect: ChatDialect, model: &str) -> Self {
        let error = match dialect {
            ChatDialect::OpenAi => ApiError {
                message: format!("Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s."),
                kind: Some("requests".into()),
                param: None,
                code: Some("rate_limit_exceeded".into()),
            },
            ChatDialect::DashScope => ApiError {
                message: "You have exceeded your current request limit.".into(),
                kind: Some("limit_requests".into()),
                param: None,
                code: Some("limit_requests".into()),
            },
        };
        let mut failure = Self::new(dialect, StatusCode::TOO_MANY_REQUESTS, error);
        failure.headers = vec![
            ("retry-after-ms", "20000".into()),
            ("x-should-retry", "false".into()),
        ];
        failure
    }
}

/// `sk-test-key` → `sk-te***ey`, as OpenAI quotes a wrong key.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "***".into();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}***{tail}")
}

/// A DashScope-style request id (uuid-shaped).
pub fn request_id() -> String {
    let n = crate::session::rand_suffix();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let h = format!(
        "{:016x}{:016x}",
        t ^ 0x5DEE_CE66_D1CE_4E5B,
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_masks_the_key_and_dashscope_adds_a_request_id() {
        let openai = ChatFailure::unauthorised(ChatDialect::OpenAi, Some("sk-test-key"));
        assert_eq!(openai.status, StatusCode::UNAUTHORIZED);
        assert!(openai
            .body
            .error
            .message
            .starts_with("Incorrect API key provided: sk-te***ey."));
        assert_eq!(openai.body.request_id, None);
        let dashscope =
            ChatFailure::bad_request(ChatDialect::DashScope, "m", Some("audio.format"), Some("x"));
        assert_eq!(
            dashscope.body.error.code.as_deref(),
            Some("invalid_parameter_error")
        );
        assert_eq!(dashscope.body.error.param, None);
        assert_eq!(
            dashscope.body.request_id.as_ref().map(String::len),
            Some(36)
        );
    }
}
