//! The deployment server over real sockets: a plain WebSocket client speaks
//! AgentScope's front-end vocabulary to it, and the server's agents talk to
//! the in-process mock providers.
//!
//! No assertion depends on how fast the machine is; every wait has a
//! generous deadline.

mod support;

mod bad_events;
mod lifecycle;
mod limits;
mod providers;
mod socket;
mod spoken;
mod typed_turns;
