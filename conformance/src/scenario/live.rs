//! The GPT-Live scenarios (`openai/live-*` cassettes): what an application on
//! OpenAI's `/v1/live/sessions` does, as data.
//!
//! A GPT-Live client differs from a Realtime one in three ways the steps
//! show. It keeps its microphone open: the session timeline advances only
//! with input audio, so every wait is a [`Step::Listen`] that streams
//! silence. It has no user text turn: text goes in as context, the
//! `session.instructions.append` + `session.commentary.append` pattern of the
//! protocol notes (§8), sent as raw frames because the normalised
//! [`ClientInput`] has no append (the adapter's encoder uses appends only for
//! tool results). And its tools are delegated: a `session.delegation.created`
//! reaches the client as a tool call whose result goes back as commentary.

use super::{Scenario, Step, Until, INSTRUCTIONS};
use understudy_adapters::registry::table::OPENAI_LIVE;
use understudy_adapters::{AudioFormat, ClientInput, SessionConfig};

/// The GPT-Live model the scenarios ask for.
pub const LIVE_MODEL: &str = "gpt-live-1";

/// What the text turn's user typed, placed as developer instructions.
pub const TYPED_INSTRUCTIONS: &str = r#"{"type":"session.instructions.append","event_id":"understudy_text_1","content":"The user typed: \"Say hello to the Understudy conformance test.\" Answer the user's last message now.","delegation_id":null}"#;

/// What the text turn asks the model to say, once the instructions are placed.
pub const TYPED_COMMENTARY: &str = r#"{"type":"session.commentary.append","event_id":"understudy_text_2","content":"Hello, Understudy conformance test!","delegation_id":null}"#;

/// The words [`TYPED_COMMENTARY`] carries.
pub const TYPED_ANSWER: &str = "Hello, Understudy conformance test!";

/// The result the application gives for the delegated order question.
pub const ORDER_RESULT: &str = "Order A17 shipped yesterday.";

/// A `session.update` naming a field GPT-Live's update does not have
/// (`voice` is fixed at `session.start`): refused with `unknown_parameter`.
pub const UNKNOWN_UPDATE_FIELD: &str =
    r#"{"type":"session.update","event_id":"evt_bad_1","session":{"voice":"cedar"}}"#;

/// A `response.item.create` on a client-delegation session: only a Responses
/// backend takes it, so the service refuses it.
pub const RESPONSE_ITEM_UNDER_CLIENT_DELEGATION: &str = r#"{"type":"response.item.create","event_id":"evt_bad_2","item":{"type":"function_call_output","call_id":"call_1","output":"{}"}}"#;

/// The session every GPT-Live scenario starts: the SDK harness's settings
/// (PCM16 24 kHz both ways, voice `marin`, client delegation by default).
pub fn live_session() -> SessionConfig {
    SessionConfig {
        instructions: Some(INSTRUCTIONS.into()),
        voice: Some("marin".into()),
        input_format: Some(AudioFormat::pcm16(24_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        ..Default::default()
    }
}

/// A scenario that starts the session (`session.start`, then
/// `session.started`) and ends it cleanly (`session.close`, then
/// `session.closed`) around `steps`.
fn live(name: &str, description: &'static str, steps: Vec<Step>) -> Scenario {
    let mut all = vec![
        Step::Send(ClientInput::Session(live_session())),
        Step::WaitFor("session_created"),
    ];
    all.extend(steps);
    all.extend([
        Step::Send(ClientInput::EndSession),
        Step::WaitFor("session_ended"),
    ]);
    Scenario {
        cassette: format!("openai/live-{name}"),
        dialect: &OPENAI_LIVE,
        setup_fault: None,
        connection_limit: None,
        resume: false,
        continued_in: Vec::new(),
        model: LIVE_MODEL,
        description,
        steps: all,
        legacy_beta: false,
    }
}

/// A bundled 24 kHz clip in 100 ms chunks, then `trailing_silence_ms`.
fn speak(wav: &'static str, trailing_silence_ms: u32) -> Step {
    Step::Audio {
        wav,
        chunk_ms: 100,
        trailing_silence_ms,
    }
}

fn listen_for(kind: &'static str) -> Step {
    Step::Listen(Until::Event(kind))
}

/// Typed text, the GPT-Live way: instructions, their acknowledgement, then
/// commentary the model speaks.
pub fn text_turn() -> Scenario {
    live(
        "text-turn",
        "typed text as context: instructions.append, its ack, commentary.append spoken",
        vec![
            Step::Raw(TYPED_INSTRUCTIONS),
            Step::Listen(Until::Frame("session.instructions.appended")),
            Step::Raw(TYPED_COMMENTARY),
            listen_for("response_done"),
        ],
    )
}

/// A spoken question: both transcripts, the reply inferred from the track.
pub fn audio_turn() -> Scenario {
    live(
        "audio-turn",
        "spoken question, input and output transcripts, spoken answer; turns inferred",
        vec![
            speak("user-weather-24k.wav", 600),
            listen_for("response_done"),
        ],
    )
}

/// A delegated task: the delegation arrives as a tool call, the model says
/// its acknowledgement, the work takes a while (the client answers once the
/// acknowledgement is over), the result goes back as commentary for that
/// delegation, and the model speaks it.
pub fn tool_delegation() -> Scenario {
    live(
        "tool-delegation",
        "client delegation: delegation → tool call and spoken acknowledgement → result as commentary → spoken",
        vec![
            speak("user-order-24k.wav", 600),
            listen_for("tool_call"),
            listen_for("response_done"),
            Step::AnswerLastToolCall {
                output: ORDER_RESULT,
            },
            listen_for("delegation_result"),
            listen_for("response_done"),
        ],
    )
}

/// The user talks over the answer: the voice stops, no event says so, and
/// the adapter infers the interruption; the new question is answered.
pub fn barge_in() -> Scenario {
    live(
        "barge-in",
        "speech over the answer: the voice stops (no event), interruption inferred; new turn answered",
        vec![
            speak("user-weather-24k.wav", 600),
            listen_for("audio_delta"),
            speak("user-interrupt-24k.wav", 600),
            listen_for("interrupted"),
            listen_for("response_done"),
            listen_for("response_done"),
        ],
    )
}

/// A turn, a periodic usage report (every 15 s of timeline), then
/// `session.close` → `session.closed` with the final usage.
pub fn close_with_usage() -> Scenario {
    live(
        "close-usage",
        "a turn, a usage report, session.close → session.closed with the final usage",
        vec![
            speak("user-weather-24k.wav", 600),
            listen_for("response_done"),
            listen_for("session_usage"),
        ],
    )
}

/// Refused commands in the service's shape; the session stays usable.
pub fn refused_commands() -> Scenario {
    live(
        "error",
        "an unknown session.update field and response.item.create under client delegation are refused; the session goes on",
        vec![
            Step::Raw(UNKNOWN_UPDATE_FIELD),
            Step::WaitFor("error"),
            Step::Raw(RESPONSE_ITEM_UNDER_CLIENT_DELEGATION),
            Step::WaitFor("error"),
            speak("user-weather-24k.wav", 600),
            listen_for("response_done"),
        ],
    )
}

/// Every bundled GPT-Live scenario.
pub fn live_scenarios() -> Vec<Scenario> {
    vec![
        text_turn(),
        audio_turn(),
        tool_delegation(),
        barge_in(),
        close_with_usage(),
        refused_commands(),
    ]
}
