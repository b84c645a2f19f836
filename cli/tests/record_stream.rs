//! `understudy record` in front of an in-process echo upstream: keys split
//! across frames at every position, keys in encoded forms (percent, JSON
//! `\u`, base64 at every alignment in both alphabets) and keys inside audio
//! reach no cassette and no TRACE log; frames stream to a growing `.partial`
//! file (0600, in a folder made 0700) while the session is open; SIGTERM and
//! SIGINT both leave the open session as a valid incomplete cassette and
//! exit 0.

mod support;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::record::{cassettes, files, understudy, Record, KEY};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A WebSocket upstream that echoes every text and binary message back.
async fn echo_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_close() {
                        break;
                    }
                    let echo = message.is_text() || message.is_binary();
                    if echo && ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(record: &Record) -> Socket {
    let ws = record.url.replacen("http://", "ws://", 1);
    let mut request = format!("{ws}/v1/realtime?model=gpt-realtime")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// Sends `messages` and reads as many echoes back; returns them as text.
async fn exchange(socket: &mut Socket, messages: Vec<Message>) -> String {
    let count = messages.len();
    for message in messages {
        socket.send(message).await.unwrap();
    }
    let mut seen = String::new();
    for _ in 0..count {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an echo")
            .expect("open")
            .expect("a message");
        seen.push_str(&String::from_utf8_lossy(&message.into_data()));
    }
    seen
}

fn delta(text: &str) -> Message {
    Message::text(
        serde_json::json!({"type": "conversation.item.input_text.delta", "delta": text})
            .to_string(),
    )
}

fn percent_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The base64 of the key `align` bytes into a stream, both alphabets, with
/// the characters that depend on the surrounding bytes cut off.
fn base64_cores() -> Vec<String> {
    let mut cores = Vec::new();
    for align in 0..3 {
        let mut bytes = vec![b'x'; align];
        bytes.extend_from_slice(KEY.as_bytes());
        for encoded in [STANDARD.encode(&bytes), URL_SAFE.encode(&bytes)] {
            let start = (align * 8).div_ceil(6) + 1;
            cores.push(encoded[start..start + 24].to_owned());
        }
    }
    cores
}

/// Every split of the key across two frames, every encoded form, and audio
/// (base64 in JSON and a binary frame) with the key's bytes inside.
fn hostile_messages() -> Vec<Message> {
    let mut messages = Vec::new();
    for split in 1..KEY.len() {
        messages.push(delta(&format!("split {split}: {}", &KEY[..split])));
        messages.push(delta(&format!("{} end", &KEY[split..])));
    }
    let percent = percent_all(KEY);
    messages.push(Message::text(format!("GET /v1/x?key={percent}&y=1")));
    messages.push(Message::text(
        serde_json::json!({"type": "x", "url": format!("https://h/?key={}", KEY.replace('-', "%2d"))}).to_string(),
    ));
    let escaped: String = KEY.bytes().map(|b| format!("\\u{b:04x}")).collect();
    messages.push(Message::text(format!("raw {escaped} raw")));
    messages.push(Message::text(format!(
        r#"{{"type":"x","text":"{escaped}"}}"#
    )));
    for align in 0..3 {
        let mut bytes = b"abc"[..align].to_vec();
        bytes.extend_from_slice(KEY.as_bytes());
        bytes.extend_from_slice(b"!!");
        for encoded in [STANDARD.encode(&bytes), URL_SAFE_NO_PAD.encode(&bytes)] {
            messages.push(Message::text(
                serde_json::json!({"type": "x", "note": format!("token {encoded} end")})
                    .to_string(),
            ));
        }
    }
    let mut pcm = vec![1u8; 480];
    pcm.extend_from_slice(KEY.as_bytes());
    pcm.extend(vec![2u8; 480 - KEY.len() % 2]);
    messages.push(Message::text(
        serde_json::json!({"type": "input_audio_buffer.append", "audio": STANDARD.encode(&pcm)})
            .to_string(),
    ));
    messages.push(Message::binary(pcm));
    messages
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn partials(out: &Path) -> Vec<PathBuf> {
    files(out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect()
}

/// Waits until the session's `.jsonl.partial` is larger than `than`; its size.
fn partial_grows(out: &Path, than: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sizes: Vec<u64> = partials(out)
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".jsonl.partial"))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect();
        if let [size] = sizes[..] {
            if size > than {
                return size;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no growing .jsonl.partial in {}: {:?}",
            out.display(),
            files(out)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fails if any `width`-byte window of the key, or an encoded form of it,
/// occurs in any of `paths`.
fn assert_no_key(paths: &[PathBuf], width: usize) {
    let mut needles: Vec<Vec<u8>> = KEY.as_bytes().windows(width).map(<[u8]>::to_vec).collect();
    needles.push(percent_all(KEY).as_bytes()[..24].to_vec());
    needles.push(percent_all(KEY)[..24].to_lowercase().into_bytes());
    needles.extend(base64_cores().into_iter().map(String::into_bytes));
    for path in paths {
        let bytes = std::fs::read(path).unwrap();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == &needle[..]),
                "{} contains {:?}, a piece or form of the key",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

/// The recorded cassette of the stopped session: checks it is the only one,
/// valid, incomplete, private, and returns its header and frames.
fn stopped_cassette(out: &Path) -> (serde_json::Value, Vec<serde_json::Value>) {
    assert!(partials(out).is_empty(), "{:?}", files(out));
    let recorded = cassettes(out);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let (valid, report) = understudy(&["fixtures", "validate", recorded[0].to_str().unwrap()]);
    assert!(valid, "{report}");
    assert_eq!(mode(out), 0o700, "the folder the recorder made");
    for file in files(out) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let text = std::fs::read_to_string(&recorded[0]).unwrap();
    let mut lines = text.lines().map(|l| serde_json::from_str(l).unwrap());
    let header: serde_json::Value = lines.next().unwrap();
    assert_eq!(header["incomplete"], true, "{header}");
    assert!(
        header["incomplete_reason"]
            .as_str()
            .unwrap()
            .contains("stopped"),
        "{header}"
    );
    (header, lines.collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_and_encoded_keys_stream_to_a_private_partial_and_sigterm_keeps_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recordings");
    let upstream = echo_upstream().await;
    let record = Record::start(
        &upstream,
        &out,
        &[
            "--provider",
            "openai",
            "--secret-env",
            "UNDERSTUDY_TEST_KEY",
        ],
    );
    let mut socket = open(&record).await;
    let echoed = exchange(&mut socket, hostile_messages()).await;
    assert!(
        echoed.contains(&KEY[..20]) && echoed.contains(&percent_all(KEY)),
        "the upstream echoed the key back (else this proves nothing)"
    );

    // The session is open: its frames are on disk already, privately, and
    // the file grows as more pass.
    let first = partial_grows(&out, 0);
    for partial in partials(&out) {
        assert_eq!(mode(&partial), 0o600, "{}", partial.display());
    }
    assert_eq!(mode(&out), 0o700);
    let more = (0..20).map(|i| delta(&format!("more {i}"))).collect();
    exchange(&mut socket, more).await;
    partial_grows(&out, first);

    let log = record.stderr_path.clone();
    let printed = record.stop_with("-TERM");
    assert!(printed.contains("(1 incomplete)"), "{printed}");
    let (header, frames) = stopped_cassette(&out);
    assert_eq!(
        header["audio_zeroed"],
        serde_json::json!(["UNDERSTUDY_TEST_KEY"])
    );

    // Both directions' deltas read as if scrubbed whole: every split became
    // one replacement, and the echo's copy too.
    for dir in ["c2s", "s2c"] {
        let deltas: String = frames
            .iter()
            .filter(|f| f["dir"] == dir)
            .filter_map(|f| f["json"]["delta"].as_str())
            .collect();
        for split in 1..KEY.len() {
            assert!(
                deltas.contains(&format!(
                    "split {split}: <scrubbed:UNDERSTUDY_TEST_KEY> end"
                )),
                "{dir} split {split}: {deltas:.2000}"
            );
        }
    }
    // The audio kept its length, with the key's bytes zeroed.
    let binary = frames
        .iter()
        .find(|f| f["kind"] == "binary")
        .unwrap_or_else(|| panic!("a binary frame: {frames:?}"));
    let bytes = STANDARD.decode(binary["base64"].as_str().unwrap()).unwrap();
    assert_eq!(bytes.len(), 480 + KEY.len() + 480 - KEY.len() % 2);
    assert!(
        bytes[480..480 + KEY.len()].iter().all(|b| *b == 0),
        "zeroed"
    );
    assert_eq!(bytes[0], 1, "the rest kept");

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.lines().count() > 50, "trace logging was on");
    assert!(
        logged.contains("<scrubbed"),
        "the logs saw the key and scrubbed it"
    );
    let mut checked = files(&out);
    checked.push(log);
    assert_no_key(&checked, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_also_keeps_an_open_session_with_a_split_key_scrubbed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recordings");
    let upstream = echo_upstream().await;
    // The key is not named: it is learned from the bearer header.
    let record = Record::start(&upstream, &out, &["--provider", "openai"]);
    let mut socket = open(&record).await;
    let split = KEY.len() / 2;
    exchange(
        &mut socket,
        vec![
            delta(&format!("key {}", &KEY[..split])),
            delta(&format!("{} done", &KEY[split..])),
        ],
    )
    .await;
    partial_grows(&out, 0);
    let log = record.stderr_path.clone();
    record.stop_with("-INT");
    let (_, frames) = stopped_cassette(&out);
    let deltas: String = frames
        .iter()
        .filter_map(|f| f["json"]["delta"].as_str())
        .collect();
    assert!(
        deltas.contains("key <scrubbed:authorization> done"),
        "{deltas}"
    );
    let mut checked = files(&out);
    checked.push(log);
    assert_no_key(&checked, 8);
}
