//! Socket.IO v5 on the engine: namespaces, sockets, events in order per
//! client, acknowledgements both ways, rooms, broadcasts and adapters.

mod adapter;
mod client;
mod config;
mod fleet;
mod frames;
mod handler;
mod handshake;
mod namespace;
mod operators;
mod server;
mod socket;
mod types;

pub use crate::codec::UnreadableEvent;
pub use adapter::{AdapterError, AdapterFuture, BroadcastOptions, SocketSummary};
pub use client::ClientConn;
pub use config::IoConfig;
pub use fleet::{AckAnswer, LocalAck, LocalAcks};
pub use handler::{
    ConnectRefusal, DisconnectReason, Event, HandlerFuture, UNREADABLE_DATA, unreadable_answer,
    unreadable_error,
};
pub use handshake::{HandshakeSource, peer_address};
pub use operators::{IntoRooms, OperatorError, Operators};
pub use server::{IoHandler, SocketIo, SocketIoLayer, SocketIoService};
pub use socket::{AckError, EmitError, auth_text};
pub use types::{
    AckSender, Adapter, LocalAdapter, Namespace, NamespaceHandler, NamespaceMonitor, Socket,
};
