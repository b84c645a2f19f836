//! A sans-IO parser for server-sent events (`text/event-stream`).
//!
//! HTTP TTS services stream their audio as server-sent events (OpenAI
//! `stream_format: "sse"`, Gemini `streamGenerateContent?alt=sse`). The body
//! arrives in chunks that may cut anywhere: inside a field name, between a `\r`
//! and its `\n`, inside a multi-byte UTF-8 character. [`SseParser`] buffers
//! bytes until a line is complete and an event until its blank line, so the
//! events it yields do not depend on where the chunks were cut.
//!
//! It follows the WHATWG event-stream rules: lines end with `\r\n`, `\n` or
//! `\r`; a line starting with `:` is a comment; `field: value` loses one space
//! after the colon; repeated `data` lines join with `\n`; a blank line
//! dispatches the event unless it has no data. One leniency: an event left
//! unterminated at the end of the body is still dispatched by
//! [`SseParser::finish`] (some servers omit the final blank line).

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server named the event.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field, when present.
    pub id: Option<String>,
}

/// Incremental event-stream parser: feed it body chunks, take events out.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line being read.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a leading `\n` belongs to it.
    after_cr: bool,
    /// Whether the stream's first line is still to come (a BOM is dropped there).
    started: bool,
    /// The event being assembled.
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Feeds the next body chunk; returns the events it completed, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' => self.end_line(&mut events),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut events);
                }
                _ => self.line.push(byte),
            }
        }
        events
    }

    /// The body ended: completes a last line and event left unterminated.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut events);
        }
        self.end_line(&mut events);
        events
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        let mut line = std::mem::take(&mut self.line);
        if !self.started {
            self.started = true;
            if line.starts_with(b"\xEF\xBB\xBF") {
                line.drain(..3);
            }
        }
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            // `retry` and unknown fields do not concern a one-shot reader.
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let id = self.id.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        events.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(bytes: &[u8]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events = parser.push(bytes);
        events.extend(parser.finish());
        events
    }

    fn data(d: &str) -> SseEvent {
        SseEvent {
            data: d.into(),
            ..Default::default()
        }
    }

    #[test]
    fn openai_style_events_parse() {
        let body = b"data: {\"type\":\"speech.audio.delta\",\"audio\":\"AAA=\"}\n\n\
data: {\"type\":\"speech.audio.done\"}\n\n";
        assert_eq!(
            parse_all(body),
            vec![
                data("{\"type\":\"speech.audio.delta\",\"audio\":\"AAA=\"}"),
                data("{\"type\":\"speech.audio.done\"}")
            ]
        );
    }

    #[test]
    fn crlf_comments_names_ids_and_multiline_data() {
        let body = b":HTTP_STATUS/200\r\nid:1\r\nevent:result\r\ndata:a\r\ndata: b\r\n\r\n\
: keep-alive\r\n\r\ndata\r\n\r\n";
        assert_eq!(
            parse_all(body),
            vec![
                SseEvent {
                    event: Some("result".into()),
                    data: "a\nb".into(),
                    id: Some("1".into()),
                },
                data("")
            ]
        );
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_its_name_does_not_leak() {
        assert_eq!(parse_all(b"event: ping\n\ndata: x\n\n"), vec![data("x")]);
    }

    #[test]
    fn bom_and_lone_cr_line_endings() {
        assert_eq!(
            parse_all(b"\xEF\xBB\xBFdata: x\r\rdata: y\r\r"),
            vec![data("x"), data("y")]
        );
    }

    #[test]
    fn an_unterminated_last_event_is_dispatched_at_the_end() {
        let mut parser = SseParser::new();
        assert!(parser.push(b"data: tail").is_empty());
        assert_eq!(parser.finish(), vec![data("tail")]);
        assert!(parser.finish().is_empty());
    }

    /// One event as a test generates it, and how it is written on the wire.
    fn event_strategy() -> impl Strategy<Value = (SseEvent, bool)> {
        (
            proptest::option::of("[a-z.]{1,12}"),
            proptest::collection::vec("[^\r\n]{0,12}", 1..4),
            proptest::option::of("[0-9a-z]{1,6}"),
            any::<bool>(),
        )
            .prop_map(|(event, lines, id, comment)| {
                (
                    SseEvent {
                        event,
                        data: lines.join("\n"),
                        id,
                    },
                    comment,
                )
            })
    }

    fn write(events: &[(SseEvent, bool)], eol: &str) -> Vec<u8> {
        let mut out = String::new();
        for (event, comment) in events {
            if *comment {
                out.push_str(&format!(": comment{eol}"));
            }
            if let Some(name) = &event.event {
                out.push_str(&format!("event: {name}{eol}"));
            }
            if let Some(id) = &event.id {
                out.push_str(&format!("id:{id}{eol}"));
            }
            for line in event.data.split('\n') {
                out.push_str(&format!("data: {line}{eol}"));
            }
            out.push_str(eol);
        }
        out.into_bytes()
    }

    proptest! {
        #[test]
        fn events_survive_any_chunking(
            events in proptest::collection::vec(event_strategy(), 0..6),
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let wire = write(&events, eol);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
            points.sort_unstable();
            let mut parser = SseParser::new();
            let mut seen = Vec::new();
            let mut from = 0;
            for point in points {
                seen.extend(parser.push(&wire[from..point]));
                from = point;
            }
            seen.extend(parser.push(&wire[from..]));
            seen.extend(parser.finish());
            let expected: Vec<SseEvent> = events.into_iter().map(|(e, _)| e).collect();
            prop_assert_eq!(seen, expected);
        }

        #[test]
        fn byte_at_a_time_equals_all_at_once(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let whole = parse_all(&body);
            let mut parser = SseParser::new();
            let mut seen = Vec::new();
            for byte in &body {
                seen.extend(parser.push(std::slice::from_ref(byte)));
            }
            seen.extend(parser.finish());
            prop_assert_eq!(seen, whole);
        }
    }
}
