//! What the adapters of a fleet exchange: which sockets an operation reaches,
//! a socket as seen across the fleet, and why the other nodes could not be
//! reached. The [`Adapter`](super::Adapter) trait itself is in `types.rs`,
//! next to the namespace it serves.

use std::future::Future;
use std::pin::Pin;

/// A boxed future returned by adapter methods.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which sockets an operation reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// The rooms targeted; empty means every socket of the namespace.
    pub rooms: Vec<String>,
    /// Sockets in any of these rooms are left out.
    pub except: Vec<String>,
    /// Only this node's sockets.
    pub local: bool,
}

/// A socket as seen across the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketSummary {
    /// Its id.
    pub id: String,
    /// Its rooms, its own id room included.
    pub rooms: Vec<String>,
    /// Node's `socket.handshake`, when the node that holds the socket said it
    /// (other nodes' answers through an adapter; `None` for this node's).
    pub handshake: Option<serde_json::Value>,
    /// Node's `socket.data`, when the node that holds the socket said it.
    pub data: Option<serde_json::Value>,
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
