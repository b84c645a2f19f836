//! A scripted HTTP/1.1 server over a real socket, for what wiremock cannot do:
//! a chunked body sent piece by piece with pauses, a stall mid-body, and
//! noticing when the client hangs up.

use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One step of a scripted response body.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send these bytes as one HTTP chunk.
    Chunk(Vec<u8>),
    /// Wait.
    Pause(Duration),
    /// Stop sending and wait for the client to hang up.
    Stall,
}

/// What the server saw.
#[derive(Debug)]
pub enum Seen {
    /// A request arrived: its head and body.
    Request { head: String, body: Vec<u8> },
    /// A step of the body went out (its index).
    Sent(usize),
    /// The client closed the connection while the server stalled.
    ClientHungUp,
}

/// Serves `script` (status line, content type, steps) to every connection; returns
/// the base URL and a feed of what happened.
pub async fn serve(
    status: &'static str,
    content_type: &'static str,
    script: Vec<Step>,
) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut byte = [0u8; 1024];
                let head_end = loop {
                    let n = socket.read(&mut byte).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&byte[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = socket.read(&mut byte).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&byte[..n]);
                }
                let body = buf[head_end..head_end + length].to_vec();
                let _ = tx.send(Seen::Request { head, body });
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
                );
                if socket.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
                for (i, step) in script.iter().enumerate() {
                    match step {
                        Step::Chunk(bytes) => {
                            let mut frame = format!("{:x}\r\n", bytes.len()).into_bytes();
                            frame.extend_from_slice(bytes);
                            frame.extend_from_slice(b"\r\n");
                            if socket.write_all(&frame).await.is_err() {
                                return;
                            }
                            let _ = socket.flush().await;
                        }
                        Step::Pause(d) => tokio::time::sleep(*d).await,
                        Step::Stall => {
                            // Reads return 0 once the client has closed its end.
                            let mut sink = [0u8; 64];
                            while let Ok(n) = socket.read(&mut sink).await {
                                if n == 0 {
                                    break;
                                }
                            }
                            let _ = tx.send(Seen::ClientHungUp);
                            return;
                        }
                    }
                    let _ = tx.send(Seen::Sent(i));
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    (format!("http://{addr}"), rx)
}
