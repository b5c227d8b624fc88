//! Configuring a helper: options, callbacks, observers, and the build.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use ignis_socketio_engine::io::{Adapter, LocalAdapter};
use ignis_socketio_engine::ws::DeflateConfig;

use crate::admin::AdminUiOptions;
use crate::callbacks::IntoEventHandler;
use crate::observer::Observers;
use crate::types::{
    Authenticator, ClientConnectedHandler, ClientDisconnectedHandler, Core, EventHandler,
    RoomValidator, SocketIOServerHelper,
};
use crate::{BuildError, CorsOrigins, RateLimit, ServerOptions, SocketObserver};

/// Configures a [`SocketIOServerHelper`]. Only [`authenticate`](Self::authenticate) is required.
#[derive(Default)]
pub struct ServerBuilder {
    options: ServerOptions,
    authenticator: Option<Arc<dyn Authenticator>>,
    validator: Option<Arc<dyn RoomValidator>>,
    connected_handler: Option<Arc<dyn ClientConnectedHandler>>,
    disconnected_handler: Option<Arc<dyn ClientDisconnectedHandler>>,
    event_handlers: Vec<(String, Arc<dyn EventHandler>)>,
    observers: Vec<Arc<dyn SocketObserver>>,
    metrics: bool,
    admin_ui: Option<AdminUiOptions>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("options", &self.options)
            .field("authenticator", &self.authenticator.is_some())
            .field("validator", &self.validator.is_some())
            .field("connected_handler", &self.connected_handler.is_some())
            .field("disconnected_handler", &self.disconnected_handler.is_some())
            .field(
                "event_handlers",
                &self
                    .event_handlers
                    .iter()
                    .map(|(e, _)| e)
                    .collect::<Vec<_>>(),
            )
            .field("observers", &self.observers.len())
            .field("metrics", &self.metrics)
            .field("admin_ui", &self.admin_ui)
            .finish()
    }
}

impl ServerBuilder {
    /// Replaces every option at once: the way to set any option
    /// (`ServerOptions { ping_interval, ..ServerOptions::default() }`); the
    /// setters below change one field of what is set.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// Name of the server in logs (default `SOCKET_IO_SERVER`).
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.options.identifier = identifier.into();
        self
    }

    /// Request path (default `/io`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.options.path = path.into();
        self
    }

    /// Time a client has to authenticate (default 10 s).
    pub fn auth_timeout(mut self, timeout: Duration) -> Self {
        self.options.auth_timeout = timeout;
        self
    }

    /// Limit of application events per socket (default 5 000 at once,
    /// 2 500/s); `None` turns it off. See [`ServerOptions::event_rate_limit`].
    pub fn event_rate_limit(mut self, limit: impl Into<Option<RateLimit>>) -> Self {
        self.options.event_rate_limit = limit.into();
        self
    }

    /// Limit of `join`/`leave` requests per socket (default 100, 20/s); `None` turns it off.
    pub fn room_rate_limit(mut self, limit: impl Into<Option<RateLimit>>) -> Self {
        self.options.room_rate_limit = limit.into();
        self
    }

    /// Limit of `authenticate` requests per socket (default 10, 1/s); `None` turns it off.
    pub fn auth_rate_limit(mut self, limit: impl Into<Option<RateLimit>>) -> Self {
        self.options.auth_rate_limit = limit.into();
        self
    }

    /// How long a socket may stay over a rate limit before it is
    /// disconnected (default 5 s); `None`: never, its events are only dropped.
    pub fn rate_limit_disconnect_after(mut self, after: impl Into<Option<Duration>>) -> Self {
        self.options.rate_limit_disconnect_after = after.into();
        self
    }

    /// Refuses (403, before a session exists) browser requests whose
    /// `Origin` is neither one of `origins` (e.g. `https://app.example`)
    /// nor the server's own. Off by default. Requests without `Origin`
    /// (non-browser clients) are always accepted. See
    /// [`ServerOptions::allowed_origins`].
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.allowed_origins = Some(CorsOrigins::List(
            origins.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// The origin check in full: `Some(CorsOrigins::SameOrigin)` (the
    /// server's own origin only), a list, `Some(CorsOrigins::Any)` or `None`
    /// (no check, the default).
    pub fn origin_check(mut self, origins: impl Into<Option<CorsOrigins>>) -> Self {
        self.options.allowed_origins = origins.into();
        self
    }

    /// Development switch: lets any origin in (no origin check), and says so
    /// in a warning when built. Do not ship it.
    pub fn allow_any_origin_in_development(mut self) -> Self {
        self.options.allowed_origins = Some(CorsOrigins::Any);
        self
    }

    /// Caps the connections that have not authenticated yet: `total` over
    /// all clients (503 over it), `per_address` from one client address
    /// (429 over it); `None` leaves a cap off (the default for both). See
    /// [`ServerOptions::max_unauthenticated_connections`].
    pub fn max_unauthenticated_connections(
        mut self,
        total: impl Into<Option<usize>>,
        per_address: impl Into<Option<usize>>,
    ) -> Self {
        self.options.max_unauthenticated_connections = total.into();
        self.options.max_unauthenticated_per_address = per_address.into();
        self
    }

    /// The header a trusted reverse proxy puts the client's address in
    /// (e.g. `x-forwarded-for`, right-most address taken); `None`, the
    /// default: the TCP peer address. See [`ServerOptions::trusted_proxy_header`].
    pub fn trusted_proxy_header(mut self, header: impl Into<Option<HeaderName>>) -> Self {
        self.options.trusted_proxy_header = header.into();
        self
    }

    /// Largest Engine.IO payload from a client, in bytes (default
    /// 100 000): a WebSocket message, a polling body, and the sum of a
    /// binary packet's attachments.
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.options.max_payload = bytes;
        self
    }

    /// Binary attachments: most per packet (default 100) and the time to
    /// receive them all (default 5 s).
    pub fn attachments(mut self, max: usize, timeout: Duration) -> Self {
        self.options.max_attachments = max;
        self.options.attachment_timeout = timeout;
        self
    }

    /// What may be queued for one client before it is disconnected as a
    /// slow consumer: bytes (default 4 MiB) and packets (default 16 384).
    pub fn max_buffered(mut self, bytes: usize, packets: usize) -> Self {
        self.options.max_buffered_bytes = bytes;
        self.options.max_buffered_packets = packets;
        self
    }

    /// Time limits of request heads and polling bodies (default 30 s each);
    /// see [`SocketIOServerHelper::serve_limits`].
    pub fn read_timeouts(mut self, header: Duration, body: Duration) -> Self {
        self.options.header_read_timeout = header;
        self.options.body_read_timeout = body;
        self
    }

    /// Turns WebSocket per-message compression (permessage-deflate) on with
    /// `config` (`DeflateConfig::default()` is the reference's settings), or
    /// off with `None` (the default).
    pub fn per_message_deflate(mut self, config: impl Into<Option<DeflateConfig>>) -> Self {
        self.options.per_message_deflate = config.into();
        self
    }

    /// The authenticator (required): a closure `|hs: Handshake| async move { ... }`
    /// returning `Result<Identity, AuthError>`, or an [`Authenticator`].
    pub fn authenticate(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// The authenticator, already shared.
    pub fn authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// The room validator: a closure `|req: JoinRequest| async move { ... }`
    /// returning the allowed rooms, or a [`RoomValidator`]. Without one every join is refused.
    pub fn validate_rooms(mut self, validator: impl RoomValidator) -> Self {
        self.validator = Some(Arc::new(validator));
        self
    }

    /// The room validator, already shared.
    pub fn room_validator(mut self, validator: Arc<dyn RoomValidator>) -> Self {
        self.validator = Some(validator);
        self
    }

    /// The client-connected handler: a closure `|client: AuthenticatedClient| async move { ... }`
    /// or a [`ClientConnectedHandler`].
    pub fn on_client_connected(mut self, handler: impl ClientConnectedHandler) -> Self {
        self.connected_handler = Some(Arc::new(handler));
        self
    }

    /// The client-connected handler, already shared.
    pub fn client_connected_handler(mut self, handler: Arc<dyn ClientConnectedHandler>) -> Self {
        self.connected_handler = Some(handler);
        self
    }

    /// The client-disconnected handler: a closure
    /// `|client: ClientInfo, reason: String| async move { ... }` or a
    /// [`ClientDisconnectedHandler`]. Runs once per client, whatever the cause.
    pub fn on_client_disconnected(mut self, handler: impl ClientDisconnectedHandler) -> Self {
        self.disconnected_handler = Some(Arc::new(handler));
        self
    }

    /// The client-disconnected handler, already shared.
    pub fn client_disconnected_handler(
        mut self,
        handler: Arc<dyn ClientDisconnectedHandler>,
    ) -> Self {
        self.disconnected_handler = Some(handler);
        self
    }

    /// Registers a handler of the application event `event` for every
    /// authenticated client (a handler registered on the client with
    /// [`AuthenticatedClient::on`](crate::AuthenticatedClient::on) takes
    /// precedence). Same handler shapes as `AuthenticatedClient::on`.
    pub fn on<M>(mut self, event: impl Into<String>, handler: impl IntoEventHandler<M>) -> Self {
        self.event_handlers
            .push((event.into(), handler.into_event_handler()));
        self
    }

    /// Adds a lifecycle [`SocketObserver`]: told when each socket connects,
    /// authenticates and disconnects (for example to publish socket details to
    /// a cluster adapter). May be called several times; observers are called
    /// in the order they were added.
    pub fn observer(mut self, observer: Arc<dyn SocketObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Counts what the helper does for Prometheus (off by default): expose
    /// the counts with [`SocketIOServerHelper::register_metrics`]. Off, the
    /// helper counts nothing; on, each counted event costs an atomic add.
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = enabled;
        self
    }

    /// Serves the official Socket.IO Admin UI's namespace (`/admin` by
    /// default) beside the helper's: off unless called. See
    /// [`AdminUiOptions`] for the login, read-only and production modes, and
    /// for a fleet (the admin namespace's own adapter).
    pub fn admin_ui(mut self, options: AdminUiOptions) -> Self {
        self.admin_ui = Some(options);
        self
    }

    /// The admin options, checked.
    fn take_admin_ui(&mut self) -> Result<Option<AdminUiOptions>, BuildError> {
        let Some(options) = self.admin_ui.take() else {
            return Ok(None);
        };
        options
            .check()
            .map_err(|reason| BuildError::InvalidOption {
                option: "admin_ui",
                reason,
            })?;
        Ok(Some(options))
    }

    fn into_core(self) -> Result<Arc<Core>, BuildError> {
        self.options.validate()?;
        if self.options.allowed_origins == Some(CorsOrigins::Any) {
            tracing::warn!("any origin may reach the Socket.IO endpoint (development switch)");
        }
        let authenticator = self.authenticator.ok_or(BuildError::MissingAuthenticator)?;
        let mut event_handlers = HashMap::new();
        for (event, handler) in self.event_handlers {
            crate::callbacks::check_handler_name(&event).map_err(|error| {
                BuildError::InvalidOption {
                    option: "on",
                    reason: error.to_string(),
                }
            })?;
            event_handlers.insert(event, handler);
        }
        Ok(Arc::new(
            Core::new(
                self.options,
                authenticator,
                self.validator,
                self.connected_handler,
                self.disconnected_handler,
                event_handlers,
                Observers::new(self.observers),
            )
            .with_metrics(crate::metrics::Metrics::new(self.metrics)),
        ))
    }

    /// Builds the helper on the project's own engine with the in-memory
    /// adapter (one node).
    ///
    /// With [`admin_ui`](Self::admin_ui) it must run inside a Tokio runtime
    /// (the admin page's stats are sent by a task), and the admin options may
    /// not carry an adapter (use [`build_with_adapter`](Self::build_with_adapter)).
    pub fn build(mut self) -> Result<SocketIOServerHelper, BuildError> {
        let admin = self.take_admin_ui()?;
        let invalid = |reason: &str| BuildError::InvalidOption {
            option: "admin_ui",
            reason: reason.to_owned(),
        };
        if let Some(admin) = &admin {
            if admin.adapter.is_some() {
                return Err(invalid("an admin adapter needs build_with_adapter"));
            }
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(invalid("the admin page needs a Tokio runtime"));
            }
        }
        let native = crate::native::build(self.into_core()?, Arc::new(LocalAdapter), admin);
        native.start_admin();
        Ok(SocketIOServerHelper { engine: native })
    }

    /// Builds the helper with `adapter` (for example a Redis adapter) and
    /// waits until the adapter is ready (for example subscribed to Redis), so
    /// that no connection is accepted before.
    pub async fn build_with_adapter(
        mut self,
        adapter: Arc<dyn Adapter>,
    ) -> Result<SocketIOServerHelper, BuildError> {
        let admin = self.take_admin_ui()?;
        let native = crate::native::build(self.into_core()?, adapter, admin);
        native
            .init_adapter()
            .await
            .map_err(BuildError::AdapterInit)?;
        native.start_admin();
        Ok(SocketIOServerHelper { engine: native })
    }
}
