//! Limits every server of ours applies to what it accepts: how long a client
//! may take, and how many sessions may run at once.
//!
//! The mock (`understudy serve`) and the agent server (`understudy agent`)
//! share them, so both answer a slow or surplus client the same way:
//!
//! - [`ServeTimeouts`]: how long a request's head, its body, the first
//!   WebSocket frame and the gap between client frames may take;
//! - [`head`]: reading a request's head under its deadline before the HTTP
//!   server sees the connection (a client that never finishes its headers
//!   gets `408 Request Timeout` and is closed), and [`Rewind`], the
//!   connection with those bytes put back;
//! - [`GatedAccept::split`]: the same accept loop handing connections whose
//!   first request matches a predicate to a [`SideAccept`] instead, for a
//!   second server on another runtime (the mock serves its inspector there,
//!   at low priority, away from the live sessions);
//! - `serve` (with the `axum` feature): `axum::serve` with every later
//!   request head on a kept-alive connection timed too (hyper's header
//!   timeout; a late one closes the connection);
//! - [`SessionSlots`]: the session cap, taken at the upgrade without
//!   allocating anything for the session, released when the session ends.

mod accept;
pub mod head;
mod quiet;
#[cfg(feature = "axum")]
mod serve;
mod side;
mod slots;
mod timeouts;

pub use accept::GatedAccept;
pub use head::{read_head, request_target, HeadError, Rewind, REQUEST_TIMEOUT};
pub use quiet::{written, QuietClock};
#[cfg(feature = "axum")]
pub use serve::serve;
pub use side::{SideAccept, SideConnection};
pub use slots::{SessionSlot, SessionSlots, DEFAULT_MAX_SESSIONS};
pub use timeouts::{parse_timeout, ServeTimeouts, TimeoutParseError};
