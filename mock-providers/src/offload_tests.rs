//! A turn whose recognition is slow does not hold up another session: the
//! server and both clients share one thread, so had the recognition run on
//! its session's task, nothing else could happen until it ended.

use crate::responder_config::RecognitionHook;
use crate::{MockServer, ResponderConfig};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Longest the slow recognition waits to be released.
const HOLD: Duration = Duration::from_secs(20);

async fn connect(server: &MockServer) -> Socket {
    let url = format!("{}/realtime?model=gpt-realtime", server.openai_base_url());
    let mut request = url.into_client_request().expect("a valid URL");
    request
        .headers_mut()
        .insert("authorization", HeaderValue::from_static("Bearer sk-test"));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the mock accepts")
        .0
}

/// Reads events until one of type `kind`; every type seen on the way.
async fn until(socket: &mut Socket, kind: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let message = tokio::time::timeout(2 * HOLD, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no `{kind}` (saw {seen:?})"))
            .expect("the socket is open")
            .expect("a readable frame");
        let Message::Text(text) = message else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).expect("JSON");
        let event_type = event["type"].as_str().unwrap_or_default().to_owned();
        seen.push(event_type.clone());
        if event_type == kind {
            return seen;
        }
    }
}

async fn send(socket: &mut Socket, event: Value) {
    socket
        .send(Message::Text(event.to_string().into()))
        .await
        .expect("sent");
}

/// The bundled weather question, then a second of silence (the VAD's end
/// of turn), as appends of 100 ms.
fn turn_audio() -> Vec<Value> {
    let wav = understudy_fixtures::bundled::audio("user-weather-24k.wav").expect("bundled");
    let (mut pcm, rate) = understudy_fixtures::wav::read_pcm16(wav).expect("a WAV");
    assert_eq!(rate, 24_000);
    pcm.extend(vec![0u8; 48_000]);
    pcm.chunks(4_800)
        .map(|chunk| {
            json!({
                "type": "input_audio_buffer.append",
                "audio": base64::engine::general_purpose::STANDARD.encode(chunk),
            })
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_slow_recognition_does_not_hold_up_another_sessions_frames() {
    // The first recognition says it started, then holds until released.
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let armed = AtomicBool::new(true);
    let recognising = Arc::new(AtomicBool::new(false));
    let released = Arc::new(AtomicBool::new(false));
    let (in_hook, released_in_hook) = (Arc::clone(&recognising), Arc::clone(&released));
    let hook = move || {
        if !armed.swap(false, SeqCst) {
            return;
        }
        in_hook.store(true, SeqCst);
        let _ = started_tx.send(());
        let release = release_rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv_timeout(HOLD);
        released_in_hook.store(release.is_ok(), SeqCst);
        in_hook.store(false, SeqCst);
    };
    let mut config = ResponderConfig::with_voice(crate::bundled_voice().expect("voice"));
    config.recognition_hook = Some(RecognitionHook(Arc::new(hook)));
    let server = MockServer::builder()
        .respond(config)
        .start()
        .await
        .expect("starts");

    let mut other = connect(&server).await;
    until(&mut other, "session.created").await;
    let mut speaker = connect(&server).await;
    until(&mut speaker, "session.created").await;

    // The speaker's turn ends; its recognition starts and holds.
    for append in turn_audio() {
        send(&mut speaker, append).await;
    }
    tokio::time::timeout(2 * HOLD, started_rx.recv())
        .await
        .expect("the turn's recognition started")
        .expect("the hook is alive");

    // Meanwhile the other session is answered, frame by frame.
    send(
        &mut other,
        json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Hello there"}]}}),
    )
    .await;
    send(&mut other, json!({"type": "response.create"})).await;
    let seen = until(&mut other, "response.output_audio.delta").await;
    assert!(seen.contains(&"response.created".to_owned()), "{seen:?}");
    assert!(
        recognising.load(SeqCst),
        "the other session's audio went out only after the slow recognition ended: \
         the recognition held up the thread both sessions share"
    );

    // Released, the speaker's turn ends as it always did.
    release_tx.send(()).expect("the hook waits");
    let turn = until(&mut speaker, "response.done").await;
    assert!(
        released.load(SeqCst),
        "released by the test, not by its timeout"
    );
    let position = |kind: &str| {
        turn.iter()
            .position(|t| t == kind)
            .unwrap_or_else(|| panic!("no `{kind}` in {turn:?}"))
    };
    assert!(
        position("input_audio_buffer.speech_started")
            < position("input_audio_buffer.speech_stopped")
    );
    assert!(
        position("input_audio_buffer.speech_stopped") < position("input_audio_buffer.committed")
    );
    assert!(position("input_audio_buffer.committed") < position("response.created"));
    assert!(position("response.created") < position("response.output_audio.delta"));
    server.shutdown().await;
}
