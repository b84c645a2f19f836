//! The stage-1 speaker over the Qwen-TTS realtime engine against the mock, over
//! real sockets: markup and code are not spoken, segmenting follows the
//! engine's capabilities, time to first sound is measured, cancel is prompt.

use std::sync::Arc;
use std::time::Duration;
use understudy_adapters::dashscope::tts::{Mode, QwenTtsRealtime};
use understudy_agents::{Segmenting, Speaker};
use understudy_mock::{MockServer, ResponderConfig};

const REPLY: &str = "Sure! Here's how to **sort** a list in Python:\n\n```python\nnumbers = [3, 1, 2]\nnumbers.sort()\n```\n\n| Method | In place |\n|---|---|\n| sort() | yes |\n| sorted() | no |\n\nSee [the docs](https://docs.python.org/3/howto/sorting.html) for more.\n";

/// The reply as an LLM streams it: small deltas, a few milliseconds apart.
fn deltas(text: &str, size: usize) -> Vec<(Duration, String)> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size)
        .map(|c| (Duration::from_millis(2), c.iter().collect()))
        .collect()
}

async fn server(speed: f64) -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(speed)
        .start()
        .await
        .unwrap()
}

fn qwen(server: &MockServer, mode: Mode) -> Arc<QwenTtsRealtime> {
    Arc::new(
        QwenTtsRealtime::new(server.dashscope_url())
            .api_key("sk-test")
            .mode(mode),
    )
}

#[tokio::test]
async fn code_tables_and_urls_are_not_spoken_in_either_mode() {
    let server = server(8.0).await;
    for mode in [Mode::ServerCommit, Mode::Commit] {
        let speaker = Speaker::new(qwen(&server, mode));
        let spoken = speaker.speak(deltas(REPLY, 5)).await.unwrap();
        for banned in ["```", "numbers.sort", "|", "https://", "**", "sorted()"] {
            assert!(
                !spoken.text.contains(banned),
                "{mode:?}: `{banned}` spoken in {:?}",
                spoken.text
            );
        }
        for kept in ["Sure!", "sort a list in Python", "the docs", "for more."] {
            assert!(
                spoken.text.contains(kept),
                "{mode:?}: `{kept}` lost in {:?}",
                spoken.text
            );
        }
        // Commit mode takes whole units: the speaker segmented; server_commit
        // mode takes the filtered deltas as they come.
        match mode {
            Mode::Commit => assert!(
                spoken.pieces >= 3 && spoken.pieces < 12,
                "{} units",
                spoken.pieces
            ),
            Mode::ServerCommit => assert!(spoken.pieces > 12, "{} deltas", spoken.pieces),
        }
        assert!(spoken.audio_bytes() > 0);
        let ttfs = spoken
            .time_to_first_sound
            .expect("time to first sound measured");
        assert!(ttfs > Duration::ZERO, "{ttfs:?}");
    }
}

#[tokio::test]
async fn segmenting_can_be_forced_and_turned_off() {
    let server = server(8.0).await;
    let whole = Speaker::new(qwen(&server, Mode::ServerCommit))
        .segmenting(Segmenting::Always(Default::default()))
        .speak(deltas("One sentence here. And another one.", 4))
        .await
        .unwrap();
    assert_eq!(whole.pieces, 2, "{:?}", whole.text);
    let raw = Speaker::new(qwen(&server, Mode::ServerCommit))
        .segmenting(Segmenting::Never)
        .speak(deltas("One sentence here. And another one.", 4))
        .await
        .unwrap();
    assert!(raw.pieces > 2);
    assert_eq!(raw.text, "One sentence here. And another one.");
}

#[tokio::test]
async fn cancelling_mid_utterance_stops_the_audio() {
    let server = server(1.0).await;
    let speaker = Speaker::new(qwen(&server, Mode::ServerCommit));
    let mut turn = speaker.open().await.unwrap();
    turn.text
        .push("This is a long first sentence that takes seconds to speak aloud. ")
        .unwrap();
    turn.text
        .push("And here is a second one, just as long as the first.")
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), turn.audio.next_chunk())
        .await
        .unwrap();
    assert!(matches!(first, Some(Ok(_))));
    turn.text.cancel().unwrap();
    let mut after = 0;
    while let Some(Ok(chunk)) =
        tokio::time::timeout(Duration::from_secs(5), turn.audio.next_chunk())
            .await
            .unwrap()
    {
        after += chunk.pcm.len();
    }
    let whole = 120 * 60 * 48;
    assert!(after < whole / 4, "{after} bytes after cancel of ~{whole}");
}
