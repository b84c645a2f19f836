//! Every frame of every bundled cassette decodes into its dialect's wire type
//! and re-encodes to an equal JSON value: explicit nulls, unknown fields and
//! key spellings are all kept.
//!
//! A client frame that its wire type rejects passes only where the recording
//! shows the service rejecting it too (an `error` is the next server frame).
//! The bundled cassettes are synthesized by our own mock, so the shapes real
//! servers send that they lack are checked from `data/server-shapes.jsonl`.

use serde_json::Value;
use understudy_adapters::gemini;
use understudy_adapters::openai;
use understudy_adapters::round_trip::{round_trip, typed, RoundTripError};
use understudy_fixtures::bundled;

/// Round-trips one payload through the wire type of `dialect` and direction.
fn check(dialect: &str, client: bool, json: &Value) -> Result<(), RoundTripError> {
    round_trip(dialect, client, json)
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
            let client = frame.is_client();
            for json in frame.json_payloads() {
                checked += 1;
                match check(&dialect, client, &json) {
                    Ok(()) => {}
                    Err(RoundTripError::Rejected(_))
                        if client && cassette.next_server_event_type(index) == Some("error") => {}
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
    typed::<openai::wire::ServerEvent>(&frame).unwrap();
}

#[test]
fn snake_case_gemini_client_frames_keep_their_spelling() {
    // What the google-genai SDK sends: snake_case keys.
    let frame = serde_json::json!({
        "realtime_input": {"audio": {"mime_type": "audio/pcm;rate=16000", "data": "AAAA"}}
    });
    typed::<gemini::wire::ClientMessage>(&frame).unwrap();
    let server = serde_json::json!({
        "server_content": {"turn_complete": true, "model_turn": null}
    });
    typed::<gemini::wire::ServerMessage>(&server).unwrap();
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
