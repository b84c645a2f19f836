//! The journal's list fields, live feed and exports, in-process.

use super::*;
use base64::Engine as _;
use understudy_fixtures::{Direction, Origin};

fn note(journal: &Journal, session: u64, label: &str, detail: &str) {
    journal.record(
        session,
        JournalEntry {
            t_ms: 3,
            kind: EntryKind::Note,
            label: label.into(),
            detail: detail.into(),
        },
    );
}

fn frame(journal: &Journal, session: u64, t_ms: u64, kind: EntryKind, text: &str) {
    let label = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "x".into());
    let text: Arc<str> = Arc::from(text);
    journal.record_frame(session, t_ms, kind, &label, Frame::Shared(&text));
}

/// PCM16 of `samples` samples of a ramp (never silent, never all equal).
fn pcm(samples: usize) -> Vec<u8> {
    (0..samples)
        .flat_map(|i| ((i as i16).wrapping_mul(37) | 1).to_le_bytes())
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An OpenAI GA session: 100 samples in, 300 out in two deltas, one turn.
fn openai_session(journal: &Journal, engine: &str) -> u64 {
    let s = journal.open("openai-ga", "gpt-realtime", engine);
    frame(
        journal,
        s,
        0,
        EntryKind::Server,
        r#"{"type":"session.created","event_id":"e0","session":{}}"#,
    );
    frame(
        journal,
        s,
        5,
        EntryKind::Client,
        &format!(
            r#"{{"type":"input_audio_buffer.append","audio":"{}"}}"#,
            b64(&pcm(100))
        ),
    );
    frame(
        journal,
        s,
        6,
        EntryKind::Client,
        r#"{"type":"input_audio_buffer.commit"}"#,
    );
    for t in [20, 30] {
        frame(
            journal,
            s,
            t,
            EntryKind::Server,
            &format!(
                r#"{{"type":"response.output_audio.delta","event_id":"e{t}","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{}"}}"#,
                b64(&pcm(150))
            ),
        );
    }
    frame(
        journal,
        s,
        40,
        EntryKind::Server,
        r#"{"type":"response.done","event_id":"e9","response":{"id":"r"}}"#,
    );
    journal.record(
        s,
        JournalEntry {
            t_ms: 50,
            kind: EntryKind::Server,
            label: "close".into(),
            detail: "1000 bye".into(),
        },
    );
    s
}

#[test]
fn the_list_counts_turns_and_grades_replays() {
    let journal = Journal::default();
    let respond = openai_session(&journal, "respond");
    let ok = openai_session(&journal, "replay:greeting");
    let bad = openai_session(&journal, "replay:greeting");
    note(&journal, bad, "vad", "speech started");
    note(
        &journal,
        bad,
        "replay.mismatch",
        "expected response.create, got x",
    );
    note(&journal, bad, "replay.unexpected", "later");
    let refused = journal.open("openai-ga", "gpt-realtime", "replay:none");
    note(&journal, refused, "refused", "no cassette named `x`");
    let list = journal.sessions(0, 0, 10);
    let by = |s: u64| list.iter().find(|l| l.session == s).unwrap();
    assert_eq!(by(respond).turns, 1);
    assert_eq!(by(respond).grade, None);
    assert_eq!(by(ok).grade, Some(ReplayGrade::Ok));
    assert_eq!(
        by(bad).grade,
        Some(ReplayGrade::Mismatched {
            label: "replay.mismatch".into(),
            note: "expected response.create, got x".into()
        })
    );
    assert!(matches!(
        by(refused).grade,
        Some(ReplayGrade::Refused { .. })
    ));
    assert_eq!(by(refused).turns, 0);
}

#[tokio::test]
async fn the_live_feed_tells_of_sessions_notes_and_ends() {
    let journal = Journal::default();
    let mut plain = journal.subscribe(false);
    let mut framed = journal.subscribe(true);
    let s = openai_session(&journal, "respond");
    note(&journal, s, "vad", "speech stopped");
    journal.close(s);
    let mut names = Vec::new();
    while let Ok(Some(Received::Event(event))) =
        tokio::time::timeout(std::time::Duration::from_millis(50), plain.next()).await
    {
        names.push(event.name());
        if let LiveEvent::End { turns, session, .. } = event {
            assert_eq!((session, turns), (s, 1));
        }
    }
    assert_eq!(names, ["session", "note", "end"]);
    let mut frames = 0;
    while let Ok(Some(Received::Event(event))) =
        tokio::time::timeout(std::time::Duration::from_millis(50), framed.next()).await
    {
        if let LiveEvent::Frame { kind, .. } = event {
            assert_ne!(kind, EntryKind::Note);
            frames += 1;
        }
    }
    assert_eq!(frames, 7, "every frame, the close line included");
}

#[tokio::test]
async fn a_slow_subscriber_loses_events_and_is_told_how_many() {
    let journal = Journal::with_stream_buffer(JournalMode::Summary, JournalCaps::default(), 4);
    let mut slow = journal.subscribe(false);
    let s = journal.open("d", "m", "respond");
    for n in 0..10 {
        note(&journal, s, "n", &n.to_string());
    }
    // 11 events into a buffer of 4: the first 7 are lost, and said to be.
    assert_eq!(slow.next().await, Some(Received::Lagged(7)));
    match slow.next().await {
        Some(Received::Event(LiveEvent::Note { detail, .. })) => assert_eq!(detail, "6"),
        other => panic!("expected the oldest kept note, got {other:?}"),
    }
}

#[test]
fn full_mode_gives_each_directions_audio_as_wav() {
    let journal = Journal::new(JournalMode::Full, JournalCaps::default());
    let s = openai_session(&journal, "respond");
    let input = journal.audio(s, Direction::ClientToServer).unwrap();
    let (pcm_in, rate) = understudy_fixtures::wav::read_pcm16(&input.wav).unwrap();
    assert_eq!((rate, pcm_in.len() / 2, input.samples), (24_000, 100, 100));
    assert_eq!(pcm_in, pcm(100));
    let output = journal.audio(s, Direction::ServerToClient).unwrap();
    assert_eq!(output.samples, 300);
    let silent = journal.open("openai-ga", "gpt-realtime", "respond");
    assert!(matches!(
        journal.audio(silent, Direction::ClientToServer),
        Err(ExportError::NoAudio {
            direction: "in",
            ..
        })
    ));
    assert!(matches!(
        journal.audio(99, Direction::ClientToServer),
        Err(ExportError::NotKept(99))
    ));
    let summary = Journal::default();
    let s = openai_session(&summary, "respond");
    let refused = summary.audio(s, Direction::ServerToClient).unwrap_err();
    assert!(refused.to_string().contains("--journal full"), "{refused}");
}

#[test]
fn a_session_becomes_a_valid_synthesized_cassette() {
    for (mode, audio_kept) in [(JournalMode::Full, true), (JournalMode::Summary, false)] {
        let journal = Journal::new(mode, JournalCaps::default());
        let s = openai_session(&journal, "respond");
        note(&journal, s, "vad", "not a frame");
        let cassette = journal.cassette(s).unwrap();
        assert_eq!(cassette.header.origin, Origin::Synthesized);
        assert_eq!(
            (
                cassette.header.dialect.as_str(),
                cassette.header.provider.as_str()
            ),
            ("openai-ga", "openai")
        );
        assert_eq!(
            cassette.frames.len(),
            7,
            "six frames and the close; no note"
        );
        let report = understudy_fixtures::validate_str(
            &cassette.to_jsonl_inline().unwrap(),
            &understudy_fixtures::NoSidecars,
        );
        assert!(report.is_valid(), "{mode}: {report:?}");
        let delta = cassette.frames[3].json().unwrap()["delta"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(!delta.is_empty(), audio_kept, "{mode}: {delta:.40}");
        if audio_kept {
            assert_eq!(delta, b64(&pcm(150)));
        }
        assert_eq!(cassette.frames[3].t_us, 20_000);
    }
    let journal = Journal::default();
    let http = journal.open("openai-chat", "gpt-4o", "respond");
    assert!(matches!(
        journal.cassette(http),
        Err(ExportError::NotRealtime { .. })
    ));
}

#[tokio::test]
async fn a_read_copies_on_the_copy_thread_and_renders_on_the_reader_thread() {
    // The low-priority threads (the reader, the inspector's runtime the
    // request came in on) must never hold a journal lock (a session waiting
    // for it would wait for the lowest-priority thread): the copy runs on
    // the journal's copy thread at normal priority, the reader only renders.
    let journal = Journal::default();
    let s = openai_session(&journal, "respond");
    let (copied_on, rendered_on, entries) = journal
        .read(
            move |journal| {
                let name = std::thread::current().name().map(str::to_owned);
                (name, journal.copy_session(s, 0))
            },
            |(copied_on, copy)| {
                let name = std::thread::current().name().map(str::to_owned);
                (copied_on, name, copy.map(|c| c.render().entries.len()))
            },
        )
        .await
        .expect("the read runs");
    assert_eq!(
        copied_on.as_deref(),
        Some("journal-copy"),
        "the copy (the locks) on the copy thread"
    );
    assert_eq!(rendered_on.as_deref(), Some("journal-reader"));
    assert_eq!(entries, Some(journal.session(s, 0).unwrap().entries.len()));
}

#[test]
fn a_received_frame_is_kept_as_it_came_and_cut_when_read() {
    let journal = Journal::default();
    assert_eq!(journal.mode(), JournalMode::Summary);
    let s = journal.open("openai-ga", "gpt-realtime", "respond");
    let audio = b64(&pcm(4_800));
    let text = format!(r#"{{"type": "input_audio_buffer.append", "audio": "{audio}"}}"#);
    journal.record_frame(
        s,
        1,
        EntryKind::Client,
        "input_audio_buffer.append",
        Frame::Borrowed(&text),
    );
    // Nothing was scanned out of it on the way in: the journal holds (and
    // counts against its byte cap) the frame as it came.
    assert!(
        journal.stats().bytes >= text.len(),
        "{} bytes held for a {}-byte frame",
        journal.stats().bytes,
        text.len()
    );
    // A reader sees it summarised, its audio cut.
    let entry = journal.session(s, 0).unwrap().entries.remove(0);
    assert_eq!(entry.kind, EntryKind::Client);
    assert!(
        entry
            .detail
            .contains(&format!("<{} base64 chars>", audio.len())),
        "{}",
        entry.detail
    );
    assert!(!entry.detail.contains(&audio[..64]));
}
