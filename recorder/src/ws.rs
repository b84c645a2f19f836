//! The WebSocket side: open the upstream first (so a refusal reaches the client
//! as the provider sent it), then accept the client with the subprotocol the
//! upstream chose and pump frames both ways, recording each as it passes.

use crate::capture::{Capture, Payload};
use crate::endpoint;
use crate::headers::{forwarded_request_headers, recorded_headers, relayed_response};
use crate::shared::Shared;
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self as ts, Message as TsMessage};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use understudy_fixtures::{Direction, HttpRequest, HttpResponse};

/// Largest message either side may send through the proxy; the providers'
/// own limits apply upstream, the proxy should not impose a smaller one.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// How long to wait for the other side's close after one side closed.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

type Upstream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Handles one WebSocket upgrade.
pub(crate) async fn proxy(
    shared: Arc<Shared>,
    parts: Parts,
    upgrade: WebSocketUpgrade,
    start: Instant,
) -> Response {
    let path = crate::headers::path_and_query(&parts);
    let endpoint = endpoint::websocket(shared.provider, &path, &parts.headers);
    let forwarded = forwarded_request_headers(&parts.headers);
    let request = HttpRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: recorded_headers(&forwarded),
        body: None,
    };
    let shown_path = shared.scrubber.path(&path);
    let capture = Capture::begin(&shared, endpoint, request, start);
    let target = shared.upstream.target(&path, true);
    let mut upstream_request = match target.as_str().into_client_request() {
        Ok(request) => request,
        Err(error) => {
            let reason = format!("cannot form the upstream request for {shown_path}: {error}");
            capture.incomplete(reason.clone());
            return bad_gateway(&reason);
        }
    };
    for (name, value) in forwarded.iter() {
        upstream_request
            .headers_mut()
            .append(name.clone(), value.clone());
    }
    let connector = target
        .starts_with("wss://")
        .then(|| Connector::Rustls(shared.upstream.tls()));
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let connected = tokio_tungstenite::connect_async_tls_with_config(
        upstream_request,
        Some(config),
        true,
        connector,
    )
    .await;
    let (upstream, response) = match connected {
        Ok(connected) => connected,
        Err(ts::Error::Http(refusal)) => {
            let status = refusal.status();
            let body = refusal.body().clone().unwrap_or_default();
            capture
                .frame(
                    Instant::now(),
                    Direction::ServerToClient,
                    Payload::Response(HttpResponse {
                        status: status.as_u16(),
                        headers: recorded_headers(refusal.headers()),
                        body: crate::headers::body_of(refusal.headers(), &body),
                        chunks: Vec::new(),
                    }),
                )
                .await;
            capture.incomplete(format!(
                "the upstream refused the WebSocket upgrade with HTTP {status}"
            ));
            tracing::warn!(path = %shown_path, %status, "upstream refused the WebSocket upgrade");
            return relayed_response(status, refusal.headers(), Bytes::from(body));
        }
        Err(error) => {
            let reason = format!(
                "cannot open the upstream WebSocket {}{shown_path}: {error}",
                shared.upstream.host()
            );
            tracing::warn!("{}", shared.scrubber.text(&reason));
            capture.incomplete(reason.clone());
            return bad_gateway(&reason);
        }
    };
    capture
        .frame(
            Instant::now(),
            Direction::ServerToClient,
            Payload::Response(HttpResponse {
                status: response.status().as_u16(),
                headers: recorded_headers(response.headers()),
                body: None,
                chunks: Vec::new(),
            }),
        )
        .await;
    let mut upgrade = upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES);
    if let Some(chosen) = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
    {
        upgrade = upgrade.protocols([chosen.to_owned()]);
    }
    let failed = capture.clone();
    let stop = shared.stop.clone();
    upgrade
        .on_failed_upgrade(move |error| {
            failed.incomplete(format!("the client's upgrade failed: {error}"));
        })
        .on_upgrade(move |client| pump(client, upstream, capture, stop))
        .into_response()
}

fn bad_gateway(reason: &str) -> Response {
    (
        axum::http::StatusCode::BAD_GATEWAY,
        format!("understudy record: {reason}\n"),
    )
        .into_response()
}

/// Whether a side is still sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Open,
    /// It sent a close frame.
    Closed,
    /// Sending to it failed.
    Gone,
}

/// Forwards frames both ways until both sides have closed (or one vanished).
async fn pump(
    client: WebSocket,
    upstream: Upstream,
    capture: Capture,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (mut client_tx, mut client_rx) = client.split();
    let (mut upstream_tx, mut upstream_rx) = upstream.split();
    let mut client = Side::Open;
    let mut server = Side::Open;
    let mut deadline: Option<tokio::time::Instant> = None;
    // Whether the upstream vanished without a close: the client is then
    // dropped the same way instead of being sent a close the upstream never sent.
    let mut upstream_vanished = false;
    loop {
        if client != Side::Open && server != Side::Open {
            break;
        }
        let grace = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = client_rx.next(), if client == Side::Open => {
                let at = Instant::now();
                match message {
                    Some(Ok(message)) => {
                        let Some((payload, outgoing, closing)) = from_client(message) else { continue };
                        capture.frame(at, Direction::ClientToServer, payload).await;
                        let sent = upstream_tx.send(outgoing).await;
                        capture.forwarded(at.elapsed());
                        if closing {
                            client = Side::Closed;
                            deadline.get_or_insert_with(|| tokio::time::Instant::now() + CLOSE_GRACE);
                        } else if let Err(error) = sent {
                            if server == Side::Open {
                                capture.incomplete(format!("the upstream connection failed: {error}"));
                            }
                            server = Side::Gone;
                        }
                    }
                    Some(Err(error)) => {
                        if client == Side::Open && server == Side::Open {
                            capture.incomplete(format!("the client disconnected without a close frame ({error})"));
                        }
                        let _ = upstream_tx.send(going_away("client connection failed")).await;
                        break;
                    }
                    None => {
                        if client == Side::Open && server == Side::Open {
                            capture.incomplete("the client disconnected without a close frame");
                        }
                        let _ = upstream_tx.send(going_away("client went away")).await;
                        break;
                    }
                }
            }
            message = upstream_rx.next(), if server == Side::Open => {
                let at = Instant::now();
                match message {
                    Some(Ok(message)) => {
                        let Some((payload, outgoing, closing)) = from_upstream(message) else { continue };
                        capture.frame(at, Direction::ServerToClient, payload).await;
                        let sent = client_tx.send(outgoing).await;
                        capture.forwarded(at.elapsed());
                        if closing {
                            server = Side::Closed;
                            deadline.get_or_insert_with(|| tokio::time::Instant::now() + CLOSE_GRACE);
                        }
                        // A failed send to the client: its read side reports how it went.
                        drop(sent);
                    }
                    Some(Err(error)) => {
                        if client == Side::Open && server == Side::Open {
                            capture.incomplete(format!("the upstream connection failed mid-session: {error}"));
                        }
                        upstream_vanished = true;
                        // Drop the client the way the upstream dropped us.
                        break;
                    }
                    None => {
                        if client == Side::Open && server == Side::Open {
                            capture.incomplete("the upstream closed the connection without a close frame");
                        }
                        upstream_vanished = true;
                        break;
                    }
                }
            }
            () = grace => break,
            _ = stop.changed() => {
                capture.incomplete("the recorder was stopped while the session was open");
                let _ = upstream_tx.send(going_away("recorder stopped")).await;
                let _ = client_tx.send(ws::Message::Close(Some(ws::CloseFrame {
                    code: 1001,
                    reason: "recorder stopped".into(),
                }))).await;
                break;
            }
        }
    }
    if !upstream_vanished {
        let _ = client_tx.close().await;
    }
    let _ = upstream_tx.close().await;
}

fn going_away(reason: &str) -> TsMessage {
    TsMessage::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: reason.to_owned().into(),
    }))
}

/// A client message as recorded and as forwarded; `None` for pings and pongs,
/// which each side's WebSocket library answers itself.
fn from_client(message: ws::Message) -> Option<(Payload, TsMessage, bool)> {
    Some(match message {
        ws::Message::Text(text) => {
            let bytes = Bytes::from(text);
            // Valid UTF-8 already (axum checked it); the conversion re-checks.
            let text = ts::Utf8Bytes::try_from(bytes.clone()).ok()?;
            (Payload::Text(bytes), TsMessage::Text(text), false)
        }
        ws::Message::Binary(bytes) => (
            Payload::Binary(bytes.clone()),
            TsMessage::Binary(bytes),
            false,
        ),
        ws::Message::Close(close) => {
            let recorded = close
                .as_ref()
                .map(|c| (c.code, c.reason.as_str().to_owned()));
            let forwarded = close.map(|c| CloseFrame {
                code: CloseCode::from(c.code),
                reason: c.reason.as_str().to_owned().into(),
            });
            (Payload::Close(recorded), TsMessage::Close(forwarded), true)
        }
        ws::Message::Ping(_) | ws::Message::Pong(_) => return None,
    })
}

/// An upstream message as recorded and as forwarded to the client.
fn from_upstream(message: TsMessage) -> Option<(Payload, ws::Message, bool)> {
    Some(match message {
        TsMessage::Text(text) => {
            let bytes = Bytes::from(text);
            let text = ws::Utf8Bytes::try_from(bytes.clone()).ok()?;
            (Payload::Text(bytes), ws::Message::Text(text), false)
        }
        TsMessage::Binary(bytes) => (
            Payload::Binary(bytes.clone()),
            ws::Message::Binary(bytes),
            false,
        ),
        TsMessage::Close(close) => {
            let recorded = close
                .as_ref()
                .map(|c| (u16::from(c.code), c.reason.as_str().to_owned()));
            let forwarded = close.map(|c| ws::CloseFrame {
                code: u16::from(c.code),
                reason: c.reason.as_str().to_owned().into(),
            });
            (
                Payload::Close(recorded),
                ws::Message::Close(forwarded),
                true,
            )
        }
        TsMessage::Ping(_) | TsMessage::Pong(_) | TsMessage::Frame(_) => return None,
    })
}
