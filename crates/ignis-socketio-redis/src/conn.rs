//! The subscriber: one dedicated SUBSCRIBE/PSUBSCRIBE connection per server
//! that reconnects and resubscribes, and the bounded start-up wait shared with
//! the publishing connections (`publish.rs`).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use crate::{config::RedisConfig, error::RedisAdapterError};

/// Runs `attempt` until it succeeds or `deadline` passes, waiting
/// `reconnect_min_delay` doubling up to `reconnect_max_delay` between attempts
/// (never past the deadline): start-up waits exactly as long as
/// `connect_timeout` says, and catches a Redis that comes up meanwhile.
pub(crate) async fn retry_until<T, F, Fut>(
    config: &RedisConfig,
    deadline: tokio::time::Instant,
    mut attempt: F,
) -> Result<T, RedisAdapterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RedisAdapterError>>,
{
    let mut delay = config.reconnect_min_delay;
    let mut last_error = None;
    loop {
        match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => last_error = Some(Box::new(e)),
            // An attempt cut short by the deadline says less than the one before.
            Err(_) => {}
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(RedisAdapterError::ConnectTimeout {
                target: config.display_target(),
                timeout: config.connect_timeout,
                last_error,
            });
        }
        tracing::debug!(target = %config.display_target(), error = ?last_error, "waiting for Redis");
        tokio::time::sleep_until((now + delay).min(deadline)).await;
        delay = next_delay(
            delay,
            config.reconnect_min_delay,
            config.reconnect_max_delay,
        );
    }
}

/// The wait after `delay`: twice as long, at least `min` and at most `max`.
fn next_delay(delay: Duration, min: Duration, max: Duration) -> Duration {
    delay.saturating_mul(2).max(min).min(max)
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
    /// Connects (until `deadline`, the end of the start-up wait) and starts
    /// the reader task, which hands every message to `dispatch`.
    pub(crate) async fn start(
        config: &RedisConfig,
        deadline: tokio::time::Instant,
        dispatch: Arc<dyn Fn(Incoming) + Send + Sync>,
    ) -> Result<Self, RedisAdapterError> {
        let urls = config.urls();
        let pubsub = retry_until(config, deadline, || open_pubsub(&urls)).await?;
        let health = Arc::new(SubscriberHealth::default());
        health.connected.store(true, Ordering::SeqCst);
        let (commands, rx) = mpsc::unbounded_channel();
        let task = SubscriberTask {
            commands: rx,
            dispatch,
            health: health.clone(),
            urls,
            min_delay: config.reconnect_min_delay,
            max_delay: config.reconnect_max_delay,
            target: config.display_target(),
            channels: HashMap::new(),
            patterns: HashMap::new(),
        };
        let task = tokio::spawn(task.run(pubsub));
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

/// The subscriber's task: it owns the connection, what is subscribed, and the
/// reconnection state.
struct SubscriberTask {
    commands: mpsc::UnboundedReceiver<SubscriberCommand>,
    dispatch: Arc<dyn Fn(Incoming) + Send + Sync>,
    health: Arc<SubscriberHealth>,
    urls: Vec<String>,
    min_delay: Duration,
    max_delay: Duration,
    /// The Redis target, for logs.
    target: String,
    /// Reference counts: several namespaces never share a channel, but a closed and
    /// re-created namespace must not drop the subscription of its successor.
    channels: HashMap<String, usize>,
    patterns: HashMap<String, usize>,
}

/// Why a connection's read loop ended.
enum Ended {
    /// Lost (stream end or unanswered PING): reconnect.
    Lost,
    /// Every `Subscriber` handle is gone: stop.
    Stopped,
}

impl SubscriberTask {
    /// Reads `first`, then reconnects and resubscribes whenever the connection
    /// is lost, until the `Subscriber` is dropped.
    async fn run(mut self, first: redis::aio::PubSub) {
        let mut next = Some(first);
        // The first attempt after a loss is immediate; then min_delay doubling
        // up to max_delay, which bounds how long after Redis returns this server
        // resubscribes.
        let mut delay = Duration::ZERO;
        let mut failures = 0u32;
        loop {
            let pubsub = match next.take() {
                Some(p) => p,
                None => match open_pubsub(&self.urls).await {
                    Ok(p) => p,
                    Err(e) => {
                        delay = next_delay(delay, self.min_delay, self.max_delay);
                        if failures == 0 {
                            tracing::warn!(target = %self.target, error = %e, retry_every = ?self.max_delay, "Redis subscriber reconnect failed; retrying");
                        } else {
                            tracing::debug!(target = %self.target, error = %e, retry_in = ?delay, "Redis subscriber reconnect failed");
                        }
                        failures += 1;
                        if self.wait_offline(delay).await.is_err() {
                            return;
                        }
                        continue;
                    }
                },
            };
            let (mut sink, stream) = pubsub.split();
            if let Err(e) = self.resubscribe(&mut sink).await {
                tracing::warn!(target = %self.target, error = %e, "Redis resubscription failed");
                delay = next_delay(delay, self.min_delay, self.max_delay);
                tokio::time::sleep(delay).await;
                continue;
            }
            if !self.health.connected.swap(true, Ordering::SeqCst) {
                self.health.reconnects.fetch_add(1, Ordering::SeqCst);
                tracing::info!(target = %self.target, channels = self.channels.len(), patterns = self.patterns.len(), failed_attempts = failures, "Redis subscriber reconnected and resubscribed");
            }
            delay = Duration::ZERO;
            failures = 0u32;
            if let Ended::Stopped = self.read(sink, stream).await {
                return;
            }
            self.health.connected.store(false, Ordering::SeqCst);
            tracing::warn!(target = %self.target, "Redis subscriber connection lost; reconnecting");
        }
    }

    /// Sleeps `delay`, recording subscriptions meanwhile; `Err` when every
    /// `Subscriber` handle is gone.
    async fn wait_offline(&mut self, delay: Duration) -> Result<(), ()> {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return Ok(()),
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => apply_offline(cmd, &mut self.channels, &mut self.patterns),
                    None => return Err(()),
                },
            }
        }
    }

    /// Subscribes a new connection to everything recorded.
    async fn resubscribe(&self, sink: &mut redis::aio::PubSubSink) -> redis::RedisResult<()> {
        let wanted_channels: BTreeSet<&str> = self.channels.keys().map(String::as_str).collect();
        let wanted_patterns: BTreeSet<&str> = self.patterns.keys().map(String::as_str).collect();
        if !wanted_channels.is_empty() {
            sink.subscribe(wanted_channels.into_iter().collect::<Vec<_>>())
                .await?;
        }
        if !wanted_patterns.is_empty() {
            sink.psubscribe(wanted_patterns.into_iter().collect::<Vec<_>>())
                .await?;
        }
        Ok(())
    }

    /// Hands messages to `dispatch` and applies commands until the
    /// connection is lost or the `Subscriber` is dropped.
    async fn read(
        &mut self,
        mut sink: redis::aio::PubSubSink,
        mut stream: redis::aio::PubSubStream,
    ) -> Ended {
        // A half-open TCP connection never ends the stream; a periodic PING notices it.
        let mut health_check = tokio::time::interval(HEALTH_CHECK_INTERVAL);
        health_check.tick().await;
        loop {
            tokio::select! {
                _ = health_check.tick() => {
                    let pong = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        tracing::warn!(target = %self.target, "Redis subscriber did not answer PING");
                        return Ended::Lost;
                    }
                }
                msg = stream.next() => match msg {
                    Some(msg) => {
                        let pattern = if msg.from_pattern() { msg.get_pattern::<String>().ok() } else { None };
                        (self.dispatch)(Incoming {
                            channel: msg.get_channel_name().to_owned(),
                            pattern,
                            payload: msg.get_payload_bytes().to_vec(),
                        });
                    }
                    None => return Ended::Lost,
                },
                cmd = self.commands.recv() => match cmd {
                    None => return Ended::Stopped,
                    Some(cmd) => self.apply(&mut sink, cmd).await,
                },
            }
        }
    }

    /// Applies a command on a live connection.
    async fn apply(&mut self, sink: &mut redis::aio::PubSubSink, cmd: SubscriberCommand) {
        match cmd {
            SubscriberCommand::Subscribe {
                channels: new_channels,
                patterns: new_patterns,
                done,
            } => {
                let fresh: Vec<String> = new_channels
                    .iter()
                    .filter(|c| !self.channels.contains_key(*c))
                    .cloned()
                    .collect();
                let fresh_patterns: Vec<String> = new_patterns
                    .iter()
                    .filter(|p| !self.patterns.contains_key(*p))
                    .cloned()
                    .collect();
                let result = async {
                    if !fresh.is_empty() {
                        sink.subscribe(&fresh).await?;
                    }
                    if !fresh_patterns.is_empty() {
                        sink.psubscribe(&fresh_patterns).await?;
                    }
                    Ok::<_, redis::RedisError>(())
                }
                .await;
                for c in new_channels {
                    *self.channels.entry(c).or_default() += 1;
                }
                for p in new_patterns {
                    *self.patterns.entry(p).or_default() += 1;
                }
                let _ = done.send(result.map_err(RedisAdapterError::from));
            }
            SubscriberCommand::Unsubscribe {
                channels: old_channels,
                patterns: old_patterns,
            } => {
                let gone = release(&mut self.channels, old_channels);
                let gone_patterns = release(&mut self.patterns, old_patterns);
                if !gone.is_empty() {
                    let _ = sink.unsubscribe(&gone).await;
                }
                if !gone_patterns.is_empty() {
                    let _ = sink.punsubscribe(&gone_patterns).await;
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_between_the_bounds_and_never_panic() {
        let (min, max) = (Duration::from_millis(25), Duration::from_millis(100));
        assert_eq!(next_delay(Duration::ZERO, min, max), min);
        assert_eq!(next_delay(min, min, max), Duration::from_millis(50));
        assert_eq!(next_delay(Duration::from_millis(80), min, max), max);
        // A minimum above the maximum is a configuration mistake, not a panic.
        assert_eq!(next_delay(Duration::ZERO, max, min), min);
        assert_eq!(next_delay(Duration::MAX, min, max), max);
    }
}
