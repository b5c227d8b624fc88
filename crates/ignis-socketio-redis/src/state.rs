//! The shared adapter state: the publishing connections and one subscriber per server,
//! the namespace routing table, the server-side-emit handlers and the socket
//! details registry that answers Node's `fetchSockets`.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock, RwLock, Weak, atomic::Ordering},
};

use ignis_socketio_engine::io::HandshakeSource;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How long a registered socket's details survive without the namespace listing it.
const PRUNE_GRACE: Duration = Duration::from_secs(30);

use crate::{
    config::RedisConfig,
    conn::{Incoming, Subscriber},
    delivery::RedisCounters,
    emitter::RedisEmitter,
    error::RedisAdapterError,
    ns::{ChannelKind, NsHandler},
    publish::RedisConnection,
};

/// What a server-side-emit handler receives.
pub struct ServerSideEvent {
    /// The event name.
    pub event: String,
    /// The arguments after the event name.
    pub args: Vec<serde_json::Value>,
    /// Present when the sender waits for an answer.
    pub ack: Option<ServerSideAck>,
}

impl std::fmt::Debug for ServerSideEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSideEvent")
            .field("event", &self.event)
            .field("args", &self.args)
            .field("wants_ack", &self.ack.is_some())
            .finish()
    }
}

/// Answers a server-side emit once (`{type:6, requestId, data}` on the generic
/// response channel, as Node does). Later calls are ignored.
#[derive(Clone)]
pub struct ServerSideAck {
    pub(crate) inner: Arc<crate::ns::AckReply>,
}

impl ServerSideAck {
    /// Sends `data` back to the emitting server.
    pub async fn send(&self, data: serde_json::Value) -> Result<(), RedisAdapterError> {
        self.inner.send(data).await
    }
}

/// A server-side-emit handler.
pub type ServerSideHandler = Arc<dyn Fn(ServerSideEvent) + Send + Sync>;

/// The handshake and data of a local socket, as Node's `fetchSockets` returns them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketDetails {
    /// Node's `socket.handshake` (headers, time, address, url, query, auth...).
    pub handshake: serde_json::Value,
    /// Node's `socket.data`.
    pub data: serde_json::Value,
}

impl SocketDetails {
    /// Builds Node's handshake object from the HTTP request that opened the
    /// connection and the CONNECT auth payload, with the engine's
    /// [`HandshakeSource`] (the server helper's `Handshake::to_node_json` too).
    pub fn from_request(
        parts: &http::request::Parts,
        auth: serde_json::Value,
        data: serde_json::Value,
    ) -> Self {
        Self {
            handshake: HandshakeSource::from_parts(parts, &auth).to_node_json(),
            data,
        }
    }
}

/// Health of the Redis connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisHealth {
    /// The subscriber connection is up and subscribed.
    pub subscriber_connected: bool,
    /// How many times the subscriber reconnected since start-up.
    pub reconnects: u64,
    /// `close()` was called.
    pub closed: bool,
    /// How many servers the last publish (or server count) of a namespace
    /// found missing from its fleet: servers seen subscribed before that are
    /// not now, typically resubscribing after a Redis restart. Messages sent
    /// meanwhile do not reach their clients. 0 when every server was reached;
    /// a server still missing after `RedisConfig::fleet_grace` counts as gone.
    pub missing_servers: usize,
}

impl RedisHealth {
    /// True when the fleet can receive now: subscribed, not closed, and no
    /// server missing from the last publish.
    pub fn fleet_reachable(&self) -> bool {
        self.subscriber_connected && !self.closed && self.missing_servers == 0
    }
}

/// Socket id -> its details and when they were registered.
pub(crate) type SocketRegistry = HashMap<String, (SocketDetails, Instant)>;

#[derive(Default)]
pub(crate) struct Routes {
    pub(crate) channels: HashMap<String, (ChannelKind, Weak<dyn NsHandler>)>,
    pub(crate) patterns: HashMap<String, (ChannelKind, Weak<dyn NsHandler>)>,
}

pub(crate) struct Shared {
    pub(crate) config: RedisConfig,
    pub(crate) conn: RedisConnection,
    pub(crate) subscriber: OnceLock<Subscriber>,
    pub(crate) routes: RwLock<Routes>,
    pub(crate) namespaces: RwLock<HashMap<String, Weak<dyn NsHandler>>>,
    pub(crate) sse_handlers: RwLock<HashMap<String, Vec<ServerSideHandler>>>,
    pub(crate) sockets: RwLock<HashMap<String, SocketRegistry>>,
    pub(crate) closed: std::sync::atomic::AtomicBool,
    /// Requests to the other servers in flight and their durations.
    pub(crate) requests: crate::metrics::RequestMetrics,
}

impl Shared {
    fn dispatch(&self, msg: Incoming) {
        let route = {
            let Ok(routes) = self.routes.read() else {
                return;
            };
            match &msg.pattern {
                Some(pattern) => routes.patterns.get(pattern).cloned(),
                None => routes.channels.get(&msg.channel).cloned(),
            }
        };
        if let Some((kind, handler)) = route
            && let Some(handler) = handler.upgrade()
        {
            handler.on_message(kind, &msg.channel, &msg.payload);
        }
    }

    pub(crate) fn socket_details(&self, nsp: &str, sid: &str) -> SocketDetails {
        self.sockets
            .read()
            .ok()
            .and_then(|map| {
                map.get(nsp)
                    .and_then(|m| m.get(sid))
                    .map(|(d, _)| d.clone())
            })
            .unwrap_or_else(|| SocketDetails {
                handshake: serde_json::json!({
                    "headers": {}, "time": "", "address": "", "xdomain": false, "secure": false,
                    "issued": 0, "url": "", "query": {}, "auth": {}
                }),
                data: serde_json::Value::Null,
            })
    }

    fn namespace(&self, nsp: &str) -> Result<Arc<dyn NsHandler>, RedisAdapterError> {
        self.namespaces
            .read()
            .ok()
            .and_then(|map| map.get(nsp).and_then(Weak::upgrade))
            .ok_or_else(|| RedisAdapterError::UnknownNamespace(nsp.to_owned()))
    }
}

/// The adapter state: pass it to `SocketIo::builder().with_adapter::<RedisAdapter<_>>(state)`
/// (or the server helper's `build_with_adapter`). Cheap to clone; keep a clone to
/// reach the APIs the engine's adapter trait has no place for (server-side emit, fetching Node
/// sockets by string id, health, close).
#[derive(Clone)]
pub struct RedisAdapterState {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisAdapterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapterState")
            .field("target", &self.shared.config.display_target())
            .field("key", &self.shared.config.key)
            .finish()
    }
}

/// A socket as `fetchSockets` sees it, on any server of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket id (20 characters on this engine and on Node).
    pub id: String,
    /// Node's handshake object.
    pub handshake: serde_json::Value,
    /// Every room of the socket, its own id room included.
    pub rooms: Vec<String>,
    /// Node's `socket.data`.
    pub data: serde_json::Value,
}

impl RedisAdapterState {
    /// Connects the publishing connections and the subscriber, waiting at most
    /// `config.connect_timeout` for Redis.
    pub async fn connect(config: RedisConfig) -> Result<Self, RedisAdapterError> {
        // One wait for both connections: start-up lasts `connect_timeout` at most.
        let deadline = tokio::time::Instant::now() + config.connect_timeout;
        let conn = RedisConnection::connect_until(&config, deadline).await?;
        let shared = Arc::new(Shared {
            config: config.clone(),
            conn,
            subscriber: OnceLock::new(),
            routes: RwLock::new(Routes::default()),
            namespaces: RwLock::new(HashMap::new()),
            sse_handlers: RwLock::new(HashMap::new()),
            sockets: RwLock::new(HashMap::new()),
            closed: false.into(),
            requests: Default::default(),
        });
        let weak = Arc::downgrade(&shared);
        let dispatch = Arc::new(move |msg: Incoming| {
            if let Some(shared) = weak.upgrade() {
                shared.dispatch(msg);
            }
        });
        let subscriber = Subscriber::start(&config, deadline, dispatch).await?;
        let _ = shared.subscriber.set(subscriber);
        tracing::info!(target = %config.display_target(), key = %config.key, "Redis adapter connected");
        Ok(Self { shared })
    }

    /// Parses `address` (see [`RedisConfig`]) and connects with default options.
    pub async fn connect_url(address: &str) -> Result<Self, RedisAdapterError> {
        Self::connect(address.parse()?).await
    }

    /// The configuration in use.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.config
    }

    /// The publishing connection (shared with [`RedisAdapterState::emitter`]).
    pub fn connection(&self) -> &RedisConnection {
        &self.shared.conn
    }

    /// An emitter on the same connection and key prefix.
    pub fn emitter(&self) -> RedisEmitter {
        RedisEmitter::new(self.shared.conn.clone(), &self.shared.config.key)
    }

    /// Health of the Redis connections.
    pub fn health(&self) -> RedisHealth {
        let (connected, reconnects) = self
            .shared
            .subscriber
            .get()
            .map(|s| {
                (
                    s.health.connected.load(Ordering::SeqCst),
                    s.health.reconnects.load(Ordering::SeqCst),
                )
            })
            .unwrap_or((false, 0));
        let closed = self.shared.closed.load(Ordering::SeqCst);
        RedisHealth {
            subscriber_connected: connected && !closed,
            reconnects,
            closed,
            missing_servers: self.shared.conn.missing_servers(),
        }
    }

    /// Counters of the publishing connections and the subscriber since
    /// start-up (publishes, failures, publishes that reached fewer servers
    /// than the fleet has, reconnects), for metrics.
    pub fn counters(&self) -> RedisCounters {
        let mut counters = self.shared.conn.counters();
        counters.subscriber_reconnects = self.health().reconnects;
        counters
    }

    /// Registers the adapter's metrics in `registry`: publishes by outcome,
    /// reconnects, whether the subscriber is up, servers missing from the
    /// fleet, requests to the other servers in flight and their durations
    /// (names in `docs/operations.md`). Read on each scrape; the registry does
    /// not keep the connections open.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register_collector(Box::new(crate::metrics::RedisCollector(Arc::downgrade(
            &self.shared,
        ))));
    }

    /// True when the subscriber is connected and the state is not closed.
    pub fn is_healthy(&self) -> bool {
        self.health().subscriber_connected
    }

    /// Closes the Redis connections. Idempotent. Namespaces stop receiving remote
    /// messages and publishing fails with an error afterwards.
    pub async fn close(&self) {
        if self.shared.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(subscriber) = self.shared.subscriber.get() {
            subscriber.close();
        }
        self.shared.conn.close();
        tracing::info!("Redis adapter closed");
    }

    /// Records the handshake and data of a local socket, returned to
    /// `fetchSockets` of any server. Call it on connect; [`Self::unregister_socket`]
    /// on disconnect.
    ///
    /// Entries of sockets that left are also pruned now and then, so a missing
    /// `unregister_socket` does not leak.
    pub fn register_socket(&self, nsp: &str, sid: &str, details: SocketDetails) {
        let len = match self.shared.sockets.write() {
            Ok(mut map) => {
                let ns = map.entry(nsp.to_owned()).or_default();
                ns.insert(sid.to_owned(), (details, Instant::now()));
                ns.len()
            }
            Err(_) => return,
        };
        if len >= 64 && len.is_power_of_two() {
            self.prune_sockets(nsp);
        }
    }

    /// Drops the details of sockets that are no longer connected here. Recent
    /// entries are kept: a socket registers before the namespace lists it.
    fn prune_sockets(&self, nsp: &str) {
        let Ok(handler) = self.shared.namespace(nsp) else {
            return;
        };
        let live: std::collections::HashSet<String> = handler.local_ids().into_iter().collect();
        if let Ok(mut map) = self.shared.sockets.write()
            && let Some(ns) = map.get_mut(nsp)
        {
            ns.retain(|sid, (_, at)| live.contains(sid) || at.elapsed() < PRUNE_GRACE);
        }
    }

    /// Forgets a socket's details.
    pub fn unregister_socket(&self, nsp: &str, sid: &str) {
        if let Ok(mut map) = self.shared.sockets.write()
            && let Some(ns) = map.get_mut(nsp)
        {
            ns.remove(sid);
        }
    }

    /// Adds a handler for server-side emits (Node's `io.on("...")` of
    /// `serverSideEmit`) received in namespace `nsp`. Handlers run on the
    /// subscriber task: spawn anything slow (answering the ack is async, so
    /// `tokio::spawn(async move { ack.send(v).await })`).
    pub fn on_server_side_emit<F>(&self, nsp: &str, handler: F)
    where
        F: Fn(ServerSideEvent) + Send + Sync + 'static,
    {
        if let Ok(mut map) = self.shared.sse_handlers.write() {
            map.entry(nsp.to_owned())
                .or_default()
                .push(Arc::new(handler));
        }
    }

    /// Node's `serverSideEmit(event, ...args)` without acknowledgement: every other
    /// server of the namespace receives it.
    pub async fn server_side_emit(
        &self,
        nsp: &str,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<(), RedisAdapterError> {
        crate::emitter::check_event(event)?;
        self.shared
            .namespace(nsp)?
            .core()
            .server_side_emit(event, args)
            .await
    }

    /// Node's `serverSideEmitWithAck`: waits for one answer per other server,
    /// at most `requests_timeout`; a missing answer is a [`RedisAdapterError::Timeout`].
    pub async fn server_side_emit_with_ack(
        &self,
        nsp: &str,
        event: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, RedisAdapterError> {
        crate::emitter::check_event(event)?;
        self.shared
            .namespace(nsp)?
            .core()
            .server_side_emit_with_ack(event, args)
            .await
    }

    /// Node's `fetchSockets()` over the whole cluster, with string ids, handshake,
    /// rooms and data (the engine's `fetch_sockets` gives ids and rooms only).
    pub async fn fetch_sockets(
        &self,
        nsp: &str,
        rooms: Vec<String>,
        except: Vec<String>,
    ) -> Result<Vec<SocketInfo>, RedisAdapterError> {
        let handler = self.shared.namespace(nsp)?;
        let mut sockets = handler.local_sockets(&rooms, &except);
        sockets.extend(handler.core().remote_fetch(rooms, except).await?);
        Ok(sockets)
    }

    /// Node's `allRooms()`: every room of every server (unfiltered, like Node).
    pub async fn all_rooms(&self, nsp: &str) -> Result<Vec<String>, RedisAdapterError> {
        let handler = self.shared.namespace(nsp)?;
        let mut rooms = handler.local_rooms();
        rooms.extend(handler.core().remote_rooms().await?);
        rooms.sort();
        rooms.dedup();
        Ok(rooms)
    }

    /// Servers subscribed to the namespace (`PUBSUB NUMSUB`, this one included).
    pub async fn server_count(&self, nsp: &str) -> Result<usize, RedisAdapterError> {
        let handler = self.shared.namespace(nsp)?;
        handler.core().server_count().await
    }
}
