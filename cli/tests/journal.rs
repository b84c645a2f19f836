//! The journal as `understudy serve` users meet it: keyed like the provider
//! routes under `--require-auth`, cleared by `DELETE`, and a replay that goes
//! wrong (or a client that sends something invalid) is a `warn` line in the
//! server's log, not only a journal entry.

mod served;

use futures_util::{SinkExt, StreamExt};
use served::Served;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn under_require_auth_every_journal_route_wants_a_key() {
    let served = Served::start(&["--api-key", "sk-journal"]);
    for (method, path) in [
        ("GET", "/__understudy/journal"),
        ("GET", "/__understudy/journal?offset=0&limit=5"),
        ("GET", "/__understudy/journal/stats"),
        ("DELETE", "/__understudy/journal"),
        ("GET", "/__understudy/sessions"),
        ("GET", "/__understudy/sessions/1"),
        ("GET", "/__understudy/stream"),
        ("GET", "/__understudy/stream?frames=1"),
        ("GET", "/__understudy/sessions/1/audio/in.wav"),
        ("GET", "/__understudy/sessions/1/audio/out.wav"),
        ("GET", "/__understudy/sessions/1/cassette"),
    ] {
        for refused in [&[][..], &["Authorization: Bearer sk-wrong"][..]] {
            let (code, body) = served.http(method, path, refused).await;
            assert_eq!(code, 401, "{method} {path} {refused:?}: {body}");
            assert!(body.contains("invalid_api_key"), "{body}");
        }
    }
    let key = ["Authorization: Bearer sk-journal"];
    let (code, body) = served.http("GET", "/__understudy/journal", &key).await;
    assert_eq!((code, body.as_str()), (200, "[]"));
    let (code, body) = served
        .http(
            "GET",
            "/__understudy/journal/stats",
            &["x-goog-api-key: sk-journal"],
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["mode"], "summary");
    assert_eq!(stats["caps"]["max_sessions"], 1000);
    assert_eq!(
        served.http("DELETE", "/__understudy/journal", &key).await.0,
        204
    );
    // Health stays open: it says nothing about anyone's sessions; so does
    // the inspector page, which holds no data and asks for the key.
    assert_eq!(served.http("GET", "/__understudy/health", &[]).await.0, 200);
    for page in ["/__understudy/", "/__understudy/inspector"] {
        let (code, body) = served.http("GET", page, &[]).await;
        assert_eq!(code, 200, "{page}");
        assert!(
            body.contains("<title>Understudy inspector</title>"),
            "{body:.200}"
        );
        assert!(!body.contains("sk-journal"));
    }
    // With the key in the query (how the page's stream and audio send it),
    // the data routes answer.
    let (code, body) = served
        .http("GET", "/__understudy/sessions?key=sk-journal", &[])
        .await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test]
async fn journal_off_keeps_nothing_and_delete_clears() {
    let off = Served::start(&["--journal", "off"]);
    let (code, body) = off.http("GET", "/__understudy/journal", &[]).await;
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("journal is off"), "{body}");

    let served = Served::start(&["--journal-max-sessions", "2"]);
    for n in 0..3 {
        let url = served.ws("/v1/realtime?model=gpt-realtime");
        let (mut socket, _) = connect_async(url).await.unwrap();
        first_text(&mut socket).await;
        socket
            .send(Message::Text(
                format!(r#"{{"type":"no.such.event.{n}"}}"#).into(),
            ))
            .await
            .unwrap();
        first_text(&mut socket).await;
        socket.close(None).await.unwrap();
    }
    let (code, body) = served.http("GET", "/__understudy/journal/stats", &[]).await;
    assert_eq!(code, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            stats["sessions"].as_u64(),
            stats["evicted_sessions"].as_u64()
        ),
        (Some(2), Some(1)),
        "{stats}"
    );
    let (_, body) = served
        .http("GET", "/__understudy/journal?limit=1", &[])
        .await;
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["session"], 2, "the oldest was evicted: {page}");
    assert_eq!(
        served.http("DELETE", "/__understudy/journal", &[]).await.0,
        204
    );
    assert_eq!(
        served.http("GET", "/__understudy/journal", &[]).await.1,
        "[]"
    );
}

#[tokio::test]
async fn an_unknown_cassette_is_a_warning_and_the_close_names_it() {
    let served = Served::start(&["--engine", "replay"]);
    let url = served.ws("/v1/realtime?model=gpt-realtime&cassette=no-such-cassette");
    assert_eq!(
        close_reason(url).await.as_deref(),
        Some("no cassette named `no-such-cassette`")
    );
    let log = served.log_with("no-such-cassette");
    let line = log
        .lines()
        .find(|l| l.contains("no-such-cassette") && l.contains("WARN"))
        .unwrap_or_else(|| panic!("no warn line names the cassette:\n{log}"));
    assert!(
        line.contains("loaded:"),
        "the line names what is loaded: {line}"
    );
}

#[tokio::test]
async fn a_misspelt_cassette_gets_a_suggestion_and_the_log_has_no_colour_codes() {
    let served = Served::start(&["--engine", "replay"]);
    let url = served.ws("/v1/realtime?model=gpt-realtime&cassette=ga-text-trun");
    assert_eq!(
        close_reason(url).await.as_deref(),
        Some("no cassette named `ga-text-trun` (did you mean `openai/ga-text-turn`?)")
    );
    let log = served.log_with("ga-text-trun");
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("did you mean `openai/ga-text-turn`?")),
        "the warn line suggests the name:\n{log}"
    );
    // stderr is a pipe here, not a terminal: no ANSI escapes in the log.
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a redirected log:\n{log:?}"
    );
}

#[tokio::test]
async fn a_client_that_sends_something_invalid_is_a_warning() {
    let served = Served::start(&[]);
    let (mut socket, _) = connect_async(served.ws("/v1/realtime?model=gpt-realtime"))
        .await
        .unwrap();
    first_text(&mut socket).await;
    socket
        .send(Message::Text(r#"{"type":"response.creat"}"#.into()))
        .await
        .unwrap();
    let error = first_text(&mut socket).await;
    assert!(error.contains("\"error\""), "{error}");
    let log = served.log_with("invalid event");
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("invalid event")
            && l.contains("response.creat")),
        "no warn line for the invalid event:\n{log}"
    );
}

#[tokio::test]
async fn the_session_list_counts_turns_grades_replays_and_shows_evictions() {
    let served = Served::start(&["--journal-max-sessions", "1"]);
    for _ in 0..2 {
        served::openai_audio_turn(&served, "").await;
    }
    let list = served.request("GET", "/__understudy/sessions", &[]).await;
    assert_eq!(list.code, 200);
    assert_eq!(
        list.header("x-understudy-journal-evicted").as_deref(),
        Some("1")
    );
    let list = list.json();
    assert_eq!(list["evicted_sessions"], 1, "{list}");
    assert_eq!(list["caps"]["max_sessions"], 1, "{list}");
    let session = &list["sessions"][0];
    assert_eq!(session["session"], 2, "{list}");
    assert_eq!(session["turns"], 1, "{list}");
    assert!(session["grade"].is_null(), "not a replay: {list}");

    let replay = Served::start(&["--engine", "replay"]);
    let (mut socket, _) =
        connect_async(replay.ws("/v1/realtime?model=gpt-realtime&cassette=openai/ga-text-turn"))
            .await
            .unwrap();
    first_text(&mut socket).await;
    socket
        .send(Message::Text(
            r#"{"type":"input_audio_buffer.clear"}"#.into(),
        ))
        .await
        .unwrap();
    let _ = timeout(Duration::from_secs(2), socket.next()).await;
    socket.close(None).await.unwrap();
    let (mut refused, _) =
        connect_async(replay.ws("/v1/realtime?model=gpt-realtime&cassette=no-such"))
            .await
            .unwrap();
    while let Ok(Some(Ok(_))) = timeout(Duration::from_secs(5), refused.next()).await {}
    let list = replay
        .request("GET", "/__understudy/sessions", &[])
        .await
        .json();
    let grades: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["grade"]["status"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(grades, ["mismatched", "refused"], "{list}");
    assert!(
        list["sessions"][0]["grade"]["note"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{list}"
    );
}

#[tokio::test]
async fn the_live_stream_tells_of_a_session_its_notes_and_its_end() {
    let served = Served::start(&["--engine", "replay"]);
    let mut plain = served.stream("?heartbeat=1").await;
    let mut framed = served.stream("?frames=1").await;
    let (mut socket, _) =
        connect_async(served.ws("/v1/realtime?model=gpt-realtime&cassette=openai/ga-text-turn"))
            .await
            .unwrap();
    first_text(&mut socket).await;
    socket
        .send(Message::Text(
            r#"{"type":"input_audio_buffer.clear"}"#.into(),
        ))
        .await
        .unwrap();
    let _ = timeout(Duration::from_secs(2), socket.next()).await;
    socket.close(None).await.unwrap();
    let seen = plain.until("end", 1).await;
    let names: Vec<&str> = seen
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(names.first(), Some(&"session"), "{seen:?}");
    assert!(names.contains(&"note"), "{seen:?}");
    assert!(
        !names.contains(&"frame"),
        "frames only when asked: {seen:?}"
    );
    let start: serde_json::Value = serde_json::from_str(&seen[0].data).unwrap();
    assert_eq!(
        (
            start["session"].as_u64(),
            start["dialect"].as_str(),
            start["engine"].as_str()
        ),
        (
            Some(1),
            Some("openai-ga"),
            Some("replay:openai/ga-text-turn")
        ),
        "{start}"
    );
    let note = seen.iter().find(|e| e.name == "note").unwrap();
    assert!(note.data.contains("replay."), "{note:?}");
    let end: serde_json::Value = serde_json::from_str(&seen.last().unwrap().data).unwrap();
    assert_eq!(end["grade"]["status"], "mismatched", "{end}");
    // The heartbeat is a comment, at the interval asked for.
    let beat = plain
        .next(Duration::from_secs(3))
        .await
        .expect("a heartbeat");
    assert_eq!(beat.raw.trim(), ": heartbeat", "{beat:?}");
    // A subscriber that asked for frames sees them, summarised.
    let framed_seen = framed.until("end", 1).await;
    let frame = framed_seen
        .iter()
        .find(|e| e.name == "frame")
        .unwrap_or_else(|| panic!("no frame event: {framed_seen:?}"));
    let frame: serde_json::Value = serde_json::from_str(&frame.data).unwrap();
    assert_eq!(frame["label"], "session.created", "{frame}");
    assert!(frame["bytes"].as_u64().unwrap() > 0, "{frame}");
}

#[tokio::test]
async fn full_mode_serves_each_directions_audio_and_summary_says_why_not() {
    let served = Served::start(&["--journal", "full"]);
    served::openai_audio_turn(&served, "").await;
    for (file, at_least) in [("in.wav", 24 * 300), ("out.wav", 2_400)] {
        let answer = served
            .request(
                "GET",
                &format!("/__understudy/sessions/1/audio/{file}"),
                &[],
            )
            .await;
        assert_eq!(answer.code, 200, "{file}: {}", answer.text());
        assert_eq!(answer.header("content-type").as_deref(), Some("audio/wav"));
        let (pcm, rate) = understudy_fixtures::wav::read_pcm16(&answer.body).unwrap();
        assert_eq!(rate, 24_000, "{file}");
        assert!(
            pcm.len() / 2 >= at_least,
            "{file}: {} samples",
            pcm.len() / 2
        );
        assert!(pcm.iter().any(|b| *b != 0), "{file} is not all silence");
        if file == "in.wav" {
            assert_eq!(pcm, served::tone(300), "the client's audio, byte for byte");
        }
    }
    let (code, body) = served
        .http("GET", "/__understudy/sessions/1/audio/sideways.wav", &[])
        .await;
    assert_eq!(code, 404, "{body}");

    let summary = Served::start(&[]);
    served::openai_audio_turn(&summary, "").await;
    let (code, body) = summary
        .http("GET", "/__understudy/sessions/1/audio/out.wav", &[])
        .await;
    assert_eq!(code, 404, "{body}");
    assert!(
        body.contains("audio not kept: run with --journal full"),
        "{body}"
    );
}

#[tokio::test]
async fn a_session_downloads_as_a_cassette_that_validates_and_replays() {
    let served = Served::start(&["--journal", "full"]);
    let live = served::openai_audio_turn(&served, "").await;
    let answer = served
        .request("GET", "/__understudy/sessions/1/cassette", &[])
        .await;
    assert_eq!(answer.code, 200, "{}", answer.text());
    assert!(
        answer
            .header("content-disposition")
            .is_some_and(|d| d.contains("session-1.jsonl")),
        "{}",
        answer.headers
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inspected.jsonl");
    std::fs::write(&file, &answer.body).unwrap();
    let report = understudy_fixtures::validate_file(&file);
    assert!(report.is_valid(), "{report:?}");
    let cassette = understudy_fixtures::Cassette::read(&file).unwrap();
    assert_eq!(
        cassette.header.origin,
        understudy_fixtures::Origin::Synthesized
    );
    let audio_deltas = cassette
        .frames
        .iter()
        .filter_map(|f| f.json())
        .filter(|j| j["type"] == "response.output_audio.delta")
        .filter(|j| j["delta"].as_str().is_some_and(|d| d.len() > 100))
        .count();
    assert!(
        audio_deltas > 0,
        "full mode keeps the audio in the cassette"
    );

    let replay = Served::start(&[
        "--engine",
        "replay",
        "--cassettes",
        dir.path().to_str().unwrap(),
        "--speed",
        "10",
    ]);
    let replayed = served::openai_audio_turn(&replay, "&cassette=inspected").await;
    assert_eq!(replayed, live, "the cassette replays what the session sent");
    let list = replay
        .request("GET", "/__understudy/sessions", &[])
        .await
        .json();
    assert_eq!(list["sessions"][0]["grade"]["status"], "ok", "{list}");
}

/// The reason of the close that ends a session opened at `url` (within 10 s).
async fn close_reason(url: String) -> Option<String> {
    let (mut socket, _) = connect_async(url).await.unwrap();
    while let Ok(Some(Ok(message))) = timeout(Duration::from_secs(10), socket.next()).await {
        if let Message::Close(Some(close)) = message {
            return Some(close.reason.to_string());
        }
    }
    None
}

/// The next text frame.
async fn first_text<S>(socket: &mut S) -> String
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return text.to_string();
        }
    }
}
