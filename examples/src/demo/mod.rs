//! The demo server (DEMO-SERVER.md): the Rust counterpart of the reference
//! framework's example app. The binary `demo-server` only parses the
//! configuration, binds, prints `READY <port>` and waits for a signal; all the
//! behaviour lives here so that it can be read (and reused) as a library.

pub mod config;
pub mod cors;
pub mod events;
pub mod rest;

use axum::Router;
use ignis_socketio_server::{AuthError, Handshake, Identity, JoinRequest, SocketIOServerHelper};

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

/// Builds the helper configured as `config` says, with the demo's handlers.
pub fn build_helper(config: &DemoConfig) -> Result<SocketIOServerHelper, DemoError> {
    if config.redis_urls().is_some() {
        return Err(DemoError::Config(
            "--redis / REDIS_URL is not supported yet: the Redis adapter is not available in \
             this build; unset it to use the in-memory adapter"
                .to_owned(),
        ));
    }
    let token = config.auth_token().map(str::to_owned);
    let prefix = config.room_prefix.clone();
    let io = SocketIOServerHelper::builder()
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
        .on_client_connected(
            |client: ignis_socketio_server::AuthenticatedClient| async move {
                events::register_client_handlers(&client);
            },
        )
        .build()?;
    Ok(io)
}

/// The whole HTTP application: Socket.IO at the configured path, the REST
/// control plane under `/api`, CORS around both, 404 for anything else.
pub fn app(io: &SocketIOServerHelper, config: &DemoConfig) -> Result<Router, DemoError> {
    let cors = cors::cors_layer(&config.cors_origin).map_err(DemoError::Config)?;
    let router = io.attach(rest::router(io.clone()));
    Ok(router
        .layer(cors)
        .layer(axum::middleware::from_fn(cors::preflight_no_content)))
}
