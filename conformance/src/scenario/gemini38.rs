//! The Gemini 3.8 Live scenarios (`gemini/38-*` cassettes): background
//! (non-blocking) tool calls answered later with each `scheduling`, a
//! blocking call cancelled by new input, and Extended Thinking running from
//! `IN_PROGRESS` to `IDLE`. The typed turns are the ones the official-SDK
//! harness sends (`tests/sdk/gemini_live_38.py`), so those cassettes replay
//! to the unmodified SDK.

use super::{gemini, say, weather_tool, Scenario, Step, INSTRUCTIONS};
use understudy_adapters::{
    ClientInput, SessionConfig, ToolBehavior, ToolResultScheduling, ToolSpec,
};

/// The 3.8 Live model the scenarios ask for.
pub const LIVE_38: &str = "gemini-3.8-live";
/// The Extended Thinking model.
pub const EXTENDED_THINKING: &str = "gemini-3.8-live-extended-thinking";

/// The question that makes the model call the weather tool.
pub const WEATHER_QUESTION: &str = "What's the weather in Paris?";
/// Another request, answered while the call is pending (or that cancels it).
pub const OTHER_REQUEST: &str = "Remember that the code is 42.";
/// The weather tool's result.
pub const WEATHER_RESULT: &str = r#"{"temperature_c":18,"sky":"clear"}"#;

fn session(behavior: Option<ToolBehavior>) -> SessionConfig {
    SessionConfig {
        instructions: Some(INSTRUCTIONS.into()),
        tools: vec![ToolSpec {
            behavior,
            ..weather_tool()
        }],
        ..Default::default()
    }
}

/// A 3.8 scenario: the session set-up (the weather tool declared with
/// `behavior`), then `steps`, on the bundled Gemini scenarios' builder.
fn scenario(
    name: &str,
    model: &'static str,
    description: &'static str,
    behavior: Option<ToolBehavior>,
    steps: Vec<Step>,
) -> Scenario {
    let mut all = vec![
        Step::Send(ClientInput::Session(session(behavior))),
        Step::WaitFor("session_created"),
    ];
    all.extend(steps);
    gemini(name, model, description, all)
}

fn answer(scheduling: ToolResultScheduling) -> Step {
    Step::AnswerLastToolCallScheduled {
        output: WEATHER_RESULT,
        scheduling,
    }
}

/// Every Gemini 3.8 scenario.
pub fn gemini38_scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "38-non-blocking",
            LIVE_38,
            "3.8 Live: a non-blocking call while the model keeps speaking; another question answered while it is pending; the result, WHEN_IDLE, answered after",
            None,
            vec![
                say(WEATHER_QUESTION),
                Step::WaitFor("tool_call_non_blocking"),
                Step::WaitFor("response_done"),
                say(OTHER_REQUEST),
                Step::WaitFor("response_done"),
                answer(ToolResultScheduling::WhenIdle),
                Step::WaitFor("response_done"),
            ],
        ),
        scenario(
            "38-interrupt",
            LIVE_38,
            "3.8 Live: a non-blocking call's result scheduled INTERRUPT cuts the model's filler (interrupted, turnComplete) and is answered at once",
            None,
            vec![
                say(WEATHER_QUESTION),
                Step::WaitFor("tool_call_non_blocking"),
                answer(ToolResultScheduling::Interrupt),
                Step::WaitFor("interrupted"),
                Step::WaitFor("response_done"),
                Step::WaitFor("response_done"),
            ],
        ),
        scenario(
            "38-silent",
            LIVE_38,
            "3.8 Live: a non-blocking call's result scheduled SILENT is taken without a word; the next question is answered",
            None,
            vec![
                say(WEATHER_QUESTION),
                Step::WaitFor("tool_call_non_blocking"),
                Step::WaitFor("response_done"),
                answer(ToolResultScheduling::Silent),
                say(OTHER_REQUEST),
                Step::WaitFor("response_done"),
            ],
        ),
        scenario(
            "38-blocking-cancelled",
            LIVE_38,
            "3.8 Live: a BLOCKING call pauses the turn; new input cancels it without a toolCallCancellation (interrupted, turnComplete) and is answered",
            Some(ToolBehavior::Blocking),
            vec![
                say(WEATHER_QUESTION),
                Step::WaitFor("tool_call"),
                say(OTHER_REQUEST),
                Step::WaitFor("tool_call_cancelled"),
                Step::WaitFor("response_done"),
                Step::WaitFor("response_done"),
            ],
        ),
        scenario(
            "38-extended-thinking",
            EXTENDED_THINKING,
            "3.8 Live Extended Thinking: filler and a call end a segment IN_PROGRESS; after the result the answer ends IDLE",
            None,
            vec![
                say(WEATHER_QUESTION),
                Step::WaitFor("tool_call_non_blocking"),
                Step::WaitFor("interaction_status"),
                Step::AnswerLastToolCall {
                    output: WEATHER_RESULT,
                },
                Step::WaitFor("interaction_status"),
            ],
        ),
    ]
}
