//! The demo server (DEMO-SERVER.md): the Rust counterpart of the reference
//! framework's example app. The binary `demo-server` only parses the
//! configuration, binds, prints `READY <port>` and waits for a signal; all the
//! behaviour lives here so that it can be read (and reused) as a library.

pub mod config;
pub mod cors;
pub mod events;
pub mod rest;

use axum::Router;
use ignis_socketio_redis::{RedisAdapter, RedisAdapterError, RedisAdapterState, RedisConfig};
use ignis_socketio_server::{
    AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest, ServerBuilder,
    SocketIOServerHelper,
};

pub use config::DemoConfig;

/// What can stop the demo server from starting.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The configuration cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The Socket.IO helper could not be built.
    #[error("cannot build the Socket.IO server: {0}")]
    Build(#[from] ignis_socketio_server::BuildError),
    /// Redis could not be reached or its URL is wrong.
    #[error("Redis: {0}")]
    Redis(#[from] RedisAdapterError),
}

/// The identity the demo gives every authenticated client (it has no users).
pub const DEMO_IDENTITY: &str = "demo-user";

/// Whether the handshake carries `token`: header `authorization: Bearer <token>`
/// or handshake `auth.token`.
pub fn handshake_has_token(handshake: &Handshake, token: &str) -> bool {
    let from_header = handshake.bearer_token() == Some(token);
    let from_auth = handshake.auth().get("token").and_then(|t| t.as_str()) == Some(token);
    from_header || from_auth
}

/// The helper's options and the demo's handlers, whatever the adapter.
fn builder(config: &DemoConfig) -> ServerBuilder {
    let token = config.auth_token().map(str::to_owned);
    let prefix = config.room_prefix.clone();
    SocketIOServerHelper::builder()
        .identifier("demo-server")
        .path(config.path.clone())
        .auth_timeout(config.auth_timeout())
        .ping_interval(config.ping_interval())
        .authenticate(move |handshake: Handshake| {
            let token = token.clone();
            async move {
                match token {
                    Some(token) if !handshake_has_token(&handshake, &token) => {
                        Err(AuthError::rejected("wrong or missing token"))
                    }
                    _ => Ok(Identity::new(DEMO_IDENTITY)),
                }
            }
        })
        .validate_rooms(move |request: JoinRequest| {
            let prefix = prefix.clone();
            async move { request.keep(|room| room.starts_with(&prefix)) }
        })
        .on_client_connected(|client: AuthenticatedClient| async move {
            events::register_client_handlers(&client);
        })
}

/// A running demo server's Socket.IO side: the helper, and the Redis adapter when used.
#[derive(Debug, Clone)]
pub struct DemoServer {
    /// The helper, for the REST routes and for shutdown.
    pub io: SocketIOServerHelper,
    redis: Option<RedisAdapterState>,
}

impl DemoServer {
    /// Builds the helper as `config` says: the Redis adapter (single Redis or
    /// cluster) when `--redis` is given, waiting until it is subscribed, so that
    /// no connection is accepted before; the in-memory adapter otherwise.
    pub async fn start(config: &DemoConfig) -> Result<Self, DemoError> {
        let Some(urls) = config.redis_urls() else {
            let io = builder(config).build()?;
            return Ok(DemoServer { io, redis: None });
        };
        let redis_config = if urls.len() == 1 {
            RedisConfig::single(urls[0].clone())
        } else {
            RedisConfig::cluster(urls)
        }
        .key(config.redis_key.clone());
        redis_config.validate()?;
        let state = RedisAdapterState::connect(redis_config).await?;
        let io = builder(config)
            .build_with_adapter_ready::<RedisAdapter<_>, _>(state.clone())
            .await?;
        Ok(DemoServer {
            io,
            redis: Some(state),
        })
    }

    /// Whether Socket.IO is served and, with Redis, the subscriber is connected.
    pub fn is_healthy(&self) -> bool {
        !self.io.is_shut_down()
            && self
                .redis
                .as_ref()
                .is_none_or(RedisAdapterState::is_healthy)
    }

    /// Disconnects every client, then closes the Redis connections.
    pub async fn shutdown(&self) {
        self.io.shutdown().await;
        if let Some(redis) = &self.redis {
            redis.close().await;
        }
    }
}

/// The whole HTTP application: Socket.IO at the configured path, the REST
/// control plane under `/api`, CORS around both, 404 for anything else.
pub fn app(server: &DemoServer, config: &DemoConfig) -> Result<Router, DemoError> {
    let cors = cors::cors_layer(&config.cors_origin).map_err(DemoError::Config)?;
    let router = server.io.attach(rest::router(server.clone()));
    Ok(router
        .layer(cors)
        .layer(axum::middleware::from_fn(cors::preflight_no_content)))
}
