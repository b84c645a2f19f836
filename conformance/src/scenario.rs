//! Scenarios: the client side of a conversation, as data.
//!
//! A scenario is what a client does (configure, speak, type, wait, answer a
//! tool) independent of who answers. The same scenario synthesizes a bundled
//! cassette against the respond engine and later drives the adapter against
//! the replay of that cassette; the session settings mirror the official-SDK
//! harness (`tests/sdk/openai_realtime_turn.py`) so those cassettes also replay
//! to the unmodified SDK.

pub mod gemini38;
pub mod live;
pub mod omni38;
pub mod qwen_audio;

use serde_json::json;
use std::time::Duration;
use understudy_adapters::openai::Dialect;
use understudy_adapters::registry::table::{DASHSCOPE_OMNI, GEMINI_LIVE};
use understudy_adapters::{
    AudioFormat, Capabilities, ClientInput, DialectSpec, Modality, Pcm, ResponseOptions,
    SessionConfig, ToolChoice, ToolResultScheduling, ToolSpec, TurnDetection,
};
use understudy_mock::SetupFault;

/// The camera frame the image scenario sends (see `conformance/assets/README.md`).
pub const FRAME_JPEG: &[u8] = include_bytes!("../assets/frame-64x48.jpg");

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
    /// Answer the most recent tool call with this output, saying when the
    /// model should voice it (a background call's `scheduling`).
    AnswerLastToolCallScheduled {
        /// The tool's result.
        output: &'static str,
        /// When the model voices it.
        scheduling: ToolResultScheduling,
    },
    /// Truncate the last interrupted response's audio item to the audio received.
    TruncateInterrupted,
    /// Keep the microphone open: stream silence while waiting for what
    /// `Until` names. GPT-Live's session timeline advances only with input
    /// audio — transcripts, replies and acknowledgements are released as the
    /// input reaches them — so its clients stream continuously, silence
    /// included; a plain [`Step::WaitFor`] would wait for ever. The silence
    /// is paced like a microphone when synthesizing and as fast as the
    /// replay answers otherwise (see [`Pacing`](crate::drive::Pacing)).
    Listen(Until),
}

/// What a [`Step::Listen`] streams silence until.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// The next normalised event of this kind (counted with the
    /// [`Step::WaitFor`]s of the same kind).
    Event(&'static str),
    /// The next server frame whose `type` is this: a provider
    /// acknowledgement the adapter reports as no event (GPT-Live's
    /// `session.instructions.appended`), which an application waits for
    /// before its next command.
    Frame(&'static str),
}

/// A named client script for one dialect.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Cassette name it synthesizes (`openai/ga-text-turn`).
    pub cassette: String,
    /// The dialect it speaks (a registry entry, which names the provider).
    pub dialect: &'static DialectSpec,
    /// A set-up fault the mock must inject when synthesizing (DashScope).
    pub setup_fault: Option<SetupFault>,
    /// Connection lifetime the respond engine enforces when synthesizing
    /// (Gemini: `goAway` before it, then a close).
    pub connection_limit: Option<Duration>,
    /// Drive the session through the adapter's resuming session, which moves
    /// to a new connection with its resumption handle on `goAway` or a drop,
    /// instead of one plain connection.
    pub resume: bool,
    /// The cassettes of the session's later connections, in order (a resumed
    /// session is a new connection on the wire, recorded as a cassette of its
    /// own); the first connection's is [`Scenario::cassette`].
    pub continued_in: Vec<String>,
    /// Model it asks for.
    pub model: &'static str,
    /// What it exercises.
    pub description: &'static str,
    /// The steps.
    pub steps: Vec<Step>,
    /// Run the mock with the retired OpenAI Realtime beta served as it was
    /// (`serve --legacy-beta`): the beta scenarios replay (and synthesize)
    /// cassettes of the old dialect on purpose. Today's service refuses a beta
    /// session; [`beta_retired`] checks that refusal.
    pub legacy_beta: bool,
}

impl Scenario {
    /// What its dialect supports for its model (a dialect the registry gives
    /// no session capabilities declares none).
    pub fn capabilities(&self) -> Capabilities {
        self.dialect
            .capabilities(self.model)
            .unwrap_or_else(|| Capabilities::none(self.dialect.id))
    }
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
        behavior: None,
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
        // Transcribe the user, as DashScope does by default, so spoken turns
        // compare across providers.
        input_transcription: Some("gpt-4o-mini-transcribe".into()),
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
        dialect: dialect.spec(),
        setup_fault: None,
        connection_limit: None,
        resume: false,
        continued_in: Vec::new(),
        model: model_for(dialect),
        description,
        steps: all,
        legacy_beta: dialect == Dialect::Beta,
    }
}

/// A beta-shaped session against today's service: refused with an `error`
/// (`beta_api_shape_disabled`) as the first frame and close 4000, no
/// `session.created`. Its cassette is the beta text turn, which the refusal
/// never reaches.
pub fn beta_retired() -> Scenario {
    Scenario {
        cassette: "openai/beta-text-turn".into(),
        dialect: Dialect::Beta.spec(),
        setup_fault: None,
        connection_limit: None,
        resume: false,
        continued_in: Vec::new(),
        model: model_for(Dialect::Beta),
        description: "a beta-shaped session is refused as the retired beta is now",
        steps: vec![Step::WaitFor("error"), Step::WaitFor("session_ended")],
        legacy_beta: false,
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

/// A spoken question that names a tool: function call, result, spoken answer.
pub fn spoken_tool_round_trip(dialect: Dialect) -> Scenario {
    let session = SessionConfig {
        tools: vec![weather_tool()],
        tool_choice: Some(ToolChoice::Auto),
        ..vad_session(dialect)
    };
    scenario(
        dialect,
        "spoken-tool-round-trip",
        "spoken question calls a tool; result; spoken answer",
        vec![
            Step::Send(ClientInput::Session(session)),
            Step::WaitFor("session_updated"),
            Step::Audio {
                wav: "user-weather-24k.wav",
                chunk_ms: 100,
                trailing_silence_ms: 1000,
            },
            Step::WaitFor("response_done"),
            Step::AnswerLastToolCall {
                output: r#"{"temperature_c":18,"sky":"clear"}"#,
            },
            respond(),
            Step::WaitFor("response_done"),
        ],
    )
}

/// The DashScope models the scenarios use: flash for most, the 3.5 family
/// (which has function calling) for tools.
pub const DASHSCOPE_FLASH: &str = "qwen3-omni-flash-realtime";
/// The DashScope model with function calling.
pub const DASHSCOPE_PLUS: &str = "qwen3.5-omni-plus-realtime";

fn dashscope(
    name: &str,
    model: &'static str,
    description: &'static str,
    steps: Vec<Step>,
) -> Scenario {
    let mut all = vec![Step::WaitFor("session_created")];
    all.extend(steps);
    Scenario {
        cassette: format!("dashscope/{name}"),
        dialect: &DASHSCOPE_OMNI,
        setup_fault: None,
        connection_limit: None,
        resume: false,
        continued_in: Vec::new(),
        model,
        description,
        steps: all,
        legacy_beta: false,
    }
}

fn dashscope_session(turns: TurnDetection) -> SessionConfig {
    SessionConfig {
        instructions: Some(INSTRUCTIONS.into()),
        output_modalities: Some(vec![Modality::Audio]),
        voice: Some("Cherry".into()),
        input_format: Some(AudioFormat::pcm16(16_000)),
        output_format: Some(AudioFormat::pcm16(24_000)),
        turn_detection: Some(turns),
        ..Default::default()
    }
}

/// Server VAD with the same tuning as the OpenAI scenarios, so the same
/// speech commits the same audio on both providers.
fn dashscope_vad() -> TurnDetection {
    TurnDetection::ServerVad {
        threshold: Some(0.5),
        prefix_padding_ms: Some(300),
        silence_duration_ms: Some(500),
        create_response: None,
        interrupt_response: None,
    }
}

fn finish() -> [Step; 2] {
    [
        Step::Send(ClientInput::EndSession),
        Step::WaitFor("session_ended"),
    ]
}

/// Every bundled DashScope scenario.
pub fn dashscope_scenarios() -> Vec<Scenario> {
    let vad = || Step::Send(ClientInput::Session(dashscope_session(dashscope_vad())));
    let manual = || {
        Step::Send(ClientInput::Session(dashscope_session(
            TurnDetection::Manual,
        )))
    };
    let weather = || Step::Audio {
        wav: "user-weather-16k.wav",
        chunk_ms: 100,
        trailing_silence_ms: 1200,
    };
    let mut tools = dashscope_session(dashscope_vad());
    tools.tools = vec![weather_tool()];
    tools.tool_choice = Some(ToolChoice::Auto);
    let mut setup_error = dashscope(
        "setup-error",
        DASHSCOPE_FLASH,
        "session.update answered by an error, never by session.updated",
        vec![manual(), Step::WaitFor("error")],
    );
    setup_error.setup_fault = Some(SetupFault::Error);
    vec![
        dashscope(
            "vad-turn",
            DASHSCOPE_FLASH,
            "spoken question heard by server VAD, transcribed, answered in text and audio",
            vec![
                vad(),
                Step::WaitFor("session_updated"),
                weather(),
                Step::WaitFor("response_done"),
                finish()[0].clone(),
                finish()[1].clone(),
            ],
        ),
        dashscope(
            "manual-turn",
            DASHSCOPE_FLASH,
            "push-to-talk: audio, commit, response.create",
            vec![
                manual(),
                Step::WaitFor("session_updated"),
                Step::Audio {
                    wav: "user-order-16k.wav",
                    chunk_ms: 100,
                    trailing_silence_ms: 200,
                },
                Step::Send(ClientInput::CommitAudio),
                respond(),
                Step::WaitFor("response_done"),
                finish()[0].clone(),
                finish()[1].clone(),
            ],
        ),
        dashscope(
            "barge-in",
            DASHSCOPE_FLASH,
            "speech during a response interrupts it; the new turn is answered",
            vec![
                vad(),
                Step::WaitFor("session_updated"),
                // Just past the VAD's 500 ms silence window, so the user starts
                // talking again while the answer is still playing.
                Step::Audio {
                    wav: "user-weather-16k.wav",
                    chunk_ms: 100,
                    trailing_silence_ms: 600,
                },
                Step::WaitFor("audio_delta"),
                Step::Audio {
                    wav: "user-interrupt-16k.wav",
                    chunk_ms: 100,
                    trailing_silence_ms: 1200,
                },
                Step::WaitFor("interrupted"),
                Step::WaitFor("response_done"),
                Step::WaitFor("response_done"),
            ],
        ),
        dashscope(
            "tool-round-trip",
            DASHSCOPE_PLUS,
            "spoken question calls a tool (3.5 family); result; spoken answer",
            vec![
                Step::Send(ClientInput::Session(tools)),
                Step::WaitFor("session_updated"),
                weather(),
                Step::WaitFor("response_done"),
                Step::AnswerLastToolCall {
                    output: r#"{"temperature_c":18,"sky":"clear"}"#,
                },
                respond(),
                Step::WaitFor("response_done"),
            ],
        ),
        dashscope(
            "image-question",
            DASHSCOPE_FLASH,
            "a camera frame with a spoken question",
            vec![
                manual(),
                Step::WaitFor("session_updated"),
                weather(),
                Step::Send(ClientInput::Image {
                    mime_type: "image/jpeg".into(),
                    data: Pcm(FRAME_JPEG.to_vec()),
                }),
                Step::Send(ClientInput::CommitAudio),
                respond(),
                Step::WaitFor("response_done"),
            ],
        ),
        setup_error,
        dashscope(
            "session-finish",
            DASHSCOPE_FLASH,
            "session.finish answered by session.finished, then the server closes",
            vec![
                manual(),
                Step::WaitFor("session_updated"),
                finish()[0].clone(),
                finish()[1].clone(),
            ],
        ),
    ]
}

/// The Gemini Live model the scenarios use.
pub const GEMINI_MODEL: &str = "gemini-live-2.5-flash-preview";

fn gemini(
    name: &str,
    model: &'static str,
    description: &'static str,
    steps: Vec<Step>,
) -> Scenario {
    Scenario {
        cassette: format!("gemini/{name}"),
        dialect: &GEMINI_LIVE,
        setup_fault: None,
        connection_limit: None,
        resume: false,
        continued_in: Vec::new(),
        model,
        description,
        steps,
        legacy_beta: false,
    }
}

fn gemini_session(tools: bool) -> SessionConfig {
    SessionConfig {
        instructions: Some(INSTRUCTIONS.into()),
        input_transcription: Some("default".into()),
        turn_detection: Some(TurnDetection::ServerVad {
            threshold: None,
            prefix_padding_ms: None,
            silence_duration_ms: Some(500),
            create_response: None,
            interrupt_response: None,
        }),
        tools: if tools { vec![weather_tool()] } else { vec![] },
        ..Default::default()
    }
}

/// Every bundled Gemini scenario. Gemini speaks second: `setup` first, then
/// `setupComplete`.
pub fn gemini_scenarios() -> Vec<Scenario> {
    let setup = |tools| {
        [
            Step::Send(ClientInput::Session(gemini_session(tools))),
            Step::WaitFor("session_created"),
        ]
    };
    let weather = || Step::Audio {
        wav: "user-weather-16k.wav",
        chunk_ms: 100,
        trailing_silence_ms: 1000,
    };
    let interrupt = || Step::Audio {
        wav: "user-interrupt-16k.wav",
        chunk_ms: 100,
        trailing_silence_ms: 1000,
    };
    let with =
        |first: [Step; 2], rest: Vec<Step>| first.into_iter().chain(rest).collect::<Vec<_>>();
    vec![
        gemini(
            "audio-turn",
            GEMINI_MODEL,
            "spoken question with input and output transcriptions, spoken answer",
            with(
                setup(false),
                vec![
                    weather(),
                    Step::WaitFor("response_done"),
                    Step::WaitFor("resumption_handle"),
                    Step::WaitFor("resumption_handle"),
                ],
            ),
        ),
        gemini(
            "text-turn",
            GEMINI_MODEL,
            "a clientContent text turn answered in speech",
            with(
                setup(false),
                vec![
                    say("Say hello to the Understudy conformance test."),
                    Step::WaitFor("response_done"),
                ],
            ),
        ),
        gemini(
            "tool-round-trip",
            GEMINI_MODEL,
            "a spoken question calls a tool; toolResponse; spoken answer",
            with(
                setup(true),
                vec![
                    weather(),
                    Step::WaitFor("tool_call"),
                    Step::AnswerLastToolCall {
                        output: r#"{"temperature_c":18,"sky":"clear"}"#,
                    },
                    Step::WaitFor("response_done"),
                ],
            ),
        ),
        gemini(
            "tool-cancelled",
            GEMINI_MODEL,
            "the user speaks while a tool call is pending: toolCallCancellation, interrupted",
            with(
                setup(true),
                vec![
                    weather(),
                    Step::WaitFor("tool_call"),
                    interrupt(),
                    Step::WaitFor("tool_call_cancelled"),
                    Step::WaitFor("response_done"),
                    Step::WaitFor("response_done"),
                ],
            ),
        ),
        gemini(
            "interrupted",
            GEMINI_MODEL,
            "speech during an answer: interrupted then turnComplete; the new turn is answered",
            with(
                setup(false),
                vec![
                    say("Tell me a long story about the sea and the ships that sail on it."),
                    Step::WaitFor("audio_delta"),
                    interrupt(),
                    Step::WaitFor("interrupted"),
                    Step::WaitFor("response_done"),
                    Step::WaitFor("response_done"),
                ],
            ),
        ),
        go_away_resumed(),
        gemini(
            "error-close",
            "imagen-3.0-generate",
            "an unsupported model: close 1008 with the reason",
            vec![
                Step::Send(ClientInput::Session(SessionConfig::default())),
                Step::WaitFor("session_ended"),
            ],
        ),
    ]
}

/// The connection lifetime the `goAway` scenario is synthesized with: long
/// enough for the first turn, short enough to keep the case quick.
pub const GO_AWAY_CONNECTION_LIMIT: Duration = Duration::from_secs(8);

/// A conversation that crosses a `goAway`: the first connection answers one
/// turn and announces its end; the client resumes with its newest handle on a
/// second connection, where the next turns are answered. Driven through the
/// adapter's resuming session; a client that sends its next turn to the
/// connection that is going away loses it.
fn go_away_resumed() -> Scenario {
    let mut scenario = gemini(
        "go-away",
        GEMINI_MODEL,
        "goAway mid-conversation: the client resumes with its handle on a new connection and no turn is lost",
        vec![
            Step::Send(ClientInput::Session(gemini_session(false))),
            Step::WaitFor("session_created"),
            say("Remember forty-two."),
            Step::WaitFor("response_done"),
            Step::WaitFor("go_away"),
            say("Which number?"),
            Step::WaitFor("response_done"),
            say("Thanks."),
            Step::WaitFor("response_done"),
        ],
    );
    scenario.resume = true;
    scenario.connection_limit = Some(GO_AWAY_CONNECTION_LIMIT);
    scenario.continued_in = vec!["gemini/go-away-resumed".into()];
    scenario
}

/// Every bundled scenario: OpenAI (Realtime, then GPT-Live), DashScope, Gemini.
pub fn all_scenarios() -> Vec<Scenario> {
    let mut all = openai_scenarios();
    all.extend(live::live_scenarios());
    all.extend(dashscope_scenarios());
    all.extend(omni38::v38_scenarios());
    all.extend(qwen_audio::qwen_audio_scenarios());
    all.extend(gemini_scenarios());
    all.extend(gemini38::gemini38_scenarios());
    all
}

/// Every bundled OpenAI scenario.
pub fn openai_scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    for dialect in [Dialect::Ga, Dialect::Beta] {
        all.push(text_turn(dialect));
        all.push(audio_vad_turn(dialect));
        all.push(tool_round_trip(dialect));
    }
    all.push(spoken_tool_round_trip(Dialect::Ga));
    all.push(barge_in(Dialect::Ga));
    all.push(malformed_event(Dialect::Ga));
    all
}
