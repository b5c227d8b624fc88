//! The publishing side: `pool_size` multiplexed connections (single Redis or
//! Cluster) for PUBLISH and `PUBSUB NUMSUB`, opened directly (no pool to wait
//! for), shared by every concurrent command, and replaced when lost.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use futures_util::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};

use crate::{
    config::{RedisConfig, RedisTarget},
    delivery::{Counters, FleetTracker, Reach, RedisCounters},
    error::RedisAdapterError,
    in_flight::InFlight,
};

/// How a connection is opened.
#[derive(Clone)]
enum Client {
    Single(redis::Client),
    Cluster(Box<redis::cluster::ClusterClient>),
}

/// A multiplexed connection: clones share it and carry concurrent commands.
#[derive(Clone)]
enum Multiplexed {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Multiplexed {
    async fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        match self {
            Multiplexed::Single(conn) => cmd.query_async(conn).await,
            Multiplexed::Cluster(conn) => cmd.query_async(conn).await,
        }
    }
}

/// One opening of a slot's connection, awaited by every command that needs
/// the slot meanwhile: concurrent commands never open more than one connection
/// per slot, and all learn at once when it cannot be opened.
type Opening = Shared<BoxFuture<'static, Result<Multiplexed, redis::RedisError>>>;

enum SlotState {
    Empty,
    Opening(u64, Opening),
    Ready(u64, Multiplexed),
}

struct Slot {
    state: SlotState,
    /// Bumped at every opening, so a failure on an old connection does not
    /// throw away its replacement.
    generation: u64,
    /// A connection was open in this slot before (a new one is a reconnect).
    opened_before: bool,
}

/// Whether an error means the connection itself is unusable (and must be
/// replaced), rather than that one command failed.
fn connection_lost(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || error.is_unrecoverable_error()
}

struct Connections {
    client: Client,
    slots: Box<[Mutex<Slot>]>,
    next_slot: AtomicUsize,
    closed: AtomicBool,
    counters: Counters,
    fleets: FleetTracker,
    in_flight: InFlight,
}

/// The publishing connections to a single Redis or a Redis Cluster. Cheap to
/// clone; clones share the connections and the counters.
///
/// `pool_size` multiplexed connections are opened at start-up; commands are
/// spread over them and never wait for one another. A connection found lost
/// is replaced by the next command that needs it; while Redis is unreachable
/// every command fails at once with the connection error.
#[derive(Clone)]
pub struct RedisConnection {
    inner: Arc<Connections>,
    target: String,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection")
            .field("target", &self.target)
            .finish()
    }
}

impl RedisConnection {
    /// Opens the connections, waiting (up to `config.connect_timeout`) until
    /// Redis answers.
    pub async fn connect(config: &RedisConfig) -> Result<Self, RedisAdapterError> {
        let deadline = tokio::time::Instant::now() + config.connect_timeout;
        Self::connect_until(config, deadline).await
    }

    /// [`RedisConnection::connect`] with a deadline shared with the subscriber.
    pub(crate) async fn connect_until(
        config: &RedisConfig,
        deadline: tokio::time::Instant,
    ) -> Result<Self, RedisAdapterError> {
        config.validate()?;
        let invalid = |e: redis::RedisError| RedisAdapterError::Config {
            value: config.display_target(),
            reason: e.to_string(),
        };
        let client = match &config.target {
            RedisTarget::Single(url) => {
                Client::Single(redis::Client::open(url.as_str()).map_err(invalid)?)
            }
            RedisTarget::Cluster(nodes) => Client::Cluster(Box::new(
                redis::cluster::ClusterClientBuilder::new(nodes.clone())
                    .build()
                    .map_err(invalid)?,
            )),
        };
        let size = config.pool_size.max(1);
        let conn = Self {
            inner: Arc::new(Connections {
                client,
                slots: (0..size)
                    .map(|_| {
                        Mutex::new(Slot {
                            state: SlotState::Empty,
                            generation: 0,
                            opened_before: false,
                        })
                    })
                    .collect(),
                next_slot: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
                counters: Counters::default(),
                fleets: FleetTracker::new(config.fleet_grace),
                in_flight: InFlight::new(config.max_in_flight_publishes),
            }),
            target: config.display_target(),
        };
        crate::conn::retry_until(config, deadline, || conn.ping()).await?;
        // Open the other connections now, so the first burst of sends finds
        // them ready; one that fails is opened by the first command needing it.
        let others = (1..size).map(|slot| conn.live(slot));
        let _ = tokio::time::timeout_at(deadline, futures_util::future::join_all(others)).await;
        Ok(conn)
    }

    fn lock_slot(&self, slot: usize) -> std::sync::MutexGuard<'_, Slot> {
        self.inner.slots[slot]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self) -> Opening {
        let client = self.inner.client.clone();
        async move {
            match client {
                Client::Single(client) => client
                    .get_multiplexed_async_connection()
                    .await
                    .map(Multiplexed::Single),
                Client::Cluster(client) => client
                    .get_async_connection()
                    .await
                    .map(Multiplexed::Cluster),
            }
        }
        .boxed()
        .shared()
    }

    /// The connection of `slot` and its generation, opened (once for all the
    /// commands waiting) when the slot has none.
    async fn live(&self, slot: usize) -> Result<(u64, Multiplexed), RedisAdapterError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(RedisAdapterError::Closed);
        }
        let (generation, opening) = {
            let mut guard = self.lock_slot(slot);
            match &guard.state {
                SlotState::Ready(generation, conn) => return Ok((*generation, conn.clone())),
                SlotState::Opening(generation, opening) => (*generation, opening.clone()),
                SlotState::Empty => {
                    guard.generation += 1;
                    let opening = self.open();
                    guard.state = SlotState::Opening(guard.generation, opening.clone());
                    (guard.generation, opening)
                }
            }
        };
        let opened = opening.await;
        let mut guard = self.lock_slot(slot);
        let current = matches!(&guard.state, SlotState::Opening(g, _) if *g == generation);
        match opened {
            Ok(conn) => {
                if current {
                    if guard.opened_before {
                        Counters::bump(&self.inner.counters.publisher_reconnects);
                        tracing::info!(target = %self.target, slot, "Redis publishing connection reopened");
                    }
                    guard.opened_before = true;
                    guard.state = SlotState::Ready(generation, conn.clone());
                }
                Ok((generation, conn))
            }
            Err(error) => {
                if current {
                    guard.state = SlotState::Empty;
                }
                Err(RedisAdapterError::Unavailable {
                    target: self.target.clone(),
                    source: error,
                })
            }
        }
    }

    /// Forgets the connection of `slot` if it is still the one of `generation`.
    fn drop_connection(&self, slot: usize, generation: u64) {
        let mut guard = self.lock_slot(slot);
        if matches!(&guard.state, SlotState::Ready(g, _) if *g == generation) {
            guard.state = SlotState::Empty;
        }
    }

    /// Runs `run` on a kept connection. A connection found dropped (Redis
    /// restarted since its last command) is replaced and the command runs once
    /// more on the new one, as ioredis resends its unfulfilled commands after a
    /// reconnect. A timeout is not retried: the command may have run.
    async fn with_connection<T, F, Fut>(&self, run: F) -> Result<T, RedisAdapterError>
    where
        F: Fn(Multiplexed) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let slot = self.inner.next_slot.fetch_add(1, Ordering::Relaxed) % self.inner.slots.len();
        let mut retried = false;
        loop {
            let (generation, conn) = self.live(slot).await?;
            match run(conn).await {
                Err(error) if connection_lost(&error) => {
                    self.drop_connection(slot, generation);
                    if retried || error.is_timeout() {
                        return Err(RedisAdapterError::NoReply {
                            target: self.target.clone(),
                            source: error,
                        });
                    }
                    retried = true;
                }
                result => return Ok(result?),
            }
        }
    }

    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, RedisAdapterError> {
        self.with_connection(|mut conn| async move { conn.query(cmd).await })
            .await
    }

    /// Sends `PING`.
    pub async fn ping(&self) -> Result<(), RedisAdapterError> {
        let _: String = self.query(&redis::cmd("PING")).await?;
        Ok(())
    }

    /// `PUBLISH channel payload`; returns how many subscribers received it (on a
    /// cluster, those of the node that took the command). When
    /// [`RedisConfig::max_in_flight_publishes`] are in flight, waits for one
    /// to be answered first.
    ///
    /// An error means the message was not published
    /// ([`RedisAdapterError::Unavailable`]: Redis unreachable, nothing sent), or
    /// that Redis did not answer ([`RedisAdapterError::NoReply`]: it may have
    /// been published).
    pub async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<u64, RedisAdapterError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(payload);
        let counters = &self.inner.counters;
        let Some(_place) = self.inner.in_flight.enter(counters, &self.target).await else {
            return Err(RedisAdapterError::Closed);
        };
        match self.query(&cmd).await {
            Ok(reached) => {
                Counters::bump(&counters.publishes);
                Ok(reached)
            }
            Err(error) => {
                Counters::bump(&counters.publish_failures);
                Err(error)
            }
        }
    }

    /// [`RedisConnection::publish`] to a channel every server of `fleet`
    /// subscribes to (broadcasts, requests): a reply with fewer subscribers
    /// than the servers seen in the fleet is counted and logged. Not on a
    /// Redis Cluster, whose PUBLISH counts only the subscribers of the node
    /// that took it.
    pub(crate) async fn publish_to_fleet(
        &self,
        fleet: &str,
        channel: &str,
        payload: Vec<u8>,
    ) -> Result<Reach, RedisAdapterError> {
        let reached = self.publish(channel, payload).await?;
        if matches!(self.inner.client, Client::Cluster(_)) {
            return Ok(Reach::Complete);
        }
        let reach = self
            .inner
            .fleets
            .observe(fleet, usize::try_from(reached).unwrap_or(usize::MAX));
        if let Reach::Short { reached, expected } = reach {
            Counters::bump(&self.inner.counters.short_publishes);
            tracing::warn!(target = %self.target, channel, reached, expected, "PUBLISH reached fewer servers than the fleet has");
        }
        Ok(reach)
    }

    /// `PUBSUB NUMSUB channel`, summed over every master of a cluster (as Node does).
    pub async fn numsub(&self, channel: &str) -> Result<usize, RedisAdapterError> {
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg("NUMSUB").arg(channel);
        let cmd = &cmd;
        self.with_connection(|conn| async move {
            match conn {
                Multiplexed::Single(mut conn) => {
                    let (_, count): (String, usize) = cmd.query_async(&mut conn).await?;
                    Ok(count)
                }
                Multiplexed::Cluster(mut conn) => {
                    let reply = conn
                        .route_command(
                            cmd.clone(),
                            RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                        )
                        .await?;
                    Ok(sum_numsub(reply))
                }
            }
        })
        .await
    }

    /// `PUBSUB NUMSUB` of a fleet's request channel; the count also updates
    /// what the fleet is known to hold.
    pub(crate) async fn fleet_size(
        &self,
        fleet: &str,
        channel: &str,
    ) -> Result<usize, RedisAdapterError> {
        let count = self.numsub(channel).await?;
        self.inner.fleets.observe(fleet, count);
        Ok(count)
    }

    /// How many servers the fleets published to miss now (see
    /// [`RedisHealth::missing_servers`](crate::RedisHealth::missing_servers)).
    pub(crate) fn missing_servers(&self) -> usize {
        self.inner.fleets.missing()
    }

    /// The counters of the publishing side (`subscriber_reconnects` is 0 here).
    pub fn counters(&self) -> RedisCounters {
        self.inner.counters.snapshot()
    }

    /// Closes the connections: new commands fail with [`RedisAdapterError::Closed`].
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.in_flight.close();
        for slot in 0..self.inner.slots.len() {
            self.lock_slot(slot).state = SlotState::Empty;
        }
    }
}

/// Sums the per-node `[channel, count]` replies of a multi-node NUMSUB.
fn sum_numsub(reply: redis::Value) -> usize {
    fn count_of(node_reply: &redis::Value) -> usize {
        match node_reply {
            redis::Value::Array(items) => items
                .get(1)
                .and_then(|v| redis::from_redis_value_ref::<usize>(v).ok())
                .unwrap_or(0),
            _ => 0,
        }
    }
    match reply {
        redis::Value::Map(entries) => entries.iter().map(|(_, v)| count_of(v)).sum(),
        other => count_of(&other),
    }
}
