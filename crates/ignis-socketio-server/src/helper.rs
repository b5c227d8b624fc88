//! The public handle and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use ignis_socketio_protocol::{JoinAck, LeaveAck, validate_event_name};
use serde::Serialize;

use crate::builder::ServerBuilder;
use crate::types::{Core, Engine, SocketIOServerHelper};
use crate::{AckReply, ClientInfo, Payload, ServerError, ServerOptions, Target};

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
            connections_refused: core.admission.connections_refused(),
            origins_refused: core
                .admission
                .origins_refused
                .load(std::sync::atomic::Ordering::Relaxed),
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
            let admission = &engine.core().admission;
            let refusals = crate::metrics::Refusals {
                origin: admission
                    .origins_refused
                    .load(std::sync::atomic::Ordering::Relaxed),
                connection_cap: admission.connections_refused(),
            };
            Some((engine.core().clients(), engine.engine_counters(), refusals))
        });
        match self.core().metrics.collector(source) {
            Some(collector) => {
                registry.register_collector(Box::new(collector));
                true
            }
            None => false,
        }
    }

    /// The time limits for [`serve_with`](crate::serve_with) from these
    /// options ([`ServerOptions::header_read_timeout`],
    /// [`ServerOptions::body_read_timeout`]).
    pub fn serve_limits(&self) -> crate::ServeLimits {
        crate::ServeLimits {
            header_read_timeout: self.options().header_read_timeout,
            body_read_timeout: self.options().body_read_timeout,
        }
    }

    /// Connections that have not authenticated yet and hold a place under
    /// the caps on them (0 when no cap is set).
    pub fn unauthenticated_connections(&self) -> usize {
        self.core().admission.unauthenticated_held()
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_shut_down(&self) -> bool {
        self.core().is_shutting_down()
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
    /// Handshakes refused for being over a cap on unauthenticated
    /// connections ([`ServerOptions::max_unauthenticated_connections`],
    /// [`ServerOptions::max_unauthenticated_per_address`]).
    pub connections_refused: u64,
    /// Requests refused for their `Origin` ([`ServerOptions::allowed_origins`]).
    pub origins_refused: u64,
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
