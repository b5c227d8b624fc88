//! `SocketIOServerHelper`: the Ignis Socket.IO server on the project's engine
//! (`ignis-socketio-engine`).
//!
//! A client connects, emits `authenticate` (optionally with credentials and an
//! acknowledgement), and the application's authenticator decides from the
//! connection handshake. Until then nothing else the client sends is served,
//! and broadcasts do not reach it. Once authenticated, the client is in its
//! own id room and the default rooms (`io-default`, `io-notification`),
//! receives `ping {time}` and `authenticated {id, time}`, may `join`/`leave`
//! rooms through the room validator, and its application events reach the
//! handlers registered in the client-connected handler. A refused client
//! receives `unauthenticated {message, time, code}` before it is disconnected,
//! and its connection is closed.
//!
//! The events of one client reach the helper (and the application's
//! handlers) one at a time, in the order the client sent them; a handler that
//! awaits delays that client only. What is queued for a client is bounded
//! (4 MiB): a client that stops reading is disconnected as a slow consumer
//! instead of losing messages while it looks connected.
//!
//! Two protections are off until configured: without
//! [`ServerBuilder::allowed_origins`] any web page may open a connection (its
//! visitors' cookies included), and without
//! [`ServerBuilder::max_unauthenticated_connections`] a client may hold any
//! number of connections until they time out unauthenticated. Both refuse at
//! the Engine.IO handshake, before a session exists. Every limit, its default
//! and what happens over it: `docs/operations.md`, section "Limits".
//!
//! [`SocketObserver`]s registered with [`ServerBuilder::observer`] learn when
//! each socket connects, authenticates and disconnects, without depending on
//! an adapter: for example to publish [`Handshake::to_node_json`] and
//! [`Identity::to_node_data`] to the Redis adapter, so that Node servers'
//! `fetchSockets()` see the helper's clients as they see their own.
//!
//! The helper mounts on any axum [`Router`](axum::Router) and works with any
//! engine adapter (in-memory, or Redis through
//! [`ServerBuilder::build_with_adapter`]) without the adapter type appearing
//! in application code.
//!
//! ```no_run
//! use std::time::Duration;
//! use ignis_socketio_server::{
//!     AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest, SocketIOServerHelper,
//!     Target, bind_listener,
//! };
//! use serde_json::{json, Value};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let io = SocketIOServerHelper::builder()
//!     .identifier("chat")
//!     .auth_timeout(Duration::from_secs(10))
//!     .authenticate(|hs: Handshake| async move {
//!         let token = hs.bearer_token().ok_or_else(AuthError::missing_token)?;
//!         if token == "secret" { Ok(Identity::new("alice")) } else { Err(AuthError::rejected("bad token")) }
//!     })
//!     .validate_rooms(|req: JoinRequest| async move { req.keep(|r| r.starts_with("public-")) })
//!     .on_client_connected(|client: AuthenticatedClient| async move {
//!         client.on("echo", |client: AuthenticatedClient, data: Value| async move {
//!             client.emit("echo:response", &json!({ "original": data }))
//!         });
//!     })
//!     .build()?;
//!
//! let app = io.attach(axum::Router::new());
//! let listener = bind_listener("127.0.0.1:3000".parse()?).await?;
//! // `serve`: HTTP/1.1 with upgrades, lean per connection (`axum::serve` works too).
//! tokio::spawn(ignis_socketio_server::serve(listener, app, std::future::pending()));
//!
//! io.send(Target::room("public-news"), "headline", &json!({ "title": "hello" })).await?;
//! io.send(Target::all(), "notice", &0).await?; // falsy data is delivered
//! io.shutdown().await;
//! # Ok(()) }
//! ```

mod ack;
mod admin;
mod admission;
mod builder;
mod callbacks;
mod client;
mod clock;
mod core;
mod error;
mod event_data;
mod handshake;
mod helper;
mod identity;
mod info;
mod lifecycle;
mod metrics;
mod native;
mod observer;
mod options;
mod origin;
mod panic;
mod rate_limit;
mod record;
mod rooms;
mod socket_handle;
mod target;
mod throttle;
mod timers;
mod types;
mod unreadable;
mod warn_budget;

pub use ack::AckResponder;
pub use admin::{AdminMode, AdminUiOptions, DEFAULT_ADMIN_NAMESPACE, DEFAULT_STATS_INTERVAL};
pub use builder::ServerBuilder;
pub use callbacks::{HandlerOutcome, IntoEventHandler, WithAckMarker, WithoutAckMarker};
pub use error::{BuildError, ServerError};
pub use event_data::{DataError, EventData};
pub use handshake::Handshake;
pub use helper::ServerCounters;
pub use identity::{AuthError, Identity};
/// Settings of WebSocket per-message compression ([`ServerOptions::per_message_deflate`]).
pub use ignis_socketio_engine::ws::DeflateConfig;
pub use ignis_socketio_engine::{
    BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, ServeLimits, serve, serve_with,
};
pub use ignis_socketio_engine::{LISTEN_BACKLOG, bind_listener};
pub use info::ClientInfo;
pub use observer::SocketObserver;
pub use options::{
    DEFAULT_ACK_TIMEOUT, DEFAULT_ATTACHMENT_TIMEOUT, DEFAULT_AUTH_TIMEOUT, DEFAULT_IDENTIFIER,
    DEFAULT_MAX_ATTACHMENTS, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_BUFFERED_PACKETS,
    DEFAULT_MAX_PAYLOAD, DEFAULT_PATH, DEFAULT_PING_INTERVAL, DEFAULT_WS_READ_BUFFER_SIZE,
    ServerOptions,
};
pub use origin::CorsOrigins;
pub use rate_limit::{
    DEFAULT_AUTH_RATE_LIMIT, DEFAULT_EVENT_RATE_LIMIT, DEFAULT_RATE_LIMIT_DISCONNECT_AFTER,
    DEFAULT_ROOM_RATE_LIMIT, RateLimit,
};
pub use target::{AckReply, Payload, Target};
pub use types::{
    AuthenticatedClient, Authenticator, ClientConnectedHandler, ClientDisconnectedHandler,
    EventHandler, JoinRequest, RoomValidator, SocketIOServerHelper,
};

/// The metrics crate the helper registers into
/// ([`SocketIOServerHelper::register_metrics`]), re-exported so that
/// applications use the same version.
pub use prometheus_client;

/// The protocol crate, re-exported: event names, states, payloads, room limits.
pub use ignis_socketio_protocol as protocol;
pub use ignis_socketio_protocol::{
    ClientState, JoinAck, LeaveAck, RoomLimits, events, rooms as room_names,
};

/// Internal room every socket is in until it authenticates. Broadcasts to
/// [`Target::all`] exclude it (on every node, through the adapter), so
/// unauthenticated sockets never receive them. Clients can neither join nor leave it.
pub const UNAUTHENTICATED_ROOM: &str = "ignis-socketio:unauthenticated";
