//! The Qwen-Audio protocol's validation, in the service's error shape.

use super::*;
use crate::protocol::Protocol;
use crate::timeline::Outgoing;

fn protocol(model: &str) -> QwenAudioProtocol {
    QwenAudioProtocol {
        model: model.into(),
    }
}

fn err(text: &str) -> FrameError {
    protocol("qwen-audio-3.1-realtime-plus")
        .parse(text, 1 << 20)
        .unwrap_err()
}

#[test]
fn the_sdk_session_update_and_smart_turn_with_voiceprints_are_accepted() {
    let p = protocol("qwen-audio-3.1-realtime-plus");
    let sdk = r#"{"type":"session.update","session":{"modalities":["text","audio"],"voice":"longanqian","input_audio_format":"pcm","output_audio_format":"pcm","turn_detection":null,"input_audio_transcription":{},"instructions":"x"}}"#;
    assert!(p.parse(sdk, 1 << 20).is_ok());
    let smart = r#"{"type":"session.update","session":{"max_history_turns":20,"turn_detection":{"type":"smart_turn","voiceprint_audio_urls":["https://example.com/a.wav"]}}}"#;
    assert!(p.parse(smart, 1 << 20).is_ok());
}

#[test]
fn semantic_vad_other_formats_and_bad_history_are_refused_with_their_param() {
    let cases = [
        (
            r#"{"type":"session.update","session":{"turn_detection":{"type":"semantic_vad"}}}"#,
            "session.turn_detection.type",
        ),
        (
            r#"{"type":"session.update","session":{"input_audio_format":"pcm16"}}"#,
            "session.input_audio_format",
        ),
        (
            r#"{"type":"session.update","session":{"max_history_turns":51}}"#,
            "session.max_history_turns",
        ),
        (
            r#"{"type":"session.update","session":{"turn_detection":{"type":"server_vad","silence_duration_ms":100}}}"#,
            "session.turn_detection.silence_duration_ms",
        ),
        (
            r#"{"type":"session.update","session":{"modalities":["audio"]}}"#,
            "session.modalities",
        ),
    ];
    for (frame, param) in cases {
        let e = err(frame);
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some(param)),
            "{frame}"
        );
    }
    assert!(err(
        r#"{"type":"session.update","session":{"turn_detection":{"type":"semantic_vad"}}}"#
    )
    .message
    .contains("Unsupported turn_detection.type: 'semantic_vad'"));
}

#[test]
fn voiceprints_must_be_http_at_most_five_and_only_with_smart_turn() {
    let param = Some("session.turn_detection.voiceprint_audio_urls");
    let oss = err(
        r#"{"type":"session.update","session":{"turn_detection":{"type":"smart_turn","voiceprint_audio_urls":["oss://bucket/a.wav"]}}}"#,
    );
    assert_eq!(oss.param.as_deref(), param);
    let six = format!(
        r#"{{"type":"session.update","session":{{"turn_detection":{{"type":"smart_turn","voiceprint_audio_urls":{}}}}}}}"#,
        serde_json::json!(vec!["https://a/b.wav"; 6])
    );
    assert_eq!(err(&six).param.as_deref(), param);
    let vad = err(
        r#"{"type":"session.update","session":{"turn_detection":{"type":"server_vad","voiceprint_audio_urls":["https://a/b.wav"]}}}"#,
    );
    assert_eq!(vad.param.as_deref(), param);
}

#[test]
fn session_finish_images_and_truncation_are_unknown_events_here() {
    for frame in [
        r#"{"type":"session.finish"}"#,
        r#"{"type":"input_image_buffer.append","image":"/9j/"}"#,
        r#"{"type":"conversation.item.truncate","item_id":"i","content_index":0,"audio_end_ms":1}"#,
    ] {
        let e = err(frame);
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("type")),
            "{frame}"
        );
    }
    let rejection = protocol("qwen-audio-3.1-realtime-plus")
        .rejection(&err(r#"{"type":"session.finish","event_id":"ev_1"}"#));
    let Outgoing::Text { text, .. } = &rejection[0] else {
        panic!("an error event");
    };
    let frame: Value = serde_json::from_str(text).unwrap();
    assert_eq!(frame["error"]["type"], "invalid_request_error");
}

#[test]
fn item_retrieve_and_delete_are_known_events() {
    let p = protocol("qwen-audio-3.0-realtime-flash");
    assert!(p
        .parse(
            r#"{"type":"conversation.item.retrieve","item_id":"i"}"#,
            1 << 20
        )
        .is_ok());
    assert!(p
        .parse(
            r#"{"type":"conversation.item.delete","item_id":"i"}"#,
            1 << 20
        )
        .is_ok());
}
