//! Which dialect (and model) an exchange speaks, looked up in the adapters'
//! registry from its request — the same recognition the mock routes with, so
//! a recording replays on the route it came from.

use axum::http::HeaderMap;
use serde_json::Value;
use understudy_adapters::registry::{self, recognise::query_param, ProviderSpec};

/// What the recorder knows about an exchange before its first frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The cassette's dialect.
    pub dialect: String,
    /// The model, when the request names it (Gemini Live names it in `setup`).
    pub model: Option<String>,
}

/// Classifies a WebSocket upgrade; a path no dialect has is recorded as
/// `PROVIDER-websocket`.
pub(crate) fn websocket(
    provider: &ProviderSpec,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Endpoint {
    let dialect = match registry::recognise_websocket(path_and_query, headers) {
        Some(spec) => spec.id.to_owned(),
        None => format!("{}-websocket", provider.name),
    };
    Endpoint {
        dialect,
        model: query_param(path_and_query, "model"),
    }
}

/// Classifies a plain HTTP exchange from its path and (JSON) body; a path no
/// dialect has is recorded as `PROVIDER-http`.
pub(crate) fn http(
    provider: &ProviderSpec,
    path_and_query: &str,
    body: Option<&Value>,
) -> Endpoint {
    let path = path_and_query.split('?').next().unwrap_or_default();
    let dialect = match registry::recognise_http(path_and_query) {
        Some(spec) => spec.id.to_owned(),
        None => format!("{}-http", provider.name),
    };
    let model = body
        .and_then(|b| b.get("model"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| path_model(path))
        .or_else(|| query_param(path_and_query, "model"));
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

    fn named(name: &str) -> &'static ProviderSpec {
        registry::provider(name).unwrap()
    }

    #[test]
    fn websocket_routes_match_the_mock() {
        let none = HeaderMap::new();
        let ws = |path: &str| websocket(named("openai"), path, &none);
        assert_eq!(ws("/v1/realtime?model=gpt-realtime").dialect, "openai-ga");
        assert_eq!(
            ws("/v1/realtime?model=gpt-realtime").model.as_deref(),
            Some("gpt-realtime")
        );
        let mut beta = HeaderMap::new();
        beta.insert("openai-beta", "realtime=v1".parse().unwrap());
        assert_eq!(
            websocket(named("openai"), "/v1/realtime", &beta).dialect,
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
            named("openai"),
            "/v1/audio/speech",
            Some(&serde_json::json!({"model": "tts-1"})),
        );
        assert_eq!(
            (speech.dialect.as_str(), speech.model.as_deref()),
            ("openai-speech", Some("tts-1"))
        );
        let gemini = http(
            named("gemini"),
            "/v1beta/models/gemini-2.5-flash-preview-tts:streamGenerateContent?alt=sse",
            None,
        );
        assert_eq!(gemini.dialect, "gemini-tts");
        assert_eq!(
            gemini.model.as_deref(),
            Some("gemini-2.5-flash-preview-tts")
        );
        let chat = http(
            named("dashscope"),
            "/compatible-mode/v1/chat/completions",
            None,
        );
        assert_eq!(chat.dialect, "dashscope-chat");
        assert_eq!(
            http(named("openai"), "/v1/models", None).dialect,
            "openai-http"
        );
        assert_eq!(
            model_in_frame(&serde_json::json!({"setup": {"model": "models/gemini-live"}}))
                .as_deref(),
            Some("gemini-live")
        );
    }
}
