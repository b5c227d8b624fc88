//! The demo server (`docs/demo-server.md`): the Rust counterpart of the reference
//! framework's example app, built the way that app is: an [`Application`]
//! with the Socket.IO handlers and options bound under
//! [`SocketIOBindingKeys`], [`SocketIOComponent`] registered, and the REST
//! control plane as the application's own routes. The binary `demo-server`
//! only parses the configuration, starts the application, prints
//! `READY <port>` and waits for a signal.

pub mod config;
pub mod events;
pub mod rest;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ignis_socketio_component::{
    Application, AuthenticateFn, ClientConnectedFn, CorsOptions, OperationsOptions, OptionsError,
    PerMessageDeflateOptions, ServerOptions, SocketIOBindingKeys, SocketIOComponent,
    ValidateRoomFn,
};
use ignis_socketio_redis::RedisConfig;
use ignis_socketio_server::{
    AdminUiOptions, AuthError, AuthenticatedClient, Handshake, Identity, JoinRequest,
};

pub use config::DemoConfig;

/// What can stop the demo server from being assembled (start-up failures,
/// e.g. Redis unreachable, come from [`Application::start`]).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The Socket.IO options cannot work (e.g. an invalid `--path` or `--cors-origin`).
    #[error("invalid configuration: {0}")]
    Options(#[from] OptionsError),
    /// `--admin-ui-auth` is not `USER:PASSWORD`.
    #[error("invalid configuration: {0}")]
    AdminUiLogin(String),
    /// The Admin UI password could not be hashed.
    #[error("cannot hash the Admin UI password: {0}")]
    AdminUiHash(#[from] bcrypt::BcryptError),
}

/// The bcrypt cost of the Admin UI password (hashed once at start-up).
const ADMIN_UI_BCRYPT_COST: u32 = 10;

/// The Admin UI of `--admin-ui`/`--admin-ui-auth`, if asked for:
/// development mode, every namespace of the server.
pub fn admin_ui_options(config: &DemoConfig) -> Result<Option<AdminUiOptions>, DemoError> {
    if !config.admin_ui_enabled() {
        return Ok(None);
    }
    let options = match config.admin_ui_login().map_err(DemoError::AdminUiLogin)? {
        Some((user, password)) => {
            AdminUiOptions::basic_auth(user, bcrypt::hash(password, ADMIN_UI_BCRYPT_COST)?)
        }
        None => {
            tracing::warn!(
                "admin UI without a login: anybody reaching the server sees every handshake and may disconnect sockets"
            );
            AdminUiOptions::without_auth()
        }
    };
    Ok(Some(options.read_only(config.admin_ui_read_only)))
}

/// The identity the demo gives every authenticated client (it has no users).
pub const DEMO_IDENTITY: &str = "demo-user";

/// How long open HTTP connections may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the handshake carries `token`: header `authorization: Bearer <token>`
/// or handshake `auth.token`, either one.
///
/// Only the handshake is read: the payload of the `authenticate` event
/// ([`Handshake::credentials`]) is not a credential of the demo, and neither is
/// the query string. The two places are checked independently, so a wrong
/// value in one does not hide the right one in the other (which
/// [`Handshake::bearer_token`], returning the first token it finds, would).
pub fn handshake_has_token(handshake: &Handshake, token: &str) -> bool {
    let from_header = handshake
        .header("authorization")
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, value)| {
            scheme.eq_ignore_ascii_case("bearer") && value.trim() == token
        });
    let from_auth = handshake
        .auth_field("token")
        .is_some_and(|t| t.as_str() == Some(token));
    from_header || from_auth
}

/// The Socket.IO options of `config` (only what differs from the component's defaults).
pub fn server_options(config: &DemoConfig) -> ServerOptions {
    let cors = CorsOptions::default()
        .allowed_headers(["content-type", "authorization"])
        .options_success_status(204);
    let cors = if config.cors_origin.is_empty() {
        // Development default: any origin, without credentials (no cookie is
        // honoured, so this is safe). With `Any` the component's Origin check
        // lets every page through, so a browser page served from another
        // origin (e.g. a chat page opened from a file or another port) still
        // connects, over polling and WebSocket alike, as before.
        cors.allow_any_origin().credentials(false)
    } else {
        // `--cors-origin`: exactly these origins, with credentials. The
        // component's Origin check (enforce_origin, on by default) then also
        // applies the list to WebSocket handshakes, which CORS cannot cover:
        // pages of the listed origins and of the server itself connect,
        // non-browser clients (no Origin header) too.
        cors.allow_origins(config.cors_origin.iter().map(|o| o.trim().to_owned()))
            .credentials(true)
    };
    ServerOptions::default()
        .identifier("demo-server")
        .path(config.path.clone())
        .auth_timeout(config.auth_timeout())
        .ping_interval(config.ping_interval())
        .event_rate_limit(config.event_rate_limit.0)
        .cors(cors)
        .per_message_deflate(PerMessageDeflateOptions {
            enabled: Some(config.per_message_deflate),
            ..PerMessageDeflateOptions::default()
        })
}

/// The Redis adapter's connection when `--redis` is given: one Redis, or the
/// nodes of a cluster, on the channel prefix `--redis-key`.
pub fn redis_config(config: &DemoConfig) -> Option<RedisConfig> {
    let urls = config.redis_urls()?;
    let redis = if urls.len() == 1 {
        RedisConfig::single(urls[0].clone())
    } else {
        RedisConfig::cluster(urls)
    };
    Some(redis.key(config.redis_key.clone()))
}

/// The whole application, ready to start: the demo's handlers and options
/// bound, Redis bound only with `--redis`, the component registered, the REST
/// routes (with the Socket.IO endpoint's CORS) beside it.
pub fn application(config: &DemoConfig) -> Result<Application, DemoError> {
    let options = server_options(config);
    // Resolved here only to give the REST routes the same CORS; the
    // component resolves (and reports) the bound options itself.
    let cors = options.resolve()?.cors;
    let mut app = Application::new()
        .listen_on(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
        .stop_timeout(DRAIN_TIMEOUT);

    let token = config.auth_token().map(str::to_owned);
    app.bind(&SocketIOBindingKeys::AUTHENTICATE_HANDLER)
        .to_value(AuthenticateFn::new(move |handshake: Handshake| {
            let token = token.clone();
            async move {
                match token {
                    Some(token) if !handshake_has_token(&handshake, &token) => {
                        Err(AuthError::rejected("wrong or missing token"))
                    }
                    _ => Ok(Identity::new(DEMO_IDENTITY)),
                }
            }
        }));
    let prefix = config.room_prefix.clone();
    app.bind(&SocketIOBindingKeys::VALIDATE_ROOM_HANDLER)
        .to_value(ValidateRoomFn::new(move |request: JoinRequest| {
            let prefix = prefix.clone();
            async move { request.keep(|room| room.starts_with(&prefix)) }
        }));
    app.bind(&SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER)
        .to_value(ClientConnectedFn::new(
            |client: AuthenticatedClient| async move {
                events::register_client_handlers(&client);
            },
        ));
    app.bind(&SocketIOBindingKeys::SERVER_OPTIONS)
        .to_value(options);
    if let Some(redis) = redis_config(config) {
        app.bind(&SocketIOBindingKeys::REDIS_CONNECTION)
            .to_value(redis);
    }
    if let Some(admin) = admin_ui_options(config)? {
        app.bind(&SocketIOBindingKeys::ADMIN_UI).to_value(admin);
    }
    // GET /health and /ready always; GET /metrics with --metrics.
    app.bind(&SocketIOBindingKeys::OPERATIONS)
        .to_value(OperationsOptions::default().metrics(config.metrics));

    app.component(SocketIOComponent::new());
    app.merge(cors.apply_to(rest::router(config.api_token()))?);
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn handshake(authorization: Option<&str>, auth: Option<Value>) -> Handshake {
        let mut request = axum::http::Request::builder().uri("/io/?EIO=4&token=secret");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        Handshake::from_request_parts(&parts, auth)
    }

    #[test]
    fn either_handshake_place_carries_the_token() {
        assert!(handshake_has_token(
            &handshake(Some("Bearer secret"), None),
            "secret"
        ));
        assert!(handshake_has_token(
            &handshake(Some("bearer  secret "), None),
            "secret"
        ));
        let auth = Some(json!({ "token": "secret" }));
        assert!(handshake_has_token(&handshake(None, auth), "secret"));
        // A wrong value in one place does not hide the right one in the other.
        let wrong_auth = Some(json!({ "token": "nope" }));
        assert!(handshake_has_token(
            &handshake(Some("Bearer secret"), wrong_auth),
            "secret"
        ));
        let auth = Some(json!({ "token": "secret" }));
        assert!(handshake_has_token(
            &handshake(Some("Bearer nope"), auth),
            "secret"
        ));
    }

    #[test]
    fn the_query_string_and_other_schemes_are_not_credentials() {
        assert!(!handshake_has_token(&handshake(None, None), "secret"));
        assert!(!handshake_has_token(
            &handshake(Some("Basic secret"), None),
            "secret"
        ));
        assert!(!handshake_has_token(
            &handshake(Some("Bearer"), None),
            "secret"
        ));
        let auth = Some(json!({ "token": 5 }));
        assert!(!handshake_has_token(&handshake(None, auth), "secret"));
    }
}
