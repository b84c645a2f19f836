//! Sending a cassette's client side to an endpoint and keeping what comes back.
//!
//! [`resend`] opens the session the cassette opened (its recorded upgrade
//! request, path and query, against another origin), sends every recorded
//! client frame paced the way the recording paced it, and returns what the
//! endpoint answered as a new cassette: the same header, the frames both
//! ways with their times since connect. Anything that grades an endpoint
//! against a recording builds on it: the replay check here (our replay mock
//! must give back every recorded server frame, in order) and drift against
//! any target (the new cassette diffs against the old one).
//!
//! Pacing: a client frame is sent once as many server frames have arrived as
//! had arrived before it in the recording, plus the gap the recording shows
//! between the last of those and the frame (divided by the speed). So a tool
//! result waits for its tool call, and audio streamed while the server talks
//! keeps its spacing. An endpoint that sends fewer frames than the recording
//! does not stall the run: each wait is bounded by
//! [`ResendOptions::wait_limit`], after which the frame is sent anyway.
//!
//! HTTP dialects (speech, chat completions) are one exchange: the recorded
//! request is sent as recorded and the answer is kept with its chunks' times.

use super::wire::{frame_body, wire_frame};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error, ProtocolError};
use understudy_adapters::client::{frame_of, message_of, open_socket_with_response, Socket};
use understudy_adapters::registry::{
    self, ConnectOptions, DialectSpec, KeyPlacement, LookupError, Placement,
};
use understudy_adapters::{ClientError, TlsTrust, WireFrame};
use understudy_fixtures::{
    Cassette, ChunkData, Direction, Frame, FrameBody, Headers, HttpBody, HttpChunk, HttpRequest,
    HttpResponse, Origin, SCRUBBED, SCRUBBED_QUERY,
};

/// How [`resend`] connects and paces.
#[derive(Debug, Clone)]
pub struct ResendOptions {
    /// The API key, placed where the dialect's clients put it (none sends none).
    pub api_key: Option<String>,
    /// Asks a replaying mock for this cassette, where the dialect's clients
    /// put that choice (`?cassette=` or a header); `None` lets it pick.
    pub cassette_choice: Option<String>,
    /// Which certificate authorities a `wss://` or `https://` origin is checked against.
    pub trust: TlsTrust,
    /// Recorded gaps are divided by this (1.0 = the recording's own pace).
    pub speed: f64,
    /// The longest a client frame waits for the server frames that preceded
    /// it in the recording, and the longest the run waits for the rest of the
    /// answer after its last client frame.
    pub wait_limit: Duration,
    /// How long the run keeps listening once the answer is as long as the
    /// recorded one (or the endpoint went quiet), to catch extra frames.
    pub settle: Duration,
}

impl Default for ResendOptions {
    fn default() -> Self {
        ResendOptions {
            api_key: None,
            cassette_choice: None,
            trust: TlsTrust::System,
            speed: 1.0,
            wait_limit: Duration::from_secs(5),
            settle: Duration::from_millis(200),
        }
    }
}

/// Why a cassette could not be resent.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// The cassette's dialect is not one this build speaks.
    #[error("the cassette's dialect: {0}")]
    Dialect(#[from] LookupError),
    /// The opening request could not be built from the cassette.
    #[error("cannot build the opening request: {0}")]
    Request(String),
    /// Connecting to the endpoint failed.
    #[error("connecting to the endpoint: {0}")]
    Connect(#[source] ClientError),
    /// Sending a client frame failed.
    #[error("sending client frame {index}: {source}")]
    Send {
        /// The frame's index in the cassette.
        index: usize,
        /// The socket's complaint.
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The HTTP exchange failed.
    #[error("the HTTP exchange: {0}")]
    Http(#[source] reqwest::Error),
}

/// Sends `cassette`'s client side to the endpoint at `origin` (scheme and
/// authority, `ws://127.0.0.1:PORT` or `https://api.example.com`; the
/// recorded path is appended) and returns what came back as a cassette: the
/// original header (origin `recorded`, no sidecars, `upstream` the endpoint)
/// and every frame sent and received, with its time since connect.
pub async fn resend(
    cassette: &Cassette,
    origin: &str,
    options: &ResendOptions,
) -> Result<Cassette, ResendError> {
    let dialect = registry::dialect(&cassette.header.dialect)?;
    let frames = if dialect.kind.is_websocket() {
        resend_websocket(cassette, dialect, origin, options).await?
    } else {
        resend_http(cassette, dialect, origin, options).await?
    };
    let mut header = cassette.header.clone();
    header.origin = Origin::Recorded;
    header.audio.clear();
    header.upstream = Some(origin.to_owned());
    header.incomplete = false;
    header.incomplete_reason = None;
    let mut again = Cassette::new(header);
    again.frames = frames;
    Ok(again)
}

/// The recorded request that opened the session or made the call.
fn opening(cassette: &Cassette) -> Option<&HttpRequest> {
    cassette.frames.iter().find_map(|f| match &f.body {
        FrameBody::HttpRequest(request) if f.is_client() => Some(request),
        _ => None,
    })
}

/// Headers a client library sets itself, or that carry a recorded secret.
fn replayable_header(name: &str, value: &str) -> bool {
    const OWN: &[&str] = &[
        "host",
        "connection",
        "upgrade",
        "content-length",
        "transfer-encoding",
        "accept-encoding",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "authorization",
    ];
    !OWN.contains(&name.to_ascii_lowercase().as_str()) && !value.contains(SCRUBBED)
}

/// `origin` with its scheme switched to the transport: `ws`/`wss` for a
/// WebSocket, `http`/`https` otherwise.
fn origin_for(origin: &str, websocket: bool) -> String {
    let origin = origin.trim_end_matches('/');
    let swaps: [(&str, &str); 2] = if websocket {
        [("http://", "ws://"), ("https://", "wss://")]
    } else {
        [("ws://", "http://"), ("wss://", "https://")]
    };
    for (from, to) in swaps {
        if let Some(rest) = origin.strip_prefix(from) {
            return format!("{to}{rest}");
        }
    }
    origin.to_owned()
}

/// The URL and headers to open with: the recorded request against `origin`
/// (scrubbed values dropped), the key and the cassette choice placed where the
/// dialect's clients put them. A cassette with no recorded request opens the
/// way the dialect's own clients do.
fn opening_parts(
    cassette: &Cassette,
    dialect: &'static DialectSpec,
    origin: &str,
    options: &ResendOptions,
) -> Result<(String, Vec<(String, String)>), ResendError> {
    let Some(request) = opening(cassette) else {
        // The dialect's own clients' request, key and cassette choice included.
        let base = dialect.connect.base_url_at(origin);
        let mut connect = ConnectOptions::new(dialect, base, cassette.header.model.clone());
        if let Some(key) = &options.api_key {
            connect = connect.api_key(key.clone());
        }
        if let Some(choice) = &options.cassette_choice {
            connect = connect.cassette(choice.clone());
        }
        let request = connect
            .request()
            .map_err(|e| ResendError::Request(e.to_string()))?;
        let headers = request
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .filter(|(n, _)| replayable_header(n, "") || n == "authorization")
            .collect();
        return Ok((request.uri().to_string(), headers));
    };
    let mut url = url::Url::parse(&format!("{origin}{}", request.path))
        .map_err(|e| ResendError::Request(format!("{origin}{}: {e}", request.path)))?;
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(_, v)| v != SCRUBBED_QUERY && !v.contains(SCRUBBED))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(n, v)| replayable_header(n, v))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let mut place = |placement: Placement, value: &str| match placement {
        Placement::Query(name) => {
            query.retain(|(k, _)| k != name);
            query.push((name.to_owned(), value.to_owned()));
        }
        Placement::Header(name) => {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value.to_owned()));
        }
    };
    if let Some(key) = &options.api_key {
        match dialect.connect.key {
            KeyPlacement::Bearer => {
                place(Placement::Header("authorization"), &format!("Bearer {key}"))
            }
            KeyPlacement::Header(name) => place(Placement::Header(name), key),
            KeyPlacement::Query(name) => place(Placement::Query(name), key),
        }
    }
    if let Some(choice) = &options.cassette_choice {
        place(dialect.connect.cassette, choice);
    }
    url.set_query(None);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(&query);
    }
    Ok((url.to_string(), headers))
}

/// For each recorded client WebSocket frame: its index, how many server
/// frames preceded it, and its gap after the last of them (or after connect).
fn client_plan(cassette: &Cassette) -> Vec<(usize, usize, Duration)> {
    let mut server_seen = 0;
    let mut anchor_us = 0;
    let mut plan = Vec::new();
    for (index, frame) in cassette.frames.iter().enumerate() {
        if wire_frame(frame).is_none() {
            continue;
        }
        if frame.is_server() {
            server_seen += 1;
            anchor_us = frame.t_us;
        } else {
            let gap = Duration::from_micros(frame.t_us.saturating_sub(anchor_us));
            plan.push((index, server_seen, gap));
        }
    }
    plan
}

/// Micros since `started`.
fn since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A live WebSocket exchange and the frames it has seen.
struct Exchange {
    socket: Socket,
    started: Instant,
    frames: Vec<Frame>,
    /// Instants of the server frames received, in order.
    server_at: Vec<Instant>,
    closed: bool,
}

impl Exchange {
    /// Reads server frames until `deadline`, or until `enough` says stop.
    async fn read_until(&mut self, deadline: Instant, enough: impl Fn(&Exchange) -> bool) {
        while !self.closed && !enough(self) {
            match timeout_at(deadline, self.socket.next()).await {
                Err(_) => return,
                Ok(None) | Ok(Some(Err(_))) => self.closed = true,
                Ok(Some(Ok(message))) => {
                    let Some(frame) = frame_of(message) else {
                        continue;
                    };
                    let closing = matches!(frame, WireFrame::Close { .. });
                    self.server_at.push(Instant::now());
                    self.frames.push(Frame::new(
                        since(self.started),
                        Direction::ServerToClient,
                        frame_body(frame),
                    ));
                    self.closed |= closing;
                }
            }
        }
    }
}

async fn resend_websocket(
    cassette: &Cassette,
    dialect: &'static DialectSpec,
    origin: &str,
    options: &ResendOptions,
) -> Result<Vec<Frame>, ResendError> {
    let (url, headers) = opening_parts(cassette, dialect, &origin_for(origin, true), options)?;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| ResendError::Request(e.to_string()))?;
    for (name, value) in dialect.connect.headers.iter().map(|(n, v)| (*n, *v)) {
        insert_header(request.headers_mut(), name, value)?;
    }
    for (name, value) in &headers {
        insert_header(request.headers_mut(), name, value)?;
    }
    let sent_request = HttpRequest {
        method: "GET".into(),
        path: request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        headers: headers_of(request.headers()),
        body: None,
    };
    let started = Instant::now();
    let (socket, response) = open_socket_with_response(request, &options.trust)
        .await
        .map_err(ResendError::Connect)?;
    let mut exchange = Exchange {
        socket,
        started,
        frames: vec![Frame::new(
            0,
            Direction::ClientToServer,
            FrameBody::HttpRequest(sent_request),
        )],
        server_at: Vec::new(),
        closed: false,
    };
    exchange.frames.push(Frame::new(
        since(started),
        Direction::ServerToClient,
        FrameBody::HttpResponse(HttpResponse {
            status: response.status().as_u16(),
            headers: headers_of(response.headers()),
            body: None,
            chunks: Vec::new(),
        }),
    ));
    let speed = if options.speed > 0.0 && options.speed.is_finite() {
        options.speed
    } else {
        1.0
    };
    for (index, after, gap) in client_plan(cassette) {
        if exchange.closed {
            tracing::debug!(index, "the endpoint closed; the rest is not sent");
            break;
        }
        let waited = Instant::now() + options.wait_limit;
        exchange
            .read_until(waited, |e| e.server_at.len() >= after)
            .await;
        let anchor = match after {
            0 => started,
            n => exchange
                .server_at
                .get(n - 1)
                .copied()
                .unwrap_or_else(Instant::now),
        };
        let send_at = anchor + gap.div_f64(speed);
        exchange.read_until(send_at, |_| false).await;
        if exchange.closed {
            // It closed while the frame waited for its time (a refusal).
            tracing::debug!(index, "the endpoint closed; the rest is not sent");
            break;
        }
        let Some(frame) = cassette.frames.get(index).and_then(wire_frame) else {
            continue;
        };
        let closing = matches!(frame, WireFrame::Close { .. });
        let body = frame_body(frame.clone());
        match exchange.socket.send(message_of(frame)).await {
            Ok(()) => {}
            // The endpoint closed first (tungstenite has already answered its
            // close): what it sent is kept, the rest of the recording is not sent.
            Err(Error::ConnectionClosed | Error::AlreadyClosed)
            | Err(Error::Protocol(ProtocolError::SendAfterClosing)) => {
                tracing::debug!(index, "the connection is closed; the rest is not sent");
                exchange.closed = true;
                break;
            }
            Err(source) => {
                return Err(ResendError::Send {
                    index,
                    source: Box::new(source),
                })
            }
        }
        exchange
            .frames
            .push(Frame::new(since(started), Direction::ClientToServer, body));
        if closing {
            // Nothing follows a client's close but the server's answer to it.
            break;
        }
    }
    let recorded_server = cassette
        .frames
        .iter()
        .filter(|f| f.is_server() && wire_frame(f).is_some())
        .count();
    let deadline = Instant::now() + options.wait_limit;
    exchange
        .read_until(deadline, |e| e.server_at.len() >= recorded_server)
        .await;
    // Then until the endpoint goes quiet for `settle`.
    loop {
        let before = exchange.frames.len();
        exchange
            .read_until(Instant::now() + options.settle, |_| false)
            .await;
        if exchange.closed || exchange.frames.len() == before {
            break;
        }
    }
    if !exchange.closed {
        // Best effort: the exchange is already recorded, and a socket the
        // endpoint dropped has nothing left to close.
        let _ = exchange.socket.close(None).await;
    }
    Ok(exchange.frames)
}

fn insert_header(
    headers: &mut http::HeaderMap,
    name: &str,
    value: &str,
) -> Result<(), ResendError> {
    registry::insert_header(headers, name, value).map_err(|e| ResendError::Request(e.to_string()))
}

fn headers_of(map: &http::HeaderMap) -> Headers {
    let mut headers = Headers::new();
    for (name, value) in map {
        headers.append(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    headers
}

async fn resend_http(
    cassette: &Cassette,
    dialect: &'static DialectSpec,
    origin: &str,
    options: &ResendOptions,
) -> Result<Vec<Frame>, ResendError> {
    let Some(recorded) = opening(cassette) else {
        return Err(ResendError::Request(
            "an HTTP cassette with no recorded request".into(),
        ));
    };
    let (url, headers) = opening_parts(cassette, dialect, &origin_for(origin, false), options)?;
    let method = http::Method::from_bytes(recorded.method.as_bytes())
        .map_err(|e| ResendError::Request(format!("method {}: {e}", recorded.method)))?;
    let mut client = reqwest::Client::builder();
    if let TlsTrust::SystemAnd(pem) | TlsTrust::Only(pem) = &options.trust {
        let certificate = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| ResendError::Request(format!("the trusted certificate: {e}")))?;
        client = client.add_root_certificate(certificate);
    }
    let client = client.build().map_err(ResendError::Http)?;
    let mut request = client.request(method, &url);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    request = match &recorded.body {
        Some(HttpBody::Json(json)) => request
            .header("content-type", "application/json")
            .body(json.to_string()),
        Some(HttpBody::Text(text)) => request.body(text.clone()),
        Some(HttpBody::Bytes(bytes)) => request.body(bytes.clone()),
        None => request,
    };
    let started = Instant::now();
    let sent = Frame::new(
        0,
        Direction::ClientToServer,
        FrameBody::HttpRequest(HttpRequest {
            headers: headers.iter().fold(Headers::new(), |mut h, (n, v)| {
                h.append(n.as_str(), v.as_str());
                h
            }),
            ..recorded.clone()
        }),
    );
    let response = request.send().await.map_err(ResendError::Http)?;
    let status = response.status().as_u16();
    let response_headers = headers_of(response.headers());
    let mut stream = response.bytes_stream();
    let mut chunks = Vec::new();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(ResendError::Http)?;
        let data = match std::str::from_utf8(&piece) {
            Ok(text) => ChunkData::Text(text.to_owned()),
            Err(_) => ChunkData::Bytes(piece.to_vec()),
        };
        chunks.push(HttpChunk {
            t_us: since(started),
            data,
        });
    }
    let answered = Frame::new(
        since(started),
        Direction::ServerToClient,
        FrameBody::HttpResponse(HttpResponse {
            status,
            headers: response_headers,
            body: None,
            chunks,
        }),
    );
    Ok(vec![sent, answered])
}

#[cfg(test)]
mod tests {
    use super::{client_plan, origin_for, replayable_header};
    use serde_json::json;
    use std::time::Duration;
    use understudy_fixtures::{Cassette, Direction, Frame, Header, Origin};

    #[test]
    fn each_client_frame_waits_for_the_server_frames_before_it() {
        let mut cassette = Cassette::new(Header::new("openai", "openai-ga", "m", Origin::Recorded));
        let c2s = Direction::ClientToServer;
        let s2c = Direction::ServerToClient;
        cassette.frames = vec![
            Frame::text_json(1_000, c2s, json!({"type": "session.update"})),
            Frame::text_json(5_000, s2c, json!({"type": "session.updated"})),
            Frame::text_json(9_000, c2s, json!({"type": "response.create"})),
            Frame::text_json(20_000, s2c, json!({"type": "response.done"})),
            Frame::close(30_000, c2s, 1000, ""),
        ];
        assert_eq!(
            client_plan(&cassette),
            [
                (0, 0, Duration::from_micros(1_000)),
                (2, 1, Duration::from_micros(4_000)),
                (4, 2, Duration::from_micros(10_000)),
            ]
        );
    }

    #[test]
    fn origins_follow_the_transport_and_secrets_are_not_replayed() {
        assert_eq!(origin_for("http://h:1/", true), "ws://h:1");
        assert_eq!(origin_for("wss://h", false), "https://h");
        assert_eq!(origin_for("ws://h", true), "ws://h");
        assert!(!replayable_header("Authorization", "Bearer x"));
        assert!(!replayable_header("x-api-key", "<scrubbed>"));
        assert!(replayable_header("OpenAI-Beta", "realtime=v1"));
    }
}
