//! The binding keys of the Socket.IO component and the handler values bound
//! under them.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use ignis_socketio_server::{
    AdminUiOptions, AuthError, AuthenticatedClient, Authenticator, ClientConnectedHandler,
    Handshake, Identity, JoinRequest, RoomValidator, SocketIOServerHelper,
};

use crate::container::BindingKey;
use crate::operations::OperationsOptions;
use crate::options::ServerOptions;
use ignis_socketio_redis::{RedisAdapterState, RedisConfig};

/// The binding keys of [`SocketIOComponent`](crate::SocketIOComponent), with
/// the reference's key strings.
///
/// | key | type | required |
/// |---|---|---|
/// | `@app/socket-io/server-options` | [`ServerOptions`] | no: defaults |
/// | `@app/socket-io/redis-connection` | [`RedisConfig`] | no: in-memory adapter when unbound |
/// | `@app/socket-io/authenticate-handler` | [`AuthenticateFn`] | **yes** |
/// | `@app/socket-io/validate-room-handler` | [`ValidateRoomFn`] | no: every join refused |
/// | `@app/socket-io/client-connected-handler` | [`ClientConnectedFn`] | no |
/// | `@app/socket-io/operations` | [`OperationsOptions`] | no: no metrics, health or readiness routes when unbound |
/// | `@app/socket-io/instance` | [`SocketIOServerHelper`] | bound by the component |
/// | `@app/socket-io/redis-adapter` | [`RedisAdapterState`] | bound by the component with Redis |
#[derive(Debug, Clone, Copy)]
pub struct SocketIOBindingKeys;

impl SocketIOBindingKeys {
    /// `@app/socket-io/server-options`: options merged field by field over the defaults.
    pub const SERVER_OPTIONS: BindingKey<ServerOptions> =
        BindingKey::new("@app/socket-io/server-options");
    /// `@app/socket-io/redis-connection`: the Redis adapter's connection; the
    /// in-memory adapter (one node) when unbound.
    pub const REDIS_CONNECTION: BindingKey<RedisConfig> =
        BindingKey::new("@app/socket-io/redis-connection");
    /// `@app/socket-io/authenticate-handler`: required.
    pub const AUTHENTICATE_HANDLER: BindingKey<AuthenticateFn> =
        BindingKey::new("@app/socket-io/authenticate-handler");
    /// `@app/socket-io/validate-room-handler`: without it every `join` is refused.
    pub const VALIDATE_ROOM_HANDLER: BindingKey<ValidateRoomFn> =
        BindingKey::new("@app/socket-io/validate-room-handler");
    /// `@app/socket-io/client-connected-handler`: registers per-client events.
    pub const CLIENT_CONNECTED_HANDLER: BindingKey<ClientConnectedFn> =
        BindingKey::new("@app/socket-io/client-connected-handler");
    /// `@app/socket-io/operations` (BEYOND the reference): which operations
    /// routes the component serves (metrics, health, readiness); none when unbound.
    pub const OPERATIONS: BindingKey<OperationsOptions> =
        BindingKey::new("@app/socket-io/operations");
    /// `@app/socket-io/admin-ui` (BEYOND the reference): serve the official
    /// Socket.IO Admin UI's namespace; off when unbound. With Redis bound,
    /// the admin namespace gets its own Redis adapter, so that one page sees
    /// every server of the fleet.
    pub const ADMIN_UI: BindingKey<AdminUiOptions> = BindingKey::new("@app/socket-io/admin-ui");
    /// `@app/socket-io/instance`: the running server helper, bound by the
    /// component before the listener accepts connections.
    pub const SOCKET_IO_INSTANCE: BindingKey<SocketIOServerHelper> =
        BindingKey::new("@app/socket-io/instance");

    /// `@app/socket-io/redis-adapter` (BEYOND the reference): the Redis
    /// adapter's state, bound by the component when
    /// [`REDIS_CONNECTION`](Self::REDIS_CONNECTION) is, before the listener
    /// accepts connections: health, server-side emit, an emitter on the same
    /// connections.
    pub const REDIS_ADAPTER: BindingKey<RedisAdapterState> =
        BindingKey::new("@app/socket-io/redis-adapter");

    /// The reference's key strings, in the order of the table above.
    pub const ALL: [&'static str; 6] = [
        Self::SERVER_OPTIONS.as_str(),
        Self::REDIS_CONNECTION.as_str(),
        Self::AUTHENTICATE_HANDLER.as_str(),
        Self::VALIDATE_ROOM_HANDLER.as_str(),
        Self::CLIENT_CONNECTED_HANDLER.as_str(),
        Self::SOCKET_IO_INSTANCE.as_str(),
    ];
}

/// The authenticate handler (the reference's `TSocketIOAuthenticateFn`),
/// bound under [`SocketIOBindingKeys::AUTHENTICATE_HANDLER`].
///
/// ```
/// use ignis_socketio_component::AuthenticateFn;
/// use ignis_socketio_server::{AuthError, Handshake, Identity};
///
/// let handler = AuthenticateFn::new(|handshake: Handshake| async move {
///     match handshake.bearer_token() {
///         Some("secret") => Ok(Identity::new("user-1")),
///         Some(_) => Err(AuthError::rejected("unknown token")),
///         None => Err(AuthError::missing_token()),
///     }
/// });
/// # let _ = handler;
/// ```
#[derive(Clone)]
pub struct AuthenticateFn(Arc<dyn Authenticator>);

impl AuthenticateFn {
    /// Wraps an authenticator: an async closure `Fn(Handshake) -> Result<Identity, AuthError>`
    /// or a type implementing [`Authenticator`].
    pub fn new(authenticator: impl Authenticator) -> Self {
        AuthenticateFn(Arc::new(authenticator))
    }
}

impl fmt::Debug for AuthenticateFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthenticateFn")
    }
}

#[async_trait]
impl Authenticator for AuthenticateFn {
    async fn authenticate(&self, handshake: Handshake) -> Result<Identity, AuthError> {
        self.0.authenticate(handshake).await
    }
}

/// The room validator (the reference's `TSocketIOValidateRoomFn`), bound
/// under [`SocketIOBindingKeys::VALIDATE_ROOM_HANDLER`]. Only rooms both
/// requested and returned are joined.
///
/// ```
/// use ignis_socketio_component::ValidateRoomFn;
/// use ignis_socketio_server::JoinRequest;
///
/// let validator = ValidateRoomFn::new(|request: JoinRequest| async move {
///     request.keep(|room| room.starts_with("public-"))
/// });
/// # let _ = validator;
/// ```
#[derive(Clone)]
pub struct ValidateRoomFn(Arc<dyn RoomValidator>);

impl ValidateRoomFn {
    /// Wraps a validator: an async closure `Fn(JoinRequest) -> Vec<String>`
    /// or a type implementing [`RoomValidator`].
    pub fn new(validator: impl RoomValidator) -> Self {
        ValidateRoomFn(Arc::new(validator))
    }
}

impl fmt::Debug for ValidateRoomFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValidateRoomFn")
    }
}

#[async_trait]
impl RoomValidator for ValidateRoomFn {
    async fn validate(&self, request: JoinRequest) -> Vec<String> {
        self.0.validate(request).await
    }
}

/// The client-connected handler (the reference's `TSocketIOClientConnectedFn`),
/// bound under [`SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER`]; register
/// the client's events here.
///
/// ```
/// use ignis_socketio_component::ClientConnectedFn;
/// use ignis_socketio_server::AuthenticatedClient;
/// use serde_json::{json, Value};
///
/// let handler = ClientConnectedFn::new(|client: AuthenticatedClient| async move {
///     client.on("echo", |client: AuthenticatedClient, data: Value| async move {
///         client.emit("echo:response", &json!({ "original": data }))
///     });
/// });
/// # let _ = handler;
/// ```
#[derive(Clone)]
pub struct ClientConnectedFn(Arc<dyn ClientConnectedHandler>);

impl ClientConnectedFn {
    /// Wraps a handler: an async closure `Fn(AuthenticatedClient)` returning
    /// `()` or `Result<(), E>`, or a type implementing [`ClientConnectedHandler`].
    pub fn new(handler: impl ClientConnectedHandler) -> Self {
        ClientConnectedFn(Arc::new(handler))
    }
}

impl fmt::Debug for ClientConnectedFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientConnectedFn")
    }
}

#[async_trait]
impl ClientConnectedHandler for ClientConnectedFn {
    async fn on_connected(&self, client: AuthenticatedClient) {
        self.0.on_connected(client).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_strings_are_the_reference_strings() {
        assert_eq!(
            SocketIOBindingKeys::SERVER_OPTIONS.as_str(),
            "@app/socket-io/server-options"
        );
        assert_eq!(
            SocketIOBindingKeys::REDIS_CONNECTION.as_str(),
            "@app/socket-io/redis-connection"
        );
        assert_eq!(
            SocketIOBindingKeys::AUTHENTICATE_HANDLER.as_str(),
            "@app/socket-io/authenticate-handler"
        );
        assert_eq!(
            SocketIOBindingKeys::VALIDATE_ROOM_HANDLER.as_str(),
            "@app/socket-io/validate-room-handler"
        );
        assert_eq!(
            SocketIOBindingKeys::CLIENT_CONNECTED_HANDLER.as_str(),
            "@app/socket-io/client-connected-handler"
        );
        assert_eq!(
            SocketIOBindingKeys::SOCKET_IO_INSTANCE.as_str(),
            "@app/socket-io/instance"
        );
    }
}
