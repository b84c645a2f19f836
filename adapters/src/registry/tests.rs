//! Pins the registry's data and lookups.

use super::*;
use http::HeaderMap;

fn ws(path: &str) -> Option<&'static str> {
    recognise_websocket(path, &HeaderMap::new()).map(|d| d.id)
}

#[test]
fn every_cassette_dialect_is_listed_once_with_a_known_provider() {
    let ids: Vec<&str> = dialects().map(|d| d.id).collect();
    for id in [
        "openai-ga",
        "openai-beta",
        "openai-live",
        "gemini-live",
        "dashscope-omni",
        crate::dashscope::tts::DIALECT,
        "openai-speech",
        "gemini-tts",
        crate::chat::ChatDialect::OpenAi.name(),
        crate::chat::ChatDialect::DashScope.name(),
    ] {
        assert_eq!(ids.iter().filter(|i| **i == id).count(), 1, "{id}");
    }
    for d in dialects() {
        assert_eq!(d.provider_spec().name, d.provider);
        let realtime = d.kind == DialectKind::RealtimeSession;
        assert_eq!(d.codec(d.default_model).is_some(), realtime, "{}", d.id);
        // Realtime dialects name the model that transcribes the user, except
        // where transcription is always on and has no setting (GPT-Live).
        if d.id == "openai-live" {
            assert_eq!(d.transcription_model, None);
        } else {
            assert_eq!(d.transcription_model.is_some(), realtime, "{}", d.id);
        }
        if let Some(caps) = d.capabilities(d.default_model) {
            assert_eq!(caps.dialect, d.id);
        }
    }
    for p in providers() {
        assert_eq!(p.realtime().kind, DialectKind::RealtimeSession);
        assert_eq!(p.realtime().provider, p.name);
    }
}

#[test]
fn providers_are_found_by_name_or_alias_and_unknown_names_list_the_valid_ones() {
    assert_eq!(provider(" OpenAI ").unwrap().name, "openai");
    assert_eq!(provider("qwen").unwrap().name, "dashscope");
    assert_eq!(provider("alibaba").unwrap().name, "dashscope");
    assert_eq!(provider("google").unwrap().name, "gemini");
    assert_eq!(
        provider("gemini").unwrap().default_model(),
        "gemini-live-2.5-flash-preview"
    );
    assert_eq!(provider("openai").unwrap().default_model(), "gpt-realtime");
    assert_eq!(
        provider("dashscope").unwrap().default_model(),
        "qwen3-omni-flash-realtime"
    );
    let error = provider("azure").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown provider `azure` (expected one of: openai, dashscope, gemini)"
    );
    assert!(dialect("openai-ga").is_ok());
    assert!(dialect("gpt-live")
        .unwrap_err()
        .to_string()
        .contains("openai-ga, openai-beta"));
}

#[test]
fn transcription_models_per_realtime_dialect() {
    let model = |id: &str| dialect(id).unwrap().transcription_model;
    assert_eq!(model("openai-ga"), Some("gpt-4o-transcribe"));
    assert_eq!(model("dashscope-omni"), Some("gummy-realtime-v1"));
    assert_eq!(model("gemini-live"), Some("default"));
}

#[test]
fn websocket_requests_are_recognised_as_the_services_route_them() {
    assert_eq!(ws("/v1/realtime?model=gpt-realtime"), Some("openai-ga"));
    assert_eq!(ws("/proxy/v1/realtime/"), Some("openai-ga"));
    let mut beta = HeaderMap::new();
    beta.insert("openai-beta", "assistants=v2, realtime=v1".parse().unwrap());
    assert_eq!(
        recognise_websocket("/v1/realtime", &beta).map(|d| d.id),
        Some("openai-beta")
    );
    let mut sub = HeaderMap::new();
    sub.insert(
        "sec-websocket-protocol",
        "realtime, openai-beta.realtime-v1".parse().unwrap(),
    );
    assert_eq!(
        recognise_websocket("/v1/realtime", &sub).map(|d| d.id),
        Some("openai-beta")
    );
    assert_eq!(
        ws("/api-ws/v1/realtime?model=qwen3-omni-flash-realtime"),
        Some("dashscope-omni")
    );
    assert_eq!(ws("/api-ws/v1/realtime"), Some("dashscope-omni"));
    assert_eq!(
        ws("/api-ws/v1/realtime?model=qwen3-tts-flash-realtime"),
        Some(crate::dashscope::tts::DIALECT)
    );
    assert_eq!(
        ws("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=k"),
        Some("gemini-live")
    );
    assert_eq!(
        ws("/p//ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained"),
        Some("gemini-live")
    );
    assert_eq!(ws("/elsewhere"), None);
    assert_eq!(
        ws("/v1/audio/speech"),
        None,
        "HTTP dialects are not WebSocket ones"
    );
}

#[test]
fn http_requests_are_recognised_by_path() {
    let http = |p: &str| recognise_http(p).map(|d| d.id);
    assert_eq!(http("/v1/audio/speech"), Some("openai-speech"));
    assert_eq!(
        http("/v1beta/models/gemini-2.5-flash-preview-tts:streamGenerateContent?alt=sse"),
        Some("gemini-tts")
    );
    assert_eq!(http("/v1/chat/completions"), Some("openai-chat"));
    assert_eq!(
        http("/compatible-mode/v1/chat/completions"),
        Some("dashscope-chat")
    );
    assert_eq!(http("/v1/models"), None);
    assert_eq!(http("/v1/realtime"), None);
    assert_eq!(
        recognise::gemini_rest_route("/v1beta/models/m:generateContent"),
        Some(recognise::GeminiRestRoute {
            version: "v1beta".into(),
            model: "m".into(),
            streamed: false
        })
    );
    assert_eq!(
        recognise::gemini_rest_route("/x/models/m:generateContent"),
        None
    );
}

#[test]
fn options_place_model_key_and_cassette_where_each_dialect_wants_them() {
    let ga = ConnectOptions::new(dialect("openai-ga").unwrap(), "ws://h/v1/", "gpt-realtime")
        .api_key("sk")
        .cassette("c1");
    assert_eq!(
        ga.full_url(),
        "ws://h/v1/realtime?model=gpt-realtime&cassette=c1"
    );
    let request = ga.request().unwrap();
    assert_eq!(request.headers()["authorization"], "Bearer sk");
    assert!(request.headers().get("openai-beta").is_none());

    let beta = ConnectOptions::new(dialect("openai-beta").unwrap(), "ws://h/v1", "m");
    assert_eq!(
        beta.request().unwrap().headers()["openai-beta"],
        "realtime=v1"
    );

    let omni = ConnectOptions::new(
        dialect("dashscope-omni").unwrap(),
        "ws://h/api-ws/v1/realtime",
        "qwen3-omni-flash-realtime",
    )
    .header("x-dashscope-workspace", "ws1");
    assert_eq!(
        omni.full_url(),
        "ws://h/api-ws/v1/realtime?model=qwen3-omni-flash-realtime"
    );
    assert_eq!(
        omni.request().unwrap().headers()["x-dashscope-workspace"],
        "ws1"
    );

    let live = ConnectOptions::new(dialect("gemini-live").unwrap(), "ws://h", "g")
        .api_key("k")
        .cassette("c2");
    assert_eq!(
        live.full_url(),
        "ws://h/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    );
    let request = live.request().unwrap();
    assert_eq!(request.headers()["x-goog-api-key"], "k");
    assert_eq!(request.headers()["x-understudy-cassette"], "c2");
    assert!(request.headers().get("authorization").is_none());

    let tts = ConnectOptions::new(dialect("gemini-tts").unwrap(), "http://h", "t");
    assert_eq!(
        tts.full_url(),
        "http://h/v1beta/models/t:streamGenerateContent"
    );
    assert!(tts.codec().is_err(), "HTTP dialects have no realtime codec");
    assert!(codec_for_dialect("gemini-live", "g").is_some());
    assert!(codec_for_dialect("gemini-tts", "t").is_none());
}

#[test]
fn base_urls_move_to_another_origin_keeping_the_dialects_path() {
    let at = |id: &str| {
        dialect(id)
            .unwrap()
            .connect
            .base_url_at("ws://127.0.0.1:9/")
    };
    assert_eq!(at("openai-ga"), "ws://127.0.0.1:9/v1");
    assert_eq!(at("dashscope-omni"), "ws://127.0.0.1:9/api-ws/v1/realtime");
    assert_eq!(at("gemini-live"), "ws://127.0.0.1:9");
    assert_eq!(at("dashscope-chat"), "ws://127.0.0.1:9/compatible-mode/v1");
}

#[test]
fn the_providers_one_line_options_only_fill_in_the_dialect() {
    use crate::{dashscope, gemini, openai};
    let ga = openai::connect_options("ws://h/v1", openai::Dialect::Ga, "gpt-realtime");
    assert_eq!(ga.dialect.id, "openai-ga");
    assert_eq!(ga.full_url(), "ws://h/v1/realtime?model=gpt-realtime");
    let beta = openai::connect_options("ws://h/v1", openai::Dialect::Beta, "m").api_key("sk");
    assert_eq!(beta.dialect.id, "openai-beta");
    let request = beta.request().unwrap();
    assert_eq!(request.headers()["openai-beta"], "realtime=v1");
    assert_eq!(request.headers()["authorization"], "Bearer sk");

    // The DashScope workspace is an extra header, spelled as the SDK spells it.
    let omni = dashscope::connect_options("ws://h/api-ws/v1/realtime", "qwen3-omni-flash-realtime")
        .api_key("sk")
        .header("X-DashScope-WorkSpace", "ws1")
        .query("cassette", "c");
    assert_eq!(omni.dialect.id, "dashscope-omni");
    assert_eq!(
        omni.full_url(),
        "ws://h/api-ws/v1/realtime?model=qwen3-omni-flash-realtime&cassette=c"
    );
    let request = omni.request().unwrap();
    assert_eq!(request.headers()["x-dashscope-workspace"], "ws1");
    assert_eq!(request.headers()["authorization"], "Bearer sk");

    let live = gemini::connect_options("ws://h", "g").api_key("k");
    assert_eq!(live.dialect.id, "gemini-live");
    assert_eq!(
        live.full_url(),
        "ws://h/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    );
    assert_eq!(live.request().unwrap().headers()["x-goog-api-key"], "k");
}

#[test]
fn gpt_live_is_recognised_by_its_paths_after_any_prefix() {
    for path in [
        "/v1/live/sessions",
        "/live/sessions",
        "/v1/live/sessions/",
        "/proxy/openai/v1/live/sessions?x=1",
        "/v1/live/sessions/live_u7_9fK2/fork",
        "/openai/v1/live/sessions/live_123/attach?graceful_close=true",
    ] {
        assert_eq!(ws(path), Some("openai-live"), "{path}");
    }
    for path in [
        "/v1/live/sessions//fork",
        "/v1/live/sessions/x/hangup",
        "/v1/live/session",
        "/v1/xlive/sessions",
        "/v1/live/sessions/a/b/fork",
    ] {
        assert_eq!(ws(path), None, "{path}");
    }
    // The Realtime paths keep their dialects.
    assert_eq!(ws("/v1/realtime"), Some("openai-ga"));
    assert!(recognise::is_openai_live_path("/x/live/sessions/s/attach"));
    assert!(!recognise::is_openai_live_path("/x/live/sessions/s"));
    assert_eq!(recognise_http("/v1/live/sessions"), None);
}

#[test]
fn gpt_live_connects_without_a_query_or_beta_header_and_with_a_bearer_key() {
    let spec = dialect("openai-live").unwrap();
    assert_eq!(spec.provider, "openai");
    let options = ConnectOptions::new(spec, "wss://api.openai.com/v1/", "gpt-live-1")
        .api_key("sk")
        .cassette("c");
    assert_eq!(options.full_url(), "wss://api.openai.com/v1/live/sessions");
    let request = options.request().unwrap();
    assert_eq!(request.headers()["authorization"], "Bearer sk");
    assert_eq!(request.headers()["x-understudy-cassette"], "c");
    assert!(request.headers().get("openai-beta").is_none());
    assert!(request.uri().query().is_none());
    assert_eq!(
        spec.connect.base_url_at("ws://127.0.0.1:9"),
        "ws://127.0.0.1:9/v1"
    );
    let caps = spec.capabilities("gpt-live-1.1").unwrap();
    assert_eq!(caps.dialect, "openai-live");
    assert!(caps.inferred_turns && caps.delegated_tools && caps.end_handshake);
    assert!(!caps.text_input && !caps.manual_turns && !caps.truncation && !caps.vad_events);
    assert!(options.codec().is_ok());
    let short = crate::openai_live::connect_options("ws://h/v1", "gpt-live-1");
    assert_eq!(short.dialect.id, "openai-live");
    assert_eq!(short.full_url(), "ws://h/v1/live/sessions");
}

#[test]
fn a_gpt_live_model_chooses_gpt_live_and_the_default_stays_realtime() {
    let openai = provider("openai").unwrap();
    assert_eq!(openai.realtime().id, "openai-ga");
    assert_eq!(openai.default_model(), "gpt-realtime");
    assert_eq!(openai.realtime_for("gpt-live-1").id, "openai-live");
    assert_eq!(openai.realtime_for("gpt-live-1.1").id, "openai-live");
    assert_eq!(openai.realtime_for("gpt-realtime").id, "openai-ga");
    assert_eq!(openai.realtime_for("").id, "openai-ga");
    // Another provider's prefixes do not leak.
    assert_eq!(
        provider("gemini").unwrap().realtime_for("gpt-live-1").id,
        "gemini-live"
    );
}
