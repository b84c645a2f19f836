//! The ChatRoom with test doubles (routing, overflow, turn-taking) and with
//! real RealtimeAgents on two providers against the in-process mock (a
//! debate).
//!
//! No assertion depends on how fast the machine is: a stuck member is held
//! by a semaphore the test owns, "not delayed" is shown by counting what the
//! others received while it is held, and every wait has a generous deadline.

mod support;

mod debate;
mod overflow;
mod routing;
mod turns;
