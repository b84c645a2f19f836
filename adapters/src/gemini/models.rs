//! Gemini Live's model families as data: what each generation does
//! differently (tool-call behaviour, response scheduling, thinking, proactive
//! audio, interaction status, multi-part messages), one [`GeminiModel`] row
//! per family, picked by [`model_family`] through
//! [`registry::models::family_for`](crate::registry::models::family_for).
//!
//! The codec, the capabilities and the mock's respond engine all read the row
//! of the session's model; nothing else decides by model name. Sources: the
//! protocol notes' §9.1 (families), §9.5 (function calling), §9.12 (mock) and
//! §9.13 (adapter); points marked *unconfirmed* there are read here as noted
//! on each field.

use crate::registry::models::{family_for, ModelFamily};

pub use crate::input::{ToolBehavior, ToolResultScheduling};

/// A function declaration's `behavior` on Gemini's wire.
impl ToolBehavior {
    /// The wire spelling (`BLOCKING`, `NON_BLOCKING`).
    pub fn wire(self) -> &'static str {
        match self {
            ToolBehavior::Blocking => "BLOCKING",
            ToolBehavior::NonBlocking => "NON_BLOCKING",
        }
    }

    /// Reads a wire value; `UNSPECIFIED` and unknown spellings are `None`
    /// (the model's default applies).
    pub fn from_wire(value: &str) -> Option<Self> {
        match value {
            "BLOCKING" => Some(ToolBehavior::Blocking),
            "NON_BLOCKING" => Some(ToolBehavior::NonBlocking),
            _ => None,
        }
    }
}

/// What `generationConfig.thinkingConfig` must look like for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingRule {
    /// Optional `thinkingBudget` (2.5 native audio).
    Budget,
    /// Optional `thinkingLevel` (3.1 Flash Live; default MINIMAL).
    LevelOptional,
    /// Must be absent: the service closes 1007 "Thinking level is not
    /// supported for this model" (3.8 Live).
    MustOmit,
    /// Required, with exactly one of `thinkingLevel` (LOW, MEDIUM or HIGH,
    /// never MINIMAL) or `thinkingBudget` (3.8 Live Extended Thinking).
    Required,
    /// Not checked (the retired ids kept for old captures).
    Unchecked,
}

/// A function response's `scheduling` on Gemini's wire.
impl ToolResultScheduling {
    /// The wire spelling (`INTERRUPT`, `WHEN_IDLE`, `SILENT`).
    pub fn wire(self) -> &'static str {
        match self {
            ToolResultScheduling::Interrupt => "INTERRUPT",
            ToolResultScheduling::WhenIdle => "WHEN_IDLE",
            ToolResultScheduling::Silent => "SILENT",
        }
    }
}

/// How a model treats `proactivity.proactiveAudio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProactiveAudio {
    /// Not supported; 3.1 reportedly never answers a setup that has it.
    Unsupported,
    /// Opt-in (2.5 native audio).
    Optional,
    /// Always on; asking for `false` is an error (3.8 Live).
    AlwaysOn,
    /// Not checked (the retired ids).
    Unchecked,
}

/// How a model treats `generationConfig.enableAffectiveDialog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AffectiveDialog {
    /// Not supported; 3.1 reportedly never answers a setup that has it.
    Unsupported,
    /// Opt-in (2.5 native audio).
    Optional,
    /// Removed from the API (3.8): do not send it; the service's reaction is
    /// unconfirmed.
    DoNotSend,
    /// Not checked (the retired ids).
    Unchecked,
}

/// One Gemini Live model family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiModel {
    /// Model-id prefixes this row covers (`""`: the fallback row).
    pub prefixes: &'static [&'static str],
    /// A short label for logs and notes (`3.8-live`).
    pub family: &'static str,
    /// The behaviour of a declaration without `behavior`.
    pub tool_behavior_default: ToolBehavior,
    /// The behaviours a declaration may ask for (others are refused).
    pub tool_behavior_allowed: &'static [ToolBehavior],
    /// Whether the adapter writes `behavior` on every declaration (never
    /// relying on the model's default). Off only for the retired ids, whose
    /// captured setups carry none.
    pub declares_behavior: bool,
    /// Whether a function response's `scheduling` is honoured (for
    /// non-blocking calls).
    pub scheduling: bool,
    /// Whether the adapter keeps `scheduling` on the tool results it sends.
    /// Off where the model ignores it, and for Extended Thinking, where a
    /// field report has the service close 1007 over it (conflicting reports:
    /// the adapter plays safe and strips it).
    pub sends_scheduling: bool,
    /// The `scheduling` the adapter writes on a non-blocking call's result
    /// when the caller gives none (`None`: the field is left out).
    pub default_scheduling: Option<ToolResultScheduling>,
    /// Whether `willContinue` (several responses to one call) is supported.
    pub will_continue: bool,
    /// New user input while a `BLOCKING` call is pending cancels that call on
    /// the server (3.8's "auto-canceling blocking tools"), frame or not.
    pub blocking_auto_cancel: bool,
    /// An `INTERRUPT`-scheduled result waits until the user has finished
    /// speaking (3.8) instead of cutting in over the user (2.5).
    pub interrupt_waits_for_user: bool,
    /// The thinking-config rule.
    pub thinking: ThinkingRule,
    /// The `thinkingLevel` the adapter sends where a thinking config is
    /// required (the session configuration has no thinking setting): the
    /// lowest level the model accepts.
    pub thinking_level_default: Option<&'static str>,
    /// The proactive-audio rule.
    pub proactive_audio: ProactiveAudio,
    /// The affective-dialog rule.
    pub affective_dialog: AffectiveDialog,
    /// `turnComplete` carries `interactionStatus` (`IN_PROGRESS`/`IDLE`) and
    /// only `IDLE` means the model is done (Extended Thinking).
    pub emits_interaction_status: bool,
    /// One `serverContent` may carry several parts at once (3.1 and later).
    pub multi_part_server_messages: bool,
    /// Sends `interimInputTranscription` while the user speaks.
    pub interim_transcripts: bool,
    /// Avatar video output (`responseModalities: ["VIDEO"]` + `avatarConfig`).
    pub avatar_video: bool,
    /// `generationConfig.mediaResolution` is configurable per session.
    pub media_resolution: bool,
    /// `customVocabulary` in the transcription configs ("domain biasing").
    pub custom_vocabulary: bool,
}

impl ModelFamily for GeminiModel {
    fn prefixes(&self) -> &'static [&'static str] {
        self.prefixes
    }
}

const BOTH: &[ToolBehavior] = &[ToolBehavior::Blocking, ToolBehavior::NonBlocking];

/// The retired and unknown ids' row: today's behaviour, as the bundled
/// cassettes captured it (every call pauses the turn; nothing new declared).
const LEGACY: GeminiModel = GeminiModel {
    prefixes: &[""],
    family: "legacy",
    tool_behavior_default: ToolBehavior::Blocking,
    tool_behavior_allowed: &[ToolBehavior::Blocking],
    declares_behavior: false,
    scheduling: false,
    sends_scheduling: false,
    default_scheduling: None,
    will_continue: false,
    blocking_auto_cancel: false,
    interrupt_waits_for_user: false,
    thinking: ThinkingRule::Unchecked,
    thinking_level_default: None,
    proactive_audio: ProactiveAudio::Unchecked,
    affective_dialog: AffectiveDialog::Unchecked,
    emits_interaction_status: false,
    multi_part_server_messages: false,
    interim_transcripts: false,
    avatar_video: false,
    media_resolution: false,
    custom_vocabulary: false,
};

/// Every Gemini Live family (§9.1), with the fallback row last.
pub static GEMINI_MODELS: &[GeminiModel] = &[
    // 2.5 native audio: Developer API (`-09-2025`, `-12-2025`) and Vertex names.
    GeminiModel {
        prefixes: &[
            "gemini-2.5-flash-native-audio",
            "gemini-live-2.5-flash-native-audio",
            "gemini-live-2.5-flash-preview-native-audio",
        ],
        family: "2.5-native-audio",
        tool_behavior_default: ToolBehavior::Blocking,
        tool_behavior_allowed: BOTH,
        declares_behavior: true,
        scheduling: true,
        sends_scheduling: true,
        default_scheduling: Some(ToolResultScheduling::WhenIdle),
        will_continue: true,
        blocking_auto_cancel: false,
        interrupt_waits_for_user: false,
        thinking: ThinkingRule::Budget,
        proactive_audio: ProactiveAudio::Optional,
        affective_dialog: AffectiveDialog::Optional,
        ..LEGACY
    },
    GeminiModel {
        prefixes: &["gemini-3.1-flash-live"],
        family: "3.1-flash-live",
        tool_behavior_default: ToolBehavior::Blocking,
        tool_behavior_allowed: &[ToolBehavior::Blocking],
        declares_behavior: true,
        thinking: ThinkingRule::LevelOptional,
        proactive_audio: ProactiveAudio::Unsupported,
        affective_dialog: AffectiveDialog::Unsupported,
        multi_part_server_messages: true,
        interim_transcripts: true,
        ..LEGACY
    },
    GeminiModel {
        prefixes: &["gemini-3.8-live"],
        family: "3.8-live",
        tool_behavior_default: ToolBehavior::NonBlocking,
        tool_behavior_allowed: BOTH,
        declares_behavior: true,
        scheduling: true,
        sends_scheduling: true,
        default_scheduling: Some(ToolResultScheduling::WhenIdle),
        will_continue: true,
        blocking_auto_cancel: true,
        interrupt_waits_for_user: true,
        thinking: ThinkingRule::MustOmit,
        thinking_level_default: None,
        proactive_audio: ProactiveAudio::AlwaysOn,
        affective_dialog: AffectiveDialog::DoNotSend,
        emits_interaction_status: false,
        multi_part_server_messages: true,
        interim_transcripts: true,
        avatar_video: true,
        media_resolution: true,
        custom_vocabulary: true,
    },
    GeminiModel {
        prefixes: &["gemini-3.8-live-extended-thinking"],
        family: "3.8-live-extended-thinking",
        tool_behavior_default: ToolBehavior::NonBlocking,
        tool_behavior_allowed: &[ToolBehavior::NonBlocking],
        declares_behavior: true,
        scheduling: true,
        sends_scheduling: false,
        default_scheduling: None,
        will_continue: false,
        blocking_auto_cancel: true,
        interrupt_waits_for_user: true,
        thinking: ThinkingRule::Required,
        thinking_level_default: Some("LOW"),
        proactive_audio: ProactiveAudio::AlwaysOn,
        affective_dialog: AffectiveDialog::DoNotSend,
        emits_interaction_status: true,
        multi_part_server_messages: true,
        interim_transcripts: true,
        avatar_video: false,
        media_resolution: true,
        custom_vocabulary: true,
    },
    LEGACY,
];

/// The family of `model` (`gemini-3.8-live`, `models/gemini-3.8-live`, a
/// Vertex resource path, …); unknown and retired ids get the fallback row.
pub fn model_family(model: &str) -> &'static GeminiModel {
    family_for(GEMINI_MODELS, model)
}

impl GeminiModel {
    /// Whether a declaration may ask for `behavior`.
    pub fn allows(&self, behavior: ToolBehavior) -> bool {
        self.tool_behavior_allowed.contains(&behavior)
    }

    /// The behaviour a declaration gets: what it asks for, else the default.
    pub fn behavior_of(&self, declared: Option<&str>) -> ToolBehavior {
        declared
            .and_then(ToolBehavior::from_wire)
            .unwrap_or(self.tool_behavior_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::models::try_family_for;

    #[test]
    fn the_table_has_a_fallback_row_that_keeps_todays_behaviour() {
        let fallback = try_family_for(GEMINI_MODELS, "some-future-model").expect("a fallback row");
        assert_eq!(fallback.family, "legacy");
        for retired in ["gemini-live-2.5-flash-preview", "gemini-2.0-flash-live-001"] {
            let row = model_family(retired);
            assert_eq!(row.family, "legacy", "{retired}");
            assert_eq!(row.tool_behavior_default, ToolBehavior::Blocking);
            assert!(!row.declares_behavior && !row.emits_interaction_status);
        }
    }

    #[test]
    fn each_family_is_found_by_its_ids() {
        for (model, family) in [
            (
                "gemini-2.5-flash-native-audio-preview-12-2025",
                "2.5-native-audio",
            ),
            (
                "gemini-2.5-flash-native-audio-preview-09-2025",
                "2.5-native-audio",
            ),
            ("gemini-live-2.5-flash-native-audio", "2.5-native-audio"),
            (
                "projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-preview-native-audio-09-2025",
                "2.5-native-audio",
            ),
            ("models/gemini-3.1-flash-live-preview", "3.1-flash-live"),
            ("models/gemini-3.8-live", "3.8-live"),
            (
                "gemini-3.8-live-extended-thinking",
                "3.8-live-extended-thinking",
            ),
        ] {
            assert_eq!(model_family(model).family, family, "{model}");
        }
    }

    #[test]
    fn tool_behaviour_defaults_follow_the_generation() {
        let live = model_family("gemini-3.8-live");
        assert_eq!(live.behavior_of(None), ToolBehavior::NonBlocking);
        assert_eq!(live.behavior_of(Some("BLOCKING")), ToolBehavior::Blocking);
        assert!(live.allows(ToolBehavior::Blocking) && live.blocking_auto_cancel);
        let thinking = model_family("gemini-3.8-live-extended-thinking");
        assert!(!thinking.allows(ToolBehavior::Blocking));
        assert!(thinking.emits_interaction_status && !thinking.sends_scheduling);
        let flash = model_family("gemini-3.1-flash-live-preview");
        assert_eq!(flash.behavior_of(None), ToolBehavior::Blocking);
        assert!(!flash.scheduling && !flash.allows(ToolBehavior::NonBlocking));
        let native = model_family("gemini-2.5-flash-native-audio-preview-12-2025");
        assert_eq!(native.behavior_of(None), ToolBehavior::Blocking);
        assert!(native.allows(ToolBehavior::NonBlocking) && !native.interrupt_waits_for_user);
    }

    #[test]
    fn capabilities_read_the_row_of_the_model_through_the_registry() {
        let caps = |model: &str| {
            (crate::registry::table::GEMINI_LIVE
                .capabilities
                .expect("capabilities"))(model)
        };
        let live = caps("gemini-3.8-live");
        assert!(live.tool_calls_non_blocking && live.tool_result_scheduling);
        assert!(!live.interaction_status);
        let thinking = caps("gemini-3.8-live-extended-thinking");
        assert!(thinking.tool_calls_non_blocking && thinking.interaction_status);
        let legacy = caps("gemini-live-2.5-flash-preview");
        assert!(!legacy.tool_calls_non_blocking && !legacy.tool_result_scheduling);
        assert_eq!(legacy, super::super::capabilities());
    }
}
