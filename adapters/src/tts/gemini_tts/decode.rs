//! Sans-IO decoding of a Gemini TTS answer into PCM: one JSON
//! `GenerateContentResponse` (`generateContent`) or server-sent events each
//! carrying one (`streamGenerateContent?alt=sse`).

use super::wire::{pcm_rate, GenerateContentResponse};
use crate::error_text::Failure;
use crate::sse::SseParser;
use crate::tts::http::{BodyDecoder, PcmPiece};
use crate::tts::pcm_stream::WavStream;
use crate::tts::TtsError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

/// Largest `generateContent` body buffered, in bytes (an hour of 24 kHz audio
/// in base64 is ~230 MB; TTS answers are far shorter).
const MAX_JSON_BODY: usize = 256 * 1024 * 1024;

/// Decodes one Gemini TTS answer.
#[derive(Debug)]
pub struct GeminiDecoder {
    /// `Some` for an event stream; `None` for one JSON body, buffered here.
    sse: Option<SseParser>,
    json: Vec<u8>,
    audio_bytes: usize,
    finish_reason: Option<String>,
}

impl GeminiDecoder {
    /// A decoder for an event stream (`sse`) or a single JSON body.
    pub fn new(sse: bool) -> Self {
        GeminiDecoder {
            sse: sse.then(SseParser::default),
            json: Vec::new(),
            audio_bytes: 0,
            finish_reason: None,
        }
    }

    /// Decodes one `GenerateContentResponse` (or an error object) as JSON text.
    fn on_message(&mut self, data: &[u8]) -> Result<Vec<PcmPiece>, TtsError> {
        let value: Value = serde_json::from_slice(data).map_err(|e| {
            let message = format!(
                "Gemini answer is not JSON ({e}): {:.200}",
                String::from_utf8_lossy(data)
            );
            TtsError::Protocol(Failure::because(message, e))
        })?;
        if let Value::Array(items) = value {
            // `streamGenerateContent` without `alt=sse` answers a JSON array.
            let mut pieces = Vec::new();
            for item in items {
                pieces.extend(self.on_message(item.to_string().as_bytes())?);
            }
            return Ok(pieces);
        }
        if let Some(error) = value.get("error").filter(|e| e.is_object()) {
            let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
            return Err(TtsError::Provider {
                code: text("status")
                    .or_else(|| error.get("code").map(Value::to_string))
                    .unwrap_or_else(|| "error".into()),
                message: text("message").unwrap_or_else(|| error.to_string()),
            });
        }
        let response: GenerateContentResponse = serde_json::from_value(value).map_err(|e| {
            let message = format!("malformed GenerateContentResponse: {e}");
            TtsError::Protocol(Failure::because(message, e))
        })?;
        if let Some(reason) = response
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.get("blockReason"))
            .and_then(Value::as_str)
        {
            return Err(TtsError::Provider {
                code: reason.to_owned(),
                message: "the prompt was blocked".into(),
            });
        }
        let mut pieces = Vec::new();
        for candidate in response.candidates.iter().flatten() {
            if let Some(reason) = &candidate.finish_reason {
                self.finish_reason = Some(reason.clone());
            }
            let parts = candidate
                .content
                .iter()
                .flat_map(|c| c.parts.iter().flatten());
            for blob in parts.filter_map(|p| p.inline_data.as_ref()) {
                let mime = blob.mime_type.as_deref().unwrap_or_default();
                let bytes = STANDARD
                    .decode(blob.data.as_deref().unwrap_or_default().as_bytes())
                    .map_err(|e| {
                        let message = format!("inlineData is not base64: {e}");
                        TtsError::Protocol(Failure::because(message, e))
                    })?;
                let piece = audio_piece(mime, &bytes)?;
                self.audio_bytes += piece.pcm.len();
                pieces.push(piece);
            }
        }
        Ok(pieces)
    }

    fn on_events(&mut self, events: Vec<crate::sse::SseEvent>) -> Result<Vec<PcmPiece>, TtsError> {
        let mut pieces = Vec::new();
        for event in events {
            pieces.extend(self.on_message(event.data.as_bytes())?);
        }
        Ok(pieces)
    }
}

/// PCM from one inline blob: raw `audio/L16`/`audio/pcm` (rate from the MIME
/// type), or a whole WAV file.
fn audio_piece(mime: &str, bytes: &[u8]) -> Result<PcmPiece, TtsError> {
    if let Some(rate) = pcm_rate(mime) {
        let mut pcm = bytes.to_vec();
        if pcm.len() % 2 == 1 {
            tracing::warn!(mime, "odd-length PCM part; last byte dropped");
            pcm.pop();
        }
        return Ok(PcmPiece {
            pcm,
            sample_rate: rate,
        });
    }
    if mime.to_ascii_lowercase().starts_with("audio/wav")
        || mime.eq_ignore_ascii_case("audio/x-wav")
    {
        let mut wav = WavStream::new();
        let pcm = wav
            .push(bytes)
            .and_then(|pcm| wav.finish().map(|()| pcm))
            .map_err(|e| TtsError::Protocol(Failure::because(format!("inline WAV: {e}"), e)))?;
        let sample_rate = wav.sample_rate().unwrap_or(super::wire::SAMPLE_RATE);
        return Ok(PcmPiece { pcm, sample_rate });
    }
    Err(TtsError::Protocol(Failure::new(format!(
        "inlineData of type `{mime}` is not PCM audio"
    ))))
}

impl BodyDecoder for GeminiDecoder {
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<PcmPiece>, TtsError> {
        match self.sse.as_mut() {
            Some(parser) => {
                let events = parser
                    .events(bytes)
                    .map_err(|e| TtsError::Protocol(Failure::because(e.to_string(), e)))?;
                self.on_events(events)
            }
            None => {
                if self.json.len() + bytes.len() > MAX_JSON_BODY {
                    return Err(TtsError::Protocol(
                        "Gemini answer larger than 256 MiB".into(),
                    ));
                }
                self.json.extend_from_slice(bytes);
                Ok(Vec::new())
            }
        }
    }

    fn finish(&mut self) -> Result<Vec<PcmPiece>, TtsError> {
        let pieces = match self.sse.as_mut() {
            Some(parser) => {
                let events = parser.finish().into_iter().collect();
                self.on_events(events)?
            }
            None => {
                let body = std::mem::take(&mut self.json);
                self.on_message(&body)?
            }
        };
        if self.audio_bytes == 0 {
            // A TTS model that answers without audio (a refusal, a text-only
            // turn) is a provider-side failure the caller must hear about.
            let reason = self
                .finish_reason
                .clone()
                .unwrap_or_else(|| "NO_AUDIO".into());
            return Err(TtsError::Provider {
                code: reason.clone(),
                message: format!("the model returned no audio (finishReason {reason})"),
            });
        }
        Ok(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(pcm: &[u8], finish: Option<&str>) -> String {
        let mut candidate = json!({"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": STANDARD.encode(pcm)}}]}});
        if let Some(reason) = finish {
            candidate["finishReason"] = json!(reason);
        }
        json!({"candidates": [candidate]}).to_string()
    }

    fn run(
        decoder: &mut GeminiDecoder,
        body: &[u8],
        cut: usize,
    ) -> Result<Vec<PcmPiece>, TtsError> {
        let mut out = Vec::new();
        for chunk in body.chunks(cut.max(1)) {
            out.extend(decoder.push(chunk)?);
        }
        out.extend(decoder.finish()?);
        Ok(out)
    }

    #[test]
    fn a_json_body_yields_its_audio_at_the_end() {
        let body = response(&[1, 0, 2, 0], Some("STOP"));
        let mut decoder = GeminiDecoder::new(false);
        assert!(decoder.push(body.as_bytes()).unwrap().is_empty());
        let pieces = decoder.finish().unwrap();
        assert_eq!(
            pieces,
            vec![PcmPiece {
                pcm: vec![1, 0, 2, 0],
                sample_rate: 24_000
            }]
        );
    }

    #[test]
    fn sse_events_with_crlf_yield_audio_in_order_at_any_cut() {
        let body = format!(
            "data: {}\r\n\r\ndata: {}\r\n\r\n",
            response(&[1, 0], None),
            response(&[2, 0], Some("STOP"))
        );
        for cut in [1, 3, 50, body.len()] {
            let mut decoder = GeminiDecoder::new(true);
            let pcm: Vec<u8> = run(&mut decoder, body.as_bytes(), cut)
                .unwrap()
                .into_iter()
                .flat_map(|p| p.pcm)
                .collect();
            assert_eq!(pcm, vec![1, 0, 2, 0], "cut {cut}");
        }
    }

    #[test]
    fn an_error_in_the_stream_is_a_provider_error() {
        let body = "data: {\"error\": {\"code\": 500, \"message\": \"Internal error\", \"status\": \"INTERNAL\"}}\n\n";
        let mut decoder = GeminiDecoder::new(true);
        assert_eq!(
            run(&mut decoder, body.as_bytes(), 7),
            Err(TtsError::Provider {
                code: "INTERNAL".into(),
                message: "Internal error".into()
            })
        );
    }

    #[test]
    fn no_audio_is_an_error_naming_the_finish_reason() {
        let body =
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "I can't"}]},
            "finishReason": "OTHER"}]})
            .to_string();
        let mut decoder = GeminiDecoder::new(false);
        assert!(matches!(
            run(&mut decoder, body.as_bytes(), 1000),
            Err(TtsError::Provider { code, .. }) if code == "OTHER"
        ));
    }

    #[test]
    fn non_pcm_inline_data_and_garbage_are_protocol_errors() {
        let body = json!({"candidates": [{"content": {"parts": [
            {"inlineData": {"mimeType": "audio/mpeg", "data": "AAAA"}}]}}]})
        .to_string();
        assert!(matches!(
            run(&mut GeminiDecoder::new(false), body.as_bytes(), 9),
            Err(TtsError::Protocol(_))
        ));
        assert!(matches!(
            run(&mut GeminiDecoder::new(false), b"<html>", 9),
            Err(TtsError::Protocol(_))
        ));
    }
}
