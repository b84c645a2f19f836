//! The Qwen-Audio-Realtime cases (`dashscope.qwen-audio.*`) and the checks
//! only they make: a typed turn answered (this dialect takes text), the
//! user's words transcribed while they speak, and — the point of
//! `smart_turn` — ambient speech transcribed as ambient and never answered.

use super::{
    case, ends_completed, has_audio_and_transcript, no_vad_events, scenario_by_id,
    user_transcribed, vad_turn, Case, UnknownScenario,
};
use crate::scenario::qwen_audio::qwen_audio_scenarios;
use understudy_adapters::ModelEvent;

/// What the bystander says in the smart-turn scenario (the distant clip's words).
const BYSTANDER: &str = "Can you check the status of order A seventeen?";

/// The user's words arrived as transcript deltas before their speech
/// stopped (Qwen-Audio transcribes while the user speaks).
fn transcribed_while_speaking(events: &[ModelEvent]) -> Result<(), String> {
    let delta = events.iter().position(
        |e| matches!(e, ModelEvent::InputTranscriptDelta { delta, .. } if !delta.is_empty()),
    );
    let stopped = events
        .iter()
        .position(|e| matches!(e, ModelEvent::SpeechStopped { .. }));
    match (delta, stopped) {
        (Some(d), Some(s)) if d < s => Ok(()),
        other => Err(format!(
            "expected an input_transcript_delta before speech_stopped, got positions {other:?}"
        )),
    }
}

/// Ambient speech was heard as ambient — its whole transcript, the
/// bystander's words — and nothing treated it as a turn: no speech start, no
/// user item, no response, no interruption until the user's own speech
/// started; its words never became a user transcript; one answer in all.
fn ambient_ignored(events: &[ModelEvent]) -> Result<(), String> {
    let ambient = events.iter().position(
        |e| matches!(e, ModelEvent::AmbientTranscript { done: true, text, .. } if text == BYSTANDER),
    );
    let Some(ambient) = ambient else {
        return Err(format!(
            "no completed ambient_transcript of the bystander's words ({BYSTANDER:?})"
        ));
    };
    let user_starts = events[ambient..]
        .iter()
        .position(|e| matches!(e, ModelEvent::SpeechStarted { .. }))
        .map_or(events.len(), |i| ambient + i);
    let first = events
        .iter()
        .position(|e| matches!(e, ModelEvent::AmbientTranscript { .. }))
        .unwrap_or(ambient);
    let acted = events[first..user_starts].iter().find(|e| {
        matches!(
            e,
            ModelEvent::SpeechStarted { .. }
                | ModelEvent::InputCommitted { .. }
                | ModelEvent::ResponseCreated { .. }
                | ModelEvent::Interrupted { .. }
        )
    });
    if let Some(acted) = acted {
        return Err(format!(
            "ambient speech was treated as a turn or answered: {} before the user spoke",
            acted.kind()
        ));
    }
    let heard_as_user = events.iter().any(
        |e| matches!(e, ModelEvent::InputTranscriptDone { transcript, .. } if transcript == BYSTANDER),
    );
    if heard_as_user {
        return Err("the bystander's words became a user transcript".into());
    }
    let responses = events
        .iter()
        .filter(|e| matches!(e, ModelEvent::ResponseCreated { .. }))
        .count();
    if responses != 1 {
        return Err(format!("{responses} responses; expected one, to the user"));
    }
    Ok(())
}

/// The Qwen-Audio cases, in report order.
pub(super) fn qwen_audio_cases() -> Result<Vec<Case>, UnknownScenario> {
    let scenarios = qwen_audio_scenarios();
    let find = |id: &str| scenario_by_id(&scenarios, id);
    Ok(vec![
        case(
            "dashscope.qwen-audio.text.turn",
            "Qwen-Audio: a typed user message and response.create, answered in speech",
            find("dashscope/audio-text-turn")?,
            vec![
                ("no VAD events", no_vad_events),
                ("spoken answer with transcript", has_audio_and_transcript),
                ("ends completed", ends_completed),
            ],
        ),
        case(
            "dashscope.qwen-audio.spoken.turn",
            "Qwen-Audio: a spoken question under server VAD, transcribed while spoken, answered",
            find("dashscope/audio-spoken-turn")?,
            vec![
                ("VAD turn order", vad_turn),
                ("transcribed while speaking", transcribed_while_speaking),
                ("user transcribed", user_transcribed),
                ("spoken answer with transcript", has_audio_and_transcript),
                ("ends completed", ends_completed),
            ],
        ),
        case(
            "dashscope.qwen-audio.smart-turn.ambient",
            "Qwen-Audio smart_turn: a distant bystander is transcribed as ambient speech and ignored; the user's question is answered",
            find("dashscope/audio-smart-turn")?,
            vec![
                ("ambient speech ignored", ambient_ignored),
                ("VAD turn order", vad_turn),
                ("spoken answer with transcript", has_audio_and_transcript),
                ("ends completed", ends_completed),
            ],
        ),
    ])
}
