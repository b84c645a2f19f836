//! Which session dialects the replay engine plays, as a table keyed by the
//! dialect id a cassette's header names: each entry turns a cassette into a
//! [`ReplayScript`] with the dialect's [`Protocol`](crate::protocol::Protocol),
//! so that client frames are matched the way that dialect's mock parses them.

use crate::replay::{self, ReplayScript};
use crate::{dashscope, gemini, openai, MockError};
use understudy_fixtures::Cassette;

/// How a cassette of one session dialect becomes a replay script.
type Prepare = fn(&str, &Cassette) -> Result<ReplayScript, replay::ScriptError>;

/// Every session dialect the mock replays, by the dialect id a cassette's
/// header names (OpenAI's short names `ga` and `beta` included).
const REPLAY_DIALECTS: &[(&str, Prepare)] = &[
    (understudy_adapters::gemini::DIALECT, |name, cassette| {
        ReplayScript::from_cassette(name, cassette, &gemini::GeminiProtocol)
    }),
    (understudy_adapters::dashscope::DIALECT, |name, cassette| {
        let model = cassette.header.model.clone();
        ReplayScript::from_cassette(name, cassette, &dashscope::DashScopeProtocol { model })
    }),
    (
        understudy_adapters::qwen_audio::DIALECT,
        |name, cassette| {
            let model = cassette.header.model.clone();
            let protocol = crate::qwen_audio::QwenAudioProtocol { model };
            ReplayScript::from_cassette(name, cassette, &protocol)
        },
    ),
    (
        understudy_adapters::dashscope::tts::DIALECT,
        |name, cassette| {
            let model = cassette.header.model.clone();
            let protocol = dashscope::tts::DashScopeTtsProtocol { model };
            ReplayScript::from_cassette(name, cassette, &protocol)
        },
    ),
    (
        understudy_adapters::openai_live::DIALECT,
        |name, cassette| {
            ReplayScript::from_cassette(
                name,
                cassette,
                &crate::openai_live::LiveProtocol::primary(),
            )
        },
    ),
    ("openai-ga", openai_ga),
    ("ga", openai_ga),
    ("openai-beta", openai_beta),
    ("beta", openai_beta),
];

fn openai_ga(name: &str, cassette: &Cassette) -> Result<ReplayScript, replay::ScriptError> {
    let dialect = understudy_adapters::openai::Dialect::Ga;
    ReplayScript::from_cassette(name, cassette, &openai::OpenAiProtocol { dialect })
}

fn openai_beta(name: &str, cassette: &Cassette) -> Result<ReplayScript, replay::ScriptError> {
    let dialect = understudy_adapters::openai::Dialect::Beta;
    ReplayScript::from_cassette(name, cassette, &openai::OpenAiProtocol { dialect })
}

/// Prepares a cassette for replay by the mock dialect its header names.
pub fn replay_script(name: &str, cassette: &Cassette) -> Result<ReplayScript, MockError> {
    let dialect = cassette.header.dialect.as_str();
    let (_, prepare) = REPLAY_DIALECTS
        .iter()
        .find(|(id, _)| *id == dialect)
        .ok_or_else(|| MockError::UnknownDialect {
            name: name.to_owned(),
            dialect: dialect.to_owned(),
        })?;
    Ok(prepare(name, cassette)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_session_dialect_replays_and_others_are_named() {
        use understudy_adapters::openai::Dialect;
        for id in [
            understudy_adapters::gemini::DIALECT,
            understudy_adapters::dashscope::DIALECT,
            understudy_adapters::dashscope::tts::DIALECT,
            understudy_adapters::qwen_audio::DIALECT,
            understudy_adapters::openai_live::DIALECT,
            Dialect::Ga.name(),
            Dialect::Beta.name(),
        ] {
            assert!(
                REPLAY_DIALECTS.iter().any(|(known, _)| *known == id),
                "{id} has no replay entry"
            );
        }
        // OpenAI's short names parse to the dialect their entry prepares.
        assert_eq!("ga".parse::<Dialect>().ok(), Some(Dialect::Ga));
        assert_eq!("beta".parse::<Dialect>().ok(), Some(Dialect::Beta));
    }
}
