//! Ignis Socket.IO for Rust: authenticated, room-based real-time messaging on
//! its own engine and axum, scaling through Redis alongside Node servers.
//!
//! A port of the Ignis TypeScript framework's Socket.IO component
//! (`SocketIOComponent`, `SocketIOServerHelper`, `SocketIOClientHelper`),
//! wire-compatible with clients and servers written for it. Clients connect,
//! emit `authenticate`, are checked by your authenticator against the
//! handshake, join rooms your validator allows, and receive what the server
//! sends to them, to their rooms or to everyone, on every node sharing a Redis.
//!
//! This crate is the one to depend on: it re-exports the project's crates as
//! modules.
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`server`] | `ignis-socketio-server` | [`SocketIOServerHelper`](server::SocketIOServerHelper): the authentication handshake, rooms, ping, the client registry, [`send`](server::SocketIOServerHelper::send) to a [`Target`](server::Target), acknowledgements ([`AckResponder`](server::AckResponder)), [`Payload`](server::Payload)s with binary, [`bind_listener`](server::bind_listener) and [`serve`](server::serve) |
//! | [`component`] (feature `component`) | `ignis-socketio-component` | the application container ([`Application`](component::Application), [`Container`](component::Container)), [`SocketIOComponent`](component::SocketIOComponent) and its [`SocketIOBindingKeys`](component::SocketIOBindingKeys), [`ServerOptions`](component::ServerOptions) |
//! | [`redis`] (feature `redis`) | `ignis-socketio-redis` | [`RedisAdapter`](redis::RedisAdapter) and [`RedisEmitter`](redis::RedisEmitter) in the wire format of Node's `@socket.io/redis-adapter`, single Redis or Cluster ([`RedisConfig`](redis::RedisConfig)) |
//! | [`client`] (feature `client`) | `ignis-socketio-client` | [`SocketIOClientHelper`](client::SocketIOClientHelper), a Rust client with the authentication protocol; handlers are [`EventHandler`](client::EventHandler)s, arguments [`ClientPayload`](client::ClientPayload)s |
//! | [`protocol`] | `ignis-socketio-protocol` | event and room names ([`events`](protocol::events), [`rooms`](protocol::rooms)), [`ClientState`](protocol::ClientState), payloads, timestamps |
//! | [`prelude`] | | the everyday names: `use ignis_socketio::prelude::*;` |
//!
//! The features `component`, `redis` and `client` are on by default
//! (`component` needs `redis`).
//!
//! # Cargo.toml
//!
//! The crates are not on crates.io yet; depend on the facade by path (or with
//! `git = "<URL of this repository>"`, see the setup guide):
//!
//! ```toml
//! [dependencies]
//! ignis-socketio = { path = "../ignis-socketio/crates/ignis-socketio" }
//! tokio = { version = "1", features = ["full"] }
//! axum = "0.8"
//! serde_json = "1"
//! tracing = "0.1"
//! tracing-subscriber = { version = "0.3", features = ["env-filter"] }
//! ```
//!
//! # `main.rs`
//!
//! A complete server: logs through `tracing` (`RUST_LOG=debug` shows each
//! client's handshake, rooms and events), a token checked against the
//! handshake, rooms starting with `public-`, a chat event, a REST route that
//! sends to a room, Redis when `REDIS_URL` is set, and a clean stop on Ctrl-C
//! or SIGTERM.
//!
//! ```no_run
//! use axum::{Extension, Json, extract::Path, routing::post};
//! use ignis_socketio::prelude::*;
//! use serde_json::{Value, json};
//! use tracing_subscriber::EnvFilter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     tracing_subscriber::fmt()
//!         .with_env_filter(
//!             EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
//!         )
//!         .init();
//!
//!     let mut app = Application::new().listen_on("127.0.0.1:3000".parse()?);
//!     // Who the client is, from the handshake (`auth.token` or `authorization: Bearer`).
//!     app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER).to_value(AuthenticateFn::new(
//!         |handshake: Handshake| async move {
//!             match handshake.bearer_token() {
//!                 Some("secret") => Ok(Identity::new("alice")),
//!                 Some(_) => Err(AuthError::rejected("unknown token")),
//!                 None => Err(AuthError::missing_token()),
//!             }
//!         },
//!     ));
//!     // Which requested rooms a client may join.
//!     app.bind(&SocketIOBindingKeys::VALIDATE_ROOM_HANDLER).to_value(ValidateRoomFn::new(
//!         |request: JoinRequest| async move { request.keep(|room| room.starts_with("public-")) },
//!     ));
//!     // Once per authenticated client: its events.
//!     app.bind(&SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER).to_value(ClientConnectedFn::new(
//!         |client: AuthenticatedClient| async move {
//!             tracing::info!(id = client.id(), user = client.identity().id(), "client ready");
//!             client.on("chat:message", |client: AuthenticatedClient, data: Value| async move {
//!                 let line = json!({ "from": client.id(), "message": data["message"] });
//!                 client.server().send(Target::all(), "chat:broadcast", &line).await
//!             });
//!         },
//!     ));
//!     if let Ok(url) = std::env::var("REDIS_URL") {
//!         app.bind(&SocketIOBindingKeys::REDIS_CONNECTION).to_value(url.parse::<RedisConfig>()?);
//!     }
//!     app.component(SocketIOComponent::new());
//!     // The application's own routes reach the running helper through the container.
//!     app.route("/rooms/{room}/send", post(send_to_room));
//!
//!     let running = app.start().await?; // Socket.IO on /io
//!     tracing::info!(addr = %running.local_addr(), "listening");
//!     running.stop_on_signal().await?; // clients told, Redis closed
//!     Ok(())
//! }
//!
//! async fn send_to_room(
//!     Extension(container): Extension<Container>,
//!     Path(room): Path<String>,
//!     Json(data): Json<Value>,
//! ) -> Json<Value> {
//!     let Ok(io) = container.get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE) else {
//!         return Json(json!({ "error": "Socket.IO is stopped" }));
//!     };
//!     match io.send(Target::room(room), "notice", &data).await {
//!         Ok(()) => Json(json!({ "success": true })),
//!         Err(error) => Json(json!({ "error": error.to_string() })),
//!     }
//! }
//! ```
//!
//! # Component or bare helper?
//!
//! **The component** ([`component`]) is the reference framework's way, and the
//! shortest: bind the handlers and options under
//! [`SocketIOBindingKeys`](component::SocketIOBindingKeys), register
//! [`SocketIOComponent`](component::SocketIOComponent) on an
//! [`Application`](component::Application), add your routes. The application
//! validates every binding before it listens (the error names the key), opens
//! and closes the Redis connections, applies CORS and the `Origin` check to the
//! Socket.IO path, binds the running helper where routes and hooks find it,
//! and stops everything in order. Take it for an application, or when porting
//! one from the Node component.
//!
//! **The bare helper** ([`server`]) is for an axum application you already
//! have, or when you want every piece in your own hands:
//! [`SocketIOServerHelper::builder()`](server::SocketIOServerHelper::builder)
//! takes the same handlers as closures,
//! [`attach`](server::SocketIOServerHelper::attach) mounts it on your
//! `Router`, and you run the HTTP server ([`bind_listener`](server::bind_listener)
//! and [`serve`](server::serve), or `axum::serve`), CORS, Redis
//! ([`build_with_adapter`](server::ServerBuilder::build_with_adapter)
//! with a [`RedisAdapter`](redis::RedisAdapter)) and the shutdown
//! ([`shutdown`](server::SocketIOServerHelper::shutdown)) yourself. The
//! project README's "A server in a few lines" is that way. Both serve the
//! same protocol; the component builds a bare helper inside.
//!
//! # A round trip, tested
//!
//! A server built the way the reference application builds it (bind the
//! handlers under the component's keys, register the component, add the
//! application's routes), and a Rust client that authenticates, joins a room
//! and receives what the server sends there:
//!
//! ```
//! # #[cfg(all(feature = "component", feature = "client"))]
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ignis_socketio::prelude::*;
//! use serde_json::{json, Value};
//!
//! // ----- server -----
//! let mut app = Application::new().listen_on("127.0.0.1:0".parse()?);
//! app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER).to_value(AuthenticateFn::new(
//!     |handshake: Handshake| async move {
//!         match handshake.bearer_token() {
//!             Some("secret") => Ok(Identity::new("alice")),
//!             Some(_) => Err(AuthError::rejected("unknown token")),
//!             None => Err(AuthError::missing_token()),
//!         }
//!     },
//! ));
//! app.bind(&SocketIOBindingKeys::VALIDATE_ROOM_HANDLER).to_value(ValidateRoomFn::new(
//!     |request: JoinRequest| async move { request.keep(|room| room.starts_with("public-")) },
//! ));
//! app.bind(&SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER).to_value(ClientConnectedFn::new(
//!     |client: AuthenticatedClient| async move {
//!         client.on("echo", |client: AuthenticatedClient, data: Value| async move {
//!             client.emit("echo:response", &json!({ "original": data }))
//!         });
//!     },
//! ));
//! app.bind(&SocketIOBindingKeys::SERVER_OPTIONS)
//!     .to_value(ServerOptions::default().identifier("chat"));
//! app.component(SocketIOComponent::new());
//! app.route("/health", axum::routing::get(|| async { "ok" }));
//! let running = app.start().await?;
//!
//! // ----- client -----
//! let client = SocketIOClientHelper::builder()
//!     .url(format!("http://{}", running.local_addr()))
//!     .path("/io")
//!     .auth(json!({ "token": "secret" }))
//!     .auto_authenticate(true)
//!     .build()?;
//! let (news_tx, mut news) = tokio::sync::mpsc::unbounded_channel();
//! client.subscribe("headline", move |data: Value| {
//!     let news_tx = news_tx.clone();
//!     async move { let _ = news_tx.send(data); }
//! })?;
//! assert!(client.wait_for_state(ClientState::Authenticated, Duration::from_secs(5)).await);
//! let joined = client.join_rooms(["public-news", "secret-room"]).await?;
//! assert_eq!(joined.map(|ack| ack.joined), Some(vec!["public-news".to_string()]));
//!
//! // ----- the running server helper, from the container -----
//! let io = running.get(&SocketIOBindingKeys::SOCKET_IO_INSTANCE)?;
//! io.send(Target::room("public-news"), "headline", &json!({ "title": "hello" })).await?;
//! let headline = tokio::time::timeout(Duration::from_secs(5), news.recv()).await?;
//! assert_eq!(headline, Some(json!({ "title": "hello" })));
//!
//! client.shutdown().await;
//! running.stop().await?;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "component", feature = "client")))]
//! # fn main() {}
//! ```
//!
//! # Guide
//!
//! The `docs/` folder of the repository: setup and configuration, usage,
//! API overview, errors and troubleshooting, Redis scaling and Node interop,
//! migrating from the Node component, the wire protocol, the demo server and
//! performance. Every Rust example there and in the README is compiled as a
//! doc test of this crate (`cargo test -p ignis-socketio --doc`).

#[doc(inline)]
pub use ignis_socketio_protocol as protocol;
#[doc(inline)]
pub use ignis_socketio_server as server;

#[cfg(feature = "redis")]
#[doc(inline)]
pub use ignis_socketio_redis as redis;

#[cfg(feature = "client")]
#[doc(inline)]
pub use ignis_socketio_client as client;

#[cfg(feature = "component")]
#[doc(inline)]
pub use ignis_socketio_component as component;

/// The everyday names: `use ignis_socketio::prelude::*;`.
///
/// Names that two crates share (`ServerOptions`, `EventHandler`,
/// `HandlerOutcome`, and for one release `Payload`, the client's deprecated
/// name of `ClientPayload`) are left out, or taken from the component when it is
/// enabled (`ServerOptions` is then the partial, mergeable options); reach
/// the others through their modules.
pub mod prelude {
    pub use ignis_socketio_protocol::{ClientState, JoinAck, LeaveAck, RoomLimits, events, rooms};
    pub use ignis_socketio_server::{
        AuthError, AuthenticatedClient, ClientInfo, Handshake, Identity, JoinRequest, ServerError,
        SocketIOServerHelper, Target,
    };

    #[cfg(feature = "redis")]
    pub use ignis_socketio_redis::{RedisAdapterError, RedisConfig, RedisEmitter};

    #[cfg(feature = "client")]
    pub use ignis_socketio_client::{ClientError, SocketIOClientHelper};

    #[cfg(feature = "component")]
    pub use ignis_socketio_component::{
        Application, AuthenticateFn, BindingKey, ClientConnectedFn, Component, ComponentError,
        Container, CorsOptions, RunningApplication, ServerOptions, SocketIOBindingKeys,
        SocketIOComponent, ValidateRoomFn,
    };
}

/// The README and the guide's pages, compiled as doc tests (`cargo test -p ignis-socketio --doc`).
#[cfg(all(doctest, feature = "component", feature = "client", feature = "redis"))]
mod guide {
    #[doc = include_str!("../../../README.md")]
    mod readme {}
    #[doc = include_str!("../../../docs/setup.md")]
    mod setup {}
    #[doc = include_str!("../../../docs/usage.md")]
    mod usage {}
    #[doc = include_str!("../../../docs/api.md")]
    mod api {}
    #[doc = include_str!("../../../docs/errors.md")]
    mod errors {}
    #[doc = include_str!("../../../docs/scaling.md")]
    mod scaling {}
    #[doc = include_str!("../../../docs/migration.md")]
    mod migration {}
    #[doc = include_str!("../../../docs/protocol.md")]
    mod protocol {}
    #[doc = include_str!("../../../docs/demo-server.md")]
    mod demo_server {}
    #[doc = include_str!("../../../docs/performance.md")]
    mod performance {}
    #[doc = include_str!("../../../docs/engine.md")]
    mod engine {}
    #[doc = include_str!("../../../docs/operations.md")]
    mod operations {}
}
