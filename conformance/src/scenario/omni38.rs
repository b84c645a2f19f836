//! The qwen3.8-omni scenarios (`dashscope/v38-*` cassettes): the DashScope
//! cases re-run where the 3.8 family behaves differently — its session goes
//! out in the SDK's nested shape (the encoder picks it from the model's row),
//! its tool result goes back only as a `function_call_output` item followed
//! by `response.create`, and its `session.finish` is closed on without
//! `session.finished`. The same cassettes replay to the official SDK's v2
//! client (`tests/sdk/dashscope_omni38.py`).

use super::{dashscope, dashscope_session, dashscope_vad, finish, respond, weather_tool, Scenario};
use super::{Step, INSTRUCTIONS};
use understudy_adapters::{ClientInput, ToolChoice, TurnDetection};

/// The qwen3.8-omni model the scenarios ask for.
pub const DASHSCOPE_V38: &str = "qwen3.8-omni-flash-realtime";

/// The voice the 3.8 scenarios ask for (Cherry fails on 3.8).
pub const V38_VOICE: &str = "Tina";

/// The tool result the 3.8 round trip returns.
pub const V38_TOOL_RESULT: &str = r#"{"temperature_c":18,"sky":"clear"}"#;

/// Every qwen3.8-omni scenario.
pub fn v38_scenarios() -> Vec<Scenario> {
    let mut tools = dashscope_session(dashscope_vad());
    tools.voice = Some(V38_VOICE.into());
    tools.tools = vec![weather_tool()];
    tools.tool_choice = Some(ToolChoice::Auto);
    let mut manual = dashscope_session(TurnDetection::Manual);
    manual.voice = Some(V38_VOICE.into());
    debug_assert_eq!(manual.instructions.as_deref(), Some(INSTRUCTIONS));
    vec![
        dashscope(
            "v38-tool-round-trip",
            DASHSCOPE_V38,
            "qwen3.8: nested session; a spoken question calls a tool; the result as a function_call_output item, then response.create; spoken answer; session.finish closed on without session.finished",
            vec![
                Step::Send(ClientInput::Session(tools)),
                Step::WaitFor("session_updated"),
                Step::Audio {
                    wav: "user-weather-16k.wav",
                    chunk_ms: 100,
                    trailing_silence_ms: 1200,
                },
                Step::WaitFor("response_done"),
                Step::AnswerLastToolCall {
                    output: V38_TOOL_RESULT,
                },
                respond(),
                Step::WaitFor("response_done"),
                finish()[0].clone(),
                finish()[1].clone(),
            ],
        ),
        dashscope(
            "v38-session-finish",
            DASHSCOPE_V38,
            "qwen3.8: session.finish is closed on without session.finished",
            vec![
                Step::Send(ClientInput::Session(manual)),
                Step::WaitFor("session_updated"),
                finish()[0].clone(),
                finish()[1].clone(),
            ],
        ),
    ]
}
