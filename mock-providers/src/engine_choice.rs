//! Which engine answers a realtime session, decided in one place.
//!
//! Every realtime dialect gets its engine the same way: under the *respond*
//! engine, the configured [`ResponderConfig`] at the mock's speed goes to the
//! dialect's own responder; under the *replay* engine, the cassette the client
//! asked for (or the first of the dialect) plays, with the dialect's other
//! cassettes lined up to continue it. [`choose`] is that rule; what differs
//! per dialect — how its responder is built — is the dialect's answer to
//! [`Respond`], implemented in its mock folder (`openai/`, `dashscope/`,
//! `gemini/`) next to its [`Protocol`].
//!
//! A choice that fails (no such cassette) is an [`EngineError`]; the session
//! loop shows it to the client as the dialect refuses a session.

use crate::config::{NoCassette, ReplayLibrary};
use crate::dashscope::SetupFault;
use crate::engine::SessionEngine;
use crate::protocol::Protocol;
use crate::replay::Replayer;
use crate::state::AppState;
use crate::ResponderConfig;
use std::sync::Arc;

/// What a dialect's responder may need to know about the session it answers.
pub(crate) struct SessionStart<'a> {
    /// The mock's shared state (connection limits, the resumption store).
    pub(crate) state: &'a AppState,
    /// The session's number on this mock (seeds its ids).
    pub(crate) number: u64,
    /// The model the client asked for.
    pub(crate) model: String,
    /// The set-up fault asked for (DashScope dialects, GPT-Live).
    pub(crate) fault: Option<SetupFault>,
    /// Whether the key was accepted, for dialects whose engine refuses it.
    pub(crate) authorised: bool,
    /// The session's slot under the cap, held until the session ends.
    pub(crate) slot: Option<understudy_adapters::serve_limits::SessionSlot>,
}

/// How a realtime dialect builds its respond engine: implemented by each
/// dialect's [`Protocol`] in its mock folder.
pub(crate) trait Respond: Protocol {
    /// The responder for one session, configured with `config` (already at
    /// the mock's speed).
    fn responder(
        &self,
        config: ResponderConfig,
        start: &SessionStart<'_>,
    ) -> Box<dyn SessionEngine<Self::Event>>;
}

/// Why no engine could be chosen for a session.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    /// The replay engine has no cassette for it.
    #[error("{0}")]
    NoCassette(#[source] NoCassette),
}

impl EngineError {
    /// The cassette a misspelt `?cassette=` most likely meant.
    pub(crate) fn suggestion(&self) -> Option<&str> {
        match self {
            EngineError::NoCassette(missing) => missing.suggestion(),
        }
    }
}

/// The engine for a session of `protocol`'s dialect: its responder, or the
/// replay of the cassette `wanted` (else the first of the dialect).
pub(crate) fn choose<P: Respond>(
    protocol: &P,
    start: &SessionStart<'_>,
    wanted: Option<&str>,
) -> Result<Box<dyn SessionEngine<P::Event>>, EngineError> {
    let config = &start.state.config;
    match &config.engine {
        crate::config::EngineConfig::Respond(responder) => {
            let mut responder = responder.clone();
            responder.speed = config.speed;
            Ok(protocol.responder(responder, start))
        }
        crate::config::EngineConfig::Replay(library) => {
            replay(library, wanted, protocol.name(), config.speed)
        }
    }
}

/// A replay engine for a session of `dialect`: the selected cassette, then
/// the dialect's others in load order.
fn replay<E: 'static>(
    library: &ReplayLibrary,
    wanted: Option<&str>,
    dialect: &str,
    speed: f64,
) -> Result<Box<dyn SessionEngine<E>>, EngineError> {
    let script = library
        .select(wanted, dialect)
        .map_err(EngineError::NoCassette)?;
    let others = library
        .of_dialect(dialect)
        .into_iter()
        .filter(|other| !Arc::ptr_eq(other, &script))
        .collect();
    Ok(Box::new(Replayer::new(script, speed).continuing(others)))
}
