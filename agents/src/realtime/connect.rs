//! How the agent opens (and re-opens) its model session.
//!
//! The agent never names a provider: it holds a [`Connector`] and asks it for
//! a fresh [`RealtimeClient`] at start and after every lost connection. The
//! ready-made connector is the adapters' registry `ConnectOptions`, which
//! reaches any realtime dialect (`openai::connect_options`,
//! `gemini::connect_options` and `dashscope::connect_options` make them);
//! anything else (a test that injects faults, a pool, a proxy) implements the
//! trait or wraps a closure with [`connector_fn`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use understudy_adapters::{registry, ClientError, RealtimeClient};

/// The future a [`Connector`] returns.
pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = Result<RealtimeClient, ClientError>> + Send + 'a>>;

/// Opens a new model session (a connected socket; the agent sends the
/// session configuration itself).
pub trait Connector: Send + Sync + 'static {
    /// Opens one connection.
    fn connect(&self) -> ConnectFuture<'_>;
}

/// A shared connector, as the agent keeps it.
pub type SharedConnector = Arc<dyn Connector>;

/// A boxed connector (chosen at run time) is a connector.
impl Connector for Box<dyn Connector> {
    fn connect(&self) -> ConnectFuture<'_> {
        (**self).connect()
    }
}

/// A shared connector is a connector.
impl Connector for SharedConnector {
    fn connect(&self) -> ConnectFuture<'_> {
        (**self).connect()
    }
}

/// Any realtime dialect in the adapters' registry. Resumption (Gemini) is
/// the agent's business: it sends `ClientInput::Resume` before the session
/// configuration when it holds a handle, so a plain connection is all it
/// needs here.
impl Connector for registry::ConnectOptions {
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin(registry::connect(self))
    }
}

/// A [`Connector`] made from a closure returning a connect future.
pub struct FnConnector<F>(F);

impl<F> std::fmt::Debug for FnConnector<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnConnector")
    }
}

/// Wraps `connect` (called once per connection attempt) as a [`Connector`].
pub fn connector_fn<F, Fut>(connect: F) -> FnConnector<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<RealtimeClient, ClientError>> + Send + 'static,
{
    FnConnector(connect)
}

impl<F, Fut> Connector for FnConnector<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<RealtimeClient, ClientError>> + Send + 'static,
{
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin((self.0)())
    }
}
