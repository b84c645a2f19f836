//! `understudy agent` as a user runs it: a real process on a free port, a
//! plain WebSocket client speaking AgentScope's front-end vocabulary.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// `understudy agent` on a free port; killed on drop.
struct Agent {
    child: Child,
    url: String,
    banner: Vec<String>,
}

impl Agent {
    fn start(args: &[&str]) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["agent", "--port", "0"])
            .args(args)
            // Keys in the caller's environment must not change what is tested.
            .env_remove("OPENAI_API_KEY")
            .env_remove("DASHSCOPE_API_KEY")
            .env_remove("GEMINI_API_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start understudy agent");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the serving line");
        let url = line
            .trim()
            .strip_prefix("understudy agent serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        let mut banner = Vec::new();
        for _ in 0..4 {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read the banner");
            banner.push(line.trim().to_owned());
        }
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Agent { child, url, banner }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn agent_prints_its_url_and_a_client_completes_a_session() {
    let agent = Agent::start(&["--mock-speed", "8", "--provider", "openai"]);
    assert!(agent.url.starts_with("ws://127.0.0.1:"), "{}", agent.url);
    assert!(
        agent
            .banner
            .iter()
            .any(|l| l.contains("/ws/{user_id}/{session_id}")),
        "{:?}",
        agent.banner
    );
    assert!(
        agent
            .banner
            .iter()
            .filter(|l| l.contains("in-process mock"))
            .count()
            == 3,
        "no URL given: every provider is the mock: {:?}",
        agent.banner
    );

    let (mut socket, _) = connect_async(format!("{}/ws/u1/s1", agent.url))
        .await
        .expect("connect to the agent server");
    // Errors before the session are events, not closes.
    socket
        .send(Message::Text(
            json!({"type": "client_text_append", "text": "too early"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let first = recv(&mut socket).await;
    assert_eq!(first["type"], "server_error", "{first}");
    assert_eq!(first["code"], "session_not_created", "{first}");

    for event in [
        json!({"type": "client_session_create",
               "config": {"instructions": "Be brief.", "agent_name": "Echo", "model_provider": "gemini"}}),
        json!({"type": "client_text_append", "session_id": "s1", "text": "Hello from the CLI test"}),
    ] {
        socket
            .send(Message::Text(event.to_string().into()))
            .await
            .unwrap();
    }
    let mut events = Vec::new();
    let mut said = String::new();
    let mut audio = 0;
    loop {
        let event = recv(&mut socket).await;
        match event["type"].as_str().unwrap() {
            "agent_response_audio_transcript_delta" => {
                said.push_str(event["delta"].as_str().unwrap())
            }
            "agent_response_audio_delta" => audio += event["delta"].as_str().unwrap().len(),
            "agent_response_done" => {
                events.push(event);
                break;
            }
            _ => {}
        }
        events.push(event);
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        &kinds[..2],
        ["server_session_created", "agent_ready"],
        "{kinds:?}"
    );
    assert_eq!(events[0]["model_provider"], "gemini");
    assert_eq!(events[1]["agent_name"], "Echo");
    assert_eq!(said, "You said: Hello from the CLI test");
    assert!(audio > 0, "audio came back");

    socket
        .send(Message::Text(
            json!({"type": "client_session_end"}).to_string().into(),
        ))
        .await
        .unwrap();
    loop {
        if recv(&mut socket).await["type"] == "server_session_ended" {
            break;
        }
    }

    // Whoever can reach the in-process mock cannot read that conversation:
    // no key opens its journal, and it keeps none.
    let mock = agent
        .banner
        .iter()
        .filter(|l| l.contains("in-process mock"))
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("ws://127.0.0.1:"))
        })
        .expect("the mock's URL in the banner");
    let authority = mock.trim_start_matches("ws://").split('/').next().unwrap();
    for request in [
        "GET /__understudy/journal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /__understudy/journal HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer anything\r\nConnection: close\r\n\r\n",
        "GET /__understudy/journal/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let response = http(authority, request).await;
        assert!(
            response.starts_with("HTTP/1.1 401"),
            "the agent's mock answered a journal read: {response}"
        );
        assert!(!response.contains("Hello from the CLI test"), "{response}");
    }
}

/// One raw HTTP/1.1 exchange with `authority` (`host:port`).
async fn http(authority: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

async fn recv<S>(socket: &mut S) -> Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("an event within 30 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

#[test]
fn agent_help_names_the_route_and_the_provider_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["agent", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "/ws/{user_id}/{session_id}",
        "client_session_create",
        "--provider",
        "--openai-url",
        "--openai-key",
        "--dashscope-url",
        "--dashscope-key",
        "--gemini-url",
        "--gemini-key",
        "OPENAI_API_KEY",
        "in-process mock",
    ] {
        assert!(help.contains(needle), "{needle} missing:\n{help}");
    }
}
