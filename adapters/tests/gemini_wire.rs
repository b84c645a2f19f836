//! Gemini Live wire types: every message shape in the protocol notes
//! round-trips through JSON exactly (camelCase), snake_case input is accepted
//! as the service accepts it, and decoding never panics.

mod common;

use common::{add_extras, examples, json_value, mutate, round_trips};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use understudy_adapters::gemini::wire::{ClientMessage, ServerMessage};
use understudy_adapters::gemini::Decoder;

const SERVER_EXAMPLES: &str = include_str!("data/gemini-server-examples.jsonl");
const CLIENT_EXAMPLES: &str = include_str!("data/gemini-client-examples.jsonl");

#[test]
fn every_example_round_trips_and_keeps_unknown_fields() {
    for example in examples(SERVER_EXAMPLES) {
        round_trips::<ServerMessage>(&example);
    }
    for example in examples(CLIENT_EXAMPLES) {
        round_trips::<ClientMessage>(&example);
    }
    let voice: ServerMessage =
        serde_json::from_value(json!({"voiceActivity": {"voiceActivityType": "ACTIVITY_START"}}))
            .unwrap();
    assert!(voice.extra.contains_key("voiceActivity"));
}

#[test]
fn the_sdk_mixed_case_setup_parses_like_camel_case() {
    // Captured from google-genai 3.6.1 (protocol notes §3.1), snake_case inside.
    let sdk = json!({"setup": {"model": "models/gemini-live-2.5-flash-preview",
        "generationConfig": {"responseModalities": ["AUDIO"],
          "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}},
        "realtimeInputConfig": {"automatic_activity_detection": {"disabled": false,
           "start_of_speech_sensitivity": "START_SENSITIVITY_LOW", "silence_duration_ms": 500},
           "activity_handling": "START_OF_ACTIVITY_INTERRUPTS", "turn_coverage": "TURN_INCLUDES_ONLY_ACTIVITY"},
        "contextWindowCompression": {"trigger_tokens": 25600, "sliding_window": {}}}});
    let message: ClientMessage = serde_json::from_value(sdk).unwrap();
    let config = message.setup.unwrap().realtime_input_config.unwrap();
    let vad = config.automatic_activity_detection.unwrap();
    assert_eq!(vad.silence_duration_ms, Some(500));
    assert_eq!(
        vad.start_of_speech_sensitivity.as_deref(),
        Some("START_SENSITIVITY_LOW")
    );
    assert_eq!(
        config.activity_handling.as_deref(),
        Some("START_OF_ACTIVITY_INTERRUPTS")
    );
    let audio: ClientMessage = serde_json::from_value(
        json!({"realtime_input": {"audio": {"data": "AAE=", "mime_type": "audio/pcm;rate=16000"}}}),
    )
    .unwrap();
    // A decoded frame re-encodes as it was sent (frames round-trip).
    assert_eq!(
        serde_json::to_value(&audio).unwrap(),
        json!({"realtime_input": {"audio": {"data": "AAE=", "mime_type": "audio/pcm;rate=16000"}}})
    );
    let blob = audio.realtime_input.unwrap().audio.unwrap();
    assert_eq!(blob.mime_type.as_deref(), Some("audio/pcm;rate=16000"));
    // What code builds is always camelCase.
    let out = serde_json::to_value(ClientMessage {
        realtime_input: Some(understudy_adapters::gemini::wire::RealtimeInput {
            audio: Some(understudy_adapters::gemini::wire::Blob {
                mime_type: blob.mime_type.clone(),
                data: blob.data.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        out,
        json!({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000", "data": "AAE="}}})
    );
}

#[test]
fn free_form_json_is_not_renamed() {
    let response = json!({"toolResponse": {"functionResponses": [{"id": "c", "name": "f", "response": {"order_no": "A17", "in_stock": true}}]}});
    let message: ClientMessage = serde_json::from_value(response.clone()).unwrap();
    assert_eq!(serde_json::to_value(&message).unwrap(), response);
}

/// Respells the keys picked by `picks` (cycled, in walk order) in snake_case,
/// as the google-genai SDK sends them; free-form values are left alone.
fn snake_keys(value: &mut Value, picks: &[bool], at: &mut usize) {
    const FREE_FORM: &[&str] = &["args", "response", "parameters", "speechConfig"];
    if let Value::Object(map) = value {
        let old = std::mem::take(map);
        for (key, mut child) in old {
            let pick = picks[*at % picks.len()];
            *at += 1;
            if !FREE_FORM.contains(&key.as_str()) {
                snake_keys(&mut child, picks, at);
            }
            let key = if pick {
                key.chars()
                    .flat_map(|c| {
                        if c.is_ascii_uppercase() {
                            vec!['_', c.to_ascii_lowercase()]
                        } else {
                            vec![c]
                        }
                    })
                    .collect()
            } else {
                key
            };
            map.insert(key, child);
        }
    } else if let Value::Array(items) = value {
        items.iter_mut().for_each(|v| snake_keys(v, picks, at));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_mix_of_spellings_and_nulls_round_trips(
        index in 0usize..1000,
        spell in prop::collection::vec(any::<bool>(), 1..16),
        nulls in prop::collection::vec(prop::bool::weighted(0.15), 1..16),
    ) {
        for (examples_text, server) in [(SERVER_EXAMPLES, true), (CLIENT_EXAMPLES, false)] {
            let all = examples(examples_text);
            let mut value = all[index % all.len()].clone();
            snake_keys(&mut value, &spell, &mut 0);
            common::nullify(&mut value, &nulls, &mut 0);
            let result = if server {
                common::round_trips_if_it_parses::<ServerMessage>(&value)
            } else {
                common::round_trips_if_it_parses::<ClientMessage>(&value)
            };
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
        }
    }

    #[test]
    fn server_messages_round_trip_with_any_values_and_unknown_fields(
        index in 0usize..1000,
        strings in prop::collection::vec("[a-zA-Z0-9 _.\\-]{0,16}", 64),
        ints in prop::collection::vec(0u32..1_000_000, 64),
        extras in prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3),
    ) {
        let all = examples(SERVER_EXAMPLES);
        let mut value = all[index % all.len()].clone();
        mutate(&mut value, &mut strings.into_iter(), &mut ints.into_iter());
        add_extras(&mut value, &extras.into_iter().collect());
        round_trips::<ServerMessage>(&value);
    }

    #[test]
    fn client_messages_round_trip_with_any_values_and_unknown_fields(
        index in 0usize..1000,
        strings in prop::collection::vec("[a-zA-Z0-9 _.\\-]{0,16}", 64),
        ints in prop::collection::vec(0u32..1_000_000, 64),
        extras in prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3),
    ) {
        let all = examples(CLIENT_EXAMPLES);
        let mut value = all[index % all.len()].clone();
        mutate(&mut value, &mut strings.into_iter(), &mut ints.into_iter());
        add_extras(&mut value, &extras.into_iter().collect());
        round_trips::<ClientMessage>(&value);
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_text(text in ".{0,200}") {
        let _ = Decoder::new("m").decode_text(&text);
    }

    #[test]
    fn decoder_never_panics_on_known_keys_with_arbitrary_values(
        parts in prop::collection::vec((
            prop_oneof![Just("serverContent"), Just("toolCall"), Just("toolCallCancellation"), Just("goAway"),
                        Just("sessionResumptionUpdate"), Just("usageMetadata"), Just("setupComplete"), Just("x")],
            json_value()), 1..4),
        inner in prop::collection::btree_map(
            prop_oneof![Just("modelTurn".to_string()), Just("turnComplete".to_string()), Just("interrupted".to_string()),
                        Just("inputTranscription".to_string()), Just("outputTranscription".to_string()), "[a-zA-Z]{1,8}"],
            json_value(), 0..4),
    ) {
        let mut decoder = Decoder::new("m");
        let mut map: Map<String, Value> = parts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let _ = decoder.decode_text(&Value::Object(map.clone()).to_string());
        map.insert("serverContent".into(), Value::Object(inner.into_iter().collect()));
        let _ = decoder.decode_text(&Value::Object(map).to_string());
    }
}
