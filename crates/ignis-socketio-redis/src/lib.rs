//! Redis scaling for socketioxide that speaks the Node packages' wire format:
//! [`RedisAdapter`] is a socketioxide adapter speaking the classic protocol of
//! `@socket.io/redis-adapter` 8.3, and [`RedisEmitter`] publishes like
//! `@socket.io/redis-emitter` 5.1. Rust and Node servers share one Redis (single
//! or Cluster) and one room space, in both directions.
//!
//! # Plugging the adapter in
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ignis_socketio_redis::{RedisAdapterState, RedisConfig};
//! // "redis://:pass@host:6379/0" is a single Redis; "host:7000,host:7001" a cluster.
//! let config: RedisConfig = "redis://127.0.0.1:6379".parse()?;
//! let state = RedisAdapterState::connect(config.key("socket.io")).await?; // bounded wait
//! // server helper (waits until the namespace is subscribed):
//! //   SocketIOServerHelper::builder()...build_with_adapter_ready::<RedisAdapter<_>, _>(state.clone()).await?
//! // or without waiting:
//! //   SocketIOServerHelper::builder()...build_with_adapter::<RedisAdapter<_>>(state.clone())?
//! // plain socketioxide:
//! //   SocketIo::builder().with_adapter::<RedisAdapter<_>>(state.clone()).build_layer()
//! //   then `io.ns("/", handler)` returns an `InitHandle`; `.await?` it to wait for the
//! //   subscriptions, or drop it (the namespace is registered either way).
//! // Sockets must join their own id room (`socket.join(socket.id)`), as Node's do;
//! // the server helper does it.
//! // Optional: `state.register_socket(nsp, sid, SocketDetails::from_request(..))` on
//! // connect, so Node's fetchSockets sees the handshake and data.
//! assert!(state.is_healthy());
//! state.close().await; // on shutdown
//! # Ok(()) }
//! ```
//!
//! The adapter type is `RedisAdapter<socketioxide::adapter::Emitter>`; writing
//! `RedisAdapter<_>` lets the compiler fill the emitter in.
//!
//! # What socketioxide has no place for
//!
//! [`RedisAdapterState`] (keep a clone) offers Node's `serverSideEmit`
//! ([`RedisAdapterState::server_side_emit`], `_with_ack`,
//! [`RedisAdapterState::on_server_side_emit`]), `fetchSockets` with string ids,
//! handshake, rooms and data ([`RedisAdapterState::fetch_sockets`], fed by
//! [`RedisAdapterState::register_socket`]), `allRooms`, the server count, health
//! and `close`.
//!
//! # Emitting from a worker
//!
//! ```no_run
//! # async fn run() -> Result<(), ignis_socketio_redis::RedisAdapterError> {
//! use ignis_socketio_redis::RedisEmitter;
//! let emitter = RedisEmitter::connect("redis://127.0.0.1:6379".parse()?).await?;
//! emitter.to("io-notification").emit("alert", &serde_json::json!({"msg": "hi"})).await?;
//! # Ok(()) }
//! ```
//!
//! The wire format is documented in `research/redis-protocol.md` of the project.

mod config;
mod conn;
mod delivery;
mod emitter;
mod error;
mod ns;
mod publish;
mod state;
mod value;
mod wire;

pub use config::{RedisConfig, RedisTarget};
pub use delivery::RedisCounters;
pub use emitter::{IntoRooms, RESERVED_EVENTS, RedisEmitter};
pub use error::{RedisAdapterError, Result};
pub use ns::{InitHandle, RedisAckStream, RedisAdapter};
pub use publish::RedisConnection;
pub use state::{
    RedisAdapterState, RedisHealth, ServerSideAck, ServerSideEvent, ServerSideHandler,
    SocketDetails, SocketInfo,
};

#[cfg(test)]
mod wire_tests;
