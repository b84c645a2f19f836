//! Qwen-TTS: frame validation and the responder's schedules.

use super::*;
use crate::engine::SessionEngine;
use crate::protocol::{FrameError, FrameSummary, Protocol};
use crate::timeline::Outgoing;
use crate::ResponderConfig;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use understudy_adapters::dashscope::tts::wire::TtsClientEvent;

fn parse(text: &str) -> Result<TtsClientEvent, FrameError> {
    DashScopeTtsProtocol {
        model: "qwen3-tts-flash-realtime".into(),
    }
    .parse(text, 1 << 20)
}

#[test]
fn the_sdk_default_session_is_accepted() {
    let frame = r#"{"event_id":"event_1","type":"session.update","session":{"voice":"Cherry","mode":"server_commit","response_format":"pcm","sample_rate":24000}}"#;
    assert!(parse(frame).is_ok());
}

#[test]
fn bad_settings_name_their_field() {
    let cases = [
        (
            r#"{"type":"session.update","session":{"sample_rate":12345}}"#,
            "session.sample_rate",
        ),
        (
            r#"{"type":"session.update","session":{"response_format":"flac"}}"#,
            "session.response_format",
        ),
        (
            r#"{"type":"session.update","session":{"mode":"eager"}}"#,
            "session.mode",
        ),
        (
            r#"{"type":"session.update","session":{"voice":""}}"#,
            "session.voice",
        ),
    ];
    for (frame, param) in cases {
        let error = parse(frame).unwrap_err();
        assert_eq!(
            (error.code, error.param.as_deref()),
            ("invalid_value", Some(param)),
            "{frame}"
        );
    }
    assert_eq!(
        parse(r#"{"type":"input_text_buffer.append"}"#)
            .unwrap_err()
            .code,
        "missing_required_parameter"
    );
    let omni_only = parse(r#"{"type":"input_audio_buffer.append","audio":""}"#).unwrap_err();
    assert_eq!(
        (omni_only.code, omni_only.param.as_deref()),
        ("invalid_value", Some("type"))
    );
}

fn frames(responder: &mut TtsResponder, at: Instant) -> Vec<Value> {
    responder
        .pop_due(at)
        .into_iter()
        .filter_map(|f| match f {
            Outgoing::Text { text, .. } => serde_json::from_str(&text).ok(),
            _ => None,
        })
        .collect()
}

fn kinds(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn event(text: &str) -> TtsClientEvent {
    parse(text).unwrap()
}

fn feed(responder: &mut TtsResponder, text: &str, now: Instant) {
    let e = event(text);
    let summary = FrameSummary {
        event_type: e.event_type().into(),
        key: Value::Null,
        audio_ms: None,
    };
    responder.on_client_event(&e, &summary, now);
}

fn responder() -> TtsResponder {
    let mut config = ResponderConfig::with_voice(Arc::from(vec![100i16; 2400]));
    config.speed = 1000.0;
    TtsResponder::new("qwen3-tts-flash-realtime", config, 1)
}

#[test]
fn server_commit_speaks_each_complete_sentence_then_finishes() {
    let mut r = responder();
    let t0 = Instant::now();
    r.on_connect(t0);
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":"Hello there. How"}"#,
        t0,
    );
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":" are you"}"#,
        t0,
    );
    feed(&mut r, r#"{"type":"session.finish"}"#, t0);
    let later = t0 + Duration::from_secs(3600);
    let all = frames(&mut r, later);
    let kinds = kinds(&all);
    assert_eq!(
        kinds.iter().filter(|k| *k == "response.created").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(kinds.first().map(String::as_str), Some("session.created"));
    assert_eq!(kinds.last().map(String::as_str), Some("session.finished"));
    let characters: Vec<u64> = all
        .iter()
        .filter(|f| f["type"] == "response.done")
        .map(|f| f["response"]["usage"]["characters"].as_u64().unwrap())
        .collect();
    assert_eq!(
        characters,
        vec!["Hello there.".len() as u64, " How are you".len() as u64]
    );
}

#[test]
fn commit_mode_waits_for_commits_and_refuses_empty_ones_and_late_updates() {
    let mut r = responder();
    let t0 = Instant::now();
    r.on_connect(t0);
    feed(
        &mut r,
        r#"{"type":"session.update","session":{"mode":"commit"}}"#,
        t0,
    );
    feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":"One. Two."}"#,
        t0,
    );
    let before = kinds(&frames(&mut r, t0 + Duration::from_secs(3600)));
    assert!(
        !before.contains(&"response.created".to_owned()),
        "{before:?}"
    );
    assert!(
        before.contains(&"error".to_owned()),
        "empty commit refused: {before:?}"
    );
    feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
    feed(
        &mut r,
        r#"{"type":"session.update","session":{"voice":"Ethan"}}"#,
        t0,
    );
    let after = frames(&mut r, t0 + Duration::from_secs(3600));
    let k = kinds(&after);
    assert_eq!(
        k.iter().filter(|k| *k == "response.created").count(),
        1,
        "{k:?}"
    );
    assert!(k.contains(&"input_text_buffer.committed".to_owned()));
    let late = after
        .iter()
        .find(|f| f["type"] == "error")
        .expect("late update refused");
    assert_eq!(late["error"]["message"], UPDATE_TOO_LATE);
}

#[test]
fn cancel_withdraws_queued_audio() {
    let mut r = responder();
    r.config.speed = 1.0;
    let t0 = Instant::now();
    r.on_connect(t0);
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":"A long sentence to speak. And another one."}"#,
        t0,
    );
    let _ = frames(&mut r, t0);
    feed(
        &mut r,
        r#"{"type":"response.cancel"}"#,
        t0 + Duration::from_millis(1),
    );
    let rest = frames(&mut r, t0 + Duration::from_secs(3600));
    let k = kinds(&rest);
    assert!(!k.contains(&"response.audio.delta".to_owned()), "{k:?}");
    let done = rest.iter().find(|f| f["type"] == "response.done").unwrap();
    assert_eq!(done["response"]["status"], "cancelled");
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

#[test]
fn server_commit_text_then_an_explicit_commit_is_acknowledged_without_error() {
    // AgentScope's flow: deltas, then commit and finish at once. The
    // sentence end was already spoken when the commit lands.
    let mut r = responder();
    let t0 = Instant::now();
    r.on_connect(t0);
    feed(
        &mut r,
        r#"{"type":"session.update","session":{"voice":"Cherry","mode":"server_commit"}}"#,
        t0,
    );
    for delta in ["Hello", " there, this is", " a test."] {
        let frame = json!({"type": "input_text_buffer.append", "text": delta}).to_string();
        feed(&mut r, &frame, t0);
    }
    feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
    feed(&mut r, r#"{"type":"session.finish"}"#, t0);
    let k = kinds(&frames(&mut r, t0 + Duration::from_secs(3600)));
    assert_eq!(count(&k, "error"), 0, "{k:?}");
    assert_eq!(count(&k, "input_text_buffer.committed"), 1, "{k:?}");
    assert_eq!(count(&k, "response.created"), 1, "{k:?}");
    assert_eq!(k.last().map(String::as_str), Some("session.finished"));
}

#[test]
fn a_commit_within_the_holdback_takes_the_buffer_before_any_response() {
    let mut r = responder();
    r.config.tts_holdback = Duration::from_millis(200);
    r.config.speed = 1.0;
    let t0 = Instant::now();
    r.on_connect(t0);
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":"Hello there. How are you?"}"#,
        t0,
    );
    assert!(kinds(&frames(&mut r, t0 + Duration::from_millis(10)))
        .iter()
        .all(|k| k != "response.created"));
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.commit"}"#,
        t0 + Duration::from_millis(10),
    );
    let k = kinds(&frames(&mut r, t0 + Duration::from_secs(3600)));
    assert_eq!(
        k.iter().position(|k| k == "input_text_buffer.committed"),
        Some(0),
        "{k:?}"
    );
    assert_eq!(count(&k, "response.created"), 1, "{k:?}");
    assert_eq!(count(&k, "error"), 0, "{k:?}");
    // Without a commit the holdback ends and the sentence is spoken alone.
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":"One. Two"}"#,
        t0 + Duration::from_secs(3600),
    );
    let k = kinds(&frames(&mut r, t0 + Duration::from_secs(7200)));
    assert_eq!(count(&k, "response.created"), 1, "{k:?}");
    assert_eq!(r.buffer, " Two");
}

#[test]
fn a_commit_with_nothing_appended_since_the_last_one_still_errors() {
    let mut r = responder();
    let t0 = Instant::now();
    r.on_connect(t0);
    feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
    feed(
        &mut r,
        r#"{"type":"input_text_buffer.append","text":"Hi."}"#,
        t0,
    );
    feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
    feed(&mut r, r#"{"type":"input_text_buffer.commit"}"#, t0);
    let all = frames(&mut r, t0 + Duration::from_secs(3600));
    let k = kinds(&all);
    assert_eq!(count(&k, "error"), 2, "{k:?}");
    assert_eq!(count(&k, "input_text_buffer.committed"), 1, "{k:?}");
    let error = all.iter().find(|f| f["type"] == "error").unwrap();
    assert_eq!(error["error"]["code"], "input_text_buffer_commit_empty");
}
