//! qwen3.8-omni on the Qwen-Omni mock over real sockets: the workspace host
//! and header, the nested session shape from the adapter, a spoken tool round
//! trip with the result as an item then `response.create`, the refusals that
//! keep the socket open, and `session.finish` closed on without
//! `session.finished`.

mod support;

use serde_json::json;
use support::{is_done, next_frame, raw_connect, transcript, until, Frame};
use understudy_adapters::{dashscope, registry};
use understudy_adapters::{
    ClientError, ClientInput, ModelEvent, Pcm, RealtimeClient, ResponseOptions, SessionConfig,
    ToolSpec, TurnDetection, WireFrame,
};
use understudy_mock::{MockServer, ResponderConfig};

const V38: &str = "qwen3.8-omni-flash-realtime";
const WORKSPACE: &str = "ws-123";

async fn server() -> MockServer {
    MockServer::builder()
        .respond(ResponderConfig::with_voice(
            understudy_mock::bundled_voice().unwrap(),
        ))
        .speed(8.0)
        .start()
        .await
        .unwrap()
}

async fn connect(server: &MockServer) -> RealtimeClient {
    let options = dashscope::connect_options(server.dashscope_url(), V38)
        .api_key("sk-test")
        .header("X-DashScope-WorkSpace", WORKSPACE);
    registry::connect(&options).await.unwrap()
}

async fn say(client: &mut RealtimeClient, name: &str, trailing_silence_ms: usize) {
    let (mut pcm, rate) =
        understudy_fixtures::wav::read_pcm16(understudy_fixtures::bundled::audio(name).unwrap())
            .unwrap();
    assert_eq!(rate, 16_000);
    pcm.extend(vec![0u8; 32 * trailing_silence_ms]);
    for chunk in pcm.chunks(3_200) {
        let audio = ClientInput::Audio {
            pcm: Pcm(chunk.to_vec()),
            sample_rate: 16_000,
        };
        client.send(&audio).await.unwrap();
    }
}

async fn expect_error(client: &mut RealtimeClient, frame: serde_json::Value, code: &str) {
    client
        .send_frame(WireFrame::Text(frame.to_string()))
        .await
        .unwrap();
    let events = until(client, |e| matches!(e, ModelEvent::Error(_))).await;
    let Some(ModelEvent::Error(info)) = events.last() else {
        unreachable!()
    };
    assert_eq!(info.code, code, "{frame}");
    assert_eq!(info.kind.as_deref(), Some("invalid_request_error"));
}

#[tokio::test]
async fn a_38_tool_round_trip_then_finish_without_acknowledgement() {
    let server = server().await;
    let mut client = connect(&server).await;
    let tool = ToolSpec {
        name: "get_weather".into(),
        description: "Weather for a city".into(),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        behavior: None,
    };
    client
        .send(&ClientInput::Session(SessionConfig {
            voice: Some("Tina".into()),
            input_format: Some(understudy_adapters::AudioFormat::pcm16(16_000)),
            output_format: Some(understudy_adapters::AudioFormat::pcm16(24_000)),
            tools: vec![tool],
            turn_detection: Some(TurnDetection::server_vad()),
            ..Default::default()
        }))
        .await
        .unwrap();
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionUpdated { .. })
    })
    .await;
    assert!(
        matches!(events.last(), Some(ModelEvent::SessionUpdated { input_format: Some(f), .. }) if f.sample_rate == 16_000),
        "the nested formats are echoed: {events:?}"
    );
    say(&mut client, "user-weather-16k.wav", 1_200).await;
    let events = until(&mut client, is_done).await;
    let (call_id, name) = events
        .iter()
        .find_map(|e| match e {
            ModelEvent::ToolCall { call_id, name, .. } => Some((call_id.clone(), name.clone())),
            _ => None,
        })
        .expect("a tool call");
    let result = ClientInput::ToolResult {
        call_id: call_id.clone(),
        name: name.clone(),
        output: r#"{"sky":"clear"}"#.into(),
        scheduling: None,
    };
    client.send(&result).await.unwrap();
    // A second result for the same call is refused; the session goes on.
    let duplicate = json!({"type": "conversation.item.create", "event_id": "event_dup",
        "item": {"type": "function_call_output", "call_id": call_id, "output": "{}"}});
    expect_error(&mut client, duplicate, "invalid_value").await;
    client
        .send(&ClientInput::CreateResponse(ResponseOptions::default()))
        .await
        .unwrap();
    // One response at a time.
    expect_error(
        &mut client,
        json!({"type": "response.create", "event_id": "event_again"}),
        "conversation_already_has_active_response",
    )
    .await;
    let events = until(&mut client, is_done).await;
    assert_eq!(transcript(&events), "Here is what I found: sky clear.");
    // No text turns on 3.8.
    expect_error(
        &mut client,
        json!({"type": "conversation.item.create", "event_id": "event_msg", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}),
        "invalid_value",
    )
    .await;
    client.send(&ClientInput::EndSession).await.unwrap();
    let events = until(&mut client, |e| {
        matches!(e, ModelEvent::SessionEnded { .. })
    })
    .await;
    assert!(
        matches!(
            events.last(),
            Some(ModelEvent::SessionEnded {
                close_code: Some(1000),
                ..
            })
        ),
        "closed on, not acknowledged: {events:?}"
    );
    let journal = &server.journal()[0];
    assert_eq!(
        journal
            .find(understudy_mock::EntryKind::Server, "session.finished")
            .count(),
        0
    );
}

#[tokio::test]
async fn the_workspace_host_and_header_are_served_and_a_bad_key_is_refused() {
    let server = MockServer::builder()
        .require_auth(vec!["sk-good".into()])
        .start()
        .await
        .unwrap();
    let url = format!("{}?model={V38}", server.dashscope_url());
    let host = format!("{WORKSPACE}.cn-beijing.maas.aliyuncs.com");
    let mut socket = raw_connect(
        &url,
        &[
            ("host", &host),
            ("authorization", "Bearer sk-good"),
            ("x-dashscope-workspace", WORKSPACE),
        ],
    )
    .await;
    let Frame::Json(created) = next_frame(&mut socket).await else {
        panic!("session.created first")
    };
    assert_eq!(created["type"], "session.created");
    assert_eq!(created["session"]["model"], V38);
    assert!(created["session"]["audio"]["output"]["voice"].is_string());
    let bad = dashscope::connect_options(server.dashscope_url(), V38)
        .api_key("sk-wrong")
        .header("X-DashScope-WorkSpace", WORKSPACE);
    match registry::connect(&bad).await {
        Err(ClientError::Rejected { status, .. }) => assert_eq!(status, 401),
        other => panic!("expected a 401, got {other:?}"),
    }
}
