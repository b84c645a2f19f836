//! Audio out of a frame, cheaply: the journal never stores sample data.
//!
//! Parsing every frame into a JSON value to drop its audio cost half the
//! server's CPU; this scans the text for the keys audio travels under
//! (`audio`, `delta`, `data`) and replaces a long base64 string value by
//! `<N base64 chars>` — one pass, no parse, and nothing allocated for a frame
//! without audio.

/// Keys whose long base64 string values are audio (OpenAI/DashScope appends
/// and deltas, Gemini's `inlineData.data` and `realtimeInput.audio.data`).
const KEYS: [&str; 3] = ["\"audio\"", "\"delta\"", "\"data\""];

/// A string value shorter than this is kept even under an audio key (a text
/// `delta`, an empty append).
const MIN_AUDIO_CHARS: usize = 64;

/// `text` with every long base64 value under an audio key replaced by its
/// length, or `None` when there was none (keep the frame as it is).
pub(crate) fn strip(text: &str) -> Option<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in KEYS {
        let mut from = 0;
        while let Some(found) = text[from..].find(key) {
            let after_key = from + found + key.len();
            from = after_key;
            if let Some(span) = base64_value_after(text, after_key) {
                spans.push(span);
                from = span.1;
            }
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(256);
    let mut copied = 0;
    for (start, end) in spans {
        if start < copied {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(&format!("<{} base64 chars>", end - start));
        copied = end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The byte span of a long base64 string value following a key ending at
/// `at` (`: "…"`, JSON whitespace allowed), if there is one.
fn base64_value_after(text: &str, at: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = at;
    let skip_space = |mut i: usize| {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    i = skip_space(i);
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    i = skip_space(i + 1);
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let len = text[start..].find('"')?;
    let end = start + len;
    let value = &bytes[start..end];
    let base64 = value
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    (len >= MIN_AUDIO_CHARS && base64).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(n: usize) -> String {
        "QUJD".repeat(n / 4)
    }

    #[test]
    fn audio_values_become_their_length() {
        let frame = format!(
            r#"{{"type":"response.output_audio.delta","delta":"{}","item_id":"i"}}"#,
            b64(400)
        );
        assert_eq!(
            strip(&frame).unwrap(),
            r#"{"type":"response.output_audio.delta","delta":"<400 base64 chars>","item_id":"i"}"#
        );
    }

    #[test]
    fn spaced_client_frames_and_nested_gemini_data() {
        let frame = format!(
            r#"{{"type": "input_audio_buffer.append", "audio": "{}"}}"#,
            b64(128)
        );
        assert!(strip(&frame)
            .unwrap()
            .contains(r#""audio": "<128 base64 chars>""#));
        let gemini = format!(
            r#"{{"serverContent":{{"modelTurn":{{"parts":[{{"inlineData":{{"mimeType":"audio/pcm","data":"{a}"}}}},{{"inlineData":{{"data":"{a}"}}}}]}}}}}}"#,
            a = b64(256)
        );
        let stripped = strip(&gemini).unwrap();
        assert_eq!(
            stripped.matches("<256 base64 chars>").count(),
            2,
            "{stripped}"
        );
        assert!(!stripped.contains("QUJD"));
    }

    #[test]
    fn text_and_short_values_are_kept() {
        let text = r#"{"type":"response.output_text.delta","delta":"Hello there, this is a long sentence of transcript text with spaces in it."}"#;
        assert_eq!(strip(text), None);
        assert_eq!(strip(r#"{"type":"x","audio":"QUJD"}"#), None);
        assert_eq!(strip(r#"{"type":"x"}"#), None);
        assert_eq!(strip("not json \"audio\""), None);
    }
}
