//! Sans-IO decoding of an `audio/speech` answer into PCM: raw `pcm`, a `wav`
//! file (header stripped as it streams, rate taken from it), or server-sent
//! events carrying either in base64.

use super::wire::{SpeechStreamEvent, SAMPLE_RATE};
use crate::error_text::Failure;
use crate::sse::SseParser;
use crate::tts::http::{BodyDecoder, PcmPiece};
use crate::tts::pcm_stream::{SampleAligner, WavStream};
use crate::tts::TtsError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

/// The audio containers the adapter can turn into PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpeechFormat {
    /// Raw PCM16 mono at 24 kHz (`response_format: "pcm"`).
    #[default]
    Pcm,
    /// A WAV file (`response_format: "wav"`); the header gives the rate.
    Wav,
}

/// The audio file's bytes → PCM.
#[derive(Debug)]
enum FileDecoder {
    Pcm(SampleAligner),
    Wav(WavStream),
}

impl FileDecoder {
    fn new(format: SpeechFormat) -> Self {
        match format {
            SpeechFormat::Pcm => FileDecoder::Pcm(SampleAligner::default()),
            SpeechFormat::Wav => FileDecoder::Wav(WavStream::new()),
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<Vec<PcmPiece>, TtsError> {
        let piece = match self {
            FileDecoder::Pcm(aligner) => PcmPiece {
                pcm: aligner.push(bytes),
                sample_rate: SAMPLE_RATE,
            },
            FileDecoder::Wav(wav) => {
                let pcm = wav.push(bytes).map_err(|e| {
                    TtsError::Protocol(Failure::because(format!("wav answer: {e}"), e))
                })?;
                PcmPiece {
                    pcm,
                    sample_rate: wav.sample_rate().unwrap_or(SAMPLE_RATE),
                }
            }
        };
        Ok(if piece.pcm.is_empty() {
            Vec::new()
        } else {
            vec![piece]
        })
    }

    fn finish(&mut self) -> Result<(), TtsError> {
        match self {
            FileDecoder::Pcm(aligner) => {
                if aligner.has_partial() {
                    tracing::warn!("pcm answer ended in the middle of a sample; last byte dropped");
                }
                Ok(())
            }
            FileDecoder::Wav(wav) => wav
                .finish()
                .map_err(|e| TtsError::Protocol(Failure::because(format!("wav answer: {e}"), e))),
        }
    }
}

/// Decodes one `audio/speech` answer.
#[derive(Debug)]
pub struct SpeechDecoder {
    file: FileDecoder,
    /// `Some` when the body is server-sent events.
    sse: Option<SseParser>,
    done: bool,
}

impl SpeechDecoder {
    /// A decoder for a body of `format`, as events when `sse`.
    pub fn new(format: SpeechFormat, sse: bool) -> Self {
        SpeechDecoder {
            file: FileDecoder::new(format),
            sse: sse.then(SseParser::default),
            done: false,
        }
    }

    fn on_event(&mut self, data: &str) -> Result<Vec<PcmPiece>, TtsError> {
        if self.done {
            return Ok(Vec::new());
        }
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            let message = format!("speech event is not JSON ({e}): {data:.200}");
            TtsError::Protocol(Failure::because(message, e))
        })?;
        if let Some(error) = value.get("error").filter(|e| e.is_object()) {
            return Err(provider_error(error));
        }
        let event: SpeechStreamEvent = serde_json::from_value(value).map_err(|e| {
            let message = format!("malformed speech event ({e}): {data:.200}");
            TtsError::Protocol(Failure::because(message, e))
        })?;
        match event {
            SpeechStreamEvent::AudioDelta { audio } => {
                let bytes = STANDARD.decode(audio.as_bytes()).map_err(|e| {
                    let message = format!("speech.audio.delta is not base64: {e}");
                    TtsError::Protocol(Failure::because(message, e))
                })?;
                self.file.push(&bytes)
            }
            SpeechStreamEvent::AudioDone { usage } => {
                tracing::debug!(?usage, "speech.audio.done");
                self.done = true;
                Ok(Vec::new())
            }
            SpeechStreamEvent::Unknown => {
                tracing::debug!(event = %format!("{data:.120}"), "unknown speech event skipped");
                Ok(Vec::new())
            }
        }
    }

    fn on_events(&mut self, events: Vec<crate::sse::SseEvent>) -> Result<Vec<PcmPiece>, TtsError> {
        let mut pieces = Vec::new();
        for event in events {
            pieces.extend(self.on_event(&event.data)?);
        }
        Ok(pieces)
    }
}

/// An `{"message","type","code"}` object as a [`TtsError::Provider`].
fn provider_error(error: &Value) -> TtsError {
    let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
    TtsError::Provider {
        code: text("code")
            .or_else(|| text("type"))
            .unwrap_or_else(|| "error".into()),
        message: text("message").unwrap_or_else(|| error.to_string()),
    }
}

impl BodyDecoder for SpeechDecoder {
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<PcmPiece>, TtsError> {
        match self.sse.as_mut() {
            Some(parser) => {
                let events = parser
                    .events(bytes)
                    .map_err(|e| TtsError::Protocol(Failure::because(e.to_string(), e)))?;
                self.on_events(events)
            }
            None => self.file.push(bytes),
        }
    }

    fn finish(&mut self) -> Result<Vec<PcmPiece>, TtsError> {
        let mut pieces = Vec::new();
        if let Some(parser) = self.sse.as_mut() {
            let events = parser.finish().into_iter().collect();
            pieces = self.on_events(events)?;
            if !self.done {
                // No `[DONE]` sentinel is documented; an end without
                // speech.audio.done is accepted (unconfirmed) but noted.
                tracing::debug!("event stream ended without speech.audio.done");
            }
        }
        self.file.finish()?;
        Ok(pieces)
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::pcm_stream::wav_header;

    fn sse(events: &[String]) -> Vec<u8> {
        events
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect::<String>()
            .into_bytes()
    }

    fn delta(bytes: &[u8]) -> String {
        format!(
            r#"{{"type":"speech.audio.delta","audio":"{}"}}"#,
            STANDARD.encode(bytes)
        )
    }

    fn all(decoder: &mut SpeechDecoder, body: &[u8], cut: usize) -> Result<Vec<u8>, TtsError> {
        let mut out = Vec::new();
        for chunk in body.chunks(cut.max(1)) {
            for piece in decoder.push(chunk)? {
                out.extend(piece.pcm);
            }
        }
        for piece in decoder.finish()? {
            out.extend(piece.pcm);
        }
        Ok(out)
    }

    #[test]
    fn sse_with_wav_inside_strips_the_header_across_deltas() {
        let pcm: Vec<u8> = (0..200u16).flat_map(|s| s.to_le_bytes()).collect();
        let mut file = wav_header(24_000, None);
        file.extend(&pcm);
        let (a, b) = file.split_at(30); // the header is cut in two deltas
        let body = sse(&[
            delta(a),
            delta(b),
            r#"{"type":"speech.audio.done","usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}"#.into(),
        ]);
        for cut in [1, 7, 64, body.len()] {
            let mut decoder = SpeechDecoder::new(SpeechFormat::Wav, true);
            assert_eq!(all(&mut decoder, &body, cut).unwrap(), pcm, "cut {cut}");
            assert!(decoder.is_done());
        }
    }

    #[test]
    fn an_error_event_is_a_provider_error() {
        let body = sse(&[r#"{"type":"error","error":{"message":"boom","type":"server_error","code":"internal"}}"#.into()]);
        let mut decoder = SpeechDecoder::new(SpeechFormat::Pcm, true);
        assert_eq!(
            all(&mut decoder, &body, 5),
            Err(TtsError::Provider {
                code: "internal".into(),
                message: "boom".into()
            })
        );
    }

    #[test]
    fn garbage_is_a_protocol_error_and_events_after_done_are_ignored() {
        let mut decoder = SpeechDecoder::new(SpeechFormat::Pcm, true);
        assert!(matches!(
            all(&mut decoder, b"data: {not json\n\n", 3),
            Err(TtsError::Protocol(_))
        ));
        let mut decoder = SpeechDecoder::new(SpeechFormat::Pcm, true);
        let body = sse(&[
            r#"{"type":"speech.audio.done","usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}"#.into(),
            delta(&[1, 2]),
        ]);
        assert_eq!(all(&mut decoder, &body, 1000).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn a_raw_wav_body_that_is_not_wav_is_an_error() {
        let mut decoder = SpeechDecoder::new(SpeechFormat::Wav, false);
        assert!(matches!(
            all(&mut decoder, b"ID3\x03\x00mp3 bytes", 4),
            Err(TtsError::Protocol(_))
        ));
    }
}
