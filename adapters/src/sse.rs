//! A sans-IO Server-Sent Events parser (the WHATWG event-stream grammar),
//! shared by every HTTP streaming adapter: chat completions and HTTP TTS
//! (OpenAI `stream_format: "sse"`, Gemini `streamGenerateContent?alt=sse`).
//!
//! Bytes go in as they come off the network, split anywhere — inside a line,
//! between a CR and its LF, inside a UTF-8 sequence — and whole events come
//! out. It accepts LF, CRLF and CR line endings, ignores comment lines (`:`
//! keep-alives), joins multiple `data:` lines of one event with `\n`, strips a
//! leading byte-order mark, and ignores fields it does not know. An event is
//! dispatched at the blank line that ends it. An event left unterminated at
//! the end of the input is handed back by [`SseParser::finish`]: the grammar
//! (and OpenAI's Python SDK) drop it, some servers omit the final blank line,
//! so each caller decides.
//!
//! Memory is bounded: a line or an event larger than the configured limit is
//! an error instead of an ever-growing buffer.

/// Default limit on one event's size (lines plus joined data): 32 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 32 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` type, if one was given.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
    /// The `id:` field, if one was given.
    pub id: Option<String>,
}

/// Why the byte stream cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line or an event grew beyond the limit.
    #[error("SSE event larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// The parser's state between pushes.
#[derive(Debug, Clone)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous push ended in CR: an LF at the start of the next one belongs to it.
    pending_cr: bool,
    first_line: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    id: Option<String>,
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser that refuses events larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            line: Vec::new(),
            pending_cr: false,
            first_line: true,
            data: String::new(),
            has_data: false,
            event: None,
            id: None,
            max_event_bytes,
        }
    }

    /// Feeds bytes; appends every event they complete to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        // An empty push must not forget a CR that ended the previous one.
        if self.pending_cr && !bytes.is_empty() {
            self.pending_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&bytes[..end])?;
            let terminator = bytes[end];
            bytes = &bytes[end + 1..];
            if terminator == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
        }
        self.extend_line(bytes)
    }

    /// Like [`SseParser::push`], returning the completed events.
    pub fn events(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        self.push(bytes, &mut out)?;
        Ok(out)
    }

    /// End of input: returns the event left unterminated, if it has data,
    /// and resets the parser for a new stream.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let line = std::mem::take(&mut self.line);
        let mut out = Vec::new();
        if !line.is_empty() {
            // A last field line without its line ending still counts.
            let _ = self.process_line(&line, &mut out);
        }
        self.dispatch(&mut out);
        *self = SseParser::new(self.max_event_bytes);
        out.pop()
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + self.data.len() + bytes.len() > self.max_event_bytes {
            return Err(SseError::TooLarge {
                limit: self.max_event_bytes,
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.first_line {
            self.first_line = false;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_event_bytes {
                    return Err(SseError::TooLarge {
                        limit: self.max_event_bytes,
                    });
                }
                self.data.push_str(&value);
                self.data.push('\n');
                self.has_data = true;
            }
            b"event" => self.event = Some(value.into_owned()),
            b"id" if !value.contains('\0') => self.id = Some(value.into_owned()),
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        out.push(SseEvent {
            event,
            data,
            id: self.id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out).unwrap();
        }
        let _unterminated = parser.finish();
        out
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn lf_crlf_and_cr_endings_comments_and_multi_line_data() {
        let stream = b"\xEF\xBB\xBF: keep-alive\r\ndata: {\"a\":1}\r\n\r\ndata:x\rdata: y\r\rid: 7\nevent: error\ndata: z\n\ndata: [DONE]\n\n";
        let events = parse_all(&[stream]);
        assert_eq!(data(&events), vec!["{\"a\":1}", "x\ny", "z", "[DONE]"]);
        assert_eq!(events[2].event.as_deref(), Some("error"));
        assert_eq!(events[2].id.as_deref(), Some("7"));
        assert_eq!(
            events[3].event, None,
            "the event type resets after dispatch"
        );
    }

    #[test]
    fn blank_lines_without_data_dispatch_nothing_and_empty_data_dispatches_empty() {
        assert!(parse_all(&[b"\n\n: c\n\nevent: x\n\n"]).is_empty());
        assert_eq!(data(&parse_all(&[b"data:\n\n"])), vec![""]);
    }

    #[test]
    fn an_unterminated_event_at_eof_is_handed_back_by_finish() {
        for tail in [&b"data: b"[..], b"data: b\n", b"data: b\r"] {
            let mut parser = SseParser::default();
            let mut out = Vec::new();
            parser.push(b"data: a\n\n", &mut out).unwrap();
            parser.push(tail, &mut out).unwrap();
            assert_eq!(data(&out), vec!["a"], "not dispatched before the end");
            assert_eq!(parser.finish().map(|e| e.data), Some("b".into()));
        }
        let mut parser = SseParser::default();
        parser.push(b"event: x\n", &mut Vec::new()).unwrap();
        assert_eq!(parser.finish(), None, "no data, no event");
    }

    #[test]
    fn a_cr_at_the_end_of_one_push_and_lf_at_the_start_of_the_next_is_one_line_end() {
        let events = parse_all(&[b"data: a\r", b"\n\r", b"\ndata: b\n\n"]);
        assert_eq!(data(&events), vec!["a", "b"]);
    }

    #[test]
    fn an_empty_push_between_cr_and_lf_keeps_them_one_line_end() {
        // Found by the split property: an empty chunk made the LF a second,
        // event-ending line end.
        let events = parse_all(&[b"data: a\r", b"", b"\ndata:\r\n\r\n"]);
        assert_eq!(data(&events), vec!["a\n"]);
    }

    #[test]
    fn oversized_events_are_refused() {
        let mut parser = SseParser::new(16);
        let mut out = Vec::new();
        assert_eq!(
            parser.push(b"data: 0123456789abcdef", &mut out),
            Err(SseError::TooLarge { limit: 16 })
        );
        let mut parser = SseParser::new(16);
        let many = b"data: 0123456\ndata: 0123456\ndata: 0123456\n";
        assert!(parser.push(many, &mut out).is_err());
    }

    fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
        // Events of arbitrary unicode data (no line breaks inside a line),
        // with comments and all three line endings mixed in.
        let line = "[^\r\n]{0,24}";
        let event = (
            prop::collection::vec(line, 1..3),
            prop::option::of(line),
            0..3usize,
        );
        prop::collection::vec(event, 0..8).prop_map(|events| {
            let mut out = Vec::from(BOM);
            for (i, (lines, comment, ending)) in events.into_iter().enumerate() {
                let eol = ["\n", "\r\n", "\r"][(ending + i) % 3];
                if let Some(c) = comment {
                    out.extend(format!(":{c}{eol}").bytes());
                }
                for l in lines {
                    out.extend(format!("data: {l}{eol}").bytes());
                }
                out.extend(eol.bytes());
            }
            out
        })
    }

    proptest! {
        #[test]
        fn splitting_the_input_anywhere_does_not_change_the_events(
            stream in stream_strategy(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let whole = parse_all(&[&stream]);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces = Vec::new();
            let mut start = 0;
            for p in points {
                pieces.push(&stream[start..p]);
                start = p;
            }
            pieces.push(&stream[start..]);
            prop_assert_eq!(parse_all(&pieces), whole);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let mut parser = SseParser::new(256);
            let mut out = Vec::new();
            let _ = parser.push(&bytes, &mut out);
            let _ = parser.finish();
        }
    }
}
