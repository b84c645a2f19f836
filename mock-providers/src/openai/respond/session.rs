//! The session's settings: what a new session starts with, how a
//! `session.update` merges into it, and the decisions read off it.
//!
//! Everything here is a pure function of a [`Session`] and the dialect. GA
//! nests audio settings (`audio.input.turn_detection`, `audio.input.transcription`)
//! where beta keeps them flat (`turn_detection`, `input_audio_transcription`);
//! [`turn_detection`] and [`transcription_enabled`] read either shape, so the
//! rest of the responder never looks at which one it holds. A partial GA
//! `turn_detection` fills in from the defaults, as the service does.

use super::ids::Ids;
use super::RATE;
use crate::vad::VadConfig;
use serde_json::{json, Value};
use std::time::Duration;
use understudy_adapters::openai::wire::objects::{
    AudioFormatSpec, AudioInput, AudioOutput, Session, SessionAudio, TurnDetection,
};
use understudy_adapters::openai::Dialect;

/// The turn detection in force, if any (`None`: the client commits its turns).
pub(super) fn turn_detection(dialect: Dialect, session: &Session) -> Option<TurnDetection> {
    let setting = match dialect {
        Dialect::Ga => session
            .audio
            .as_ref()
            .and_then(|a| a.input.as_ref())
            .and_then(|i| i.turn_detection.clone()),
        Dialect::Beta => session.turn_detection.clone(),
    };
    setting.flatten()
}

/// Whether committed input gets a transcription event.
pub(super) fn transcription_enabled(dialect: Dialect, session: &Session) -> bool {
    match dialect {
        Dialect::Ga => session
            .audio
            .as_ref()
            .and_then(|a| a.input.as_ref())
            .is_some_and(|i| matches!(i.transcription, Some(Some(_)))),
        Dialect::Beta => matches!(session.input_audio_transcription, Some(Some(_))),
    }
}

/// The energy VAD's settings for a server-VAD turn detection.
pub(super) fn vad_config(td: &TurnDetection) -> VadConfig {
    VadConfig::from_provider_threshold(
        td.threshold.unwrap_or(0.5),
        u64::from(td.silence_duration_ms.unwrap_or(500)),
    )
}

/// How the `session_expired` error words the limit ("30 minutes", "1.5 seconds").
pub(super) fn describe(limit: Duration) -> String {
    let secs = limit.as_secs();
    if secs >= 60 && secs % 60 == 0 {
        format!("{} minutes", secs / 60)
    } else {
        format!("{} seconds", limit.as_secs_f64())
    }
}

fn default_turn_detection() -> TurnDetection {
    TurnDetection {
        kind: "server_vad".into(),
        threshold: Some(0.5),
        prefix_padding_ms: Some(300),
        silence_duration_ms: Some(500),
        idle_timeout_ms: None,
        create_response: Some(true),
        interrupt_response: Some(true),
        ..Default::default()
    }
}

/// The session a new connection gets, in the dialect's shape.
pub(super) fn default_session(dialect: Dialect, model: &str, ids: &mut Ids) -> Session {
    let mut session = Session {
        id: Some(ids.next("sess")),
        object: Some("realtime.session".into()),
        model: Some(model.into()),
        expires_at: Some(unix_now() + 3600),
        instructions: Some(String::new()),
        tools: Some(vec![]),
        tool_choice: Some(json!("auto")),
        ..Default::default()
    };
    match dialect {
        Dialect::Ga => {
            session.kind = Some("realtime".into());
            session.output_modalities = Some(vec!["audio".into()]);
            session.max_output_tokens = Some(json!("inf"));
            for key in ["tracing", "prompt", "include"] {
                session.extra.insert(key.into(), Value::Null);
            }
            let pcm = || AudioFormatSpec {
                kind: "audio/pcm".into(),
                rate: Some(RATE),
                ..Default::default()
            };
            session.audio = Some(SessionAudio {
                input: Some(AudioInput {
                    format: Some(pcm()),
                    transcription: Some(None),
                    noise_reduction: Some(None),
                    turn_detection: Some(Some(default_turn_detection())),
                    ..Default::default()
                }),
                output: Some(AudioOutput {
                    format: Some(pcm()),
                    voice: Some(json!("alloy")),
                    speed: Some(1.0),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        Dialect::Beta => {
            session.modalities = Some(vec!["text".into(), "audio".into()]);
            session.voice = Some("alloy".into());
            session.input_audio_format = Some("pcm16".into());
            session.output_audio_format = Some("pcm16".into());
            session.input_audio_transcription = Some(None);
            let mut td = default_turn_detection();
            td.idle_timeout_ms = None;
            session.turn_detection = Some(Some(td));
            session.temperature = Some(0.8);
            session.max_response_output_tokens = Some(json!("inf"));
        }
    }
    session
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Applies the fields present in `update` to `session`, nested GA audio included.
pub(super) fn merge_session(session: &mut Session, update: &Session) {
    macro_rules! take {
        ($($field:ident),*) => { $( if update.$field.is_some() { session.$field = update.$field.clone(); } )* };
    }
    take!(
        kind,
        instructions,
        output_modalities,
        modalities,
        voice,
        input_audio_format,
        output_audio_format,
        input_audio_transcription,
        input_audio_noise_reduction,
        turn_detection,
        tools,
        tool_choice,
        temperature,
        max_output_tokens,
        max_response_output_tokens
    );
    if let Some(audio) = &update.audio {
        let target = session.audio.get_or_insert_with(Default::default);
        if let Some(input) = &audio.input {
            let t = target.input.get_or_insert_with(Default::default);
            if input.format.is_some() {
                t.format = input.format.clone();
            }
            if input.transcription.is_some() {
                t.transcription = input.transcription.clone();
            }
            if input.noise_reduction.is_some() {
                t.noise_reduction = input.noise_reduction.clone();
            }
            if let Some(td) = &input.turn_detection {
                // A partial turn_detection object fills in from the defaults.
                t.turn_detection = Some(td.clone().map(|mut td| {
                    let d = default_turn_detection();
                    if td.kind == "server_vad" {
                        td.threshold = td.threshold.or(d.threshold);
                        td.prefix_padding_ms = td.prefix_padding_ms.or(d.prefix_padding_ms);
                        td.silence_duration_ms = td.silence_duration_ms.or(d.silence_duration_ms);
                        td.idle_timeout_ms = td.idle_timeout_ms.or(Some(None));
                    }
                    td.create_response = td.create_response.or(d.create_response);
                    td.interrupt_response = td.interrupt_response.or(d.interrupt_response);
                    td
                }));
            }
        }
        if let Some(output) = &audio.output {
            let t = target.output.get_or_insert_with(Default::default);
            if output.format.is_some() {
                t.format = output.format.clone();
            }
            if output.voice.is_some() {
                t.voice = output.voice.clone();
            }
            if output.speed.is_some() {
                t.speed = output.speed;
            }
        }
    }
    for (key, value) in &update.extra {
        session.extra.insert(key.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ga_update(td: Option<TurnDetection>) -> Session {
        Session {
            audio: Some(SessionAudio {
                input: Some(AudioInput {
                    turn_detection: Some(td),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_partial_ga_server_vad_fills_in_from_the_defaults() {
        let mut session = default_session(Dialect::Ga, "m", &mut Ids::new(1));
        let partial = TurnDetection {
            kind: "server_vad".into(),
            silence_duration_ms: Some(900),
            ..Default::default()
        };
        merge_session(&mut session, &ga_update(Some(partial)));
        let td = turn_detection(Dialect::Ga, &session).expect("server VAD stays on");
        assert_eq!(td.silence_duration_ms, Some(900));
        assert_eq!(td.threshold, Some(0.5));
        assert_eq!(td.prefix_padding_ms, Some(300));
        assert_eq!(td.idle_timeout_ms, Some(None));
        assert_eq!(td.create_response, Some(true));
        assert_eq!(td.interrupt_response, Some(true));
    }

    #[test]
    fn turn_detection_is_read_from_the_dialects_own_place() {
        let mut ga = default_session(Dialect::Ga, "m", &mut Ids::new(1));
        assert!(turn_detection(Dialect::Ga, &ga).is_some());
        merge_session(&mut ga, &ga_update(None));
        assert!(turn_detection(Dialect::Ga, &ga).is_none());

        let mut beta = default_session(Dialect::Beta, "m", &mut Ids::new(1));
        assert!(turn_detection(Dialect::Beta, &beta).is_some());
        // The beta session keeps it flat: the GA place is ignored.
        assert!(turn_detection(Dialect::Ga, &beta).is_none());
        let update = Session {
            turn_detection: Some(None),
            ..Default::default()
        };
        merge_session(&mut beta, &update);
        assert!(turn_detection(Dialect::Beta, &beta).is_none());
    }

    #[test]
    fn transcription_is_off_until_the_session_names_a_model() {
        let mut beta = default_session(Dialect::Beta, "m", &mut Ids::new(1));
        assert!(!transcription_enabled(Dialect::Beta, &beta));
        let update = Session {
            input_audio_transcription: Some(Some(Default::default())),
            ..Default::default()
        };
        merge_session(&mut beta, &update);
        assert!(transcription_enabled(Dialect::Beta, &beta));
        assert!(!transcription_enabled(
            Dialect::Ga,
            &default_session(Dialect::Ga, "m", &mut Ids::new(1))
        ));
    }

    #[test]
    fn limits_are_worded_in_minutes_when_whole() {
        assert_eq!(describe(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(describe(Duration::from_millis(1500)), "1.5 seconds");
        assert_eq!(describe(Duration::from_secs(90)), "90 seconds");
    }
}
