//! The Qwen-Audio-Realtime scenarios (`dashscope/audio-*` cassettes): a
//! typed turn, a spoken turn under server VAD, and a smart-turn session in
//! which a bystander speaks first (ambient speech: transcribed, never
//! answered) and then the user asks.

use super::{Scenario, Step, INSTRUCTIONS};
use understudy_adapters::qwen_audio::DEFAULT_MODEL;
use understudy_adapters::registry::table::DASHSCOPE_AUDIO;
use understudy_adapters::{
    AudioFormat, ClientInput, Modality, ResponseOptions, SessionConfig, TurnDetection,
};

/// What the typed turn says.
pub const TYPED: &str = "Say hello to the Understudy conformance test.";

/// The bystander's clip: `user-order-16k.wav` 24 dB down.
pub const DISTANT_WAV: &str = "user-order-16k-distant.wav";

/// The session every Qwen-Audio scenario starts with `turns`.
pub fn audio_session(turns: TurnDetection) -> SessionConfig {
    SessionConfig {
        instructions: Some(INSTRUCTIONS.into()),
        output_modalities: Some(vec![Modality::Audio]),
        voice: Some("longanqian_v3.1".into()),
        input_transcription: Some("fun-asr".into()),
        input_format: Some(AudioFormat::pcm16(16_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        turn_detection: Some(turns),
        ..Default::default()
    }
}

/// Semantic turn detection, which the adapter sends as `smart_turn`.
pub fn smart_turn() -> TurnDetection {
    TurnDetection::SemanticVad {
        eagerness: None,
        create_response: None,
        interrupt_response: None,
    }
}

fn scenario(name: &str, description: &'static str, steps: Vec<Step>) -> Scenario {
    Scenario {
        cassette: format!("dashscope/audio-{name}"),
        dialect: &DASHSCOPE_AUDIO,
        setup_fault: None,
        connection_limit: None,
        resume: false,
        continued_in: Vec::new(),
        model: DEFAULT_MODEL,
        description,
        steps,
        legacy_beta: false,
    }
}

fn speak(wav: &'static str) -> Step {
    Step::Audio {
        wav,
        chunk_ms: 100,
        trailing_silence_ms: 1200,
    }
}

/// A typed question and a spoken answer (push-to-talk session).
pub fn text_turn() -> Scenario {
    scenario(
        "text-turn",
        "typed text turn: a user message item, response.create, spoken answer",
        vec![
            Step::Send(ClientInput::Session(audio_session(TurnDetection::Manual))),
            Step::WaitFor("session_updated"),
            Step::Send(ClientInput::Text { text: TYPED.into() }),
            Step::Send(ClientInput::CreateResponse(ResponseOptions::default())),
            Step::WaitFor("response_done"),
        ],
    )
}

/// A spoken question under server VAD: settled transcript deltas, the
/// answer, the whole transcript.
pub fn spoken_turn() -> Scenario {
    scenario(
        "spoken-turn",
        "spoken question heard by server VAD, transcribed as spoken (text/stash), answered",
        vec![
            Step::Send(ClientInput::Session(audio_session(
                TurnDetection::server_vad(),
            ))),
            Step::WaitFor("session_updated"),
            speak("user-weather-16k.wav"),
            Step::WaitFor("response_done"),
        ],
    )
}

/// Smart turn: a bystander's question is ambient (transcribed, not
/// answered, no turn); then the user's own question is answered.
pub fn smart_turn_ambient() -> Scenario {
    scenario(
        "smart-turn",
        "smart_turn: distant speech comes back as ambient transcripts and is not answered; the user's question is",
        vec![
            Step::Send(ClientInput::Session(audio_session(smart_turn()))),
            Step::WaitFor("session_updated"),
            speak(DISTANT_WAV),
            Step::WaitFor("ambient_transcript"),
            Step::WaitFor("ambient_transcript"),
            speak("user-weather-16k.wav"),
            Step::WaitFor("response_done"),
        ],
    )
}

/// Every bundled Qwen-Audio scenario.
pub fn qwen_audio_scenarios() -> Vec<Scenario> {
    vec![text_turn(), spoken_turn(), smart_turn_ambient()]
}
