//! Which dialect (and model) an exchange speaks, decided from its request the
//! same way the mock routes it, so a recording replays on the route it came from.

use crate::provider::Provider;
use axum::http::HeaderMap;
use serde_json::Value;
use understudy_adapters::openai::Dialect;
use understudy_mock::{chat, dashscope, gemini, http_tts};

/// What the recorder knows about an exchange before its first frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The cassette's dialect.
    pub dialect: String,
    /// The model, when the request names it (Gemini Live names it in `setup`).
    pub model: Option<String>,
}

/// The `model` query parameter of a path, if any.
fn query_model(path_and_query: &str) -> Option<String> {
    let (_, query) = path_and_query.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "model")
        .map(|(_, value)| value.into_owned())
}

/// Classifies a WebSocket upgrade.
pub(crate) fn websocket(provider: Provider, path_and_query: &str, headers: &HeaderMap) -> Endpoint {
    let path = path_and_query
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let model = query_model(path_and_query);
    let dialect = if gemini::is_live_path(path) {
        understudy_adapters::gemini::DIALECT.to_owned()
    } else if path.ends_with("/api-ws/v1/realtime") {
        match &model {
            Some(m) if dashscope::is_tts_model(m) => {
                understudy_adapters::dashscope::tts::DIALECT.to_owned()
            }
            _ => understudy_adapters::dashscope::DIALECT.to_owned(),
        }
    } else if path.ends_with("/realtime") {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let beta_subprotocol =
            header("sec-websocket-protocol").is_some_and(|v| v.contains("openai-beta.realtime-v1"));
        if beta_subprotocol {
            Dialect::Beta.name().to_owned()
        } else {
            Dialect::from_beta_header(header("openai-beta"))
                .name()
                .to_owned()
        }
    } else {
        format!("{}-websocket", provider.name())
    };
    Endpoint { dialect, model }
}

/// Classifies a plain HTTP exchange from its path and (JSON) body.
pub(crate) fn http(provider: Provider, path_and_query: &str, body: Option<&Value>) -> Endpoint {
    let path = path_and_query.split('?').next().unwrap_or_default();
    let gemini_route = http_tts::gemini::route(path);
    let dialect = if http_tts::is_openai_speech_path(path) {
        http_tts::openai::DIALECT.to_owned()
    } else if gemini_route.is_some() {
        http_tts::gemini::DIALECT.to_owned()
    } else if chat::is_chat_path(path) {
        chat::dialect_for_path(path).name().to_owned()
    } else {
        format!("{}-http", provider.name())
    };
    let model = body
        .and_then(|b| b.get("model"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| path_model(path))
        .or_else(|| query_model(path_and_query));
    Endpoint { dialect, model }
}

/// The model in a Gemini-style path: `…/models/NAME:method`.
fn path_model(path: &str) -> Option<String> {
    let (_, rest) = path.split_once("/models/")?;
    let name = rest.split([':', '/']).next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// The model a client frame names, for dialects that say it in-band (Gemini's
/// `setup.model`, with or without the `models/` prefix).
pub(crate) fn model_in_frame(json: &Value) -> Option<String> {
    json.pointer("/setup/model")
        .and_then(Value::as_str)
        .map(|m| m.trim_start_matches("models/").to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_routes_match_the_mock() {
        let none = HeaderMap::new();
        let ws = |path: &str| websocket(Provider::OpenAi, path, &none);
        assert_eq!(ws("/v1/realtime?model=gpt-realtime").dialect, "openai-ga");
        assert_eq!(
            ws("/v1/realtime?model=gpt-realtime").model.as_deref(),
            Some("gpt-realtime")
        );
        let mut beta = HeaderMap::new();
        beta.insert("openai-beta", "realtime=v1".parse().unwrap());
        assert_eq!(
            websocket(Provider::OpenAi, "/v1/realtime", &beta).dialect,
            "openai-beta"
        );
        let omni = ws("/api-ws/v1/realtime?model=qwen3-omni-flash-realtime");
        assert_eq!(omni.dialect, understudy_adapters::dashscope::DIALECT);
        let tts = ws("/api-ws/v1/realtime?model=qwen3-tts-flash-realtime");
        assert_eq!(tts.dialect, understudy_adapters::dashscope::tts::DIALECT);
        let live = ws(
            "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=k",
        );
        assert_eq!(live.dialect, understudy_adapters::gemini::DIALECT);
        assert_eq!(ws("/elsewhere").dialect, "openai-websocket");
    }

    #[test]
    fn http_routes_and_models() {
        let speech = http(
            Provider::OpenAi,
            "/v1/audio/speech",
            Some(&serde_json::json!({"model": "tts-1"})),
        );
        assert_eq!(
            (speech.dialect.as_str(), speech.model.as_deref()),
            ("openai-speech", Some("tts-1"))
        );
        let gemini = http(
            Provider::Gemini,
            "/v1beta/models/gemini-2.5-flash-preview-tts:streamGenerateContent?alt=sse",
            None,
        );
        assert_eq!(gemini.dialect, "gemini-tts");
        assert_eq!(
            gemini.model.as_deref(),
            Some("gemini-2.5-flash-preview-tts")
        );
        let chat = http(
            Provider::DashScope,
            "/compatible-mode/v1/chat/completions",
            None,
        );
        assert_eq!(chat.dialect, "dashscope-chat");
        assert_eq!(
            http(Provider::OpenAi, "/v1/models", None).dialect,
            "openai-http"
        );
        assert_eq!(
            model_in_frame(&serde_json::json!({"setup": {"model": "models/gemini-live"}}))
                .as_deref(),
            Some("gemini-live")
        );
    }
}
