//! What differs between Qwen-Audio-Realtime models, as a table of families
//! ([`registry::models`](crate::registry::models)): the default voice, the
//! context the service keeps and which turn-detection names it refuses.
//! Everything that reads a model's behaviour (capabilities, the codec, the
//! mock responder) reads its row here.

use crate::dashscope::models::{HistoryLimits, OmniFamily, SessionShape};
use crate::registry::models::{family_for, ModelFamily};

/// The rules Qwen-Audio-Realtime shares with the Qwen-Omni engine it is
/// built on, stated as that engine's row so the mock's Omni responder follows
/// Qwen-Audio's rules, not those of the Omni row its name would fall to:
/// function tools, text `message` items, a flat session, and no
/// `session.finish` to acknowledge (the dialect refuses it before the engine
/// sees it).
pub static OMNI_ENGINE_RULES: OmniFamily = OmniFamily {
    prefixes: &["qwen-audio-"],
    name: "qwen-audio",
    tools: true,
    mcp: false,
    semantic_vad: false,
    search: false,
    text_input: true,
    message_items: true,
    session_shape: SessionShape::Flat,
    finish_ack: false,
    history: HistoryLimits {
        turns: None,
        audio_secs: None,
        tokens: None,
    },
    default_voice: "longanqian_v3.1",
    voices: &[],
};

/// One family of Qwen-Audio-Realtime models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioFamily {
    /// Model-id prefixes this row covers.
    pub prefixes: &'static [&'static str],
    /// The voice a new session has (`session.created`).
    pub default_voice: &'static str,
    /// Audio turns of context the service keeps, where documented.
    pub context_turns: Option<u32>,
    /// Seconds of audio context the service keeps, where documented.
    pub context_audio_secs: Option<u32>,
    /// `turn_detection.type` values the service refuses by name
    /// (`semantic_vad` on 3.1, per a field report; on 3.0 unconfirmed).
    pub rejected_turn_types: &'static [&'static str],
}

impl ModelFamily for AudioFamily {
    fn prefixes(&self) -> &'static [&'static str] {
        self.prefixes
    }
}

/// Every Qwen-Audio-Realtime family, plus the fallback row.
pub static FAMILIES: &[AudioFamily] = &[
    // 3.1: `_v3.1` voices; context limits unconfirmed.
    AudioFamily {
        prefixes: &["qwen-audio-3.1-realtime"],
        default_voice: "longanqian_v3.1",
        context_turns: None,
        context_audio_secs: None,
        rejected_turn_types: &["semantic_vad"],
    },
    // 3.0: 50 audio turns / 300 s of context (documented). Whether it also
    // refuses `semantic_vad` is unconfirmed; the mock refuses it for every
    // model, as the name is not in the API.
    AudioFamily {
        prefixes: &["qwen-audio-3.0-realtime"],
        default_voice: "longanqian",
        context_turns: Some(50),
        context_audio_secs: Some(300),
        rejected_turn_types: &["semantic_vad"],
    },
    // Fallback: a future Qwen-Audio model behaves like the newest one known.
    AudioFamily {
        prefixes: &[""],
        default_voice: "longanqian_v3.1",
        context_turns: None,
        context_audio_secs: None,
        rejected_turn_types: &["semantic_vad"],
    },
];

/// The family row for `model`.
pub fn family(model: &str) -> &'static AudioFamily {
    family_for(FAMILIES, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::models::try_family_for;

    #[test]
    fn the_table_has_a_fallback_row() {
        assert!(try_family_for(FAMILIES, "qwen-audio-9-realtime-max").is_some());
        assert!(FAMILIES.iter().any(|f| f.prefixes.contains(&"")));
    }

    #[test]
    fn versions_pick_their_own_rows() {
        assert_eq!(
            family("qwen-audio-3.1-realtime-plus").default_voice,
            "longanqian_v3.1"
        );
        assert_eq!(
            family("qwen-audio-3.0-realtime-flash").default_voice,
            "longanqian"
        );
        assert_eq!(
            family("qwen-audio-3.0-realtime-plus").context_turns,
            Some(50)
        );
        assert_eq!(family("qwen-audio-3.1-realtime-flash").context_turns, None);
    }
}
