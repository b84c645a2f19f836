//! OpenAI `POST {prefix}/audio/speech` in the mock: validation the provider's
//! way, and answers planned from the [`Synth`].
//!
//! Errors use OpenAI's envelope with the messages, `param`s and `code`s of its
//! standard validation errors (`missing_required_parameter`, `invalid_value`,
//! `string_above_max_length`, …). Two choices are this build's, not the
//! provider's, and are documented where they are made:
//!
//! - **`mp3`, `opus`, `aac` and `flac` are not served**: the mock has no
//!   encoders, so asking for them (or leaving `response_format` out, since the
//!   service defaults to `mp3`) gets a 400 in OpenAI's shape with
//!   `param: "response_format"`, `code: "unsupported_value"`, and a message
//!   that says it is the mock's limitation. Ask for `pcm` or `wav`.
//! - `wav` headers carry the exact sizes (the mock knows the length up front);
//!   send `X-Understudy-Wav-Sizes: placeholder` for the `0xFFFFFFFF` sizes a
//!   streaming server may write (whether OpenAI does is unconfirmed).
//!
//! Both stream formats are answered with chunked bodies paced like the service:
//! the first audio after the first-audio delay, then one chunk per `chunk_ms`
//! of audio. `stream_format: "sse"` sends `speech.audio.delta` events and a
//! final `speech.audio.done` with an estimated usage (input tokens ≈ characters
//! / 4; output tokens ≈ one per 20 ms of audio; the real counts are
//! unconfirmed).

use super::synth::Synth;
use crate::http::plan::{Piece, Planned};
use crate::wrong_type::type_name;
use axum::body::Bytes;
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::time::Duration;
use understudy_adapters::tts::openai_speech::wire::{
    is_legacy_model, is_speech_model, ApiError, ResponseFormat, SpeechRequest, SpeechStreamEvent,
    SpeechUsage, StreamFormat, Voice, MAX_INPUT_CHARS, SPEED_RANGE, VOICES,
};
use understudy_adapters::tts::pcm_stream::wav_header;

/// The journal dialect of `audio/speech` requests.
pub const DIALECT: &str = "openai-speech";

/// Fields the endpoint accepts.
const FIELDS: &[&str] = &[
    "model",
    "input",
    "voice",
    "instructions",
    "response_format",
    "speed",
    "stream_format",
];

/// A refusal: status and OpenAI error body.
pub type Refusal = (StatusCode, ApiError);

fn bad(message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> Refusal {
    (
        StatusCode::BAD_REQUEST,
        ApiError::invalid_request(message, param, code),
    )
}

fn invalid_type(field: &str, expected: &str, got: &Value) -> Refusal {
    bad(
        format!(
            "Invalid type for '{field}': expected {expected}, but got {} instead.",
            type_name(got)
        ),
        Some(field),
        Some("invalid_type"),
    )
}

/// `'a', 'b', and 'c'` as OpenAI lists supported values.
pub(crate) fn listing(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => format!("'{one}'"),
        [init @ .., last] => format!(
            "{}, and '{last}'",
            init.iter()
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn invalid_value(field: &str, got: &str, supported: &[&str]) -> Refusal {
    bad(
        format!(
            "Invalid value: '{got}'. Supported values are: {}.",
            listing(supported)
        ),
        Some(field),
        Some("invalid_value"),
    )
}

fn optional_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, Refusal> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid_type(field, "a string", other)),
    }
}

fn required_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, Refusal> {
    optional_str(body, field)?.ok_or_else(|| {
        bad(
            format!("Missing required parameter: '{field}'."),
            Some(field),
            Some("missing_required_parameter"),
        )
    })
}

/// Checks a request body the way the service does; the typed request on success.
pub fn validate(body: &[u8]) -> Result<SpeechRequest, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        bad(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
            None,
            None,
        )
    })?;
    let Value::Object(map) = value else {
        return Err(invalid_type("body", "an object", &value));
    };
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(
            format!("Unrecognized request argument supplied: {unknown}"),
            None,
            None,
        ));
    }
    let model = required_str(&map, "model")?;
    let input = required_str(&map, "input")?;
    let voice = match map.get("voice") {
        None | Some(Value::Null) => {
            return Err(bad(
                "Missing required parameter: 'voice'.",
                Some("voice"),
                Some("missing_required_parameter"),
            ))
        }
        Some(Value::String(name)) => {
            if !VOICES.contains(&name.as_str()) {
                return Err(invalid_value("voice", name, VOICES));
            }
            Voice::Named(name.clone())
        }
        Some(Value::Object(custom)) => match custom.get("id") {
            Some(Value::String(id)) if !id.is_empty() => Voice::Custom { id: id.clone() },
            Some(other) => return Err(invalid_type("voice.id", "a string", other)),
            None => {
                return Err(bad(
                    "Missing required parameter: 'voice.id'.",
                    Some("voice.id"),
                    Some("missing_required_parameter"),
                ))
            }
        },
        Some(other) => return Err(invalid_type("voice", "one of a string or an object", other)),
    };
    let length = input.chars().count();
    if length > MAX_INPUT_CHARS {
        return Err(bad(
            format!("Invalid 'input': string too long. Expected a string with maximum length {MAX_INPUT_CHARS}, but got a string with length {length} instead."),
            Some("input"),
            Some("string_above_max_length"),
        ));
    }
    let instructions = optional_str(&map, "instructions")?;
    let names: Vec<&str> = ResponseFormat::ALL.iter().map(|f| f.name()).collect();
    let response_format = match optional_str(&map, "response_format")? {
        None => None,
        Some(name) => Some(
            ResponseFormat::from_name(name)
                .ok_or_else(|| invalid_value("response_format", name, &names))?,
        ),
    };
    let stream_format = match optional_str(&map, "stream_format")? {
        None => None,
        Some("audio") => Some(StreamFormat::Audio),
        Some("sse") => Some(StreamFormat::Sse),
        Some(other) => return Err(invalid_value("stream_format", other, &["sse", "audio"])),
    };
    let speed = match map.get("speed") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let speed = n.as_f64().unwrap_or(1.0);
            let (min, max) = SPEED_RANGE;
            if speed < min {
                return Err(bad(
                    format!("Invalid 'speed': decimal below minimum value. Expected a value >= {min}, but got {speed} instead."),
                    Some("speed"),
                    Some("decimal_below_min_value"),
                ));
            }
            if speed > max {
                return Err(bad(
                    format!("Invalid 'speed': decimal above maximum value. Expected a value <= {max}, but got {speed} instead."),
                    Some("speed"),
                    Some("decimal_above_max_value"),
                ));
            }
            Some(speed)
        }
        Some(other) => return Err(invalid_type("speed", "a decimal", other)),
    };
    if !is_speech_model(model) {
        return Err((
            StatusCode::NOT_FOUND,
            ApiError::invalid_request(
                format!("The model `{model}` does not exist or you do not have access to it."),
                None,
                Some("model_not_found"),
            ),
        ));
    }
    if stream_format == Some(StreamFormat::Sse) && is_legacy_model(model) {
        // The service rejects SSE for tts-1*; the exact wording is unconfirmed.
        return Err(bad(
            format!("stream_format 'sse' is not supported for model '{model}'."),
            Some("stream_format"),
            Some("unsupported_value"),
        ));
    }
    let request = SpeechRequest {
        model: model.to_owned(),
        input: input.to_owned(),
        voice,
        instructions: instructions.map(str::to_owned),
        response_format,
        speed,
        stream_format,
    };
    let format = request.response_format.unwrap_or(ResponseFormat::Mp3);
    if !matches!(format, ResponseFormat::Pcm | ResponseFormat::Wav) {
        return Err(bad(
            format!(
                "response_format '{}' is not available from the understudy mock (it has no {} encoder); ask for 'pcm' or 'wav'.{}",
                format.name(),
                format.name(),
                if map.contains_key("response_format") { "" } else { " (The service defaults to 'mp3' when response_format is omitted.)" }
            ),
            Some("response_format"),
            Some("unsupported_value"),
        ));
    }
    Ok(request)
}

/// The error answer for a refusal.
pub fn refusal(refusal: Refusal) -> Planned {
    let (status, error) = refusal;
    Planned::json(status, &error.into_envelope(), "error")
}

/// 401 for a missing or wrong key (`key` is what the client sent, masked in the message).
pub fn auth_failure(key: Option<&str>) -> Planned {
    let error = match key {
        None | Some("") => ApiError::invalid_request(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            None,
            None,
        ),
        Some(key) => ApiError::invalid_request(
            format!(
                "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                mask(key)
            ),
            None,
            Some("invalid_api_key"),
        ),
    };
    refusal((StatusCode::UNAUTHORIZED, error))
}

/// `sk-te***` for short keys, `sk-pr***…abcd` for long ones (never the whole key).
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let head: String = chars.iter().take(5).collect();
    if chars.len() > 16 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}***{tail}")
    } else {
        format!("{head}***")
    }
}

/// Per-request options the client may set with `X-Understudy-*` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Write `0xFFFFFFFF` sizes in the WAV header.
    pub placeholder_wav_sizes: bool,
    /// Drop the connection half way through the body.
    pub cut_short: bool,
}

/// The answer to a valid request: the audio, chunked and paced.
pub fn answer(
    request: &SpeechRequest,
    synth: &Synth,
    options: Options,
    request_id: &str,
) -> Planned {
    let speed = request.speed.unwrap_or(1.0);
    let pcm = synth.pcm(&request.input, speed);
    let format = request.response_format.unwrap_or(ResponseFormat::Pcm);
    let header = (format == ResponseFormat::Wav).then(|| {
        let size = u32::try_from(pcm.len()).unwrap_or(u32::MAX);
        wav_header(synth.rate, (!options.placeholder_wav_sizes).then_some(size))
    });
    let sse = request.stream_format == Some(StreamFormat::Sse);
    let mut pieces = Vec::new();
    let mut after = synth.first_audio;
    let chunks: Vec<&[u8]> = pcm.chunks(synth.chunk_bytes()).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut bytes = Vec::with_capacity(chunk.len() + 44);
        if i == 0 {
            bytes.extend(header.iter().flatten());
        }
        bytes.extend_from_slice(chunk);
        let detail = format!("{} bytes ({} ms of audio)", bytes.len(), chunk.len() / 48);
        let (bytes, label) = if sse {
            let event = SpeechStreamEvent::AudioDelta {
                audio: STANDARD.encode(&bytes),
            };
            (sse_event(&event), "speech.audio.delta")
        } else {
            (bytes, "audio")
        };
        pieces.push(Piece {
            after,
            bytes: Bytes::from(bytes),
            label: label.into(),
            detail,
        });
        after = synth.chunk_delay(chunk.len());
    }
    if chunks.is_empty() {
        if let Some(header) = &header {
            pieces.push(Piece {
                after,
                bytes: Bytes::from(header.clone()),
                label: "audio".into(),
                detail: "wav header only".into(),
            });
        }
    }
    if sse {
        let input_tokens = estimate_text_tokens(&request.input)
            + request
                .instructions
                .as_deref()
                .map_or(0, estimate_text_tokens);
        let output_tokens = (pcm.len() as u64 / 2).div_ceil(u64::from(synth.rate) / 50);
        let done = SpeechStreamEvent::AudioDone {
            usage: SpeechUsage {
                input_tokens,
                output_tokens,
                total_tokens: input_tokens + output_tokens,
            },
        };
        pieces.push(Piece {
            after: Duration::ZERO,
            bytes: Bytes::from(sse_event(&done)),
            label: "speech.audio.done".into(),
            detail: format!("input_tokens {input_tokens}, output_tokens {output_tokens}"),
        });
    }
    let cut_short = options.cut_short;
    if cut_short {
        let keep = pieces.len().div_ceil(2);
        pieces.truncate(keep);
    }
    let content_type = if sse {
        "text/event-stream"
    } else {
        format.content_type()
    };
    Planned {
        status: StatusCode::OK,
        headers: vec![
            ("content-type", content_type.into()),
            ("x-request-id", request_id.into()),
            (
                "openai-processing-ms",
                synth.first_audio.as_millis().to_string(),
            ),
        ],
        pieces,
        cut_short,
    }
}

fn estimate_text_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

fn sse_event(event: &SpeechStreamEvent) -> Vec<u8> {
    let json = serde_json::to_string(event).unwrap_or_default();
    format!("data: {json}\n\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use understudy_adapters::tts::http::BodyDecoder as _;
    use understudy_adapters::tts::openai_speech::decode::{SpeechDecoder, SpeechFormat};

    fn synth() -> Synth {
        Synth {
            voice: (0..2400).map(|i| i as i16).collect::<Vec<_>>().into(),
            rate: 24_000,
            first_audio: Duration::from_millis(120),
            chunk_ms: 100,
            pace: 0.5,
        }
    }

    fn refused(body: Value) -> (u16, Value) {
        let (status, error) = validate(body.to_string().as_bytes()).unwrap_err();
        (
            status.as_u16(),
            serde_json::to_value(error.into_envelope()).unwrap()["error"].clone(),
        )
    }

    #[test]
    fn the_captured_bodies_are_accepted() {
        for body in [
            json!({"model":"gpt-4o-mini-tts","input":"hello","voice":"alloy","response_format":"pcm"}),
            json!({"model":"gpt-4o-mini-tts","input":"hello","voice":"alloy","response_format":"pcm","stream_format":"sse"}),
            json!({"model":"tts-1","input":"hello","voice":{"id":"voice_abc"},"response_format":"wav","speed":1.5}),
        ] {
            assert!(validate(body.to_string().as_bytes()).is_ok(), "{body}");
        }
    }

    #[test]
    fn bad_requests_get_openai_errors_naming_the_param() {
        let base =
            json!({"model":"gpt-4o-mini-tts","input":"hi","voice":"alloy","response_format":"pcm"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = base.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        let (status, e) = refused(without("input"));
        assert_eq!(
            (status, e["param"].as_str(), e["code"].as_str()),
            (400, Some("input"), Some("missing_required_parameter"))
        );
        assert_eq!(e["message"], "Missing required parameter: 'input'.");
        let (status, e) = refused(with("input", json!("x".repeat(4097))));
        assert_eq!(
            (status, e["code"].as_str()),
            (400, Some("string_above_max_length"))
        );
        assert!(e["message"]
            .as_str()
            .unwrap()
            .contains("got a string with length 4097"));
        assert!(
            validate(
                with("input", json!("é".repeat(4096)))
                    .to_string()
                    .as_bytes()
            )
            .is_ok(),
            "characters, not bytes"
        );
        let (_, e) = refused(with("voice", json!("bob")));
        assert_eq!(
            (e["param"].as_str(), e["code"].as_str()),
            (Some("voice"), Some("invalid_value"))
        );
        assert!(e["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid value: 'bob'. Supported values are: 'alloy', 'ash'"));
        let (_, e) = refused(with("input", json!(5)));
        assert_eq!(
            e["message"],
            "Invalid type for 'input': expected a string, but got an integer instead."
        );
        let (_, e) = refused(with("speed", json!(5)));
        assert_eq!(e["code"], "decimal_above_max_value");
        let (_, e) = refused(with("response_format", json!("ogg")));
        assert_eq!(e["param"], "response_format");
        let (_, e) = refused(with("extra", json!(1)));
        assert_eq!(
            e["message"],
            "Unrecognized request argument supplied: extra"
        );
        let (status, e) = refused(with("model", json!("gpt-4o")));
        assert_eq!((status, e["code"].as_str()), (404, Some("model_not_found")));
        let (status, e) = refused(with("response_format", json!("mp3")));
        assert_eq!(
            (status, e["code"].as_str(), e["param"].as_str()),
            (400, Some("unsupported_value"), Some("response_format"))
        );
        let (_, e) = refused(without("response_format"));
        assert!(e["message"].as_str().unwrap().contains("defaults to 'mp3'"));
        let mut legacy_sse = with("model", json!("tts-1"));
        legacy_sse["stream_format"] = json!("sse");
        assert_eq!(refused(legacy_sse).1["param"], "stream_format");
        let (status, e) = (validate(b"{not json").unwrap_err().0, ());
        assert_eq!((status.as_u16(), e), (400, ()));
    }

    #[test]
    fn the_auth_error_masks_the_key() {
        let planned = auth_failure(Some("sk-test-wrong"));
        assert_eq!(planned.status, StatusCode::UNAUTHORIZED);
        let body: Value = serde_json::from_slice(&planned.body()).unwrap();
        assert_eq!(body["error"]["code"], "invalid_api_key");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Incorrect API key provided: sk-te***."));
        assert!(!body["error"]["message"].as_str().unwrap().contains("wrong"));
    }

    fn request(body: Value) -> SpeechRequest {
        validate(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn the_adapters_decoder_reads_every_answer_back_to_the_synthesised_pcm() {
        let s = synth();
        let text = "hello there, how are you";
        let expected = s.pcm(text, 1.0);
        for (format, stream) in [
            ("pcm", "audio"),
            ("wav", "audio"),
            ("pcm", "sse"),
            ("wav", "sse"),
        ] {
            let req = request(
                json!({"model":"gpt-4o-mini-tts","input":text,"voice":"alloy","response_format":format,"stream_format":stream}),
            );
            let planned = answer(&req, &s, Options::default(), "req_1");
            assert_eq!(
                planned.pieces[0].after,
                Duration::from_millis(120),
                "first audio delay"
            );
            let mut decoder = SpeechDecoder::new(
                if format == "wav" {
                    SpeechFormat::Wav
                } else {
                    SpeechFormat::Pcm
                },
                stream == "sse",
            );
            let mut pcm: Vec<u8> = decoder
                .push(&planned.body())
                .unwrap()
                .into_iter()
                .flat_map(|p| p.pcm)
                .collect();
            pcm.extend(decoder.finish().unwrap().into_iter().flat_map(|p| p.pcm));
            assert_eq!(pcm, expected, "{format}/{stream}");
            assert_eq!(decoder.is_done(), stream == "sse");
        }
    }

    #[test]
    fn options_change_the_header_and_cut_the_body() {
        let s = synth();
        let req = request(
            json!({"model":"gpt-4o-mini-tts","input":"a longer sentence to speak","voice":"alloy","response_format":"wav"}),
        );
        let placeholder = answer(
            &req,
            &s,
            Options {
                placeholder_wav_sizes: true,
                cut_short: false,
            },
            "r",
        );
        assert_eq!(&placeholder.body()[40..44], &[0xFF; 4]);
        let exact = answer(&req, &s, Options::default(), "r");
        let size = u32::from_le_bytes(exact.body()[40..44].try_into().unwrap()) as usize;
        assert_eq!(size, exact.body().len() - 44);
        let cut = answer(
            &req,
            &s,
            Options {
                placeholder_wav_sizes: false,
                cut_short: true,
            },
            "r",
        );
        assert!(cut.cut_short && cut.pieces.len() < exact.pieces.len());
    }
}
