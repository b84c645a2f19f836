//! Error messages that keep their causes.
//!
//! [`error_chain`] spells out an error and its whole source chain as one line
//! (for a log or a message a user reads). [`Failure`] is the payload of the
//! typed errors that must stay `Clone` and comparable (`TtsError`, the chat
//! client's `ChatError`): the message as the user has always read it, plus the
//! underlying error (a `tungstenite::Error`, `reqwest::Error`,
//! `serde_json::Error`, …) kept as its [`std::error::Error::source`], so a
//! caller can still downcast to it.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// `error` and every cause in its source chain, joined by `: `.
///
/// HTTP clients (reqwest, hyper) keep the useful part — "connection refused",
/// "invalid certificate" — in the chain, not in the top-level message.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A shared underlying error.
type SharedCause = Arc<dyn Error + Send + Sync + 'static>;

/// What went wrong, in words, and the error that caused it, if there was one.
///
/// The message is complete on its own (it already quotes the cause, as the
/// errors built from plain strings did), and [`Error::source`] hands out the
/// typed cause. Two failures are equal when their messages are: the cause is
/// evidence, not identity. Cloning shares the cause.
#[derive(Clone)]
pub struct Failure {
    message: String,
    cause: Option<SharedCause>,
}

impl Failure {
    /// A failure with no underlying error (the peer closed early, a deadline passed).
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            cause: None,
        }
    }

    /// A failure described by `message` (which should quote `cause` where the
    /// reader needs it) and caused by `cause`.
    pub fn because(message: impl Into<String>, cause: impl Error + Send + Sync + 'static) -> Self {
        Failure {
            message: message.into(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// A failure that is `cause` itself, described by its whole chain
    /// (see [`error_chain`]): what HTTP and socket errors need, since their
    /// top-level message rarely says what happened.
    pub fn of(cause: impl Error + Send + Sync + 'static) -> Self {
        Failure {
            message: error_chain(&cause),
            cause: Some(Arc::new(cause)),
        }
    }

    /// The message, as [`fmt::Display`] shows it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Failure");
        debug.field("message", &self.message);
        if let Some(cause) = &self.cause {
            debug.field("cause", cause);
        }
        debug.finish()
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for Failure {}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::new(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::new(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_message_and_hands_out_its_cause() {
        let failure = Failure::of(Outer(std::io::Error::other("connection refused")));
        assert_eq!(failure.to_string(), "outer: connection refused");
        let cause = failure.source().expect("the cause is kept");
        assert!(cause.downcast_ref::<Outer>().is_some());
        let worded = Failure::because("wav answer: bad header", std::io::Error::other("x"));
        assert_eq!(worded.to_string(), "wav answer: bad header");
        assert!(worded.source().is_some());
        assert!(Failure::new("closed early").source().is_none());
        assert_eq!(worded.clone(), Failure::new("wav answer: bad header"));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_follow_the_message() {
        let error = Outer(std::io::Error::other("connection refused"));
        assert_eq!(error_chain(&error), "outer: connection refused");
    }
}
