//! Redis connections: multiplexed connections for PUBLISH and `PUBSUB NUMSUB`,
//! taken from a deadpool-redis pool (single or cluster) and shared by every
//! command, and one dedicated
//! subscriber connection per server that reconnects with backoff and resubscribes.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use deadpool_redis::{PoolConfig, Runtime, Timeouts};
use futures_util::StreamExt;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};
use tokio::sync::{mpsc, oneshot};

use crate::{
    config::{RedisConfig, RedisTarget},
    error::RedisAdapterError,
};

enum Pool {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

/// A connection checked out of the pool and kept out: commands share it.
enum CheckedOut {
    Single(deadpool_redis::Connection),
    Cluster(deadpool_redis::cluster::Connection),
}

/// A clone of a checked-out multiplexed connection, for one command.
enum Multiplexed {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl CheckedOut {
    fn multiplexed(&self) -> Multiplexed {
        match self {
            CheckedOut::Single(conn) => Multiplexed::Single((**conn).clone()),
            CheckedOut::Cluster(conn) => Multiplexed::Cluster((**conn).clone()),
        }
    }
}

impl Multiplexed {
    async fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        match self {
            Multiplexed::Single(conn) => cmd.query_async(conn).await,
            Multiplexed::Cluster(conn) => cmd.query_async(conn).await,
        }
    }
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
    pool: Pool,
    /// `pool_size` multiplexed connections, taken from the pool when first
    /// needed and kept: every command on a connection taken from deadpool
    /// costs a recycle round trip (UNWATCH + PING) first, which doubled the
    /// latency of every PUBLISH and, with 4 connections, let only 4 run at once.
    /// A multiplexed connection carries any number of concurrent commands.
    slots: Box<[Mutex<Option<CheckedOut>>]>,
    next_slot: AtomicUsize,
}

/// A publishing connection to a single Redis or a Redis Cluster. Cheap to clone.
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
    /// Opens the pool and waits (up to `config.connect_timeout`) until Redis answers.
    pub async fn connect(config: &RedisConfig) -> Result<Self, RedisAdapterError> {
        config.validate()?;
        let command_timeout = Some(config.connect_timeout.min(Duration::from_secs(5)));
        let size = config.pool_size.max(1);
        let pool_config = PoolConfig {
            max_size: size,
            timeouts: Timeouts {
                wait: command_timeout,
                create: command_timeout,
                recycle: command_timeout,
            },
            ..PoolConfig::default()
        };
        let pool = match &config.target {
            RedisTarget::Single(url) => {
                let mut cfg = deadpool_redis::Config::from_url(url.clone());
                cfg.pool = Some(pool_config);
                Pool::Single(cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| {
                    RedisAdapterError::Config {
                        value: config.display_target(),
                        reason: e.to_string(),
                    }
                })?)
            }
            RedisTarget::Cluster(nodes) => {
                let mut cfg = deadpool_redis::cluster::Config::from_urls(nodes.clone());
                cfg.pool = Some(pool_config);
                Pool::Cluster(cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| {
                    RedisAdapterError::Config {
                        value: config.display_target(),
                        reason: e.to_string(),
                    }
                })?)
            }
        };
        let conn = Self {
            inner: Arc::new(Connections {
                pool,
                slots: (0..size).map(|_| Mutex::new(None)).collect(),
                next_slot: AtomicUsize::new(0),
            }),
            target: config.display_target(),
        };
        conn.wait_ready(config).await?;
        Ok(conn)
    }

    async fn wait_ready(&self, config: &RedisConfig) -> Result<(), RedisAdapterError> {
        let deadline = tokio::time::Instant::now() + config.connect_timeout;
        let mut delay = config.reconnect_min_delay;
        loop {
            let attempt = tokio::time::timeout_at(deadline, self.ping()).await;
            let last_error = match attempt {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".to_owned(),
            };
            if tokio::time::Instant::now() + delay >= deadline {
                return Err(RedisAdapterError::ConnectTimeout {
                    target: self.target.clone(),
                    timeout: config.connect_timeout,
                    last_error,
                });
            }
            tracing::warn!(target = %self.target, error = %last_error, "waiting for Redis");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(config.reconnect_max_delay);
        }
    }

    fn lock_slot(&self, slot: usize) -> std::sync::MutexGuard<'_, Option<CheckedOut>> {
        self.inner.slots[slot]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn is_closed(&self) -> bool {
        match &self.inner.pool {
            Pool::Single(pool) => pool.is_closed(),
            Pool::Cluster(pool) => pool.is_closed(),
        }
    }

    /// The multiplexed connection of `slot`, taken from the pool (health
    /// checked there) when the slot has none.
    async fn multiplexed(&self, slot: usize) -> Result<Multiplexed, RedisAdapterError> {
        if self.is_closed() {
            return Err(RedisAdapterError::Pool("Pool has been closed".to_owned()));
        }
        if let Some(conn) = self.lock_slot(slot).as_ref() {
            return Ok(conn.multiplexed());
        }
        let pool_error = |e: deadpool_redis::PoolError| RedisAdapterError::Pool(e.to_string());
        let checked = match &self.inner.pool {
            Pool::Single(pool) => CheckedOut::Single(pool.get().await.map_err(pool_error)?),
            Pool::Cluster(pool) => CheckedOut::Cluster(pool.get().await.map_err(pool_error)?),
        };
        let conn = checked.multiplexed();
        let mut guard = self.lock_slot(slot);
        // Another command may have filled the slot meanwhile; this one then
        // goes back to the pool once the command is done.
        if guard.is_none() {
            *guard = Some(checked);
        }
        Ok(conn)
    }

    /// Runs `run` on a kept connection. A connection found dropped (Redis
    /// restarted since its last command) goes back to the pool, whose health
    /// check replaces it, and the command runs once more on a fresh one, as
    /// ioredis resends its unfulfilled commands after a reconnect. A timeout
    /// is not retried: the command may have run.
    async fn with_connection<T, F, Fut>(&self, run: F) -> Result<T, RedisAdapterError>
    where
        F: Fn(Multiplexed) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let slot = self.inner.next_slot.fetch_add(1, Ordering::Relaxed) % self.inner.slots.len();
        let mut retried = false;
        loop {
            let conn = self.multiplexed(slot).await?;
            match run(conn).await {
                Err(error) if connection_lost(&error) => {
                    drop(self.lock_slot(slot).take());
                    if retried || error.is_timeout() {
                        return Err(error.into());
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
    /// cluster, those of the node that took the command).
    pub async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<u64, RedisAdapterError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(payload);
        self.query(&cmd).await
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

    /// Closes the pool: the connections are dropped, new commands fail.
    pub fn close(&self) {
        match &self.inner.pool {
            Pool::Single(pool) => pool.close(),
            Pool::Cluster(pool) => pool.close(),
        }
        for slot in 0..self.inner.slots.len() {
            drop(self.lock_slot(slot).take());
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

/// How often the subscriber connection is checked with PING.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(10);
/// How long a PING may take before the connection counts as lost.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One message read by the subscriber.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) channel: String,
    /// The pattern for messages received through PSUBSCRIBE.
    pub(crate) pattern: Option<String>,
    pub(crate) payload: Vec<u8>,
}

/// What the subscriber task is asked to do.
enum SubscriberCommand {
    Subscribe {
        channels: Vec<String>,
        patterns: Vec<String>,
        done: oneshot::Sender<Result<(), RedisAdapterError>>,
    },
    Unsubscribe {
        channels: Vec<String>,
        patterns: Vec<String>,
    },
}

/// Health of the subscriber connection.
#[derive(Debug, Default)]
pub(crate) struct SubscriberHealth {
    pub(crate) connected: AtomicBool,
    pub(crate) reconnects: AtomicU64,
}

/// The one SUBSCRIBE/PSUBSCRIBE connection of a server. Every namespace shares it,
/// so `PUBSUB NUMSUB` counts this server once.
pub(crate) struct Subscriber {
    commands: mpsc::UnboundedSender<SubscriberCommand>,
    pub(crate) health: Arc<SubscriberHealth>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connects (bounded by `connect_timeout`) and starts the reader task, which hands
    /// every message to `dispatch`.
    pub(crate) async fn start(
        config: &RedisConfig,
        dispatch: Arc<dyn Fn(Incoming) + Send + Sync>,
    ) -> Result<Self, RedisAdapterError> {
        let urls = config.urls();
        let deadline = tokio::time::Instant::now() + config.connect_timeout;
        let mut delay = config.reconnect_min_delay;
        let pubsub = loop {
            let last_error = match tokio::time::timeout_at(deadline, open_pubsub(&urls)).await {
                Ok(Ok(pubsub)) => break pubsub,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".to_owned(),
            };
            if tokio::time::Instant::now() + delay >= deadline {
                return Err(RedisAdapterError::ConnectTimeout {
                    target: config.display_target(),
                    timeout: config.connect_timeout,
                    last_error,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(config.reconnect_max_delay);
        };
        let health = Arc::new(SubscriberHealth::default());
        health.connected.store(true, Ordering::SeqCst);
        let (commands, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run_subscriber(
            pubsub,
            rx,
            dispatch,
            health.clone(),
            urls,
            config.reconnect_min_delay,
            config.reconnect_max_delay,
            config.display_target(),
        ));
        Ok(Self {
            commands,
            health,
            task,
        })
    }

    /// Adds subscriptions; resolves once Redis confirmed them (or, while
    /// disconnected, once they are recorded for the next reconnection).
    pub(crate) fn subscribe(
        &self,
        channels: Vec<String>,
        patterns: Vec<String>,
    ) -> oneshot::Receiver<Result<(), RedisAdapterError>> {
        let (done, rx) = oneshot::channel();
        let command = SubscriberCommand::Subscribe {
            channels,
            patterns,
            done,
        };
        if let Err(mpsc::error::SendError(SubscriberCommand::Subscribe { done, .. })) =
            self.commands.send(command)
        {
            let _ = done.send(Err(RedisAdapterError::Closed));
        }
        rx
    }

    /// Drops subscriptions.
    pub(crate) fn unsubscribe(&self, channels: Vec<String>, patterns: Vec<String>) {
        let _ = self
            .commands
            .send(SubscriberCommand::Unsubscribe { channels, patterns });
    }

    /// Stops the task and closes the connection.
    pub(crate) fn close(&self) {
        self.task.abort();
        self.health.connected.store(false, Ordering::SeqCst);
    }
}

async fn open_pubsub(urls: &[String]) -> Result<redis::aio::PubSub, RedisAdapterError> {
    let mut last = None;
    for url in urls {
        let attempt = async {
            let client = redis::Client::open(url.as_str())?;
            client.get_async_pubsub().await
        };
        match attempt.await {
            Ok(pubsub) => return Ok(pubsub),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or(RedisAdapterError::Closed, RedisAdapterError::Redis))
}

#[allow(clippy::too_many_arguments)]
async fn run_subscriber(
    first: redis::aio::PubSub,
    mut commands: mpsc::UnboundedReceiver<SubscriberCommand>,
    dispatch: Arc<dyn Fn(Incoming) + Send + Sync>,
    health: Arc<SubscriberHealth>,
    urls: Vec<String>,
    min_delay: Duration,
    max_delay: Duration,
    target: String,
) {
    // Reference counts: several namespaces never share a channel, but a closed and
    // re-created namespace must not drop the subscription of its successor.
    let mut channels: HashMap<String, usize> = HashMap::new();
    let mut patterns: HashMap<String, usize> = HashMap::new();
    let mut next = Some(first);
    let mut delay = min_delay;
    loop {
        let pubsub = match next.take() {
            Some(p) => p,
            None => match open_pubsub(&urls).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(target = %target, error = %e, retry_in = ?delay, "Redis subscriber reconnect failed");
                    // Keep recording subscriptions while waiting.
                    let sleep = tokio::time::sleep(delay);
                    tokio::pin!(sleep);
                    loop {
                        tokio::select! {
                            _ = &mut sleep => break,
                            cmd = commands.recv() => match cmd {
                                Some(cmd) => apply_offline(cmd, &mut channels, &mut patterns),
                                None => return,
                            },
                        }
                    }
                    delay = (delay * 2).min(max_delay);
                    continue;
                }
            },
        };
        let (mut sink, mut stream) = pubsub.split();
        let wanted_channels: BTreeSet<&String> = channels.keys().collect();
        let wanted_patterns: BTreeSet<&String> = patterns.keys().collect();
        let resubscribed = async {
            if !wanted_channels.is_empty() {
                sink.subscribe(
                    wanted_channels
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>(),
                )
                .await?;
            }
            if !wanted_patterns.is_empty() {
                sink.psubscribe(
                    wanted_patterns
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>(),
                )
                .await?;
            }
            Ok::<_, redis::RedisError>(())
        }
        .await;
        if let Err(e) = resubscribed {
            tracing::warn!(target = %target, error = %e, "Redis resubscription failed");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(max_delay);
            continue;
        }
        if !health.connected.swap(true, Ordering::SeqCst) {
            health.reconnects.fetch_add(1, Ordering::SeqCst);
            tracing::info!(target = %target, channels = channels.len(), patterns = patterns.len(), "Redis subscriber reconnected and resubscribed");
        }
        delay = min_delay;
        // A half-open TCP connection never ends the stream; a periodic PING notices it.
        let mut health_check = tokio::time::interval(HEALTH_CHECK_INTERVAL);
        health_check.tick().await;
        loop {
            tokio::select! {
                _ = health_check.tick() => {
                    let pong = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        tracing::warn!(target = %target, "Redis subscriber did not answer PING");
                        break;
                    }
                }
                msg = stream.next() => match msg {
                    Some(msg) => {
                        let pattern = if msg.from_pattern() { msg.get_pattern::<String>().ok() } else { None };
                        dispatch(Incoming {
                            channel: msg.get_channel_name().to_owned(),
                            pattern,
                            payload: msg.get_payload_bytes().to_vec(),
                        });
                    }
                    None => break,
                },
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(SubscriberCommand::Subscribe { channels: new_channels, patterns: new_patterns, done }) => {
                        let result = async {
                            let fresh: Vec<String> = new_channels.iter().filter(|c| !channels.contains_key(*c)).cloned().collect();
                            let fresh_patterns: Vec<String> = new_patterns.iter().filter(|p| !patterns.contains_key(*p)).cloned().collect();
                            if !fresh.is_empty() { sink.subscribe(&fresh).await?; }
                            if !fresh_patterns.is_empty() { sink.psubscribe(&fresh_patterns).await?; }
                            Ok::<_, redis::RedisError>(())
                        }.await;
                        for c in new_channels { *channels.entry(c).or_default() += 1; }
                        for p in new_patterns { *patterns.entry(p).or_default() += 1; }
                        let _ = done.send(result.map_err(RedisAdapterError::from));
                    }
                    Some(SubscriberCommand::Unsubscribe { channels: old_channels, patterns: old_patterns }) => {
                        let gone = release(&mut channels, old_channels);
                        let gone_patterns = release(&mut patterns, old_patterns);
                        if !gone.is_empty() { let _ = sink.unsubscribe(&gone).await; }
                        if !gone_patterns.is_empty() { let _ = sink.punsubscribe(&gone_patterns).await; }
                    }
                },
            }
        }
        health.connected.store(false, Ordering::SeqCst);
        tracing::warn!(target = %target, "Redis subscriber connection lost; reconnecting");
        tokio::time::sleep(delay).await;
    }
}

fn apply_offline(
    cmd: SubscriberCommand,
    channels: &mut HashMap<String, usize>,
    patterns: &mut HashMap<String, usize>,
) {
    match cmd {
        SubscriberCommand::Subscribe {
            channels: c,
            patterns: p,
            done,
        } => {
            for c in c {
                *channels.entry(c).or_default() += 1;
            }
            for p in p {
                *patterns.entry(p).or_default() += 1;
            }
            let _ = done.send(Ok(()));
        }
        SubscriberCommand::Unsubscribe {
            channels: c,
            patterns: p,
        } => {
            release(channels, c);
            release(patterns, p);
        }
    }
}

/// Decrements reference counts; returns the names no longer used.
fn release(counts: &mut HashMap<String, usize>, names: Vec<String>) -> Vec<String> {
    let mut gone = Vec::new();
    for name in names {
        if let Some(n) = counts.get_mut(&name) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&name);
                gone.push(name);
            }
        }
    }
    gone
}
