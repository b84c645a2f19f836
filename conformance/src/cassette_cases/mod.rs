//! Any cassette as conformance cases (`conform --cassettes DIR|FILE…`).
//!
//! A user's recordings (from `understudy record`, or any valid cassette v1)
//! become graded cases that the one scheduler (`schedule`) runs beside, or
//! instead of, the bundled suite.
//!
//! Underneath: [`wire`] crosses between a cassette's frames and the frames a
//! socket or a codec sees; [`resend`] sends a cassette's client side to any
//! endpoint and keeps what comes back as a new cassette (the replay check
//! runs it against our replay mock, drift against any target).

pub mod replay_check;
pub mod resend;
pub mod wire;
