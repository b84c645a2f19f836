//! Gemini `usageMetadata` as normalised [`Usage`].
//!
//! The Gemini API and Vertex AI spell the output side differently: the Gemini
//! API says `responseTokenCount` / `responseTokensDetails`, Vertex AI says
//! `candidatesTokenCount` / `candidatesTokensDetails` (the names of its
//! `generateContent` usage). Either spelling maps to `output_tokens`; where a
//! server sends both, the Gemini API spelling wins.

use super::wire::{ModalityTokenCount, UsageMetadata};
use crate::event::Usage;

/// The token count of `modality` in a per-modality list.
fn modality(details: Option<&Vec<ModalityTokenCount>>, modality: &str) -> Option<u64> {
    details.and_then(|list| {
        list.iter()
            .find(|d| d.modality.as_deref() == Some(modality))
            .and_then(|d| d.token_count)
    })
}

/// Normalises one usage report (either spelling).
pub fn normalise(usage: &UsageMetadata) -> Usage {
    let output_details = usage
        .response_tokens_details
        .as_ref()
        .or(usage.candidates_tokens_details.as_ref());
    let input_details = usage.prompt_tokens_details.as_ref();
    let cache_details = usage.cache_tokens_details.as_ref();
    Usage {
        input_tokens: usage.prompt_token_count,
        output_tokens: usage.response_token_count.or(usage.candidates_token_count),
        total_tokens: usage.total_token_count,
        input_audio_tokens: modality(input_details, "AUDIO"),
        output_audio_tokens: modality(output_details, "AUDIO"),
        cached_tokens: usage.cached_content_token_count,
        cached_text_tokens: modality(cache_details, "TEXT"),
        cached_audio_tokens: modality(cache_details, "AUDIO"),
        cached_image_tokens: modality(cache_details, "IMAGE"),
        input_image_tokens: modality(input_details, "IMAGE"),
        reasoning_tokens: usage.thoughts_token_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn usage(json: serde_json::Value) -> Usage {
        normalise(&serde_json::from_value(json).unwrap())
    }

    #[test]
    fn vertex_candidates_spelling_gives_output_tokens() {
        let u = usage(json!({
            "promptTokenCount": 10, "candidatesTokenCount": 7, "totalTokenCount": 17,
            "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 6}],
            "thoughtsTokenCount": 3,
            "promptTokensDetails": [{"modality": "IMAGE", "tokenCount": 4}],
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 2}]
        }));
        assert_eq!(u.output_tokens, Some(7));
        assert_eq!(u.output_audio_tokens, Some(6));
        assert_eq!(u.reasoning_tokens, Some(3));
        assert_eq!(u.input_image_tokens, Some(4));
        assert_eq!(u.cached_text_tokens, Some(2));
    }

    #[test]
    fn gemini_api_spelling_still_maps() {
        let u = usage(json!({
            "responseTokenCount": 5,
            "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 5}]
        }));
        assert_eq!(u.output_tokens, Some(5));
        assert_eq!(u.output_audio_tokens, Some(5));
    }
}
