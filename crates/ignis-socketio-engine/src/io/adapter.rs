//! What a namespace asks of the other servers of a fleet. The namespace
//! itself keeps its local sockets and rooms and serves them first; an adapter
//! only carries operations to the other nodes (and serves theirs on this
//! node through the namespace handle it gets at [`Adapter::init`]).
//! [`LocalAdapter`], the default, has no other node.

use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::time::Duration;

use super::namespace::Namespace;
use crate::codec::Args;

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

fn done<'a, T: Send + 'a>(value: T) -> AdapterFuture<'a, Result<T, AdapterError>> {
    Box::pin(async move { Ok(value) })
}

/// Carries a namespace's operations to the other nodes of a fleet. Every
/// method but [`Adapter::broadcast`] has a default that does nothing (one node).
pub trait Adapter: Send + Sync + 'static {
    /// The namespace was created: keep the handle to serve the other nodes'
    /// requests on this node's sockets, and get ready (e.g. subscribe).
    fn init(&self, ns: Weak<Namespace>) -> AdapterFuture<'_, Result<(), AdapterError>> {
        let _ = ns;
        done(())
    }

    /// Delivers an event to the matching sockets of the other nodes.
    fn broadcast<'a>(
        &'a self,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>>;

    /// Delivers an event to the other nodes' matching sockets and collects
    /// their acknowledgements (those that arrive within `timeout`).
    fn broadcast_with_ack<'a>(
        &'a self,
        event: &'a str,
        args: &'a Args,
        options: &'a BroadcastOptions,
        timeout: Duration,
    ) -> AdapterFuture<'a, Result<Vec<Args>, AdapterError>> {
        let _ = (event, args, options, timeout);
        done(Vec::new())
    }

    /// Makes the other nodes' matching sockets join `rooms`.
    fn add_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
        rooms: &'a [String],
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        let _ = (options, rooms);
        done(())
    }

    /// Makes the other nodes' matching sockets leave `rooms`.
    fn del_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
        rooms: &'a [String],
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        let _ = (options, rooms);
        done(())
    }

    /// Disconnects the other nodes' matching sockets.
    fn disconnect_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        let _ = options;
        done(())
    }

    /// The other nodes' matching sockets.
    fn fetch_sockets<'a>(
        &'a self,
        options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<Vec<SocketSummary>, AdapterError>> {
        let _ = options;
        done(Vec::new())
    }

    /// The rooms of the other nodes.
    fn rooms(&self) -> AdapterFuture<'_, Result<Vec<String>, AdapterError>> {
        done(Vec::new())
    }

    /// The namespace is going away: stop serving it.
    fn close(&self) -> AdapterFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// One node, no fleet: nothing to carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalAdapter;

impl Adapter for LocalAdapter {
    fn broadcast<'a>(
        &'a self,
        _event: &'a str,
        _args: &'a Args,
        _options: &'a BroadcastOptions,
    ) -> AdapterFuture<'a, Result<(), AdapterError>> {
        done(())
    }
}
