//! Qwen-Omni realtime's per-model behaviour, as data: one [`OmniFamily`] row
//! per model family, picked by [`family`] (the registry's
//! [`family_for`], longest prefix wins).
//!
//! Every layer reads the row rather than the model name: the adapter's
//! capabilities and codec (session shape, whether `session.finish` is
//! acknowledged), and the mock's responder (tools echoed or not, which
//! requests it refuses, the default voice). Sources: the protocol notes §10
//! (`dashscope-omni-realtime.md`: SDK 2.0.2, AgentScope 2.0.11's model cards,
//! a field report on 3.8). Points the notes mark *unconfirmed* are noted on
//! the field they decide.

use crate::registry::models::{family_for, ModelFamily};

/// How a `session.update` names audio formats and the voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionShape {
    /// OpenAI-beta flat keys: `voice`, `input_audio_format`,
    /// `output_audio_format` (§3; what the SDK sends up to qwen3.5-omni).
    Flat,
    /// The SDK 2.0.2 "omni_v38" form: `audio.input.format{type,sample_rate}`,
    /// `audio.output.format{…}` and `audio.output.voice` (§10.4, shape 3).
    NestedV38,
}

/// What the server keeps of the conversation (§10.1); `None` where no source
/// gives a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Turns kept.
    pub turns: Option<u32>,
    /// Seconds of audio kept.
    pub audio_secs: Option<u32>,
    /// Input tokens.
    pub tokens: Option<u32>,
}

/// One model family of Qwen-Omni realtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OmniFamily {
    /// Model-id prefixes of the family (`""`: the fallback row).
    pub prefixes: &'static [&'static str],
    /// A short name for reports and tests.
    pub name: &'static str,
    /// Function calling (Chat-Completions-shaped `tools`). Without it the
    /// server accepts `tools` but echoes none and never calls (§10.8).
    pub tools: bool,
    /// Remote MCP tools (3.8; wire shape *unconfirmed*, not encoded).
    pub mcp: bool,
    /// `turn_detection.type: "semantic_vad"`.
    pub semantic_vad: bool,
    /// `enable_search` web search; refused together with `tools`.
    pub search: bool,
    /// Text user turns (`conversation.item.create` message items): false for
    /// every Omni model (§10.5).
    pub text_input: bool,
    /// Whether `conversation.item.create` may carry a `message` item at all
    /// (3.8 accepts only `function_call_output` and `mcp_approval_response`).
    pub message_items: bool,
    /// Whether the session object is sent flat or nested.
    pub session_shape: SessionShape,
    /// `session.finish` is answered by `session.finished` (3.8 documents no
    /// acknowledgement; on 3.5 the acknowledgement is *unconfirmed*, kept as
    /// the legacy behaviour).
    pub finish_ack: bool,
    /// What the server keeps of the conversation.
    pub history: HistoryLimits,
    /// The voice a new session has.
    pub default_voice: &'static str,
    /// Voices known to work.
    pub voices: &'static [&'static str],
}

impl ModelFamily for OmniFamily {
    fn prefixes(&self) -> &'static [&'static str] {
        self.prefixes
    }
}

/// The legacy rows' common values (qwen3-omni-flash, today's default).
const LEGACY: OmniFamily = OmniFamily {
    prefixes: &["qwen3-omni-flash"],
    name: "qwen3-omni-flash",
    tools: false,
    mcp: false,
    semantic_vad: false,
    search: false,
    text_input: false,
    message_items: true,
    session_shape: SessionShape::Flat,
    finish_ack: true,
    history: HistoryLimits {
        turns: Some(8),
        audio_secs: None,
        tokens: None,
    },
    default_voice: "Cherry",
    voices: &["Cherry", "Serena", "Ethan", "Chelsie"],
};

/// The qwen3.5-omni rows' common values.
const V35: OmniFamily = OmniFamily {
    prefixes: &["qwen3.5-omni-flash"],
    name: "qwen3.5-omni-flash",
    tools: true,
    semantic_vad: true,
    search: true,
    history: HistoryLimits {
        turns: Some(80),
        audio_secs: Some(480),
        tokens: None,
    },
    default_voice: "Tina",
    voices: &["Tina", "Serena", "Ethan"],
    ..LEGACY
};

/// The Qwen-Omni realtime model table.
pub static FAMILIES: &[OmniFamily] = &[
    OmniFamily {
        prefixes: &["qwen-omni-turbo"],
        name: "qwen-omni-turbo",
        history: HistoryLimits {
            turns: None,
            audio_secs: None,
            tokens: Some(32_768),
        },
        default_voice: "Chelsie",
        ..LEGACY
    },
    LEGACY,
    V35,
    OmniFamily {
        prefixes: &["qwen3.5-omni-plus"],
        name: "qwen3.5-omni-plus",
        history: HistoryLimits {
            turns: Some(100),
            audio_secs: Some(600),
            tokens: None,
        },
        ..V35
    },
    OmniFamily {
        prefixes: &["qwen3.8-omni"],
        name: "qwen3.8-omni-flash",
        mcp: true,
        message_items: false,
        session_shape: SessionShape::NestedV38,
        finish_ack: false,
        history: HistoryLimits {
            turns: Some(100),
            audio_secs: Some(600),
            tokens: Some(196_608),
        },
        voices: &[
            "Tina",
            "Serena",
            "Maia",
            "Ryan",
            "Katerina",
            "longanlingxin",
        ],
        ..V35
    },
    // Fallback: an Omni model this table does not know behaves as the
    // legacy default (no tools, flat session, acknowledged finish).
    OmniFamily {
        prefixes: &[""],
        name: "fallback",
        ..LEGACY
    },
];

/// The row for `model`.
pub fn family(model: &str) -> &'static OmniFamily {
    family_for(FAMILIES, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::models::try_family_for;

    #[test]
    fn the_table_has_a_fallback_row() {
        assert_eq!(
            try_family_for(FAMILIES, "qwen9-omni-ultra-realtime").map(|f| f.name),
            Some("fallback")
        );
        assert_eq!(family("").name, "fallback");
    }

    #[test]
    fn models_find_their_family() {
        for (model, name) in [
            ("qwen-omni-turbo-realtime", "qwen-omni-turbo"),
            ("qwen3-omni-flash-realtime-2025-09-15", "qwen3-omni-flash"),
            ("qwen3.5-omni-flash-realtime", "qwen3.5-omni-flash"),
            ("qwen3.5-omni-plus-realtime", "qwen3.5-omni-plus"),
            ("qwen3.8-omni-flash-realtime", "qwen3.8-omni-flash"),
        ] {
            assert_eq!(family(model).name, name, "{model}");
        }
    }

    #[test]
    fn rows_say_what_the_protocol_notes_say() {
        let v38 = family("qwen3.8-omni-flash-realtime");
        assert!(v38.tools && v38.mcp && !v38.message_items && !v38.finish_ack);
        assert_eq!(v38.session_shape, SessionShape::NestedV38);
        assert!(!v38.voices.contains(&"Cherry"), "Cherry fails on 3.8");
        let v35 = family("qwen3.5-omni-plus-realtime");
        assert!(v35.tools && v35.semantic_vad && v35.search && v35.finish_ack);
        assert_eq!(v35.session_shape, SessionShape::Flat);
        let legacy = family("qwen3-omni-flash-realtime");
        assert!(!legacy.tools && !legacy.search && legacy.message_items);
        assert!(FAMILIES.iter().all(|f| !f.text_input));
    }
}
