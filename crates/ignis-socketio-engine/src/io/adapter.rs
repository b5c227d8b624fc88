//! What a namespace asks of the other servers of a fleet. The namespace
//! itself keeps its local sockets and rooms; an adapter only carries
//! operations to other nodes. [`LocalAdapter`], the default, has none.

use std::future::Future;
use std::pin::Pin;

use crate::codec::Args;

/// A boxed future returned by adapter methods.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which sockets a broadcast reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// The rooms targeted; empty means every socket of the namespace.
    pub rooms: Vec<String>,
    /// Sockets in any of these rooms are left out.
    pub except: Vec<String>,
    /// Only this node's sockets.
    pub local: bool,
}

/// Why the adapter could not reach the other nodes.
#[derive(Debug, thiserror::Error)]
#[error("adapter: {message}")]
pub struct AdapterError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AdapterError {
    /// An error with a message and its cause.
    pub fn new(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AdapterError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// An error with a message only.
    pub fn msg(message: impl Into<String>) -> Self {
        AdapterError {
            message: message.into(),
            source: None,
        }
    }
}

/// Carries a namespace's operations to the other nodes of a fleet.
pub trait Adapter: Send + Sync + 'static {
    /// Delivers an event to the matching sockets of the other nodes (this
    /// node's sockets are already served).
    fn broadcast<'a>(
        &'a self,
        nsp: &'a str,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>>;
}

/// One node, no fleet: nothing to carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalAdapter;

impl Adapter for LocalAdapter {
    fn broadcast<'a>(
        &'a self,
        _nsp: &'a str,
        _event: &'a str,
        _args: &'a Args,
        _options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        Box::pin(async { Ok(()) })
    }
}
