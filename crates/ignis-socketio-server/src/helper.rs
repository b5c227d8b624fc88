//! The public handle and its builder.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use ignis_socketio_engine::io::{Adapter, LocalAdapter};
use ignis_socketio_engine::ws::DeflateConfig;
use ignis_socketio_protocol::{JoinAck, LeaveAck, validate_event_name};
use serde::Serialize;

use crate::admin::AdminUiOptions;
use crate::callbacks::IntoEventHandler;
use crate::observer::Observers;
use crate::types::{
    Authenticator, ClientConnectedHandler, ClientDisconnectedHandler, Core, Engine, EventHandler,
    RoomValidator, SocketIOServerHelper,
};
use crate::{
    AckReply, BuildError, ClientInfo, Payload, RateLimit, ServerError, ServerOptions,
    SocketObserver, Target,
};

impl fmt::Debug for SocketIOServerHelper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIOServerHelper")
            .field("identifier", &self.options().identifier)
            .field("path", &self.options().path)
            .field("clients", &self.core().client_count())
            .finish()
    }
}

impl SocketIOServerHelper {
    /// Starts configuring a helper.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        self.engine.core()
    }

    /// The options in effect.
    pub fn options(&self) -> &ServerOptions {
        &self.core().options
    }

    /// The identifier (logs' `identifier` field).
    pub fn identifier(&self) -> &str {
        &self.core().options.identifier
    }

    /// The request path the Socket.IO endpoint answers on (`/io` by default).
    pub fn path(&self) -> &str {
        &self.core().options.path
    }

    /// Mounts the Socket.IO endpoint on `router` at [`path`](Self::path).
    /// Other routes keep working; call it after `Router::with_state`.
    pub fn attach(&self, router: Router) -> Router {
        self.engine.attach(router)
    }

    /// Sends `event` with `data` (any JSON value, `0`, `false`, `""` and `null`
    /// included) to `target`, through the adapter (every node with a cluster adapter).
    ///
    /// Errors: a reserved or empty event name, unserializable data, an adapter failure,
    /// a helper that was shut down.
    pub async fn send<T: Serialize + ?Sized>(
        &self,
        target: Target,
        event: &str,
        data: &T,
    ) -> Result<(), ServerError> {
        validate_event_name(event)?;
        let payload = Payload::from_serialize(data)?;
        self.send_payload(target, event, payload).await
    }

    /// Sends a JSON or binary [`Payload`]; see [`send`](Self::send).
    pub async fn send_payload(
        &self,
        target: Target,
        event: &str,
        payload: Payload,
    ) -> Result<(), ServerError> {
        validate_event_name(event)?;
        let (to_rooms, started) = (!target.rooms.is_empty(), std::time::Instant::now());
        let result = self.engine.send(target, event, payload).await;
        self.core().metrics.sent(to_rooms, result.is_ok(), started);
        result
    }

    /// Sends and collects every target socket's acknowledgement, waiting up to
    /// `timeout` for each. A socket that does not answer in time yields an `Err` reply.
    pub async fn send_with_ack<T: Serialize + ?Sized>(
        &self,
        target: Target,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Vec<AckReply>, ServerError> {
        validate_event_name(event)?;
        let payload = Payload::from_serialize(data)?;
        let (to_rooms, started) = (!target.rooms.is_empty(), std::time::Instant::now());
        let result = self
            .engine
            .send_with_ack(target, event, payload, timeout)
            .await;
        self.core().metrics.sent(to_rooms, result.is_ok(), started);
        result
    }

    /// Snapshots of the clients of this node.
    pub fn get_clients(&self) -> Vec<ClientInfo> {
        self.core().clients()
    }

    /// A snapshot of one client of this node.
    pub fn get_client(&self, id: &str) -> Option<ClientInfo> {
        self.core().record(id).map(|r| r.info())
    }

    /// How many clients this node has.
    pub fn client_count(&self) -> usize {
        self.core().client_count()
    }

    /// Ids of the sockets matching `target` on every node (through the adapter).
    pub async fn fetch_socket_ids(&self, target: Target) -> Result<Vec<String>, ServerError> {
        self.engine.fetch_socket_ids(target).await
    }

    /// Every room on every node (through the adapter), sorted.
    pub async fn fetch_rooms(&self) -> Result<Vec<String>, ServerError> {
        self.engine.fetch_rooms().await
    }

    /// Makes a client of this node join rooms on the server's authority (for a
    /// REST API): no room validator, but the room limits hold and the helper's
    /// internal room cannot be joined. The client must be authenticated.
    pub fn join_rooms<I, S>(&self, id: &str, rooms: I) -> Result<JoinAck, ServerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let record = self
            .core()
            .record(id)
            .ok_or_else(|| ServerError::UnknownClient(id.to_owned()))?;
        self.core()
            .join_by_server(&record, &crate::rooms::request_value(rooms))
    }

    /// Makes a client of this node leave rooms; its own id room and the
    /// default rooms cannot be left (rejected with reason `protected`).
    pub fn leave_rooms<I, S>(&self, id: &str, rooms: I) -> Result<LeaveAck, ServerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let record = self
            .core()
            .record(id)
            .ok_or_else(|| ServerError::UnknownClient(id.to_owned()))?;
        self.core()
            .leave(&record, &crate::rooms::request_value(rooms))
    }

    /// Disconnects a client of this node.
    pub fn disconnect(&self, id: &str) -> Result<(), ServerError> {
        let record = self
            .core()
            .record(id)
            .ok_or_else(|| ServerError::UnknownClient(id.to_owned()))?;
        record.socket.disconnect();
        Ok(())
    }

    /// Disconnects every client, stops every timer, refuses new connections and
    /// closes the adapter. Idempotent (later calls wait for the first one). The
    /// host HTTP server keeps running.
    pub async fn shutdown(&self) {
        self.engine.shutdown().await;
    }

    /// What this node counted since start: events handled and ignored,
    /// clients disconnected as slow consumers or for missed heartbeats,
    /// protocol errors, sessions. Cheap (atomic reads).
    pub fn counters(&self) -> ServerCounters {
        let core = self.core();
        let engine = self.engine.engine_counters();
        ServerCounters {
            events_handled: core
                .events_handled
                .load(std::sync::atomic::Ordering::Relaxed),
            events_ignored: core
                .events_ignored
                .load(std::sync::atomic::Ordering::Relaxed),
            events_rate_limited: core
                .events_rate_limited
                .load(std::sync::atomic::Ordering::Relaxed),
            rate_limit_disconnects: core
                .rate_limit_disconnects
                .load(std::sync::atomic::Ordering::Relaxed),
            slow_consumer_disconnects: engine.slow_consumers,
            ping_timeouts: engine.ping_timeouts,
            protocol_errors: engine.protocol_errors,
            sessions_opened: engine.sessions_opened,
            sessions_closed: engine.sessions_closed,
            messages_received: engine.messages_received,
        }
    }

    /// Registers this helper's metrics in `registry` (the Prometheus text
    /// format's names are listed in `docs/operations.md`): what it counts
    /// since it was built with [`ServerBuilder::metrics`], and what the engine
    /// and the registry of clients hold, read on each scrape. Returns false,
    /// registering nothing, when the helper was built without metrics.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) -> bool {
        let engine: std::sync::Weak<dyn Engine> = Arc::downgrade(&self.engine);
        let source = Box::new(move || {
            let engine = engine.upgrade()?;
            Some((engine.core().clients(), engine.engine_counters()))
        });
        match self.core().metrics.collector(source) {
            Some(collector) => {
                registry.register_collector(Box::new(collector));
                true
            }
            None => false,
        }
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_shut_down(&self) -> bool {
        self.core().is_shutting_down()
    }
}

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

/// What a helper counted since start (see [`SocketIOServerHelper::counters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerCounters {
    /// Application events handed to a handler.
    pub events_handled: u64,
    /// Application events dropped: sent before authentication, or with no handler.
    pub events_ignored: u64,
    /// Incoming events dropped for being over the socket's rate limit.
    pub events_rate_limited: u64,
    /// Clients disconnected for staying over a rate limit.
    pub rate_limit_disconnects: u64,
    /// Clients disconnected because more was queued for them than the bound
    /// allows (they did not read fast enough); nothing sent to them is lost
    /// silently: they are gone.
    pub slow_consumer_disconnects: u64,
    /// Clients disconnected for answering no heartbeat in time.
    pub ping_timeouts: u64,
    /// Clients disconnected for breaking the protocol.
    pub protocol_errors: u64,
    /// Engine.IO sessions opened.
    pub sessions_opened: u64,
    /// Engine.IO sessions closed.
    pub sessions_closed: u64,
    /// Engine.IO messages received.
    pub messages_received: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::{
        AckResponder, AuthError, AuthenticatedClient, BuildError, ClientInfo, Handshake, Identity,
        JoinRequest, SocketIOServerHelper,
    };

    #[test]
    fn an_authenticator_is_required() {
        assert!(matches!(
            SocketIOServerHelper::builder().build(),
            Err(BuildError::MissingAuthenticator)
        ));
    }

    /// Both closure styles are accepted: `|x| async move {}` and `async |x| {}`.
    #[tokio::test]
    async fn async_closures_and_closures_returning_futures_are_callbacks() {
        let helper = SocketIOServerHelper::builder()
            .authenticate(async |hs: Handshake| {
                hs.bearer_token()
                    .map(Identity::new)
                    .ok_or_else(AuthError::missing_token)
            })
            .validate_rooms(async |req: JoinRequest| req.keep(|r| r.starts_with("public-")))
            .on_client_connected(async |client: AuthenticatedClient| {
                client.on("a", async |_c: AuthenticatedClient, _d: Value| {});
                client.on(
                    "b",
                    |_c: AuthenticatedClient, _d: Value, ack: Option<AckResponder>| async move {
                        if let Some(ack) = ack {
                            ack.send(&1)?;
                        }
                        Ok::<(), crate::ServerError>(())
                    },
                );
            })
            .on_client_disconnected(|_info: ClientInfo, _reason: String| async move {})
            .build();
        assert!(helper.is_ok());
    }
}
