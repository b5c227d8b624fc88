//! The adapter state a server keeps: connecting, health, the socket details
//! registry, and the fleet-wide operations the engine's adapter trait has no
//! place for (server-side emit, `fetchSockets` with details, `allRooms`).

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock, RwLock, atomic::Ordering},
    time::{Duration, Instant},
};

use crate::{
    adapter::RedisAdapter,
    collector::RedisCollector,
    config::RedisConfig,
    conn::{Incoming, Subscriber},
    delivery::RedisCounters,
    emitter::{RedisEmitter, check_event},
    error::RedisAdapterError,
    info::{RedisHealth, SocketDetails, SocketInfo},
    link::Link,
    publish::RedisConnection,
    server_side::ServerSideEvent,
    shared::{Routes, Shared},
};

/// How long a registered socket's details survive without the namespace listing it.
const PRUNE_GRACE: Duration = Duration::from_secs(30);

/// The adapter state: pass it to `SocketIo::builder().with_adapter::<RedisAdapter<_>>(state)`
/// (or the server helper's `build_with_adapter`). Cheap to clone; keep a clone to
/// reach the APIs the engine's adapter trait has no place for (server-side emit, fetching Node
/// sockets by string id, health, close).
#[derive(Clone)]
pub struct RedisAdapterState {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisAdapterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapterState")
            .field("target", &self.shared.link.config.display_target())
            .field("key", &self.shared.link.config.key)
            .finish()
    }
}

impl RedisAdapterState {
    /// Connects the publishing connections and the subscriber, waiting at most
    /// `config.connect_timeout` for Redis.
    pub async fn connect(config: RedisConfig) -> Result<Self, RedisAdapterError> {
        // One wait for both connections: start-up lasts `connect_timeout` at most.
        let deadline = tokio::time::Instant::now() + config.connect_timeout;
        let conn = RedisConnection::connect_until(&config, deadline).await?;
        let shared = Arc::new(Shared {
            link: Arc::new(Link {
                config: config.clone(),
                conn,
                closed: false.into(),
                requests: Default::default(),
            }),
            subscriber: OnceLock::new(),
            routes: RwLock::new(Routes::default()),
            namespaces: RwLock::new(HashMap::new()),
            sse_handlers: RwLock::new(HashMap::new()),
            sockets: RwLock::new(HashMap::new()),
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

    /// The adapter of namespace `nsp` (`"/"` for the main one), for the
    /// server helper or the engine.
    pub fn adapter(&self, nsp: &str) -> Arc<RedisAdapter> {
        RedisAdapter::new(self.shared.clone(), nsp)
    }

    /// The configuration in use.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.link.config
    }

    /// The publishing connection (shared with [`RedisAdapterState::emitter`]).
    pub fn connection(&self) -> &RedisConnection {
        &self.shared.link.conn
    }

    /// An emitter on the same connection and key prefix.
    pub fn emitter(&self) -> RedisEmitter {
        RedisEmitter::new(self.shared.link.conn.clone(), &self.shared.link.config.key)
    }

    /// Health of the Redis connections.
    pub fn health(&self) -> RedisHealth {
        self.shared.health()
    }

    /// Counters of the publishing connections and the subscriber since
    /// start-up (publishes, failures, publishes that reached fewer servers
    /// than the fleet has, reconnects), for metrics.
    pub fn counters(&self) -> RedisCounters {
        self.shared.counters()
    }

    /// Registers the adapter's metrics in `registry`: publishes by outcome,
    /// reconnects, whether the subscriber is up, servers missing from the
    /// fleet, requests to the other servers in flight and their durations
    /// (names in `docs/operations.md`). Read on each scrape; the registry does
    /// not keep the connections open.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register_collector(Box::new(RedisCollector(Arc::downgrade(&self.shared))));
    }

    /// True when the subscriber is connected and the state is not closed.
    pub fn is_healthy(&self) -> bool {
        self.health().subscriber_connected
    }

    /// Closes the Redis connections. Idempotent. Namespaces stop receiving remote
    /// messages and publishing fails with an error afterwards.
    pub async fn close(&self) {
        if self.shared.link.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(subscriber) = self.shared.subscriber.get() {
            subscriber.close();
        }
        self.shared.link.conn.close();
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
        check_event(event)?;
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
        check_event(event)?;
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
