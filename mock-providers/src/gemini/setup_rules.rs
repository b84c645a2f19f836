//! The per-model `setup` checks of Gemini Live (protocol notes §9.3, §9.10):
//! which thinking config, tool behaviours, proactivity and affective-dialog
//! settings a model refuses, and how (a close with its code and reason, or no
//! answer at all). The model's rules are its row in
//! [`understudy_adapters::gemini::models`]; each refusal that rests on a
//! field report is a switch in [`GeminiLiveSettings`].

use super::settings::GeminiLiveSettings;
use serde_json::Value;
use understudy_adapters::gemini::models::{
    AffectiveDialog, GeminiModel, ProactiveAudio, ThinkingRule, ToolBehavior,
};
use understudy_adapters::gemini::wire::Setup;

/// How the service answers a `setup` the model refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Close the socket with this code and reason.
    Close(u16, String),
    /// Never answer (no `setupComplete`): what 3.1 reportedly does with
    /// affective dialog or proactivity.
    Silence(String),
}

/// The 1007 reason for a thinking config on a model that must not get one.
pub const THINKING_NOT_SUPPORTED: &str = "Thinking level is not supported for this model";
/// The 1007 reason for a missing or ambiguous thinking config (text unconfirmed).
pub const THINKING_REQUIRED: &str =
    "thinkingConfig must set exactly one of thinkingLevel (LOW, MEDIUM, HIGH) or thinkingBudget";
/// The 1007 reason for a `behavior` the model does not allow (text unconfirmed).
pub const BEHAVIOR_NOT_SUPPORTED: &str =
    "Function behavior BLOCKING is not supported for this model (async only)";
/// The 1007 reason for turning proactive audio off where it is always on (text unconfirmed).
pub const PROACTIVE_AUDIO_ALWAYS_ON: &str = "Proactive audio cannot be disabled for this model";
/// The 1008 reason for avatar video output, which this mock does not produce.
pub const VIDEO_NOT_SUPPORTED: &str =
    "Avatar video output (responseModalities VIDEO) is not supported by this mock: its frame format is unconfirmed";
/// The 1007 reason for `scheduling` where the service reportedly refuses it.
pub const SCHEDULING_NOT_SUPPORTED: &str =
    "Function response scheduling is not supported for this model";

/// A field of a JSON object in either spelling.
pub fn field<'v>(value: &'v Value, camel: &str, snake: &str) -> Option<&'v Value> {
    value.get(camel).or_else(|| value.get(snake))
}

/// Checks `setup` against the model's row; `Ok` when the session may start.
pub fn check(
    setup: &Setup,
    row: &GeminiModel,
    settings: &GeminiLiveSettings,
) -> Result<(), Refusal> {
    let invalid = |reason: &str| Err(Refusal::Close(1007, reason.to_owned()));
    let generation = setup.generation_config.as_ref();
    let modalities = generation
        .and_then(|g| g.response_modalities.as_deref())
        .unwrap_or_default();
    if modalities.iter().any(|m| m.eq_ignore_ascii_case("VIDEO")) {
        return Err(Refusal::Close(1008, VIDEO_NOT_SUPPORTED.to_owned()));
    }
    let thinking = generation.and_then(|g| g.thinking_config.as_ref());
    match row.thinking {
        ThinkingRule::MustOmit if thinking.is_some() && settings.reject_thinking_config => {
            return invalid(THINKING_NOT_SUPPORTED);
        }
        ThinkingRule::Required if settings.require_thinking_config => {
            let level = thinking.and_then(|t| field(t, "thinkingLevel", "thinking_level"));
            let budget = thinking.and_then(|t| field(t, "thinkingBudget", "thinking_budget"));
            let good_level = level
                .and_then(Value::as_str)
                .is_some_and(|l| ["LOW", "MEDIUM", "HIGH"].contains(&l));
            let ok = match (level, budget) {
                (Some(_), None) => good_level,
                (None, Some(b)) => b.is_i64() || b.is_u64(),
                _ => false,
            };
            if !ok {
                return invalid(THINKING_REQUIRED);
            }
        }
        _ => {}
    }
    if settings.reject_disallowed_behavior {
        let declarations = setup
            .tools
            .iter()
            .flatten()
            .flat_map(|t| t.function_declarations.iter().flatten());
        for declaration in declarations {
            let asked = declaration
                .behavior
                .as_deref()
                .and_then(ToolBehavior::from_wire);
            if asked.is_some_and(|b| !row.allows(b)) {
                return invalid(BEHAVIOR_NOT_SUPPORTED);
            }
        }
    }
    let proactive_audio = setup
        .proactivity
        .as_ref()
        .and_then(|p| field(p, "proactiveAudio", "proactive_audio"))
        .and_then(Value::as_bool);
    if row.proactive_audio == ProactiveAudio::AlwaysOn
        && proactive_audio == Some(false)
        && settings.reject_proactive_audio_off
    {
        return invalid(PROACTIVE_AUDIO_ALWAYS_ON);
    }
    let affective = generation.and_then(|g| g.enable_affective_dialog).is_some();
    let unsupported = (row.affective_dialog == AffectiveDialog::Unsupported && affective)
        || (row.proactive_audio == ProactiveAudio::Unsupported && setup.proactivity.is_some());
    if unsupported && settings.silent_on_unsupported_dialog {
        return Err(Refusal::Silence(format!(
            "{} ignores a setup with enableAffectiveDialog or proactivity (reported): no setupComplete",
            row.family
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use understudy_adapters::gemini::models::model_family;

    fn setup(json: Value) -> Setup {
        serde_json::from_value(json).unwrap()
    }

    fn checked(model: &str, json: Value) -> Result<(), Refusal> {
        check(
            &setup(json),
            model_family(model),
            &GeminiLiveSettings::default(),
        )
    }

    #[test]
    fn thinking_config_is_refused_on_38_live_and_required_on_extended_thinking() {
        let with_level =
            serde_json::json!({"generationConfig": {"thinkingConfig": {"thinking_level": "LOW"}}});
        assert_eq!(
            checked("gemini-3.8-live", with_level.clone()),
            Err(Refusal::Close(1007, THINKING_NOT_SUPPORTED.into()))
        );
        assert_eq!(
            checked("gemini-3.8-live-extended-thinking", with_level.clone()),
            Ok(())
        );
        assert_eq!(checked("gemini-3.1-flash-live-preview", with_level), Ok(()));
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"generationConfig": {"thinkingConfig": {"thinkingLevel": "MINIMAL"}}}),
            serde_json::json!({"generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": 512}}}),
            serde_json::json!({"generationConfig": {"thinkingConfig": {"includeThoughts": true}}}),
        ] {
            assert_eq!(
                checked("gemini-3.8-live-extended-thinking", bad.clone()),
                Err(Refusal::Close(1007, THINKING_REQUIRED.into())),
                "{bad}"
            );
        }
        assert_eq!(
            checked(
                "gemini-3.8-live-extended-thinking",
                serde_json::json!({"generationConfig": {"thinkingConfig": {"thinkingBudget": 512}}})
            ),
            Ok(())
        );
    }

    #[test]
    fn each_rejection_can_be_switched_off() {
        let off = GeminiLiveSettings {
            reject_thinking_config: false,
            require_thinking_config: false,
            reject_disallowed_behavior: false,
            reject_proactive_audio_off: false,
            silent_on_unsupported_dialog: false,
            ..GeminiLiveSettings::default()
        };
        let all = setup(serde_json::json!({
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "MINIMAL"}, "enableAffectiveDialog": true},
            "proactivity": {"proactiveAudio": false},
            "tools": [{"functionDeclarations": [{"name": "f", "behavior": "BLOCKING"}]}]
        }));
        for model in [
            "gemini-3.8-live",
            "gemini-3.8-live-extended-thinking",
            "gemini-3.1-flash-live-preview",
        ] {
            assert_eq!(check(&all, model_family(model), &off), Ok(()), "{model}");
            assert!(
                check(&all, model_family(model), &GeminiLiveSettings::default()).is_err(),
                "{model}"
            );
        }
    }

    #[test]
    fn behaviour_proactivity_and_affective_dialog_follow_the_row() {
        let blocking = serde_json::json!({"tools": [{"functionDeclarations": [{"name": "f", "behavior": "BLOCKING"}]}]});
        assert_eq!(checked("gemini-3.8-live", blocking.clone()), Ok(()));
        assert_eq!(
            checked(
                "gemini-3.8-live-extended-thinking",
                serde_json::json!({"generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW"}},
                                   "tools": [{"functionDeclarations": [{"name": "f", "behavior": "BLOCKING"}]}]})
            ),
            Err(Refusal::Close(1007, BEHAVIOR_NOT_SUPPORTED.into()))
        );
        let off = serde_json::json!({"proactivity": {"proactive_audio": false}});
        assert_eq!(
            checked("gemini-3.8-live", off.clone()),
            Err(Refusal::Close(1007, PROACTIVE_AUDIO_ALWAYS_ON.into()))
        );
        assert_eq!(
            checked("gemini-2.5-flash-native-audio-preview-12-2025", off),
            Ok(())
        );
        let affective = serde_json::json!({"generationConfig": {"enableAffectiveDialog": true}});
        assert!(matches!(
            checked("gemini-3.1-flash-live-preview", affective.clone()),
            Err(Refusal::Silence(_))
        ));
        assert_eq!(
            checked("gemini-2.5-flash-native-audio-preview-12-2025", affective),
            Ok(())
        );
        assert_eq!(
            checked(
                "gemini-3.8-live",
                serde_json::json!({"generationConfig": {"responseModalities": ["VIDEO"]}, "avatarConfig": {"avatarName": "ava"}})
            ),
            Err(Refusal::Close(1008, VIDEO_NOT_SUPPORTED.into()))
        );
        assert_eq!(
            checked("gemini-live-2.5-flash-preview", blocking),
            Ok(()),
            "the legacy row checks nothing new"
        );
    }
}
