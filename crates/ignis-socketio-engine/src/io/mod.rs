//! Socket.IO v5 on the engine: namespaces, sockets, events in order per
//! client, acknowledgements both ways, rooms, broadcasts and adapters.

mod adapter;
mod client;
mod fleet;
mod frames;
mod handler;
mod handshake;
mod monitor;
mod namespace;
mod operators;
mod server;
mod socket;

pub use adapter::{
    Adapter, AdapterError, AdapterFuture, BroadcastOptions, LocalAdapter, SocketSummary,
};
pub use client::ClientConn;
pub use fleet::{AckAnswer, LocalAck, LocalAcks};
pub use handler::{ConnectRefusal, DisconnectReason, Event, HandlerFuture, NamespaceHandler};
pub use handshake::{HandshakeSource, peer_address};
pub use monitor::NamespaceMonitor;
pub use namespace::Namespace;
pub use operators::{IntoRooms, OperatorError, Operators};
pub use server::{IoConfig, IoHandler, SocketIo, SocketIoLayer, SocketIoService};
pub use socket::{AckError, AckSender, EmitError, Socket, auth_text};
