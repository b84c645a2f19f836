//! Every frame of every bundled cassette decodes into its dialect's wire type
//! and re-encodes to an equal JSON value: explicit nulls, unknown fields and
//! key spellings are all kept.
//!
//! A client frame that its wire type rejects passes only where the recording
//! shows the service rejecting it too (an `error` is the next server frame).
//! The bundled cassettes are synthesized by our own mock, so the shapes real
//! servers send that they lack are checked from `data/server-shapes.jsonl`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use understudy_adapters::chat::{ChatChunk, ChatRequest};
use understudy_adapters::tts::gemini_tts::wire::{GenerateContentRequest, GenerateContentResponse};
use understudy_adapters::tts::openai_speech::wire::SpeechRequest;
use understudy_adapters::{dashscope, gemini, openai};
use understudy_fixtures::bundled;
use understudy_fixtures::{BinaryPayload, ChunkData, Frame, FrameBody, HttpBody, TextPayload};

/// Decodes `json` as `T`, encodes it again, and says how the result differs.
fn round_trip<T: DeserializeOwned + Serialize>(json: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(json.clone()).map_err(|e| format!("rejected: {e}"))?;
    let again = serde_json::to_value(&typed).map_err(|e| format!("does not encode: {e}"))?;
    if &again == json {
        Ok(())
    } else {
        Err(format!("changed:\n  sent  {json}\n  again {again}"))
    }
}

/// The JSON payloads of one frame, with whether each came from the client.
fn payloads(frame: &Frame) -> Vec<(bool, Value)> {
    let client = frame.is_client();
    match &frame.body {
        FrameBody::Text(TextPayload::Json(v)) | FrameBody::Binary(BinaryPayload::Json(v)) => {
            vec![(client, v.clone())]
        }
        FrameBody::HttpRequest(request) => match &request.body {
            Some(HttpBody::Json(v)) => vec![(true, v.clone())],
            _ => vec![],
        },
        FrameBody::HttpResponse(response) => {
            let mut out = Vec::new();
            if let Some(HttpBody::Json(v)) = &response.body {
                out.push((false, v.clone()));
            }
            for chunk in &response.chunks {
                if let ChunkData::Text(text) = &chunk.data {
                    out.extend(sse_json(text).into_iter().map(|v| (false, v)));
                }
            }
            out
        }
        _ => vec![],
    }
}

/// The JSON `data:` payloads of a piece of an SSE stream (`[DONE]` is not JSON).
fn sse_json(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str(data.trim()).ok())
        .collect()
}

/// Round-trips one payload through the wire type of `dialect` and direction.
fn check(dialect: &str, client: bool, json: &Value) -> Result<(), String> {
    match (dialect, client) {
        ("openai-ga" | "openai-beta", true) => round_trip::<openai::wire::ClientEvent>(json),
        ("openai-ga" | "openai-beta", false) => round_trip::<openai::wire::ServerEvent>(json),
        ("gemini-live", true) => round_trip::<gemini::wire::ClientMessage>(json),
        ("gemini-live", false) => round_trip::<gemini::wire::ServerMessage>(json),
        ("dashscope-omni", true) => round_trip::<dashscope::wire::ClientEvent>(json),
        ("dashscope-omni", false) => round_trip::<dashscope::wire::ServerEvent>(json),
        ("dashscope-tts", true) => round_trip::<dashscope::tts::TtsClientEvent>(json),
        ("dashscope-tts", false) => round_trip::<dashscope::tts::TtsServerEvent>(json),
        ("openai-chat" | "dashscope-chat", true) => round_trip::<ChatRequest>(json),
        ("openai-chat" | "dashscope-chat", false) => round_trip::<ChatChunk>(json),
        ("openai-speech", true) => round_trip::<SpeechRequest>(json),
        ("gemini-tts", true) => round_trip::<GenerateContentRequest>(json),
        ("gemini-tts", false) => round_trip::<GenerateContentResponse>(json),
        (other, client) => Err(format!(
            "no wire type for {} frames of dialect {other}",
            if client { "client" } else { "server" }
        )),
    }
}

/// Whether the server frame after `index` is an error (the service rejected the frame).
fn answered_by_error(frames: &[Frame], index: usize) -> bool {
    frames[index + 1..]
        .iter()
        .find(|f| f.is_server())
        .and_then(Frame::json)
        .and_then(|v| v.get("type"))
        .and_then(Value::as_str)
        == Some("error")
}

#[test]
fn every_frame_of_every_bundled_cassette_round_trips_to_equal_json() {
    let mut checked = 0usize;
    let mut failures = Vec::new();
    let names = bundled::cassette_names();
    assert!(!names.is_empty(), "no bundled cassettes");
    for name in names {
        let cassette = bundled::cassette(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dialect = cassette.header.dialect.clone();
        for (index, frame) in cassette.frames.iter().enumerate() {
            for (client, json) in payloads(frame) {
                checked += 1;
                match check(&dialect, client, &json) {
                    Ok(()) => {}
                    Err(why)
                        if client
                            && why.starts_with("rejected")
                            && answered_by_error(&cassette.frames, index) => {}
                    Err(why) => failures.push(format!("{name} frame {index}: {why}")),
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} payloads checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} payloads did not round-trip:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Frames in the shapes real servers and SDKs send that the bundled
/// (synthesized) cassettes do not contain (each line says which issue item).
const SERVER_SHAPES: &str = include_str!("data/server-shapes.jsonl");

#[test]
fn shapes_real_servers_send_round_trip_to_equal_json() {
    let mut failures = Vec::new();
    for (n, line) in SERVER_SHAPES.lines().enumerate() {
        let shape: Value = serde_json::from_str(line).expect("a JSON line");
        let dialect = shape["dialect"].as_str().expect("a dialect");
        let client = shape["dir"] == "c2s";
        if let Err(why) = check(dialect, client, &shape["json"]) {
            failures.push(format!("line {}: {why}", n + 1));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explicit_nulls_in_a_session_survive_a_round_trip() {
    // The shape a real GA server sends: the nulls are part of the frame.
    let frame = serde_json::json!({
        "type": "session.updated",
        "event_id": "event_1",
        "session": {
            "type": "realtime",
            "audio": {"input": {"transcription": {
                "model": "gpt-realtime-whisper", "language": null, "prompt": null
            }}}
        }
    });
    round_trip::<openai::wire::ServerEvent>(&frame).unwrap();
}

#[test]
fn snake_case_gemini_client_frames_keep_their_spelling() {
    // What the google-genai SDK sends: snake_case keys.
    let frame = serde_json::json!({
        "realtime_input": {"audio": {"mime_type": "audio/pcm;rate=16000", "data": "AAAA"}}
    });
    round_trip::<gemini::wire::ClientMessage>(&frame).unwrap();
    let server = serde_json::json!({
        "server_content": {"turn_complete": true, "model_turn": null}
    });
    round_trip::<gemini::wire::ServerMessage>(&server).unwrap();
}

#[test]
fn a_remembered_null_gives_way_to_a_value_set_in_code() {
    let frame = serde_json::json!({"model": "whisper-1", "language": null});
    let mut transcription: openai::wire::objects::Transcription =
        serde_json::from_value(frame).unwrap();
    transcription.language = Some("en".into());
    let json = serde_json::to_value(&transcription).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"model": "whisper-1", "language": "en"})
    );
    let text = serde_json::to_string(&transcription).unwrap();
    assert_eq!(text.matches("language").count(), 1, "{text}");
}

#[test]
fn a_set_field_wins_over_the_same_key_in_extra() {
    // The mock puts `"metadata": null` in `extra`; code that later models the
    // override must not be overwritten by it, and no key is written twice.
    let mut response = openai::wire::objects::Response {
        id: Some("resp_1".into()),
        ..Default::default()
    };
    response
        .extra
        .insert("metadata".into(), serde_json::Value::Null);
    response.metadata = Some(Some(serde_json::json!({"client_event_id": "c1"})));
    let text = serde_json::to_string(&response).unwrap();
    assert_eq!(text.matches("metadata").count(), 1, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["metadata"]["client_event_id"], "c1");
}

#[test]
fn structs_built_in_code_send_no_nulls() {
    // The mock builds its frames in code: nothing it did not set may appear.
    let transcription = openai::wire::objects::Transcription {
        model: Some("whisper-1".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&transcription).unwrap(),
        serde_json::json!({"model": "whisper-1"})
    );
}
