//! Which dialect (and model) an exchange speaks, looked up in the adapters'
//! registry from its request — the same recognition the mock routes with, so
//! a recording replays on the route it came from.

use axum::http::HeaderMap;
use serde_json::Value;
use understudy_adapters::registry::{self, recognise::query_param, ModelPlacement, ProviderSpec};

/// What the recorder knows about an exchange before its first frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The cassette's dialect.
    pub dialect: String,
    /// The model, when the request names it.
    pub model: Option<String>,
    /// Where the session's first client frame names the model, for dialects
    /// that say it in-band (Gemini's `setup.model`, GPT-Live's
    /// `session.start.session.model`): the registry's
    /// [`ModelPlacement`] for the dialect.
    pub model_placement: Option<ModelPlacement>,
}

impl Endpoint {
    /// The model a client frame names in-band, where the dialect puts it
    /// there (see [`model_placement`](Self::model_placement)).
    pub fn model_in_frame(&self, json: &Value) -> Option<String> {
        self.model_placement?.in_first_frame(json)
    }
}

/// Classifies a WebSocket upgrade; a path no dialect has is recorded as
/// `PROVIDER-websocket`.
pub(crate) fn websocket(
    provider: &ProviderSpec,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Endpoint {
    let spec = registry::recognise_websocket(path_and_query, headers);
    Endpoint {
        dialect: spec.map_or_else(
            || format!("{}-websocket", provider.name),
            |s| s.id.to_owned(),
        ),
        model: query_param(path_and_query, "model"),
        model_placement: spec.map(|s| s.connect.model),
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
    Endpoint {
        dialect,
        model,
        model_placement: None,
    }
}

/// The model in a Gemini-style path: `…/models/NAME:method`.
fn path_model(path: &str) -> Option<String> {
    let (_, rest) = path.split_once("/models/")?;
    let name = rest.split([':', '/']).next()?;
    (!name.is_empty()).then(|| name.to_owned())
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
    }

    #[test]
    fn in_band_models_are_read_where_the_registry_says_the_dialect_puts_them() {
        let none = HeaderMap::new();
        let gemini = websocket(
            named("gemini"),
            "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
            &none,
        );
        let setup = serde_json::json!({"setup": {"model": "models/gemini-live"}});
        assert_eq!(
            gemini.model_in_frame(&setup).as_deref(),
            Some("gemini-live")
        );
        let live = websocket(named("openai"), "/v1/live/sessions", &none);
        assert_eq!(live.dialect, "openai-live");
        let start =
            serde_json::json!({"type": "session.start", "session": {"model": "gpt-live-1"}});
        assert_eq!(live.model_in_frame(&start).as_deref(), Some("gpt-live-1"));
        // Each dialect reads its own place only.
        assert_eq!(live.model_in_frame(&setup), None);
        assert_eq!(gemini.model_in_frame(&start), None);
        // A dialect with the model in the URL reads nothing in-band.
        let ga = websocket(named("openai"), "/v1/realtime?model=gpt-realtime", &none);
        assert_eq!(ga.model_in_frame(&start), None);
    }
}
