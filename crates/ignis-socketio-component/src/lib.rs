//! The Ignis application container and `SocketIOComponent`, for Rust.
//!
//! The reference framework is used through its application: the application
//! binds a Redis connection and handlers under well-known keys, registers
//! `SocketIOComponent`, and finds the running server under
//! `@app/socket-io/instance`. This crate gives Rust applications the same
//! shape, typed:
//!
//! - [`Container`] and [`BindingKey<T>`]: a key string and the type of its
//!   value, so binding the wrong type under a key does not compile;
//!   [`Container::get`] fails with an error naming the key
//!   (`Binding key: @app/socket-io/authenticate-handler is not bound`);
//! - [`Application`] and the [`Component`] trait: a lifecycle in a
//!   documented order ([`Application::start`]), served over axum beside the
//!   application's own routes, stopped with [`RunningApplication::stop`];
//! - [`SocketIOComponent`] and [`SocketIOBindingKeys`] with the reference's
//!   key strings, [`ServerOptions`] merged field by field over the
//!   reference defaults, the in-memory adapter or, when a
//!   [`RedisConfig`](ignis_socketio_redis::RedisConfig) is bound, the Redis
//!   adapter that speaks the Node wire format.
//!
//! ```no_run
//! use axum::routing::get;
//! use ignis_socketio_component::{
//!     Application, AuthenticateFn, ClientConnectedFn, ServerOptions, SocketIOBindingKeys,
//!     SocketIOComponent, ValidateRoomFn,
//! };
//! use ignis_socketio_server::{AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest, Target};
//! use serde_json::{json, Value};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut app = Application::new().listen_on("127.0.0.1:3000".parse()?);
//!
//! // Required: who may connect.
//! app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER).to_value(AuthenticateFn::new(
//!     |handshake: Handshake| async move {
//!         match handshake.bearer_token() {
//!             Some("secret") => Ok(Identity::new("alice")),
//!             Some(_) => Err(AuthError::rejected("unknown token")),
//!             None => Err(AuthError::missing_token()),
//!         }
//!     },
//! ));
//! // Optional: which rooms a client may join (without it, none).
//! app.bind(&SocketIOBindingKeys::VALIDATE_ROOM_HANDLER).to_value(ValidateRoomFn::new(
//!     |request: JoinRequest| async move { request.keep(|room| room.starts_with("public-")) },
//! ));
//! // Optional: the client's events.
//! app.bind(&SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER).to_value(ClientConnectedFn::new(
//!     |client: AuthenticatedClient| async move {
//!         client.on("echo", |client: AuthenticatedClient, data: Value| async move {
//!             client.emit("echo:response", &json!({ "original": data }))
//!         });
//!     },
//! ));
//! // Optional: only what differs from the defaults.
//! app.bind(&SocketIOBindingKeys::SERVER_OPTIONS)
//!     .to_value(ServerOptions::default().identifier("chat"));
//! // Optional: bind a RedisConfig under REDIS_CONNECTION to scale out.
//!
//! app.component(SocketIOComponent::new());
//! app.route("/health", get(|| async { "ok" }));
//!
//! let running = app.start().await?;
//! let io = running.get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)?;
//! io.send(Target::room("public-news"), "headline", &json!({ "title": "hello" })).await?;
//! running.stop_on_signal().await?;
//! # Ok(()) }
//! ```

mod application;
mod component;
mod container;
mod deflate_options;
mod error;
mod keys;
mod operations;
mod options;
mod origin;
mod socket_io;

pub use application::{Application, DEFAULT_ADDR, DEFAULT_STOP_TIMEOUT, RunningApplication};
pub use component::{BindingContext, Component, HookContext};
pub use container::{Binder, BindingKey, Container, ContainerError};
pub use deflate_options::{
    DEFAULT_DEFLATE_THRESHOLD, PerMessageDeflateOptions, ResolvedDeflate, ZlibDeflateOptions,
    ZlibInflateOptions,
};
pub use error::{BoxError, ComponentError, LifecyclePhase};
pub use keys::{AuthenticateFn, ClientConnectedFn, SocketIOBindingKeys, ValidateRoomFn};
pub use operations::{
    DEFAULT_HEALTH_PATH, DEFAULT_METRICS_PATH, DEFAULT_READY_PATH, OperationsOptions,
};
pub use options::{
    CorsOptions, CorsOrigins, DEFAULT_PREFLIGHT_STATUS, OptionsError, ResolvedCors,
    ResolvedServerOptions, RoomLimitsOptions, ServerOptions,
};
pub use socket_io::{COMPONENT_NAME, RedisSocketDetails, SocketIOComponent};

/// A per-socket rate limit ([`ServerOptions::event_rate_limit`] and the
/// others), the server helper's type.
pub use ignis_socketio_server::RateLimit;
