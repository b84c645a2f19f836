//! Sessions that end badly — an upstream that refuses, is unreachable, answers
//! garbage or drops mid-stream; a client that vanishes — each end their own
//! recording with a clear reason and a valid cassette marked incomplete, and
//! the recorder goes on serving. Plus HTTP exchanges and a TLS upstream.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use understudy_adapters::tls::TlsTrust;
use understudy_fixtures::{Cassette, FrameBody, HttpBody};
use understudy_mock::MockServer;
use understudy_recorder::{Recorder, RecordingReport, SessionSummary};

const KEY: &str = "fake-recorder-test-Xq7Lm2Vb9Tn4";

async fn recorder(provider: &str, upstream: &str, out: &Path) -> Recorder {
    recorder_trusting(provider, upstream, out, TlsTrust::System).await
}

async fn recorder_trusting(
    provider: &str,
    upstream: &str,
    out: &Path,
    trust: TlsTrust,
) -> Recorder {
    Recorder::builder(understudy_recorder::provider(provider).unwrap(), upstream)
        .out(out)
        .trust(trust)
        .start()
        .await
        .expect("recorder starts")
}

/// The cassette of a session, read back and validated.
fn cassette_of(out: &Path, session: &SessionSummary) -> Cassette {
    let name = session.cassette.as_deref().expect("a cassette was written");
    let path = out.join(name);
    let report = understudy_fixtures::validate_file(&path);
    assert!(report.is_valid(), "{name}: {:?}", report.issues);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(KEY), "{name} holds the key");
    Cassette::read(&path).unwrap()
}

fn only(report: &RecordingReport) -> &SessionSummary {
    assert_eq!(report.sessions.len(), 1, "{:#?}", report.sessions);
    &report.sessions[0]
}

fn request(url: &str) -> tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    request
}

/// A port nothing listens on.
async fn dead_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn a_refused_upgrade_reaches_the_client_and_the_recorder_keeps_serving() {
    let out = tempfile::tempdir().unwrap();
    let mock = MockServer::builder()
        .require_auth(vec!["the-right-key-123456".into()])
        .start()
        .await
        .unwrap();
    let recorder = recorder("dashscope", &mock.url(), out.path()).await;
    let ws = recorder.url().replacen("http://", "ws://", 1);
    // DashScope refuses a bad key at the upgrade: the client sees that 401.
    let refused = tokio_tungstenite::connect_async(request(&format!(
        "{ws}/api-ws/v1/realtime?model=qwen3-omni-flash-realtime"
    )))
    .await;
    match refused {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("InvalidApiKey"), "{body}");
        }
        other => panic!("expected the upstream's 401, got {other:?}"),
    }
    // A client that vanishes mid-session (no close frame).
    let mut vanishing = request(&format!(
        "{ws}/api-ws/v1/realtime?model=qwen3-omni-flash-realtime"
    ));
    vanishing.headers_mut().insert(
        "authorization",
        "Bearer the-right-key-123456".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(vanishing).await.unwrap();
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("session.created"));
    drop(socket);
    // Nothing else is affected: a clean session afterwards records complete.
    let mut good = request(&format!(
        "{ws}/api-ws/v1/realtime?model=qwen3-omni-flash-realtime"
    ));
    good.headers_mut().insert(
        "authorization",
        "Bearer the-right-key-123456".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(good).await.unwrap();
    socket.next().await.unwrap().unwrap();
    socket
        .close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "done".into(),
        }))
        .await
        .unwrap();
    while socket.next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = recorder.shutdown().await;
    assert_eq!(report.sessions.len(), 3, "{:#?}", report.sessions);
    let reason = |s: &SessionSummary| s.incomplete_reason.clone().unwrap_or_default();
    let refused = report
        .sessions
        .iter()
        .find(|s| reason(s).contains("401"))
        .expect("the refused session");
    assert!(!refused.complete);
    let cassette = cassette_of(out.path(), refused);
    assert!(cassette.header.incomplete);
    let answer = cassette
        .frames
        .iter()
        .find_map(|f| match &f.body {
            FrameBody::HttpResponse(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(answer.status, 401);
    assert!(matches!(&answer.body, Some(HttpBody::Json(j)) if j["code"] == "InvalidApiKey"));
    let vanished = report
        .sessions
        .iter()
        .find(|s| reason(s).contains("client disconnected"))
        .expect("the vanished client's session");
    assert!(cassette_of(out.path(), vanished).header.incomplete);
    let complete: Vec<_> = report.sessions.iter().filter(|s| s.complete).collect();
    assert_eq!(complete.len(), 1, "{:#?}", report.sessions);
    let cassette = cassette_of(out.path(), complete[0]);
    assert!(!cassette.header.incomplete);
    assert!(cassette
        .frames
        .iter()
        .any(|f| matches!(f.body, FrameBody::Close(Some(ref c)) if c.code == 1000)));
    assert_eq!(cassette.header.model, "qwen3-omni-flash-realtime");
}

#[tokio::test]
async fn an_unreachable_upstream_gets_a_502_naming_it() {
    let out = tempfile::tempdir().unwrap();
    let dead = dead_port().await;
    let recorder = recorder("openai", &format!("http://{dead}"), out.path()).await;
    let ws = recorder.url().replacen("http://", "ws://", 1);
    match tokio_tungstenite::connect_async(request(&format!("{ws}/v1/realtime?model=m"))).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 502);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(
                body.contains("cannot open the upstream WebSocket"),
                "{body}"
            );
            assert!(body.contains(&dead.to_string()), "{body}");
        }
        other => panic!("expected a 502, got {other:?}"),
    }
    // Plain HTTP too.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", recorder.url()))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"model": "gpt-4o-mini", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let text = response.text().await.unwrap();
    assert!(text.contains("cannot reach the upstream"), "{text}");
    let report = recorder.shutdown().await;
    assert_eq!(report.sessions.len(), 2);
    for session in &report.sessions {
        assert!(!session.complete);
        let cassette = cassette_of(out.path(), session);
        assert!(cassette.header.incomplete_reason.is_some());
    }
}

/// A server that answers every connection with bytes that are not HTTP.
async fn garbage_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(b"\x00\x01garbage, not HTTP\r\n\r\n").await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_upstream_answering_garbage_gets_a_502_and_an_incomplete_cassette() {
    let out = tempfile::tempdir().unwrap();
    let garbage = garbage_server().await;
    let recorder = recorder("openai", &format!("http://{garbage}"), out.path()).await;
    let ws = recorder.url().replacen("http://", "ws://", 1);
    match tokio_tungstenite::connect_async(request(&format!("{ws}/v1/realtime?model=m"))).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 502),
        other => panic!("expected a 502, got {other:?}"),
    }
    let response = reqwest::Client::new()
        .post(format!("{}/v1/audio/speech", recorder.url()))
        .json(&serde_json::json!({"model": "tts-1", "input": "hi", "voice": "alloy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let report = recorder.shutdown().await;
    assert_eq!(report.sessions.len(), 2);
    for session in &report.sessions {
        assert!(!session.complete, "{session:?}");
        cassette_of(out.path(), session);
    }
}

/// A WebSocket server that sends one event, then drops the connection.
async fn dropping_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await {
                    let _ = socket
                        .send(Message::text(r#"{"type":"session.created","session":{}}"#))
                        .await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    // Dropped without a close frame.
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_upstream_dropping_mid_stream_ends_the_recording_incomplete() {
    let out = tempfile::tempdir().unwrap();
    let dropping = dropping_server().await;
    let recorder = recorder("openai", &format!("http://{dropping}"), out.path()).await;
    let ws = recorder.url().replacen("http://", "ws://", 1);
    let (mut socket, _) =
        tokio_tungstenite::connect_async(request(&format!("{ws}/v1/realtime?model=m")))
            .await
            .unwrap();
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("session.created"));
    // The client sees the connection end without a close frame, as the upstream did.
    let next = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("the proxy ends the client's connection");
    assert!(!matches!(next, Some(Ok(Message::Close(_)))), "{next:?}");
    let report = recorder.shutdown().await;
    let session = only(&report);
    assert!(!session.complete);
    let reason = session.incomplete_reason.as_deref().unwrap();
    assert!(reason.contains("upstream"), "{reason}");
    let cassette = cassette_of(out.path(), session);
    assert_eq!(
        cassette
            .frames
            .iter()
            .filter(|f| f.is_server() && f.json().is_some())
            .count(),
        1
    );
}

#[tokio::test]
async fn http_speech_is_recorded_with_its_chunks_and_a_broken_body_is_incomplete() {
    let out = tempfile::tempdir().unwrap();
    let mock = MockServer::builder().speed(50.0).start().await.unwrap();
    let recorder = recorder("openai", &mock.url(), out.path()).await;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"model": "gpt-4o-mini-tts", "input": "Hello there.", "voice": "alloy", "response_format": "pcm"});
    let response = client
        .post(format!("{}/v1/audio/speech", recorder.url()))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let audio = response.bytes().await.unwrap();
    assert!(audio.len() > 1000);
    let broken = client
        .post(format!("{}/v1/audio/speech", recorder.url()))
        .header("x-understudy-fault", "drop-mid-stream")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        broken.bytes().await.is_err(),
        "the client sees the body break off"
    );
    let report = recorder.shutdown().await;
    assert_eq!(report.sessions.len(), 2);
    let complete = report
        .sessions
        .iter()
        .find(|s| s.complete)
        .expect("the good exchange");
    let cassette = cassette_of(out.path(), complete);
    assert_eq!(cassette.header.dialect, "openai-speech");
    assert_eq!(cassette.header.model, "gpt-4o-mini-tts");
    let response = cassette
        .frames
        .iter()
        .find_map(|f| match &f.body {
            FrameBody::HttpResponse(r) => Some(r),
            _ => None,
        })
        .unwrap();
    let recorded: usize = response
        .chunks
        .iter()
        .map(|c| match &c.data {
            understudy_fixtures::ChunkData::Bytes(b) => b.len(),
            understudy_fixtures::ChunkData::Text(t) => t.len(),
        })
        .sum();
    assert_eq!(
        recorded,
        audio.len(),
        "every byte the client got is recorded"
    );
    let broken = report.sessions.iter().find(|s| !s.complete).unwrap();
    assert!(
        broken
            .incomplete_reason
            .as_deref()
            .unwrap()
            .contains("broke off"),
        "{broken:?}"
    );
    cassette_of(out.path(), broken);
}

#[tokio::test]
async fn a_tls_upstream_is_recorded_and_an_untrusted_one_refused() {
    let out = tempfile::tempdir().unwrap();
    let mock = MockServer::builder()
        .tls(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .await
        .unwrap();
    let upstream = mock.tls_url().unwrap();
    let ca = mock.ca_pem().unwrap().to_owned();
    let recorder =
        recorder_trusting("gemini", &upstream, out.path(), TlsTrust::SystemAnd(ca)).await;
    let ws = recorder.url().replacen("http://", "ws://", 1);
    let path = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{ws}{path}?key={KEY}"))
        .await
        .unwrap();
    socket
        .send(Message::text(
            r#"{"setup":{"model":"models/gemini-live-2.5-flash-preview"}}"#,
        ))
        .await
        .unwrap();
    let answer = socket.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer.into_data()).contains("setupComplete"));
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = recorder.shutdown().await;
    let session = only(&report);
    assert!(session.complete, "{session:?}");
    let cassette = cassette_of(out.path(), session);
    assert_eq!(cassette.header.upstream.as_deref(), Some(upstream.as_str()));
    assert_eq!(cassette.header.model, "gemini-live-2.5-flash-preview");
    let FrameBody::HttpRequest(request) = &cassette.frames[0].body else {
        panic!("the first frame is the upgrade request");
    };
    assert!(request.path.ends_with("?key=scrubbed"), "{}", request.path);

    // The same upstream without its CA: the handshake fails, clearly.
    let out = tempfile::tempdir().unwrap();
    let other = understudy_mock::tls::TlsIdentity::generate().unwrap();
    let recorder = recorder_trusting(
        "gemini",
        &upstream,
        out.path(),
        TlsTrust::Only(other.ca_pem().to_owned()),
    )
    .await;
    let ws = recorder.url().replacen("http://", "ws://", 1);
    match tokio_tungstenite::connect_async(format!("{ws}{path}")).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 502);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.to_lowercase().contains("certificate"), "{body}");
        }
        other => panic!("expected a 502, got {other:?}"),
    }
    let report = recorder.shutdown().await;
    assert!(!only(&report).complete);
}
