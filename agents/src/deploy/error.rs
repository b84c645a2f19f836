//! The deployment server's errors: faults answered on the socket with a
//! `server_error` event, and failures of the server itself.

use super::wire::{ServerBody, ServerEvent, WireError};

/// A client event the server could not use. It is answered with a
/// `server_error` event; the connection and the session carry on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFault {
    /// `invalid_request_error` (the client's mistake) or `provider_error`
    /// (the provider could not be reached).
    pub error_type: &'static str,
    /// A stable code (see [`ServerBody::ServerError`]).
    pub code: &'static str,
    /// What happened, for a person.
    pub message: String,
    /// The client event's `type`, where it had one.
    pub event_type: Option<String>,
}

impl ClientFault {
    /// An `invalid_request_error` with this code.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ClientFault {
            error_type: "invalid_request_error",
            code,
            message: message.into(),
            event_type: None,
        }
    }

    /// A `provider_error` with this code.
    pub fn provider(code: &'static str, message: impl Into<String>) -> Self {
        ClientFault {
            error_type: "provider_error",
            ..ClientFault::new(code, message)
        }
    }

    /// Names the client event concerned.
    pub fn about(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// The `server_error` event that answers it.
    pub fn event(&self) -> ServerEvent {
        ServerEvent::server(ServerBody::ServerError {
            error_type: self.error_type.into(),
            code: self.code.into(),
            message: self.message.clone(),
            event_type: self.event_type.clone(),
        })
    }
}

impl From<WireError> for ClientFault {
    fn from(error: WireError) -> Self {
        let fault = ClientFault::new(error.code(), error.to_string());
        match error.event_type() {
            Some(kind) => fault.about(kind),
            None => fault,
        }
    }
}

/// Failures of the deployment server itself.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}
