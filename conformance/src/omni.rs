//! Conformance of the chat-completion agents: the stage-2 omni agent, whose
//! model answers in audio, on each chat dialect, and the stage-1 agent, whose
//! model's text is spoken by a TTS engine — against the in-process mock.
//!
//! Each case holds a two-turn conversation and checks that every turn is
//! heard (audio long enough for what was said), that the conversation is
//! kept the way the dialect keeps it, and that the first audio arrives within
//! the mock's own first-token delay plus [`PIPELINE_BUDGET`].

use crate::family::RunOptions;
use crate::grade::{blank, check, conclude, failed_result, ms, CaseResult};
use crate::schedule::Job;
use crate::tts::PIPELINE_BUDGET;
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy_adapters::chat::ChatClient;
use understudy_adapters::dashscope::tts::QwenTtsRealtime;
use understudy_agents::{AgentError, OmniChatAgent, Speaker, TextVoiceAgent, VoiceReply};
use understudy_mock::MockServer;

/// Milliseconds of audio the mock makes per character, at least.
const MIN_MS_PER_CHAR: f64 = 50.0;
const TURNS: [&str; 2] = [
    "Tell me something about the sea.",
    "And about the mountains?",
];

/// An agent under test.
struct Target {
    id: &'static str,
    description: &'static str,
}

const TARGETS: &[Target] = &[
    Target {
        id: "omni.openai.audio-reply",
        description: "stage 2: an OpenAI audio chat model answers two turns in audio (history by audio id)",
    },
    Target {
        id: "omni.dashscope.audio-reply",
        description: "stage 2: a Qwen-Omni model in DashScope's compatible mode answers two turns in audio (history by transcript)",
    },
    Target {
        id: "stage1.text-voice.reply",
        description: "stage 1: a chat model's text stream spoken through the filter and Qwen-TTS realtime, two turns",
    },
];

/// The ids of every chat-agent case, with descriptions.
pub fn case_ids() -> Vec<(String, String)> {
    TARGETS
        .iter()
        .map(|t| (t.id.to_owned(), t.description.to_owned()))
        .collect()
}

fn client(base_url: String) -> Result<ChatClient, String> {
    ChatClient::builder()
        .base_url(base_url)
        .api_key("understudy-conformance-key")
        .build()
        .map_err(|e| e.to_string())
}

/// One job per chat-agent case the options select; each starts its own mock.
pub fn agent_jobs(options: &RunOptions) -> Vec<Job<'static>> {
    let speed = options.speed;
    TARGETS
        .iter()
        .filter(|t| options.selects(t.id))
        .map(|target| Job::new(target.id, target.description, run_agent_case(target, speed)))
        .collect()
}

/// Runs one chat-agent case against a mock of its own.
async fn run_agent_case(target: &'static Target, speed: f64) -> CaseResult {
    let started = Instant::now();
    let config = crate::assets::speaking();
    let first_token = Duration::from_millis(config.first_audio_ms).div_f64(speed.max(1e-6));
    let server = match MockServer::builder()
        .respond(config)
        .speed(speed)
        .start()
        .await
    {
        Ok(server) => server,
        Err(e) => return failed_result(target.id, target.description, format!("mock: {e}")),
    };
    let replies = converse(target.id, &server).await;
    let mut result = blank(target.id.to_owned(), target.description);
    match replies {
        Ok(replies) => grade(&mut result, &replies, first_token),
        Err(problem) => {
            result = failed_result(target.id, target.description, problem);
        }
    }
    conclude(result, started)
}

/// Holds the two-turn conversation with the agent `id` names.
async fn converse(id: &str, server: &MockServer) -> Result<Vec<VoiceReply>, String> {
    let openai = format!("{}/v1", server.url());
    let dashscope = format!("{}/compatible-mode/v1", server.url());
    let instructions = "You are a terse assistant used by the Understudy conformance test.";
    let mut replies = Vec::new();
    let problem = |e: AgentError| e.to_string();
    match id {
        "omni.openai.audio-reply" | "omni.dashscope.audio-reply" => {
            let (base, model) = if id.contains("openai") {
                (openai, "gpt-4o-audio-preview")
            } else {
                (dashscope, "qwen3-omni-flash")
            };
            let mut agent = OmniChatAgent::new(client(base)?, model, "alloy", instructions);
            for turn in TURNS {
                replies.push(agent.reply(turn).await.map_err(problem)?);
            }
            let remembered = agent
                .history()
                .iter()
                .filter(|m| m.role.as_str() == "assistant")
                .count();
            if remembered != TURNS.len() {
                return Err(format!("{remembered} answers kept in the conversation"));
            }
        }
        _ => {
            let tts = Arc::new(
                QwenTtsRealtime::new(server.dashscope_url()).api_key("understudy-conformance-key"),
            );
            let mut agent = TextVoiceAgent::new(
                client(openai)?,
                "gpt-4o-mini",
                Speaker::new(tts),
                instructions,
            );
            for turn in TURNS {
                replies.push(agent.reply(turn).await.map_err(problem)?);
            }
        }
    }
    Ok(replies)
}

fn grade(result: &mut CaseResult, replies: &[VoiceReply], first_token: Duration) {
    for (n, reply) in replies.iter().enumerate() {
        let rate = reply.audio.first().map_or(24_000, |c| c.format.sample_rate);
        let audio_ms = reply.audio_bytes() as f64 / 2.0 / f64::from(rate) * 1000.0;
        let chars = reply.spoken.trim().chars().count();
        result.checks.push(check(
            &format!("turn {} heard", n + 1),
            chars > 0 && audio_ms >= chars as f64 * MIN_MS_PER_CHAR,
            format!(
                "{audio_ms:.0} ms of audio for {chars} characters: {:?}",
                reply.spoken
            ),
        ));
    }
    // Stage 1 waits for two models in a row: the chat model's first token,
    // then the TTS engine's first audio (the mock uses one delay for both).
    let stage_one = replies.iter().any(|r| r.time_to_first_sound.is_some());
    let models = if stage_one { 2 } else { 1 };
    let budget = first_token * models + PIPELINE_BUDGET;
    let first = replies.first().and_then(|r| r.time_to_first_audio);
    result.checks.push(check(
        "first audio within budget",
        first.is_some_and(|t| t <= budget),
        format!(
            "{:.1} ms; budget {:.1} ms ({models} × the mock's first-token delay {:.1} ms + pipeline {:.0} ms)",
            first.map_or(f64::NAN, ms),
            ms(budget),
            ms(first_token),
            ms(PIPELINE_BUDGET),
        ),
    ));
    result.time_to_first_sound_ms = first.map(ms);
}
