//! Redis scaling that speaks the Node packages' wire format: [`RedisAdapter`]
//! is an adapter of the project's engine speaking the classic protocol of
//! `@socket.io/redis-adapter` 8.3, and [`RedisEmitter`] publishes like
//! `@socket.io/redis-emitter` 5.1. Rust and Node servers share one Redis (single
//! or Cluster) and one room space, in both directions; binary data crosses as
//! msgpack `bin`, both ways.
//!
//! # Plugging the adapter in
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ignis_socketio_redis::{RedisAdapterState, RedisConfig};
//! // "redis://:pass@host:6379/0" is a single Redis; "host:7000,host:7001" a cluster.
//! let config: RedisConfig = "redis://127.0.0.1:6379".parse()?;
//! let state = RedisAdapterState::connect(config.key("socket.io")).await?; // bounded wait
//! let adapter = state.adapter("/"); // one per namespace
//! // server helper (waits until the namespace is subscribed):
//! //   SocketIOServerHelper::builder()...build_with_adapter(adapter).await?
//! // or the engine directly:
//! //   io.ns_with_adapter("/", handler, adapter).await?
//! // Optional: `state.register_socket(nsp, sid, SocketDetails::from_request(..))` on
//! // connect, so Node's fetchSockets sees the handshake and data.
//! assert!(state.is_healthy());
//! state.close().await; // on shutdown
//! # Ok(()) }
//! ```
//!
//! # Beyond the engine's adapter operations
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
//! The wire format is described in `docs/scaling.md`.

mod adapter;
mod collector;
mod config;
mod conn;
mod delivery;
mod emitter;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod in_flight;
mod info;
mod link;
mod message;
mod metrics;
mod publish;
mod receive;
mod requests;
mod server_side;
mod shared;
mod state;
mod value;
mod wire;

pub use adapter::RedisAdapter;
pub use config::{RedisConfig, RedisTarget};
pub use delivery::RedisCounters;
pub use emitter::{RESERVED_EVENTS, RedisEmitter};
pub use error::{Malformed, RedisAdapterError, Result};
pub use ignis_socketio_engine::io::IntoRooms;
pub use info::{RedisHealth, SocketDetails, SocketInfo};
pub use publish::RedisConnection;
pub use server_side::{ServerSideAck, ServerSideEvent, ServerSideHandler};
pub use state::RedisAdapterState;

#[cfg(test)]
mod wire_tests;
