//! Ignis Socket.IO for Rust: authenticated, room-based real-time messaging on
//! socketioxide and axum, scaling through Redis alongside Node servers.
//!
//! A port of the Ignis TypeScript framework's Socket.IO component
//! (`SocketIOComponent`, `SocketIOServerHelper`, `SocketIOClientHelper`),
//! wire-compatible with clients and servers written for it. This crate
//! re-exports the five crates of the project:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`protocol`] | `ignis-socketio-protocol` | event and room names, states, payloads |
//! | [`server`] | `ignis-socketio-server` | [`SocketIOServerHelper`](server::SocketIOServerHelper): auth handshake, rooms, ping, send |
//! | `redis` (feature `redis`) | `ignis-socketio-redis` | Redis adapter and emitter in the Node wire format |
//! | `client` (feature `client`) | `ignis-socketio-client` | `SocketIOClientHelper`, a Rust client |
//! | `component` (feature `component`) | `ignis-socketio-component` | the application container, `SocketIOComponent` |
//!
//! All features are on by default. [`prelude`] brings the everyday names in.
//!
//! # Example
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
//! });
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
//! migrating from the Node component, and the wire protocol. Every Rust
//! example there is compiled as a doc test of this crate.

pub use ignis_socketio_protocol as protocol;
pub use ignis_socketio_server as server;

#[cfg(feature = "redis")]
pub use ignis_socketio_redis as redis;

#[cfg(feature = "client")]
pub use ignis_socketio_client as client;

#[cfg(feature = "component")]
pub use ignis_socketio_component as component;

/// The everyday names: `use ignis_socketio::prelude::*;`.
///
/// Names that two crates share (`ServerOptions`, `Payload`, `EventHandler`,
/// `HandlerOutcome`) are left out, or taken from the component when it is
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

/// The guide's pages, compiled as doc tests (`cargo test -p ignis-socketio --doc`).
#[cfg(all(doctest, feature = "component", feature = "client", feature = "redis"))]
mod guide {
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
}
