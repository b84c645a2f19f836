//! The resolved session (`SessionResource`): the start configuration with
//! the service's defaults filled in (PCM16 24 kHz, voice `marin`, client
//! delegation, empty history), a `session.update` merged into it (only
//! delegation settings of the same type, and triggers), and a fork's
//! overrides over a stored session.
//!
//! Unset optional fields (`store`, `safety_identifier`, `triggers`) stay out
//! of the snapshot: whether the service lists them is *unconfirmed*, and the
//! recorded frame of the notes (§3.2) omits them.

use crate::protocol::FrameError;
use understudy_adapters::openai_live::wire::session::{
    AudioFormat, AudioOutput, Delegation, SessionAudio, SessionConfig, SessionResource,
    SessionUpdateConfig, Voice,
};

/// The voice when none is asked for.
pub(super) const DEFAULT_VOICE: &str = "marin";

/// `config` resolved as session `id` expiring at `expires_at` (unix s).
pub(super) fn resolve(config: &SessionConfig, id: String, expires_at: i64) -> SessionResource {
    let audio = config.audio.clone().unwrap_or_default();
    let output = audio.output.clone().unwrap_or_default();
    SessionResource {
        id,
        expires_at,
        model: config.model.clone().unwrap_or_default(),
        status: "active".into(),
        instructions: config.instructions.clone(),
        audio: Some(SessionAudio {
            format: Some(
                audio
                    .format
                    .clone()
                    .unwrap_or_else(AudioFormat::pcm24k)
                    .with_rate(),
            ),
            output: Some(AudioOutput {
                voice: Some(
                    output
                        .voice
                        .unwrap_or_else(|| Voice::Name(DEFAULT_VOICE.into())),
                ),
                ..Default::default()
            }),
            ..Default::default()
        }),
        delegation: Some(config.delegation.clone().unwrap_or_else(Delegation::client)),
        input: Some(config.input.clone().unwrap_or_default()),
        store: config.store,
        safety_identifier: config.safety_identifier.clone(),
        triggers: config.triggers.clone(),
        client: config.client.clone(),
        ..Default::default()
    }
}

/// A format with its rate filled in (8 kHz for G.711, 24 kHz for PCM).
trait WithRate {
    fn with_rate(self) -> Self;
}

impl WithRate for AudioFormat {
    fn with_rate(mut self) -> Self {
        if self.rate.is_none() {
            self.rate = Some(if self.kind == "audio/pcm" {
                24_000
            } else {
                8_000
            });
        }
        self
    }
}

/// Merges a validated `session.update` into `session`; changing the
/// delegation type is refused with `immutable_field_update`.
pub(super) fn apply_update(
    session: &mut SessionResource,
    update: &SessionUpdateConfig,
) -> Result<(), FrameError> {
    if let Some(change) = &update.delegation {
        let current = session.delegation.get_or_insert_with(Delegation::client);
        if change.kind != current.kind {
            return Err(FrameError::new(
                "immutable_field_update",
                format!(
                    "The delegation type cannot change after startup (session: '{}', update: '{}').",
                    current.kind, change.kind
                ),
            )
            .param("session.delegation.type"));
        }
        merge_delegation(current, change);
    }
    if let Some(triggers) = &update.triggers {
        session.triggers = Some(triggers.clone());
    }
    Ok(())
}

/// Sparse delegation settings over the current ones.
fn merge_delegation(current: &mut Delegation, change: &Delegation) {
    if change.acknowledgement_delay_ms.is_some() {
        current.acknowledgement_delay_ms = change.acknowledgement_delay_ms;
    }
    if let Some(responses) = &change.responses {
        let target = current.responses.get_or_insert_with(Default::default);
        macro_rules! keep_unless_set {
            ($($field:ident),*) => {$(
                if responses.$field.is_some() {
                    target.$field = responses.$field.clone();
                }
            )*};
        }
        keep_unless_set!(
            model,
            instructions,
            tools,
            tool_choice,
            parallel_tool_calls,
            max_output_tokens,
            reasoning,
            text,
            service_tier
        );
    }
    if change.decisions.is_some() {
        current.decisions = change.decisions.clone();
    }
}

/// A fork of `stored` as session `id`: its configuration with the fork's
/// overrides (audio format, Responses delegation settings, `store`).
pub(super) fn fork(
    stored: &SessionResource,
    overrides: &SessionConfig,
    id: String,
    expires_at: i64,
) -> SessionResource {
    let mut session = stored.clone();
    session.id = id;
    session.expires_at = expires_at;
    if let Some(format) = overrides.audio.as_ref().and_then(|a| a.format.clone()) {
        let audio = session.audio.get_or_insert_with(SessionAudio::default);
        audio.format = Some(format.with_rate());
    }
    if let Some(delegation) = &overrides.delegation {
        match session.delegation.as_mut() {
            Some(current) if current.kind == delegation.kind => {
                merge_delegation(current, delegation)
            }
            _ => session.delegation = Some(delegation.clone()),
        }
    }
    if overrides.store.is_some() {
        session.store = overrides.store;
    }
    session
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> SessionConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_are_filled_and_unset_options_stay_out() {
        let session = resolve(
            &config(r#"{"model":"gpt-live-1","instructions":"Be brief."}"#),
            "live_mock_1".into(),
            99,
        );
        let json = serde_json::to_value(&session).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "live_mock_1", "expires_at": 99, "model": "gpt-live-1", "status": "active",
                "instructions": "Be brief.",
                "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}},
                "delegation": {"type": "client"}, "input": []})
        );
        let pcmu = resolve(
            &config(r#"{"model":"m","audio":{"format":{"type":"audio/pcmu"}}}"#),
            "x".into(),
            0,
        );
        assert_eq!(pcmu.audio.unwrap().format.unwrap().rate, Some(8000));
    }

    #[test]
    fn updates_merge_sparsely_and_keep_the_delegation_type() {
        let mut session = resolve(
            &config(
                r#"{"model":"m","delegation":{"type":"responses","responses":{"model":"gpt-5","instructions":"x"}}}"#,
            ),
            "s".into(),
            0,
        );
        let update: SessionUpdateConfig =
            serde_json::from_str(r#"{"delegation":{"type":"responses","acknowledgement_delay_ms":100,"responses":{"instructions":"y"}}}"#).unwrap();
        apply_update(&mut session, &update).unwrap();
        let delegation = session.delegation.clone().unwrap();
        assert_eq!(delegation.acknowledgement_delay_ms, Some(100));
        let responses = delegation.responses.unwrap();
        assert_eq!(
            (
                responses.model.as_deref(),
                responses.instructions.as_deref()
            ),
            (Some("gpt-5"), Some("y"))
        );
        let switch: SessionUpdateConfig =
            serde_json::from_str(r#"{"delegation":{"type":"client"}}"#).unwrap();
        assert_eq!(
            apply_update(&mut session, &switch).unwrap_err().code,
            "immutable_field_update"
        );
    }
}
