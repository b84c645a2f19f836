//! Writes a client WebSocket frame byte by byte, past the client library's
//! checks: a text frame that is not UTF-8, or a header that announces more
//! bytes than the server accepts (followed by only a few of them). Shared by
//! the mock's and the deployment server's socket-edge tests.

use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Opcode of a text frame.
pub const TEXT: u8 = 0x1;

/// Writes one final, masked client frame with `opcode`, a header announcing
/// `announced` payload bytes, and `payload` (which may be shorter).
pub async fn write_raw_frame<S: AsyncWrite + Unpin>(
    stream: &mut S,
    opcode: u8,
    announced: u64,
    payload: &[u8],
) {
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode];
    match announced {
        0..=125 => frame.push(0x80 | announced as u8),
        126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(announced as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&announced.to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    stream.write_all(&frame).await.unwrap();
    stream.flush().await.unwrap();
}
