//! The OpenAI mock as today's service answers real clients: the retired
//! Realtime beta refused (unless legacy is on), and every `response.create`
//! override honoured and reported in `response.created` / `response.done`.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{next_frame, raw_connect, Frame, Socket};
use understudy_mock::{BetaPolicy, BetaRefusal, EntryKind, MockServer, ResponderConfig};

async fn server(legacy: bool) -> MockServer {
    let voice = understudy_mock::bundled_voice().unwrap();
    let mut builder = MockServer::builder()
        .respond(ResponderConfig::with_voice(voice))
        .speed(8.0);
    if legacy {
        builder = builder.legacy_beta();
    }
    builder.start().await.unwrap()
}

fn url(server: &MockServer) -> String {
    format!("{}/realtime?model=gpt-realtime", server.openai_base_url())
}

const BETA_HEADER: (&str, &str) = ("OpenAI-Beta", "realtime=v1");
const BETA_SUBPROTOCOL: (&str, &str) = (
    "Sec-WebSocket-Protocol",
    "realtime, openai-insecure-api-key.test, openai-beta.realtime-v1",
);

async fn expect_beta_refusal(socket: &mut Socket) {
    let Frame::Json(error) = next_frame(socket).await else {
        panic!("the error event comes first")
    };
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "beta_api_shape_disabled");
    assert_eq!(
        error["error"]["message"],
        "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."
    );
    assert!(error["error"]["param"].is_null());
    match next_frame(socket).await {
        Frame::Close(code, reason) => assert_eq!(
            (code, reason.as_str()),
            (4000, "invalid_request_error.beta_api_shape_disabled")
        ),
        other => panic!("expected close 4000, got {other:?}"),
    }
}

#[tokio::test]
async fn a_beta_session_is_refused_like_the_service_by_default() {
    let server = server(false).await;
    for headers in [vec![BETA_HEADER], vec![BETA_SUBPROTOCOL]] {
        let mut socket = raw_connect(&url(&server), &headers).await;
        expect_beta_refusal(&mut socket).await;
    }
    // GA is served as ever.
    let mut socket = raw_connect(&url(&server), &[]).await;
    let Frame::Json(created) = next_frame(&mut socket).await else {
        panic!("session.created")
    };
    assert_eq!(created["type"], "session.created");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let journal = server.journal();
    assert_eq!(journal[0].dialect, "openai-beta");
    assert!(journal[0].find(EntryKind::Note, "refused").next().is_some());
    assert!(journal[0]
        .find(EntryKind::Server, "session.created")
        .next()
        .is_none());
}

#[tokio::test]
async fn legacy_beta_keeps_the_old_dialect() {
    let server = server(true).await;
    for headers in [vec![BETA_HEADER], vec![BETA_SUBPROTOCOL]] {
        let mut socket = raw_connect(&url(&server), &headers).await;
        let Frame::Json(created) = next_frame(&mut socket).await else {
            panic!("session.created")
        };
        assert_eq!(created["type"], "session.created");
        assert_eq!(created["session"]["object"], "realtime.session");
        assert!(created["session"]["modalities"].is_array(), "{created}");
    }
}

#[tokio::test]
async fn the_unconfirmed_refusal_shapes_are_options() {
    let voice = understudy_mock::bundled_voice().unwrap();
    let server = MockServer::builder()
        .respond(ResponderConfig::with_voice(voice))
        .beta_policy(BetaPolicy {
            refusal: BetaRefusal::Http500,
            refuse_subprotocol: false,
            ..BetaPolicy::default()
        })
        .start()
        .await
        .unwrap();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url(&server).into_client_request().unwrap();
    request
        .headers_mut()
        .insert(BETA_HEADER.0, BETA_HEADER.1.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 500)
        }
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    // The subprotocol alone is served (in the beta dialect) under this policy.
    let mut socket = raw_connect(&url(&server), &[BETA_SUBPROTOCOL]).await;
    let Frame::Json(created) = next_frame(&mut socket).await else {
        panic!("session.created")
    };
    assert_eq!(created["type"], "session.created");
}

/// Sends one JSON frame.
async fn send(socket: &mut Socket, frame: Value) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            frame.to_string().into(),
        ))
        .await
        .unwrap();
}

/// Frames up to and including the next `response.done`.
async fn until_done(socket: &mut Socket) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        match next_frame(socket).await {
            Frame::Json(frame) => {
                let done = frame["type"] == "response.done";
                assert_ne!(frame["type"], "error", "{frame}");
                frames.push(frame);
                if done {
                    return frames;
                }
            }
            Frame::Close(code, reason) => panic!("closed {code} {reason}"),
        }
    }
}

fn of_type<'a>(frames: &'a [Value], kind: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == kind).collect()
}

/// A session with one user message, ready for `response.create`.
async fn session_with_question(server: &MockServer, beta: bool) -> Socket {
    let headers = if beta { vec![BETA_HEADER] } else { vec![] };
    let mut socket = raw_connect(&url(server), &headers).await;
    let Frame::Json(created) = next_frame(&mut socket).await else {
        panic!("session.created")
    };
    assert_eq!(created["type"], "session.created");
    send(
        &mut socket,
        json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Tell me a story about the sea and the sky and the stars"}]}}),
    )
    .await;
    let acks = if beta { 1 } else { 2 };
    for _ in 0..acks {
        let Frame::Json(ack) = next_frame(&mut socket).await else {
            panic!("item acknowledged")
        };
        assert!(ack["type"]
            .as_str()
            .unwrap()
            .starts_with("conversation.item."));
    }
    socket
}

#[tokio::test]
async fn ga_response_create_overrides_are_honoured_and_reported() {
    let server = server(false).await;
    let mut socket = session_with_question(&server, false).await;
    let metadata = json!({"client_event_id": "response_create_abc"});
    send(
        &mut socket,
        json!({"type": "response.create", "event_id": "response_create_abc", "response": {
            "metadata": metadata,
            "output_modalities": ["text"],
            "instructions": "Answer briefly.",
            "max_output_tokens": 12,
            "audio": {"output": {"voice": "coral", "format": {"type": "audio/pcmu"}}},
        }}),
    )
    .await;
    let frames = until_done(&mut socket).await;
    let created = &of_type(&frames, "response.created")[0]["response"];
    let done = &of_type(&frames, "response.done")[0]["response"];
    for response in [created, done] {
        assert_eq!(response["metadata"], metadata, "{response}");
        assert_eq!(response["output_modalities"], json!(["text"]));
        assert_eq!(response["max_output_tokens"], json!(12));
        assert_eq!(response["audio"]["output"]["voice"], "coral");
        assert_eq!(
            response["audio"]["output"]["format"],
            json!({"type": "audio/pcmu"})
        );
        assert!(response["conversation_id"].as_str().is_some());
    }
    // Text only, cut at 12 tokens (3 words at 4 tokens each): incomplete.
    assert!(of_type(&frames, "response.output_audio.delta").is_empty());
    let text = of_type(&frames, "response.output_text.done")[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(text.split_whitespace().count(), 3, "{text}");
    assert_eq!(done["status"], "incomplete");
    assert_eq!(done["status_details"]["reason"], "max_output_tokens");
    assert!(done["usage"]["output_tokens"].as_u64().unwrap() <= 12);
}

#[tokio::test]
async fn an_out_of_band_response_stays_out_of_the_conversation() {
    for beta in [false, true] {
        let server = server(true).await;
        let mut socket = session_with_question(&server, beta).await;
        send(
            &mut socket,
            json!({"type": "response.create", "response": {
                "conversation": "none",
                "metadata": {"purpose": "classify"},
            }}),
        )
        .await;
        let frames = until_done(&mut socket).await;
        let created = &of_type(&frames, "response.created")[0]["response"];
        let done = &of_type(&frames, "response.done")[0]["response"];
        for response in [created, done] {
            assert!(
                response
                    .as_object()
                    .unwrap()
                    .contains_key("conversation_id")
                    && response["conversation_id"].is_null(),
                "beta={beta}: {response}"
            );
            assert_eq!(response["metadata"], json!({"purpose": "classify"}));
        }
        assert_eq!(done["status"], "completed");
        let item_id = done["output"][0]["id"].as_str().unwrap().to_owned();
        for kind in [
            "conversation.item.added",
            "conversation.item.done",
            "conversation.item.created",
        ] {
            assert!(
                of_type(&frames, kind).is_empty(),
                "beta={beta}: out-of-band output acknowledged as {kind}"
            );
        }
        // The conversation does not have it: retrieving it fails.
        send(
            &mut socket,
            json!({"type": "conversation.item.retrieve", "item_id": item_id}),
        )
        .await;
        let Frame::Json(answer) = next_frame(&mut socket).await else {
            panic!("an answer")
        };
        assert_eq!(answer["type"], "error", "beta={beta}: {answer}");
        // A normal response afterwards is in the conversation again.
        send(&mut socket, json!({"type": "response.create"})).await;
        let frames = until_done(&mut socket).await;
        let done = &of_type(&frames, "response.done")[0]["response"];
        assert!(done["conversation_id"].as_str().is_some(), "{done}");
        assert!(done["metadata"].is_null());
        let ack = if beta {
            "conversation.item.created"
        } else {
            "conversation.item.added"
        };
        assert!(!of_type(&frames, ack).is_empty(), "beta={beta}");
    }
}

#[tokio::test]
async fn beta_overrides_are_reported_in_the_beta_shape() {
    let server = server(true).await;
    let mut socket = session_with_question(&server, true).await;
    send(
        &mut socket,
        json!({"type": "response.create", "response": {
            "modalities": ["text"],
            "voice": "verse",
            "output_audio_format": "g711_alaw",
            "temperature": 0.6,
            "max_response_output_tokens": 400,
            "metadata": {"client_event_id": "x1"},
        }}),
    )
    .await;
    let frames = until_done(&mut socket).await;
    for kind in ["response.created", "response.done"] {
        let response = &of_type(&frames, kind)[0]["response"];
        assert_eq!(response["modalities"], json!(["text"]), "{response}");
        assert_eq!(response["voice"], "verse");
        assert_eq!(response["output_audio_format"], "g711_alaw");
        assert_eq!(response["temperature"], json!(0.6));
        assert_eq!(response["max_output_tokens"], json!(400));
        assert_eq!(response["metadata"], json!({"client_event_id": "x1"}));
    }
    assert!(!of_type(&frames, "response.text.done").is_empty());
    assert!(of_type(&frames, "response.audio.delta").is_empty());
}

#[tokio::test]
async fn tool_choice_none_on_a_response_keeps_it_from_calling() {
    let server = server(false).await;
    let mut socket = raw_connect(&url(&server), &[]).await;
    let _created = next_frame(&mut socket).await;
    let tool = json!({"type": "function", "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}});
    send(
        &mut socket,
        json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "What is the weather in Paris?"}]}}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "response.create", "response": {"tools": [tool], "tool_choice": "none"}}),
    )
    .await;
    let frames = until_done(&mut socket).await;
    assert!(of_type(&frames, "response.function_call_arguments.done").is_empty());
    send(
        &mut socket,
        json!({"type": "response.create", "response": {"tools": [tool]}}),
    )
    .await;
    let frames = until_done(&mut socket).await;
    assert_eq!(
        of_type(&frames, "response.function_call_arguments.done").len(),
        1
    );
}
