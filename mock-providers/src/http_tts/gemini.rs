//! Gemini TTS in the mock: `POST /{version}/models/{model}:generateContent`
//! and `:streamGenerateContent` (`?alt=sse` for events, else a streamed JSON
//! array), with Google's `{"error": {"code", "message", "status"}}` errors.
//!
//! Choices made where the service's behaviour is unconfirmed: a model is
//! served when its name contains `tts` (others get 404 `NOT_FOUND` with the
//! service's wording); a request whose `responseModalities` lacks `AUDIO`, an
//! unknown voice, or more than two speakers get 400 `INVALID_ARGUMENT` with a
//! message of this mock's own; `generateContent` answers after the first-audio
//! delay plus the time to "generate" the whole clip at the streaming pace,
//! while `streamGenerateContent` sends one audio chunk per event from the
//! first-audio delay on. Usage counts 25 audio tokens per second.

use super::synth::Synth;
use crate::http::plan::{Piece, Planned};
use axum::body::Bytes;
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::time::Duration;
use understudy_adapters::gemini::wire::{Blob, Content, ModalityTokenCount, Part};
use understudy_adapters::tts::gemini_tts::wire::{
    pcm_mime, Candidate, GenerateContentRequest, GenerateContentResponse, GenerateUsageMetadata,
    RpcError, VOICES,
};

/// The journal dialect of Gemini TTS requests.
pub const DIALECT: &str = "gemini-tts";

/// Top-level request fields the service knows (camelCase and snake_case).
const FIELDS: &[&str] = &[
    "contents",
    "generationConfig",
    "generation_config",
    "systemInstruction",
    "system_instruction",
    "safetySettings",
    "safety_settings",
    "tools",
    "toolConfig",
    "tool_config",
    "cachedContent",
    "cached_content",
    "labels",
    "model",
];

/// Which method a request called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `:generateContent`.
    Generate,
    /// `:streamGenerateContent`, events (`alt=sse`) or a JSON array.
    Stream {
        /// `?alt=sse`.
        sse: bool,
    },
}

/// A parsed Gemini REST path, and its recogniser
/// (`…/{version}/models/{model}:generateContent|streamGenerateContent`): the
/// adapters' registry owns the path shape, so the recorder classifies the same way.
pub use understudy_adapters::registry::recognise::{
    gemini_rest_route as route, GeminiRestRoute as Route,
};

/// A refusal as Google's error.
pub type Refusal = RpcError;

/// The error answer for a refusal.
pub fn refusal(error: Refusal) -> Planned {
    let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::BAD_REQUEST);
    Planned::json(status, &error.into_envelope(), "error")
}

fn invalid(message: impl Into<String>) -> Refusal {
    RpcError::new(400, "INVALID_ARGUMENT", message)
}

/// 403 without a key, 400 `API_KEY_INVALID` with a wrong one (as the service does).
pub fn auth_failure(key: Option<&str>) -> Planned {
    match key {
        None | Some("") => refusal(RpcError::new(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        )),
        Some(_) => {
            let mut error = invalid("API key not valid. Please pass a valid API key.");
            error.details = Some(vec![json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}
            })]);
            refusal(error)
        }
    }
}

/// What a valid request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct TtsCall {
    /// The text to speak (all text parts, joined).
    pub text: String,
    /// The voice (the first speaker's in a multi-speaker request).
    pub voice: String,
    /// The parsed request.
    pub request: GenerateContentRequest,
}

/// Checks a request the way the service does.
pub fn validate(route: &Route, body: &[u8]) -> Result<TtsCall, Refusal> {
    if !route.model.contains("tts") {
        return Err(RpcError::new(
            404,
            "NOT_FOUND",
            format!(
                "models/{} is not found for API version {}, or is not supported for {}. Call ListModels to see the list of available models and their supported methods.",
                route.model,
                route.version,
                if route.streamed { "streamGenerateContent" } else { "generateContent" }
            ),
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("Invalid JSON payload received. {e}")))?;
    let Value::Object(map) = &value else {
        return Err(invalid(
            "Invalid JSON payload received. Expected an object at the top level.",
        ));
    };
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field."
        )));
    }
    let request: GenerateContentRequest = serde_json::from_value(value)
        .map_err(|e| invalid(format!("Invalid JSON payload received. {e}")))?;
    if request.contents.as_ref().is_none_or(Vec::is_empty) {
        return Err(invalid(
            "* GenerateContentRequest.contents: contents is not specified\n",
        ));
    }
    let text = request.text();
    if text.trim().is_empty() {
        return Err(invalid(
            "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n",
        ));
    }
    let config = request.generation_config.clone().unwrap_or_default();
    let audio = config
        .response_modalities
        .iter()
        .flatten()
        .any(|m| m.eq_ignore_ascii_case("audio"));
    if !audio {
        return Err(invalid(format!(
            "The model {} only answers with audio: set generationConfig.responseModalities to [\"AUDIO\"].",
            route.model
        )));
    }
    let speech = config.speech_config.unwrap_or_default();
    let mut voices: Vec<String> = Vec::new();
    if let Some(multi) = &speech.multi_speaker_voice_config {
        let speakers = multi.speaker_voice_configs.as_deref().unwrap_or_default();
        if speakers.is_empty() || speakers.len() > 2 {
            return Err(invalid(format!(
                "multiSpeakerVoiceConfig needs one or two speakerVoiceConfigs, got {}.",
                speakers.len()
            )));
        }
        voices.extend(
            speakers
                .iter()
                .filter_map(|s| s.voice_config.as_ref()?.voice_name())
                .map(str::to_owned),
        );
    } else if let Some(name) = speech.voice_config.as_ref().and_then(|v| v.voice_name()) {
        voices.push(name.to_owned());
    }
    if let Some(unknown) = voices
        .iter()
        .find(|v| !VOICES.iter().any(|known| known.eq_ignore_ascii_case(v)))
    {
        return Err(invalid(format!(
            "Voice name {unknown} is not supported. Supported voices: {}.",
            VOICES.join(", ")
        )));
    }
    Ok(TtsCall {
        text,
        voice: voices.into_iter().next().unwrap_or_else(|| "Kore".into()),
        request,
    })
}

/// One `GenerateContentResponse` carrying `pcm` (the last one also carries
/// the finish reason and usage).
fn response(
    pcm: &[u8],
    rate: u32,
    model: &str,
    response_id: &str,
    usage: Option<GenerateUsageMetadata>,
) -> GenerateContentResponse {
    let part = Part {
        inline_data: Some(Blob {
            mime_type: Some(pcm_mime(rate)),
            data: Some(STANDARD.encode(pcm)),
            extra: Default::default(),
        }),
        ..Default::default()
    };
    GenerateContentResponse {
        candidates: Some(vec![Candidate {
            content: Some(Content {
                role: Some("model".into()),
                parts: Some(vec![part]),
                extra: Default::default(),
            }),
            finish_reason: usage.is_some().then(|| "STOP".into()),
            index: Some(0),
            extra: Default::default(),
        }]),
        usage_metadata: usage,
        model_version: Some(model.to_owned()),
        response_id: Some(response_id.to_owned()),
        ..Default::default()
    }
}

fn usage(text: &str, audio_ms: u64) -> GenerateUsageMetadata {
    let prompt = (text.chars().count() as u64).div_ceil(4).max(1);
    let audio = (audio_ms * 25).div_ceil(1000);
    let detail = |modality: &str, count: u64| {
        Some(vec![ModalityTokenCount {
            modality: Some(modality.into()),
            token_count: Some(count),
            ..Default::default()
        }])
    };
    GenerateUsageMetadata {
        prompt_token_count: Some(prompt),
        candidates_token_count: Some(audio),
        total_token_count: Some(prompt + audio),
        prompt_tokens_details: detail("TEXT", prompt),
        candidates_tokens_details: detail("AUDIO", audio),
        extra: Default::default(),
    }
}

/// The answer to a valid call.
pub fn answer(
    route: &Route,
    method: Method,
    call: &TtsCall,
    synth: &Synth,
    cut_short: bool,
    response_id: &str,
) -> Planned {
    let pcm = synth.pcm(&call.text, 1.0);
    let audio_ms = (pcm.len() / 2) as u64 * 1000 / u64::from(synth.rate);
    let usage = usage(&call.text, audio_ms);
    let model = route.model.as_str();
    let mut planned = match method {
        Method::Generate => {
            let whole = response(&pcm, synth.rate, model, response_id, Some(usage));
            let mut planned = Planned::json(StatusCode::OK, &whole, "generateContent");
            planned.pieces[0].after = synth.first_audio + synth.chunk_delay(pcm.len());
            planned.pieces[0].detail = format!("{} bytes of PCM in one part", pcm.len());
            planned
        }
        Method::Stream { sse } => {
            let chunks: Vec<&[u8]> = pcm.chunks(synth.chunk_bytes()).collect();
            let last = chunks.len().saturating_sub(1);
            let mut pieces = Vec::new();
            let mut after = synth.first_audio;
            for (i, chunk) in chunks.iter().enumerate() {
                let event = response(
                    chunk,
                    synth.rate,
                    model,
                    response_id,
                    (i == last).then(|| usage.clone()),
                );
                let json = serde_json::to_string(&event).unwrap_or_default();
                let bytes = match (sse, i) {
                    (true, _) => format!("data: {json}\r\n\r\n"),
                    (false, 0) => format!("[{json}"),
                    (false, _) => format!(",\r\n{json}"),
                };
                pieces.push(Piece {
                    after,
                    bytes: Bytes::from(bytes),
                    label: "streamGenerateContent".into(),
                    detail: format!(
                        "{} bytes of PCM{}",
                        chunk.len(),
                        if i == last { ", STOP" } else { "" }
                    ),
                });
                after = synth.chunk_delay(chunk.len());
            }
            if !sse {
                pieces.push(Piece {
                    after: Duration::ZERO,
                    bytes: Bytes::from_static(b"]"),
                    label: "streamGenerateContent".into(),
                    detail: "end of array".into(),
                });
            }
            let content_type = if sse {
                "text/event-stream"
            } else {
                "application/json; charset=UTF-8"
            };
            Planned {
                status: StatusCode::OK,
                headers: vec![("content-type", content_type.into())],
                pieces,
                cut_short: false,
            }
        }
    };
    planned
        .headers
        .push(("x-gemini-service-tier", "standard".into()));
    if cut_short {
        let keep = planned.pieces.len().div_ceil(2);
        planned.pieces.truncate(keep);
        planned.cut_short = true;
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::tts::gemini_tts::decode::GeminiDecoder;
    use understudy_adapters::tts::http::BodyDecoder as _;

    fn synth() -> Synth {
        Synth {
            voice: (0..2400).map(|i| i as i16).collect::<Vec<_>>().into(),
            rate: 24_000,
            first_audio: Duration::from_millis(50),
            chunk_ms: 100,
            pace: 0.5,
        }
    }

    fn tts_route() -> Route {
        route("/v1beta/models/gemini-2.5-flash-preview-tts:generateContent").unwrap()
    }

    #[test]
    fn paths_of_every_version_and_prefix_are_recognised() {
        assert_eq!(
            route("/v1/models/gemini-2.5-pro-preview-tts:streamGenerateContent"),
            Some(Route {
                version: "v1".into(),
                model: "gemini-2.5-pro-preview-tts".into(),
                streamed: true
            })
        );
        assert!(route("//proxy//v1alpha/models/m-tts:generateContent").is_some());
        assert_eq!(route("/v1beta/models/m:countTokens"), None);
        assert_eq!(route("/v1beta/tunedModels/m:generateContent"), None);
        assert_eq!(route("/x/models/m:generateContent"), None);
    }

    #[test]
    fn the_sdk_request_is_accepted_and_bad_ones_get_google_errors() {
        let sdk = json!({"contents": [{"parts": [{"text": "Say hi"}], "role": "user"}],
            "generationConfig": {"responseModalities": ["AUDIO"],
                "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}}});
        let call = validate(&tts_route(), sdk.to_string().as_bytes()).unwrap();
        assert_eq!(
            (call.text.as_str(), call.voice.as_str()),
            ("Say hi", "Kore")
        );
        let refuse = |body: Value| validate(&tts_route(), body.to_string().as_bytes()).unwrap_err();
        let mut text_only = sdk.clone();
        text_only["generationConfig"]["responseModalities"] = json!(["TEXT"]);
        assert_eq!(refuse(text_only).status, "INVALID_ARGUMENT");
        let mut bad_voice = sdk.clone();
        bad_voice["generationConfig"]["speechConfig"]["voice_config"]["prebuilt_voice_config"]
            ["voice_name"] = json!("Bob");
        assert!(refuse(bad_voice).message.contains("Bob"));
        assert!(refuse(json!({"contents": []}))
            .message
            .contains("contents is not specified"));
        let mut unknown = sdk.clone();
        unknown["bogus"] = json!(1);
        assert!(refuse(unknown).message.contains("Unknown name \"bogus\""));
        let three = json!({"contents": [{"parts": [{"text": "A: hi\nB: ho\nC: hu"}]}],
            "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": {"multiSpeakerVoiceConfig": {
                "speakerVoiceConfigs": [{"speaker": "A"}, {"speaker": "B"}, {"speaker": "C"}]}}}});
        assert_eq!(refuse(three).code, 400);
        let other = route("/v1beta/models/gemini-2.5-flash:generateContent").unwrap();
        assert_eq!(
            validate(&other, sdk.to_string().as_bytes())
                .unwrap_err()
                .status,
            "NOT_FOUND"
        );
        assert_eq!(validate(&tts_route(), b"nope").unwrap_err().code, 400);
    }

    #[test]
    fn every_method_decodes_back_to_the_synthesised_pcm() {
        let s = synth();
        let body = json!({"contents": [{"parts": [{"text": "Have a wonderful day"}]}],
            "generationConfig": {"responseModalities": ["AUDIO"]}});
        let call = validate(&tts_route(), body.to_string().as_bytes()).unwrap();
        let expected = s.pcm(&call.text, 1.0);
        for (method, sse) in [
            (Method::Generate, false),
            (Method::Stream { sse: true }, true),
            (Method::Stream { sse: false }, false),
        ] {
            let planned = answer(&tts_route(), method, &call, &s, false, "r1");
            let mut decoder = GeminiDecoder::new(sse);
            let mut pcm: Vec<u8> = decoder
                .push(&planned.body())
                .unwrap()
                .into_iter()
                .flat_map(|p| p.pcm)
                .collect();
            pcm.extend(decoder.finish().unwrap().into_iter().flat_map(|p| p.pcm));
            assert_eq!(pcm, expected, "{method:?}");
        }
        let streamed = answer(
            &tts_route(),
            Method::Stream { sse: true },
            &call,
            &s,
            false,
            "r1",
        );
        assert!(streamed.pieces.len() > 1, "one event per chunk");
        assert_eq!(streamed.pieces[0].after, Duration::from_millis(50));
        let last = String::from_utf8(streamed.pieces.last().unwrap().bytes.to_vec()).unwrap();
        assert!(last.contains("\"finishReason\":\"STOP\"") && last.contains("usageMetadata"));
        assert!(last.ends_with("\r\n\r\n"));
    }

    #[test]
    fn auth_failures_have_googles_shapes() {
        let missing: Value = serde_json::from_slice(&auth_failure(None).body()).unwrap();
        assert_eq!(missing["error"]["status"], "PERMISSION_DENIED");
        let wrong = auth_failure(Some("nope"));
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        let wrong: Value = serde_json::from_slice(&wrong.body()).unwrap();
        assert_eq!(wrong["error"]["details"][0]["reason"], "API_KEY_INVALID");
    }
}
