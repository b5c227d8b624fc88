//! A Rust Socket.IO client with the Ignis authentication protocol.
//!
//! Two layers:
//! - [`SocketClient`]: a Socket.IO v5 client over WebSocket (Engine.IO v4) on
//!   tokio, with the engine crate's codec and RFC 6455 framing. It answers the server's heartbeats and
//!   detects a dead server, sends and receives any JSON value and binary
//!   attachments, emits with acknowledgement and timeout, answers the
//!   server's emit-with-ack, and reconnects with exponential backoff and
//!   jitter. No OpenSSL: `ws://` always, `wss://` with the `rustls` feature
//!   (rustls with the ring provider and the Mozilla roots).
//! - [`SocketIOClientHelper`]: the reference's client helper:
//!   `authenticate` → `authenticated`/`unauthenticated`, rooms, subscriptions
//!   that can really be removed, lifecycle callbacks, and beyond the
//!   reference: automatic re-authentication and re-join after a reconnect, a
//!   client-side auth timeout, typed handlers, and the server's join/leave answers.
//!
//! Handlers and callbacks run one at a time in the order events arrive; an
//! error or a panic in one is logged and the client keeps running.
//!
//! ```no_run
//! use std::time::Duration;
//! use ignis_socketio_client::{SocketIOClientHelper, ClientState};
//! use serde_json::{json, Value};
//!
//! # async fn run() -> Result<(), ignis_socketio_client::ClientError> {
//! let helper = SocketIOClientHelper::builder()
//!     .identifier("worker")
//!     .url("http://127.0.0.1:3000")
//!     .path("/io")
//!     .auth(json!({ "token": "secret" }))
//!     .auto_authenticate(true)
//!     .on_unauthenticated(|message: String| async move { eprintln!("refused: {message}") })
//!     .build()?;
//! helper.subscribe("news", |data: Value| async move { eprintln!("news: {data}") })?;
//! if helper.wait_for_state(ClientState::Authenticated, Duration::from_secs(5)).await {
//!     let answer = helper.join_rooms(["public-news"]).await?;
//!     eprintln!("joined: {answer:?}");
//!     helper.emit("chat", &json!({ "text": "hello" }))?;
//! }
//! helper.shutdown().await;
//! # Ok(()) }
//! ```

mod backoff;
mod builder;
mod client;
mod config;
mod dispatch;
mod driver;
mod error;
mod event;
mod handler;
mod helper;
mod payload;
mod session;
mod shared;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

pub use backoff::ReconnectConfig;
pub use builder::ClientBuilder;
pub use client::SocketClient;
pub use config::ClientConfig;
pub use error::{ClientError, ProtocolError, TlsError, TransportError, UrlError};
pub use event::Event;
pub use handler::{EventHandler, HandlerId, HandlerOutcome};
pub use helper::{HelperOptions, SocketIOClientHelper, SocketIOClientHelperBuilder};
/// The codec's error, shared with the engine (the client decodes with the engine's codec).
pub use ignis_socketio_engine::codec::CodecError;
/// What permessage-deflate settled on (see [`SocketClient::compression`]).
pub use ignis_socketio_engine::ws::DeflateParams;
pub use ignis_socketio_protocol::{ClientState, JoinAck, LeaveAck};
pub use payload::ClientPayload;
#[allow(deprecated)]
pub use payload::Payload;
pub use session::reasons;
pub use transport::{DEFLATE_THRESHOLD, MAX_MESSAGE_SIZE};
