//! Conformance of the speaking pipeline (stage 1): an LLM reply streamed
//! through the content filter, the segmenter where the engine needs it, and
//! each TTS adapter, against the in-process mock's respond engine.
//!
//! For every engine three cases:
//! - `markup-not-spoken`: a reply with a code block, a table, a link and
//!   emphasis is spoken without them (and its prose is spoken, in audio long
//!   enough for it);
//! - `first-sound`: time to first sound (first text delta → first audio chunk)
//!   stays within the mock's own first-audio delay plus [`PIPELINE_BUDGET`];
//! - `cancel`: cancelling mid-utterance ends the audio within [`CANCEL_BUDGET`].

use crate::family::RunOptions;
use crate::grade::{blank, check, conclude, failed_result, ms, CaseResult};
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy_adapters::dashscope::tts::{Mode, QwenTtsRealtime};
use understudy_adapters::tts::gemini_tts::{GeminiMethod, GeminiTts};
use understudy_adapters::tts::openai_speech::{OpenAiSpeech, SpeechFormat, SpeechStreaming};
use understudy_adapters::tts::{TtsEngine, TtsError};
use understudy_agents::Speaker;
use understudy_mock::MockServer;

/// What the pipeline may add to the engine's own first-audio delay.
pub const PIPELINE_BUDGET: Duration = Duration::from_millis(250);
/// How soon after a cancel the audio must end.
pub const CANCEL_BUDGET: Duration = Duration::from_millis(300);
/// Milliseconds of speech the mock makes per character: audio shorter than
/// this share of it means text was lost on the way.
const MIN_MS_PER_CHAR: f64 = 50.0;

/// The reply every case speaks: what assistants really send.
pub const REPLY: &str = "Sure! Here's how to **sort** a list in Python:\n\n```python\nnumbers = [3, 1, 2]\nnumbers.sort()\nprint(numbers)\n```\n\n| Method | In place | Returns |\n|---|---|---|\n| `list.sort()` | yes | None |\n| `sorted()` | no | a new list |\n\nSee [the sorting guide](https://docs.python.org/3/howto/sorting.html) for *more* options.\n";

/// Text that must not be heard, with why.
const NOT_SPOKEN: &[(&str, &str)] = &[
    ("```", "code fence"),
    ("numbers.sort", "code"),
    ("print(", "code"),
    ("|", "table"),
    ("In place", "table cell"),
    ("https://", "URL"),
    ("docs.python.org", "URL"),
    ("**", "emphasis marker"),
    ("`", "inline code marker"),
];

/// Prose that must be heard.
const SPOKEN: &[&str] = &[
    "Sure!",
    "sort a list in Python",
    "the sorting guide",
    "more options",
];

/// A TTS engine under test, built against a running mock.
#[derive(Clone, Copy)]
pub struct TtsTarget {
    /// Id segment (`qwen-realtime.server-commit`).
    pub id: &'static str,
    /// What the engine is.
    pub description: &'static str,
    /// Builds the engine against the mock.
    pub build: fn(&MockServer) -> Result<Arc<dyn TtsEngine>, TtsError>,
}

/// Every TTS engine the suite speaks through.
pub fn targets() -> Vec<TtsTarget> {
    vec![
        TtsTarget {
            id: "qwen-realtime.server-commit",
            description:
                "DashScope Qwen-TTS realtime, server_commit mode (text deltas as they come)",
            build: |server| {
                Ok(Arc::new(
                    QwenTtsRealtime::new(server.dashscope_url())
                        .api_key(KEY)
                        .mode(Mode::ServerCommit),
                ))
            },
        },
        TtsTarget {
            id: "qwen-realtime.commit",
            description: "DashScope Qwen-TTS realtime, commit mode (the speaker segments)",
            build: |server| {
                Ok(Arc::new(
                    QwenTtsRealtime::new(server.dashscope_url())
                        .api_key(KEY)
                        .mode(Mode::Commit),
                ))
            },
        },
        TtsTarget {
            id: "openai-speech.audio",
            description: "OpenAI audio/speech, PCM streamed as the body (one request per unit)",
            build: |server| openai_speech(server, SpeechStreaming::Audio),
        },
        TtsTarget {
            id: "openai-speech.sse",
            description: "OpenAI audio/speech, stream_format=sse (one request per unit)",
            build: |server| openai_speech(server, SpeechStreaming::Sse),
        },
        TtsTarget {
            id: "gemini-tts.stream",
            description: "Gemini TTS, streamGenerateContent (one request per unit)",
            build: |server| gemini_tts(server, GeminiMethod::Stream),
        },
        TtsTarget {
            id: "gemini-tts.generate",
            description: "Gemini TTS, generateContent (one request per unit)",
            build: |server| gemini_tts(server, GeminiMethod::Generate),
        },
    ]
}

/// The key every engine presents to the mock.
const KEY: &str = "understudy-conformance-key";

fn openai_speech(
    server: &MockServer,
    streaming: SpeechStreaming,
) -> Result<Arc<dyn TtsEngine>, TtsError> {
    let engine = OpenAiSpeech::builder()
        .base_url(server.openai_base_url().replacen("ws://", "http://", 1))
        .api_key(KEY)
        .format(SpeechFormat::Pcm)
        .streaming(streaming)
        .build()?;
    Ok(Arc::new(engine))
}

fn gemini_tts(server: &MockServer, method: GeminiMethod) -> Result<Arc<dyn TtsEngine>, TtsError> {
    let engine = GeminiTts::builder()
        .base_url(server.url())
        .api_key(KEY)
        .method(method)
        .build()?;
    Ok(Arc::new(engine))
}

/// The ids of every TTS case, with descriptions.
pub fn case_ids() -> Vec<(String, String)> {
    targets()
        .iter()
        .flat_map(|t| {
            KINDS.map(|(_, kind, what)| {
                (
                    format!("tts.{}.{kind}", t.id),
                    format!("{}: {what}", t.description),
                )
            })
        })
        .collect()
}

/// The reply as an LLM streams it: 4-character deltas, 5 ms apart.
fn streamed(text: &str) -> Vec<(Duration, String)> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(4)
        .map(|c| (Duration::from_millis(5), c.iter().collect()))
        .collect()
}

/// The three kinds of case every engine gets.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Markup,
    FirstSound,
    Cancel,
}

/// Each kind with its id segment and what it checks.
const KINDS: [(Kind, &str, &str); 3] = [
    (
        Kind::Markup,
        "markup-not-spoken",
        "code, tables, links and emphasis are not spoken",
    ),
    (
        Kind::FirstSound,
        "first-sound",
        "time to first sound within the engine's delay plus the pipeline budget",
    ),
    (
        Kind::Cancel,
        "cancel",
        "cancelling mid-utterance stops the audio promptly",
    ),
];

/// One job per TTS case the options select; each starts its own mock, so
/// concurrent cases share no engine, session or timing.
pub fn tts_jobs(options: &RunOptions) -> Vec<crate::schedule::Job<'static>> {
    let speed = options.speed;
    targets()
        .into_iter()
        .flat_map(|target| KINDS.map(|(kind, name, _)| (target, kind, name)))
        .filter_map(|(target, kind, name)| {
            let id = format!("tts.{}.{name}", target.id);
            options.selects(&id).then(|| {
                crate::schedule::Job::new(
                    id.clone(),
                    target.description,
                    run_tts_case(id, target, kind, speed),
                )
            })
        })
        .collect()
}

/// Runs one TTS case against a mock of its own.
async fn run_tts_case(id: String, target: TtsTarget, kind: Kind, speed: f64) -> CaseResult {
    let config = crate::assets::speaking();
    let first_audio = Duration::from_millis(config.first_audio_ms).div_f64(speed.max(1e-6));
    let server = match MockServer::builder()
        .respond(config)
        .speed(speed)
        .start()
        .await
    {
        Ok(server) => server,
        Err(e) => return failed_result(&id, target.description, format!("mock: {e}")),
    };
    let engine = match (target.build)(&server) {
        Ok(engine) => engine,
        Err(e) => {
            return failed_result(
                &id,
                target.description,
                format!("the engine could not be built: {e}"),
            )
        }
    };
    let speaker = Speaker::new(engine);
    match kind {
        Kind::Markup => markup_case(id, &target, &speaker).await,
        Kind::FirstSound => first_sound_case(id, &target, &speaker, first_audio).await,
        Kind::Cancel => cancel_case(id, &target, &speaker).await,
    }
}

/// The `markup-not-spoken` case for `target`, spoken through `speaker`.
pub async fn markup_case(id: String, target: &TtsTarget, speaker: &Speaker) -> CaseResult {
    let started = Instant::now();
    let mut result = blank(id, target.description);
    let spoken = match speaker.speak(streamed(REPLY)).await {
        Ok(spoken) => spoken,
        Err(e) => {
            return failed_result(
                &result.id,
                target.description,
                format!("speaking failed: {e}"),
            )
        }
    };
    let heard: Vec<String> = NOT_SPOKEN
        .iter()
        .filter(|(text, _)| spoken.text.contains(text))
        .map(|(text, why)| format!("`{text}` ({why})"))
        .collect();
    result.checks.push(check(
        "no code, table, URL or markup spoken",
        heard.is_empty(),
        if heard.is_empty() {
            format!("spoken: {:?}", spoken.text)
        } else {
            format!("heard {} in {:?}", heard.join(", "), spoken.text)
        },
    ));
    let lost: Vec<&str> = SPOKEN
        .iter()
        .copied()
        .filter(|text| !spoken.text.contains(text))
        .collect();
    result.checks.push(check(
        "the prose is spoken",
        lost.is_empty(),
        format!("missing: {lost:?}"),
    ));
    let rate = spoken
        .audio
        .first()
        .map_or(24_000, |c| c.format.sample_rate);
    let audio_ms = spoken.audio_bytes() as f64 / 2.0 / f64::from(rate) * 1000.0;
    let least = spoken.text.trim().chars().count() as f64 * MIN_MS_PER_CHAR;
    result.checks.push(check(
        "audio long enough for the spoken text",
        audio_ms >= least,
        format!(
            "{audio_ms:.0} ms of audio for {} characters",
            spoken.text.trim().chars().count()
        ),
    ));
    result.time_to_first_sound_ms = spoken.time_to_first_sound.map(ms);
    conclude(result, started)
}

async fn first_sound_case(
    id: String,
    target: &TtsTarget,
    speaker: &Speaker,
    engine_delay: Duration,
) -> CaseResult {
    let started = Instant::now();
    let mut result = blank(id, target.description);
    let spoken = match speaker.speak(streamed(REPLY)).await {
        Ok(spoken) => spoken,
        Err(e) => {
            return failed_result(
                &result.id,
                target.description,
                format!("speaking failed: {e}"),
            )
        }
    };
    let budget = engine_delay + PIPELINE_BUDGET;
    match spoken.time_to_first_sound {
        Some(ttfs) => result.checks.push(check(
            "time to first sound within budget",
            ttfs <= budget,
            format!(
                "{:.1} ms; budget {:.1} ms (engine's first-audio delay {:.1} ms + pipeline {:.0} ms)",
                ms(ttfs),
                ms(budget),
                ms(engine_delay),
                ms(PIPELINE_BUDGET)
            ),
        )),
        None => result.checks.push(check(
            "time to first sound within budget",
            false,
            "no audio arrived".into(),
        )),
    }
    result.time_to_first_sound_ms = spoken.time_to_first_sound.map(ms);
    conclude(result, started)
}

async fn cancel_case(id: String, target: &TtsTarget, speaker: &Speaker) -> CaseResult {
    let started = Instant::now();
    let mut result = blank(id, target.description);
    let outcome = async {
        let mut turn = speaker.open().await.map_err(|e| e.to_string())?;
        // Sentences long enough that the audio lasts seconds.
        for sentence in [
            "This is a long first sentence that takes a few seconds to speak aloud. ",
            "Here is a second sentence, just as long, so there is more to cancel. ",
        ] {
            turn.text.push(sentence).map_err(|e| e.to_string())?;
        }
        turn.text.finish().map_err(|e| e.to_string())?;
        match tokio::time::timeout(Duration::from_secs(10), turn.audio.next_chunk()).await {
            Ok(Some(Ok(_))) => {}
            other => return Err(format!("no first audio chunk: {other:?}")),
        }
        let cancelled = Instant::now();
        turn.text.cancel().map_err(|e| e.to_string())?;
        let mut after = 0usize;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), turn.audio.next_chunk()).await {
                Ok(Some(Ok(chunk))) => after += chunk.pcm.len(),
                Ok(Some(Err(e))) => return Err(format!("error after cancel: {e}")),
                Ok(None) => break,
                Err(_) => return Err("the audio never ended".into()),
            }
        }
        Ok((cancelled.elapsed(), after))
    }
    .await;
    match outcome {
        Ok((stopped, after)) => {
            result.checks.push(check(
                "audio ends promptly after cancel",
                stopped <= CANCEL_BUDGET,
                format!(
                    "ended {:.1} ms after cancel (budget {:.0} ms), {after} bytes after it",
                    ms(stopped),
                    ms(CANCEL_BUDGET)
                ),
            ));
        }
        Err(reason) => result
            .checks
            .push(check("audio ends promptly after cancel", false, reason)),
    }
    conclude(result, started)
}
