//! Any cassette as conformance cases (`conform --cassettes DIR|FILE…`).
//!
//! A user's recordings (from `understudy record`, or any valid cassette v1)
//! become graded cases that the one scheduler ([`crate::schedule`]) runs and
//! reports as they finish. Each cassette gives one case per check, with the
//! id `cassette.<name>.<check>` ([`discover`] says how a cassette is named),
//! so a CI log says which check of which recording failed without opening
//! the evidence:
//!
//! | check | what it grades |
//! | --- | --- |
//! | `decode` | every JSON payload round-trips through its wire type; every server frame decodes with no unknown event ([`decode_check`]) |
//! | `invariants` | the normalised stream holds its invariants ([`invariants`]) |
//! | `replay` | replaying the client frames against our replay mock gives back every recorded server frame, in order ([`replay_check`]) |
//! | `agent` | fed the recording's user audio, a `RealtimeAgent` against the replay mock answers every user turn once ([`agent_check`]) |
//! | `latency` | per-turn TTFB/TTFA of that replay against the recording's own ([`latency`]) |
//! | `snapshot` | the normalised events against `<name>.snap.json` beside the cassette ([`snapshot`]) |
//!
//! A cassette that cannot be read (not a cassette, bad JSON, a dialect this
//! build does not speak) gives a single FAILED case, `cassette.<name>.load`,
//! that says why. A check that cannot apply is UNIMPLEMENTED with the reason
//! (the invariants of an HTTP TTS exchange, which has no realtime codec; the
//! agent replay of a session with typed turns or tool calls).
//!
//! Underneath: [`wire`] crosses between a cassette's frames and the frames a
//! socket or a codec sees; [`resend`] sends a cassette's client side to any
//! endpoint and keeps what comes back as a new cassette (the replay check
//! runs it against our replay mock, drift against any target).

pub mod agent_check;
pub mod decode_check;
pub mod discover;
pub mod invariants;
pub mod latency;
pub mod replay_check;
pub mod resend;
mod run;
pub mod snapshot;
pub mod wire;

pub use discover::{find_cassettes, DiscoverError, Found};
pub use run::{case_list, jobs, CassetteOptions, CHECKS};

/// How many cassette cases run side by side: they spend their time waiting
/// on sockets and recorded gaps, not on the CPU.
pub const CONCURRENCY: std::num::NonZeroUsize = match std::num::NonZeroUsize::new(8) {
    Some(n) => n,
    None => unreachable!(),
};
