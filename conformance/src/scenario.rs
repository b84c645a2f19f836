//! Scenarios: the client side of a conversation, as data.
//!
//! A scenario is what a client does (configure, speak, type, wait, answer a
//! tool) independent of who answers. The same scenario synthesizes a bundled
//! cassette against the respond engine and later drives the adapter against
//! the replay of that cassette; the session settings mirror the official-SDK
//! harness (`tests/sdk/openai_realtime_turn.py`) so those cassettes also replay
//! to the unmodified SDK.

use serde_json::json;
use understudy_adapters::openai::Dialect;
use understudy_adapters::{
    AudioFormat, ClientInput, Modality, ResponseOptions, SessionConfig, ToolChoice, ToolSpec,
    TurnDetection,
};

/// Instructions the SDK harness sends; the scenarios send the same.
pub const INSTRUCTIONS: &str =
    "You are a terse assistant used by the Understudy SDK conformance test.";

/// One thing the client does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send a normalised input.
    Send(ClientInput),
    /// Stream a bundled WAV as audio chunks (as fast as the socket takes them),
    /// followed by silence.
    Audio {
        /// Bundled audio name (`user-weather-24k.wav`).
        wav: &'static str,
        /// Chunk length in milliseconds.
        chunk_ms: u32,
        /// Silence appended after the recording, in milliseconds.
        trailing_silence_ms: u32,
    },
    /// Send a raw text frame, bypassing the encoder (malformed input).
    Raw(&'static str),
    /// Wait for the next event of this kind (`response_done`, …); kinds are
    /// counted separately, so waits on different kinds do not race.
    WaitFor(&'static str),
    /// Answer the most recent tool call with this output.
    AnswerLastToolCall {
        /// The tool's result.
        output: &'static str,
    },
    /// Truncate the last interrupted response's audio item to the audio received.
    TruncateInterrupted,
}

/// A named client script for one dialect.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Cassette name it synthesizes (`openai/ga-text-turn`).
    pub cassette: String,
    /// Dialect it speaks.
    pub dialect: Dialect,
    /// Model it asks for.
    pub model: &'static str,
    /// What it exercises.
    pub description: &'static str,
    /// The steps.
    pub steps: Vec<Step>,
}

fn model_for(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ga => "gpt-realtime",
        Dialect::Beta => "gpt-4o-realtime-preview",
    }
}

fn short(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ga => "ga",
        Dialect::Beta => "beta",
    }
}

/// The weather tool the SDK harness declares.
pub fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: "Get the current weather for a city.".into(),
        parameters: json!({"type":"object","properties":{"city":{"type":"string","description":"City name"}},"required":["city"]}),
    }
}

fn base_session() -> SessionConfig {
    SessionConfig {
        instructions: Some(INSTRUCTIONS.into()),
        output_modalities: Some(vec![Modality::Audio]),
        ..Default::default()
    }
}

fn vad_session(dialect: Dialect) -> SessionConfig {
    SessionConfig {
        input_format: Some(AudioFormat::pcm16(24_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        voice: Some(match dialect {
            Dialect::Ga => "marin".into(),
            Dialect::Beta => "alloy".into(),
        }),
        turn_detection: Some(TurnDetection::ServerVad {
            threshold: Some(0.5),
            prefix_padding_ms: Some(300),
            silence_duration_ms: Some(500),
            create_response: Some(true),
            interrupt_response: Some(true),
        }),
        ..base_session()
    }
}

fn respond() -> Step {
    Step::Send(ClientInput::CreateResponse(ResponseOptions::default()))
}

fn say(text: &str) -> Step {
    Step::Send(ClientInput::Text { text: text.into() })
}

/// Every scenario starts the way real clients do: by waiting for the greeting.
fn scenario(dialect: Dialect, name: &str, description: &'static str, steps: Vec<Step>) -> Scenario {
    let mut all = vec![Step::WaitFor("session_created")];
    all.extend(steps);
    Scenario {
        cassette: format!("openai/{}-{name}", short(dialect)),
        dialect,
        model: model_for(dialect),
        description,
        steps: all,
    }
}

/// A text turn answered in audio (the SDK harness's `text` scenario).
pub fn text_turn(dialect: Dialect) -> Scenario {
    scenario(
        dialect,
        "text-turn",
        "user text, spoken answer with transcript",
        vec![
            Step::Send(ClientInput::Session(base_session())),
            Step::WaitFor("session_updated"),
            say("Say hello to the Understudy conformance test."),
            respond(),
            Step::WaitFor("response_done"),
        ],
    )
}

/// Real speech with server VAD (the SDK harness's `audio` scenario).
pub fn audio_vad_turn(dialect: Dialect) -> Scenario {
    scenario(
        dialect,
        "audio-vad-turn",
        "spoken question detected by server VAD, spoken answer",
        vec![
            Step::Send(ClientInput::Session(vad_session(dialect))),
            Step::WaitFor("session_updated"),
            Step::Audio {
                wav: "user-weather-24k.wav",
                chunk_ms: 100,
                trailing_silence_ms: 1000,
            },
            Step::WaitFor("response_done"),
        ],
    )
}

/// A function call and its result (the SDK harness's `tool` scenario).
pub fn tool_round_trip(dialect: Dialect) -> Scenario {
    let session = SessionConfig {
        tools: vec![weather_tool()],
        tool_choice: Some(ToolChoice::Auto),
        ..base_session()
    };
    scenario(
        dialect,
        "tool-round-trip",
        "function call, tool result, spoken follow-up",
        vec![
            Step::Send(ClientInput::Session(session)),
            Step::WaitFor("session_updated"),
            say("What is the weather in Paris?"),
            respond(),
            Step::WaitFor("response_done"),
            Step::AnswerLastToolCall {
                output: r#"{"temperature_c":18,"sky":"clear"}"#,
            },
            respond(),
            Step::WaitFor("response_done"),
        ],
    )
}

/// The user talks over the answer: the response ends `cancelled`, the client
/// truncates to what it heard, and the new turn is answered.
pub fn barge_in(dialect: Dialect) -> Scenario {
    scenario(
        dialect,
        "barge-in",
        "speech during a response cancels it; truncate; new turn answered",
        vec![
            Step::Send(ClientInput::Session(vad_session(dialect))),
            Step::WaitFor("session_updated"),
            say("Tell me a long story about the sea and the ships that sail on it."),
            respond(),
            Step::WaitFor("audio_delta"),
            Step::Audio {
                wav: "user-interrupt-24k.wav",
                chunk_ms: 100,
                trailing_silence_ms: 1000,
            },
            Step::WaitFor("interrupted"),
            Step::TruncateInterrupted,
            Step::WaitFor("truncated"),
            Step::WaitFor("response_done"),
            Step::WaitFor("response_done"),
        ],
    )
}

/// Malformed client events get `error` events and the session stays usable.
pub fn malformed_event(dialect: Dialect) -> Scenario {
    scenario(
        dialect,
        "malformed-event",
        "malformed events answered by error; the session goes on",
        vec![
            Step::Send(ClientInput::Session(base_session())),
            Step::WaitFor("session_updated"),
            Step::Raw(r#"{"event_id":"evt_bad_1","audio":"AAAA"}"#),
            Step::WaitFor("error"),
            Step::Raw(
                r#"{"type":"input_audio_buffer.append","event_id":"evt_bad_2","audio":"not base64!"}"#,
            ),
            Step::WaitFor("error"),
            say("Are you still there?"),
            respond(),
            Step::WaitFor("response_done"),
        ],
    )
}

/// Every bundled OpenAI scenario.
pub fn openai_scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    for dialect in [Dialect::Ga, Dialect::Beta] {
        all.push(text_turn(dialect));
        all.push(audio_vad_turn(dialect));
        all.push(tool_round_trip(dialect));
    }
    all.push(barge_in(Dialect::Ga));
    all.push(malformed_event(Dialect::Ga));
    all
}
