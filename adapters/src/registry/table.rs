//! The registry's entries: one [`ProviderSpec`] per provider and one
//! [`DialectSpec`] per dialect. This file is data; adding a dialect is adding
//! an entry here (plus its codec folder in `adapters/` and its mock folder in
//! `mock-providers/`).
//!
//! Recognition does not depend on the order of [`DIALECTS`]: when several
//! entries match a request, the one with a condition beats one without, and a
//! longer path suffix beats a shorter one (see [`recognise`](super::recognise)).

use super::connect::{ConnectShape, KeyPlacement, ModelPlacement, Placement};
use super::recognise::{Condition, PathShape, Recognition};
use super::{DialectKind, DialectSpec, ProviderSpec};
use crate::capabilities::Capabilities;
use crate::codec::RealtimeCodec;
use crate::{dashscope, gemini, openai, openai_live, qwen_audio};

/// Every provider.
pub static PROVIDERS: &[ProviderSpec] = &[
    ProviderSpec {
        name: "openai",
        display: "OpenAI",
        aliases: &[],
        key_env_vars: &["OPENAI_API_KEY"],
        api_origin: "https://api.openai.com",
        realtime_dialect: "openai-ga",
    },
    ProviderSpec {
        name: "dashscope",
        display: "DashScope",
        aliases: &["qwen", "alibaba"],
        key_env_vars: &["DASHSCOPE_API_KEY"],
        api_origin: "https://dashscope-intl.aliyuncs.com",
        realtime_dialect: dashscope::DIALECT,
    },
    ProviderSpec {
        name: "gemini",
        display: "Gemini",
        aliases: &["google"],
        key_env_vars: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        api_origin: "https://generativelanguage.googleapis.com",
        realtime_dialect: gemini::DIALECT,
    },
];

/// Where a replaying mock's cassette choice goes for clients that can add
/// query parameters.
const CASSETTE_QUERY: Placement = Placement::Query("cassette");
/// Where it goes for clients that set headers, not query strings.
const CASSETTE_HEADER: Placement = Placement::Header("x-understudy-cassette");
/// Google's key header.
const GOOG_KEY: KeyPlacement = KeyPlacement::Header("x-goog-api-key");

/// The OpenAI Realtime connection (the dialects differ only in extra headers).
const fn openai_realtime(headers: &'static [(&'static str, &'static str)]) -> ConnectShape {
    ConnectShape {
        default_url: "wss://api.openai.com/v1",
        path: "/realtime",
        model: ModelPlacement::Query("model"),
        key: KeyPlacement::Bearer,
        cassette: CASSETTE_QUERY,
        headers,
    }
}

/// The DashScope realtime endpoint (Qwen-Omni and Qwen-TTS share it).
const DASHSCOPE_REALTIME: ConnectShape = ConnectShape {
    default_url: dashscope::DEFAULT_URL,
    path: "",
    model: ModelPlacement::Query("model"),
    key: KeyPlacement::Bearer,
    cassette: CASSETTE_QUERY,
    headers: &[],
};

/// Its path, told apart by the model asked for.
const DASHSCOPE_REALTIME_PATH: PathShape = PathShape::EndsWith("/api-ws/v1/realtime");

/// What a Qwen-TTS realtime model's name contains (the rest of that path is Qwen-Omni).
pub const DASHSCOPE_TTS_MODEL_PARTS: &[&str] = &["tts", "realtime"];

/// An HTTP dialect posting JSON with the model in the body.
const fn http_body(default_url: &'static str, path: &'static str) -> ConnectShape {
    ConnectShape {
        default_url,
        path,
        model: ModelPlacement::Body,
        key: KeyPlacement::Bearer,
        cassette: CASSETTE_HEADER,
        headers: &[],
    }
}

/// OpenAI Realtime, GA interface.
pub static OPENAI_GA: DialectSpec = DialectSpec {
    id: "openai-ga",
    provider: "openai",
    kind: DialectKind::RealtimeSession,
    default_model: "gpt-realtime",
    transcription_model: Some("gpt-4o-transcribe"),
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::EndsWith("/realtime"),
        when: Condition::Always,
    },
    connect: openai_realtime(&[]),
    capabilities: Some(openai_ga_capabilities),
    codec: Some(openai_ga_codec),
};

/// OpenAI Realtime, beta interface (`OpenAI-Beta: realtime=v1`).
pub static OPENAI_BETA: DialectSpec = DialectSpec {
    id: "openai-beta",
    provider: "openai",
    kind: DialectKind::RealtimeSession,
    default_model: "gpt-realtime",
    transcription_model: Some("gpt-4o-transcribe"),
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::EndsWith("/realtime"),
        when: Condition::BetaRequested,
    },
    connect: openai_realtime(&[openai::dialect::BETA_HEADER]),
    capabilities: Some(openai_beta_capabilities),
    codec: Some(openai_beta_codec),
};

/// GPT-Live's WebSocket paths (new session, fork, sideband attach), after
/// any prefix (`/v1` on the hosted service).
pub const OPENAI_LIVE_PATHS: &[&str] = &[
    "/live/sessions",
    "/live/sessions/{id}/fork",
    "/live/sessions/{id}/attach",
];

/// OpenAI GPT-Live (`/v1/live/sessions`): the model goes in `session.start`,
/// so the URL has no query string; bearer key; no `OpenAI-Beta` header.
pub static OPENAI_LIVE: DialectSpec = DialectSpec {
    id: openai_live::DIALECT,
    provider: "openai",
    kind: DialectKind::RealtimeSession,
    default_model: openai_live::DEFAULT_MODEL,
    // Both directions are always transcribed; there is no setting.
    transcription_model: None,
    model_prefixes: &["gpt-live"],
    recognition: Recognition {
        path: PathShape::EndsWithAny(OPENAI_LIVE_PATHS),
        when: Condition::Always,
    },
    connect: ConnectShape {
        default_url: "wss://api.openai.com/v1",
        path: "/live/sessions",
        model: ModelPlacement::SetupFrame("/session/model"),
        key: KeyPlacement::Bearer,
        cassette: CASSETTE_HEADER,
        headers: &[],
    },
    capabilities: Some(openai_live::capabilities),
    codec: Some(openai_live_codec),
};

/// Gemini Live (`BidiGenerateContent`).
pub static GEMINI_LIVE: DialectSpec = DialectSpec {
    id: gemini::DIALECT,
    provider: "gemini",
    kind: DialectKind::RealtimeSession,
    default_model: "gemini-live-2.5-flash-preview",
    transcription_model: Some("default"),
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::GeminiLive,
        when: Condition::Always,
    },
    connect: ConnectShape {
        default_url: gemini::DEFAULT_BASE_URL,
        path: "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
        model: ModelPlacement::SetupFrame("/setup/model"),
        key: GOOG_KEY,
        cassette: CASSETTE_HEADER,
        headers: &[],
    },
    capabilities: Some(gemini_capabilities),
    codec: Some(gemini_codec),
};

/// DashScope Qwen-Omni realtime.
pub static DASHSCOPE_OMNI: DialectSpec = DialectSpec {
    id: dashscope::DIALECT,
    provider: "dashscope",
    kind: DialectKind::RealtimeSession,
    default_model: "qwen3-omni-flash-realtime",
    transcription_model: Some("gummy-realtime-v1"),
    model_prefixes: &[],
    recognition: Recognition {
        path: DASHSCOPE_REALTIME_PATH,
        when: Condition::Always,
    },
    connect: DASHSCOPE_REALTIME,
    capabilities: Some(dashscope::capabilities_for),
    codec: Some(dashscope_codec),
};

/// DashScope Qwen-TTS realtime (same endpoint as Qwen-Omni; the model picks it).
pub static DASHSCOPE_TTS: DialectSpec = DialectSpec {
    id: dashscope::tts::DIALECT,
    provider: "dashscope",
    kind: DialectKind::RealtimeTts,
    default_model: dashscope::tts::DEFAULT_MODEL,
    transcription_model: None,
    model_prefixes: &[],
    recognition: Recognition {
        path: DASHSCOPE_REALTIME_PATH,
        when: Condition::ModelContains(DASHSCOPE_TTS_MODEL_PARTS),
    },
    connect: DASHSCOPE_REALTIME,
    capabilities: None,
    codec: None,
};

/// DashScope Qwen-Audio-Realtime (same endpoint as Qwen-Omni; a
/// `qwen-audio-` model picks it).
pub static DASHSCOPE_AUDIO: DialectSpec = DialectSpec {
    id: qwen_audio::DIALECT,
    provider: "dashscope",
    kind: DialectKind::RealtimeSession,
    default_model: qwen_audio::DEFAULT_MODEL,
    transcription_model: Some(qwen_audio::TRANSCRIPTION_MODEL),
    model_prefixes: &[qwen_audio::MODEL_PREFIX],
    recognition: Recognition {
        path: DASHSCOPE_REALTIME_PATH,
        when: Condition::ModelContains(&[qwen_audio::MODEL_PREFIX]),
    },
    connect: DASHSCOPE_REALTIME,
    capabilities: Some(qwen_audio::capabilities),
    codec: Some(dashscope_audio_codec),
};

/// OpenAI `POST /v1/audio/speech`.
pub static OPENAI_SPEECH: DialectSpec = DialectSpec {
    id: "openai-speech",
    provider: "openai",
    kind: DialectKind::HttpTts,
    default_model: crate::tts::openai_speech::DEFAULT_MODEL,
    transcription_model: None,
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::EndsWith("/audio/speech"),
        when: Condition::Always,
    },
    connect: http_body(crate::tts::openai_speech::DEFAULT_BASE_URL, "/audio/speech"),
    capabilities: None,
    codec: None,
};

/// Gemini TTS (`generateContent` / `streamGenerateContent`).
pub static GEMINI_TTS: DialectSpec = DialectSpec {
    id: "gemini-tts",
    provider: "gemini",
    kind: DialectKind::HttpTts,
    default_model: crate::tts::gemini_tts::DEFAULT_MODEL,
    transcription_model: None,
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::GeminiRest,
        when: Condition::Always,
    },
    connect: ConnectShape {
        default_url: crate::tts::gemini_tts::wire::DEFAULT_BASE_URL,
        path: "/v1beta/models/{model}:streamGenerateContent",
        model: ModelPlacement::Path,
        key: GOOG_KEY,
        cassette: CASSETTE_HEADER,
        headers: &[],
    },
    capabilities: None,
    codec: None,
};

/// OpenAI chat completions with audio.
pub static OPENAI_CHAT: DialectSpec = DialectSpec {
    id: "openai-chat",
    provider: "openai",
    kind: DialectKind::Chat,
    default_model: "gpt-audio-mini",
    transcription_model: None,
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::EndsWith("/chat/completions"),
        when: Condition::Always,
    },
    connect: http_body("https://api.openai.com/v1", "/chat/completions"),
    capabilities: None,
    codec: None,
};

/// DashScope compatible-mode chat completions (Qwen-Omni).
pub static DASHSCOPE_CHAT: DialectSpec = DialectSpec {
    id: "dashscope-chat",
    provider: "dashscope",
    kind: DialectKind::Chat,
    default_model: "qwen3-omni-flash",
    transcription_model: None,
    model_prefixes: &[],
    recognition: Recognition {
        path: PathShape::EndsWith("/chat/completions"),
        when: Condition::PathContains("/compatible-mode/"),
    },
    connect: http_body(
        "https://dashscope.aliyuncs.com/compatible-mode/v1",
        "/chat/completions",
    ),
    capabilities: None,
    codec: None,
};

/// Every dialect.
pub static DIALECTS: &[&DialectSpec] = &[
    &OPENAI_GA,
    &OPENAI_BETA,
    &OPENAI_LIVE,
    &GEMINI_LIVE,
    &DASHSCOPE_OMNI,
    &DASHSCOPE_TTS,
    &DASHSCOPE_AUDIO,
    &OPENAI_SPEECH,
    &GEMINI_TTS,
    &OPENAI_CHAT,
    &DASHSCOPE_CHAT,
];

fn openai_ga_capabilities(_model: &str) -> Capabilities {
    openai::Dialect::Ga.capabilities()
}

fn openai_beta_capabilities(_model: &str) -> Capabilities {
    openai::Dialect::Beta.capabilities()
}

fn gemini_capabilities(model: &str) -> Capabilities {
    gemini::capabilities_for(model)
}

fn openai_ga_codec(_model: &str) -> Box<dyn RealtimeCodec> {
    Box::new(openai::OpenAiCodec::new(openai::Dialect::Ga))
}

fn openai_beta_codec(_model: &str) -> Box<dyn RealtimeCodec> {
    Box::new(openai::OpenAiCodec::new(openai::Dialect::Beta))
}

fn openai_live_codec(model: &str) -> Box<dyn RealtimeCodec> {
    Box::new(openai_live::LiveCodec::new(model))
}

fn gemini_codec(model: &str) -> Box<dyn RealtimeCodec> {
    Box::new(gemini::GeminiCodec::new(model))
}

fn dashscope_codec(model: &str) -> Box<dyn RealtimeCodec> {
    Box::new(dashscope::DashScopeCodec::new(model))
}

fn dashscope_audio_codec(model: &str) -> Box<dyn RealtimeCodec> {
    Box::new(qwen_audio::QwenAudioCodec::new(model))
}
