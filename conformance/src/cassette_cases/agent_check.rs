//! Check 4: the session replayed through a [`RealtimeAgent`]: every user
//! turn of the recording is answered once.
//!
//! The agent is fed the recording's own user audio, turn by turn (the client
//! audio in each turn's frames, found by the provider's audio rules), against
//! the replay mock serving the cassette; a turn is answered when the agent
//! reports one `ResponseDone` for it, and none may follow the last turn. The
//! agent's session is configured the way the recording ran: provider voice
//! detection when the recording shows the provider detecting speech, manual
//! commits otherwise.
//!
//! Where the turns do not allow it the check says why instead of running: a
//! dialect with no realtime session; a session that calls tools (the agent
//! would need the recording's tool results); a response that did not finish
//! in the recording (a barge-in); a client frame of a kind the agent, fed
//! only audio, never sends (typed text, an image: the dialect's own codec
//! says which kinds those are); a turn with no user audio; or responses that
//! do not pair one to one with the user turns.

use super::decode_check::Located;
use super::replay_check::replay_mock;
use super::wire::{describe, event_name, frame_body, wire_frame};
use std::time::Duration;
use tokio::time::timeout;
use understudy_adapters::registry::{ConnectOptions, DialectSpec};
use understudy_adapters::{
    ClientInput, ModelEvent, Pcm, ResponseOptions, ResponseStatus, SessionConfig, TurnDetection,
};
use understudy_agents::realtime::{AgentConfig, AgentEvent, RealtimeAgent, ToolRegistry};
use understudy_fixtures::http_audio::json_audio_pcm;
use understudy_fixtures::{split_turns, AudioRules, Cassette, Direction, Frame};
use understudy_mock::EntryKind;

/// How long the agent may take to open its session, and to answer a turn.
const WAIT: Duration = Duration::from_secs(15);
/// How long to listen after the last answer for an answer too many.
const SETTLE: Duration = Duration::from_millis(400);
/// Audio is fed in chunks of this many milliseconds.
const CHUNK_MS: usize = 100;

/// One user turn: its number and the user's audio in it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserTurn {
    /// 1-based turn number.
    pub number: usize,
    /// PCM16 mono.
    pub pcm: Vec<u8>,
    /// Its sample rate.
    pub sample_rate: u32,
}

/// The user turns of `cassette` if the agent can replay them, else why not.
pub fn user_turns(
    cassette: &Cassette,
    dialect: &DialectSpec,
    events: &[Located],
) -> Result<Vec<UserTurn>, String> {
    if events
        .iter()
        .any(|(_, e)| matches!(e, ModelEvent::ToolCall { .. }))
    {
        return Err(
            "the session calls tools: the agent would need the tool results the recording's client sent"
                .into(),
        );
    }
    if let Some((frame, status)) = events.iter().find_map(|(frame, e)| match e {
        ModelEvent::ResponseDone { status, .. } if *status != ResponseStatus::Completed => {
            Some((frame, status))
        }
        _ => None,
    }) {
        let named = cassette
            .frames
            .get(*frame)
            .map_or_else(|| format!("frame {frame}"), |f| describe(*frame, f));
        return Err(format!(
            "{named}: a response ended {status:?} in the recording (a barge-in or a cut): \
             one finished answer per turn is not what it shows"
        ));
    }
    let fed = agent_frame_kinds(dialect, &cassette.header.model);
    let rules = AudioRules::for_provider(&cassette.header.provider);
    let split = split_turns(cassette);
    let mut turns = Vec::new();
    for turn in &split.turns {
        let mut pcm = Vec::new();
        let mut sample_rate = 0;
        for (index, frame) in cassette.frames[turn.frames.clone()]
            .iter()
            .enumerate()
            .map(|(i, f)| (i + turn.frames.start, f))
        {
            let kind = spelling(&event_name(frame));
            if frame.is_client() && wire_frame(frame).is_some() && !fed.contains(&kind) {
                return Err(format!(
                    "{}: the user's client sent input the agent is not fed (only the user's audio is)",
                    describe(index, frame)
                ));
            }
            if let (true, Some(json)) = (frame.is_client(), frame.json()) {
                for (piece, rate) in json_audio_pcm(json, frame.dir, &rules) {
                    pcm.extend(piece);
                    sample_rate = rate;
                }
            }
        }
        if pcm.is_empty() {
            return Err(format!(
                "turn {} has no user audio (a typed turn): the agent is given only what the user said",
                turn.number
            ));
        }
        turns.push(UserTurn {
            number: turn.number,
            pcm,
            sample_rate,
        });
    }
    let responses = events
        .iter()
        .filter(|(_, e)| matches!(e, ModelEvent::ResponseCreated { .. }))
        .count();
    if turns.is_empty() || responses != turns.len() {
        return Err(format!(
            "the recording has {responses} responses for {} user turns: turns and answers do not pair",
            turns.len()
        ));
    }
    Ok(turns)
}

/// The kinds of frame (as [`event_name`] names them) an agent fed only
/// audio sends in this dialect: what its codec makes of the inputs such an
/// agent gives (the session, audio, commits, responses requested or
/// cancelled, truncation, the goodbye). A recorded client frame of any
/// other kind carried input the agent is not given.
fn agent_frame_kinds(dialect: &DialectSpec, model: &str) -> Vec<String> {
    let Some(mut codec) = dialect.codec(model) else {
        return Vec::new();
    };
    let rate = codec.capabilities().input_sample_rate;
    let inputs = [
        ClientInput::Session(SessionConfig::default()),
        ClientInput::Audio {
            pcm: Pcm(vec![0; 320]),
            sample_rate: rate,
        },
        ClientInput::CommitAudio,
        ClientInput::ClearAudio,
        ClientInput::CreateResponse(ResponseOptions::default()),
        ClientInput::CancelResponse { response_id: None },
        ClientInput::Truncate {
            item_id: "item".into(),
            content_index: 0,
            audio_end_ms: 0,
        },
        ClientInput::EndSession,
    ];
    let mut kinds = Vec::new();
    for input in &inputs {
        for wire in codec.encode(input).unwrap_or_default() {
            let frame = Frame::new(0, Direction::ClientToServer, frame_body(wire));
            kinds.push(spelling(&event_name(&frame)));
        }
    }
    kinds
}

/// A frame kind with its spelling set aside: SDKs send Gemini's keys in
/// snake_case (`realtime_input`) where the codec writes lowerCamelCase
/// (`realtimeInput`), and the service takes both.
fn spelling(kind: &str) -> String {
    kind.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Replays `turns` through a [`RealtimeAgent`] against a replay mock serving
/// `cassette` (called `name`); `Ok` with a summary when each was answered
/// once, else which turn was not, or was answered twice.
pub async fn replay_through_agent(
    name: &str,
    cassette: &Cassette,
    dialect: &'static DialectSpec,
    events: &[Located],
    turns: &[UserTurn],
    speed: f64,
) -> Result<String, String> {
    let server = replay_mock(name, moved_to_now(cassette), speed).await?;
    let origin = server.url().replacen("http://", "ws://", 1);
    let connect = ConnectOptions::new(
        dialect,
        dialect.connect.base_url_at(&origin),
        cassette.header.model.clone(),
    )
    .api_key("understudy-conformance-key")
    .cassette(name);
    let detects_speech = events
        .iter()
        .any(|(_, e)| matches!(e, ModelEvent::SpeechStarted { .. }));
    let transcribes = events
        .iter()
        .any(|(_, e)| matches!(e, ModelEvent::InputTranscriptDone { .. }));
    let session = SessionConfig {
        turn_detection: Some(if detects_speech {
            TurnDetection::server_vad()
        } else {
            TurnDetection::Manual
        }),
        input_transcription: transcribes
            .then(|| dialect.transcription_model.map(str::to_owned))
            .flatten(),
        ..Default::default()
    };
    let outcome = drive(connect, session, turns, !detects_speech).await;
    // What the mock made of the agent's frames says why a turn went unanswered.
    let outcome = outcome.map_err(|why| {
        let mut notes: Vec<String> = server
            .journal()
            .iter()
            .flat_map(|s| s.entries.iter().filter(|e| e.kind == EntryKind::Note))
            .map(|e| format!("{}: {}", e.label, e.detail))
            .collect();
        notes.dedup();
        notes.truncate(5);
        match notes.is_empty() {
            true => why,
            false => format!("{why}; the replay mock noted: {}", notes.join("; ")),
        }
    });
    server.shutdown().await;
    outcome
}

async fn drive(
    connect: ConnectOptions,
    session: SessionConfig,
    turns: &[UserTurn],
    commit: bool,
) -> Result<String, String> {
    let mut agent = RealtimeAgent::start(connect, AgentConfig::new(session), ToolRegistry::new())
        .await
        .map_err(|e| format!("the agent did not start: {e}"))?;
    let input = agent.input();
    let mut answers = 0;
    for turn in turns {
        let chunk = (turn.sample_rate as usize * CHUNK_MS / 1000 * 2).max(2);
        for piece in turn.pcm.chunks(chunk) {
            input
                .audio(piece.to_vec(), turn.sample_rate)
                .await
                .map_err(|e| format!("turn {}: the agent refused audio: {e}", turn.number))?;
        }
        if commit {
            input
                .commit()
                .await
                .map_err(|e| format!("turn {}: the agent refused to commit: {e}", turn.number))?;
        }
        let answered = timeout(WAIT, next_answer(&mut agent)).await;
        match answered {
            Ok(Some(())) => answers += 1,
            Ok(None) => {
                return Err(format!(
                    "turn {}: the session ended unanswered",
                    turn.number
                ))
            }
            Err(_) => {
                return Err(format!(
                    "turn {}: not answered within {} s",
                    turn.number,
                    WAIT.as_secs()
                ))
            }
        }
    }
    if let Ok(Some(())) = timeout(SETTLE, next_answer(&mut agent)).await {
        return Err(format!(
            "an answer too many after the last turn ({} answers for {} turns)",
            answers + 1,
            turns.len()
        ));
    }
    agent.close().await;
    Ok(format!("{answers} user turns, each answered once"))
}

/// `cassette` with the points in time its server announced (`expires_at`,
/// unix seconds) moved by as long as has passed since it was recorded: an
/// agent reads a session end that is already past as "hand over now", which
/// a session replayed today must not say.
fn moved_to_now(cassette: &Cassette) -> Cassette {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let shift = now - cassette.header.created_at.timestamp();
    let mut moved = cassette.clone();
    for frame in moved.frames.iter_mut().filter(|f| f.is_server()) {
        if let Some(json) = frame.json_mut() {
            shift_times(json, shift);
        }
    }
    moved
}

fn shift_times(value: &mut serde_json::Value, shift: i64) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match inner.as_i64() {
                    Some(at) if key == "expires_at" => *inner = (at + shift).into(),
                    _ => shift_times(inner, shift),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| shift_times(v, shift)),
        _ => {}
    }
}

/// Waits for the agent's next finished response; `None` when it stopped.
async fn next_answer(agent: &mut RealtimeAgent) -> Option<()> {
    loop {
        match agent.next_event().await? {
            AgentEvent::ResponseDone { .. } => return Some(()),
            AgentEvent::Closed { .. } => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{replay_through_agent, user_turns};
    use crate::cassette_cases::decode_check::decode_events;
    use understudy_adapters::registry;
    use understudy_fixtures::bundled;

    #[test]
    fn sessions_the_agent_cannot_replay_say_why() {
        for (name, why) in [
            ("openai/ga-text-turn", "(c2s conversation.item.create)"),
            ("openai/ga-tool-round-trip", "calls tools"),
            ("openai/ga-barge-in", "ended Cancelled in the recording"),
            (
                "dashscope/image-question",
                "(c2s input_image_buffer.append)",
            ),
            (
                "gemini/interrupted",
                "(s2c serverContent): a response ended Cancelled",
            ),
        ] {
            let cassette = bundled::cassette(name).unwrap();
            let dialect = registry::dialect(&cassette.header.dialect).unwrap();
            let events = decode_events(&cassette, dialect).unwrap().unwrap();
            let refused = user_turns(&cassette, dialect, &events).unwrap_err();
            assert!(refused.contains(why), "{name}: {refused}");
        }
    }

    #[tokio::test]
    async fn a_spoken_session_is_answered_once_per_turn_through_the_agent() {
        for name in ["openai/ga-audio-vad-turn", "dashscope/manual-turn"] {
            let cassette = bundled::cassette(name).unwrap();
            let dialect = registry::dialect(&cassette.header.dialect).unwrap();
            let events = decode_events(&cassette, dialect).unwrap().unwrap();
            let turns =
                user_turns(&cassette, dialect, &events).unwrap_or_else(|e| panic!("{name}: {e}"));
            let outcome =
                replay_through_agent(name, &cassette, dialect, &events, &turns, 1.0).await;
            let summary = outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(summary.ends_with("each answered once"), "{summary}");
        }
    }
}
