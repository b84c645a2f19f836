//! Reading a request's head under a deadline, before the HTTP server sees
//! the connection.
//!
//! hyper, as `axum::serve` runs it, waits for a request's headers forever;
//! given a timer, it closes a connection whose head is late without a word.
//! So each accepted
//! connection is read here first, in its own task, until the blank line that
//! ends the head (or [`MAX_HEAD_BYTES`], past which the HTTP server answers
//! `431` itself). A client that does not get there in time is answered
//! [`REQUEST_TIMEOUT`] and closed; one that does is handed on as a
//! [`Rewind`], which gives the HTTP server the bytes read here before the
//! rest of the socket.
//!
//! Only a connection's first request is timed this way; later requests on a
//! kept-alive connection are timed by hyper, which `serve_limits::serve`
//! (the `axum` feature) runs with a timer and the same header timeout (a
//! late one closes the connection, without a `408`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Most head bytes read here; a longer head is handed on as it is (the HTTP
/// server refuses it with `431`).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The answer to a head that did not arrive in time (RFC 9110 §15.5.9):
/// `408 Request Timeout` with `Connection: close`.
pub const REQUEST_TIMEOUT: &[u8] = b"HTTP/1.1 408 Request Timeout\r\n\
content-type: text/plain; charset=utf-8\r\n\
content-length: 43\r\n\
connection: close\r\n\
\r\n\
the request headers did not arrive in time\n";

/// Why a connection was not handed on.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The head did not end within the timeout (the client was answered 408).
    #[error("the request head did not arrive within {0:?}")]
    TimedOut(Duration),
    /// The client closed before its head ended.
    #[error("the client closed before its request head ended")]
    Closed,
    /// Reading failed.
    #[error("reading the request head failed: {0}")]
    Io(#[from] io::Error),
}

/// Reads `stream` until its request head ends (or [`MAX_HEAD_BYTES`]),
/// within `timeout` when there is one. On time, the stream with what was
/// read put back; late, `408` is written, the stream shut and
/// [`HeadError::TimedOut`] returned.
pub async fn read_head<S>(mut stream: S, timeout: Option<Duration>) -> Result<Rewind<S>, HeadError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = Vec::with_capacity(1024);
    let read = read_until_blank_line(&mut stream, &mut head);
    let outcome = match timeout {
        Some(limit) => tokio::time::timeout(limit, read).await.ok(),
        None => Some(read.await),
    };
    match outcome {
        Some(Ok(())) => Ok(Rewind::new(head, stream)),
        Some(Err(error)) => Err(error),
        None => {
            let limit = timeout.unwrap_or_default();
            // Best effort: a client that stopped reading must not hold the task.
            let answer = async {
                stream.write_all(REQUEST_TIMEOUT).await?;
                stream.shutdown().await
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
            Err(HeadError::TimedOut(limit))
        }
    }
}

async fn read_until_blank_line<S>(stream: &mut S, head: &mut Vec<u8>) -> Result<(), HeadError>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        let searched_from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        if head[searched_from..].windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(());
        }
        if head.len() >= MAX_HEAD_BYTES {
            return Ok(());
        }
    }
}

/// A stream that first yields bytes already read from it.
#[derive(Debug)]
pub struct Rewind<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Rewind<S> {
    /// `inner`, preceded by `prefix`.
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Rewind {
            prefix,
            at: 0,
            inner,
        }
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The bytes still to be given back before the stream's own (the
    /// request head, until something reads it).
    pub fn prefix(&self) -> &[u8] {
        &self.prefix[self.at..]
    }

    /// The bytes still to be given back, and the stream: for moving the
    /// connection elsewhere (another runtime) and rewinding it there.
    pub fn into_parts(self) -> (Vec<u8>, S) {
        let Rewind {
            mut prefix,
            at,
            inner,
        } = self;
        prefix.drain(..at);
        (prefix, inner)
    }
}

/// The request target of a request head (`/path?query` of
/// `GET /path?query HTTP/1.1`), if its first line has one.
pub fn request_target(head: &[u8]) -> Option<&str> {
    let line_end = head.iter().position(|&b| b == b'\r' || b == b'\n')?;
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let _method = parts.next().filter(|m| !m.is_empty())?;
    let target = parts.next().filter(|t| !t.is_empty())?;
    parts.next()?.starts_with("HTTP/").then_some(target)
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.at < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.at);
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            if this.at == this.prefix.len() {
                // Given back: free it for the connection's lifetime.
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_408_says_its_length_right() {
        let text = std::str::from_utf8(REQUEST_TIMEOUT).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }

    #[tokio::test]
    async fn a_whole_head_is_handed_on_with_its_bytes_first() {
        let (mut client, server) = tokio::io::duplex(4096);
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\nrest")
            .await
            .unwrap();
        let mut rewound = read_head(server, Some(Duration::from_secs(5)))
            .await
            .expect("head");
        let mut got = vec![0u8; 31];
        rewound.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"GET / HTTP/1.1\r\nhost: x\r\n\r\nrest");
    }

    #[test]
    fn the_request_target_is_the_first_lines_middle() {
        assert_eq!(
            request_target(b"GET /__understudy/sessions?limit=5 HTTP/1.1\r\nhost: x\r\n\r\n"),
            Some("/__understudy/sessions?limit=5")
        );
        assert_eq!(request_target(b"GET / HTTP/1.1\r\n"), Some("/"));
        assert_eq!(request_target(b"GET /no-version\r\n"), None);
        assert_eq!(request_target(b"GET /unended HTTP/1.1"), None);
        assert_eq!(request_target(b"\r\n"), None);
        assert_eq!(request_target(b"GET \xff HTTP/1.1\r\n"), None);
    }

    #[tokio::test]
    async fn parts_keep_only_what_was_not_given_back_yet() {
        let (mut client, server) = tokio::io::duplex(4096);
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut rewound = read_head(server, None).await.expect("head");
        assert_eq!(rewound.prefix(), b"GET / HTTP/1.1\r\n\r\n");
        let mut first = [0u8; 4];
        rewound.read_exact(&mut first).await.unwrap();
        assert_eq!(rewound.prefix(), b"/ HTTP/1.1\r\n\r\n");
        let (rest, _stream) = rewound.into_parts();
        assert_eq!(rest, b"/ HTTP/1.1\r\n\r\n");
    }

    #[tokio::test]
    async fn a_head_split_across_reads_is_found() {
        let (mut client, server) = tokio::io::duplex(4096);
        let reader = tokio::spawn(read_head(server, Some(Duration::from_secs(5))));
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        client.write_all(b"\n\r\n").await.unwrap();
        assert!(reader.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_stalled_head_gets_408_and_is_closed() {
        let (mut client, server) = tokio::io::duplex(4096);
        client.write_all(b"GET / HTTP/1.1\r\nhost:").await.unwrap();
        let outcome = read_head(server, Some(Duration::from_millis(50))).await;
        assert!(
            matches!(outcome, Err(HeadError::TimedOut(_))),
            "{outcome:?}"
        );
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, REQUEST_TIMEOUT);
    }
}
