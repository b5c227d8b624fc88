//! Connection settings: a single Redis or a Redis Cluster, and adapter options.

use std::{str::FromStr, time::Duration};

use crate::error::RedisAdapterError;

/// Where Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One Redis server: `redis://[:password@]host:port[/db]` (or `rediss://`).
    Single(String),
    /// A Redis Cluster, reached through these seed nodes.
    Cluster(Vec<String>),
}

/// Settings shared by the adapter and the emitter.
///
/// Parse one from text with [`str::parse`]: a single `redis://...` URL means a single
/// Redis, a comma-separated list of nodes means a Redis Cluster
/// (`redis://127.0.0.1:7000,redis://127.0.0.1:7001`; a node without a scheme gets
/// `redis://`). [`RedisConfig::cluster`] builds a cluster from one seed node.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Where Redis is.
    pub target: RedisTarget,
    /// The channel prefix, `key` in the Node packages. Default `socket.io`.
    pub key: String,
    /// How long to wait for the other servers' answers to a request
    /// (`requestsTimeout` in Node). Default 5 s.
    pub requests_timeout: Duration,
    /// How long start-up waits for Redis before failing. Default 10 s.
    pub connect_timeout: Duration,
    /// First delay between reconnection attempts (after an immediate first
    /// one); it doubles up to `reconnect_max_delay`. Default 25 ms.
    pub reconnect_min_delay: Duration,
    /// Longest delay between reconnection attempts of the subscriber, and of
    /// the start-up wait. It bounds how long after Redis comes back the
    /// subscriber resubscribes (plus the connection's own set-up). Default
    /// 100 ms: a refused connection costs Redis next to nothing.
    pub reconnect_max_delay: Duration,
    /// Answer requests on `K-response#N#<requester uid>#` instead of the generic
    /// response channel (`publishOnSpecificResponseChannel` in Node). Default false.
    pub publish_on_specific_response_channel: bool,
    /// How many multiplexed publishing connections commands are spread over
    /// (each carries any number of concurrent commands). Default 4.
    pub pool_size: usize,
    /// How many PUBLISH commands may be in flight at once (sent, or being
    /// sent, and not answered yet). Past it a publish waits, in order, for
    /// one to be answered: the caller (an event handler broadcasting) waits,
    /// so its client's next packets stay unread and TCP pushes back on the
    /// client, rather than commands and their payloads piling up in memory
    /// while Redis is slow. Waits are counted
    /// ([`RedisCounters::publish_waits`](crate::RedisCounters::publish_waits))
    /// and reported in one warning per 10 s at most. Default 256.
    pub max_in_flight_publishes: usize,
    /// How long a fleet (the servers sharing the key and a namespace) that
    /// PUBLISH finds smaller than before counts as missing servers, in
    /// [`RedisHealth::missing_servers`](crate::RedisHealth::missing_servers)
    /// and [`RedisCounters::short_publishes`](crate::RedisCounters::short_publishes).
    /// A server resubscribing after a Redis restart is back well within it;
    /// one still missing after it left the fleet. Default 10 s.
    pub fleet_grace: Duration,
}

impl RedisConfig {
    /// The default key prefix of the Node packages.
    pub const DEFAULT_KEY: &'static str = "socket.io";

    /// Settings for a single Redis at `url`.
    pub fn single(url: impl Into<String>) -> Self {
        Self::with_target(RedisTarget::Single(normalize_url(&url.into())))
    }

    /// Settings for a Redis Cluster reached through `nodes` (one is enough).
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_target(RedisTarget::Cluster(
            nodes
                .into_iter()
                .map(|n| normalize_url(&n.into()))
                .collect(),
        ))
    }

    fn with_target(target: RedisTarget) -> Self {
        Self {
            target,
            key: Self::DEFAULT_KEY.to_owned(),
            requests_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            reconnect_min_delay: Duration::from_millis(25),
            reconnect_max_delay: Duration::from_millis(100),
            publish_on_specific_response_channel: false,
            pool_size: 4,
            max_in_flight_publishes: 256,
            fleet_grace: Duration::from_secs(10),
        }
    }

    /// Sets the channel prefix (`key`).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Sets the request timeout.
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.requests_timeout = timeout;
        self
    }

    /// Sets the start-up timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The URLs to try, in order.
    pub fn urls(&self) -> Vec<String> {
        match &self.target {
            RedisTarget::Single(url) => vec![url.clone()],
            RedisTarget::Cluster(nodes) => nodes.clone(),
        }
    }

    /// Checks the URLs and the key.
    pub fn validate(&self) -> Result<(), RedisAdapterError> {
        if self.key.contains('#') {
            return Err(RedisAdapterError::Config {
                value: self.key.clone(),
                reason: "the key prefix cannot contain '#'".into(),
            });
        }
        let urls = self.urls();
        if urls.is_empty() {
            return Err(RedisAdapterError::Config {
                value: String::new(),
                reason: "no Redis node given".into(),
            });
        }
        for url in urls {
            redis::Client::open(url.as_str()).map_err(|e| RedisAdapterError::Config {
                value: url.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// A printable target without passwords, for logs and errors.
    pub(crate) fn display_target(&self) -> String {
        self.urls()
            .iter()
            .map(|u| redact(u))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl FromStr for RedisConfig {
    type Err = RedisAdapterError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let nodes: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let config = match nodes.as_slice() {
            [] => {
                return Err(RedisAdapterError::Config {
                    value: text.to_owned(),
                    reason: "empty Redis address".into(),
                });
            }
            [one] => Self::single(*one),
            many => Self::cluster(many.iter().copied()),
        };
        config.validate()?;
        Ok(config)
    }
}

fn normalize_url(url: &str) -> String {
    let url = url.trim();
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("redis://{url}")
    }
}

/// Replaces the password of a URL with `***`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_is_a_single_redis_with_password_and_db() {
        let config: RedisConfig = "redis://:secret@127.0.0.1:6380/3".parse().unwrap();
        assert_eq!(
            config.target,
            RedisTarget::Single("redis://:secret@127.0.0.1:6380/3".into())
        );
        assert_eq!(config.key, "socket.io");
        assert_eq!(config.display_target(), "redis://***@127.0.0.1:6380/3");
    }

    #[test]
    fn comma_separated_nodes_are_a_cluster() {
        let config: RedisConfig = "127.0.0.1:7000, redis://127.0.0.1:7001".parse().unwrap();
        assert_eq!(
            config.target,
            RedisTarget::Cluster(vec![
                "redis://127.0.0.1:7000".into(),
                "redis://127.0.0.1:7001".into()
            ])
        );
    }

    #[test]
    fn bad_urls_and_keys_are_rejected_with_the_value() {
        let err = "".parse::<RedisConfig>().unwrap_err();
        assert!(matches!(err, RedisAdapterError::Config { .. }));
        let err = RedisConfig::single("redis://h")
            .key("a#b")
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("a#b"));
        assert!("nope://x".parse::<RedisConfig>().is_err());
    }
}
