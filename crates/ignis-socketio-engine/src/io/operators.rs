//! Node-style operators on a namespace: `ns.to("room").except("muted").emit(..)`.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::adapter::{AdapterError, BroadcastOptions, SocketSummary};
use super::fleet::AckAnswer;
use super::types::Namespace;
use crate::codec::Args;

/// Anything that names one or several rooms.
pub trait IntoRooms {
    /// The room names.
    fn into_rooms(self) -> Vec<String>;
}

impl IntoRooms for &String {
    fn into_rooms(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl IntoRooms for &[&str] {
    fn into_rooms(self) -> Vec<String> {
        self.iter().map(|s| (*s).to_owned()).collect()
    }
}

impl IntoRooms for &str {
    fn into_rooms(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoRooms for String {
    fn into_rooms(self) -> Vec<String> {
        vec![self]
    }
}

impl IntoRooms for Vec<String> {
    fn into_rooms(self) -> Vec<String> {
        self
    }
}

impl IntoRooms for Vec<&str> {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(str::to_owned).collect()
    }
}

impl<const N: usize> IntoRooms for [&str; N] {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(str::to_owned).collect()
    }
}

/// Why an operator's emit failed.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The data does not serialize to JSON.
    #[error("data does not serialize: {0}")]
    Serialize(#[source] crate::codec::ArgsError),
    /// The other nodes were not reached.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

/// A selection of the namespace's sockets across the fleet.
#[derive(Clone, Debug)]
pub struct Operators {
    ns: Arc<Namespace>,
    options: BroadcastOptions,
}

impl Namespace {
    /// Emits to every socket of the namespace, fleet-wide (Node's `io.emit`).
    pub async fn emit<T: Serialize + ?Sized>(
        self: &Arc<Self>,
        event: &str,
        data: &T,
    ) -> Result<(), OperatorError> {
        self.all().emit(event, data).await
    }

    /// Every socket of the namespace, fleet-wide.
    pub fn all(self: &Arc<Self>) -> Operators {
        Operators {
            ns: self.clone(),
            options: BroadcastOptions::default(),
        }
    }

    /// The sockets in `rooms` (a socket id names that socket).
    pub fn to(self: &Arc<Self>, rooms: impl IntoRooms) -> Operators {
        self.all().to(rooms)
    }

    /// Every socket but those in `rooms`.
    pub fn except(self: &Arc<Self>, rooms: impl IntoRooms) -> Operators {
        self.all().except(rooms)
    }
}

impl Operators {
    /// Adds rooms to the targets (their union).
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        self.options.rooms.extend(rooms.into_rooms());
        self
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        self.options.except.extend(rooms.into_rooms());
        self
    }

    /// Only this node's sockets.
    pub fn local(mut self) -> Self {
        self.options.local = true;
        self
    }

    /// The options these operators stand for.
    pub fn options(&self) -> &BroadcastOptions {
        &self.options
    }

    /// Emits an event with `data` as its argument (a tuple is several).
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), OperatorError> {
        let args = crate::codec::to_args(data).map_err(OperatorError::Serialize)?;
        Ok(self.emit_args(event, &args).await?)
    }

    /// Emits an event with its arguments.
    pub async fn emit_args(&self, event: &str, args: &Args) -> Result<(), AdapterError> {
        self.ns.broadcast(&self.options, event, args).await
    }

    /// Emits an event and collects the acknowledgements.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        args: &Args,
        timeout: Duration,
    ) -> Result<Vec<AckAnswer>, AdapterError> {
        self.ns
            .broadcast_with_ack(&self.options, event, args, timeout)
            .await
    }

    /// Makes the selected sockets join `rooms`.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.ns
            .add_sockets(&self.options, &rooms.into_rooms())
            .await
    }

    /// Makes the selected sockets leave `rooms`.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.ns
            .del_sockets(&self.options, &rooms.into_rooms())
            .await
    }

    /// Disconnects the selected sockets.
    pub async fn disconnect(&self) -> Result<(), AdapterError> {
        self.ns.disconnect_sockets(&self.options).await
    }

    /// The selected sockets.
    pub async fn fetch_sockets(&self) -> Result<Vec<SocketSummary>, AdapterError> {
        self.ns.fetch_sockets(&self.options).await
    }
}
