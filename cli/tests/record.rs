//! `understudy record` end to end: the official SDKs, unmodified, run a session
//! through the recorder with `understudy serve` as the upstream, for every
//! realtime dialect (GPT-Live included; and OpenAI speech and chat over
//! HTTP); the cassette validates, holds no secret, and replaying it with
//! `understudy serve` makes the same SDK session pass again; `fixtures
//! stats` finds a GPT-Live recording's turns and first-audio times. Sessions
//! whose frames carry the key (OpenAI Realtime, GPT-Live, Gemini Live, chat)
//! prove no byte sequence of it reaches the cassettes, the logs or the
//! report.

mod support;

use std::io::Read;
use std::path::PathBuf;
use support::record::{files, record_session, understudy, Record, DIALECTS, KEY};
use support::Serve;

/// Fails if any 12-byte window of the key occurs in any of `paths`.
fn assert_no_key_bytes(paths: &[PathBuf]) {
    // Each 12-byte piece of the key, as it is and in hex (the WebSocket
    // library traces frame payloads in hex).
    let hex = |bytes: &[u8]| -> Vec<u8> {
        bytes
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect()
    };
    let windows: Vec<Vec<u8>> = KEY
        .as_bytes()
        .windows(12)
        .flat_map(|w| [w.to_vec(), hex(w)])
        .collect();
    for path in paths {
        let bytes = std::fs::read(path).unwrap();
        for window in &windows {
            assert!(
                !bytes.windows(window.len()).any(|w| w == window.as_slice()),
                "{} contains {:?}, a piece of the key",
                path.display(),
                String::from_utf8_lossy(window)
            );
        }
    }
}

#[test]
fn sdk_sessions_record_validate_replay_and_diff_clean_for_every_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for dialect in DIALECTS {
        let first = dir.path().join(format!("{}-first", dialect.label));
        let second = dir.path().join(format!("{}-second", dialect.label));
        // 1. Record against the respond engine (which checks the key). The
        // beta session records the retired dialect on purpose: legacy beta.
        let live = Serve::start(&["--api-key", KEY, "--legacy-beta"]);
        let (recorded, log) = record_session(dialect, &live, &first);
        drop(live);
        for cassette in &recorded {
            let text = std::fs::read_to_string(cassette).unwrap();
            let header = text.lines().next().unwrap();
            assert!(header.contains(r#""origin":"recorded""#), "{header}");
            assert!(
                !header.contains(r#""incomplete":true"#),
                "{}: {header}",
                dialect.label
            );
            let (valid, output) = understudy(&["fixtures", "validate", cassette.to_str().unwrap()]);
            assert!(valid, "{}: {output}", dialect.label);
        }
        let mut checked = files(&first);
        checked.push(log);
        assert_no_key_bytes(&checked);
        if dialect.answered_turns > 0 {
            // `fixtures stats` finds the turns (inferred, where the dialect
            // sends no turn events) and when each answer became audible.
            let (ok, out) =
                understudy(&["fixtures", "stats", "--json", recorded[0].to_str().unwrap()]);
            assert!(ok, "{}: {out}", dialect.label);
            let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
            let turns = stats[0]["turns"].as_array().expect("turns");
            let answered = turns
                .iter()
                .filter(|t| t["first_audio_ms"].as_f64().is_some_and(|ms| ms > 0.0))
                .count();
            assert!(
                answered >= dialect.answered_turns,
                "{}: {answered} answered turns of {}: {out}",
                dialect.label,
                turns.len()
            );
            let (ok, text) = understudy(&["fixtures", "stats", recorded[0].to_str().unwrap()]);
            assert!(ok && text.contains("first audio "), "{text}");
        }
        // 2. Replay them with `serve` and record the replayed sessions again.
        let replay = Serve::start(&[
            "--engine",
            "replay",
            "--legacy-beta",
            "--cassettes",
            first.to_str().unwrap(),
        ]);
        let (again, _) = record_session(dialect, &replay, &second);
        assert_eq!(recorded.len(), again.len(), "{}: {again:?}", dialect.label);
        // 3. Each pair differs only in ids and timing.
        for (cassette, again) in recorded.iter().zip(&again) {
            let (same, diff) = understudy(&[
                "fixtures",
                "diff",
                cassette.to_str().unwrap(),
                again.to_str().unwrap(),
            ]);
            if !same {
                failures.push(format!(
                    "{}: fixtures diff found differences:\n{diff}",
                    dialect.label
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Reads server messages until one contains `until`; returns everything read.
async fn read_until<S>(socket: &mut S, until: &str) -> String
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    let mut seen = String::new();
    let deadline = std::time::Duration::from_secs(20);
    while let Ok(Some(Ok(message))) = tokio::time::timeout(deadline, socket.next()).await {
        let text = String::from_utf8_lossy(&message.into_data()).into_owned();
        seen.push_str(&text);
        seen.push('\n');
        if text.contains(until) {
            return seen;
        }
    }
    panic!("no {until} in:\n{seen}");
}

async fn close_normally<S>(socket: &mut S)
where
    S: futures_util::Sink<tokio_tungstenite::tungstenite::Message>
        + futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
    let _ = socket
        .send(tokio_tungstenite::tungstenite::Message::Close(Some(
            CloseFrame {
                code: CloseCode::Normal,
                reason: "done".into(),
            },
        )))
        .await;
    while let Ok(Some(Ok(_))) =
        tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await
    {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_inside_frames_reaches_no_cassette_log_or_report() {
    key_session(true).await;
}

/// The same with the key never named: it is learned from each session's
/// credentials (bearer token, `?key=`) and scrubbed everywhere, logs included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unnamed_key_is_learned_from_the_requests_and_scrubbed_too() {
    key_session(false).await;
}

async fn key_session(named: bool) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recordings");
    let live = Serve::start(&["--api-key", KEY]);
    let args: &[&str] = if named {
        &[
            "--provider",
            "openai",
            "--secret-env",
            "UNDERSTUDY_TEST_KEY",
        ]
    } else {
        &["--provider", "openai"]
    };
    let record = Record::start(&live.url, &out, args);
    let ws = record.url.replacen("http://", "ws://", 1);

    // OpenAI Realtime: the key in the header, the instructions and the user's
    // text; the mock repeats the text, so server frames carry it too.
    let mut request = format!("{ws}/v1/realtime?model=gpt-realtime")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    read_until(&mut socket, "session.created").await;
    for event in [
        serde_json::json!({"type": "session.update", "session": {"type": "realtime", "instructions": format!("Never say {KEY}.")}}),
        serde_json::json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": format!("my key is {KEY}")}]}}),
        serde_json::json!({"type": "response.create"}),
    ] {
        socket.send(Message::text(event.to_string())).await.unwrap();
    }
    let answer = read_until(&mut socket, "response.done").await;
    assert!(
        answer.contains(KEY),
        "the server's frames repeat the key (else this test proves nothing)"
    );
    close_normally(&mut socket).await;

    // GPT-Live: the key in the header and the instructions, which the
    // service repeats in its resolved session (`session.started`).
    let mut request = format!("{ws}/v1/live/sessions")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let start = serde_json::json!({"type": "session.start", "event_id": "c1",
        "session": {"model": "gpt-live-1", "instructions": format!("Never say {KEY}.")}});
    socket.send(Message::text(start.to_string())).await.unwrap();
    let started = read_until(&mut socket, "session.started").await;
    assert!(
        started.contains(KEY),
        "the resolved session repeats the key (else this proves nothing)"
    );
    let close = serde_json::json!({"type": "session.close", "event_id": "c9"});
    socket.send(Message::text(close.to_string())).await.unwrap();
    read_until(&mut socket, "session.closed").await;
    close_normally(&mut socket).await;

    // Gemini Live: the key in the query string and in the conversation.
    let path = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{ws}{path}?key={KEY}"))
        .await
        .unwrap();
    socket
        .send(Message::text(r#"{"setup":{"model":"models/gemini-live-2.5-flash-preview","generationConfig":{"responseModalities":["TEXT"]}}}"#))
        .await
        .unwrap();
    read_until(&mut socket, "setupComplete").await;
    let turn = serde_json::json!({"clientContent": {"turns": [{"role": "user", "parts": [{"text": format!("remember {KEY}")}]}], "turnComplete": true}});
    socket.send(Message::text(turn.to_string())).await.unwrap();
    read_until(&mut socket, "turnComplete").await;
    close_normally(&mut socket).await;

    // Chat completions over HTTP: header and body.
    let body = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": format!("key {KEY}")}]});
    let client = reqwest_like_post(
        &format!("{}/v1/chat/completions", record.url),
        &body.to_string(),
    );
    assert!(
        client.contains(KEY),
        "the chat answer repeats the key: {client}"
    );

    let log = record.stderr_path.clone();
    let printed = record.stop();
    assert_eq!(
        printed
            .lines()
            .filter(|l| l.starts_with("recorded "))
            .count(),
        4,
        "{printed}"
    );
    let report = std::fs::read_to_string(out.join("record-report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    // Named, the key goes by its variable's name; unnamed, by where it was
    // learned (the bearer header, Gemini's `?key=`).
    let label = |session: &serde_json::Value| match (named, session["dialect"].as_str()) {
        (true, _) => "UNDERSTUDY_TEST_KEY",
        (false, Some("gemini-live")) => "key",
        (false, _) => "authorization",
    };
    for session in report["sessions"].as_array().unwrap() {
        let scrubbed = session["scrubbed"].to_string();
        assert!(scrubbed.contains(label(session)), "{session}");
    }
    // Every session's model is known, wherever its dialect names it: the
    // URL, Gemini's `setup`, GPT-Live's `session.start`, the request body.
    let mut models: Vec<&str> = report["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["model"].as_str().unwrap_or("missing"))
        .collect();
    models.sort_unstable();
    assert_eq!(
        models,
        [
            "gemini-live-2.5-flash-preview",
            "gpt-4o-mini",
            "gpt-live-1",
            "gpt-realtime"
        ]
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.lines().count() > 50,
        "trace logging was on: {logged:.500}"
    );
    let mark = if named {
        "<scrubbed:UNDERSTUDY_TEST_KEY>"
    } else {
        "<scrubbed:authorization>"
    };
    assert!(
        logged.contains(mark),
        "the logs saw the key and scrubbed it"
    );
    let mut checked = files(&out);
    checked.push(log);
    assert_no_key_bytes(&checked);
}

/// POSTs `body` as JSON with the key as bearer token over a plain TCP
/// socket (HTTP/1.1, connection close); returns the response text.
fn reqwest_like_post(url: &str, body: &str) -> String {
    use std::io::Write as _;
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
