//! Why a server's WebSocket read failed, in RFC 6455 terms, so that a server
//! built on axum (the mock providers, the deployment server) can answer bad
//! client input with the right close instead of dropping the connection.
//!
//! axum reports a failed read as an opaque `axum::Error` wrapping the error
//! of the tungstenite version axum uses; [`ReadFault::of`] walks the error's
//! source chain and names the two faults a peer can cause with one frame:
//! a text frame that is not UTF-8 (close 1007) and a frame or message above
//! the socket's size limit (close 1009).

use server_tungstenite::error::{CapacityError, Error as WsError};
use std::error::Error;

/// What a failed read says about the client's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFault {
    /// A text frame whose payload is not UTF-8 (RFC 6455 §8.1).
    InvalidUtf8,
    /// A frame or message larger than the socket accepts.
    TooLarge {
        /// Its size in bytes, as far as the header says.
        size: usize,
        /// The limit.
        max_size: usize,
    },
    /// Anything else (the connection broke, a protocol violation).
    Other,
}

impl ReadFault {
    /// Classifies a read error (an `axum::Error` or a tungstenite error).
    pub fn of(error: &(dyn Error + 'static)) -> Self {
        let mut current: Option<&(dyn Error + 'static)> = Some(error);
        while let Some(error) = current {
            if let Some(ws) = error.downcast_ref::<WsError>() {
                return match ws {
                    WsError::Utf8(_) => ReadFault::InvalidUtf8,
                    WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                        ReadFault::TooLarge {
                            size: *size,
                            max_size: *max_size,
                        }
                    }
                    _ => ReadFault::Other,
                };
            }
            current = error.source();
        }
        ReadFault::Other
    }

    /// The close code RFC 6455 names for it: 1007 (inconsistent data), 1009
    /// (message too big); `None` when there is nobody left to tell.
    pub fn close_code(self) -> Option<u16> {
        match self {
            ReadFault::InvalidUtf8 => Some(1007),
            ReadFault::TooLarge { .. } => Some(1009),
            ReadFault::Other => None,
        }
    }

    /// A close reason for a person (at most 123 bytes, as RFC 6455 allows).
    pub fn reason(self) -> String {
        match self {
            ReadFault::InvalidUtf8 => "text frame is not valid UTF-8".into(),
            ReadFault::TooLarge { size, max_size } => {
                format!("message of {size} bytes exceeds the {max_size}-byte limit")
            }
            ReadFault::Other => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(WsError);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "wrapped: {}", self.0)
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn faults_are_found_through_wrappers() {
        let utf8 = Wrapper(WsError::Utf8("bad".into()));
        assert_eq!(ReadFault::of(&utf8), ReadFault::InvalidUtf8);
        assert_eq!(ReadFault::of(&utf8).close_code(), Some(1007));
        let big = Wrapper(WsError::Capacity(CapacityError::MessageTooLong {
            size: 10,
            max_size: 5,
        }));
        assert_eq!(
            ReadFault::of(&big),
            ReadFault::TooLarge {
                size: 10,
                max_size: 5
            }
        );
        assert_eq!(ReadFault::of(&big).close_code(), Some(1009));
        let other = Wrapper(WsError::ConnectionClosed);
        assert_eq!(ReadFault::of(&other).close_code(), None);
        assert_eq!(ReadFault::of(&std::fmt::Error), ReadFault::Other);
    }
}
